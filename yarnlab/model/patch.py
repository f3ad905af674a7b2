"""Install a yarnlab scaling spec into a Hugging Face causal LM, save it, load it back.

:func:`apply_scaling` replaces every ``*RotaryEmbedding`` module of the model (Llama, Mistral,
Qwen2: ``model.model.rotary_emb``; GPT-NeoX: ``model.gpt_neox.rotary_emb``) by a
:class:`~yarnlab.model.rotary.YarnlabRotaryEmbedding` with the same forward signature. The
attention code is untouched: it receives (cos, sin) in the half layout times m and rotates q and
k as before (Eqs. 12, 21-22 of arXiv 2309.00071). For dynamic specs a forward pre-hook on the
base model makes its KV cache a :class:`~yarnlab.model.cache.PreRotationCache` (keys cached before
rotation, Section 3.3), so cached generation matches recomputation across L.

The spec is also written into ``model.config``: where transformers implements the method,
``rope_parameters`` (and ``max_position_embeddings``) from :func:`yarnlab.rope.hf.spec_to_hf`, so
``save_pretrained`` + plain ``AutoModelForCausalLM.from_pretrained`` gives the same logits;
otherwise ``rope_parameters`` keeps plain RoPE with the original base and a ``yarnlab_rope`` entry
(the spec as a dict) plus ``yarnlab_rope_note`` say that only :func:`load_model` restores it.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from yarnlab.errors import UsageError
from yarnlab.model.rotary import YarnlabRotaryEmbedding
from yarnlab.rope.hf import hf_supported, partial_factor, spec_from_hf_config, spec_to_hf
from yarnlab.rope.spec import RopeSpec

YARNLAB_NOTE = ("yarnlab-only scaling: transformers has no equivalent of this spec, so rope_parameters holds "
                "plain RoPE and vanilla transformers loads the UNSCALED model; load with "
                "yarnlab.model.load_model(path) to apply yarnlab_rope")

_ORIGINAL = "_yarnlab_original_config"  # attribute on the model: its config dict before yarnlab touched it
_HOOK = "_yarnlab_cache_hook"


def _rotary_modules(model: nn.Module) -> list[tuple[nn.Module, str, nn.Module]]:
    """(parent, attribute, module) for every rotary-embedding module, yarnlab's included."""
    found = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, YarnlabRotaryEmbedding) or type(child).__name__.endswith("RotaryEmbedding"):
                found.append((parent, name, child))
    return found


def _hf_rope(config_dict: dict[str, Any]) -> dict[str, Any]:
    return dict(config_dict.get("rope_parameters") or config_dict.get("rope_scaling") or {})


def original_config(model: nn.Module) -> dict[str, Any]:
    """The model's config as a dict, as it was before the first :func:`apply_scaling`."""
    orig = getattr(model, _ORIGINAL, None)
    return copy.deepcopy(orig) if orig is not None else model.config.to_dict()


def spec_from_rope_dict(model: nn.Module, rope: dict[str, Any]) -> RopeSpec:
    """Read a Hugging Face rope dict (``{"rope_type": "yarn", "factor": 4, ...}``) against the
    model's original geometry (head_dim, rope_theta, partial rotary, max_position_embeddings)."""
    if not isinstance(rope, dict):
        raise UsageError(f"spec: must be a RopeSpec or a rope dict (got {type(rope).__name__})")
    cfg = original_config(model)
    cfg.pop("yarnlab_rope", None)
    cfg.pop("rope_scaling", None)
    base_rope = _hf_rope(cfg)
    keep = ("rope_theta", "partial_rotary_factor", "original_max_position_embeddings")
    inherited = {k: base_rope[k] for k in keep if k in base_rope}
    # L is the trained context of the model as it was: a dict applied to an unscaled model means
    # L = its max_position_embeddings (the reading of a saved linear config, L = max_pos / s, would not)
    inherited.setdefault("original_max_position_embeddings", spec_from_hf_config(cfg).original_ctx)
    cfg["rope_parameters"] = {**inherited, **rope}
    return spec_from_hf_config(cfg)


def model_spec(model_or_config) -> RopeSpec:
    """The spec a model (or its config) currently carries: ``yarnlab_rope`` if present, else the
    one transformers reads from ``rope_parameters``."""
    config = getattr(model_or_config, "config", model_or_config)
    return spec_from_hf_config(config.to_dict())


def _check_geometry(spec: RopeSpec, model: nn.Module) -> None:
    base = spec_from_hf_config({k: v for k, v in original_config(model).items() if k != "yarnlab_rope"})
    problems = []
    if spec.head_dim != base.head_dim:
        problems.append(f"head_dim: the model has {base.head_dim} (got {spec.head_dim})")
    if spec.dim != base.dim:
        problems.append(f"rotary_dim: the model rotates {base.dim} channels per head (got {spec.dim})")
    if problems:
        raise UsageError("spec does not fit the model: " + "; ".join(problems))


def _write_config(config, spec: RopeSpec) -> None:
    if hf_supported(spec):
        fields = spec_to_hf(spec)
        config.rope_parameters = fields["rope_parameters"]
        config.max_position_embeddings = fields["max_position_embeddings"]
        for key in ("yarnlab_rope", "yarnlab_rope_note"):
            if hasattr(config, key):
                delattr(config, key)
    else:
        rope: dict[str, Any] = {"rope_type": "default", "rope_theta": spec.base}
        if spec.rotary_dim is not None:
            rope["partial_rotary_factor"] = partial_factor(spec.rotary_dim, spec.head_dim)
        config.rope_parameters = rope
        config.max_position_embeddings = spec.extended_ctx
        config.yarnlab_rope = spec.to_dict()
        config.yarnlab_rope_note = YARNLAB_NOTE


def _cache_hook(module: nn.Module, args, kwargs):
    """Forward pre-hook on the base model: give dynamic specs a PreRotationCache."""
    from transformers.cache_utils import DynamicCache

    from yarnlab.model.cache import PreRotationCache

    rotary = getattr(module, "_yarnlab_rotary", None)
    if rotary is None or not rotary.spec.is_dynamic:
        return None
    key = "past_key_values" if "past_key_values" in kwargs and "cache" not in kwargs else "cache"
    cache = kwargs.get(key)
    if isinstance(cache, PreRotationCache):
        cache.rotary = rotary
        return None
    if cache is None:
        use_cache = kwargs.get("use_cache")
        if use_cache is None:
            use_cache = getattr(module.config, "use_cache", False)
        if not use_cache:
            return None
        kwargs[key] = PreRotationCache(rotary, config=module.config)
        return args, kwargs
    if type(cache) is DynamicCache and cache.get_seq_length() == 0:
        PreRotationCache.convert(cache, rotary)  # in place: generate() keeps using the same object
        return None
    raise UsageError(
        f"cache: dynamic scaling ({rotary.spec.method}) needs keys cached before rotation; pass no cache, an "
        f"empty DynamicCache or a yarnlab.model.PreRotationCache (got a filled {type(cache).__name__})")


def apply_scaling(model: nn.Module, spec: RopeSpec | dict[str, Any]) -> RopeSpec:
    """Install ``spec`` into a Hugging Face Llama / Mistral / Qwen2 / GPT-NeoX model in place.

    - ``spec``: a :class:`~yarnlab.rope.spec.RopeSpec`, or a Hugging Face rope dict read with
      :func:`yarnlab.rope.hf.spec_from_hf_config` against the model's original geometry.
    - Replaces each rotary module by :class:`YarnlabRotaryEmbedding` (tables m cos(p theta'_d),
      m sin(p theta'_d) in the half layout, angles in float64); writes the spec into
      ``model.config`` (see the module docstring); for dynamic specs installs the pre-rotation cache.
    - Calling it again replaces the previous spec (e.g. a sweep over attention factors).

    Returns the spec that was installed. Raises :class:`~yarnlab.errors.UsageError` when the model
    has no rotary module or the spec's head_dim / rotary_dim do not match the model.
    """
    found = _rotary_modules(model)
    if not found:
        raise UsageError(f"model: no rotary-embedding module found in {type(model).__name__} "
                         "(supported: Llama, Mistral, Qwen2, GPT-NeoX)")
    if getattr(model, _ORIGINAL, None) is None:
        object.__setattr__(model, _ORIGINAL, model.config.to_dict())
    if isinstance(spec, dict):
        spec = spec_from_rope_dict(model, spec)
    elif not isinstance(spec, RopeSpec):
        raise UsageError(f"spec: must be a RopeSpec or a rope dict (got {type(spec).__name__})")
    _check_geometry(spec, model)
    if spec.is_dynamic and len(found) > 1:
        raise UsageError(f"model: dynamic scaling supports one shared rotary module (found {len(found)})")

    for parent, name, _old in found:
        rotary = YarnlabRotaryEmbedding(spec)
        setattr(parent, name, rotary)
        object.__setattr__(parent, "_yarnlab_rotary", rotary)
        if getattr(parent, _HOOK, None) is None:
            handle = parent.register_forward_pre_hook(_cache_hook, with_kwargs=True)
            object.__setattr__(parent, _HOOK, handle)
    _write_config(model.config, spec)
    return spec


def load_model(path, *, reapply: bool | None = None, **from_pretrained_kwargs) -> nn.Module:
    """``AutoModelForCausalLM.from_pretrained(path)`` that restores a yarnlab scaling spec.

    ``reapply``: None (default) applies yarnlab's rotary when the config holds a ``yarnlab_rope``
    entry or a dynamic spec (dynamic needs the pre-rotation cache to be exact with a KV cache);
    True always applies the spec read from the config; False only for ``yarnlab_rope``.
    """
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, **from_pretrained_kwargs)
    config = model.config.to_dict()
    yarnlab_only = config.get("yarnlab_rope") is not None
    spec = spec_from_hf_config(config)
    if yarnlab_only:
        # interpret geometry against plain RoPE: the original config is the one without yarnlab_rope
        object.__setattr__(model, _ORIGINAL, {k: v for k, v in config.items() if k != "yarnlab_rope"})
        apply_scaling(model, spec)
    elif reapply or (reapply is None and spec.is_dynamic):
        apply_scaling(model, spec)
    return model
