"""Edge configs: yarnlab accepts what transformers 5 computes and refuses what it refuses.

Each generated config (equal ramp bounds, reversed bounds, factor 1 and below, missing optional
and required keys) is given to transformers' own ``LlamaConfig`` (its ``validate_rope``) and
``ROPE_INIT_FUNCTIONS``, and to yarnlab's reader. transformers' verdict is one of:

- ``refused``: the config class or the rotary function raises, or the frequencies are not finite;
- ``flagged``: it computes, but its validator logs that a value "must be" otherwise;
- ``clean``: it computes without such a complaint ("Unrecognized keys" is not one).

yarnlab refuses the refused ones; accepts the clean ones with the same frequencies and attention
factor; and for the flagged ones either refuses or accepts with a warning of its own, except the
empty ramp band (``low_freq_factor == high_freq_factor``): transformers' llama3 validator flags it
but computes a well-defined step that Llama 4 Scout ships, and yarnlab accepts it silently with
the same frequencies.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from yarnlab.errors import UsageError
from yarnlab.rope import base_inv_freq, read_hf_config

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
from transformers import LlamaConfig  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402

L, HEAD, BASE = 4096, 128, 500000.0


def yarn(**kw):
    return {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": L, **kw}


def llama3(**kw):
    return {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": L, **kw}


def drop(rope: dict, key: str) -> dict:
    return {k: v for k, v in rope.items() if k != key}


# (id, rope dict, max_position_embeddings); rope_theta is added to each
EDGES = [
    *[(f"yarn-equal-betas-{b:g}", yarn(beta_fast=b, beta_slow=b), 8 * L) for b in (0.5, 1.0, 4.0, 32.0, 64.0)],
    ("yarn-reversed-betas", yarn(beta_fast=1.0, beta_slow=32.0), 8 * L),
    ("yarn-factor-1", yarn(factor=1.0), L),
    ("yarn-factor-below-1", yarn(factor=0.5), L),
    ("yarn-no-betas", yarn(), 8 * L),
    ("yarn-zero-beta-fast-means-default", yarn(beta_fast=0, beta_slow=1.0), 8 * L),
    ("yarn-no-original", drop(yarn(), "original_max_position_embeddings"), 8 * L),
    ("yarn-no-factor", drop(yarn(), "factor"), 8 * L),
    ("yarn-mscale-only", yarn(mscale=0.707), 8 * L),
    *[(f"llama3-equal-{x:g}", llama3(low_freq_factor=x, high_freq_factor=x, factor=16.0), 16 * L)
      for x in (0.5, 1.0, 2.0, 4.0)],
    ("llama3-reversed", llama3(low_freq_factor=4.0, high_freq_factor=1.0), 8 * L),
    ("llama3-factor-1", llama3(factor=1.0), 2 * L),
    ("llama3-no-original", drop(llama3(), "original_max_position_embeddings"), 8 * L),
    ("llama3-no-low", drop(llama3(), "low_freq_factor"), 8 * L),
    ("linear-factor-1", {"rope_type": "linear", "factor": 1.0}, L),
    ("linear-factor-below-1", {"rope_type": "linear", "factor": 0.5}, L),
    ("linear-no-factor", {"rope_type": "linear"}, L),
    ("dynamic-factor-1", {"rope_type": "dynamic", "factor": 1.0}, L),
    ("default-no-keys", {"rope_type": "default"}, L),
]
EMPTY_BAND = {e[0] for e in EDGES if e[0].startswith("llama3-equal")}


class _Flags(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def transformers_verdict(rope: dict, max_pos: int):
    """("refused" | "flagged" | "clean", inv_freq, attention factor) from transformers' own code."""
    flags = _Flags()
    log = logging.getLogger("transformers.modeling_rope_utils")
    log.addHandler(flags)
    try:
        cfg = LlamaConfig(hidden_size=2 * HEAD, num_attention_heads=2, head_dim=HEAD, num_hidden_layers=1,
                          max_position_embeddings=max_pos, rope_parameters={**rope, "rope_theta": BASE})
        kind = cfg.rope_parameters["rope_type"]
        if kind == "default":
            inv, m = 1.0 / BASE ** (torch.arange(0, HEAD, 2, dtype=torch.float) / HEAD), 1.0
        else:
            inv, m = ROPE_INIT_FUNCTIONS[kind](cfg, "cpu", seq_len=2 * max_pos if kind == "dynamic" else None)
    except Exception:  # noqa: BLE001 - any refusal of transformers counts
        return "refused", None, None
    finally:
        log.removeHandler(flags)
    inv = inv.double().numpy()
    if not np.all(np.isfinite(inv)) or not np.isfinite(m):
        return "refused", None, None
    flagged = any("must be" in msg or "must have" in msg for msg in flags.messages)
    return ("flagged" if flagged else "clean"), inv, float(m)


def yarnlab_reading(rope: dict, max_pos: int):
    config = {"model_type": "llama", "hidden_size": 2 * HEAD, "num_attention_heads": 2, "head_dim": HEAD,
              "max_position_embeddings": max_pos, "rope_theta": BASE, "rope_parameters": dict(rope)}
    try:
        return read_hf_config(config)
    except UsageError as exc:
        return exc, None


@pytest.mark.parametrize("name,rope,max_pos", EDGES, ids=[e[0] for e in EDGES])
def test_yarnlab_decides_like_transformers(name, rope, max_pos):
    verdict, ref_inv, ref_m = transformers_verdict(rope, max_pos)
    spec, warnings = yarnlab_reading(rope, max_pos)
    if verdict == "refused":
        assert isinstance(spec, UsageError), (name, "transformers refuses; yarnlab accepted")
        return
    if verdict == "flagged" and name not in EMPTY_BAND:
        assert isinstance(spec, UsageError) or warnings, (name, "transformers flags it; yarnlab is silent")
        if isinstance(spec, UsageError):
            return
    assert not isinstance(spec, UsageError), (name, verdict, str(spec))
    dynamic = rope["rope_type"] == "dynamic"
    res = spec.compute(2 * max_pos if dynamic else None)
    theta = base_inv_freq(spec.dim, spec.base)
    np.testing.assert_array_less(np.abs(res.inv_freq - ref_inv), 1e-5 * theta + 1e-300)
    assert res.attention_factor == pytest.approx(ref_m, rel=1e-9)
    if name in EMPTY_BAND:
        assert verdict == "flagged" and not warnings  # transformers' validator complains, yet computes


def test_the_generated_edges_cover_every_verdict():
    verdicts = {transformers_verdict(rope, n)[0] for _, rope, n in EDGES}
    assert verdicts == {"refused", "flagged", "clean"}


def test_empty_band_is_a_step_between_pi_and_untouched():
    """low == high == 1, L = 8192, b = 5e5 (Llama 4 Scout): pairs with wavelength > L are PI, the rest
    untouched, no pair in between."""
    spec, _ = read_hf_config({"head_dim": 128, "max_position_embeddings": 16 * 8192, "rope_parameters": {
        "rope_type": "llama3", "rope_theta": 5e5, "factor": 16.0, "low_freq_factor": 1.0, "high_freq_factor": 1.0,
        "original_max_position_embeddings": 8192}})
    theta = base_inv_freq(128, 5e5)
    got = spec.compute().inv_freq
    long = 2 * np.pi / theta > 8192
    assert 0 < long.sum() < 64
    np.testing.assert_array_equal(got[long], theta[long] / 16.0)
    np.testing.assert_array_equal(got[~long], theta[~long])
