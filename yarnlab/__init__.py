"""yarnlab: RoPE context-window extension (YaRN, PI, NTK and peers), theory first.

Layers, imports pointing down only (docs/architecture.md):

- ``yarnlab.io``: atomic result files and their provenance (numpy).
- ``yarnlab.rope``: the scaling core (numpy only): one pure function per method, temperature
  rules, the validated :class:`~yarnlab.rope.spec.RopeSpec`, Hugging Face interop, cos/sin tables.
- ``yarnlab.testing``: the core's invariants as check functions, and hypothesis strategies.
- ``yarnlab.theory``: symbolic derivations and numeric analyses (numpy, sympy, scipy,
  matplotlib; never torch).
- ``yarnlab.data`` / ``yarnlab.model`` / ``yarnlab.train``: data, models (torch, transformers), training.
- ``yarnlab.evaluate``: perplexity, passkey, temperature sweeps, attention statistics.
- ``yarnlab.figures`` / ``yarnlab.claims``: figures drawn from result files; the paper's claims
  judged on them (CLAIMS.md).
"""

__version__ = "0.1.0"
