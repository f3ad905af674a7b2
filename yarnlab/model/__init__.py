"""The model layer: yarnlab's rotary tables inside Hugging Face models (torch, transformers).

- :func:`apply_scaling` installs a :class:`~yarnlab.rope.spec.RopeSpec` (or a Hugging Face rope
  dict) into a Llama / Mistral / Qwen2 / GPT-NeoX model; :func:`load_model` loads a checkpoint and
  restores yarnlab-only specs; :func:`model_spec` reads the spec a model carries.
- :func:`rotary_tables` gives (cos, sin) tables in torch for evaluation and training code.
- :class:`PreRotationCache` is the KV cache that keeps keys before rotation (dynamic scaling).

Submodules are imported lazily so that ``import yarnlab.model.cli`` stays light.
"""

from __future__ import annotations

_EXPORTS = {
    "apply_scaling": "yarnlab.model.patch",
    "load_model": "yarnlab.model.patch",
    "model_spec": "yarnlab.model.patch",
    "spec_from_rope_dict": "yarnlab.model.patch",
    "rotary_tables": "yarnlab.model.rotary",
    "YarnlabRotaryEmbedding": "yarnlab.model.rotary",
    "PreRotationCache": "yarnlab.model.cache",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'yarnlab.model' has no attribute {name!r}")
