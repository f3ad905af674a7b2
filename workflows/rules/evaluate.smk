# Evaluations: per-document result tables (CSV + provenance sidecar) that the figures summarise.
D = config["data"]
PPL = config["ppl"]
SW = config["sweep"]
DYN = config["dynamic"]
PK = config["passkey"]
AB = config["ablation"]
DOCS = f"{R}/data/eval_docs.npz"


rule eval_documents:
    output:
        DOCS,
    log:
        f"{R}/logs/eval_documents.log",
    params:
        src=(
            f"--hf-dataset {D['hf_dataset']} --tokenizer {R}/models/base-seed{SEEDS[0]}"
            if D.get("hf_dataset")
            else f"--corpus {D['corpus']}"
        ),
    input:
        (f"{R}/models/base-seed{SEEDS[0]}/train_summary.json" if D.get("hf_dataset") else []),
    shell:
        "{PY}/eval_docs.py {params.src} --tokens {D[tokens]} --n-docs {D[n_docs]} --out {output} > {log} 2>&1"


def _ppl_common():
    return f"--docs {DOCS} --lengths {csv(PPL['lengths'])} --threads {THREADS}"


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
        model=f"{R}/models/base-seed{{seed}}",
        common=_ppl_common(),
    shell:
        "{PY}/eval_ppl.py --model {params.model} {params.common} --label base-seed{wildcards.seed} "
        "--family none --scale 1 --out {output} > {log} 2>&1"


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
        model=f"{R}/models/{{method}}-s{{scale}}-seed{{seed}}",
        common=_ppl_common(),
    shell:
        "{PY}/eval_ppl.py --model {params.model} {params.common} --label {wildcards.method}-s{wildcards.scale} "
        "--family {wildcards.method} --scale {wildcards.scale} --out {output} > {log} 2>&1"


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
        model=f"{R}/models/base-seed{{seed}}",
        common=_ppl_common(),
    shell:
        "{PY}/eval_ppl.py --model {params.model} {params.common} --method {wildcards.method} "
        "--factor {wildcards.scale} --label {wildcards.method}-s{wildcards.scale}-noft --finetuned 0 "
        "--family {wildcards.method} --scale {wildcards.scale} --out {output} > {log} 2>&1"


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
        model=f"{R}/models/base-seed{{seed}}",
        grid=csv(SW["grid"]),
        rules=csv(SW["rules"]),
    shell:
        "{PY}/sweep.py --model {params.model} --docs {input.docs} --scale {wildcards.scale} "
        "--grid {params.grid} --rules {params.rules} --max-docs {SW[n_docs]} --threads {threads} "
        "--out {output.sweep} --rules-out {output.rules} > {log} 2>&1"


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
        model=f"{R}/models/base-seed{{seed}}",
        methods=csv(DYN["methods"]),
        lengths=csv(DYN["lengths"]),
    shell:
        "{PY}/dynamic.py --model {params.model} --docs {input.docs} --methods {params.methods} "
        "--lengths {params.lengths} --max-docs {DYN[n_docs]} --threads {threads} --out {output} > {log} 2>&1"


rule passkey_table:
    input:
        model=lambda w: f"{model_dir(w.label)}/train_summary.json",
    output:
        f"{R}/eval/passkey/{{label}}.csv",
    log:
        f"{R}/logs/passkey_table/{{label}}.log",
    threads: THREADS
    params:
        model=lambda w: model_dir(w.label),
        lengths=csv(PK["lengths"]),
    shell:
        "{PY}/passkey.py --model {params.model} --label {wildcards.label} --lengths {params.lengths} "
        "--trials {PK[trials]} --candidates {PK[candidates]} --threads {threads} --out {output} > {log} 2>&1"


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
        model=f"{R}/models/base-seed{{seed}}",
        alphas=csv(AB["alphas"]),
        betas=csv(AB["betas"]),
        ramps=csv(AB["ramps"]),
    shell:
        "{PY}/ablation.py --model {params.model} --docs {input.docs} --scale {wildcards.scale} "
        "--alphas {params.alphas} --betas {params.betas} --ramps {params.ramps} --max-docs {AB[n_docs]} "
        "--threads {threads} --out {output} > {log} 2>&1"
