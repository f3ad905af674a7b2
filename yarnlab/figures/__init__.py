"""Experiment figures, in two steps. Summarize: :mod:`yarnlab.figures.summaries` computes each figure's
statistics once into a summary table (perplexities with the claims' intervals, passkey accuracy, ...),
``yarnlab summarize KIND``. Draw: functions of tables (CSV / JSON lines) that write PNG + PDF figures;
they draw and never compute a statistic or run a model, reading the summary tables and the temperature
fit of ``yarnlab claims temperature-fit``. Unknown options raise (:func:`yarnlab.figures.common.options`).
:data:`yarnlab.figures.plots.FIGURES` maps each name to its function; the command line is ``python -m
yarnlab.figures NAME --inputs ... --out PREFIX`` (or ``yarnlab figure NAME ...``).
"""
