# Theory figures: numeric and symbolic analyses only (yarnlab theory), seconds.


rule theory_tables:
    output:
        summary=f"{R}/theory/summary.json",
        entropy=f"{R}/theory/entropy_invariant.csv",
        figs=expand(f"{R}/theory/figures/{{name}}.{{ext}}", name=THEORY_FIGS, ext=["png", "pdf"]),
    log:
        f"{R}/logs/theory_tables.log",
    params:
        out=lambda wildcards, output: os.path.dirname(output.summary),
        geoms=csv(TH["geometries"]),
        scales=csv(TH["scales"]),
        egeom=TH["geometries"][0],
        n_boot=TH["n_boot"],
    conda:
        ENV
    shell:
        "yarnlab theory --out {params.out} --geometries {params.geoms} --entropy-geometry "
        "{params.egeom} --scales {params.scales} --tiny-dim 32 --tiny-base 300 --tiny-ctx 256 "
        "--n-boot {params.n_boot} > {log} 2>&1"


rule theory_figure:
    input:
        f"{R}/theory/figures/{{name}}.{{ext}}",
    output:
        report(f"{P}/theory/{{name}}.{{ext}}", caption="../report/theory.rst", category="Theory"),
    log:
        f"{R}/logs/theory_figure/{{name}}.{{ext}}.log",
    wildcard_constraints:
        ext="png|pdf",
    conda:
        ENV
    shell:
        "cp {input} {output}.tmp && mv {output}.tmp {output} 2> {log}"


rule theory_figs:
    input:
        theory_targets(),
