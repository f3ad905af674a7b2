"""Property-test your own RoPE scaling functions with yarnlab's invariants.

- :mod:`yarnlab.testing.invariants` (numpy only): check functions for the invariants every scaling
  method of the registry satisfies: s = 1 is plain RoPE, theta/s <= theta' <= theta, monotone
  wavelengths, the ramp's ends, a dynamic method at l = kL equals its static form at s = k, the
  relative-position property of the rotation, the attention factor (1 at s = 1, increasing), and
  grow-only length tracking. Each raises :class:`~yarnlab.testing.invariants.InvariantError` (an
  ``AssertionError``) naming the invariant, the pair and the values.
- :mod:`yarnlab.testing.strategies` (needs hypothesis, the ``[dev]`` extra:
  ``pip install 'yarnlab[dev]'``): documented strategies for geometries, scale factors, every
  registered method's parameters and every temperature rule (both drawn from the registries, so a
  newly registered method or rule is drawn too), valid specs, planted-invalid parameters, partial
  rotary factors whose product is not exact, degenerate ramps and length sequences.

A method is any function with the registry's signature
``fn(geom: Geometry, factor, seq_len=None, **params) -> (inv_freq, s_eff)`` (see
:mod:`yarnlab.rope.methods`); the README section "Property-testing your own method" shows one.
Neither module is imported by ``import yarnlab``.
"""
