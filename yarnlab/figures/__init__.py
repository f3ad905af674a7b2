"""Experiment figures: functions of tables (CSV / JSON lines) that write PNG + PDF figures. They draw
and never compute a statistic or run a model: perplexities with intervals come from
``yarnlab claims summarize`` (:mod:`yarnlab.claims.summaries`), the temperature fit from
``yarnlab claims temperature-fit``. Unknown options raise (:func:`yarnlab.figures.common.options`).
:data:`yarnlab.figures.plots.FIGURES` maps each name to its function; the
command line is ``python -m yarnlab.figures NAME --inputs ... --out PREFIX``.
"""
