"""Reusable hypothesis strategies for RoPE geometries and scaling specs.

- ``geometries()``: dicts with head_dim (4..256, even), rotary_dim (<= head_dim, even, or None),
  base (2..1e7, log-uniform-ish), original_ctx (16..131072).
- ``factors()``: s in [1, 128], with s = 1 drawn often.
- ``ramp_bounds()``: (alpha, beta) with 0 < alpha and beta >= 1.25 alpha (narrower ramps make
  transformers' float32 blend ill-conditioned, which parity tests would then blame on yarnlab).
- ``specs(methods=...)``: valid ``RopeSpec`` values over every method and its parameters.
- ``invalid_spec_fields()``: field dicts with at least one planted violation.
"""

from __future__ import annotations

from hypothesis import strategies as st

from yarnlab.rope import RopeSpec
from yarnlab.rope.methods import METHODS

head_dims = st.integers(2, 128).map(lambda k: 2 * k)
bases = st.one_of(st.sampled_from([10000.0, 500000.0, 1e6, 1e7]), st.floats(2.0, 1e7))
contexts = st.one_of(st.sampled_from([256, 2048, 4096, 8192, 131072]), st.integers(16, 131072))
factors = st.one_of(st.just(1.0), st.sampled_from([2.0, 4.0, 8.0, 16.0, 32.0, 128.0]), st.floats(1.0, 128.0))


@st.composite
def geometries(draw, partial: bool = True):
    head_dim = draw(head_dims)
    rotary_dim = None
    if partial and draw(st.booleans()):
        rotary_dim = 2 * draw(st.integers(2, head_dim // 2))
    return {"head_dim": head_dim, "rotary_dim": rotary_dim, "base": draw(bases), "original_ctx": draw(contexts)}


@st.composite
def ramp_bounds(draw):
    alpha = draw(st.floats(0.01, 64.0))
    beta = draw(st.floats(alpha * 1.25, 4096.0))
    return alpha, beta


@st.composite
def method_params(draw, method: str, n_pairs: int = 64, factor: float = 8.0):
    params = {}
    if "alpha" in METHODS[method].params:
        alpha, beta = draw(ramp_bounds())
        params.update(alpha=alpha, beta=beta, ramp=draw(st.sampled_from(["paper", "index"])),
                      truncate=draw(st.booleans()))
    if method == "dynamic-ntk":
        params["variant"] = draw(st.sampled_from(["paper", "transformers"]))
    if method == "llama3":
        low = draw(st.floats(0.1, 8.0))
        params.update(low_freq_factor=low, high_freq_factor=draw(st.floats(low * 1.25, 64.0)))
    if method == "longrope":
        for key in ("short_factor", "long_factor"):
            # per-pair factors within [1, s], so s = 1 is plain RoPE and theta/s <= theta' <= theta hold
            params[key] = draw(st.lists(st.floats(1.0, factor), min_size=n_pairs, max_size=n_pairs))
    return params


@st.composite
def specs(draw, methods=tuple(METHODS), factor=None):
    method = draw(st.sampled_from(list(methods)))
    geom = draw(geometries())
    s = draw(factors) if factor is None else factor
    n_pairs = (geom["rotary_dim"] or geom["head_dim"]) // 2
    return RopeSpec(method=method, factor=s, params=draw(method_params(method, n_pairs, s)), **geom)


BAD_VALUES = {
    "method": st.sampled_from(["", "YARN", "linear", "dynamic", None, 3]),
    "head_dim": st.one_of(st.integers(-10, 3), st.integers(2, 200).map(lambda k: 2 * k + 1), st.just(64.0)),
    "base": st.one_of(st.floats(-1e3, 1.0), st.just(float("nan")), st.just(float("inf")), st.just("1e4")),
    "original_ctx": st.one_of(st.integers(-100, 0), st.just(4096.0), st.just(None)),
    "factor": st.one_of(st.floats(-10, 0.999), st.just(float("nan")), st.just(float("inf"))),
}


@st.composite
def invalid_spec_fields(draw):
    """(fields, bad_keys): a field dict for RopeSpec(**fields) with the listed fields made invalid."""
    geom = draw(geometries(partial=False))
    fields = {"method": "yarn", "factor": 4.0, **geom}
    bad = draw(st.lists(st.sampled_from(sorted(BAD_VALUES)), min_size=1, max_size=5, unique=True))
    for key in bad:
        fields[key] = draw(BAD_VALUES[key])
    return fields, bad
