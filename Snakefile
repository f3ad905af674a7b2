# yarnlab: regenerate every figure and table of the YaRN story (arXiv 2309.00071).
#   snakemake --cores all paper_figs                                    CPU default (~30 min, 2 cores)
#   snakemake --cores all paper_figs --configfile workflows/config/smoke.yaml     CI, ~3 min
#   snakemake --cores all theory_figs                                   theory only, seconds
# Other configs and the GPU / SLURM profiles: paper_figs/README.md.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "workflows/config/default.yaml"


validate(config, "workflows/schemas/config.schema.yaml")


include: "workflows/rules/common.smk"
include: "workflows/rules/theory.smk"
include: "workflows/rules/train.smk"
include: "workflows/rules/evaluate.smk"
include: "workflows/rules/regime.smk"
include: "workflows/rules/figures.smk"
include: "workflows/rules/claims.smk"


rule paper_figs:
    """Every figure and table, and paper_figs/CLAIMS.md (claims.json) that tests the paper's claims."""
    input:
        all_targets(),
    default_target: True


# Every rule that runs something records its wall and CPU seconds in
# <results>/benchmarks/<rule>/<wildcards>.tsv (Snakemake benchmark files; benchmarks/estimate_runtime.py reads them).
for _rule in workflow.rules:
    if _rule.benchmark is None and not _rule.norun:
        _w = "_".join(f"{w}-{{{w}}}" for w in sorted(_rule.wildcard_names)) or "all"
        _rule.benchmark_modifier = _rule.output_modifier
        _rule.benchmark = LAYOUT.benchmark(_rule.name, _w)
