# The paper's claims (paper_figs/CLAIMS.md): the extra models the claims need (bases on other
# corpora, fine-tune variants from config `variants`), their evaluations, and the generator.
if B["source"] == "pretrain":

    rule extra_base_model:
        output:
            f"{R}/models/bases/base-{{corpus}}-seed{{seed}}/train_summary.json",
            f"{R}/models/bases/base-{{corpus}}-seed{{seed}}/metrics.jsonl",
        log:
            f"{R}/logs/extra_base_model/{{corpus}}-seed{{seed}}.log",
        wildcard_constraints:
            corpus=_alternation(XB),
        threads: THREADS
        params:
            out=lambda wildcards, output: os.path.dirname(output[0]),
            args=f"--preset {B['preset']} --steps {B['steps']} --batch-size {B['batch_size']} "
            f"--eval-every {B['eval_every']} {BASE_DATA}",
        conda:
            ENV
        shell:
            "yarnlab train pretrain {params.args} --corpus {wildcards.corpus} --out {params.out} "
            "--seed {wildcards.seed} --threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"


rule variant_model:
    input:
        lambda wildcards: f"{model_path(VAR[wildcards.variant]['init'], wildcards.seed)}/train_summary.json",
    output:
        f"{R}/models/variants/{{variant}}-seed{{seed}}/train_summary.json",
        f"{R}/models/variants/{{variant}}-seed{{seed}}/metrics.jsonl",
    log:
        f"{R}/logs/variant_model/{{variant}}-seed{{seed}}.log",
    wildcard_constraints:
        variant=_alternation(VAR),
    threads: THREADS
    params:
        init=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        args=lambda wildcards: variant_args(wildcards.variant),
    conda:
        ENV
    shell:
        "yarnlab train finetune --base {params.init} {params.args} --out {params.out} "
        "--seed {wildcards.seed} --threads {threads} --no-progress --resume --set-aside-stale > {log} 2>&1"


rule eval_documents_corpus:
    output:
        f"{R}/data/eval_docs-{{corpus}}.npz",
    log:
        f"{R}/logs/eval_documents/{{corpus}}.log",
    wildcard_constraints:
        corpus=_alternation([c for c in XB if c != DATA["corpus"]]),
    params:
        n_docs=DATA["n_docs"],
        tokens=DATA["tokens"],
        held=HELD,
        pieces=PIECES,
    conda:
        ENV
    shell:
        "yarnlab eval docs --corpus {wildcards.corpus} --heldout-fraction {params.held} --tokens {params.tokens} "
        "--n-docs {params.n_docs} {params.pieces} --out {output} > {log} 2>&1"


rule temperature_sweep_corpus:
    """The temperature sweep of an extra base (base-<corpus>, without fine-tuning) on its own corpus."""
    input:
        model=f"{R}/models/bases/base-{{corpus}}-seed{{seed}}/train_summary.json",
        docs=f"{R}/data/eval_docs-{{corpus}}.npz",
    output:
        sweep=f"{R}/eval/sweep-{{corpus}}/s{{scale}}-seed{{seed}}.csv",
        rules=f"{R}/eval/sweep-{{corpus}}/rules-s{{scale}}-seed{{seed}}.csv",
    log:
        f"{R}/logs/temperature_sweep/{{corpus}}-s{{scale}}-seed{{seed}}.log",
    wildcard_constraints:
        corpus=_alternation(XB),
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


rule temperature_fit_table_corpus:
    """m*(s) of an extra corpus's base, the same joint bootstrap as temperature_fit_table."""
    input:
        sweeps=[f"{R}/eval/sweep-{{corpus}}/s{fmt(s)}-seed{S0}.csv" for s in SW["scales"]],
        rules=[f"{R}/eval/sweep-{{corpus}}/rules-s{fmt(s)}-seed{S0}.csv" for s in SW["scales"]],
    output:
        fit=f"{R}/analysis/temperature_fit-{{corpus}}.csv",
        rules=f"{R}/analysis/temperature_fit_rules-{{corpus}}.csv",
    log:
        f"{R}/logs/temperature_fit_table/{{corpus}}.log",
    wildcard_constraints:
        corpus=_alternation(XB),
    params:
        n_boot=SW["n_boot"],
    conda:
        ENV
    shell:
        "yarnlab claims temperature-fit --sweeps {input.sweeps} --rules {input.rules} --out {output.fit} "
        "--rules-out {output.rules} --n-boot {params.n_boot} > {log} 2>&1"


rule temperature_fit_figure_corpus:
    input:
        f"{R}/analysis/temperature_fit-{{corpus}}.csv",
        f"{R}/analysis/temperature_fit_rules-{{corpus}}.csv",
    output:
        f"{P}/temperature_fit_{{corpus}}.png",
        f"{P}/temperature_fit_{{corpus}}.pdf",
    log:
        f"{R}/logs/figures/temperature_fit_{{corpus}}.log",
    wildcard_constraints:
        corpus=_alternation(XB),
    params:
        prefix=lambda wildcards, output: os.path.splitext(output[0])[0],
    conda:
        ENV
    shell:
        "python -m yarnlab.figures temperature_fit --inputs {input} --out {params.prefix} > {log} 2>&1"


rule ppl_variant:
    """Perplexity of a variant or an extra base on its own corpus' documents, at ppl.lengths."""
    input:
        model=lambda wildcards: f"{model_path(wildcards.name, wildcards.seed)}/train_summary.json",
        docs=lambda wildcards: docs_for(model_meta(wildcards.name)[2]),
    output:
        f"{R}/eval/variants/{{name}}-seed{{seed}}.csv",
    log:
        f"{R}/logs/ppl_variant/{{name}}-seed{{seed}}.log",
    wildcard_constraints:
        name=_alternation(list(VAR) + [f"base-{c}" for c in XB]),
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        lengths=csv(PPL["lengths"]),
        reading=ppl_reading(PPL["lengths"]),
        meta=lambda wildcards: eval_args(wildcards.name),
    conda:
        ENV
    shell:
        "yarnlab eval ppl --model {params.model} --docs {input.docs} --lengths {params.lengths}{params.reading} "
        "--threads {threads} --no-progress {params.meta} --out {output} > {log} 2>&1"


rule ppl_long:
    """Extrapolation beyond the trained s: the same documents at long_ppl.lengths (the same targets as
    ppl.lengths when ppl.same_targets: both end at the piece's end)."""
    input:
        model=lambda wildcards: f"{model_path(wildcards.name, wildcards.seed)}/train_summary.json",
        docs=lambda wildcards: docs_for(model_meta(wildcards.name)[2]),
    output:
        f"{R}/eval/ppl_long/{{name}}-seed{{seed}}.csv",
    log:
        f"{R}/logs/ppl_long/{{name}}-seed{{seed}}.log",
    wildcard_constraints:
        name=_alternation(LONG["models"]),
    threads: THREADS
    params:
        model=lambda wildcards, input: os.path.dirname(input.model),
        lengths=csv(LONG["lengths"]),
        reading=ppl_reading(LONG["lengths"]) if LONG["lengths"] else "",
        meta=lambda wildcards: eval_args(wildcards.name),
    conda:
        ENV
    shell:
        "yarnlab eval ppl --model {params.model} --docs {input.docs} --lengths {params.lengths}{params.reading} "
        "--threads {threads} --no-progress {params.meta} --out {output} > {log} 2>&1"


rule claims_settings_file:
    output:
        f"{R}/claims_settings.json",  # in results/: regenerated whenever the config changes,
    log:
        f"{R}/logs/claims_settings.log",
    params:
        settings=shlex.quote(json.dumps(claims_settings(), sort_keys=True)),  # any text, quotes included
    conda:
        ENV
    shell:
        "printf '%s\\n' {params.settings} > {output}.tmp && mv {output}.tmp {output} 2> {log}"


rule claims:
    """paper_figs/CLAIMS.md and claims.json: every claim's measurement, uncertainty and verdict."""
    input:
        settings=f"{R}/claims_settings.json",
        docs=DOCS,  # {results}/data/eval_docs.npz: locates the results directory
        results=claims_inputs(),
        figures=[p for fam in FIGS for p in family_targets(fam) if p.endswith(".png")],
    output:
        md=report(f"{P}/CLAIMS.md", caption="../report/claims.rst", category="Claims"),
        json=f"{P}/claims.json",
        forest=report(f"{P}/claims_forest.png", caption="../report/claims.rst", category="Claims"),
        forest_pdf=f"{P}/claims_forest.pdf",
        regime=f"{P}/regime_checks.csv",
        regime_md=f"{P}/regime_checks.md",
    log:
        f"{R}/logs/claims.log",
    params:
        results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.docs)),
        figs=lambda wildcards, output: os.path.dirname(output.md),
    conda:
        ENV
    shell:
        "yarnlab claims --results {params.results} --paper-figs {params.figs} --settings {input.settings} --out {output.md} "
        "--json {output.json} > {log} 2>&1"


if config.get("sensitivity"):

    rule sensitivity_table:
        """Geometry / seed sensitivity: the whole workflow per toy and seed (nested runs); per toy the verdicts
        pooled over its seeds (hierarchical intervals: seeds, then works) and the per-seed table beside them."""
        output:
            md=f"{P}/sensitivity/geometry.md",
            csv=f"{P}/sensitivity/geometry.csv",
            pooled_csv=f"{P}/sensitivity/geometry_pooled.csv",
            pooled_json=f"{P}/sensitivity/geometry_pooled.json",
        log:
            f"{R}/logs/sensitivity.log",
        threads: workflow.cores
        params:
            config=shlex.quote(json.dumps(config, sort_keys=True)),
            prefix=lambda wildcards, output: os.path.splitext(output.md)[0],
        conda:
            ENV
        shell:
            "printf '%s\\n' {params.config} > {log}.config.json && "
            "python workflows/scripts/sensitivity.py --config {log}.config.json --cores {threads} "
            "--out {params.prefix} > {log} 2>&1"
