"""Regime checks judge intervals, never point estimates: a check whose estimate is on the good side
but whose interval crosses the threshold fails (yarnlab.claims.regime)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from yarnlab.claims import regime

DOCS = [f"w{i}@0" for i in range(6)]


class FakeResults:
    """The two things a regime check reads: ``table(key)`` rows, ``n_boot`` and ``L``."""

    def __init__(self, tables: dict, L: int = 64):
        self.tables, self.L, self.n_boot, self.settings = tables, L, 400, {}

    def table(self, key: str) -> list[dict]:
        return self.tables[key]


def _context_rows(gains):
    return [{"doc": d, "length": 64, "visible": 8, "n_tokens": 32, "nll_full": 2.0, "nll_truncated": 2.0 + g}
            for d, g in zip(DOCS, gains)]


def _position_rows(diffs, L=64, bins=16):
    rows, w = [], L // bins
    for d, diff in zip(DOCS, diffs):
        for k in range(bins):
            lo = k * w
            rows.append({"doc": d, "pos_lo": lo, "pos_hi": lo + w, "tokens": w,
                         "nll": 2.0 + (diff if lo >= L - L // 16 else 0.0)})
    return rows


# the regime thresholds of the default config (the one place they are stored)
CFG = yaml.safe_load((Path(__file__).parents[1] / "workflows/config/default.yaml").read_text())["regime"]


@pytest.mark.parametrize("gains, passed", [
    ([0.30, 0.31, 0.29, 0.30, 0.32, 0.28], True),     # clearly above 0.05
    ([0.0, 0.20, -0.05, 0.15, 0.01, 0.05], False),    # mean 0.06 > 0.05, but the lower end is below it
])
def test_context_use_needs_the_lower_end_above_the_threshold(gains, passed):
    row = regime.context_use(FakeResults({"context_use": _context_rows(gains)}), CFG)
    assert row["estimate"]["value"] > CFG["context_use_min_gain"]
    assert row["passed"] is passed


@pytest.mark.parametrize("diffs, passed", [
    ([0.01, -0.02, 0.0, 0.02, -0.01, 0.0], True),     # flat
    ([0.0, 0.5, -0.2, 0.4, 0.1, 0.3], False),         # mean 0.18 < 0.25, but the upper end is above it
])
def test_flat_positions_needs_the_upper_end_below_the_tolerance(diffs, passed):
    row = regime.flat_positions(FakeResults({"positions:base": _position_rows(diffs)}), CFG)
    assert row["estimate"]["value"] < CFG["position_tolerance"]
    assert row["passed"] is passed


class FakeRun(FakeResults):
    """A regime input that also has the base's training log (``jsonl``)."""

    def __init__(self, tables: dict, logs: dict, source: str = "pretrain"):
        super().__init__(tables)
        self.logs, self.settings = logs, {"base_source": source}

    def jsonl(self, key: str) -> list[dict]:
        return self.logs[key]


def _induction_rows(lows):
    return [{"measure": "induction_gain", "distance": d, "span": 32, "value": lo + 0.2, "lo": lo, "hi": lo + 0.4,
             "n": 16} for d, lo in zip((32, 64, 128, 224), lows)]


def test_induction_is_judged_at_the_least_favourable_distance():
    thr = CFG["induction_min_gain"]
    row = regime.induction(FakeResults({"induction": _induction_rows([thr + 1, thr + 2, thr - 0.5, thr + 1])}), CFG)
    assert row["passed"] is False and row["estimate"]["distance"] == 128
    assert regime.induction(FakeResults({"induction": _induction_rows([thr + 1] * 4)}), CFG)["passed"] is True


def test_convergence_compares_the_last_evaluation_with_the_one_at_80_percent_of_the_steps():
    thr = CFG["convergence_max_rel_drop"]
    # flat over the last 5% of steps, but the loss still fell 10% over the last 20%: not converged
    losses = {0: 3.0, 500: 2.2, 800: 2.2, 900: 2.05, 950: 2.0, 1000: 2.0}
    logs = {"metrics:base": [{"step": s, "heldout_loss": v} for s, v in losses.items()]}
    row = regime.convergence(FakeRun({}, logs), CFG)
    assert row["estimate"] == pytest.approx((2.2 - 2.0) / 2.0) and row["estimate"] > thr
    assert row["passed"] is False and "from step 800 to 1000" in row["what"]
    flat = {"metrics:base": [{"step": s, "heldout_loss": 2.0 if s >= 800 else 3.0} for s in losses]}
    assert regime.convergence(FakeRun({}, flat), CFG)["passed"] is True
