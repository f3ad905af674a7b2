# Theory figures: numeric and symbolic analyses only (yarnlab theory), seconds.
TH = config["theory"]
THEORY_FIGS = (
    ["wavelengths", "entropy", "temperature_fit"]
    + [f"{k}_{g}" for g in TH["geometries"] for k in ("interp_factor", "ramp")]
    + [f"similarity_{TH['geometries'][0]}_s{s}" for s in (4, 16)]
)


def theory_targets():
    return expand(f"{P}/theory/{{name}}.{{ext}}", name=THEORY_FIGS, ext=["png", "pdf"])


rule theory_tables:
    output:
        summary=f"{R}/theory/summary.json",
        figs=expand(f"{R}/theory/figures/{{name}}.{{ext}}", name=THEORY_FIGS, ext=["png", "pdf"]),
    log:
        f"{R}/logs/theory_tables.log",
    params:
        out=f"{R}/theory",
        geoms=csv(TH["geometries"]),
        scales=csv(TH["scales"]),
        egeom=TH["geometries"][0],
        n_boot=TH["n_boot"],
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
    shell:
        "cp {input} {output}.tmp && mv {output}.tmp {output} 2> {log}"


rule theory_figs:
    input:
        theory_targets(),
