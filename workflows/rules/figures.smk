# Figures and tables: `yarnlab summarize KIND` writes each summary table (statistics computed
# once, in yarnlab.figures.summaries); `python -m yarnlab.figures NAME` reads it and only draws.
# Labels: L and the loss unit (per byte for the byte-level base the workflow pretrains on a corpus,
# per token for a BPE model).
UNIT = "per byte" if BASE.get("source", "pretrain") == "pretrain" and not DATA.get("hf_dataset") else "per token"
LABELS = f"original_ctx={ORIGINAL_CTX} 'unit={UNIT}'"


rule ppl_vs_context_figure:
    """A figure drawn from its summary table: `yarnlab summarize {params.summary}` writes the table,
    `python -m yarnlab.figures {params.figure}` draws it; the other summarised figures are this rule with
    their inputs, names and labels."""
    input:
        ppl_inputs(),
    output:
        fig_outputs(LAYOUT.figure("ppl_vs_context"), "ppl_vs_context", "Perplexity vs context"),
    log:
        LAYOUT.log("figures/ppl_vs_context"),
    params:
        summary="ppl",
        summary_options=f" --set reading={PPL_READING}",
        figure="ppl_vs_context",
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        CONDA_ENV
    shell:
        "(yarnlab summarize {params.summary} --inputs {input} --out {params.prefix}.csv{params.summary_options} "
        "&& python -m yarnlab.figures {params.figure} --inputs {params.prefix}.csv --out {params.prefix} "
        "--set {params.labels}) > {log} 2>&1"


use rule ppl_vs_context_figure as temperature_study_figure with:
    input:
        LAYOUT.sweep_table("{scale}", FIRST_SEED),
    output:
        fig_outputs(LAYOUT.figure("temperature_study_s{scale}"), "temperature_study", "Temperature"),
    log:
        LAYOUT.log("figures/temperature_study_s{scale}"),
    params:
        summary="temperature_study",
        summary_options="",
        figure="temperature_study",


use rule ppl_vs_context_figure as dynamic_scaling_figure with:
    input:
        LAYOUT.dynamic_table(FIRST_SEED),
    output:
        fig_outputs(LAYOUT.figure("dynamic_scaling"), "dynamic_scaling", "Dynamic scaling"),
    log:
        LAYOUT.log("figures/dynamic_scaling"),
    params:
        summary="dynamic",
        summary_options="",
        figure="dynamic_scaling",


use rule ppl_vs_context_figure as passkey_figure with:
    input:
        [LAYOUT.passkey_table(seeded(m, FIRST_SEED)) for m in PASSKEY["models"]],
    output:
        fig_outputs(LAYOUT.figure("passkey"), "passkey", "Passkey"),
        LAYOUT.figure("passkey_summary.csv"),
        LAYOUT.figure("passkey_summary.md"),
    log:
        LAYOUT.log("figures/passkey"),
    params:
        summary="passkey",
        summary_options="",
        figure="passkey",
        labels=f"original_ctx={ORIGINAL_CTX}",


use rule ppl_vs_context_figure as alpha_beta_ablation_figure with:
    input:
        LAYOUT.ablation_table(ABLATION["scale"], FIRST_SEED),
    output:
        fig_outputs(LAYOUT.figure("alpha_beta_ablation"), "alpha_beta_ablation", "Ablation"),
    log:
        LAYOUT.log("figures/alpha_beta_ablation"),
    params:
        summary="ablation",
        summary_options="",
        figure="alpha_beta_ablation",


rule short_context_table:
    input:
        ppl_inputs(),
    output:
        fig_outputs(LAYOUT.figure("short_context"), "short_context", "Short context"),
    log:
        LAYOUT.log("figures/short_context"),
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
        length=ORIGINAL_CTX,
        reading=PPL_READING,
    conda:
        CONDA_ENV
    shell:
        "yarnlab summarize short_context --inputs {input} --out {params.prefix}.csv "
        "--set length={params.length} reading={params.reading} > {log} 2>&1"


rule pretrain_curve_figure:
    """A figure drawn from training metrics; induction_curve_figure and training_efficiency_figure are this
    rule with their inputs and names."""
    input:
        [LAYOUT.base_model(seed, METRICS) for seed in SEEDS],
    output:
        fig_outputs(LAYOUT.figure("pretrain_curve"), "pretrain_curve", "Training"),
    log:
        LAYOUT.log("figures/pretrain_curve"),
    params:
        figure="pretrain_curve",
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        CONDA_ENV
    shell:
        "python -m yarnlab.figures {params.figure} --inputs {input} --out {params.prefix} --set {params.labels} "
        "> {log} 2>&1"


use rule pretrain_curve_figure as induction_curve_figure with:
    # Induction gain, in-context-learning score and held-out loss vs training tokens (the phase change).
    output:
        fig_outputs(LAYOUT.figure("induction_curve"), "induction_curve", "Training"),
    log:
        LAYOUT.log("figures/induction_curve"),
    params:
        figure="induction_curve",


use rule pretrain_curve_figure as training_efficiency_figure with:
    input:
        [LAYOUT.finetuned_model(name, FIRST_SEED, METRICS) for name in main_finetunes(FINETUNE)],
    output:
        fig_outputs(LAYOUT.figure("training_efficiency"), "training_efficiency", "Training"),
    log:
        LAYOUT.log("figures/training_efficiency"),
    params:
        figure="training_efficiency",


rule temperature_fit_table:
    """m*(s) from the sweeps with a joint bootstrap over works: the table the figure and CLAIMS.md read."""
    input:
        sweeps=[LAYOUT.sweep_table(s, FIRST_SEED) for s in SWEEP["scales"]],
        rules=[LAYOUT.sweep_rules_table(s, FIRST_SEED) for s in SWEEP["scales"]],
    output:
        fit=LAYOUT.temperature_fit(),
        rules=LAYOUT.temperature_fit_rules(),
    log:
        LAYOUT.log("temperature_fit_table"),
    params:
        n_boot=SWEEP["n_boot"],
    conda:
        CONDA_ENV
    shell:
        "yarnlab claims temperature-fit --sweeps {input.sweeps} --rules {input.rules} --out {output.fit} "
        "--rules-out {output.rules} --n-boot {params.n_boot} > {log} 2>&1"


rule temperature_fit_figure:
    input:
        LAYOUT.temperature_fit(),
        LAYOUT.temperature_fit_rules(),
        LAYOUT.temperature_prediction_table(FIRST_SEED),
    output:
        fig_outputs(LAYOUT.figure("temperature_fit"), "temperature_fit", "Temperature"),
    log:
        LAYOUT.log("figures/temperature_fit"),
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        CONDA_ENV
    shell:
        "python -m yarnlab.figures temperature_fit --inputs {input} --out {params.prefix} > {log} 2>&1"


rule paper_llama2_reference_table:
    input:
        "yarnlab/figures/paper_llama2.csv",
    output:
        fig_outputs(LAYOUT.figure("paper_llama2_reference"), "paper_llama2_reference", "Published numbers"),
    log:
        LAYOUT.log("figures/paper_llama2_reference"),
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        CONDA_ENV
    shell:
        "python -m yarnlab.figures paper_reference --inputs {input} --out {params.prefix} > {log} 2>&1"


# one target per figure family: context_figs, pretrain_figs, temperature_figs, ...
for _family in FIGURE_FAMILIES:

    rule:
        name:
            f"{_family}_figs"
        input:
            family_targets(_family),
