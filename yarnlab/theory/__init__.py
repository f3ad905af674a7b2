"""The theory layer: symbolic derivations and numeric analyses of RoPE scaling (numpy, sympy, scipy,
matplotlib; never torch). Frequencies come from the core :mod:`yarnlab.rope`.

- :mod:`~yarnlab.theory.symbolic`: sympy derivations (Eq. 13, 16, 17 inverse, relative position,
  length scaling, limits), each a :class:`~yarnlab.theory.symbolic.Derivation` with a verified claim.
- :mod:`~yarnlab.theory.wavelength`: per-pair wavelengths vs context, per method; the geometries.
- :mod:`~yarnlab.theory.ramp`: the paper's ramp (linear in r) vs the reference code's (linear in index).
- :mod:`~yarnlab.theory.similarity`: cosine similarity of a vector with itself rotated by k.
- :mod:`~yarnlab.theory.entropy`: attention entropy vs temperature; entropy-invariant temperature
  (Gaussian-logit model, or logits from a real model).
- :mod:`~yarnlab.theory.fit`: fitting temperature rules to measured optima with bootstrap CIs.
- :mod:`~yarnlab.theory.figures`: figures drawn from result tables only.
- :mod:`~yarnlab.theory.run` / :mod:`~yarnlab.theory.cli`: the ``yarnlab theory`` command.
"""
