"""Passkey-retrieval scoring (YaRN Section 4.3, Table 5). Prompts: :mod:`yarnlab.data.passkey`.

Each trial is scored two ways:

- ``exact``: greedy decoding of ``len(answer_ids)`` tokens after the prompt equals the answer
  `` <KEY>`` token for token (the paper's criterion);
- ``ranked``: the true key has the highest log-likelihood
  ``log p(answer(c) | prompt) = sum_j log p(a_j(c) | prompt, a_<j(c))`` among C candidates
  (the key and C - 1 distinct random keys of the same length). This still separates models
  that are too weak to emit every digit (tiny CPU models); chance level is 1/C.

The prompt is run once; with a KV cache the decoding continues from it, is cropped back, and the
candidates are scored as one batch on a cache repeated C times. Models that return no cache are
re-run on the full sequences (same numbers, more work).

Table form (Table 5): the longest length whose accuracy is >= 80%, and the mean accuracy over
all evaluated lengths up to and including it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from yarnlab.errors import UsageError

METRICS = ("exact", "ranked")


def candidate_keys(key: str, n_candidates: int, rng: np.random.Generator) -> list[str]:
    """The key first, then ``n_candidates - 1`` distinct other keys with the same digit count."""
    from yarnlab.data.passkey import random_key

    digits = len(key)
    if n_candidates < 2 or n_candidates > 9 * 10 ** (digits - 1):
        raise UsageError(f"n_candidates: must be in [2, {9 * 10 ** (digits - 1)}] (got {n_candidates})")
    out = [key]
    while len(out) < n_candidates:
        c = random_key(rng, digits)
        if c not in out:
            out.append(c)
    return out


def _forward(model, ids, cache=None):
    out = model(input_ids=ids, cache=cache, use_cache=cache is not None)
    return out.logits, getattr(out, "cache", None)


def _score_trial(model, prompt_ids, answer_ids, cand_ids: list[np.ndarray], use_cache: bool):
    """(greedy ids, per-candidate log-likelihoods) for one prompt."""
    import torch

    device = next(model.parameters()).device
    ids = torch.as_tensor(prompt_ids, dtype=torch.long, device=device)[None]
    n_prompt, n_answer = ids.shape[1], len(answer_ids)
    if use_cache:
        from transformers.cache_utils import DynamicCache

        cache = DynamicCache(config=model.config) if hasattr(model, "config") else None
        logits, cache = _forward(model, ids, cache)
    else:
        logits, cache = _forward(model, ids)
    last = torch.log_softmax(logits[0, -1].double(), -1)
    # greedy decoding
    greedy, seq, step_logits = [], ids, logits
    for j in range(n_answer):
        tok = int(step_logits[0, -1].argmax())
        greedy.append(tok)
        if j == n_answer - 1:
            break
        nxt = torch.tensor([[tok]], device=device)
        if cache is not None:
            step_logits, cache = _forward(model, nxt, cache)
        else:
            seq = torch.cat([seq, nxt], dim=1)
            step_logits, _ = _forward(model, seq)
    # candidates, right-padded (padding sits after every scored token of a causal model)
    width = max(len(c) for c in cand_ids)
    batch = torch.zeros((len(cand_ids), width), dtype=torch.long, device=device)
    for i, c in enumerate(cand_ids):
        batch[i, : len(c)] = torch.as_tensor(c)
    if cache is not None:
        if n_answer > 1:
            cache.crop(-(n_answer - 1))  # back to the prompt
        cache.batch_repeat_interleave(len(cand_ids))
        cand_logits, _ = _forward(model, batch, cache)
    else:
        full = torch.cat([ids.expand(len(cand_ids), -1), batch], dim=1)
        cand_logits, _ = _forward(model, full)
        cand_logits = cand_logits[:, n_prompt:]
    logp = torch.log_softmax(cand_logits.double(), -1)
    scores = []
    for i, c in enumerate(cand_ids):
        total = float(last[int(c[0])])
        for j in range(1, len(c)):
            total += float(logp[i, j - 1, int(c[j])])
        scores.append(total)
    return greedy, scores


def score_passkey(model, trials: Sequence, n_candidates: int = 10, seed: int = 0,
                  encode: Callable[[str], list[int]] | None = None, use_cache: bool = True,
                  progress: bool = False) -> list[dict]:
    """Score ``(length, trial, PasskeyPrompt)`` triples (see :func:`yarnlab.data.passkey.passkey_trials`).

    ``encode`` must be the tokenizer the prompts were built with (default: bytes). Returns one row
    per trial: length, trial, depth, key, n_tokens, exact, ranked, rank (1 = best), key_logprob,
    best_other_logprob, greedy (token ids joined by spaces).
    """
    import torch

    from yarnlab.data.passkey import byte_encode
    from yarnlab.evaluate.perplexity import progress_bar

    encode = encode or byte_encode
    rows = []
    bar = progress_bar(len(trials), progress, "trial")
    with torch.inference_mode():
        for length, trial, p in trials:
            rng = np.random.default_rng([seed, int(length), int(trial), 1])
            cands = candidate_keys(p.key, n_candidates, rng)
            cand_ids = [np.asarray(encode(" " + c)) for c in cands]
            if not np.array_equal(cand_ids[0], p.answer_ids):
                raise UsageError("encode: differs from the tokenizer the prompts were built with")
            greedy, scores = _score_trial(model, p.ids, p.answer_ids, cand_ids, use_cache)
            rank = 1 + sum(s >= scores[0] for s in scores[1:])  # a tie counts against the key
            rows.append({
                "length": int(length), "trial": int(trial), "depth": p.depth, "key": p.key,
                "n_tokens": len(p.ids), "exact": bool(greedy == [int(t) for t in p.answer_ids]),
                "ranked": rank == 1, "rank": rank, "key_logprob": scores[0],
                "best_other_logprob": max(scores[1:]), "greedy": " ".join(map(str, greedy)),
            })
            bar.update(1)
    bar.close()
    return rows


def accuracy_by_length(rows: Sequence[dict], metric: str = "exact") -> dict[int, float]:
    """Fraction of trials correct per length."""
    if metric not in METRICS:
        raise UsageError(f"metric: must be one of {METRICS} (got {metric!r})")
    acc = defaultdict(list)
    for r in rows:
        acc[r["length"]].append(bool(r[metric]))
    return {n: float(np.mean(v)) for n, v in sorted(acc.items())}


def accuracy_by_depth(rows: Sequence[dict], metric: str = "exact", bins: int = 5) -> list[dict]:
    """Accuracy per length and depth bin [k/bins, (k+1)/bins) (the last bin includes 1)."""
    if metric not in METRICS:
        raise UsageError(f"metric: must be one of {METRICS} (got {metric!r})")
    groups = defaultdict(list)
    for r in rows:
        groups[(r["length"], min(int(r["depth"] * bins), bins - 1))].append(bool(r[metric]))
    return [{"length": n, "depth_lo": k / bins, "depth_hi": (k + 1) / bins, "trials": len(v),
             "accuracy": float(np.mean(v))} for (n, k), v in sorted(groups.items())]


def paper_table(rows: Sequence[dict], metric: str = "exact", threshold: float = 0.8) -> dict:
    """Table 5 form: ``max_length`` (longest length with accuracy >= threshold, None if none) and
    ``mean_accuracy`` over every evaluated length <= max_length."""
    acc = accuracy_by_length(rows, metric)
    passing = [n for n, a in acc.items() if a >= threshold]
    if not passing:
        return {"metric": metric, "threshold": threshold, "max_length": None, "mean_accuracy": None}
    best = max(passing)
    return {"metric": metric, "threshold": threshold, "max_length": best,
            "mean_accuracy": float(np.mean([a for n, a in acc.items() if n <= best]))}
