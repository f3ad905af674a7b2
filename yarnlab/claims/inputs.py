"""The result files the claims generator reads, derived from the workflow's settings.

``settings`` is the JSON the workflow's ``claims_settings_file`` rule writes
(:func:`yarnlab.workflow.layout.claims_settings`: seed, L, the fine-tune grid, evaluation settings,
``variants``, ``extra_bases``, ``long_ppl`` and the ``claims`` roles). Every path comes from
:class:`yarnlab.workflow.layout.Layout`, the same methods the rules name their outputs with; the Snakemake
``claims`` rule takes its inputs from :func:`required_inputs`, so the two cannot drift apart.
"""

from __future__ import annotations

import os

from yarnlab.workflow.layout import (
    METRICS,
    SUMMARY,
    Layout,
    extra_base_name,
    fmt,
    main_finetunes,
    noft_names,
    position_names,
    seeded,
)

# claims settings that name a variant (its perplexity table, training summary and metrics are inputs)
ROLES = ("fewer_steps", "transfer", "short_data", "paper_ramp", "short_context_control")


def layout(results: str, settings: dict) -> Layout:
    """The layout of the run ``settings`` describe, under ``results``."""
    return Layout(results, variants=settings["variants"])


def input_paths(results: str, settings: dict) -> dict[str, str]:
    """Every input of the generator, keyed by role (``ppl:<label>``, ``long:<label>``,
    ``variant:<label>``, ``sweep:<s>``, ``rules:<s>``, ``metrics:<label>``, ...)."""
    at = layout(results, settings)
    seed = settings["seed"]
    cl = settings["claims"]
    out: dict[str, str] = {"ppl:base": at.ppl_table("base", seed)}
    for label in main_finetunes(settings["finetune"]):
        out[f"ppl:{label}"] = at.ppl_table(label, seed)
        out[f"metrics:{label}"] = at.model(label, seed, METRICS)
    for label in noft_names(settings["ppl"], settings["finetune"]):
        out[f"ppl:{label}"] = at.ppl_table(label, seed)
    for name in settings["long_ppl"]["models"]:
        if settings["long_ppl"]["lengths"]:
            out[f"long:{name}"] = at.long_ppl_table(name, seed)
    roles = [cl[k] for k in ROLES if cl.get(k)]
    if cl.get("corpus"):
        extra = extra_base_name(cl["corpus"]["corpus"])
        roles += [cl["corpus"]["yarn"], cl["corpus"]["pi"], extra]
        # the extra base's own regime checks (the premises of the claims on it): its per-position profile at L
        out[f"positions:{extra}"] = at.positions_table(extra, seed)
    for name in roles:
        out[f"variant:{name}"] = at.variant_ppl_table(name, seed)
        out[f"summary:{name}"] = at.model(name, seed, SUMMARY)
        out[f"metrics:{name}"] = at.model(name, seed, METRICS)
    for s in settings["sweep"]["scales"]:
        out[f"sweep:{fmt(s)}"] = at.sweep_table(s, seed)
        out[f"rules:{fmt(s)}"] = at.sweep_rules_table(s, seed)
    out["temperature_fit"] = at.temperature_fit()
    out["temperature_fit_rules"] = at.temperature_fit_rules()
    out["dynamic"] = at.dynamic_table(seed)
    for name in settings["passkey"]["models"]:
        out[f"passkey:{name}"] = at.passkey_table(seeded(name, seed))
    out["ablation"] = at.ablation_table(settings["ablation"]["scale"], seed)
    out["theory_entropy"] = at.theory("entropy_invariant.csv")
    out["theory_summary"] = at.theory("summary.json")
    out.update(regime_paths(results, settings))
    return out


def regime_paths(results: str, settings: dict) -> dict[str, str]:
    """The regime layer's inputs: the base's training metrics, its per-position profile at L (and
    each no-fine-tune method's at sL), context use, attention-logit spread, the sliding baseline."""
    at = layout(results, settings)
    seed = settings["seed"]
    out = {
        "metrics:base": at.base_model(seed, METRICS),
        "positions:base": at.positions_table("base", seed),
        "context_use": at.context_use_table(seed),
        "induction": at.induction_summary(seed),
        "logit_spread": at.logit_spread_table(seed),
        "temperature_prediction": at.temperature_prediction_table(seed),
        "ppl:base-sliding": at.ppl_table("base-sliding", seed),
    }
    for label in position_names(settings["regime"]["positions"]):
        out[f"positions:{label}"] = at.positions_table(label, seed)
    return out


def required_inputs(results: str, settings: dict) -> list[str]:
    """The paths of :func:`input_paths`, sorted (the Snakemake rule's input list)."""
    return sorted(set(input_paths(results, settings).values()))


def missing_inputs(paths: dict[str, str]) -> list[str]:
    return sorted(p for p in set(paths.values()) if not os.path.isfile(p))
