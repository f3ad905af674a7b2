"""cos/sin tables and the rotation itself, in numpy.

Angles m * theta'_d are formed in float64 and only the final cos/sin values are cast, so a float32
table is accurate to float32 rounding (~6e-8) at any position up to 2^20 and beyond. The usual
float32 computation (float32 positions times float32 theta, then cos) loses about
position * 2^-24 radians instead: see :func:`float32_naive_cos_sin` and the README's note.

Pair layouts (the convention of the model the table is for):

- ``half``: Hugging Face Llama / GPT-NeoX. Pair d rotates channels (d, d + |D|/2); the table is
  ``[cos(angles), cos(angles)]`` concatenated on the last axis.
- ``interleaved``: original LLaMA / GPT-J. Pair d rotates channels (2d, 2d + 1); each angle's
  cos/sin appear twice in a row.

The YaRN attention factor m multiplies both tables (length scaling, Eq. 21-22).
"""

from __future__ import annotations

import numpy as np

from yarnlab.errors import UsageError

LAYOUTS = ("half", "interleaved")


def angles(inv_freq: np.ndarray, positions) -> np.ndarray:
    """m * theta_d in float64, shape (N, |D|/2)."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 1)
    return pos * np.asarray(inv_freq, dtype=np.float64).reshape(1, -1)


def _expand(x: np.ndarray, layout: str) -> np.ndarray:
    if layout == "half":
        return np.concatenate([x, x], axis=-1)
    if layout == "interleaved":
        return np.repeat(x, 2, axis=-1)
    raise UsageError(f"layout: must be one of {', '.join(LAYOUTS)} (got {layout!r})")


def cos_sin(inv_freq, positions, attention_factor: float = 1.0, layout: str = "half", dtype=np.float32):
    """(cos, sin) tables, shape (N, |D|), times ``attention_factor``, cast to ``dtype`` at the end.

    ``positions`` is an int or a sequence of positions (an int n means 0 .. n-1).
    """
    if np.isscalar(positions):
        positions = np.arange(int(positions))
    a = angles(inv_freq, positions)
    c = _expand(np.cos(a) * attention_factor, layout)
    s = _expand(np.sin(a) * attention_factor, layout)
    return c.astype(dtype), s.astype(dtype)


def float32_naive_cos_sin(inv_freq, positions):
    """The common float32 computation (positions and theta in float32, product in float32), for
    measuring its drift against :func:`cos_sin`. Half layout, no attention factor."""
    pos = np.asarray(positions, dtype=np.float32).reshape(-1, 1)
    a = pos * np.asarray(inv_freq, dtype=np.float32).reshape(1, -1)
    return _expand(np.cos(a), "half"), _expand(np.sin(a), "half")


def exact_cos_sin(base: float, dim: int, positions, factor: float = 1.0, digits: int = 50):
    """Reference tables in ``digits``-digit arithmetic (mpmath), rounded to float64 at the end:
    cos and sin of p * theta_d / s with theta_d = b^(-2d/|D|) (Eq. 1; PI's theta_d / s, Eq. 9),
    shape (len(positions), dim // 2). Slow (one mpmath call per entry): for checking tables at a
    few long positions, not for building them."""
    import mpmath

    with mpmath.workdps(digits):
        cos = np.empty((len(positions), dim // 2))
        sin = np.empty_like(cos)
        for j in range(dim // 2):
            theta = mpmath.power(mpmath.mpf(base), -mpmath.mpf(2 * j) / dim) / mpmath.mpf(factor)
            for i, p in enumerate(positions):
                a = mpmath.mpf(int(p)) * theta
                cos[i, j], sin[i, j] = float(mpmath.cos(a)), float(mpmath.sin(a))
    return cos, sin


def rotate(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, layout: str = "half") -> np.ndarray:
    """Apply the rotation to x (..., N, |D|) with tables (N, |D|): x * cos + rot(x) * sin.

    ``rot`` maps each pair (a, b) to (-b, a), in the given layout.
    """
    x = np.asarray(x, dtype=np.float64)
    if layout == "half":
        h = x.shape[-1] // 2
        rx = np.concatenate([-x[..., h:], x[..., :h]], axis=-1)
    elif layout == "interleaved":
        rx = np.stack([-x[..., 1::2], x[..., 0::2]], axis=-1).reshape(x.shape)
    else:
        raise UsageError(f"layout: must be one of {', '.join(LAYOUTS)} (got {layout!r})")
    return x * cos + rx * sin
