"""Rotary tables in torch, and the module that replaces a Hugging Face model's rotary embedding.

Conventions (the same as :mod:`yarnlab.rope.tables`, stated once here):

- Layout ``half`` (Hugging Face Llama / Mistral / Qwen2 / GPT-NeoX): pair d rotates channels
  (d, d + |D|/2), so the tables are ``[cos(a), cos(a)]`` along the last axis, a = p * theta'_d.
  The rotation the attention applies is ``x * cos + rotate_half(x) * sin``, rotate_half(x) =
  ``[-x2, x1]``: a rotation by +a in each pair (Eqs. 6-9 of arXiv 2309.00071).
- Partial rotary (GPT-NeoX): the tables have |D| = ``rotary_dim`` channels; the model rotates the
  first ``rotary_dim`` channels of each head and passes the rest through.
- The attention factor m = sqrt(1/t) (Eqs. 21-22) multiplies both tables, so q.k scales by m^2.
- Angles p * theta'_d are formed in float64 and only cos/sin are cast to the model's dtype, so
  tables keep float32 accuracy at any position (float32 products lose about p * 2^-24 radians).

Shapes: ``positions`` (B, T) or (T,); tables (B, T, |D|) or (T, |D|).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from yarnlab.errors import UsageError
from yarnlab.rope.spec import DynamicLength, RopeResult, RopeSpec


def _float64_device(device: torch.device) -> torch.device:
    # MPS has no float64: form the angles on the CPU there and move the tables afterwards
    return torch.device("cpu") if device.type == "mps" else device


def tables_from_result(result: RopeResult, positions: torch.Tensor, dtype: torch.dtype
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin) in the half layout times m, for integer ``positions`` of any shape.

    cos[..., d] = m cos(p theta'_d) and cos[..., d + |D|/2] = the same (likewise sin); the product
    p * theta'_d is taken in float64 and the result cast to ``dtype`` at the end.
    """
    device = positions.device
    work = _float64_device(device)
    inv_freq = torch.from_numpy(np.ascontiguousarray(result.inv_freq, dtype=np.float64)).to(work)
    ang = positions.to(work, torch.float64)[..., None] * inv_freq  # (..., |D|/2)
    ang = torch.cat((ang, ang), dim=-1)  # (..., |D|), half layout
    m = float(result.attention_factor)
    cos = (ang.cos() * m).to(dtype=dtype, device=device)
    sin = (ang.sin() * m).to(dtype=dtype, device=device)
    return cos, sin


def rotary_tables(spec: RopeSpec, positions_or_n, dtype: torch.dtype = torch.float32,
                  device: torch.device | str | None = None, seq_len: int | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin) tables of ``spec`` for the given positions, half layout, times the attention factor.

    - ``positions_or_n``: an int n (positions 0..n-1) or an integer tensor / sequence of positions of
      any shape; the tables get that shape plus a last axis of |D| = ``spec.dim`` channels.
    - ``seq_len``: the length a dynamic method sees (s = max(1, l/L), Section 3.3); by default the
      largest position + 1. Static methods ignore it.
    - ``dtype`` / ``device``: of the returned tables (angles are float64 internally).

    Apply to a head vector x (last axis |D|) as ``x * cos + rotate_half(x) * sin``.
    """
    if isinstance(positions_or_n, int | np.integer):
        if positions_or_n <= 0:
            raise UsageError(f"positions_or_n: must be a positive length or a tensor of positions "
                             f"(got {positions_or_n!r})")
        positions = torch.arange(int(positions_or_n), device=device)
    else:
        positions = torch.as_tensor(positions_or_n, device=device)
        if positions.is_floating_point() or positions.numel() == 0:
            raise UsageError("positions_or_n: must be a non-empty integer tensor of positions")
        if int(positions.min()) < 0:
            raise UsageError(f"positions_or_n: positions must be >= 0 (got {int(positions.min())})")
    if seq_len is None:
        seq_len = int(positions.max()) + 1
    result = spec.compute(seq_len if spec.is_dynamic else None)
    return tables_from_result(result, positions, dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """[-x2, x1] for x = [x1, x2] split in halves on the last axis (the half-layout pair rotation)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the first |D| = cos.shape[-1] channels of x (B, H, N, head_dim); pass the rest through.

    ``cos``/``sin`` are (B, N, |D|) and are broadcast over the head axis.
    """
    r = cos.shape[-1]
    cos, sin = cos[:, None], sin[:, None]
    xr, xp = x[..., :r], x[..., r:]
    out = xr * cos + rotate_half(xr) * sin
    return torch.cat((out, xp), dim=-1) if xp.shape[-1] else out


def unrotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rotate` for tables scaled by m: R(-a) x / m^2 with m^2 = cos^2 + sin^2.

    ``x * cos - rotate_half(x) * sin`` applies R(-a) times m; dividing by m^2 undoes both the
    rotation and the factor m the forward tables carried. Computed in float32 or wider.
    """
    r = cos.shape[-1]
    work = torch.promote_types(x.dtype, torch.float32)
    c, s = cos[:, None].to(work), sin[:, None].to(work)
    xr, xp = x[..., :r].to(work), x[..., r:]
    m2 = c * c + s * s  # (B, 1, N, |D|): m^2 per entry (exact pairs of the same angle)
    out = ((xr * c - rotate_half(xr) * s) / m2).to(x.dtype)
    return torch.cat((out, xp), dim=-1) if xp.shape[-1] else out


class YarnlabRotaryEmbedding(nn.Module):
    """Drop-in replacement for a Hugging Face ``*RotaryEmbedding`` module.

    ``forward(x, position_ids, layer_type=None) -> (cos, sin)`` of shape (B, T, |D|) in ``x.dtype``,
    half layout, times the attention factor m, exactly what Llama / Mistral / Qwen2 / GPT-NeoX
    attention expects. Static specs compute theta'_d and m once; dynamic specs (Section 3.3)
    recompute them from the current length l = max(position_ids) + 1, with s = max(1, l/L) (or the
    longest length seen so far when the spec's ``grow_only`` is set).

    The module keeps what its last forward used (``last_positions``, ``last_cos``, ``last_sin``,
    ``current``) so that :class:`yarnlab.model.cache.PreRotationCache` can store keys before
    rotation and re-rotate the whole cache when s changes.
    """

    def __init__(self, spec: RopeSpec):
        super().__init__()
        if not isinstance(spec, RopeSpec):
            raise UsageError(f"spec: must be a RopeSpec (got {type(spec).__name__})")
        self.spec = spec
        self.length = DynamicLength(spec)
        self._static = None if spec.is_dynamic else spec.compute()
        self._results: dict[int, RopeResult] = {}
        self.current: RopeResult = self._static if self._static is not None else spec.compute(spec.original_ctx)
        self.attention_scaling = self.current.attention_factor  # the name transformers' modules use
        self.step = 0
        self.last_positions: torch.Tensor | None = None
        self.last_cos: torch.Tensor | None = None
        self.last_sin: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return f"method={self.spec.method!r}, factor={self.spec.factor:g}, dim={self.spec.dim}"

    def result_for(self, seq_len: int) -> RopeResult:
        """theta'_d and m for a forward pass whose longest position is ``seq_len - 1``."""
        if self._static is not None:
            return self._static
        n = self.length(int(seq_len))
        if n not in self._results:
            if len(self._results) > 64:
                self._results.clear()
            self._results[n] = self.spec.compute(n)
        return self._results[n]

    @torch.no_grad()
    def forward(self, x: torch.Tensor, position_ids: torch.Tensor, layer_type=None):
        if position_ids.dim() == 1:
            position_ids = position_ids[None]
        seq_len = int(position_ids.max()) + 1 if self._static is None else 0
        self.current = self.result_for(seq_len)
        self.attention_scaling = self.current.attention_factor
        cos, sin = tables_from_result(self.current, position_ids, x.dtype)
        self.step += 1
        self.last_positions, self.last_cos, self.last_sin = position_ids, cos, sin
        return cos, sin
