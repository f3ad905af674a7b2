# Theory figures: numeric and symbolic analyses only (yarnlab theory), seconds.


rule theory_tables:
    output:
        summary=LAYOUT.theory("summary.json"),
        entropy=LAYOUT.theory("entropy_invariant.csv"),
        figs=expand(LAYOUT.theory("figures/{name}.{ext}"), name=THEORY_FIGS, ext=["png", "pdf"]),
    log:
        LAYOUT.log("theory_tables"),
    params:
        out=lambda wildcards, output: os.path.dirname(output.summary),
        geoms=csv(THEORY["geometries"]),
        scales=csv(THEORY["scales"]),
        egeom=THEORY["geometries"][0],
        n_boot=THEORY["n_boot"],
    conda:
        CONDA_ENV
    shell:
        "yarnlab theory --out {params.out} --geometries {params.geoms} --entropy-geometry "
        "{params.egeom} --scales {params.scales} --tiny-dim 32 --tiny-base 300 --tiny-ctx 256 "
        "--n-boot {params.n_boot} > {log} 2>&1"


rule theory_figure:
    input:
        LAYOUT.theory("figures/{name}.{ext}"),
    output:
        report(LAYOUT.figure("theory/{name}.{ext}"), caption="../report/theory.rst", category="Theory"),
    log:
        LAYOUT.log("theory_figure/{name}.{ext}"),
    wildcard_constraints:
        ext="png|pdf",
    conda:
        CONDA_ENV
    shell:
        "cp {input} {output}.tmp && mv {output}.tmp {output} 2> {log}"


rule theory_figs:
    input:
        theory_targets(),
