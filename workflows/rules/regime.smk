# Regime checks (yarnlab/claims/regime.py): evaluations of the base model that decide whether this
# toy can test the paper's claims at all (per-position profile at L, context use, attention-logit
# spread), the per-position profile of each method at sL without fine-tuning, and the sliding-window
# baseline (plain RoPE, at most L tokens of context per token). Every rule calls `yarnlab eval`.



rule positions_base:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/regime/positions-base-seed{{seed}}.csv",
    log:
        f"{R}/logs/regime/positions-base-seed{{seed}}.log",
    threads: THREADS
    params:
        common=_eval_common,
        bins=POS["bins"],
        length=L,
    conda:
        ENV
    shell:
        "yarnlab eval positions {params.common} --all-windows --length {params.length} --bins {params.bins} "
        "--out {output} > {log} 2>&1"


rule positions_without_finetuning:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/regime/positions-{{method}}-s{{scale}}-noft-seed{{seed}}.csv",
    log:
        f"{R}/logs/regime/positions-{{method}}-s{{scale}}-noft-seed{{seed}}.log",
    threads: THREADS
    params:
        common=_eval_common,
        bins=POS["bins"],
        length=lambda w: int(round(float(w.scale) * L)),
    conda:
        ENV
    shell:
        "yarnlab eval positions {params.common} --all-windows --method {wildcards.method} --factor {wildcards.scale} "
        "--length {params.length} --bins {params.bins} --out {output} > {log} 2>&1"


rule positions_finetuned:
    """A fine-tuned model at its sL: what fine-tuning on sL windows does to the per-position profile."""
    input:
        model=f"{R}/models/{{method}}-s{{scale}}-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/regime/positions-{{method}}-s{{scale}}-ft-seed{{seed}}.csv",
    log:
        f"{R}/logs/regime/positions-{{method}}-s{{scale}}-ft-seed{{seed}}.log",
    threads: THREADS
    params:
        common=_eval_common,
        bins=POS["bins"],
        length=lambda w: int(round(float(w.scale) * L)),
    conda:
        ENV
    shell:
        "yarnlab eval positions {params.common} --all-windows --length {params.length} --bins {params.bins} "
        "--out {output} > {log} 2>&1"


rule context_use:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/regime/context_use-seed{{seed}}.csv",
    log:
        f"{R}/logs/regime/context_use-seed{{seed}}.log",
    threads: THREADS
    params:
        common=_eval_common,
        visible=max(1, int(round(REGIME["context_visible_frac"] * L))),
        length=L,
        targets="" if REGIME["context_targets"] is None else f"--targets {REGIME['context_targets']}",
    conda:
        ENV
    shell:
        "yarnlab eval context-use {params.common} --length {params.length} --visible {params.visible} "
        "{params.targets} --out {output} > {log} 2>&1"


rule induction_base:
    """Induction gain on repeated random-letter spans at distances up to L - span, and the
    in-context-learning score of the evaluation documents' L-windows (the `induction` check)."""
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        rows=f"{R}/eval/regime/induction-seed{{seed}}.csv",
        summary=f"{R}/eval/regime/induction_summary-seed{{seed}}.csv",
    log:
        f"{R}/logs/regime/induction-seed{{seed}}.log",
    threads: THREADS
    params:
        common=_eval_common,
        span=REGIME["induction_span"],
        n_seqs=REGIME["induction_seqs"],
        length=L,
    conda:
        ENV
    shell:
        "yarnlab eval induction {params.common} --length {params.length} --span {params.span} --n-seqs {params.n_seqs} "
        "--out {output.rows} --summary-out {output.summary} > {log} 2>&1"


rule regime_checks:
    """The regime table of the base model alone (no fine-tune): the target that screens a pretraining
    recipe (workflows/scripts/candidates.py runs it per pre-registered candidate)."""
    input:
        settings=f"{R}/claims_settings.json",
        results=regime_inputs(),
    output:
        csv=f"{R}/regime/regime_checks.csv",
        md=f"{R}/regime/regime_checks.md",
    log:
        f"{R}/logs/regime_checks.log",
    params:
        results=lambda wildcards, output: os.path.dirname(os.path.dirname(output.csv)),
    conda:
        ENV
    shell:
        "yarnlab claims regime --results {params.results} --settings {input.settings} --out {output.csv} > {log} 2>&1"


rule logit_spread:
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        spread=f"{R}/eval/regime/logit_spread-seed{{seed}}.csv",
        prediction=f"{R}/eval/regime/temperature_prediction-seed{{seed}}.csv",
    log:
        f"{R}/logs/regime/logit_spread-seed{{seed}}.log",
    threads: THREADS
    params:
        common=_eval_common,
        scales=csv(SW["scales"]),
        n_docs=REGIME["spread_docs"],
        length=L,
    conda:
        ENV
    shell:
        "yarnlab eval logit-spread {params.common} --length {params.length} --max-docs {params.n_docs} --scales {params.scales} "
        "--out {output.spread} --prediction-out {output.prediction} > {log} 2>&1"


rule ppl_sliding_baseline:
    """Plain RoPE with windows of L and stride L/2 at every evaluated length (the paper's Fig. 1 reading),
    on the same target tokens as the other perplexity rules when ppl.sliding_same_targets."""
    input:
        model=f"{R}/models/base-seed{{seed}}/train_summary.json",
        docs=DOCS,
    output:
        f"{R}/eval/ppl/base-sliding-seed{{seed}}.csv",
    log:
        f"{R}/logs/ppl/base-sliding-seed{{seed}}.log",
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        common=_ppl_common(sliding=True),
        stride=max(1, L // 2),
        window=L,
    conda:
        ENV
    shell:
        "yarnlab eval ppl --model {params.model} {params.common} --window {params.window} --stride {params.stride} "
        "--tag label=base-sliding --tag method=sliding --tag scale=1 --tag finetuned=0 --out {output} > {log} 2>&1"


rule positions_figure:
    input:
        [f"{R}/eval/regime/positions-base-seed{S0}.csv"]
        + [f"{R}/eval/regime/positions-{m}-s{fmt(s)}-noft-seed{S0}.csv" for m in POS["methods"] for s in POS["scales"]]
        + [f"{R}/eval/regime/positions-yarn-s{fmt(s)}-ft-seed{S0}.csv" for s in POS["scales"] if "yarn" in FT["methods"]
           and s in FT["scales"]],
    output:
        fig_outputs(f"{P}/positions", "positions", "Regime"),
    log:
        f"{R}/logs/figures/positions.log",
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
        L=L,
    conda:
        ENV
    shell:
        "python -m yarnlab.figures positions --inputs {input} --out {params.prefix} --set original_ctx={params.L} > {log} 2>&1"
