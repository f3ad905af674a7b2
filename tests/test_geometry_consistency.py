"""The theory layer's default tiny geometry is the tiny model's geometry (one source of truth in spirit,
kept apart so the theory layer never imports torch)."""

from yarnlab.model import tiny
from yarnlab.theory.wavelength import TINY_DEFAULT


def test_theory_tiny_geometry_matches_tiny_model():
    assert (TINY_DEFAULT.rotary_dim, TINY_DEFAULT.base, TINY_DEFAULT.original_ctx) == (
        tiny.HEAD_DIM, tiny.ROPE_BASE, tiny.TRAIN_CTX)
