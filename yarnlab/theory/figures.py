"""Theory figures. Each function takes result tables (lists of row dicts, as written by the analyses
and read back with :func:`yarnlab.io.read_table`), never recomputes an analysis, and
writes ``<stem>.png`` and ``<stem>.pdf``. Returns the two paths.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from yarnlab.errors import UsageError  # noqa: E402
from yarnlab.io import atomic_path  # noqa: E402

METHOD_LABELS = {"none": "RoPE (none)", "pi": "PI", "ntk": "NTK-aware", "yarn": "YaRN / NTK-by-parts",
                 "llama3": "Llama 3.1", "ntk-by-parts": "NTK-by-parts", "dynamic-ntk": "Dynamic NTK",
                 "dynamic-yarn": "Dynamic-YaRN", "longrope": "LongRoPE (searched factors)"}


def _save(fig, stem: str | Path) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for path, dpi in zip(paths, (130, "figure")):
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return paths


def _select(rows: list[dict], **where) -> list[dict]:
    out = [r for r in rows if all(r[k] == v for k, v in where.items())]
    if not out:
        raise UsageError(f"figure: no rows match {where}")
    return out


def _col(rows: list[dict], key: str) -> np.ndarray:
    return np.array([r[key] for r in rows], dtype=np.float64)


def plot_wavelengths(rows: list[dict], stem: str | Path) -> list[Path]:
    """Wavelength lambda_d per pair for each geometry (rows of ``wavelength_table``, method ``none``),
    with each geometry's original context L dashed."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    base = [r for r in rows if r["method"] == "none"]
    s0 = min(r["s"] for r in base)
    for i, g in enumerate(dict.fromkeys(r["geometry"] for r in base)):
        sub = _select(base, geometry=g, s=s0)
        color = f"C{i}"
        frac = _col(sub, "d") / len(sub)  # 2d/|D|, so geometries with different |D| share the axis
        ax.semilogy(frac, _col(sub, "wavelength"), color=color, ls=["-", "--", "-.", ":"][i % 4], lw=2 - 0.3 * i,
                    marker="os^v"[i % 4] if len(sub) < 32 else None, ms=4,
                    label=f"{g} (|D|={sub[0]['D']}, b={sub[0]['base']:g}); L={sub[0]['L']}")
        ax.axhline(sub[0]["L"], color=color, ls="--", lw=0.9)
        ax.annotate(f"L={sub[0]['L']}", (1.0, sub[0]["L"]), color=color, fontsize=7, ha="right", va="bottom")
    ax.set_xlabel("pair position 2d/|D| (0 = fastest pair, 1 = slowest)")
    ax.set_ylabel("wavelength lambda_d (tokens, log scale)")
    ax.set_title("RoPE wavelengths vs original context L (thin dashed lines);\n"
                 "pairs above their L never complete a turn within the context")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, stem)


def plot_interpolation_factor(rows: list[dict], stem: str | Path, geometry: str, s: float) -> list[Path]:
    """theta_d / theta'_d per pair for each method (rows of ``wavelength_table``), one geometry and s."""
    sub = _select(rows, geometry=geometry, s=s)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in dict.fromkeys(r["method"] for r in sub):
        m = _select(sub, method=method)
        ax.plot(_col(m, "d"), _col(m, "interp_factor"), marker=".", ms=3, label=METHOD_LABELS.get(method, method))
    ax.set_yscale("log", base=2)
    d = _col(_select(sub, method=sub[0]["method"]), "d")
    ax.set_xlim(d.min(), d.max())
    ax.set_xlabel("pair index d (fast -> slow)")
    ax.set_ylabel("interpolation factor theta_d / theta'_d (log2)")
    ax.set_title(f"Per-pair interpolation, {geometry} (L={sub[0]['L']}), s={s:g}: 1 = untouched, s = PI")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, stem)


def plot_ramp_comparison(rows: list[dict], stem: str | Path, geometry: str, s: float) -> list[Path]:
    """Paper ramp (linear in r) vs reference-code ramp (linear in index): gamma per pair (top) and the
    relative difference of the scaled frequency at scale s (bottom). Rows of ``ramp_comparison``."""
    sub = _select(rows, geometry=geometry, s=s)
    d = _col(sub, "d")
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    a1.plot(d, _col(sub, "gamma_paper"), marker=".", label="paper: gamma(r), linear in r (Eq. 18)")
    a1.plot(d, _col(sub, "gamma_index"), marker=".", label="reference code: linear in pair index")
    a1.plot(d, _col(sub, "gamma_diff"), color="k", lw=1, ls=":", label="difference (index - paper)")
    a1.set_ylabel("gamma (1 = untouched, 0 = PI)")
    a1.set_title(f"NTK-by-parts ramp, {geometry} (L={sub[0]['L']}, alpha={sub[0]['alpha']:g}, "
                 f"beta={sub[0]['beta']:g})")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    a2.plot(d, 100 * _col(sub, "theta_rel_diff"), marker=".", color="C3")
    a2.set_xlabel("pair index d")
    a2.set_ylabel("relative difference (%)")
    a2.set_title(f"scaled frequency at s={s:g}: (theta'_index - theta'_paper) / theta'_paper", fontsize=9)
    a2.grid(alpha=0.3)
    return _save(fig, stem)


def plot_similarity(rows: list[dict], stem: str | Path, geometry: str, s: float,
                    profile: str = "uniform") -> list[Path]:
    """sim(k) (top) and its running minimum (bottom) vs distance k per method. Rows of ``similarity_table``."""
    sub = _select(rows, geometry=geometry, s=s, profile=profile)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    for method in dict.fromkeys(r["method"] for r in sub):
        m = [r for r in sub if r["method"] == method and r["k"] > 0]
        k = _col(m, "k")
        label = METHOD_LABELS.get(method, method)
        a1.semilogx(k, _col(m, "sim"), lw=1, label=label)
        a2.semilogx(k, _col(m, "running_min"), lw=1.5, label=label)
    big_l = int(round(sub[0]["k"] / sub[0]["k_over_L"])) if sub[0]["k_over_L"] else None
    for ax in (a1, a2):
        if big_l is None:
            big_l = int(round(max(r["k"] for r in sub) / s))
        ax.axvline(big_l, color="gray", ls="--", lw=0.8)
        ax.axvline(s * big_l, color="gray", ls=":", lw=0.8)
        ax.grid(alpha=0.3, which="both")
    a1.set_ylabel("cosine similarity sim(k)")
    a1.set_title(f"Self-similarity after rotating by k, {geometry}, s={s:g} ({profile} energy); "
                 f"dashed L, dotted sL")
    a1.title.set_fontsize(9)
    a1.legend(fontsize=8)
    a2.set_ylabel("min over distances <= k")
    a2.set_xlabel("relative distance k (tokens, log scale)")
    return _save(fig, stem)


def plot_entropy(curve_rows: list[dict], invariant_rows: list[dict], rule_rows: list[dict], stem: str | Path,
                 s: float) -> list[Path]:
    """Left: Gaussian-model entropy vs m = sqrt(1/t) at n = L and n = sL, with each rule's m at s.
    Right: entropy-invariant m* vs s per sigma (Monte Carlo dots, asymptotic lines) with the rules.
    Rows of ``entropy_curve_table``, ``invariant_temperature_table``, ``temperature_rules_table``."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.8))
    base = _select(curve_rows, s=1.0)
    ext = _select(curve_rows, s=s)
    sigma = base[0]["sigma"]
    a1.plot(_col(base, "m"), _col(base, "entropy_mc"), color="k", label=f"n = L = {base[0]['n']}")
    a1.plot(_col(ext, "m"), _col(ext, "entropy_mc"), color="C0", label=f"n = sL = {ext[0]['n']}")
    a1.plot(_col(ext, "m"), _col(ext, "entropy_asymptotic"), color="C0", ls=":", lw=1,
            label="n = sL, large-n formula ln n - sigma^2 m^4 / 2")
    h_target = float(np.interp(1.0, _col(base, "m"), _col(base, "entropy_mc")))
    a1.axhline(h_target, color="gray", ls="--", lw=0.8, label="entropy at L with m = 1")
    seen: dict[float, str] = {}
    for i, rule in enumerate(dict.fromkeys(r["rule"] for r in rule_rows)):
        m_rule = _select(rule_rows, rule=rule, s=s)[0]["m"]
        same = next((name for mv, name in seen.items() if abs(mv - m_rule) < 1e-9), None)
        seen[m_rule] = rule
        a1.axvline(m_rule, color=f"C{i + 1}", ls="-.", lw=1,
                   label=f"rule {rule}: m = {m_rule:.3f}" + (f" (= {same})" if same else ""))
    a1.set_xlabel("m = sqrt(1/t) (logits scaled by m^2)")
    a1.set_ylabel("attention entropy (nats)")
    a1.set_title(f"Gaussian logits, sigma = {sigma:g}, s = {s:g}")
    a1.legend(fontsize=7)
    a1.grid(alpha=0.3)

    for i, sg in enumerate(dict.fromkeys(r["sigma"] for r in invariant_rows)):
        sub = _select(invariant_rows, sigma=sg)
        sx = _col(sub, "s")
        a2.plot(sx, _col(sub, "m_invariant_mc"), "o", color=f"C{i}", ms=4, label=f"entropy-invariant, sigma={sg:g}")
        a2.plot(sx, _col(sub, "m_invariant_asymptotic"), color=f"C{i}", lw=0.8, ls=":")
    styles = {"yarn": ("k", "-"), "log-n": ("C6", "--"), "longrope": ("C8", "-."), "none": ("gray", "-"),
              "llama4-attn": ("C4", ":"), "llama4-scaling": ("C5", (0, (5, 1, 1, 1)))}
    labels = {"yarn": "yarn rule 0.1 ln s + 1 (Eq. 22)",
              "llama4-attn": "Llama 4 NoPE layers: sqrt(1 + 0.1 ln(1 + floor(sL / L)))",
              "llama4-scaling": "Ministral 3: sqrt(1 + 0.1 ln(1 + floor((sL - 1) / L)))"}
    for rule in dict.fromkeys(r["rule"] for r in rule_rows):
        sub = _select(rule_rows, rule=rule)
        c, ls = styles.get(rule, ("C9", "-"))
        a2.plot(_col(sub, "s"), _col(sub, "m"), color=c, ls=ls, lw=1.5, label=labels.get(rule, f"rule {rule}"))
    a2.set_xscale("log", base=2)
    a2.set_xlabel("scale s = L'/L (log2)")
    a2.set_ylabel("m* = sqrt(1/t*)")
    a2.set_title("Temperature keeping entropy at sL equal to entropy at L (dotted: large-n formula)")
    a2.title.set_fontsize(9)
    a2.legend(fontsize=7)
    a2.grid(alpha=0.3, which="both")
    return _save(fig, stem)


def plot_fit(point_rows: list[dict], band_rows: list[dict], stem: str | Path, title: str = "") -> list[Path]:
    """Measured optima (s, m_opt) with the fitted rule and its bootstrap band, against 0.1 ln s + 1.

    ``point_rows``: {s, m_opt}; ``band_rows``: {s, m_fit, m_lo, m_hi, m_paper} on a grid (written by
    the fit step from a :class:`~yarnlab.theory.fit.FitReport`)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sg = _col(band_rows, "s")
    ax.fill_between(sg, _col(band_rows, "m_lo"), _col(band_rows, "m_hi"), color="C0", alpha=0.25,
                    label="95% bootstrap band")
    ax.plot(sg, _col(band_rows, "m_fit"), color="C0", label="fitted rule")
    ax.plot(sg, _col(band_rows, "m_paper"), color="k", ls="--", label="paper: 0.1 ln s + 1 (Eq. 22)")
    ax.plot(_col(point_rows, "s"), _col(point_rows, "m_opt"), "o", color="C3", ms=4, label="optima")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("scale s = L'/L (log2)")
    ax.set_ylabel("m = sqrt(1/t)")
    ax.set_title(title or "Temperature rule fit")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, stem)

