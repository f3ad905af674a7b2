"""Experiment figures and tables: functions of result files (CSV / JSON lines) that write PNG + PDF
figures and CSV + Markdown tables. They summarise (means, bootstrap intervals over documents) and
never run a model. :data:`yarnlab.figures.plots.FIGURES` maps each name to its function; the
command line is ``python -m yarnlab.figures NAME --inputs ... --out PREFIX``.
"""
