"""Tiny byte-level Llama models that share the real models' code path (``LlamaForCausalLM``, sdpa).

Vocabulary: the 256 byte values plus three specials, ``BOS = 256``, ``EOS = 257``, ``PAD = 258``
(``vocab_size = 259``); see :mod:`yarnlab.data.tokenizer`.

Geometry, and why (the ratio spectrum, paper Eq. 17)
---------------------------------------------------
YaRN's ramp acts on the ratio r(d) = L / lambda_d with lambda_d = 2*pi*b^(2d/|D|) (Eqs. 13, 17).
Which pairs are interpolated (r < alpha = 1, i.e. lambda_d > L), ramped, or left alone
(r > beta = 32) depends only on L, |D| and b. For Llama 2 (|D| = 128, b = 1e4, L = 4096) the pairs
with lambda_d > L are those with 2d/|D| > ln(L/2pi)/ln(b) = 0.704, i.e. d = 46..63: 18 of 64
pairs (28%).

A CPU-trainable model needs a short context: we keep the feasibility probe's L = 256 and heads of
|D| = 32 (16 pairs). With Llama's b = 1e4 that would put 9 of 16 pairs (56%) beyond L, so the base
is lowered instead: lambda_d > L iff 2d/|D| > ln(L/2pi)/ln(b), and b = 300 gives a threshold of
0.650, so pairs d = 11..15 (5 of 16, 31%) have lambda_d > L, as in Llama 2. (Any b in (220, 377]
gives the same 5 pairs; 300 sits in the middle on a log scale.)

What cannot match at L = 256: r(0) = L/(2*pi) = 40.7 whatever the base, so only pair 0 has
r > beta = 32 (6% of pairs, against 33% for Llama 2); the ramp alpha=1..beta=32 covers pairs
1..10 (62%, against 39%). :func:`ratio_spectrum` reports these fractions for any geometry.

Presets (parameters counted with untied input/output embeddings): ``micro`` ~0.33M, ``tiny``
(default, the feasibility probe's shape) ~0.86M, ``small`` ~4.9M, ``medium`` ~26M. Every preset
has the same L, |D| and b, so they share one ratio spectrum.
"""

from __future__ import annotations

import math
from typing import Any

from yarnlab.data.tokenizer import BOS_ID, EOS_ID, PAD_ID, VOCAB_SIZE  # noqa: F401 (re-exported)
from yarnlab.errors import UsageError

#: The trained context L, the head size |D| and the RoPE base b shared by every preset.
TRAIN_CTX = 256
HEAD_DIM = 32
ROPE_BASE = 300.0

DEFAULT_PRESET = "tiny"

# Each preset: the Llama shape plus the learning rates used by ``yarnlab train`` for it.
# pretrain_lr: peak of the warmup + cosine schedule; finetune_lr: constant after the paper's
# 20-step warmup (the paper's 2e-5 is for 7B; small models take larger steps).
PRESETS: dict[str, dict[str, Any]] = {
    "micro": dict(hidden_size=64, num_hidden_layers=6, num_attention_heads=2, intermediate_size=172,
                  pretrain_lr=3e-3, finetune_lr=3e-4),
    "tiny": dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=344,
                 pretrain_lr=2e-3, finetune_lr=2e-4),
    "small": dict(hidden_size=256, num_hidden_layers=6, num_attention_heads=8, intermediate_size=688,
                  pretrain_lr=1e-3, finetune_lr=1e-4),
    "medium": dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=16, intermediate_size=1376,
                   pretrain_lr=6e-4, finetune_lr=6e-5),
}

# keys a config dict may carry (anything else raises)
_SHAPE_KEYS = {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
               "head_dim", "rope_theta", "max_position_embeddings", "num_key_value_heads",
               "rms_norm_eps", "initializer_range", "tie_word_embeddings"}
_LR_KEYS = {"pretrain_lr", "finetune_lr"}


def preset_dict(name: str) -> dict[str, Any]:
    """The full config dict of a named preset (a copy; L, |D| and b filled in)."""
    if name not in PRESETS:
        raise UsageError(f"preset: must be one of {sorted(PRESETS)} (got {name!r})")
    d = dict(head_dim=HEAD_DIM, rope_theta=ROPE_BASE, max_position_embeddings=TRAIN_CTX)
    d.update(PRESETS[name])
    return d


def validate_config_dict(d: dict[str, Any]) -> None:
    """Raise one :class:`UsageError` listing every problem of a tiny-model config dict."""
    problems = []
    unknown = sorted(set(d) - _SHAPE_KEYS - _LR_KEYS - {"preset"})
    if unknown:
        problems.append(f"unknown key(s) {unknown}; allowed: {sorted(_SHAPE_KEYS | _LR_KEYS)}")
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                "head_dim", "max_position_embeddings"):
        if key in d and (not isinstance(d[key], int) or isinstance(d[key], bool) or d[key] < 1):
            problems.append(f"{key}: must be an integer >= 1 (got {d[key]!r})")
    if isinstance(d.get("head_dim"), int) and d["head_dim"] % 2:
        problems.append(f"head_dim: must be even (got {d['head_dim']})")
    if "rope_theta" in d and not (isinstance(d["rope_theta"], int | float) and d["rope_theta"] > 1):
        problems.append(f"rope_theta: must be a number > 1 (got {d['rope_theta']!r})")
    for key in _LR_KEYS:
        if key in d and not (isinstance(d[key], int | float) and 0 < d[key] < 1):
            problems.append(f"{key}: must be in (0, 1) (got {d[key]!r})")
    h, n = d.get("num_attention_heads"), d.get("num_key_value_heads")
    if isinstance(h, int) and isinstance(n, int) and (n < 1 or h % n):
        problems.append(f"num_key_value_heads: must divide num_attention_heads={h} (got {n})")
    if problems:
        raise UsageError("invalid tiny-model config:\n" + "\n".join(f"  - {p}" for p in problems))


def tiny_config(spec: str | dict[str, Any] = DEFAULT_PRESET):
    """A ``LlamaConfig`` for a byte-level tiny model from a preset name or a config dict.

    A dict may name a ``preset`` to start from and override any shape key; unknown keys raise.
    The config records ``yarnlab_preset`` and the preset's learning rates (``yarnlab_pretrain_lr``,
    ``yarnlab_finetune_lr``) so that they travel with every checkpoint.
    """
    from transformers import LlamaConfig

    if isinstance(spec, str):
        d = preset_dict(spec)
        name = spec
    else:
        validate_config_dict(spec)
        name = spec.get("preset", "custom")
        d = preset_dict(spec["preset"]) if "preset" in spec else preset_dict(DEFAULT_PRESET)
        d.update({k: v for k, v in spec.items() if k != "preset"})
    validate_config_dict(d)
    heads = d["num_attention_heads"]
    cfg = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=d["hidden_size"],
        intermediate_size=d["intermediate_size"],
        num_hidden_layers=d["num_hidden_layers"],
        num_attention_heads=heads,
        num_key_value_heads=d.get("num_key_value_heads", heads),
        head_dim=d["head_dim"],
        max_position_embeddings=d["max_position_embeddings"],
        rope_parameters={"rope_type": "default", "rope_theta": float(d["rope_theta"])},
        rms_norm_eps=d.get("rms_norm_eps", 1e-6),
        initializer_range=d.get("initializer_range", 0.02),
        tie_word_embeddings=d.get("tie_word_embeddings", False),
        bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID,
        attention_dropout=0.0,
    )
    cfg.yarnlab_preset = name
    cfg.yarnlab_pretrain_lr = d.get("pretrain_lr", PRESETS[DEFAULT_PRESET]["pretrain_lr"])
    cfg.yarnlab_finetune_lr = d.get("finetune_lr", PRESETS[DEFAULT_PRESET]["finetune_lr"])
    return cfg


def build_model(spec: Any = DEFAULT_PRESET, seed: int = 0):
    """A freshly initialised ``LlamaForCausalLM`` (sdpa attention) from a preset, dict or config.

    Initialisation is seeded with ``seed`` through a local generator fork, so the global RNG is
    left as it was.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = spec if isinstance(spec, LlamaConfig) else tiny_config(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM._from_config(cfg, attn_implementation="sdpa")
    return model


def load_model(path: str):
    """Load a checkpoint saved by ``save_pretrained`` (sdpa attention, float32)."""
    from transformers import LlamaForCausalLM

    return LlamaForCausalLM.from_pretrained(path, attn_implementation="sdpa")


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def ratio_spectrum(train_ctx: int = TRAIN_CTX, head_dim: int = HEAD_DIM, base: float = ROPE_BASE,
                   alpha: float = 1.0, beta: float = 32.0) -> dict[str, Any]:
    """r(d) = L / lambda_d, lambda_d = 2*pi*b^(2d/|D|) (Eqs. 13, 17), and how the pairs fall.

    Returns ``ratios`` (list, pair d = 0..|D|/2-1) and the fractions of pairs with r < alpha
    (lambda_d > L: interpolated), alpha <= r <= beta (ramped) and r > beta (left alone).
    """
    n = head_dim // 2
    ratios = [train_ctx / (2 * math.pi * base ** (2 * d / head_dim)) for d in range(n)]
    below = sum(r < alpha for r in ratios)
    above = sum(r > beta for r in ratios)
    return {"train_ctx": train_ctx, "head_dim": head_dim, "base": base, "ratios": ratios,
            "frac_lambda_gt_L": below / n, "frac_ramp": (n - below - above) / n, "frac_r_gt_beta": above / n}
