# Paths, labels and the final targets, all computed from the config.
import os
R = config["results"]
P = config["paper_figs"]
SEEDS = config["seeds"]
FT = config["finetune"]
THREADS = config["threads"]
L = config["base"]["original_ctx"]
PY = "python workflows/scripts"


wildcard_constraints:
    seed=r"\d+",
    scale=r"[0-9.]+",
    method=r"[a-z][a-z0-9-]*?",


def fmt(x):
    """1.0 -> '1', 2.5 -> '2.5' (scales in file names)."""
    return f"{float(x):g}"


def csv(xs):
    return ",".join(str(x) for x in xs)


def finetuned_labels(seed):
    return [f"{m}-s{fmt(s)}-seed{seed}" for m in FT["methods"] for s in FT["scales"]]


def noft_labels(seed):
    return [f"{m}-s{fmt(s)}-noft-seed{seed}" for m in config["ppl"]["noft_methods"] for s in FT["scales"]]


def model_dir(label):
    """results/models/<label> for 'base-seedN' and '<method>-s<s>-seedN'."""
    return f"{R}/models/{label}"


FIGS = {
    "context": [f"{P}/ppl_vs_context", f"{P}/short_context"],
    "pretrain": [f"{P}/pretrain_curve"],
    "temperature": [f"{P}/temperature_study_s{fmt(config['sweep']['figure_scale'])}", f"{P}/temperature_fit"],
    "dynamic": [f"{P}/dynamic_scaling"],
    "passkey": [f"{P}/passkey"],
    "ablation": [f"{P}/alpha_beta_ablation"],
    "efficiency": [f"{P}/training_efficiency"],
    "reference": [f"{P}/paper_llama2_reference"],
}
# which of PREFIX.png / .csv each product has
TABLE_ONLY = {"short_context"}
FIG_ONLY = {"pretrain_curve"}


def products(prefix):
    name = prefix.rsplit("/", 1)[-1]
    out = []
    if name not in TABLE_ONLY:
        out += [f"{prefix}.png", f"{prefix}.pdf"]
    if name not in FIG_ONLY and not name.startswith("temperature_study_s"):
        out += [f"{prefix}.csv", f"{prefix}.md"]
    return out


def family_targets(family):
    return [p for prefix in FIGS[family] for p in products(prefix)]


def all_targets():
    return theory_targets() + [p for fam in FIGS for p in family_targets(fam)]


# ---- evaluation settings
D = config["data"]
PPL = config["ppl"]
SW = config["sweep"]
DYN = config["dynamic"]
PK = config["passkey"]
AB = config["ablation"]
DOCS = f"{R}/data/eval_docs.npz"



def _ppl_common():
    return f"--docs {DOCS} --lengths {csv(PPL['lengths'])} --threads {THREADS}"



# ---- theory
TH = config["theory"]
THEORY_FIGS = (
    ["wavelengths", "entropy", "temperature_fit"]
    + [f"{k}_{g}" for g in TH["geometries"] for k in ("interp_factor", "ramp")]
    + [f"similarity_{TH['geometries'][0]}_s{s}" for s in (4, 16)]
)


def theory_targets():
    return expand(f"{P}/theory/{{name}}.{{ext}}", name=THEORY_FIGS, ext=["png", "pdf"])


# ---- figures
S0 = SEEDS[0]
ENV = "../envs/yarnlab.yaml"


def ppl_inputs(wildcards=None):
    out = []
    for seed in SEEDS:
        labels = [f"base-seed{seed}"] + finetuned_labels(seed) + noft_labels(seed)
        out += [f"{R}/eval/ppl/{x}.csv" for x in labels]
    return out


def fig_outputs(prefix, caption, category):
    """report()-wrapped products of one figure/table prefix."""
    return [report(p, caption=f"../report/{caption}.rst", category=category) if p.endswith(".png") else p
            for p in products(prefix)]


