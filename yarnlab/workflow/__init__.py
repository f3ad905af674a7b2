"""What the Snakemake workflow (``workflows/``) and the package share about a run, in one place.

- :mod:`yarnlab.workflow.layout`: the label grammar of models, ``fmt``, every result path of a run (models,
  evaluation tables, analysis tables, logs, figures) and the settings the claims generator reads. The rules
  name their outputs with it and :mod:`yarnlab.claims.inputs` names the generator's inputs with it.
- :mod:`yarnlab.workflow.config`: the cross-checks of a workflow config, every problem at once.

Standard library only at import time: the Snakefile imports both while it parses.
"""
