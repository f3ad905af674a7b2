"""The result files the claims generator reads, derived from the workflow's settings.

``settings`` is the JSON the workflow's ``claims_settings_file`` rule writes (seed, L, the fine-tune
grid, evaluation settings, ``variants``, ``extra_bases``, ``long_ppl`` and the ``claims`` roles). The
same function gives the Snakemake ``claims`` rule its inputs and the generator its paths, so the two
cannot drift apart. Standard library only (the Snakefile imports it while parsing).
"""

from __future__ import annotations

import os

# claims settings that name a variant (its perplexity table, training summary and metrics are inputs)
ROLES = ("fewer_steps", "transfer", "short_data", "paper_ramp", "short_context_control")


def fmt(x) -> str:
    """1.0 -> '1', 2.5 -> '2.5' (scales in file names, as the workflow writes them)."""
    return f"{float(x):g}"


def model_path(results: str, settings: dict, name: str) -> str:
    """Folder of model ``name`` (label without seed), as workflows/rules/common.smk lays it out."""
    seed = settings["seed"]
    if name == "base":
        return f"{results}/models/base-seed{seed}"
    if name.startswith("base-"):
        return f"{results}/models/bases/{name}-seed{seed}"
    if name in settings["variants"]:
        return f"{results}/models/variants/{name}-seed{seed}"
    return f"{results}/models/{name}-seed{seed}"


def input_paths(results: str, paper_figs: str, settings: dict) -> dict[str, str]:
    """Every input of the generator, keyed by role (``ppl:<label>``, ``long:<label>``,
    ``variant:<label>``, ``sweep:<s>``, ``rules:<s>``, ``metrics:<label>``, ...)."""
    seed = settings["seed"]
    ft = settings["finetune"]
    cl = settings["claims"]
    out: dict[str, str] = {}
    ppl = f"{results}/eval/ppl"
    out["ppl:base"] = f"{ppl}/base-seed{seed}.csv"
    for m in ft["methods"]:
        for s in ft["scales"]:
            label = f"{m}-s{fmt(s)}"
            out[f"ppl:{label}"] = f"{ppl}/{label}-seed{seed}.csv"
            out[f"metrics:{label}"] = f"{model_path(results, settings, label)}/metrics.jsonl"
    for m in settings["ppl"]["noft_methods"]:
        for s in settings["ppl"].get("noft_scales") or ft["scales"]:
            label = f"{m}-s{fmt(s)}-noft"
            out[f"ppl:{label}"] = f"{ppl}/{label}-seed{seed}.csv"
    for name in settings["long_ppl"]["models"]:
        if settings["long_ppl"]["lengths"]:
            out[f"long:{name}"] = f"{results}/eval/ppl_long/{name}-seed{seed}.csv"
    roles = [cl[k] for k in ROLES if cl.get(k)]
    if cl.get("corpus"):
        roles += [cl["corpus"]["yarn"], cl["corpus"]["pi"], f"base-{cl['corpus']['corpus']}"]
    for name in roles:
        out[f"variant:{name}"] = f"{results}/eval/variants/{name}-seed{seed}.csv"
        out[f"summary:{name}"] = f"{model_path(results, settings, name)}/train_summary.json"
        if not name.startswith("base-"):
            out[f"metrics:{name}"] = f"{model_path(results, settings, name)}/metrics.jsonl"
    for s in settings["sweep"]["scales"]:
        out[f"sweep:{fmt(s)}"] = f"{results}/eval/sweep/s{fmt(s)}-seed{seed}.csv"
        out[f"rules:{fmt(s)}"] = f"{results}/eval/sweep/rules-s{fmt(s)}-seed{seed}.csv"
    out["temperature_fit"] = f"{results}/analysis/temperature_fit.csv"
    out["temperature_fit_rules"] = f"{results}/analysis/temperature_fit_rules.csv"
    out["dynamic"] = f"{results}/eval/dynamic/seed{seed}.csv"
    for label in settings["passkey"]["models"]:
        out[f"passkey:{label}"] = f"{results}/eval/passkey/{label}-seed{seed}.csv"
    out["ablation"] = f"{results}/eval/ablation/s{fmt(settings['ablation']['scale'])}-seed{seed}.csv"
    out["theory_entropy"] = f"{results}/theory/entropy_invariant.csv"
    out["theory_summary"] = f"{results}/theory/summary.json"
    out.update(regime_paths(results, settings))
    return out


def regime_paths(results: str, settings: dict) -> dict[str, str]:
    """The regime layer's inputs: the base's training metrics, its per-position profile at L (and
    each no-fine-tune method's at sL), context use, attention-logit spread, the sliding baseline."""
    seed = settings["seed"]
    reg = f"{results}/eval/regime"
    out = {
        "metrics:base": f"{model_path(results, settings, 'base')}/metrics.jsonl",
        "positions:base": f"{reg}/positions-base-seed{seed}.csv",
        "context_use": f"{reg}/context_use-seed{seed}.csv",
        "induction": f"{reg}/induction_summary-seed{seed}.csv",
        "logit_spread": f"{reg}/logit_spread-seed{seed}.csv",
        "temperature_prediction": f"{reg}/temperature_prediction-seed{seed}.csv",
        "ppl:base-sliding": f"{results}/eval/ppl/base-sliding-seed{seed}.csv",
    }
    for label in position_labels(settings):
        out[f"positions:{label}"] = f"{reg}/positions-{label}-seed{seed}.csv"
    return out


def position_labels(settings: dict) -> list[str]:
    """``<method>-s<s>-noft`` for every method and scale of the per-position figure."""
    pos = settings["regime"]["positions"]
    return [f"{m}-s{fmt(s)}-noft" for m in pos["methods"] for s in pos["scales"]]


def required_inputs(results: str, paper_figs: str, settings: dict) -> list[str]:
    """The paths of :func:`input_paths`, sorted (the Snakemake rule's input list)."""
    return sorted(set(input_paths(results, paper_figs, settings).values()))


def missing_inputs(paths: dict[str, str]) -> list[str]:
    return sorted(p for p in set(paths.values()) if not os.path.isfile(p))
