"""Testing the YaRN paper's claims (arXiv 2309.00071, PAPER.md "The paper's claims") on the
workflow's result files: per claim the published number, yarnlab's measurement with a 95%
bootstrap interval over documents, and a verdict; written to paper_figs/CLAIMS.md and a JSON twin.

- :mod:`yarnlab.claims.inputs`: the result files, derived from the workflow's settings.
- :mod:`yarnlab.claims.stats`: bootstrap intervals and verdict rules.
- :mod:`yarnlab.claims.generate`: the claim sections, the Markdown and the JSON.
"""
