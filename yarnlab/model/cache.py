"""A KV cache that keeps keys BEFORE rotation, so dynamic scaling stays exact with a cache.

Why (arXiv 2309.00071, Section 3.3): dynamic scaling sets s = max(1, l/L) from the current length
l, so every position's rotation p * theta'_d(s) and the attention factor m(s) change whenever l
grows past L. A cache of rotated keys (what Hugging Face attention stores) holds keys rotated with
the s in force when they were written; reusing them mixes frequencies and no longer equals
recomputing the sequence. The paper's remedy is to cache keys before the rotation.

Design chosen: cache before rotation, WITHOUT copying any modelling code. The attention modules
still rotate keys and call ``cache.update(k_rot, v, layer_idx)``; this cache

1. undoes the rotation of the incoming keys with the tables of the current forward
   (k = R(-a) k_rot / m^2, exact up to rounding because a rotation is invertible),
2. stores the unrotated keys and their positions (B, N),
3. returns ALL cached keys rotated with the current theta'_d(s) and m(s).

So every forward sees every key rotated at the current s, as a recomputation would. The extra cost
is one rotation of the cached keys per forward and layer (O(N |D|), below attention's own cost).
The alternative, re-rotating cached (rotated) keys by the change of angle only when s changes,
costs the same once past L (s then changes at every step) and accumulates rounding with each
re-rotation; keeping unrotated keys rounds once.

Scope of "equals recomputation": the first layer's keys and values depend only on the tokens, so a
one-layer model (and the first layer of any model) gives the same output with this cache as
recomputing the whole sequence. In deeper layers the cached values and pre-rotation keys are
functions of earlier layers' outputs, computed when the sequence was shorter (at another s); no
cache can change that without recomputing, and it is the same for the paper's reference code.

Positions follow ``crop``, ``reorder_cache`` (beam search), ``batch_repeat_interleave``,
``batch_select_indices`` and ``reset``. Layers that keep a suffix (sliding window) are handled:
positions keep the same suffix.
"""

from __future__ import annotations

import torch
from transformers.cache_utils import DynamicCache

from yarnlab.model.rotary import YarnlabRotaryEmbedding, rotate, tables_from_result, unrotate


class PreRotationCache(DynamicCache):
    """A :class:`transformers.DynamicCache` that stores keys before rotation (see the module doc).

    ``rotary`` is the model's :class:`~yarnlab.model.rotary.YarnlabRotaryEmbedding`; it tells
    the cache the tables of the current forward. Key tensors are (B, H_kv, N, head_dim).
    """

    def __init__(self, rotary: YarnlabRotaryEmbedding, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_prerotation(rotary)

    def _init_prerotation(self, rotary: YarnlabRotaryEmbedding) -> None:
        self.rotary = rotary
        self.positions: dict[int, torch.Tensor] = {}  # layer -> (B, N) positions of the stored keys
        self._tables: tuple | None = None  # (step, positions, cos, sin) shared by all layers

    @classmethod
    def convert(cls, cache: DynamicCache, rotary: YarnlabRotaryEmbedding) -> PreRotationCache:
        """Turn an EMPTY DynamicCache (e.g. the one ``generate`` creates) into this class in place."""
        if cache.get_seq_length() != 0:
            raise ValueError("only an empty DynamicCache can be converted")
        cache.__class__ = cls
        cache._init_prerotation(rotary)
        return cache

    def _current_tables(self, positions: torch.Tensor, dtype: torch.dtype):
        rot = self.rotary
        t = self._tables
        if t is not None and t[0] == rot.step and t[1].shape == positions.shape and torch.equal(t[1], positions):
            return t[2].to(dtype), t[3].to(dtype)
        cos, sin = tables_from_result(rot.current, positions, dtype)
        self._tables = (rot.step, positions, cos, sin)
        return cos, sin

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args, **kwargs):
        rot = self.rotary
        if rot.last_positions is None:
            raise RuntimeError("PreRotationCache.update called before the rotary module ran")
        batch = key_states.shape[0]
        new_pos = rot.last_positions.expand(batch, -1)  # (B, T)
        cos, sin = rot.last_cos.expand(batch, -1, -1), rot.last_sin.expand(batch, -1, -1)
        raw = unrotate(key_states, cos, sin)
        keys, values = super().update(raw, value_states, layer_idx, *args, **kwargs)

        prev = self.positions.get(layer_idx)
        full = new_pos if prev is None else torch.cat((prev, new_pos), dim=-1)
        kept = self.layers[layer_idx].keys.shape[-2]
        self.positions[layer_idx] = full[:, full.shape[-1] - kept:]
        pos = full[:, full.shape[-1] - keys.shape[-2]:]  # positions of the returned keys

        cos_all, sin_all = self._current_tables(pos, keys.dtype)
        return rotate(keys, cos_all, sin_all), values

    # ---- keep positions in step with the cache's own bookkeeping --------------------------------
    def reset(self):
        super().reset()
        self.positions.clear()
        self._tables = None

    def crop(self, tokens_to_remove: int) -> None:
        super().crop(tokens_to_remove)
        for i, layer in enumerate(self.layers):
            if i in self.positions:
                n = layer.get_seq_length()
                self.positions[i] = self.positions[i][:, :n]

    def reorder_cache(self, beam_idx: torch.LongTensor):
        super().reorder_cache(beam_idx)
        for i, p in self.positions.items():
            self.positions[i] = p.index_select(0, beam_idx.to(p.device))

    def batch_repeat_interleave(self, repeats: int):
        super().batch_repeat_interleave(repeats)
        for i, p in self.positions.items():
            self.positions[i] = p.repeat_interleave(repeats, dim=0)

    def batch_select_indices(self, indices: torch.Tensor):
        super().batch_select_indices(indices)
        for i, p in self.positions.items():
            self.positions[i] = p[indices]
