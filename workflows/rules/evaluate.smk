# Evaluations: per-document result tables (CSV + provenance sidecar) that the figures summarise.
rule ppl_and_passkey:
    """The perplexity and passkey tables only (no sweep at sL, no figures, no claims): the target of
    real-smollm2-cpu, whose other evaluations need sL >= 16k-token forwards."""
    input:
        lambda wildcards: ppl_inputs() + [LAYOUT.passkey_table(seeded(m, FIRST_SEED)) for m in PASSKEY["models"]],


rule eval_documents:
    """The held-out evaluation documents of data.corpus (from a Hugging Face data set with data.hf_dataset;
    with the base model's tokenizer for a base that was not pretrained here)."""
    output:
        EVAL_DOCS,
    log:
        LAYOUT.log("eval_documents"),
    params:
        n_docs=DATA["n_docs"],
        tokens=DATA["tokens"],
        held=HELDOUT_FRACTION,
        pieces=PIECES,
        src=(
            f"--hf-dataset {DATA['hf_dataset']} --tokenizer {LAYOUT.base_model(FIRST_SEED)}"
            if DATA.get("hf_dataset")
            else f"--corpus {DATA['corpus']}"
            + (f" --tokenizer {LAYOUT.base_model(FIRST_SEED)}" if BASE["source"] != "pretrain" else "")
        ),
    input:
        (
            LAYOUT.base_model(FIRST_SEED, SUMMARY)
            if DATA.get("hf_dataset") or BASE["source"] != "pretrain"
            else []
        ),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval docs {params.src} --heldout-fraction {params.held} --tokens {params.tokens} "
        "--n-docs {params.n_docs} {params.pieces} --out {output} > {log} 2>&1"


rule ppl_base:
    """Perplexity of the main documents at ppl.lengths; the other main perplexity tables are this rule with
    another model and its columns (ppl_finetuned, ppl_without_finetuning, ppl_sliding_baseline)."""
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.ppl_table("base", "{seed}"),
    log:
        LAYOUT.log("ppl/base-seed{seed}"),
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        common=_ppl_common(),
        model_options=lambda w: tags(f"base-seed{w.seed}", "none", 1, 1),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval ppl --model {params.model} {params.common} {params.model_options} --out {output} > {log} 2>&1"


use rule ppl_base as ppl_finetuned with:
    input:
        model=LAYOUT.finetuned_model("{method}-s{scale}", "{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.ppl_table("{method}-s{scale}", "{seed}"),
    log:
        LAYOUT.log("ppl/{method}-s{scale}-seed{seed}"),
    params:
        model_options=lambda w: tags(f"{w.method}-s{w.scale}", w.method, w.scale, 1),


use rule ppl_base as ppl_without_finetuning with:
    output:
        LAYOUT.ppl_table("{method}-s{scale}-noft", "{seed}"),
    log:
        LAYOUT.log("ppl/{method}-s{scale}-noft-seed{seed}"),
    params:
        model_options=lambda w: f"--method {w.method} --factor {w.scale} "
        + tags(f"{w.method}-s{w.scale}-noft", w.method, w.scale, 0),


rule temperature_sweep:
    """Perplexity of the base over the grid of m and the named temperature rules at length sL (NTK-by-parts,
    no fine-tuning); temperature_sweep_corpus runs the same for an extra base on its own corpus."""
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        sweep=LAYOUT.sweep_table("{scale}", "{seed}"),
        rules=LAYOUT.sweep_rules_table("{scale}", "{seed}"),
    log:
        LAYOUT.log("temperature_sweep/s{scale}-seed{seed}"),
    threads: THREADS
    params:
        n_docs=SWEEP["n_docs"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        grid=":".join(str(x) for x in SWEEP["grid"]),
        rules=csv(SWEEP["rules"]),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval sweep --model {params.model} --docs {input.docs} --method ntk-by-parts --factor {wildcards.scale} "
        "--tag s={wildcards.scale} --ms {params.grid} --rules {params.rules} --max-docs {params.n_docs} "
        "--threads {threads} --no-progress --out {output.sweep} --rules-out {output.rules} > {log} 2>&1"


rule dynamic_table:
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.dynamic_table("{seed}"),
    log:
        LAYOUT.log("dynamic_table/seed{seed}"),
    threads: THREADS
    params:
        n_docs=DYNAMIC["n_docs"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        methods=csv(DYNAMIC["methods"]),
        lengths=csv(DYNAMIC["lengths"]),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval dynamic --model {params.model} --docs {input.docs} --methods {params.methods} "
        "--lengths {params.lengths} --max-docs {params.n_docs} --threads {threads} --no-progress --out {output} > {log} 2>&1"


rule passkey_table:
    input:
        model=lambda wildcards: model_summary(wildcards.label),
    output:
        LAYOUT.passkey_table("{label}"),
    log:
        LAYOUT.log("passkey_table/{label}"),
    threads: THREADS
    params:
        candidates=PASSKEY["candidates"],
        trials=PASSKEY["trials"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        lengths=csv(PASSKEY["lengths"]),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval passkey --model {params.model} --tag label={wildcards.label} --lengths {params.lengths} "
        "--trials {params.trials} --candidates {params.candidates} --threads {threads} --no-progress --out {output} > {log} 2>&1"


rule ablation_table:
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.ablation_table("{scale}", "{seed}"),
    log:
        LAYOUT.log("ablation_table/s{scale}-seed{seed}"),
    threads: THREADS
    params:
        n_docs=ABLATION["n_docs"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        alphas=csv(ABLATION["alphas"]),
        betas=csv(ABLATION["betas"]),
        ramps=csv(ABLATION["ramps"]),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval ablation --model {params.model} --docs {input.docs} --factor {wildcards.scale} "
        "--alphas {params.alphas} --betas {params.betas} --ramps {params.ramps} --max-docs {params.n_docs} "
        "--threads {threads} --no-progress --out {output} > {log} 2>&1"
