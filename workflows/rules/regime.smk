# Regime checks (yarnlab/claims/regime.py): evaluations of the base model that decide whether this
# toy can test the paper's claims at all (per-position profile at L, context use, attention-logit
# spread), the per-position profile of each method at sL without fine-tuning, and the sliding-window
# baseline (plain RoPE, at most L tokens of context per token). Every rule calls `yarnlab eval`.

from yarnlab.claims.regime import context_visible


rule positions_base:
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.positions_table("base", "{seed}"),
    log:
        LAYOUT.log("regime/positions-base-seed{seed}"),
    threads: THREADS
    params:
        common=_eval_common,
        scaling="",  # positions_without_finetuning: the method applied to the base (` --method M --factor S`)
        bins=POSITIONS["bins"],
        length=ORIGINAL_CTX,
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval positions {params.common} --all-windows{params.scaling} --length {params.length} "
        "--bins {params.bins} --out {output} > {log} 2>&1"


use rule positions_base as positions_without_finetuning with:
    output:
        LAYOUT.positions_table("{method}-s{scale}-noft", "{seed}"),
    log:
        LAYOUT.log("regime/positions-{method}-s{scale}-noft-seed{seed}"),
    params:
        scaling=lambda w: f" --method {w.method} --factor {w.scale}",
        length=lambda w: int(round(float(w.scale) * ORIGINAL_CTX)),


use rule positions_base as positions_finetuned with:
    # A fine-tuned model at its sL: what fine-tuning on sL windows does to the per-position profile.
    input:
        model=LAYOUT.finetuned_model("{method}-s{scale}", "{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.positions_table("{method}-s{scale}-ft", "{seed}"),
    log:
        LAYOUT.log("regime/positions-{method}-s{scale}-ft-seed{seed}"),
    params:
        length=lambda w: int(round(float(w.scale) * ORIGINAL_CTX)),


rule context_use:
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        LAYOUT.context_use_table("{seed}"),
    log:
        LAYOUT.log("regime/context_use-seed{seed}"),
    threads: THREADS
    params:
        common=_eval_common,
        visible=context_visible(REGIME["context_visible_frac"], ORIGINAL_CTX),
        length=ORIGINAL_CTX,
        targets="" if REGIME["context_targets"] is None else f"--targets {REGIME['context_targets']}",
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval context-use {params.common} --length {params.length} --visible {params.visible} "
        "{params.targets} --out {output} > {log} 2>&1"


rule induction_base:
    """Induction gain on repeated random-letter spans at distances up to L - span, and the
    in-context-learning score of the evaluation documents' L-windows (the `induction` check)."""
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        rows=LAYOUT.induction_table("{seed}"),
        summary=LAYOUT.induction_summary("{seed}"),
    log:
        LAYOUT.log("regime/induction-seed{seed}"),
    threads: THREADS
    params:
        common=_eval_common,
        span=REGIME["induction_span"],
        n_seqs=REGIME["induction_seqs"],
        length=ORIGINAL_CTX,
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval induction {params.common} --length {params.length} --span {params.span} --n-seqs {params.n_seqs} "
        "--out {output.rows} --summary-out {output.summary} > {log} 2>&1"


rule regime_checks:
    """The regime table of the base model alone (no fine-tune): the target that screens a pretraining
    recipe (workflows/scripts/candidates.py runs it per pre-registered candidate)."""
    input:
        settings=LAYOUT.claims_settings_file(),
        results=regime_inputs(),
    output:
        csv=LAYOUT.regime_checks("csv"),
        md=LAYOUT.regime_checks("md"),
    log:
        LAYOUT.log("regime_checks"),
    params:
        results=lambda wildcards, output: os.path.dirname(os.path.dirname(output.csv)),
    conda:
        CONDA_ENV
    shell:
        "yarnlab claims regime --results {params.results} --settings {input.settings} --out {output.csv} > {log} 2>&1"


rule logit_spread:
    input:
        model=LAYOUT.base_model("{seed}", SUMMARY),
        docs=EVAL_DOCS,
    output:
        spread=LAYOUT.logit_spread_table("{seed}"),
        prediction=LAYOUT.temperature_prediction_table("{seed}"),
    log:
        LAYOUT.log("regime/logit_spread-seed{seed}"),
    threads: THREADS
    params:
        common=_eval_common,
        scales=csv(SWEEP["scales"]),
        n_docs=REGIME["spread_docs"],
        length=ORIGINAL_CTX,
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval logit-spread {params.common} --length {params.length} --max-docs {params.n_docs} --scales {params.scales} "
        "--out {output.spread} --prediction-out {output.prediction} > {log} 2>&1"


use rule ppl_base as ppl_sliding_baseline with:
    # Plain RoPE with windows of L and stride L/2 at every evaluated length (the paper's Fig. 1 reading),
    # on the same target tokens as the other perplexity rules when ppl.sliding_same_targets.
    output:
        LAYOUT.ppl_table("base-sliding", "{seed}"),
    log:
        LAYOUT.log("ppl/base-sliding-seed{seed}"),
    params:
        common=_ppl_common(sliding=True),
        model_options=f"--window {ORIGINAL_CTX} --stride {max(1, ORIGINAL_CTX // 2)} "
        + tags("base-sliding", "sliding", 1, 0),


rule positions_figure:
    input:
        [LAYOUT.positions_table("base", FIRST_SEED)]
        + [LAYOUT.positions_table(name, FIRST_SEED) for name in position_names(POSITIONS)]
        + [LAYOUT.positions_table(f"{finetune_name('yarn', s)}-ft", FIRST_SEED) for s in POSITIONS["scales"]
           if "yarn" in FINETUNE["methods"] and s in FINETUNE["scales"]],
    output:
        fig_outputs(LAYOUT.figure("positions"), "positions", "Regime"),
    log:
        LAYOUT.log("figures/positions"),
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
        L=ORIGINAL_CTX,
    conda:
        CONDA_ENV
    shell:
        "python -m yarnlab.figures positions --inputs {input} --out {params.prefix} --set original_ctx={params.L} > {log} 2>&1"
