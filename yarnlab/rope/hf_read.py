"""Read a Hugging Face ``config.json`` the way transformers 5 does: one entry per RoPE setting.

:func:`read_hf_rope` returns every distinct RoPE setting of a model (one for most models; one per
layer type for Gemma 3 style configs) with the geometry, the scaling spec, the attention factor m
(cos/sin multiplier, Eq. 21) and the total logit multiplier the scaling puts on q.k.

What is read, and from where (the first that is present wins):

- the text model: a multimodal config's ``text_config`` when the top level has no heads;
- heads and widths: ``num_attention_heads`` (GPT-J: ``n_head``), ``hidden_size`` (``n_embd``),
  ``head_dim`` (else hidden / heads); MLA (DeepSeek-V2/V3): the q/k head is
  ``qk_nope_head_dim + qk_rope_head_dim`` and only ``qk_rope_head_dim`` channels rotate;
- rotated channels: ``rotary_dim`` (GPT-J), else ``int(head_dim * f)`` with f from
  ``partial_rotary_factor`` (rope dict, then top level) or GPT-NeoX's ``rotary_pct``;
- base b: the rope dict's ``rope_theta``, ``rope_theta``, GPT-NeoX's ``rotary_emb_base``; Gemma 3's
  sliding layers: a second base field (``rope_local_base_freq``, ModernBERT-decoder's
  ``local_rope_theta`` with ``global_rope_theta`` for the full layers, dots's ``swa_rope_theta``),
  read as a second setting for the sliding-window layers;
- the rope dict: ``rope_parameters`` (transformers 5; possibly nested by layer type) or
  ``rope_scaling``; its type from ``rope_type``, else the legacy ``type``; ``su`` is LongRoPE's
  legacy name, ``mrope`` is plain RoPE over three position axes;
- ``max_position_embeddings`` (GPT-J, GPT-2: ``n_positions``).

Fields a config leaves out take the defaults of transformers' config class for its model type
(Falcon: no base, no ``max_position_embeddings``; Gemma 3's multimodal ``text_config``): the config
is loaded through that class, offline, only in that case, so complete configs are read without
importing transformers or torch. Values transformers 5 would refuse (a factor or base given as a
string, a rope type missing a required key, factor lists of the wrong length) are refused with the
field named; keys transformers ignores are reported as warnings.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from yarnlab.errors import SpecError, UsageError
from yarnlab.rope.hf_form import HFRead
from yarnlab.rope.hf_layers import LayerMap, read_layer_map
from yarnlab.rope.hf_scales import LLAMA4_SCALING_TYPES, LengthScale, read_length_scales
from yarnlab.rope.hf_types import (
    DEFAULT_THETA,
    INTERLEAVED_BY_TYPE,
    INTERLEAVED_TYPES,
    LAYER_HEAD_DIM,
    LEGACY_TYPES,
    NTK_ALPHA_TYPES,
    ROPE_EVIDENCE,
    ROPE_INTERLEAVE_TYPES,
    ROPE_POSITION_TYPES,
    SLIDING_BASE_FIELDS,
    rope_types,
)
from yarnlab.rope.hf_values import integer as _integer
from yarnlab.rope.hf_values import is_number as _is_number
from yarnlab.rope.hf_values import number as _number
from yarnlab.rope.hf_values import shown
from yarnlab.rope.hf_write import hf_supported
from yarnlab.rope.methods import ntk_base
from yarnlab.rope.spec import RopeSpec
from yarnlab.rope.temperature import TEMPERATURE_RULES

_COMMON_KEYS = {"rope_type", "type", "rope_theta", "partial_rotary_factor", "mrope_section",
                "mrope_interleaved", "original_max_position_embeddings"}



@dataclass(frozen=True)
class RopeEntry:
    """One RoPE setting of a model (all layers, or the layers of ``layer_types``)."""

    layer_types: tuple[str, ...]
    rope_type: str                    # as the config names it (``su``, ``mrope`` kept)
    spec: RopeSpec
    max_position_embeddings: int
    max_position_source: str          # "config" or "transformers default"
    layout: str                       # "half" or "interleaved"
    softmax_factor: float = 1.0       # a model's own extra multiplier on q.k (DeepSeek MLA: mscale^2)
    transformers_native: bool = True
    notes: tuple[str, ...] = ()
    layers: tuple[int, ...] | None = None  # the layers it rotates (None: the count is unknown)

    def summary(self) -> dict[str, Any]:
        """The JSON entry of ``yarnlab inspect --json`` (see :func:`entry_dict`)."""
        return entry_dict(self)


@dataclass
class HFRope:
    model_type: str | None
    entries: list[RopeEntry]
    warnings: list[str] = field(default_factory=list)
    defaults_from: str | None = None  # the transformers class whose defaults filled missing fields
    layers: LayerMap = field(default_factory=lambda: LayerMap(None, None))
    scales: list[LengthScale] = field(default_factory=list)  # length-dependent q scales (Llama 4, Ministral 3)


def entry_dict(e: RopeEntry) -> dict[str, Any]:
    """method, geometry, L, s, max_position_embeddings, m (at s L for dynamic methods), logit scale
    m^2 times the model's own factor, layout, and whether transformers computes it natively."""
    spec = e.spec
    at = spec.extended_ctx if spec.is_dynamic else None
    m = spec.compute(at).attention_factor
    return {
        "layer_types": list(e.layer_types), "rope_type": e.rope_type, "method": spec.method,
        "head_dim": spec.head_dim, "rotary_dim": spec.dim, "base": spec.base, "original_ctx": spec.original_ctx,
        "factor": spec.factor, "scaled_ctx": spec.extended_ctx,
        "max_position_embeddings": e.max_position_embeddings, "max_position_source": e.max_position_source,
        "attention_factor": m, "softmax_factor": e.softmax_factor, "logit_scale": m * m * e.softmax_factor,
        "temperature_rule": spec.temperature_rule, "dynamic": spec.is_dynamic, "layout": e.layout,
        "transformers_native": e.transformers_native, "params": _jsonable(spec.params),
        "layers": None if e.layers is None else list(e.layers),
        "spec": _jsonable(spec.to_dict()), "notes": list(e.notes),
    }


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, tuple | list):
        return [_jsonable(v) for v in x]
    return x


# ---- field helpers ------------------------------------------------------------------------------

def _first(config: dict, *keys):
    for k in keys:
        if config.get(k) is not None:
            return k, config[k]
    return None, None


def _text_config(config: dict) -> dict:
    text = config.get("text_config")
    if isinstance(text, dict) and _first(config, "num_attention_heads", "n_head")[0] is None:
        return {**{k: v for k, v in config.items() if k != "text_config"}, **text}
    return config


def _no_rope(config: dict) -> str | None:
    """Why the config has no rotary embedding, or None when it (probably) has one."""
    mt = config.get("model_type")
    attn = config.get("attn_config")
    if config.get("alibi") is True or (isinstance(attn, dict) and attn.get("alibi")):
        return "ALiBi attention biases"
    pet = config.get("position_embedding_type")
    if isinstance(pet, str) and pet not in ROPE_POSITION_TYPES:
        return f"position_embedding_type {pet!r}"
    if any(config.get(k) is not None for k in ROPE_EVIDENCE):
        return None
    cls = _config_class(mt)
    if cls is not None and "rope_parameters" not in getattr(cls, "__dataclass_fields__", {}):
        return f"transformers' {cls.__name__} has no RoPE parameters (absolute, ALiBi or relative positions)"
    if cls is None:
        raise UsageError(f"config: no RoPE field ({', '.join(ROPE_EVIDENCE)}) and transformers has no config "
                         f"class for model type {mt!r}: cannot tell whether it has a rotary position embedding")
    return None


def _config_class(model_type):
    if not isinstance(model_type, str):
        return None
    try:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    except ImportError:  # pragma: no cover - transformers is a dependency
        return None
    return CONFIG_MAPPING[model_type] if model_type in CONFIG_MAPPING else None


def _needs_defaults(config: dict) -> bool:
    heads = _first(config, "num_attention_heads", "n_head")[0]
    width = _first(config, "head_dim", "hidden_size", "n_embd", "qk_rope_head_dim")[0]
    ctx = _first(config, "max_position_embeddings", "n_positions")[0]
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    base = _first(config, "rope_theta", "rotary_emb_base")[0] or (isinstance(rope, dict) and (
        "rope_theta" in rope or any(isinstance(v, dict) and "rope_theta" in v for v in rope.values())))
    return heads is None or width is None or ctx is None or not base


def _with_defaults(config: dict) -> tuple[dict, str | None]:
    """The config completed by transformers' class for its model type (when one exists)."""
    cls = _config_class(config.get("model_type"))
    if cls is None:
        return config, None
    try:
        full = cls.from_dict(dict(config)).to_dict()
    except Exception as exc:  # transformers' own refusal, reported as such
        raise UsageError(f"config: transformers' {cls.__name__} refuses it: {exc}") from None
    full.pop("transformers_version", None)
    return {**full, **{k: v for k, v in config.items() if k not in ("rope_scaling", "rope_theta")}} \
        if "rope_parameters" in full else {**full, **config}, cls.__name__


def _model_rope_keys(model_type, rope: dict) -> set[str]:
    """Rope-dict keys the model type itself reads or declares unread: ``llama_4_scaling_beta``
    (read by Ministral 3's attention, :mod:`yarnlab.rope.hf_scales`), and the config class's
    ``ignore_keys_at_rope_validation`` (transformers is imported only when such a key is there)."""
    keys = {"llama_4_scaling_beta"} if model_type in LLAMA4_SCALING_TYPES else set()
    if set(rope) - _COMMON_KEYS - keys - {k for _, form in rope_types().values() for k in form.keys}:
        cls = _config_class(model_type)
        keys |= set(getattr(cls, "ignore_keys_at_rope_validation", None) or ())
    return keys


# ---- geometry ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Geometry:
    head_dim: int
    rotary_dim: int
    layout: str
    mla: bool


def _geometry(config: dict, rope: dict, where: str) -> _Geometry:
    mt = config.get("model_type")
    mla = config.get("qk_rope_head_dim") is not None
    if mla:
        rot = _integer("qk_rope_head_dim", config["qk_rope_head_dim"], 2)
        head = rot + _integer("qk_nope_head_dim", config.get("qk_nope_head_dim", 0), 0)
        interleaved = mt in INTERLEAVED_TYPES or bool(config.get("rope_interleave", mt in ROPE_INTERLEAVE_TYPES))
        return _Geometry(head, rot, "interleaved" if interleaved else "half", True)
    hkey, heads = _first(config, "num_attention_heads", "n_head")
    if config.get("head_dim") is not None:
        head = _integer("head_dim", config["head_dim"], 2)
    else:
        wkey, hidden = _first(config, "hidden_size", "n_embd")
        if hidden is None or heads is None:
            raise UsageError("config: needs head_dim, or hidden_size and num_attention_heads")
        head = _integer(wkey, hidden) // _integer(hkey, heads)
    if config.get("rotary_dim") is not None:
        rot = _integer("rotary_dim", config["rotary_dim"], 2)
    else:
        pkey, prf = _first(rope, "partial_rotary_factor")
        if pkey is not None:
            pkey = f"{where}.partial_rotary_factor"
        else:
            pkey, prf = _first(config, "partial_rotary_factor", "rotary_pct")
        prf = 1.0 if prf is None else _number(pkey, prf, 0.0, strict=True)
        if prf > 1:
            raise UsageError(f"{pkey}: must be in (0, 1] (got {prf!r})")
        rot = int(head * prf)  # transformers truncates
    layout = "interleaved" if mt in INTERLEAVED_TYPES else "half"
    return _Geometry(head, rot, layout, False)


# ---- one rope dict -> one entry ----------------------------------------------------------------

def _rope_type(rope: dict, where: str, model_type) -> tuple[str, str]:
    """(the name as written, the transformers type it means)."""
    raw = rope.get("rope_type", rope.get("type", "default"))
    if not isinstance(raw, str):
        raise UsageError(f"{where}.rope_type: must be a string (got {shown(raw)})")
    kind = LEGACY_TYPES.get(raw, raw)
    if model_type == "phi3" and raw == "yarn":  # Phi3Config reads yarn as longrope
        kind = "longrope"
    if kind not in rope_types():
        raise UsageError(f"{where}.rope_type: {raw!r} is not supported (supported: "
                         f"{', '.join([*rope_types(), *LEGACY_TYPES])})")
    return raw, kind


def read_rope_entry(config: dict, rope: dict, where: str, layer_types: tuple[str, ...] = (),
                    base_default: float | None = None, warnings: list[str] | None = None) -> RopeEntry:
    """The entry of one rope dict (``where`` names it in messages, e.g. ``rope_scaling``).

    The rope type's form (:func:`rope_types`) gives the method, the keys, how L and s are read and
    the method's parameters; a temperature rule whose form the type reads (``attention_factor``,
    DeepSeek's ``mscale`` pair) is taken in registry order, as transformers prefers
    ``attention_factor``."""
    warnings = [] if warnings is None else warnings
    mt = config.get("model_type")
    raw, kind = _rope_type(rope, where, mt)
    if kind == "dynamic" and mt in NTK_ALPHA_TYPES and rope.get("alpha"):
        return _ntk_alpha_entry(config, rope, where, layer_types, warnings)
    method, form = rope_types()[kind]
    missing = [k for k in form.required if k not in rope]
    if missing:
        raise UsageError("; ".join(f"{where}.{k}: required for rope type {raw!r}" for k in missing))
    unknown = sorted(set(rope) - set(form.keys) - _COMMON_KEYS - _model_rope_keys(mt, rope))
    if unknown:
        warnings.append(f"{where}: {', '.join(unknown)} not read by transformers for rope type {raw!r} (ignored)")
    special = LAYER_HEAD_DIM.get((mt, layer_types[0])) if len(layer_types) == 1 else None
    if special is not None:
        config = {**config, "head_dim": config.get(special[0], special[1])}
    fraction = None
    if form.whole_head:  # frequencies over the whole head; f is the method's parameter
        fraction = rope.get("partial_rotary_factor", config.get("partial_rotary_factor", 1.0))
        fraction = _number(f"{where}.partial_rotary_factor", fraction, 0.0, strict=True)
        if fraction > 1:
            raise UsageError(f"{where}.partial_rotary_factor: must be in (0, 1] (got {fraction!r})")
        geom = _geometry(config, {k: v for k, v in rope.items() if k != "partial_rotary_factor"},
                         where)
        geom = dataclasses.replace(geom, rotary_dim=geom.head_dim) if config.get("rotary_dim") is None else geom
    else:
        geom = _geometry(config, rope, where)
    if "rope_theta" in rope:
        base = _number(f"{where}.rope_theta", rope["rope_theta"], 1.0, strict=True)
    else:
        bkey, base = _first(config, "rope_theta", "rotary_emb_base")
        base = _number(bkey, base, 1.0, strict=True) if bkey else (base_default or DEFAULT_THETA)
    mkey, max_pos = _first(config, "max_position_embeddings", "n_positions")
    if max_pos is None:
        raise UsageError("max_position_embeddings: missing, and transformers has no default for this model type")
    max_pos = _integer(mkey, max_pos)
    orig_where, orig = f"{where}.original_max_position_embeddings", rope.get("original_max_position_embeddings")
    if form.length == "original" and config.get("original_max_position_embeddings") is not None:
        # transformers 5 gives the top-level field priority for these types
        orig_where, orig = "original_max_position_embeddings", config["original_max_position_embeddings"]
    orig = None if orig is None else _integer(orig_where, orig)
    factor = rope.get("factor")
    # a type that requires factor and does not derive s from the lengths refuses null
    if factor is not None or ("factor" in form.required and not form.null_factor):
        factor = _number(f"{where}.factor", factor, 1.0)
    notes: list[str] = []
    if geom.layout == "interleaved" and mt in INTERLEAVED_BY_TYPE:
        notes.append(f"layout: pairs (2d, 2d + 1), rotated by {INTERLEAVED_BY_TYPE[mt]} in transformers' "
                     f"{mt} attention")
    L, factor = form.length_and_scale(raw, factor, orig, max_pos, warnings)
    if raw == "mrope":
        section = rope.get("mrope_section")
        if not (isinstance(section, list) and all(isinstance(x, int) for x in section)
                and sum(section) == geom.rotary_dim // 2):
            raise UsageError(f"{where}.mrope_section: must be integers summing to |D|/2 = "
                             f"{geom.rotary_dim // 2} (got {shown(section)})")
        notes.append(f"mrope: pairs split {section} over (temporal, height, width) positions; for text "
                     f"tokens the three positions agree and this is plain RoPE")
    src = HFRead(rope, where, raw, geom.rotary_dim // 2, fraction, notes, warnings)
    params = form.read(src)
    native = raw != "su"
    if not native:
        warnings.append(f"{where}: rope type 'su' is LongRoPE's legacy name; transformers 5 refuses this "
                        f"config as written (it renames su to longrope only after moving "
                        f"original_max_position_embeddings into the rope dict); write "
                        f"\"rope_type\": \"longrope\" for transformers")
    temperature, tparams = None, {}
    for name, rule in TEMPERATURE_RULES.items():
        if rule.hf is not None and rule.hf.fits(form) and (found := rule.hf.read(src)) is not None:
            temperature, tparams = name, found
            break
    # name the config part a bad value came from: the rope dict when the config has one, else the
    # geometry fields (a huge head_dim on a config without rope_scaling)
    spec = _make_spec(where if rope else "config", method, geom, base, int(L), float(factor), params=params,
                      temperature=temperature, temperature_params=tparams)
    softmax = 1.0
    mscale_all_dim = rope.get("mscale_all_dim")
    if geom.mla and form.reads_factor and mscale_all_dim:
        # DeepSeek's MLA attention multiplies its softmax scale by mscale(s, mscale_all_dim)^2
        g = 0.1 * _number(f"{where}.mscale_all_dim", mscale_all_dim, 0.0, strict=True) * math.log(factor) + 1.0 \
            if factor > 1 else 1.0
        softmax = g * g
        notes.append(f"MLA: the softmax scale is multiplied by mscale(s, mscale_all_dim)^2 = {softmax:.6g}")
    if form.reads_factor and form.length != "declared" and max_pos != spec.extended_ctx:
        msg = (f"{raw}: the config declares max_position_embeddings = {max_pos} but s L = {spec.factor:g} x "
               f"{spec.original_ctx} = {spec.extended_ctx}: the scaling is built for {spec.extended_ctx} positions")
        if form.factor_may_be_null:
            msg += f" (max_position_embeddings / L = {max_pos / spec.original_ctx:g}; transformers uses the factor)"
        warnings.append(msg)
    return RopeEntry(tuple(layer_types), raw, spec, max_pos, "config", geom.layout, softmax, native, tuple(notes))


def _make_spec(owner: str, method: str, geom: _Geometry, base: float, L: int, factor: float, **kw) -> RopeSpec:
    """The RopeSpec of a setting; its problems become one UsageError naming ``owner``."""
    try:
        return RopeSpec(method, head_dim=geom.head_dim, rotary_dim=None if geom.rotary_dim == geom.head_dim
                        else geom.rotary_dim, base=base, original_ctx=L, factor=factor, **kw)
    except SpecError as exc:
        raise UsageError(f"{owner}: the RoPE setting it gives is invalid: {'; '.join(exc.problems)}") from None


def _ntk_alpha_entry(config: dict, rope: dict, where: str, layer_types: tuple[str, ...],
                     warnings: list[str]) -> RopeEntry:
    """Hunyuan's ``dynamic`` rope dict with ``alpha``: a FIXED NTK-aware base b' = b alpha^(|D|/(|D|-2))
    (Eq. 16 with s = alpha), whatever the length; read as method ``ntk`` with factor alpha. alpha
    is not a length ratio, so s L is not an extended context."""
    mt = config.get("model_type")
    alpha = _number(f"{where}.alpha", rope["alpha"], 1.0, strict=True)
    unknown = sorted(set(rope) - {"alpha", "factor"} - _COMMON_KEYS)
    if unknown:
        warnings.append(f"{where}: {', '.join(unknown)} not read by transformers' {mt} rotary for NTK-alpha (ignored)")
    geom = _geometry(config, rope, where)
    bkey, base = ("rope_theta", rope["rope_theta"]) if "rope_theta" in rope else _first(config, "rope_theta")
    base = _number(bkey or "rope_theta", base if bkey else DEFAULT_THETA, 1.0, strict=True)
    max_pos = _integer("max_position_embeddings", config.get("max_position_embeddings"))
    spec = _make_spec(where, "ntk", geom, base, max_pos, alpha)
    note = (f"NTK-alpha ({mt}): the rope dict says 'dynamic', but a fixed alpha = {alpha:g} makes the base "
            f"b' = b alpha^(|D|/(|D|-2)) = {ntk_base(base, alpha, spec.dim):.6g} at every length; alpha is "
            f"not a length ratio, so s L is no extended context (the model declares {max_pos} positions)")
    return RopeEntry(tuple(layer_types), rope.get("rope_type", rope.get("type")), spec, max_pos, "config",
                     geom.layout, 1.0, True, (note,))


# ---- the whole config --------------------------------------------------------------------------

def _rope_dicts(config: dict) -> list[tuple[str, tuple[str, ...], dict, float | None]]:
    """(where, layer types, rope dict, base default) for every RoPE setting the config declares."""
    key = "rope_parameters" if config.get("rope_parameters") is not None else "rope_scaling"
    rope = config.get(key)
    if rope is None:
        rope = {}
    if not isinstance(rope, dict):
        raise UsageError(f"{key}: must be a mapping (got {shown(rope)})")
    labels = config.get("layer_types") if isinstance(config.get("layer_types"), list) else None
    nested = rope and all(isinstance(v, dict) or v is None for v in rope.values()) and (
        labels is None or set(rope) <= set(labels))
    if nested:  # nested by layer type (transformers 5): one setting per layer type
        out = []
        for layer, sub in rope.items():
            if sub is None:
                continue  # a NoPE layer type
            out.append((f"{key}.{layer}", (layer,), sub, None))
        return out
    second = next((k for k in SLIDING_BASE_FIELDS if config.get(k) is not None), None)
    if second is not None:  # Gemma 3's pre-transformers-5 form, and the other second-base fields
        local = _number(second, config[second], 1.0, strict=True)
        full = rope
        if config.get("global_rope_theta") is not None and "rope_theta" not in rope:
            full = {**rope, "rope_theta": _number("global_rope_theta", config["global_rope_theta"], 1.0, strict=True)}
        return [(key, ("full_attention",), full, None),
                (second, ("sliding_attention",), {"rope_type": "default", "rope_theta": local}, None)]
    return [(key, (), rope, None)]


def read_hf_rope(config: dict[str, Any]) -> HFRope:
    """Every RoPE setting of a Hugging Face config dict, with warnings. See the module docstring.

    Raises :class:`~yarnlab.errors.UsageError` naming the field for what transformers 5 would
    refuse, and saying so for a model without rotary position embeddings.
    """
    if not isinstance(config, dict):
        raise UsageError(f"config: must be a JSON object (got {type(config).__name__})")
    warnings: list[str] = []
    if config.get("yarnlab_rope") is not None:
        spec = RopeSpec.from_dict(config["yarnlab_rope"])
        max_pos = config.get("max_position_embeddings") or spec.extended_ctx
        entry = RopeEntry((), "yarnlab_rope", spec, int(max_pos), "config", "half", 1.0, hf_supported(spec),
                          ("stored as yarnlab_rope: vanilla transformers loads the model UNSCALED",))
        return HFRope(config.get("model_type"), [entry], warnings)
    config = _text_config(config)
    why = _no_rope(config)
    if why is not None:
        raise UsageError(f"config: model type {config.get('model_type')!r} has no rotary position embedding "
                         f"({why}); yarnlab reads RoPE models only")
    defaults_from = None
    declared_ctx = _first(config, "max_position_embeddings", "n_positions")[0] is not None
    if _needs_defaults(config):
        given = config
        config, defaults_from = _with_defaults(config)
        if defaults_from:
            keys = ["num_attention_heads", "hidden_size", "max_position_embeddings"]
            hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
            if _is_number(hidden) and _is_number(heads) and heads and config.get("head_dim") != hidden // heads:
                keys.insert(2, "head_dim")  # a default that is not hidden / heads
            filled = [f"{k} = {config[k]}" for k in keys if _first(given, k)[0] is None and config.get(k) is not None
                      and not (k == "max_position_embeddings" and declared_ctx)
                      and not (k in ("num_attention_heads", "hidden_size") and _first(given, "n_head", "n_embd")[0])]
            if not _first(given, "rope_theta", "rotary_emb_base")[0]:
                rope = config.get("rope_parameters") or {}
                theta = rope.get("rope_theta") if isinstance(rope, dict) else None
                filled.append(f"rope_theta = {theta:g}" if _is_number(theta) else
                              "the base per layer type" if _rope_dicts(config)[0][1] else
                              f"the base b = {DEFAULT_THETA:g} (transformers' default theta)")
            warnings.append(f"fields missing from the config take the defaults of transformers' {defaults_from}: "
                            f"{', '.join(filled) or 'none used'}")
    source = "config" if declared_ctx else "transformers default"
    rope_dict = config.get("rope_parameters")
    nope_types = tuple(k for k, v in rope_dict.items() if v is None) if isinstance(rope_dict, dict) and any(
        isinstance(v, dict) for v in rope_dict.values()) else ()
    layer_map = read_layer_map(config, nope_types)
    merged: dict[tuple, RopeEntry] = {}
    for where, layers, rope, base_default in _rope_dicts(config):
        e = read_rope_entry(config, rope, where, layers, base_default, warnings)
        e = dataclasses.replace(e, max_position_source=source)
        k = (repr(e.spec.to_dict()), e.rope_type, e.softmax_factor, e.layout)
        if k in merged:  # layer types with identical settings share one entry
            e = dataclasses.replace(merged[k], layer_types=merged[k].layer_types + e.layer_types)
        merged[k] = e
    entries = sorted(merged.values(), key=lambda e: e.layer_types)  # the same order whatever the key order
    entries = [dataclasses.replace(e, layers=_tuple_or_none(layer_map.rope_layers(e.layer_types))) for e in entries]
    scales = read_length_scales(config, config.get("rope_parameters") or config.get("rope_scaling"), entries,
                                layer_map)
    return HFRope(config.get("model_type"), entries, list(dict.fromkeys(warnings)), defaults_from, layer_map, scales)


def _tuple_or_none(x):
    return None if x is None else tuple(x)
