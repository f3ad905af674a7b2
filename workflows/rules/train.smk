# Models: the base model (tiny: pretrained here; hf: a downloaded checkpoint) and the fine-tuned
# extensions over method x scale x seed. Every training job resumes from its newest checkpoint, so
# `snakemake --rerun-incomplete` continues an interrupted run. A checkpoint written under other
# settings is moved aside, never deleted: the loop signals it (exit code 3 without the flag) and
# --set-aside-stale moves it to <out>/checkpoints.stale-<UTC time> (logged); any other error fails
# the job and leaves everything in place. The base model runs alone on the critical path, so it
# uses every core (threads: workflow.cores); the other jobs keep `threads` so the DAG fills the cores.
if BASE["source"] == "pretrain":

    rule base_model:
        output:
            LAYOUT.base_model("{seed}", SUMMARY),
            LAYOUT.base_model("{seed}", METRICS),
        log:
            LAYOUT.log("base_model/seed{seed}"),
        threads: max(THREADS, workflow.cores)
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            args=f"--preset {BASE['preset']} --corpus {BASE['corpus']} --steps {BASE['steps']} "
            f"--batch-size {BASE['batch_size']} --eval-every {BASE['eval_every']} {PRETRAIN_DATA}",
        conda:
            CONDA_ENV
        shell:
            "yarnlab train pretrain {params.args} --out {params.out} --seed {wildcards.seed} "
            "--threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"

elif BASE["source"] == "gguf":

    rule base_model:
        """A real pretrained model from a GGUF file (base.gguf: a path, pkg:<package> or smollm2-135m),
        de-quantized into a float32 Hugging Face folder with its tokenizer (the [real] extra)."""
        output:
            LAYOUT.base_model("{seed}", SUMMARY),
            LAYOUT.base_model("{seed}", METRICS),
        log:
            LAYOUT.log("base_model/seed{seed}"),
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            source=BASE.get("gguf"),
        conda:
            CONDA_ENV
        shell:
            "yarnlab model from-gguf --source {params.source} --out {params.out} > {log} 2>&1"

else:

    rule base_model:
        output:
            LAYOUT.base_model("{seed}", SUMMARY),
            LAYOUT.base_model("{seed}", METRICS),
        log:
            LAYOUT.log("base_model/seed{seed}"),
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            repo=BASE["hf_model"],
        conda:
            CONDA_ENV
        shell:
            "yarnlab model fetch --repo {params.repo} --out {params.out} > {log} 2>&1"


rule finetuned_model:
    input:
        LAYOUT.base_model("{seed}", SUMMARY),
    output:
        LAYOUT.finetuned_model("{method}-s{scale}", "{seed}", SUMMARY),
        LAYOUT.finetuned_model("{method}-s{scale}", "{seed}", METRICS),
    log:
        LAYOUT.log("finetuned_model/{method}-s{scale}-seed{seed}"),
    threads: THREADS
    params:
        base=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        seq_len=lambda w: int(round(float(w.scale) * ORIGINAL_CTX)),
        args=f"--corpus {FINETUNE['corpus']} --steps {FINETUNE['steps']} --batch-size {FINETUNE['batch_size']} "
        f"--eval-every {FINETUNE['eval_every']} --eval-batches {FINETUNE['eval_batches']} "
        f"--final-eval-chunks {FINETUNE['final_eval_chunks']} {FINETUNE_DATA}{FINETUNE_EARLY_EVAL}",
    conda:
        CONDA_ENV
    shell:
        "yarnlab train finetune --base {params.base} --method {wildcards.method} "
        "--factor {wildcards.scale} --seq-len {params.seq_len} {params.args} --out {params.out} "
        "--seed {wildcards.seed} --threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"
