"""Passkey retrieval (paper Section 4.3, Table 5) with prompts from :mod:`yarnlab.data.passkey`.

Two scores per trial, both from one teacher-forced forward pass per candidate:
- ``exact``: greedy decoding reproduces the key (every answer token is the argmax given the
  prompt and the previous answer tokens, which is what greedy decoding checks token by token);
- ``ranked``: the true key has the highest log-likelihood among it and ``--candidates - 1``
  random keys of the same length (chance level 1 / candidates; robust for tiny models).

Rows: ``label, length, trial, depth, exact, ranked, logp_true, logp_best_other``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from common import ints, load, write


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--method", default=None, help="extend the checkpoint without fine-tuning")
    p.add_argument("--factor", type=float, default=1.0)
    p.add_argument("--params", default="{}")
    p.add_argument("--lengths", required=True)
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--candidates", type=int, default=5)
    p.add_argument("--digits", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    import torch

    from yarnlab.data.passkey import passkey_trials, random_key

    model, _ = load(a.model, a.method, a.factor, json.loads(a.params), threads=a.threads)
    device = next(model.parameters()).device
    encode = None  # the byte tokenizer of the tiny models
    if Path(a.model, "tokenizer_config.json").is_file():  # a real model (GGUF / Hub base): its own tokenizer
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(a.model)

        def encode(text: str) -> list[int]:
            return tok(text, add_special_tokens=False)["input_ids"]
    rows = []
    for n, j, pr in passkey_trials(ints(a.lengths), a.trials, a.seed, a.digits, encode=encode):
        rng = np.random.default_rng([a.seed, n, j, 1])
        keys = [pr.key]
        while len(keys) < a.candidates:
            k = random_key(rng, a.digits)
            if k not in keys:
                keys.append(k)
        answers = [np.array(encode(" " + k) if encode else [ord(" ")] + [ord(c) for c in k]) for k in keys]
        if len({len(x) for x in answers}) != 1:
            raise SystemExit(f"passkey: the tokenizer splits {a.digits}-digit keys into different numbers of tokens")
        ids = torch.as_tensor(np.stack([np.concatenate([pr.ids, ans]) for ans in answers]), device=device)
        n_ans = len(answers[0])
        with torch.inference_mode():
            logits = model(input_ids=ids, use_cache=False, logits_to_keep=n_ans + 1).logits[:, :-1].float()
        logp = torch.log_softmax(logits, -1)
        tgt = ids[:, -n_ans:]
        tok_lp = logp.gather(-1, tgt[..., None])[..., 0].sum(-1).cpu().numpy()
        exact = bool((logits[0].argmax(-1) == tgt[0]).all())
        rows.append({"label": a.label, "length": n, "trial": j, "depth": pr.depth, "exact": int(exact),
                     "ranked": int(tok_lp[0] > tok_lp[1:].max()), "logp_true": float(tok_lp[0]),
                     "logp_best_other": float(tok_lp[1:].max())})
    write(a.out, rows, vars(a))


if __name__ == "__main__":
    main()
