# Models: the base model (tiny: pretrained here; hf: a downloaded checkpoint) and the fine-tuned
# extensions over method x scale x seed. Every training job resumes from its newest checkpoint, so
# `snakemake --rerun-incomplete` continues an interrupted run. A checkpoint written under other
# settings is moved aside, never deleted: the loop signals it (exit code 3 without the flag) and
# --set-aside-stale moves it to <out>/checkpoints.stale-<UTC time> (logged); any other error fails
# the job and leaves everything in place. The base model runs alone on the critical path, so it
# uses every core (threads: workflow.cores); the other jobs keep `threads` so the DAG fills the cores.
B = config["base"]

if B["source"] == "pretrain":

    rule base_model:
        output:
            f"{R}/models/base-seed{{seed}}/train_summary.json",
            f"{R}/models/base-seed{{seed}}/metrics.jsonl",
        log:
            f"{R}/logs/base_model/seed{{seed}}.log",
        threads: max(THREADS, workflow.cores)
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            args=f"--preset {B['preset']} --corpus {B['corpus']} --steps {B['steps']} "
            f"--batch-size {B['batch_size']} --eval-every {B['eval_every']} {BASE_DATA}",
        conda:
            ENV
        shell:
            "yarnlab train pretrain {params.args} --out {params.out} --seed {wildcards.seed} "
            "--threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"

elif B["source"] == "gguf":

    rule base_model:
        """A real pretrained model from a GGUF file (base.gguf: a path, pkg:<package> or smollm2-135m),
        de-quantized into a float32 Hugging Face folder with its tokenizer (the [real] extra)."""
        output:
            f"{R}/models/base-seed{{seed}}/train_summary.json",
            f"{R}/models/base-seed{{seed}}/metrics.jsonl",
        log:
            f"{R}/logs/base_model/seed{{seed}}.log",
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            source=B.get("gguf"),
        conda:
            ENV
        shell:
            "yarnlab model from-gguf --source {params.source} --out {params.out} > {log} 2>&1"

else:

    rule base_model:
        output:
            f"{R}/models/base-seed{{seed}}/train_summary.json",
            f"{R}/models/base-seed{{seed}}/metrics.jsonl",
        log:
            f"{R}/logs/base_model/seed{{seed}}.log",
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            repo=B["hf_model"],
        conda:
            ENV
        shell:
            "yarnlab model fetch --repo {params.repo} --out {params.out} > {log} 2>&1"


rule finetuned_model:
    input:
        f"{R}/models/base-seed{{seed}}/train_summary.json",
    output:
        f"{R}/models/{{method}}-s{{scale}}-seed{{seed}}/train_summary.json",
        f"{R}/models/{{method}}-s{{scale}}-seed{{seed}}/metrics.jsonl",
    log:
        f"{R}/logs/finetuned_model/{{method}}-s{{scale}}-seed{{seed}}.log",
    threads: THREADS
    params:
        base=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        seq_len=lambda w: int(round(float(w.scale) * L)),
        args=f"--corpus {FT['corpus']} --steps {FT['steps']} --batch-size {FT['batch_size']} "
        f"--eval-every {FT['eval_every']} --eval-batches {FT['eval_batches']} "
        f"--final-eval-chunks {FT['final_eval_chunks']} {FT_DATA}{FT_EVAL}",
    conda:
        ENV
    shell:
        "yarnlab train finetune --base {params.base} --method {wildcards.method} "
        "--factor {wildcards.scale} --seq-len {params.seq_len} {params.args} --out {params.out} "
        "--seed {wildcards.seed} --threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"
