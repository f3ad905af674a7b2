"""The public invariant API (yarnlab.testing) applied to methods defined here, not in the registry:
a correct one passes every check, deliberately broken ones are caught."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.rope import base_inv_freq
from yarnlab.rope.methods import METHODS, Geometry
from yarnlab.testing import invariants as inv
from yarnlab.testing import strategies as yst


def slow_half_pi(geom: Geometry, factor: float, seq_len: int | None = None, split: float = 0.5):
    """A custom method: the fastest ``split`` of the pairs untouched, the rest interpolated like PI."""
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    keep = np.arange(theta.size) < split * theta.size
    return np.where(keep, theta, theta / factor), factor


def fast_half_pi(geom: Geometry, factor: float, seq_len: int | None = None):
    """Broken on purpose: PI on the FAST pairs and the slow ones untouched (a reversed blend), so
    wavelengths stop increasing once s exceeds b^(2/|D|)."""
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    fast = np.arange(theta.size) < theta.size // 2
    return np.where(fast, theta / factor, theta), factor


def extrapolating(geom: Geometry, factor: float, seq_len: int | None = None):
    """Broken on purpose: theta * s^(1/4) speeds rotations up, outside [theta/s, theta] for s > 1."""
    return base_inv_freq(geom.rotary_dim, geom.base) * factor**0.25, factor


def dynamic_slow_half_pi(geom: Geometry, factor: float, seq_len: int | None = None):
    s = 1.0 if seq_len is None else max(1.0, seq_len / geom.original_ctx)
    return slow_half_pi(geom, s)[0], s


def dynamic_skewed(geom: Geometry, factor: float, seq_len: int | None = None):
    """Broken on purpose: s = (l/L)^1.01, plain RoPE up to L but not the static method at l = sL."""
    s = 1.0 if seq_len is None else max(1.0, seq_len / geom.original_ctx) ** 1.01
    return slow_half_pi(geom, s)[0], s


@given(yst.method_geometries(), yst.factors(), st.floats(0.0, 1.0))
def test_custom_method_passes_every_invariant(geom, s, split):
    inv.check_method(slow_half_pi, geom, s, {"split": split})
    inv.check_dynamic_equals_static(dynamic_slow_half_pi, slow_half_pi, geom, k=3.0)


@pytest.mark.parametrize("broken,invariant", [(fast_half_pi, "monotone wavelengths"), (extrapolating, "bounds")])
def test_broken_custom_method_is_caught(broken, invariant):
    @given(yst.method_geometries(), yst.factors())
    def prop(geom, s):
        inv.check_method(broken, geom, s)

    with pytest.raises(inv.InvariantError, match=invariant):
        prop()


def test_broken_dynamic_method_is_caught():
    @given(yst.method_geometries(), st.integers(2, 16))
    def prop(geom, k):
        inv.check_dynamic_equals_static(dynamic_skewed, slow_half_pi, geom, k=float(k))

    with pytest.raises(inv.InvariantError, match="dynamic = static"):
        prop()


def test_custom_temperature_rule_checked():
    def gentle(s, *, original_ctx, seq_len=None):
        return 0.07 * math.log(s) + 1.0 if s > 1 else 1.0

    def inverted(s, *, original_ctx, seq_len=None):
        return 1.0 / (0.1 * math.log(s) + 1.0) if s > 1 else 1.0

    inv.check_attention_factor(gentle, 4096, 2.0, 16.0)
    with pytest.raises(inv.InvariantError, match="increasing"):
        inv.check_attention_factor(inverted, 4096, 2.0, 16.0)
    with pytest.raises(inv.InvariantError, match="at s = 1"):
        inv.check_attention_factor(lambda s, **_: 1.2, 4096, 2.0, 16.0)


def test_grow_only_check_catches_a_tracker_without_memory():
    class Forgetful:
        def __call__(self, length):
            return length

    inv.check_grow_only(Forgetful(), [5, 3, 9], grow_only=False)
    with pytest.raises(inv.InvariantError, match="call 1"):
        inv.check_grow_only(Forgetful(), [5, 3, 9], grow_only=True)


def test_shape_and_finiteness_are_checked():
    geom = Geometry(64, 10000.0, 4096)
    with pytest.raises(inv.InvariantError, match="shape"):
        inv.check_bounds(lambda g, s, l=None: (np.ones(3), s), geom, 2.0)
    with pytest.raises(inv.InvariantError, match="finite"):
        inv.check_bounds(lambda g, s, l=None: (np.full(32, np.nan), s), geom, 2.0)


@given(st.sampled_from(sorted(set(METHODS) - {"proportional"}))
       .flatmap(lambda m: st.tuples(st.just(m), yst.method_params(m, 32, 4.0))))
def test_registry_methods_pass_check_method(case):
    """The same API holds for every registered method (wavelengths need not be monotone for
    LongRoPE's searched per-pair factors) but proportional RoPE, whose slowest pairs have theta = 0
    by design (checked with f = 1 and on its own in test_rope_proportional.py)."""
    method, params = case
    info = METHODS[method]
    geom = Geometry(64, 10000.0, 2048)
    inv.check_method(info.fn, geom, 4.0, params, seq_len=4096 if info.dynamic else None,
                     monotone=method != "longrope")


def test_strategies_cover_every_registered_parameter_and_rule():
    """A new method parameter or temperature rule is drawn without touching the strategies: for
    each one, hypothesis finds a draw that holds it."""
    from hypothesis import find

    from yarnlab.rope.temperature import TEMPERATURE_RULES

    for name, method in METHODS.items():
        for p in method.parameters:
            find(yst.method_params(name, 8, 4.0), lambda params, key=p.name: key in params)
    for rule in TEMPERATURE_RULES:
        find(yst.temperature_rules(), lambda drawn, rule=rule: drawn[0] == rule)


def test_readme_example_runs(tmp_path):
    """The README's "Property-testing your own method" block, run as written (from a module file,
    so hypothesis can read the test's source)."""
    import runpy
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text.split("## Property-testing your own method", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "readme_example.py").write_text(code)
    namespace = runpy.run_path(str(tmp_path / "readme_example.py"))
    namespace["test_slow_half_pi"]()
