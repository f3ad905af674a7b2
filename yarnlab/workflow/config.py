"""Cross-checks of a workflow config (``workflows/config/*.yaml``), all at once, before anything runs.

The JSON schema (``workflows/schemas/config.schema.yaml``) checks each key on its own: types,
ranges, names. :func:`check_config` checks what the schema cannot: how keys relate to each other
(a grid's start vs its stop, lengths vs the evaluation documents and the base context L, which
model labels exist, what the claims refer to). It collects EVERY problem and raises one
:class:`~yarnlab.errors.SpecError` listing them, each as ``key: what is wrong (got value)``;
``workflows/rules/common.smk`` calls it so that ``snakemake -n`` fails before any job starts.

Adding a check: write a function ``(config) -> list[str]`` and decorate it with :func:`check`. A
check that trips over a malformed part of the config (a missing key, a wrong type the schema did
not catch) is reported as a problem of its own instead of hiding the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from yarnlab.errors import SpecError
from yarnlab.workflow.layout import LABEL, extra_base_name, main_finetunes

Check = Callable[[dict], list[str]]
CHECKS: list[Check] = []
MAX_GRID_POINTS = 1000
CLAIM_ROLES = ("fewer_steps", "transfer", "short_data", "paper_ramp", "short_context_control")


def check(fn: Check) -> Check:
    """Register ``fn`` as one of the checks :func:`problems` runs."""
    CHECKS.append(fn)
    return fn


def _duplicates(key: str, values: list) -> list[str]:
    seen, out = set(), []
    for v in values:
        if v in seen:
            out.append(f"{key}: {v!r} is listed more than once")
        seen.add(v)
    return out


def known_models(config: dict) -> set[str]:
    """Every model name (label without its seed) this config builds."""
    return ({"base"} | {extra_base_name(c) for c in config.get("extra_bases") or []}
            | set(config.get("variants") or {}) | set(main_finetunes(config["finetune"])))


def _known_text(config: dict) -> str:
    return ("base, base-<extra_bases>, a variant or <finetune.methods>-s<finetune.scales>: "
            + ", ".join(sorted(known_models(config))))


def workflow_methods() -> list[str]:
    """Methods a workflow config may name: registered (:data:`yarnlab.rope.methods.METHODS`) and
    needing no parameter beyond s (the config has no place for longrope's factor lists)."""
    from yarnlab.rope.methods import METHODS

    return [m for m, v in METHODS.items() if not any(p.required for p in v.parameters)]


@check
def methods(config: dict) -> list[str]:
    """Every method name in the config is one :func:`workflow_methods` allows; a dynamic-table entry
    ``method:rule`` also names a registered temperature rule."""
    from yarnlab.rope.temperature import TEMPERATURE_RULES

    ok = workflow_methods()
    named = [(f"finetune.methods[{i}]", m) for i, m in enumerate(config["finetune"]["methods"])]
    named += [(f"ppl.noft_methods[{i}]", m) for i, m in enumerate(config["ppl"].get("noft_methods") or [])]
    named += [(f"regime.positions.methods[{i}]", m)
              for i, m in enumerate(((config.get("regime") or {}).get("positions") or {}).get("methods") or [])]
    named += [(f"variants.{k}.method", v["method"]) for k, v in (config.get("variants") or {}).items()]
    out = []
    for i, entry in enumerate(config["dynamic"]["methods"]):
        m, _, rule = str(entry).partition(":")
        named.append((f"dynamic.methods[{i}]", m))
        if rule and rule not in TEMPERATURE_RULES:
            out.append(f"dynamic.methods[{i}]: temperature rule must be one of {list(TEMPERATURE_RULES)} "
                       f"(got {rule!r})")
    out += [f"{key}: must be one of {ok} (got {m!r})" for key, m in named if m not in ok]
    return out


@check
def sweep_grid(config: dict) -> list[str]:
    grid = config["sweep"]["grid"]
    if not isinstance(grid, list | tuple) or len(grid) != 3:
        return [f"sweep.grid: must be [start, stop, step] (got {grid!r})"]
    start, stop, step = grid
    out = []
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in grid):
        return [f"sweep.grid: start, stop and step must be finite numbers (got {grid!r})"]
    if start <= 0:
        out.append(f"sweep.grid: start must be > 0 (got {start})")
    if start > stop:
        out.append(f"sweep.grid: start must be <= stop; the grid is [start, stop, step] "
                   f"(got start {start} > stop {stop})")
    if step <= 0:
        out.append(f"sweep.grid: step must be > 0 (got {step})")
    elif start <= stop and (stop - start) / step + 1 > MAX_GRID_POINTS:
        out.append(f"sweep.grid: at most {MAX_GRID_POINTS} points (got {(stop - start) / step + 1:.0f} "
                   f"from {grid!r}); use a larger step")
    return out


@check
def scales(config: dict) -> list[str]:
    sw, ft = config["sweep"], config["finetune"]
    out = _duplicates("finetune.scales", [float(s) for s in ft["scales"]])
    out += _duplicates("finetune.methods", list(ft["methods"]))
    out += _duplicates("sweep.scales", [float(s) for s in sw["scales"]])
    out += _duplicates("seeds", list(config["seeds"]))
    if float(sw["figure_scale"]) not in [float(s) for s in sw["scales"]]:
        out.append(f"sweep.figure_scale: must be one of sweep.scales {sw['scales']} (got {sw['figure_scale']})")
    return out


@check
def ablation_and_dynamic_units(config: dict) -> list[str]:
    """The ablation extends (s > 1), and the tables the claims bootstrap over documents have the 3
    units an interval needs (yarnlab.claims.stats: >= 3 works)."""
    ab, dyn = config["ablation"], config["dynamic"]
    out = []
    if float(ab["scale"]) <= 1:
        out.append(f"ablation.scale: must be > 1 (got {ab['scale']})")
    for key, n in (("ablation.n_docs", ab["n_docs"]), ("dynamic.n_docs", dyn.get("n_docs"))):
        if n is not None and int(n) < 3:
            out.append(f"{key}: must be >= 3, the fewest documents an interval is drawn from (got {n})")
    return out


@check
def evaluation_sets(config: dict) -> list[str]:
    """The smaller evaluation sets are prefixes of the data.n_docs pieces (``--max-docs``): none asks for
    more pieces than there are."""
    n = int(config["data"]["n_docs"])
    sizes = [("sweep.n_docs", config["sweep"].get("n_docs")), ("ablation.n_docs", config["ablation"].get("n_docs")),
             ("dynamic.n_docs", config["dynamic"].get("n_docs")),
             ("regime.spread_docs", (config.get("regime") or {}).get("spread_docs"))]
    return [f"{key}: must be in [1, data.n_docs = {n}] (its set is a prefix of the data.n_docs evaluation pieces; "
            f"got {v})" for key, v in sizes if v is not None and not 1 <= int(v) <= n]


@check
def lengths(config: dict) -> list[str]:
    """Every evaluated length fits in the evaluation documents (data.tokens tokens each), and
    ppl.lengths reaches both sides of L (the short-context and the extended comparisons)."""
    L, tokens = int(config["base"]["original_ctx"]), int(config["data"]["tokens"])
    out = []
    for key, values in (("ppl.lengths", config["ppl"]["lengths"]), ("dynamic.lengths", config["dynamic"]["lengths"]),
                        ("long_ppl.lengths", config["long_ppl"]["lengths"])):
        out += _duplicates(key, list(values))
        long = [n for n in values if n > tokens]
        if long:
            out.append(f"{key}: {long} exceed data.tokens = {tokens}, the length of each evaluation document; "
                       f"raise data.tokens or drop them")
    for key, values in (("sweep.scales", config["sweep"]["scales"]), ("ablation.scale", [config["ablation"]["scale"]])):
        long = [s for s in values if float(s) * L > tokens]
        if long:
            out.append(f"{key}: {long} x L = {L} exceed data.tokens = {tokens} (each is evaluated at length sL)")
    ppl = config["ppl"]["lengths"]
    if not any(n <= L for n in ppl) or not any(n > L for n in ppl):
        out.append(f"ppl.lengths: needs lengths both <= L and > L = base.original_ctx = {L} (got {ppl})")
    return out


@check
def same_targets(config: dict) -> list[str]:
    """ppl.same_targets T is below every length the perplexity rules evaluate (ppl.lengths, long_ppl.lengths):
    at length n each target is read after n - T tokens, so n = T would leave the first one with none."""
    ppl = config["ppl"]
    t = ppl.get("same_targets")
    out = [f"ppl.{k}: must be true or false (got {ppl[k]!r})" for k in ("truncation_reading", "sliding_same_targets")
           if k in ppl and not isinstance(ppl[k], bool)]
    if t is None:
        return out
    shortest = min(list(ppl["lengths"]) + list(config["long_ppl"]["lengths"] or []))
    if not isinstance(t, int) or isinstance(t, bool) or not 1 <= t <= shortest - 1:
        out.append(f"ppl.same_targets: must be an integer in [1, {shortest - 1}], below the shortest length of "
                   f"ppl.lengths and long_ppl.lengths ({shortest}), so every target has context (got {t!r})")
    return out


@check
def variants(config: dict) -> list[str]:
    out = []
    var = config.get("variants") or {}
    L = int(config["base"]["original_ctx"])
    main = set(main_finetunes(config["finetune"]))
    known = known_models(config)
    for name, v in var.items():
        where = f"variants.{name}"
        if not LABEL.match(name) or re.search(r"-seed\d+$", name) or name.endswith("-noft") or name.startswith("base"):
            out.append(f"{where}: a label must match [a-z][a-z0-9-]*, must not start with 'base' nor end in "
                       f"-noft or -seed<N> (got {name!r})")
        if name in main:
            out.append(f"{where}: the name of a main fine-tune; choose another label")
        if not isinstance(v, dict):
            out.append(f"{where}: must be a mapping of init, method, scale, ... (got {v!r})")
            continue
        init = v.get("init")
        if init == name:
            out.append(f"{where}.init: a variant cannot start from itself")
        elif init not in known:
            out.append(f"{where}.init: {init!r} is not a model of this config ({_known_text(config)})")
        seen, cur = {name}, init
        while cur in var and isinstance(var[cur], dict):  # init chains must end at a non-variant
            if cur in seen:
                out.append(f"{where}.init: the chain of inits loops back to {cur!r}")
                break
            seen.add(cur)
            cur = var[cur].get("init")
        train_ctx = v.get("train_ctx", v.get("scale"))
        if isinstance(train_ctx, int | float) and int(round(float(train_ctx) * L)) < 2:
            out.append(f"{where}.train_ctx: train_ctx x L must be at least 2 tokens (got {train_ctx})")
    return out


@check
def model_labels(config: dict) -> list[str]:
    out = []
    known = known_models(config)
    for key, names in (("long_ppl.models", config["long_ppl"]["models"]),
                       ("passkey.models", config["passkey"]["models"])):
        out += _duplicates(key, list(names))
        for name in names:
            if name not in known:
                out.append(f"{key}: {name!r} is not a model of this config ({_known_text(config)})")
    for corpus in config.get("extra_bases") or []:
        if not LABEL.match(str(corpus)):
            out.append(f"extra_bases: {corpus!r} must match [a-z][a-z0-9-]* (it names base-<corpus>)")
    return out


@check
def claims(config: dict) -> list[str]:
    cl, var, xb = config["claims"], config.get("variants") or {}, config.get("extra_bases") or []
    out = []
    for role in CLAIM_ROLES:
        if cl.get(role) is not None and cl[role] not in var:
            out.append(f"claims.{role}: {cl[role]!r} is not one of the variants {sorted(var)}")
    if cl.get("corpus") is not None:
        for k in ("yarn", "pi"):
            if cl["corpus"].get(k) not in var:
                out.append(f"claims.corpus.{k}: {cl['corpus'].get(k)!r} is not one of the variants {sorted(var)}")
        if cl["corpus"].get("corpus") not in xb:
            out.append(f"claims.corpus.corpus: {cl['corpus'].get('corpus')!r} must be listed in extra_bases {xb}")
    return out


@check
def early_grid(config: dict) -> list[str]:
    """finetune.eval_early_every / eval_early_until: the dense early evaluation grid (TrainConfig's rule)."""
    ft = config["finetune"]
    every, until = ft.get("eval_early_every") or 0, ft.get("eval_early_until") or 0
    if every > 0 and until < every:
        return [f"finetune.eval_early_until: must be >= finetune.eval_early_every = {every} (got {until})"]
    if every == 0 and until:
        return [f"finetune.eval_early_until: must be 0 or absent while finetune.eval_early_every is 0 or absent "
                f"(got {until})"]
    return []


@check
def short_context_control(config: dict) -> list[str]:
    """claims.short_context_control (claim 8's reference) is the base trained on at L with plain RoPE for as
    many tokens as one YaRN main fine-tune: steps x train_ctx = finetune.steps x s (same batch size)."""
    name = config["claims"].get("short_context_control")
    var = config.get("variants") or {}
    if name is None or not isinstance(var.get(name), dict):
        return []  # a missing variant is claims()'s problem
    v, ft = var[name], config["finetune"]
    key = f"claims.short_context_control ({name!r})"
    got = (v.get("init"), v.get("method"), float(v.get("scale", 0)), float(v.get("train_ctx", v.get("scale", 0))))
    if got != ("base", "none", 1.0, 1.0):
        return [f"{key}: must be a variant with init base, method none, scale 1 and train_ctx 1 (training on at "
                f"L with plain RoPE) (got init {got[0]!r}, method {got[1]!r}, scale {got[2]:g}, train_ctx {got[3]:g})"]
    steps = v.get("steps", ft["steps"])
    allowed = sorted(float(s) * ft["steps"] for s in ft["scales"]) if "yarn" in ft["methods"] else []
    if float(steps) not in allowed:
        shown = ", ".join(f"{a:g}" for a in allowed) or "none: yarn is not in finetune.methods"
        return [f"{key}: steps must be finetune.steps x s = {ft['steps']} x s for a YaRN scale s in finetune.scales "
                f"(one of {shown}), so that it trains on as many tokens as that fine-tune (got {steps})"]
    return []


def problems(config: dict) -> list[str]:
    """Every cross-key problem of ``config`` (a dict as loaded from YAML), in check order."""
    out: list[str] = []
    for fn in CHECKS:
        try:
            out += fn(config)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            out.append(f"{fn.__name__}: cannot check this part of the config ({type(exc).__name__}: {exc})")
    return out


@check
def _preregistration(config: dict) -> list[str]:
    """The regime thresholds of a config that names a pre-registration equal the registered ones (every
    threshold the pre-registration lists; the config holds them all, ``workflows/config/default.yaml``)."""
    path = config.get("preregistration")
    if not path:
        return []
    from pathlib import Path

    import yaml

    if not Path(path).is_file():
        return [f"preregistration: no such file {path!r} (paths are relative to the working directory)"]
    registered = (yaml.safe_load(Path(path).read_text()) or {}).get("thresholds")
    if not isinstance(registered, dict):
        return [f"preregistration: {path} has no thresholds mapping"]
    mine = config.get("regime") or {}
    return [f"regime.{k}: must equal the pre-registered value {registered[k]!r} of {path} (got {mine.get(k)!r})"
            for k in sorted(registered) if mine.get(k) != registered[k]]


def check_config(config: dict[str, Any]) -> None:
    """Raise one :class:`SpecError` listing every problem of ``config``; return None when it is sound."""
    found = problems(config)
    if found:
        raise SpecError(found, context="workflow config")
