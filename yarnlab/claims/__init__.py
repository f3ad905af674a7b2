"""Testing the YaRN paper's claims (arXiv 2309.00071; docs/paper.md) on the workflow's result files:
regime checks on the base model first, then per claim the published number, yarnlab's measurement
with an interval over held-out works and a verdict; written to paper_figs/CLAIMS.md and a JSON twin.

- :mod:`yarnlab.claims.inputs`: the result files, derived from the workflow's settings
  (:mod:`yarnlab.workflow.layout`).
- :mod:`yarnlab.claims.results`: reading them by role; paired comparison families.
- :mod:`yarnlab.claims.stats`: intervals (bootstrap-t over works, simultaneous max-t, Wilson).
- :mod:`yarnlab.claims.grammar`: what each verdict means.
- :mod:`yarnlab.claims.regime`: the checks that decide whether the toy can test a claim.
- :mod:`yarnlab.claims.registry`: the claims (id, published entry, checks needed, measurement, section,
  the claims each reads).
- :mod:`yarnlab.claims.perplexity`, :mod:`~yarnlab.claims.finetuning`, :mod:`~yarnlab.claims.temperature`,
  :mod:`~yarnlab.claims.noft`, :mod:`~yarnlab.claims.retrieval`: the claims, by the tables they read; each
  a measurement (numbers, intervals, verdicts) and a section written from it (:mod:`yarnlab.claims.sections`:
  the words they share).
- :mod:`yarnlab.claims.render`: CLAIMS.md and the forest figure.
"""
