# Figures and tables: `yarnlab claims summarize KIND` writes each summary table (statistics computed
# once, in yarnlab.claims.summaries); `python -m yarnlab.figures NAME` reads it and only draws.
# Labels: L and the loss unit (per byte for the byte-level base the workflow pretrains on a corpus,
# per token for a BPE model).
UNIT = "per byte" if config["base"].get("source", "pretrain") == "pretrain" and not DATA.get("hf_dataset") else "per token"
LABELS = f"original_ctx={L} 'unit={UNIT}'"


rule ppl_vs_context_figure:
    input:
        ppl_inputs(),
    output:
        fig_outputs(f"{P}/ppl_vs_context", "ppl_vs_context", "Perplexity vs context"),
    log:
        f"{R}/logs/figures/ppl_vs_context.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
        reading=PPL_READING,
    conda:
        ENV
    shell:
        "(yarnlab claims summarize ppl --inputs {input} --out {params.prefix}.csv --set reading={params.reading} && "
        "python -m yarnlab.figures ppl_vs_context --inputs {params.prefix}.csv --out {params.prefix} "
        "--set {params.labels}) > {log} 2>&1"


rule short_context_table:
    input:
        ppl_inputs(),
    output:
        fig_outputs(f"{P}/short_context", "short_context", "Short context"),
    log:
        f"{R}/logs/figures/short_context.log",
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
        length=L,
        reading=PPL_READING,
    conda:
        ENV
    shell:
        "yarnlab claims summarize short_context --inputs {input} --out {params.prefix}.csv "
        "--set length={params.length} reading={params.reading} > {log} 2>&1"


rule pretrain_curve_figure:
    input:
        expand(f"{R}/models/base-seed{{seed}}/metrics.jsonl", seed=SEEDS),
    output:
        fig_outputs(f"{P}/pretrain_curve", "pretrain_curve", "Training"),
    log:
        f"{R}/logs/figures/pretrain_curve.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "python -m yarnlab.figures pretrain_curve --inputs {input} --out {params.prefix} --set {params.labels} > {log} 2>&1"


rule induction_curve_figure:
    """Induction gain, in-context-learning score and held-out loss vs training tokens (the phase change)."""
    input:
        expand(f"{R}/models/base-seed{{seed}}/metrics.jsonl", seed=SEEDS),
    output:
        fig_outputs(f"{P}/induction_curve", "induction_curve", "Training"),
    log:
        f"{R}/logs/figures/induction_curve.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "python -m yarnlab.figures induction_curve --inputs {input} --out {params.prefix} --set {params.labels} > {log} 2>&1"


rule temperature_study_figure:
    input:
        f"{R}/eval/sweep/s{{scale}}-seed{S0}.csv",
    output:
        fig_outputs(f"{P}/temperature_study_s{{scale}}", "temperature_study", "Temperature"),
    log:
        f"{R}/logs/figures/temperature_study_s{{scale}}.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "(yarnlab claims summarize temperature_study --inputs {input} --out {params.prefix}.csv && "
        "python -m yarnlab.figures temperature_study --inputs {params.prefix}.csv --out {params.prefix} "
        "--set {params.labels}) > {log} 2>&1"


rule temperature_fit_table:
    """m*(s) from the sweeps with a joint bootstrap over works: the table the figure and CLAIMS.md read."""
    input:
        sweeps=[f"{R}/eval/sweep/s{fmt(s)}-seed{S0}.csv" for s in SW["scales"]],
        rules=[f"{R}/eval/sweep/rules-s{fmt(s)}-seed{S0}.csv" for s in SW["scales"]],
    output:
        fit=f"{R}/analysis/temperature_fit.csv",
        rules=f"{R}/analysis/temperature_fit_rules.csv",
    log:
        f"{R}/logs/temperature_fit_table.log",
    params:
        n_boot=SW["n_boot"],
    conda:
        ENV
    shell:
        "yarnlab claims temperature-fit --sweeps {input.sweeps} --rules {input.rules} --out {output.fit} "
        "--rules-out {output.rules} --n-boot {params.n_boot} > {log} 2>&1"


rule temperature_fit_figure:
    input:
        f"{R}/analysis/temperature_fit.csv",
        f"{R}/analysis/temperature_fit_rules.csv",
        f"{R}/eval/regime/temperature_prediction-seed{S0}.csv",
    output:
        fig_outputs(f"{P}/temperature_fit", "temperature_fit", "Temperature"),
    log:
        f"{R}/logs/figures/temperature_fit.log",
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "python -m yarnlab.figures temperature_fit --inputs {input} --out {params.prefix} > {log} 2>&1"


rule dynamic_scaling_figure:
    input:
        f"{R}/eval/dynamic/seed{S0}.csv",
    output:
        fig_outputs(f"{P}/dynamic_scaling", "dynamic_scaling", "Dynamic scaling"),
    log:
        f"{R}/logs/figures/dynamic_scaling.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "(yarnlab claims summarize dynamic --inputs {input} --out {params.prefix}.csv && "
        "python -m yarnlab.figures dynamic_scaling --inputs {params.prefix}.csv --out {params.prefix} "
        "--set {params.labels}) > {log} 2>&1"


rule passkey_figure:
    input:
        [f"{R}/eval/passkey/{m}-seed{S0}.csv" for m in PK["models"]],
    output:
        fig_outputs(f"{P}/passkey", "passkey", "Passkey"),
        f"{P}/passkey_summary.csv",
        f"{P}/passkey_summary.md",
    log:
        f"{R}/logs/figures/passkey.log",
    params:
        labels=f"original_ctx={L}",
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "(yarnlab claims summarize passkey --inputs {input} --out {params.prefix}.csv && "
        "python -m yarnlab.figures passkey --inputs {params.prefix}.csv --out {params.prefix} "
        "--set {params.labels}) > {log} 2>&1"


rule alpha_beta_ablation_figure:
    input:
        f"{R}/eval/ablation/s{fmt(AB['scale'])}-seed{S0}.csv",
    output:
        fig_outputs(f"{P}/alpha_beta_ablation", "alpha_beta_ablation", "Ablation"),
    log:
        f"{R}/logs/figures/alpha_beta_ablation.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "(yarnlab claims summarize ablation --inputs {input} --out {params.prefix}.csv && "
        "python -m yarnlab.figures alpha_beta_ablation --inputs {params.prefix}.csv --out {params.prefix} "
        "--set {params.labels}) > {log} 2>&1"


rule training_efficiency_figure:
    input:
        [f"{R}/models/{x}/metrics.jsonl" for x in finetuned_labels(S0)],
    output:
        fig_outputs(f"{P}/training_efficiency", "training_efficiency", "Training"),
    log:
        f"{R}/logs/figures/training_efficiency.log",
    params:
        labels=LABELS,
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "python -m yarnlab.figures training_efficiency --inputs {input} --out {params.prefix} --set {params.labels} > {log} 2>&1"


rule paper_llama2_reference_table:
    input:
        "yarnlab/figures/paper_llama2.csv",
    output:
        fig_outputs(f"{P}/paper_llama2_reference", "paper_llama2_reference", "Published numbers"),
    log:
        f"{R}/logs/figures/paper_llama2_reference.log",
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "python -m yarnlab.figures paper_reference --inputs {input} --out {params.prefix} > {log} 2>&1"


# one target per figure family
rule context_figs:
    input:
        family_targets("context"),


rule pretrain_figs:
    input:
        family_targets("pretrain"),


rule temperature_figs:
    input:
        family_targets("temperature"),


rule dynamic_figs:
    input:
        family_targets("dynamic"),


rule passkey_figs:
    input:
        family_targets("passkey"),


rule ablation_figs:
    input:
        family_targets("ablation"),


rule efficiency_figs:
    input:
        family_targets("efficiency"),


rule reference_figs:
    input:
        family_targets("reference"),
