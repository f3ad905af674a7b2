"""The scaling core: every RoPE scaling method as a pure numpy function, in one registry.

Start at :data:`METHODS` (methods) and :data:`TEMPERATURE_RULES` (attention factors); a
:class:`RopeSpec` joins a method, its parameters and a geometry, validated.
"""

from yarnlab.rope.frequencies import base_inv_freq, correction_dim, correction_range, ratios, wavelengths
from yarnlab.rope.hf import hf_supported, read_hf_config, spec_from_hf_config, spec_to_hf
from yarnlab.rope.hf_read import RopeEntry, read_hf_rope
from yarnlab.rope.methods import METHODS, Geometry
from yarnlab.rope.spec import DynamicLength, RopeResult, RopeSpec
from yarnlab.rope.tables import cos_sin, rotate
from yarnlab.rope.temperature import TEMPERATURE_RULES, attention_factor

__all__ = [
    "METHODS", "TEMPERATURE_RULES", "DynamicLength", "Geometry", "RopeEntry", "RopeResult", "RopeSpec",
    "attention_factor", "base_inv_freq", "correction_dim", "correction_range", "cos_sin",
    "hf_supported", "ratios", "read_hf_config", "read_hf_rope", "rotate", "spec_from_hf_config", "spec_to_hf",
    "wavelengths",
]
