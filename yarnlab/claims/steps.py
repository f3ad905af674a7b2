"""Steps to reach a held-out loss (claims 3 and 5): a ratio with an interval, from the per-window
evaluation curves of two training runs.

Data. Every periodic evaluation line of a run's ``metrics.jsonl`` (:mod:`yarnlab.train.loop`) holds each
held-out window's mean NLL (``heldout_unit_loss``), its scored targets (``heldout_unit_tokens``) and a
fingerprint of the windows (``heldout_units``); a run evaluates the same windows at every step, and two
runs with the same seed, corpus and training length the same windows, so their curves are paired.

Definitions. A run's curve is its token-weighted mean NLL over the windows at each evaluation step e_0 <
e_1 < ... (step 0 = before training, with the early grid ``finetune.eval_early_every``). For a reference
run R and a test run T on the same windows:

    target = (R's last periodic loss) + margin      (claims.margin, the non-inferiority margin: plateau
                                                     noise does not decide when R reaches its own end)
    p = first evaluation step of R at or below the target,   y = the same for T,   ratio = p / y

("T needs ratio times fewer steps than R"). A first passage seen at e_i lies in (e_{i-1}, e_i] (e_{-1} = 0),
so the grid alone brackets the ratio in [p_prev / y, p / y_prev]. **Capped**: T is at the target at its
first evaluation point (y_prev = 0): the ratio is only bounded below, and y = 0 (T before training already
at the target) means the steps cannot be compared at all; a capped row reads *inconclusive* and says so,
whatever its bounds. T never at the target: ratio < p / (T's last step).

Interval: percentile bootstrap over the windows (the unit the runs are evaluated on). A replicate draws
the windows with replacement (the same draw for R and T: paired), recomputes both curves, the target, p,
y and their grid brackets; the interval is [q_(a/2) of the lower brackets, q_(1-a/2) of the upper
brackets] (discrete quantiles) with a = (1 - level) / k for a family of k ratios (Bonferroni: the k hold
jointly). A first-passage step is a discrete functional with no standard error to studentize, hence
percentiles, not bootstrap-t. The interval covers which windows were scored and the grid's resolution, not
the training run's own noise; the windows are the first ``eval_batches x batch_size`` consecutive windows
of the held-out stream (a few works), so it is an interval over evaluation windows, not over works: with
several seeds (pooled results) a replicate draws seeds first, then windows within each drawn seed (a
seed's held-out stream is ordered by its seed, so its windows are its own), and the curve is the mean of
the drawn seeds' curves.
"""

from __future__ import annotations

import math

import numpy as np

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.results import MissingInputError, Results
from yarnlab.claims.sections import table
from yarnlab.errors import UsageError


class Curve:
    """One run's periodic evaluations: ``steps`` (E,), ``loss`` (E, U) per window, ``tokens`` (U,),
    ``units`` (the windows' fingerprint)."""

    def __init__(self, rows: list[dict], where: str):
        ev = [r for r in rows if "heldout_loss" in r and not r.get("final")]
        if not ev:
            raise MissingInputError(f"{where}: no periodic held-out evaluation")
        if any("heldout_unit_loss" not in r for r in ev):
            raise MissingInputError(f"{where}: evaluation lines without per-window losses (heldout_unit_loss); "
                                    "the run predates them: rerun it")
        tokens = [tuple(r["heldout_unit_tokens"]) for r in ev]
        units = {r.get("heldout_units") for r in ev}
        if len(set(tokens)) > 1 or len(units) > 1:
            raise UsageError(f"{where}: the evaluation windows change between steps")
        steps = [int(r["step"]) for r in ev]
        if steps != sorted(set(steps)):
            raise UsageError(f"{where}: evaluation steps are not increasing ({steps})")
        self.steps = np.array(steps)
        self.loss = np.array([r["heldout_unit_loss"] for r in ev], dtype=np.float64)
        self.tokens = np.array(tokens[0], dtype=np.float64)
        self.units = units.pop()
        self.where = where

    def curves(self, weights: np.ndarray) -> np.ndarray:
        """(B, E) token-weighted mean curves for (B, U) window counts."""
        w = weights * self.tokens
        return (w @ self.loss.T) / w.sum(axis=1, keepdims=True)


def _first(curves: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Index of the first evaluation at or below the target per row; -1 if none."""
    hit = curves <= target[:, None] + 1e-12
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def _brackets(steps: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step before, step) of first passages at ``idx`` (-1: never, both NaN)."""
    at = np.where(idx >= 0, steps[np.maximum(idx, 0)], np.nan)
    before = np.where(idx > 0, steps[np.maximum(idx - 1, 0)], 0.0)
    return np.where(idx >= 0, before, np.nan), at


def passage(ref: list[tuple[Curve, Curve]], margin: float, weights: list[tuple[np.ndarray, np.ndarray]] | None = None):
    """First passages and ratio brackets of the mean curves over seeds (``ref``: (R, T) per seed).

    ``weights``: per seed, (window counts (B, U_i), times the seed is drawn (B,)) of B replicates
    (:func:`_draw`); None: the sample itself (B = 1). Returns a dict of (B,) arrays: target, p, p_prev,
    y, y_prev (NaN: never), lo, hi (the ratio's grid bracket)."""
    if weights is None:
        weights = [(np.ones((1, len(r.tokens))), np.ones(1)) for r, _ in ref]
    cr = sum(c[:, None] * r.curves(w) for (r, _), (w, c) in zip(ref, weights))
    ct = sum(c[:, None] * t.curves(w) for (_, t), (w, c) in zip(ref, weights))
    norm = sum(c for _, c in weights)[:, None]
    cr, ct = cr / norm, ct / norm
    steps_r, steps_t = ref[0][0].steps, ref[0][1].steps
    target = cr[:, -1] + margin
    p_prev, p = _brackets(steps_r, _first(cr, target))
    y_prev, y = _brackets(steps_t, _first(ct, target))
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(np.isnan(y), 0.0, np.where(y > 0, p_prev / y, np.inf))
        hi = np.where(np.isnan(y), p / steps_t[-1], np.where(y_prev > 0, p / y_prev, np.inf))
    bad = p == 0  # the reference needs no step: nothing to compare
    lo, hi = np.where(bad, 0.0, lo), np.where(bad, np.inf, hi)
    return {"target": target, "p": p, "p_prev": p_prev, "y": y, "y_prev": y_prev, "lo": lo, "hi": hi}


def _draw(pairs: list[tuple[Curve, Curve]], n_boot: int, rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per seed i: (window counts (B, U_i) of one draw per replicate, times drawn (B,)). Seeds are drawn
    first (with replacement); each time a seed is drawn its windows are drawn anew, and the counts of
    its draws add up (its curve enters the mean once per draw)."""
    n_seeds = len(pairs)
    picks = rng.integers(0, n_seeds, (n_boot, n_seeds)) if n_seeds > 1 else np.zeros((n_boot, 1), dtype=int)
    out = []
    for i, (r, _) in enumerate(pairs):
        u = len(r.tokens)
        times = (picks == i).sum(axis=1)
        counts = np.zeros((n_boot, u))
        for k in range(int(times.max()) if len(times) else 0):
            draw = rng.integers(0, u, (n_boot, u))
            add = np.zeros((n_boot, u))
            np.add.at(add, (np.repeat(np.arange(n_boot), u), draw.ravel()), 1.0)
            counts += add * (times > k)[:, None]
        # a seed drawn m times contributes m curves; its windows' counts over the m draws give their sum,
        # and curves() of the summed counts is the token-weighted mean of the m draws pooled (equal sizes)
        out.append((np.where(times[:, None] > 0, counts, 1.0), times.astype(np.float64)))
    return out


def ratio_family(res: Results, pairs: list[tuple[str, str, dict]], threshold: float, level: float = S.LEVEL,
                 seed: int = 0) -> list[dict]:
    """One row per (reference label, test label, row) of ``pairs``: the steps ratio with its bracket and
    interval (module docstring), judged ``above threshold`` (grammar: holds if the lower end exceeds it,
    does not hold if the upper end is at or below it), capped rows inconclusive."""
    if not pairs:
        return []
    k = len(pairs)
    lvl = 1 - (1 - level) / k
    out = []
    for j, (ref, test, row) in enumerate(pairs):
        per_seed = []
        for sd, one in res.seeds():
            r = Curve(one.jsonl(f"metrics:{ref}"), f"{one.paths[f'metrics:{ref}']}")
            t = Curve(one.jsonl(f"metrics:{test}"), f"{one.paths[f'metrics:{test}']}")
            if r.units != t.units or len(r.tokens) != len(t.tokens):
                raise UsageError(f"steps to reach: {ref} and {test} (seed {sd}) were evaluated on different "
                                 "held-out windows; they cannot be paired")
            per_seed.append((r, t))
        grid_r, grid_t = per_seed[0][0].steps, per_seed[0][1].steps
        if any(not np.array_equal(r.steps, grid_r) or not np.array_equal(t.steps, grid_t) for r, t in per_seed):
            raise UsageError(f"steps to reach: the seeds of {ref} / {test} were evaluated at different steps")
        point = {k_: float(v[0]) for k_, v in passage(per_seed, res.margin).items()}
        boot = passage(per_seed, res.margin, _draw(per_seed, res.n_boot, np.random.default_rng([seed, j])))
        q = (1 - lvl) / 2
        low = float(np.quantile(boot["lo"], q, method="inverted_cdf"))
        high = float(np.quantile(boot["hi"], 1 - q, method="inverted_cdf"))
        est = S.Estimate(_ratio(point), low, high, len(per_seed) if len(per_seed) > 1 else len(per_seed[0][0].tokens),
                         level, k)
        capped = not math.isnan(point["y"]) and point["y_prev"] == 0
        if point["p"] == 0:
            verdict, note = G.INCONCLUSIVE, "the reference is within the margin of its last loss before training"
        elif capped and point["y"] == 0:
            verdict, note = G.INCONCLUSIVE, ("capped by the evaluation grid: before any training step the test run "
                                             "is already at the target, so the steps it needs cannot be compared")
        elif capped:
            verdict, note = G.INCONCLUSIVE, (
                f"capped by the evaluation grid: the test run is at the target by its first evaluation (step "
                f"{point['y']:g}), so the ratio is only known to be >= {point['lo']:.3g}; a denser early grid "
                "(finetune.eval_early_every) resolves it")
        else:
            verdict = G.above(est, threshold)
            note = "" if not math.isnan(point["y"]) else (
                f"the test run never reaches the target in its {grid_t[-1]} steps: ratio < {point['hi']:.3g}")
        out.append({**row, "reference": ref, "test_run": test, "target_nats": point["target"],
                    "ref_step": _num(point["p"]), "ref_bracket": [_num(point["p_prev"]), _num(point["p"])],
                    "test_step": _num(point["y"]), "test_bracket": [_num(point["y_prev"]), _num(point["y"])],
                    "steps_ratio": {k_: _num(v) if k_ in ("value", "low", "high") else v
                                    for k_, v in est.to_dict().items()},
                    "grid_bracket": [_num(point["lo"]), _num(point["hi"])], "capped": capped,
                    "capped_share": float(np.mean((boot["y_prev"] == 0) & ~np.isnan(boot["y"]))),
                    "seeds": len(per_seed), "windows": int(len(per_seed[0][0].tokens)),
                    "test": "above", "threshold": threshold, "verdict": verdict, "note": note})
    return out


def _ratio(point: dict) -> float:
    if math.isnan(point["y"]):
        return point["hi"]  # never reached: the upper bound
    return math.inf if point["y"] == 0 else point["p"] / point["y"]


def _num(x):
    """JSON-safe number: None for NaN or infinity."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def fmt_steps(r: dict) -> str:
    """'2.5 [1.8, 4] (capped)'-style text of a steps row (n/a for unbounded ends)."""
    e = r["steps_ratio"]

    def f(x):
        return "inf" if x is None else f"{x:.3g}"

    text = f"{f(e['value'])} [{f(e['low'])}, {f(e['high'])}]"
    return text + (" (capped by the grid)" if r["capped"] else "")


def steps_table(title: str, rows: list[dict]) -> dict:
    """The CLAIMS.md table of steps rows."""
    return table(title, ["comparison", "target (nats)", "reference step", "test step", "ratio [CI]",
                         "threshold", "verdict", "note"],
                 [[r["what"], r["target_nats"], _bracket(r["ref_bracket"]), _bracket(r["test_bracket"]),
                   fmt_steps(r), r["threshold"], r["verdict"], r["note"] or "-"] for r in rows])


def _bracket(b: list) -> str:
    lo, hi = b
    if hi is None:
        return "never"
    return f"{hi:g}" if lo is None or lo == hi else f"{hi:g} (in ({lo:g}, {hi:g}])"


def part(rows: list[dict]) -> str:
    """The verdict of a family of steps rows."""
    return G.combine([r["verdict"] for r in rows])


def threshold_text(threshold: float, reason: str) -> str:
    return f"ratio above {threshold:g} ({reason})"
