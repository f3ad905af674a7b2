"""yarnlab: RoPE context-window extension (YaRN, PI, NTK and peers), theory first.

Layers, imports pointing down only:

- ``yarnlab.rope``: the scaling core (numpy only): one pure function per method, temperature
  rules, the validated :class:`~yarnlab.rope.spec.RopeSpec`, Hugging Face interop, cos/sin tables.
- ``yarnlab.theory``: symbolic (sympy) derivations and numeric analyses (numpy only).
- ``yarnlab.model`` / ``yarnlab.data`` / ``yarnlab.train``: torch and transformers.
- ``yarnlab.evaluate``: perplexity, passkey, temperature sweeps, attention statistics.
"""

__version__ = "0.1.0"
