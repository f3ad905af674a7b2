"""TrainConfig validation and the learning-rate schedule."""

import pytest

from yarnlab.errors import UsageError
from yarnlab.train.config import TrainConfig, pretrain_config


def test_defaults_are_the_papers_finetuning_recipe():
    c = TrainConfig()
    assert (c.lr, c.beta1, c.beta2, c.weight_decay, c.warmup_steps, c.schedule) == \
        (2e-5, 0.9, 0.95, 0.0, 20, "constant")


def test_every_bad_field_is_named_at_once():
    with pytest.raises(UsageError) as exc:
        TrainConfig(steps=0, lr=2.0, beta2=1.0, schedule="step", seq_len=2)
    msg = str(exc.value)
    for field in ("steps", "lr", "beta2", "schedule", "seq_len"):
        assert f"{field}:" in msg
    with pytest.raises(UsageError, match="unknown"):
        TrainConfig.from_dict({"learning_rate": 1e-3})


def test_linear_warmup_then_constant():
    c = TrainConfig(lr=1e-3, warmup_steps=20, steps=100)
    assert c.lr_at(0) == pytest.approx(1e-3 / 20)
    assert c.lr_at(9) == pytest.approx(1e-3 * 10 / 20)
    assert c.lr_at(19) == pytest.approx(1e-3)
    assert c.lr_at(80) == pytest.approx(1e-3)


def test_cosine_decays_to_the_floor():
    c = pretrain_config(lr=1e-3, steps=200, warmup_steps=100, min_lr_ratio=0.1)
    assert c.lr_at(99) == pytest.approx(1e-3)
    assert c.lr_at(150) == pytest.approx(1e-4 + 0.9e-3 * 0.5)
    assert c.lr_at(200) == pytest.approx(1e-4)
    assert TrainConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize("kw, field", [({"warm_steps": 10, "steps": 10, "data_format": "windows"}, "warm_steps"),
                                       ({"warm_steps": 2, "steps": 10}, "warm_steps"),
                                       ({"warm_copy_fraction": 0.0}, "warm_copy_fraction"),
                                       ({"copy_gap_share": 1.5}, "copy_gap_share"),
                                       ({"copy_alphabet": "digits"}, "copy_alphabet"),
                                       ({"warm_copy_alphabet": "digits"}, "warm_copy_alphabet"),
                                       ({"copy_fraction": 0.2}, "copy_fraction")])
def test_synthetic_and_curriculum_settings_name_the_field(kw, field):
    with pytest.raises(UsageError, match=field):
        TrainConfig(**kw)


def test_decay_can_start_after_a_constant_phase():
    cfg = TrainConfig(steps=100, lr=1e-3, warmup_steps=10, schedule="cosine", decay_start=50, min_lr_ratio=0.1)
    assert cfg.lr_at(5) == pytest.approx(6e-4)
    assert cfg.lr_at(10) == cfg.lr_at(49) == 1e-3
    assert cfg.lr_at(75) == pytest.approx(1e-4 + 0.9e-3 * 0.5)
    assert cfg.lr_at(100) == pytest.approx(1e-4)
    with pytest.raises(UsageError, match="decay_start"):
        TrainConfig(steps=10, decay_start=10)


def test_the_early_evaluation_grid():
    """Dense early grid: before the first step, every 2 steps through 10, then every 10 and the last step."""
    c = TrainConfig(steps=35, eval_every=10, eval_early_every=2, eval_early_until=10)
    assert c.eval_steps() == [0, 2, 4, 6, 8, 10, 20, 30, 35]
    assert TrainConfig(steps=35, eval_every=10).eval_steps() == [10, 20, 30, 35]  # off: as before
    assert TrainConfig(steps=5, eval_every=0, eval_early_every=2, eval_early_until=99).eval_steps() == [0, 2, 4, 5]
    assert TrainConfig(steps=5, eval_every=0).eval_steps() == []


@pytest.mark.parametrize("kw, rule", [
    ({"eval_early_every": -1}, "eval_early_every: must be an integer >= 0"),
    ({"eval_early_every": 4, "eval_early_until": 2}, "eval_early_until: must be an integer >= eval_early_every"),
    ({"eval_early_until": 8}, "eval_early_until: must be an integer >= eval_early_every when eval_early_every > 0"),
])
def test_bad_early_grid_names_the_field_and_its_range(kw, rule):
    with pytest.raises(UsageError) as exc:
        TrainConfig(**kw)
    assert rule in str(exc.value)
