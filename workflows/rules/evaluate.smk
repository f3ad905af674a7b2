# Evaluations: per-document result tables (CSV + provenance sidecar) that the figures summarise.
rule ppl_and_passkey:
    """The perplexity and passkey tables only (no sweep at sL, no figures, no claims): the target of
    real-smollm2-cpu, whose other evaluations need sL >= 16k-token forwards."""
    input:
        lambda wildcards: ppl_inputs() + [f"{R}/eval/passkey/{m}-seed{S0}.csv" for m in PK["models"]],


rule eval_documents:
    output:
        DOCS,
    log:
        f"{R}/logs/eval_documents.log",
    params:
        n_docs=DATA["n_docs"],
        tokens=DATA["tokens"],
        held=HELD,
        pieces=PIECES,
        src=(
            f"--hf-dataset {DATA['hf_dataset']} --tokenizer {R}/models/base-seed{SEEDS[0]}"
            if DATA.get("hf_dataset")
            else f"--corpus {DATA['corpus']}"
            + (f" --tokenizer {R}/models/base-seed{SEEDS[0]}" if B["source"] != "pretrain" else "")
        ),
    input:
        (
            f"{R}/models/base-seed{SEEDS[0]}/train_summary.json"
            if DATA.get("hf_dataset") or B["source"] != "pretrain"
            else []
        ),
    conda:
        ENV
    shell:
        "yarnlab eval docs {params.src} --heldout-fraction {params.held} --tokens {params.tokens} "
        "--n-docs {params.n_docs} {params.pieces} --out {output} > {log} 2>&1"


rule ppl_base:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/ppl/base-seed{{seed}}.csv",
    log:
        f"{R}/logs/ppl/base-seed{{seed}}.log",
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        common=_ppl_common(),
    conda:
        ENV
    shell:
        "yarnlab eval ppl --model {params.model} {params.common} --tag label=base-seed{wildcards.seed} "
        "--tag method=none --tag scale=1 --tag finetuned=1 --out {output} > {log} 2>&1"


rule ppl_finetuned:
    input:
        model=f"{R}/models/{{method}}-s{{scale}}-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/ppl/{{method}}-s{{scale}}-seed{{seed}}.csv",
    log:
        f"{R}/logs/ppl/{{method}}-s{{scale}}-seed{{seed}}.log",
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        common=_ppl_common(),
    conda:
        ENV
    shell:
        "yarnlab eval ppl --model {params.model} {params.common} --tag label={wildcards.method}-s{wildcards.scale} "
        "--tag method={wildcards.method} --tag scale={wildcards.scale} --tag finetuned=1 --out {output} > {log} 2>&1"


rule ppl_without_finetuning:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/ppl/{{method}}-s{{scale}}-noft-seed{{seed}}.csv",
    log:
        f"{R}/logs/ppl/{{method}}-s{{scale}}-noft-seed{{seed}}.log",
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        common=_ppl_common(),
    conda:
        ENV
    shell:
        "yarnlab eval ppl --model {params.model} {params.common} --method {wildcards.method} "
        "--factor {wildcards.scale} --tag label={wildcards.method}-s{wildcards.scale}-noft --tag method={wildcards.method} "
        "--tag scale={wildcards.scale} --tag finetuned=0 --out {output} > {log} 2>&1"


rule temperature_sweep:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        sweep=f"{R}/eval/sweep/s{{scale}}-seed{{seed}}.csv",
        rules=f"{R}/eval/sweep/rules-s{{scale}}-seed{{seed}}.csv",
    log:
        f"{R}/logs/temperature_sweep/s{{scale}}-seed{{seed}}.log",
    threads: THREADS
    params:
        n_docs=SW["n_docs"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        grid=":".join(str(x) for x in SW["grid"]),
        rules=csv(SW["rules"]),
    conda:
        ENV
    shell:
        "yarnlab eval sweep --model {params.model} --docs {input.docs} --method ntk-by-parts --factor {wildcards.scale} "
        "--tag s={wildcards.scale} --ms {params.grid} --rules {params.rules} --max-docs {params.n_docs} "
        "--threads {threads} --no-progress --out {output.sweep} --rules-out {output.rules} > {log} 2>&1"


rule dynamic_table:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/dynamic/seed{{seed}}.csv",
    log:
        f"{R}/logs/dynamic_table/seed{{seed}}.log",
    threads: THREADS
    params:
        n_docs=DYN["n_docs"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        methods=csv(DYN["methods"]),
        lengths=csv(DYN["lengths"]),
    conda:
        ENV
    shell:
        "yarnlab eval dynamic --model {params.model} --docs {input.docs} --methods {params.methods} "
        "--lengths {params.lengths} --max-docs {params.n_docs} --threads {threads} --no-progress --out {output} > {log} 2>&1"


rule passkey_table:
    input:
        model=lambda wildcards: f"{model_dir(wildcards.label)}/train_summary.json",
    output:
        f"{R}/eval/passkey/{{label}}.csv",
    log:
        f"{R}/logs/passkey_table/{{label}}.log",
    threads: THREADS
    params:
        candidates=PK["candidates"],
        trials=PK["trials"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        lengths=csv(PK["lengths"]),
    conda:
        ENV
    shell:
        "yarnlab eval passkey --model {params.model} --tag label={wildcards.label} --lengths {params.lengths} "
        "--trials {params.trials} --candidates {params.candidates} --threads {threads} --no-progress --out {output} > {log} 2>&1"


rule ablation_table:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/ablation/s{{scale}}-seed{{seed}}.csv",
    log:
        f"{R}/logs/ablation_table/s{{scale}}-seed{{seed}}.log",
    threads: THREADS
    params:
        n_docs=AB["n_docs"],
        model=lambda wildcards, input: os.path.dirname(input.model),
        alphas=csv(AB["alphas"]),
        betas=csv(AB["betas"]),
        ramps=csv(AB["ramps"]),
    conda:
        ENV
    shell:
        "yarnlab eval ablation --model {params.model} --docs {input.docs} --factor {wildcards.scale} "
        "--alphas {params.alphas} --betas {params.betas} --ramps {params.ramps} --max-docs {params.n_docs} "
        "--threads {threads} --no-progress --out {output} > {log} 2>&1"
