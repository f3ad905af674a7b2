"""Tiny byte-level Llama presets: sizes, ratio spectrum, Hugging Face save/load."""

import numpy as np
import pytest
import torch

from yarnlab.errors import UsageError
from yarnlab.model.tiny import (
    HEAD_DIM,
    PRESETS,
    ROPE_BASE,
    TRAIN_CTX,
    build_model,
    count_parameters,
    load_model,
    ratio_spectrum,
    tiny_config,
)


def test_presets_span_a_few_hundred_thousand_to_tens_of_millions():
    sizes = {}
    for name in PRESETS:
        with torch.device("meta"):
            sizes[name] = count_parameters(build_model(name))
    assert 2e5 < sizes["micro"] < 5e5
    assert 7e5 < sizes["tiny"] < 1.1e6  # the feasibility probe shape
    assert 1e7 < sizes["medium"] < 1e8
    assert sorted(sizes.values()) == [sizes[n] for n in ("micro", "tiny", "small", "medium")]


def test_ratio_spectrum_resembles_llama2():
    ours = ratio_spectrum()
    llama2 = ratio_spectrum(4096, 128, 1e4)
    assert llama2["frac_lambda_gt_L"] == pytest.approx(18 / 64)
    assert ours["frac_lambda_gt_L"] == pytest.approx(5 / 16)
    assert abs(ours["frac_lambda_gt_L"] - llama2["frac_lambda_gt_L"]) < 0.05
    # Llama's own base at L = 256 would not: 9 of 16 pairs beyond L
    assert ratio_spectrum(256, 32, 1e4)["frac_lambda_gt_L"] == pytest.approx(9 / 16)


def test_ratio_spectrum_agrees_with_the_core():
    from yarnlab.rope.frequencies import ratios

    ours = ratio_spectrum()["ratios"]
    np.testing.assert_allclose(ours, ratios(HEAD_DIM, ROPE_BASE, TRAIN_CTX), rtol=1e-12)


def test_config_geometry_and_the_model_uses_it():
    cfg = tiny_config("tiny")
    assert cfg.vocab_size == 259 and cfg.head_dim == HEAD_DIM
    assert cfg.max_position_embeddings == TRAIN_CTX
    assert cfg.rope_parameters["rope_theta"] == ROPE_BASE
    model = build_model(cfg)
    assert model.config._attn_implementation == "sdpa"
    expected = ROPE_BASE ** (-np.arange(0, HEAD_DIM, 2) / HEAD_DIM)
    np.testing.assert_allclose(model.model.rotary_emb.inv_freq.double().numpy(), expected, rtol=1e-6)


def test_config_from_dict_overrides_and_rejects_unknown_keys():
    cfg = tiny_config({"preset": "micro", "num_hidden_layers": 2})
    assert cfg.num_hidden_layers == 2 and cfg.hidden_size == PRESETS["micro"]["hidden_size"]
    with pytest.raises(UsageError, match="unknown key"):
        tiny_config({"hidden": 64})
    with pytest.raises(UsageError, match="head_dim"):
        tiny_config({"head_dim": 31})
    with pytest.raises(UsageError, match="preset"):
        tiny_config("huge")


def test_save_load_round_trip_gives_identical_logits(tmp_path):
    model = build_model("micro", seed=3)
    model.save_pretrained(tmp_path)
    again = load_model(str(tmp_path))
    ids = torch.randint(0, 259, (2, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, again(input_ids=ids).logits)
    assert again.config.yarnlab_preset == "micro"
    # seeded initialisation
    p1, p2 = build_model("micro", seed=3), build_model("micro", seed=4)
    assert torch.equal(next(p1.parameters()), next(model.parameters()))
    assert not torch.equal(next(p2.parameters()), next(model.parameters()))
