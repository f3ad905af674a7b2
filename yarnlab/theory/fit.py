"""Fitting temperature rules m*(s) = sqrt(1/t*) to measured optima, with bootstrap confidence intervals.

The paper's rule (Eq. 22) was found by fitting the perplexity-minimising sqrt(1/t) against s:
m = 0.1 ln s + 1. :func:`fit_temperature_rule` fits that form (and others) to any table of
(s, m_opt) -- one row per scale, or one row per sample's optimum -- and reports the parameters,
percentile-bootstrap CIs (rows resampled with replacement), residuals, and whether the paper's
(a, b) = (0.1, 1) lies inside the intervals.

Forms (``FORMS``):
- ``log``: m = a ln s + b (Eq. 22's form; paper a = 0.1, b = 1)
- ``log-through-1``: m = a ln s + 1 (so m(1) = 1)
- ``quartic-root``: m = (1 + a ln s)^(1/4) (the large-n Gaussian entropy-invariant form, a = 2/sigma^2)
- ``sqrt-log``: m = sqrt(1 + a ln s) (the form of LongRoPE's factor with a = 1/ln L)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.optimize import curve_fit

from yarnlab.errors import UsageError

PAPER_RULE = {"a": 0.1, "b": 1.0}


@dataclass(frozen=True)
class Form:
    name: str
    params: tuple[str, ...]
    fn: Callable[..., np.ndarray]
    p0: tuple[float, ...]
    formula: str


FORMS: dict[str, Form] = {
    "log": Form("log", ("a", "b"), lambda x, a, b: a * np.log(x) + b, (0.1, 1.0), "m = a ln s + b"),
    "log-through-1": Form("log-through-1", ("a",), lambda x, a: a * np.log(x) + 1.0, (0.1,),
                          "m = a ln s + 1"),
    "quartic-root": Form("quartic-root", ("a",), lambda x, a: np.abs(1.0 + a * np.log(x)) ** 0.25, (0.5,),
                         "m = (1 + a ln s)^(1/4)"),
    "sqrt-log": Form("sqrt-log", ("a",), lambda x, a: np.sqrt(np.abs(1.0 + a * np.log(x))), (0.1,),
                     "m = sqrt(1 + a ln s)"),
}


@dataclass
class FitReport:
    """Result of :func:`fit_temperature_rule`. ``ci`` maps a parameter to its (low, high) interval."""

    form: str
    formula: str
    params: dict[str, float]
    ci: dict[str, tuple[float, float]]
    ci_level: float
    residuals: np.ndarray
    rss: float
    r2: float
    aic: float
    n: int
    n_boot_used: int
    contains_paper_rule: bool | None
    paper_rule_in_joint_region: bool | None
    boot: np.ndarray = field(repr=False)

    def predict(self, s: Sequence[float] | np.ndarray) -> np.ndarray:
        return FORMS[self.form].fn(np.asarray(s, dtype=np.float64), *self.params.values())

    def band(self, s: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise percentile band of the fitted curve over the bootstrap fits, at level ``ci_level``."""
        s = np.asarray(s, dtype=np.float64)
        curves = np.stack([FORMS[self.form].fn(s, *p) for p in self.boot])
        q = (1 - self.ci_level) / 2
        return np.quantile(curves, q, axis=0), np.quantile(curves, 1 - q, axis=0)

    def to_dict(self) -> dict:
        return {"form": self.form, "formula": self.formula, "params": self.params,
                "ci": {k: list(v) for k, v in self.ci.items()}, "ci_level": self.ci_level,
                "residuals": self.residuals.tolist(), "rss": self.rss, "r2": self.r2, "aic": self.aic,
                "n": self.n, "n_boot_used": self.n_boot_used, "contains_paper_rule": self.contains_paper_rule,
                "paper_rule_in_joint_region": self.paper_rule_in_joint_region}


def _fit_once(form: Form, s: np.ndarray, m: np.ndarray) -> np.ndarray:
    if form.name == "log":  # linear least squares, exact
        a, b = np.polyfit(np.log(s), m, 1)
        return np.array([a, b])
    if form.name == "log-through-1":
        x = np.log(s)
        return np.array([np.dot(x, m - 1.0) / np.dot(x, x)])
    p, _ = curve_fit(form.fn, s, m, p0=form.p0, maxfev=5000)
    return np.asarray(p)


def fit_temperature_rule(s: Sequence[float], m_opt: Sequence[float], form: str = "log", n_boot: int = 2000,
                         ci_level: float = 0.95, seed: int = 0) -> FitReport:
    """Fit m_opt ~ form(s) by least squares; percentile-bootstrap CIs over resampled rows.

    ``s`` (> 1 for at least two distinct values) and ``m_opt`` are equal-length sequences: one row per
    measured optimum. ``contains_paper_rule`` (form ``log`` only): a = 0.1 and b = 1 both lie inside
    their marginal intervals. ``paper_rule_in_joint_region``: (0.1, 1) lies inside the bootstrap
    covariance ellipse at ``ci_level`` (chi-square with 2 degrees of freedom).
    """
    if form not in FORMS:
        raise UsageError(f"form: must be one of {sorted(FORMS)} (got {form!r})")
    s_arr = np.asarray(s, dtype=np.float64)
    m_arr = np.asarray(m_opt, dtype=np.float64)
    problems = []
    if s_arr.shape != m_arr.shape or s_arr.ndim != 1:
        problems.append(f"s, m_opt: must be 1-D of equal length (got {s_arr.shape} and {m_arr.shape})")
    elif not (np.all(np.isfinite(s_arr)) and np.all(np.isfinite(m_arr))):
        problems.append("s, m_opt: must be finite")
    elif np.any(s_arr <= 0):
        problems.append(f"s: must be > 0 (got min {s_arr.min()})")
    elif len(np.unique(s_arr[s_arr != 1.0])) < 2:
        problems.append("s: needs at least two distinct values other than 1")
    if not 0 < ci_level < 1:
        problems.append(f"ci_level: must be in (0, 1) (got {ci_level})")
    if n_boot < 10:
        problems.append(f"n_boot: must be >= 10 (got {n_boot})")
    if problems:
        raise UsageError("; ".join(problems))

    f = FORMS[form]
    p = _fit_once(f, s_arr, m_arr)
    resid = m_arr - f.fn(s_arr, *p)
    rss = float(np.sum(resid**2))
    tss = float(np.sum((m_arr - m_arr.mean()) ** 2))
    n = len(s_arr)
    aic = float(n * np.log(max(rss, 1e-300) / n) + 2 * len(p))

    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if len(np.unique(s_arr[idx])) < max(2, len(p)):
            continue  # a resample with a single scale cannot identify the slope
        try:
            boots.append(_fit_once(f, s_arr[idx], m_arr[idx]))
        except (RuntimeError, np.linalg.LinAlgError):
            continue
    boot = np.array(boots).reshape(-1, len(p))
    q = (1 - ci_level) / 2
    ci = {name: (float(np.quantile(boot[:, i], q)), float(np.quantile(boot[:, i], 1 - q)))
          for i, name in enumerate(f.params)}

    contains = joint = None
    if form == "log":
        contains = bool(all(ci[k][0] <= PAPER_RULE[k] <= ci[k][1] for k in ("a", "b")))
        cov = np.cov(boot.T)
        diff = np.array([PAPER_RULE["a"], PAPER_RULE["b"]]) - p
        try:
            d2 = float(diff @ np.linalg.solve(cov, diff))
            joint = bool(d2 <= stats.chi2.ppf(ci_level, 2))
        except np.linalg.LinAlgError:
            joint = None
    return FitReport(form, f.formula, {k: float(v) for k, v in zip(f.params, p)}, ci, ci_level, resid, rss,
                     1 - rss / tss if tss > 0 else float("nan"), aic, n, len(boot), contains, joint, boot)


def compare_forms(s: Sequence[float], m_opt: Sequence[float], forms: Sequence[str] | None = None,
                  **kwargs) -> list[FitReport]:
    """Fit every form (default: all of ``FORMS``) and return the reports sorted by AIC (best first)."""
    reports = [fit_temperature_rule(s, m_opt, form=f, **kwargs) for f in (forms or list(FORMS))]
    return sorted(reports, key=lambda r: r.aic)


def band_table(report: FitReport, s_min: float, s_max: float, n: int = 60) -> list[dict]:
    """A report's fitted curve and bootstrap band on a log grid of s, with the paper's rule beside it:
    rows {s, m_fit, m_lo, m_hi, m_paper}; the table :func:`yarnlab.theory.figures.plot_fit` draws."""
    sg = np.geomspace(max(s_min, 1.0), s_max, n)
    lo, hi = report.band(sg)
    fit = report.predict(sg)
    return [{"s": float(a), "m_fit": float(f), "m_lo": float(b), "m_hi": float(c),
             "m_paper": 0.1 * math.log(a) + 1.0} for a, f, b, c in zip(sg, fit, lo, hi)]
