"""Temperature sweep (YaRN Appendix A.2, Figs. 2-4): perplexity at length sL over a grid of m.

YaRN scales attention logits by 1/t (Eq. 21) through the attention factor m = sqrt(1/t) on cos
and sin (Eq. 22 gives the fitted rule m = 0.1 ln s + 1). For one frequency method and scale s the
sweep installs ``spec.replace(temperature="fixed", temperature_params={"m": m})`` for each m of
the grid, truncates every document to ``length`` tokens (= sL) and scores it in one window
(the paper's setting: 16k-token RedPajama samples at s = 8 with L = 2048), keeping

- ``doc_nll[k, i]``: mean NLL of document i at m_k (Fig. 2: mean and 1-std band of per-sample
  perplexity exp(doc_nll));
- ``seg_nll[k, i, g]``: mean NLL of document i in position segment g = [g*seg, (g+1)*seg), with
  seg = L by default (Fig. 3: percentage change of segment perplexity against t = 1, Eq. 26;
  Fig. 4: per segment, how many samples have their minimum at each m).

:func:`sweep_argmin` gives the perplexity-minimising m with a bootstrap over samples, for the
theory layer's fit of m against ln s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from yarnlab.errors import UsageError


@dataclass
class SweepResult:
    """Arrays of a sweep; shapes (M,), (M, D), (M, D, G), (G,)."""

    ms: np.ndarray
    doc_nll: np.ndarray
    seg_nll: np.ndarray
    seg_tokens: np.ndarray
    length: int
    segment: int

    @classmethod
    def from_rows(cls, rows: Sequence[dict], length: int = 0, segment: int = 0) -> SweepResult:
        """The inverse of :meth:`rows` (documents in sorted order of their ``doc`` value); every
        (m, doc, segment) cell must be present once."""
        ms = sorted({float(r["m"]) for r in rows})
        docs = sorted({r["doc"] for r in rows}, key=str)
        segs = sorted({int(r["segment"]) for r in rows if int(r["segment"]) >= 0})
        if not ms or not docs or not segs:
            raise UsageError("rows: need m, doc, segment (>= 0 and -1), nll, tokens rows of a sweep")
        grid = np.full((len(ms), len(docs), len(segs) + 1), np.nan)
        tokens = np.zeros(len(segs), dtype=np.int64)
        mi, di = {m: i for i, m in enumerate(ms)}, {d: i for i, d in enumerate(docs)}
        for r in rows:
            g = int(r["segment"])
            grid[mi[float(r["m"])], di[r["doc"]], g + 1] = float(r["nll"])
            if g >= 0:
                tokens[g] = int(r["tokens"])
        if np.isnan(grid).any():
            raise UsageError(f"rows: {int(np.isnan(grid).sum())} (m, doc, segment) cells are missing")
        return cls(np.asarray(ms), grid[:, :, 0], grid[:, :, 1:], tokens, length, segment)

    def rows(self) -> list[dict]:
        """Tidy rows ``m, doc, segment, nll, tokens``; segment -1 is the whole document."""
        out = []
        for k, m in enumerate(self.ms):
            for i in range(self.doc_nll.shape[1]):
                out.append({"m": float(m), "doc": i, "segment": -1, "nll": float(self.doc_nll[k, i]),
                            "tokens": int(self.seg_tokens.sum())})
                for g in range(self.seg_nll.shape[2]):
                    out.append({"m": float(m), "doc": i, "segment": g, "nll": float(self.seg_nll[k, i, g]),
                                "tokens": int(self.seg_tokens[g])})
        return out


def temperature_sweep(
    model,
    docs: Sequence,
    spec,
    ms: Sequence[float],
    length: int,
    segment: int | None = None,
    apply: Callable | None = None,
    batch_tokens: int = 4096,
    progress: bool = False,
) -> SweepResult:
    """Run the sweep (module docstring). ``apply(model, spec)`` installs a spec (default
    :func:`yarnlab.model.apply_scaling`); the model is left with ``spec`` itself installed."""
    from yarnlab.evaluate.perplexity import progress_bar, select_documents, sliding_window_nll

    if apply is None:
        from yarnlab.model import apply_scaling as apply
    ms = np.asarray(sorted(float(m) for m in ms))
    if len(ms) < 2 or ms.min() <= 0:
        raise UsageError(f"ms: need at least two attention factors > 0 (got {ms.tolist()})")
    segment = int(segment or spec.original_ctx)
    docs = [d[:length] for d in select_documents(docs, length)]
    doc_nll, seg_nll, seg_tokens = [], [], None
    bar = progress_bar(len(ms), progress, "m")
    for m in ms:
        apply(model, spec.replace(temperature="fixed", temperature_params={"m": float(m)}))
        res = sliding_window_nll(model, docs, window=length, stride=length, batch_tokens=batch_tokens)
        nll, counts = res.segment_nll(segment, length)
        doc_nll.append(res.doc_nll())
        seg_nll.append(nll)
        seg_tokens = counts[0]
        bar.update(1)
    bar.close()
    apply(model, spec)
    return SweepResult(ms, np.array(doc_nll), np.array(seg_nll), seg_tokens, length, segment)


def fig2_table(result: SweepResult) -> list[dict]:
    """Per m: mean and standard deviation over samples of per-sample perplexity (Fig. 2)."""
    ppl = np.exp(result.doc_nll)
    return [{"m": float(m), "ppl_mean": float(ppl[k].mean()), "ppl_std": float(ppl[k].std(ddof=1)
             if ppl.shape[1] > 1 else 0.0), "ppl_pooled": float(np.exp(result.doc_nll[k].mean()))}
            for k, m in enumerate(result.ms)]


def _reference_index(ms: np.ndarray) -> int:
    hits = np.flatnonzero(np.isclose(ms, 1.0, atol=1e-9))
    if not len(hits):
        raise UsageError(f"ms: the grid must contain m = 1 (t = 1) for the percentage change (got {ms.tolist()})")
    return int(hits[0])


def fig3_table(result: SweepResult) -> list[dict]:
    """Per segment g and m: 100 * (PPL_g(m) - PPL_g(1)) / PPL_g(1) (Fig. 3, Eq. 26), with
    PPL_g(m) = exp(mean over samples of seg_nll) (every sample has the same tokens in g)."""
    ref = _reference_index(result.ms)
    seg_ppl = np.exp(result.seg_nll.mean(axis=1))  # (M, G)
    return [{"segment": g, "m": float(m), "pct_change": float(100 * (seg_ppl[k, g] / seg_ppl[ref, g] - 1))}
            for g in range(seg_ppl.shape[1]) for k, m in enumerate(result.ms)]


def fig4_table(result: SweepResult) -> list[dict]:
    """Per segment g and m: how many samples have their lowest segment NLL at m (Fig. 4)."""
    best = np.argmin(result.seg_nll, axis=0)  # (D, G)
    return [{"segment": g, "m": float(m), "count": int((best[:, g] == k).sum())}
            for g in range(best.shape[1]) for k, m in enumerate(result.ms)]


def refine_argmin(ms: np.ndarray, curve: np.ndarray) -> float:
    """Grid argmin refined by the vertex of the parabola through it and its two neighbours
    (kept inside the neighbours; the grid point itself at the edges)."""
    k = int(np.argmin(curve))
    if k == 0 or k == len(ms) - 1:
        return float(ms[k])
    x, y = ms[k - 1 : k + 2], curve[k - 1 : k + 2]
    a, b, _ = np.polyfit(x, y, 2)
    if a <= 0:
        return float(ms[k])
    return float(np.clip(-b / (2 * a), x[0], x[2]))


@dataclass
class ArgminResult:
    """Perplexity-minimising m of the pooled curve, and its bootstrap distribution over samples."""

    m_grid: float
    m_refined: float
    boot_mean: float
    boot_std: float
    ci_low: float
    ci_high: float
    n_samples: int
    n_boot: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def sweep_argmin(ms: Sequence[float], nll: np.ndarray, n_boot: int = 1000, seed: int = 0,
                 ci: float = 0.95) -> ArgminResult:
    """argmin over m of the pooled NLL curve mean_i nll[k, i] (same argmin as pooled perplexity).

    ``nll`` is (M, D) per-sample mean NLL. The bootstrap draws D samples with replacement
    ``n_boot`` times and refines each resampled curve's argmin; the result reports the bootstrap
    mean, standard deviation and the central ``ci`` percentile interval.
    """
    ms = np.asarray(ms, dtype=float)
    nll = np.asarray(nll, dtype=float)
    if nll.ndim != 2 or nll.shape[0] != len(ms):
        raise UsageError(f"nll: must have shape (len(ms)={len(ms)}, n_samples) (got {nll.shape})")
    if not np.all(np.diff(ms) > 0):
        raise UsageError("ms: must be strictly increasing")
    rng = np.random.default_rng(seed)
    d = nll.shape[1]
    boots = np.array([refine_argmin(ms, nll[:, rng.integers(0, d, d)].mean(axis=1)) for _ in range(n_boot)])
    lo, hi = np.quantile(boots, [(1 - ci) / 2, (1 + ci) / 2])
    pooled = nll.mean(axis=1)
    return ArgminResult(float(ms[np.argmin(pooled)]), refine_argmin(ms, pooled), float(boots.mean()),
                        float(boots.std(ddof=1)) if n_boot > 1 else 0.0, float(lo), float(hi), d, n_boot)


def m_grid(start: float, stop: float, step: float) -> np.ndarray:
    """Inclusive grid start, start + step, ..., stop (rounded to 1e-9), always containing 1.0 when
    start <= 1 <= stop."""
    if not (step > 0 and 0 < start <= stop):
        raise UsageError(f"m grid: need 0 < start <= stop and step > 0 (got {start}, {stop}, {step})")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    grid = np.round(start + step * np.arange(n), 9)
    if start <= 1.0 <= stop and not np.isclose(grid, 1.0).any():
        grid = np.sort(np.append(grid, 1.0))
    return grid
