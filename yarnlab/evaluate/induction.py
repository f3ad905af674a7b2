"""Induction and in-context-learning diagnostics of a byte-level model.

**Induction gain** (Olsson et al. 2022, "In-context Learning and Induction Heads"; the repeated
random-token test). Sequence ``x = A + G + A`` with ``A`` a span of ``k`` uniformly random lowercase
letters and ``G`` a gap of other random letters, so the second copy of ``A`` starts ``d = k + |G|``
tokens after the first (the *distance*). With ``nll_q = -log p(x_q | x_<q)`` (nats),

    first   = mean_{q = 1 .. k-1}           nll_q          (A's first copy: nothing to copy from)
    second  = mean_{q = d+1 .. d+k-1}       nll_q          (A's second copy: copyable from the first)
    gain    = first - second                               (per sequence)

The first letter of each copy is left out (it cannot be predicted from the left context either
way). A model without an induction circuit scores both copies near ln 26 = 3.26 nats (gain ~ 0);
one that copies scores the second copy far lower (gain up to ~3.26). The interval is Student's t
over sequences (they are independent draws).

**In-context-learning score** (Olsson et al. 2022, Sec. 2; Kaplan et al. 2020): on held-out text,
the mean loss at late window positions minus that at early positions,

    icl = mean_{q in [3L/4, L)} nll_q - mean_{q in [L/16, L/8)} nll_q

per window, averaged over windows; negative means the model predicts later tokens better because it
uses the context before them (the paper's tokens 500 vs 50 of a 512-token context, scaled to L).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yarnlab.data.synthetic import LETTERS, copy_document
from yarnlab.errors import UsageError

LN26 = float(np.log(26.0))


@dataclass(frozen=True)
class InductionResult:
    """Per-sequence rows and per-distance summaries of :func:`induction_gain`."""

    rows: list[dict]      # distance, span, seq, nll_first, nll_second, gain
    summary: list[dict]   # distance, span, n, nll_first, nll_second, gain, gain_lo, gain_hi

    @property
    def mean_gain(self) -> float:
        """Mean gain over every distance and sequence."""
        return float(np.mean([r["gain"] for r in self.rows]))


def default_distances(length: int, span: int) -> list[int]:
    """Distances span, 2 span, 4 span, ... and the largest that fits, ``length - span``."""
    if length < 2 * span:
        raise UsageError(f"length: must be >= 2 * span = {2 * span} (got {length})")
    out, d = [], span
    while d < length - span:
        out.append(d)
        d *= 2
    return out + [length - span]


def induction_sequences(distances: Sequence[int], span: int, n_seqs: int, seed: int = 0,
                        vocab: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """``{distance: (n_seqs, distance + span) int64}``; sequence j at distance d drawn from
    ``(seed, d, j)``, so adding distances or sequences never changes existing ones. ``vocab``: the
    token ids drawn from (default: the byte ids of the lowercase letters; for a model with its own
    tokenizer, e.g. :func:`random_token_vocab`)."""
    if span < 2:
        raise UsageError(f"span: must be >= 2 (got {span})")
    if n_seqs < 2:
        raise UsageError(f"n_seqs: must be >= 2 for an interval (got {n_seqs})")
    out = {}
    for d in distances:
        if d < span:
            raise UsageError(f"distances: each must be >= span = {span} (got {d})")
        rows = [copy_document(np.random.default_rng([seed, int(d), j]), span, int(d) - span) for j in range(n_seqs)]
        x = np.stack(rows)
        if vocab is not None:  # the same draw, mapped from letters to the given ids
            vocab = np.asarray(vocab, dtype=np.int64)
            if len(vocab) < 26:
                raise UsageError(f"vocab: need >= 26 token ids (got {len(vocab)})")
            table = np.zeros(256, dtype=np.int64)
            table[LETTERS] = np.random.default_rng([seed, int(d), 29]).choice(vocab, size=26, replace=False)
            x = table[x]
        out[int(d)] = x
    return out


def random_token_vocab(vocab_size: int, low: int = 1000, high: int = 20000) -> np.ndarray:
    """Ordinary token ids of a BPE vocabulary to draw random sequences from: ``[low, min(high, V))``
    (skips the special and byte tokens at the start of most vocabularies)."""
    hi = min(high, vocab_size)
    if hi - low < 26:
        low = 0
    return np.arange(low, hi, dtype=np.int64)


def token_nll(model, ids, batch: int = 16) -> np.ndarray:
    """(N, T) float64 ``nll_q`` of every position q >= 1 (column 0 is NaN) for a (N, T) id array."""
    import torch
    import torch.nn.functional as F

    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    out = np.full(tuple(ids.shape), np.nan)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    with torch.no_grad():
        for lo in range(0, len(ids), batch):
            x = ids[lo: lo + batch]
            logits = model(input_ids=x).logits[:, :-1].double()
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="none")
            out[lo: lo + len(x), 1:] = nll.view(len(x), -1).numpy()
    if was_training:
        model.train()
    return out


def _t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import t

    n = len(values)
    se = float(np.std(values, ddof=1)) / np.sqrt(n)
    h = float(t.ppf(0.5 + level / 2, n - 1)) * se
    m = float(np.mean(values))
    return float(m - h), float(m + h)


def induction_gain(model, length: int, span: int = 32, n_seqs: int = 16, distances: Sequence[int] | None = None,
                   seed: int = 0, batch: int = 16, vocab: np.ndarray | None = None) -> InductionResult:
    """Induction gain of ``model`` at each distance (see the module docstring); every sequence is at
    most ``length`` tokens (distance + span <= length). ``vocab``: see :func:`induction_sequences`
    (26 of its ids, a different draw per distance, stand in for the letters)."""
    distances = list(distances) if distances is not None else default_distances(length, span)
    too_far = [d for d in distances if d + span > length]
    if too_far:
        raise UsageError(f"distances: distance + span must be <= length = {length} (got {too_far} with span {span})")
    rows, summary = [], []
    for d, ids in induction_sequences(distances, span, n_seqs, seed, vocab).items():
        nll = token_nll(model, ids, batch)
        first = nll[:, 1:span].mean(axis=1)
        second = nll[:, d + 1: d + span].mean(axis=1)
        gain = first - second
        rows += [{"distance": d, "span": span, "seq": j, "nll_first": float(first[j]),
                  "nll_second": float(second[j]), "gain": float(gain[j])} for j in range(len(ids))]
        lo, hi = _t_interval(gain)
        summary.append({"distance": d, "span": span, "n": len(ids), "nll_first": float(first.mean()),
                        "nll_second": float(second.mean()), "gain": float(gain.mean()), "gain_lo": lo,
                        "gain_hi": hi})
    return InductionResult(rows, summary)


def icl_bounds(length: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """((early_lo, early_hi), (late_lo, late_hi)) position ranges of the in-context-learning score."""
    if length < 16:
        raise UsageError(f"length: must be >= 16 for the in-context-learning score (got {length})")
    return (length // 16, length // 8), (3 * length // 4, length)


def icl_score(nll: np.ndarray) -> dict:
    """In-context-learning score of per-position NLL ``(N, L)`` windows (NaN: not scored):
    ``icl`` = late - early mean loss (negative: later tokens are predicted better), its t interval
    over windows, and both means."""
    nll = np.asarray(nll, dtype=np.float64)
    if nll.ndim != 2 or len(nll) < 2:
        raise UsageError(f"nll: need a (windows >= 2, positions) array (got shape {nll.shape})")
    (e0, e1), (l0, l1) = icl_bounds(nll.shape[1])
    with np.errstate(invalid="ignore"):  # NaN: targets left out (position 0, EOS)
        early, late = np.nanmean(nll[:, e0:e1], axis=1), np.nanmean(nll[:, l0:l1], axis=1)
    keep = np.isfinite(early) & np.isfinite(late)
    early, late = early[keep], late[keep]
    if len(early) < 2:
        raise UsageError("nll: fewer than 2 windows with scored targets in both position ranges")
    diff = late - early
    lo, hi = _t_interval(diff)
    return {"icl": float(diff.mean()), "icl_lo": lo, "icl_hi": hi, "nll_early": float(early.mean()),
            "nll_late": float(late.mean()), "n_windows": len(diff), "early": [e0, e1], "late": [l0, l1]}


def training_diagnostics(model, length: int, heldout_nll: np.ndarray | None = None, span: int = 32,
                         n_seqs: int = 16, seed: int = 0) -> dict:
    """The metrics pretraining logs at each evaluation: ``induction_gain`` (mean over distances and
    sequences), ``induction_gain_d<D>`` per distance, and, given the held-out per-position NLL, the
    in-context-learning score ``icl`` with its interval."""
    res = induction_gain(model, length, span=min(span, length // 2), n_seqs=n_seqs, seed=seed)
    out = {"induction_gain": res.mean_gain}
    out.update({f"induction_gain_d{r['distance']}": r["gain"] for r in res.summary})
    if heldout_nll is not None and len(heldout_nll) >= 2:
        icl = icl_score(heldout_nll)
        out.update({k: icl[k] for k in ("icl", "icl_lo", "icl_hi")})
    return out
