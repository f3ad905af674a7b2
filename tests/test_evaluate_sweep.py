"""Temperature sweep: argmin on synthetic curves, and a real sweep on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from yarnlab.errors import UsageError
from yarnlab.evaluate.sweep import fig2_table, fig3_table, fig4_table, m_grid, sweep_argmin, temperature_sweep


def synthetic(ms, m_star, n=40, noise=0.002, seed=0):
    rng = np.random.default_rng(seed)
    offsets = rng.normal(2.0, 0.3, size=n)  # per-sample difficulty
    return offsets[None, :] + 0.5 * (ms[:, None] - m_star) ** 2 + rng.normal(0, noise, (len(ms), n))


@pytest.mark.parametrize("m_star", [1.0, 1.137, 1.208, 1.3])
def test_argmin_on_synthetic_curve(m_star):
    ms = m_grid(0.9, 1.5, 0.05)
    res = sweep_argmin(ms, synthetic(ms, m_star), n_boot=300)
    assert abs(res.m_grid - m_star) <= 0.025 + 1e-9
    assert abs(res.m_refined - m_star) < 0.01
    assert res.ci_low <= res.m_refined <= res.ci_high
    assert res.boot_std < 0.02


def test_argmin_uncertainty_grows_with_noise():
    ms = m_grid(0.9, 1.5, 0.05)
    quiet = sweep_argmin(ms, synthetic(ms, 1.2, noise=0.001), n_boot=300)
    loud = sweep_argmin(ms, synthetic(ms, 1.2, noise=0.05), n_boot=300)
    assert loud.boot_std > 3 * quiet.boot_std


def test_argmin_at_grid_edge_does_not_extrapolate():
    ms = m_grid(1.0, 1.2, 0.05)
    res = sweep_argmin(ms, synthetic(ms, 1.6), n_boot=50)
    assert res.m_grid == pytest.approx(1.2) and res.m_refined == pytest.approx(1.2)


def test_grid_contains_one_and_validates():
    assert 1.0 in m_grid(0.95, 1.3, 0.1).tolist()
    with pytest.raises(UsageError, match="m grid"):
        m_grid(1.2, 1.0, 0.1)
    with pytest.raises(UsageError, match="nll"):
        sweep_argmin([1.0, 1.1], np.zeros((3, 4)))


def test_sweep_on_tiny_model():
    from yarnlab.model import apply_scaling, model_spec
    from yarnlab.model.tiny import build_model

    model = build_model("micro").eval()
    spec = model_spec(model).replace(method="yarn", factor=2.0)
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 256, 512) for _ in range(3)]
    ms = [0.9, 1.0, 1.2]
    res = temperature_sweep(model, docs, spec, ms, length=512, segment=256)
    assert res.doc_nll.shape == (3, 3) and res.seg_nll.shape == (3, 3, 2)
    assert res.seg_tokens.tolist() == [255, 256]
    assert not np.allclose(res.doc_nll[0], res.doc_nll[2])  # m really changes the model
    # m = 1 in the sweep equals evaluating the spec with temperature "none"
    from yarnlab.evaluate.perplexity import sliding_window_nll

    apply_scaling(model, spec.replace(temperature="none"))
    direct = sliding_window_nll(model, docs, 512, 512).doc_nll()
    assert np.allclose(res.doc_nll[1], direct, rtol=1e-6)
    # the pooled segment NLL reproduces the document NLL
    pooled = (res.seg_nll * res.seg_tokens).sum(-1) / res.seg_tokens.sum()
    assert np.allclose(pooled, res.doc_nll, rtol=1e-9)
    f3 = fig3_table(res)
    assert all(r["pct_change"] == 0.0 for r in f3 if r["m"] == 1.0)
    f4 = fig4_table(res)
    for g in range(2):
        assert sum(r["count"] for r in f4 if r["segment"] == g) == 3
    f2 = fig2_table(res)
    assert [r["m"] for r in f2] == ms and all(r["ppl_std"] >= 0 for r in f2)
    assert len(res.rows()) == 3 * 3 * 3
