"""Dynamic scaling with a KV cache (arXiv 2309.00071, Section 3.3).

Claim tested: with yarnlab's pre-rotation cache, decoding token by token across the original
context L gives the same logits as recomputing the whole prefix without a cache. This holds
exactly for a one-layer model and for the first layer of a deeper one (deeper layers' cached
values were computed at an earlier s; see yarnlab/model/cache.py). Contrast: transformers' own
``dynamic`` rope type caches keys rotated at the old s, and its cached logits differ from
recomputation past L.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hf_models import HEAD_DIM, L, make_model
from transformers.cache_utils import DynamicCache

from yarnlab.errors import UsageError
from yarnlab.model import PreRotationCache, apply_scaling
from yarnlab.rope.spec import RopeSpec

TOL = 5e-5  # float32 logits of size ~1; failures measured at ~1 (see the contrast test)
PREFILL, TOTAL = 40, 120  # crosses L = 64 and keeps going to s ~ 2


def dynamic_spec(name: str, rotary_dim: int | None = None):
    geom = dict(head_dim=HEAD_DIM, rotary_dim=rotary_dim, original_ctx=L, factor=4.0)
    return {
        "dynamic-yarn": lambda: RopeSpec("dynamic-yarn", **geom),
        "dynamic-ntk-paper": lambda: RopeSpec("dynamic-ntk", **geom),
        "hf-dynamic": lambda: {"rope_type": "dynamic", "factor": 2.0},
        "log-n": lambda: RopeSpec("yarn", temperature="log-n", **geom),
    }[name]()


DYNAMIC_NAMES = ["dynamic-yarn", "dynamic-ntk-paper", "hf-dynamic", "log-n"]


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, 300, (2, TOTAL), generator=torch.Generator().manual_seed(2))


def decode(model, ids, hidden_layer: int | None = None):
    """Per step after the prefill: (cached output, recomputed output) of the last position."""
    out = []
    with torch.no_grad():
        first = model(ids[:, :PREFILL], use_cache=True)
        cache = first.past_key_values
        for t in range(PREFILL, ids.shape[1]):
            step = model(ids[:, t:t + 1], cache=cache, use_cache=True, output_hidden_states=True)
            full = model(ids[:, :t + 1], use_cache=False, output_hidden_states=True)
            if hidden_layer is None:
                out.append((step.logits[:, -1], full.logits[:, -1]))
            else:
                out.append((step.hidden_states[hidden_layer][:, -1], full.hidden_states[hidden_layer][:, -1]))
    return cache, out


def max_err(pairs, start=0):
    return max((a - b).abs().max().item() for a, b in pairs[start:])


@pytest.mark.parametrize("arch", ["llama", "gpt_neox"])
@pytest.mark.parametrize("name", DYNAMIC_NAMES)
def test_cached_decode_equals_recomputation_one_layer(arch, name, ids):
    model = make_model(arch, layers=1)
    apply_scaling(model, dynamic_spec(name, 8 if arch == "gpt_neox" else None))
    cache, pairs = decode(model, ids)
    assert isinstance(cache, PreRotationCache)
    assert max_err(pairs) < TOL


def test_first_layer_exact_in_deeper_model(ids):
    model = make_model("llama", layers=2)
    apply_scaling(model, dynamic_spec("dynamic-yarn"))
    _, pairs = decode(model, ids, hidden_layer=1)  # output of the first decoder layer
    assert max_err(pairs) < TOL


def test_static_spec_cache_exact_in_all_layers(ids):
    model = make_model("llama", layers=2)
    apply_scaling(model, RopeSpec("yarn", head_dim=HEAD_DIM, original_ctx=L, factor=4.0))
    cache, pairs = decode(model, ids)
    assert type(cache) is DynamicCache  # static specs keep transformers' own cache
    assert max_err(pairs) < TOL


def test_transformers_dynamic_differs_from_recomputation(ids):
    """The contrast: transformers' built-in dynamic rope with its cache, one layer, same weights.

    Below L both agree (s = 1); past L transformers' cached keys keep their old rotation.
    """
    base = make_model("llama", layers=1)
    ours = copy.deepcopy(base)
    apply_scaling(ours, dynamic_spec("hf-dynamic"))
    builtin = make_model("llama", {"rope_type": "dynamic", "factor": 2.0}, layers=1, state=base.state_dict())
    _, ours_pairs = decode(ours, ids)
    hf_cached = []
    with torch.no_grad():
        cache = builtin(ids[:, :PREFILL], use_cache=True).past_key_values
        assert type(cache) is DynamicCache
        for t in range(PREFILL, ids.shape[1]):
            hf_cached.append(builtin(ids[:, t:t + 1], cache=cache, use_cache=True).logits[:, -1])
    recomputed = [full for _, full in ours_pairs]  # equals transformers' fresh recomputation (parity test)
    below = [(a, b) for t, (a, b) in enumerate(zip(hf_cached, recomputed)) if PREFILL + t + 1 <= L]
    above = [(a, b) for t, (a, b) in enumerate(zip(hf_cached, recomputed)) if PREFILL + t + 1 > L + 8]
    assert max_err(below) < TOL
    assert max_err(above) > 100 * TOL
    assert max_err(ours_pairs) < TOL


def test_generate_uses_prerotation_cache(ids):
    """generate() builds its own DynamicCache; the hook converts it, and greedy tokens match a greedy
    loop that recomputes the whole sequence at every step."""
    model = make_model("llama", layers=1)
    apply_scaling(model, dynamic_spec("dynamic-yarn"))
    prompt = ids[:1, :PREFILL]
    new = 60
    with torch.no_grad():
        out = model.generate(prompt, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                             return_dict_in_generate=True, pad_token_id=0)
        seq = prompt
        for _ in range(new):
            nxt = model(seq, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat((seq, nxt), dim=-1)
    assert isinstance(out.past_key_values, PreRotationCache)
    assert torch.equal(out.sequences, seq)


def test_filled_plain_cache_is_refused(ids):
    model = make_model("llama", layers=1)
    plain = DynamicCache()
    with torch.no_grad():
        model(ids[:, :10], cache=plain, use_cache=True)  # rotated keys from plain RoPE
    apply_scaling(model, dynamic_spec("dynamic-yarn"))
    with pytest.raises(UsageError, match="cache"):
        model(ids[:, 10:11], cache=plain, use_cache=True)


def test_crop_and_batch_select_keep_positions(ids):
    model = make_model("llama", layers=1)
    apply_scaling(model, dynamic_spec("dynamic-yarn"))
    with torch.no_grad():
        cache = model(ids[:, :100], use_cache=True).past_key_values
        cache.crop(-30)
        assert cache.positions[0].shape == (2, 70)
        step = model(ids[:, 70:71], cache=cache, use_cache=True).logits[:, -1]
        full = model(ids[:, :71], use_cache=False).logits[:, -1]
        torch.testing.assert_close(step, full, atol=TOL, rtol=0)
        cache.batch_select_indices(torch.tensor([1]))
        step = model(ids[1:, 71:72], cache=cache, use_cache=True).logits[:, -1]
        full = model(ids[1:, :72], use_cache=False).logits[:, -1]
        torch.testing.assert_close(step, full, atol=TOL, rtol=0)


def test_left_padded_batch_generate(ids):
    """Rows with different padding keep their own positions in the cache; greedy generation equals a
    recomputing loop fed the same attention mask and position ids (generate's cumsum rule)."""
    model = make_model("llama", layers=1)
    apply_scaling(model, dynamic_spec("dynamic-yarn"))
    prompt, mask = ids[:, :PREFILL].clone(), torch.ones(2, PREFILL, dtype=torch.long)
    prompt[0, :10], mask[0, :10] = 0, 0  # row 0 is left-padded by 10
    new = 50
    with torch.no_grad():
        out = model.generate(prompt, attention_mask=mask, max_new_tokens=new, min_new_tokens=new,
                             do_sample=False, pad_token_id=0)
        seq, m = prompt, mask
        for _ in range(new):
            pos = (m.cumsum(-1) - 1).masked_fill(m == 0, 1)
            logits = model(seq, attention_mask=m, position_ids=pos, use_cache=False).logits[:, -1]
            seq = torch.cat((seq, logits.argmax(-1, keepdim=True)), dim=-1)
            m = torch.cat((m, torch.ones(2, 1, dtype=torch.long)), dim=-1)
    assert torch.equal(out, seq)
