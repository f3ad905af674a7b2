# The paper's claims (paper_figs/CLAIMS.md): the extra models the claims need (bases on other
# corpora, fine-tune variants from config `variants`), their evaluations, and the generator. A rule
# that repeats another's command for another corpus or table is that rule with its paths changed
# (`use rule ... with:`), so the two cannot drift apart.
if BASE["source"] == "pretrain":

    use rule base_model as extra_base_model with:
        output:
            LAYOUT.extra_base_model("{corpus}", "{seed}", SUMMARY),
            LAYOUT.extra_base_model("{corpus}", "{seed}", METRICS),
        log:
            LAYOUT.log("extra_base_model/{corpus}-seed{seed}"),
        wildcard_constraints:
            corpus=_alternation(EXTRA_BASES),
        threads: THREADS
        params:
            args=lambda wildcards: f"--preset {BASE['preset']} --steps {BASE['steps']} --batch-size {BASE['batch_size']} "
            f"--eval-every {BASE['eval_every']} {PRETRAIN_DATA} --corpus {wildcards.corpus}",

    use rule positions_base as positions_extra_base with:
        # An extra base's per-position profile at L on its own corpus' documents: its flat_positions check,
        # one of the premises of the claims about it (Q5; yarnlab.claims.regime.extra_base_regime).
        input:
            model=LAYOUT.extra_base_model("{corpus}", "{seed}", SUMMARY),
            docs=lambda wildcards: docs_for(wildcards.corpus),
        output:
            LAYOUT.positions_table(extra_base_name("{corpus}"), "{seed}"),
        log:
            LAYOUT.log("regime/positions-extra-base-{corpus}-seed{seed}"),
        wildcard_constraints:
            corpus=_alternation(EXTRA_BASES),


rule variant_model:
    input:
        lambda wildcards: LAYOUT.model(VARIANTS[wildcards.variant]["init"], wildcards.seed, SUMMARY),
    output:
        LAYOUT.variant_model("{variant}", "{seed}", SUMMARY),
        LAYOUT.variant_model("{variant}", "{seed}", METRICS),
    log:
        LAYOUT.log("variant_model/{variant}-seed{seed}"),
    wildcard_constraints:
        variant=_alternation(VARIANTS),
    threads: THREADS
    params:
        init=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        args=lambda wildcards: variant_args(wildcards.variant),
    conda:
        CONDA_ENV
    shell:
        "yarnlab train finetune --base {params.init} {params.args} --out {params.out} "
        "--seed {wildcards.seed} --threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"


use rule eval_documents as eval_documents_corpus with:
    input:
        [],
    output:
        LAYOUT.eval_docs("{corpus}"),
    log:
        LAYOUT.log("eval_documents/{corpus}"),
    wildcard_constraints:
        corpus=_alternation([c for c in EXTRA_BASES if c != DATA["corpus"]]),
    params:
        src=lambda wildcards: f"--corpus {wildcards.corpus}",


use rule temperature_sweep as temperature_sweep_corpus with:
    input:
        model=LAYOUT.extra_base_model("{corpus}", "{seed}", SUMMARY),
        docs=LAYOUT.eval_docs("{corpus}"),
    output:
        sweep=LAYOUT.sweep_table("{scale}", "{seed}", "{corpus}"),
        rules=LAYOUT.sweep_rules_table("{scale}", "{seed}", "{corpus}"),
    log:
        LAYOUT.log("temperature_sweep/{corpus}-s{scale}-seed{seed}"),
    wildcard_constraints:
        corpus=_alternation(EXTRA_BASES),


use rule temperature_fit_table as temperature_fit_table_corpus with:
    input:
        sweeps=[LAYOUT.sweep_table(s, FIRST_SEED, "{corpus}") for s in SWEEP["scales"]],
        rules=[LAYOUT.sweep_rules_table(s, FIRST_SEED, "{corpus}") for s in SWEEP["scales"]],
    output:
        fit=LAYOUT.temperature_fit("{corpus}"),
        rules=LAYOUT.temperature_fit_rules("{corpus}"),
    log:
        LAYOUT.log("temperature_fit_table/{corpus}"),
    wildcard_constraints:
        corpus=_alternation(EXTRA_BASES),


use rule temperature_fit_figure as temperature_fit_figure_corpus with:
    input:
        LAYOUT.temperature_fit("{corpus}"),
        LAYOUT.temperature_fit_rules("{corpus}"),
    output:
        LAYOUT.figure("temperature_fit_{corpus}.png"),
        LAYOUT.figure("temperature_fit_{corpus}.pdf"),
    log:
        LAYOUT.log("figures/temperature_fit_{corpus}"),
    wildcard_constraints:
        corpus=_alternation(EXTRA_BASES),


rule ppl_variant:
    """Perplexity of a variant or an extra base on its own corpus' documents, at ppl.lengths."""
    input:
        model=lambda wildcards: LAYOUT.model(wildcards.name, wildcards.seed, SUMMARY),
        docs=lambda wildcards: docs_for(eval_corpus(wildcards.name)),
    output:
        LAYOUT.variant_ppl_table("{name}", "{seed}"),
    log:
        LAYOUT.log("ppl_variant/{name}-seed{seed}"),
    wildcard_constraints:
        name=_alternation(list(VARIANTS) + [extra_base_name(c) for c in EXTRA_BASES]),
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        lengths=csv(PERPLEXITY["lengths"]),
        reading=ppl_reading(PERPLEXITY["lengths"]),
        meta=lambda wildcards: eval_args(wildcards.name),
    conda:
        CONDA_ENV
    shell:
        "yarnlab eval ppl --model {params.model} --docs {input.docs} --lengths {params.lengths}{params.reading} "
        "--threads {threads} --no-progress {params.meta} --out {output} > {log} 2>&1"


use rule ppl_variant as ppl_long with:
    # Extrapolation beyond the trained s: the same documents at long_ppl.lengths (the same targets as
    # ppl.lengths when ppl.same_targets: both end at the piece's end).
    output:
        LAYOUT.long_ppl_table("{name}", "{seed}"),
    log:
        LAYOUT.log("ppl_long/{name}-seed{seed}"),
    wildcard_constraints:
        name=_alternation(LONG_PPL["models"]),
    params:
        lengths=csv(LONG_PPL["lengths"]),
        reading=ppl_reading(LONG_PPL["lengths"]) if LONG_PPL["lengths"] else "",


rule claims_settings_file:
    output:
        LAYOUT.claims_settings_file(),  # in results/: regenerated whenever the config changes,
    log:
        LAYOUT.log("claims_settings"),
    params:
        settings=shlex.quote(json.dumps(CLAIMS_SETTINGS, sort_keys=True)),  # any text, quotes included
    conda:
        CONDA_ENV
    shell:
        "printf '%s\\n' {params.settings} > {output}.tmp && mv {output}.tmp {output} 2> {log}"


rule claims:
    """paper_figs/CLAIMS.md and claims.json: every claim's measurement, uncertainty and verdict."""
    input:
        settings=LAYOUT.claims_settings_file(),
        docs=EVAL_DOCS,  # {results}/data/eval_docs.npz: locates the results directory
        results=claims_inputs(),
        figures=[p for fam in FIGURE_FAMILIES for p in family_targets(fam) if p.endswith(".png")],
    output:
        md=report(LAYOUT.figure("CLAIMS.md"), caption="../report/claims.rst", category="Claims"),
        json=LAYOUT.figure("claims.json"),
        forest=report(LAYOUT.figure("claims_forest.png"), caption="../report/claims.rst", category="Claims"),
        forest_pdf=LAYOUT.figure("claims_forest.pdf"),
        regime=LAYOUT.figure("regime_checks.csv"),
        regime_md=LAYOUT.figure("regime_checks.md"),
    log:
        LAYOUT.log("claims"),
    params:
        results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.docs)),
    conda:
        CONDA_ENV
    shell:
        "yarnlab claims --results {params.results} --settings {input.settings} --out {output.md} "
        "--json {output.json} > {log} 2>&1"


if config.get("sensitivity"):

    rule sensitivity_table:
        """Geometry / seed sensitivity: the whole workflow per toy and seed (nested runs); per toy the verdicts
        pooled over its seeds (hierarchical intervals: seeds, then works) and the per-seed table beside them."""
        output:
            md=LAYOUT.figure("sensitivity/geometry.md"),
            csv=LAYOUT.figure("sensitivity/geometry.csv"),
            pooled_csv=LAYOUT.figure("sensitivity/geometry_pooled.csv"),
            pooled_json=LAYOUT.figure("sensitivity/geometry_pooled.json"),
        log:
            LAYOUT.log("sensitivity"),
        threads: workflow.cores
        params:
            config=shlex.quote(json.dumps(config, sort_keys=True)),
            prefix=lambda wildcards, output: os.path.splitext(output.md)[0],
        conda:
            CONDA_ENV
        shell:
            "printf '%s\\n' {params.config} > {log}.config.json && "
            "python workflows/scripts/sensitivity.py --config {log}.config.json --cores {threads} "
            "--out {params.prefix} > {log} 2>&1"
