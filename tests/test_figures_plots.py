"""Figure functions read result tables and write PNG + PDF (+ CSV/Markdown summaries)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yarnlab.errors import UsageError
from yarnlab.figures import plots
from yarnlab.figures.cli import main
from yarnlab.theory.provenance import read_table, write_table


def test_boot_ppl_brackets_the_point_estimate():
    nll = np.log(np.array([2.0, 3.0, 4.0, 5.0]))
    p, lo, hi = plots.boot_ppl(nll, n_boot=500)
    assert p == pytest.approx(math.exp(nll.mean()))
    assert lo < p < hi


def test_paper_reference_writes_every_product(tmp_path):
    out = tmp_path / "ref"
    written = plots.paper_reference([str(plots.PAPER_NUMBERS)], str(out))
    assert {p.rsplit(".", 1)[1] for p in written} == {"csv", "md", "png", "pdf"}
    rows = read_table(f"{out}.csv")
    yarn = [r for r in rows if r["model"] == "YaRN (s=2)" and r["context"] == 8192]
    assert yarn[0]["value"] == 3.35 and yarn[0]["source"].startswith("published")


def test_dynamic_scaling_summary_matches_the_input(tmp_path):
    rows = [{"method": m, "length": n, "doc": d, "nll": math.log(v)}
            for m, v in (("none", 3.0), ("dynamic-yarn", 2.0)) for n in (256, 512) for d in range(4)]
    write_table(tmp_path / "dyn.csv", rows, {})
    plots.dynamic_scaling([str(tmp_path / "dyn.csv")], str(tmp_path / "fig"))
    summary = read_table(tmp_path / "fig.csv")
    assert {(r["method"], round(r["ppl"], 6)) for r in summary} == {("none", 3.0), ("dynamic-yarn", 2.0)}
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_cli_unknown_name_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="name"):
        from yarnlab.figures.cli import _run

        class A:
            name, inputs, out, set = "nope", [], str(tmp_path / "x"), None
        _run(A)
    assert main(["nope", "--inputs", "x", "--out", str(tmp_path / "x")]) == 2
