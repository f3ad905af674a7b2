"""Figure functions read summary tables and only draw; the summaries (yarnlab.figures.summaries,
``yarnlab summarize KIND``) compute each statistic once."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yarnlab.errors import UsageError
from yarnlab.figures import plots, summaries
from yarnlab.figures.cli import main
from yarnlab.io import read_table, write_table, write_table_with_markdown

FIGURES_DIR = Path(plots.__file__).parent


def _ppl_rows():
    """Two models x two lengths x 6 documents from 3 works (2 pieces each), known NLLs."""
    rows = []
    for label, method, ft, shift in (("base-seed0", "none", 1, 0.0), ("yarn-s2", "yarn", 1, -0.1),
                                     ("base-sliding", "sliding", 0, 0.05)):
        for n in (256, 512):
            for i, doc in enumerate(f"w{w}@{o}" for w in range(3) for o in (0, 256)):
                rows.append({"label": label, "method": method, "scale": 1.0 if method != "yarn" else 2.0,
                             "finetuned": ft, "length": n, "doc": doc, "nll": 1.0 + 0.1 * i + shift + n / 5120})
    return rows


def test_ppl_summary_is_exp_mean_nll_per_model_and_length_with_an_interval_around_it():
    rows = _ppl_rows()
    out = summaries.ppl_by_model_length(rows, n_boot=300)
    assert len(out) == 6
    for r in out:
        nll = [x["nll"] for x in rows if x["label"] == r["label"] and x["length"] == r["length"]]
        assert r["ppl"] == pytest.approx(math.exp(np.mean(nll)))
        assert r["ci_low"] < r["ppl"] < r["ci_high"]
        assert (r["n_docs"], r["n_works"]) == (6, 3)


def test_short_context_ratio_is_paired_against_the_base():
    out = {r["label"]: r for r in summaries.short_context(_ppl_rows(), 256, n_boot=300)}
    assert set(out) == {"base-seed0", "yarn-s2", "base-sliding"}
    assert out["yarn-s2"]["ratio_vs_base"] == pytest.approx(math.exp(-0.1))
    # a constant per-document difference has a zero-width paired interval
    assert out["yarn-s2"]["ratio_ci_low"] == pytest.approx(math.exp(-0.1))
    assert out["base-seed0"]["ratio_vs_base"] == pytest.approx(1.0)
    with pytest.raises(UsageError, match="length"):
        summaries.short_context(_ppl_rows(), 128)


def test_ppl_summaries_read_one_reading_and_refuse_a_mix(tmp_path):
    """Tables of two readings (yarnlab eval ppl --also-truncation): a summary takes the one named; without a
    name it refuses to average them; rows without a reading column count as the named one."""
    rows = [{**r, "reading": rd, "nll": r["nll"] + (0.5 if rd == "truncation" else 0.0)}
            for r in _ppl_rows() for rd in ("same-targets", "truncation")]
    same = summaries.ppl_by_model_length(rows, n_boot=300, reading="same-targets")
    assert {r["reading"] for r in same} == {"same-targets"} and len(same) == 6
    ref = {(r["label"], r["length"]): r["ppl"] for r in summaries.ppl_by_model_length(_ppl_rows(), n_boot=300)}
    assert all(r["ppl"] == pytest.approx(ref[(r["label"], r["length"])]) for r in same)
    trunc = summaries.short_context(rows, 256, n_boot=300, reading="truncation")
    assert {r["label"]: r["ppl"] for r in trunc}["yarn-s2"] == pytest.approx(ref[("yarn-s2", 256)] * math.exp(0.5))
    with pytest.raises(UsageError, match=r"reading: the tables hold the readings \['same-targets', 'truncation'\]"):
        summaries.ppl_by_model_length(rows, n_boot=300)
    with pytest.raises(UsageError, match="reading: no rows of the 'sliding' reading"):
        summaries.ppl_by_model_length(rows, n_boot=300, reading="sliding")
    assert "reading" not in summaries.ppl_by_model_length(_ppl_rows(), n_boot=300, reading=None)[0]
    # as the workflow calls it: yarnlab summarize ppl|short_context --set reading=...
    summaries.summarize("ppl", rows, str(tmp_path / "p.csv"), [], {"reading": "same-targets", "n_boot": "300"})
    assert {r["reading"] for r in read_table(tmp_path / "p.csv")} == {"same-targets"}
    summaries.summarize("short_context", rows, str(tmp_path / "s.csv"), [], {"reading": "truncation", "length": "256",
                                                                               "n_boot": "300"})
    assert "truncation reading" in (tmp_path / "s.md").read_text()
    with pytest.raises(UsageError, match="reading: the tables hold the readings"):
        summaries.summarize("short_context", rows, str(tmp_path / "s.csv"), [], {"length": "256"})


def test_passkey_summary_has_wilson_intervals_and_the_table5_form():
    rows = [{"label": "m", "length": n, "exact": int(t < k), "ranked": int(t < k)}
            for n, k in ((256, 10), (512, 3)) for t in range(10)]
    out = summaries.passkey(rows)
    assert [r["ranked_acc"] for r in out] == [1.0, 0.3]
    assert out[1]["ranked_low"] < 0.3 < out[1]["ranked_high"] and out[0]["ranked_high"] == pytest.approx(1.0)
    t5 = summaries.passkey_table5(out, 0.8)
    assert t5 == [{"label": "m", "max_length_acc_ge_thr": 256, "mean_ranked_acc_up_to_it": 1.0}]


def test_summarize_writes_csv_and_md_and_rejects_unknown_options(tmp_path):
    write_table(tmp_path / "ppl.csv", _ppl_rows(), {})
    written = summaries.summarize("ppl", read_table(tmp_path / "ppl.csv"), str(tmp_path / "s.csv"),
                                  [str(tmp_path / "ppl.csv")], {"n_boot": "200"})
    assert written == [str(tmp_path / "s.csv"), str(tmp_path / "s.md")]
    assert "bootstrap-t over works" in (tmp_path / "s.md").read_text()
    with pytest.raises(UsageError, match="unknown option"):
        summaries.summarize("ppl", _ppl_rows(), str(tmp_path / "s.csv"), [], {"bogus": "1"})
    with pytest.raises(UsageError, match="kind"):
        summaries.summarize("nope", _ppl_rows(), str(tmp_path / "s.csv"), [], {})


def test_yarnlab_summarize_writes_the_table_and_names_a_bad_kind_or_option(tmp_path, capsys):
    """``yarnlab summarize KIND`` as the workflow runs it (in-process): the table and its twin, then
    exit 2 naming the field and the allowed values; the claims command has no summaries."""
    from yarnlab.cli import main as yarnlab

    write_table(tmp_path / "ppl.csv", _ppl_rows(), {})
    args = ["--inputs", str(tmp_path / "ppl.csv"), "--out", str(tmp_path / "s.csv")]
    assert yarnlab(["summarize", "ppl", *args, "--set", "n_boot=200"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "s.csv"), str(tmp_path / "s.md")]
    assert read_table(tmp_path / "s.csv") == summaries.ppl_by_model_length(_ppl_rows(), 200)
    assert yarnlab(["summarize", "nope", *args]) == 2
    err = capsys.readouterr().err
    assert "yarnlab summarize: error: kind: must be one of" in err and "'short_context'" in err
    assert yarnlab(["summarize", "passkey", *args, "--set", "bogus=1"]) == 2
    assert "--set: unknown option(s) ['bogus'] for summary passkey; allowed: ['threshold']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        yarnlab(["claims", "summarize", "ppl", *args])
    assert exc.value.code == 2


def test_ppl_vs_context_draws_the_summary_with_the_sliding_baseline_in_every_panel(tmp_path, monkeypatch):
    write_table_with_markdown(summaries.ppl_by_model_length(_ppl_rows(), 200), str(tmp_path / "ppl.csv"), {})
    labels = []
    import matplotlib.axes

    orig = matplotlib.axes.Axes.legend

    def spy(self, *a, **k):
        labels.append(self.get_legend_handles_labels()[1])
        return orig(self, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "legend", spy)
    written = plots.ppl_vs_context([str(tmp_path / "ppl.csv")], str(tmp_path / "fig"), original_ctx="256",
                                   unit="per byte")
    assert {p.rsplit(".", 1)[1] for p in written} == {"png", "pdf"}
    assert labels and all(any("sliding" in x for x in panel) for panel in labels)
    with pytest.raises(UsageError, match="not a summary table"):  # raw per-document rows are refused
        write_table(tmp_path / "raw.csv", _ppl_rows(), {})
        plots.ppl_vs_context([str(tmp_path / "raw.csv")], str(tmp_path / "fig"))


@pytest.mark.parametrize("name", sorted(plots.FIGURES))
def test_every_figure_raises_on_an_unknown_option(tmp_path, name):
    with pytest.raises(UsageError, match="unknown option"):
        plots.FIGURES[name]([str(plots.PAPER_NUMBERS)], str(tmp_path / "x"), no_such_option="1")


@pytest.mark.slow
def test_figures_import_nothing_from_evaluate_and_compute_no_bootstrap():
    code = ("import sys, yarnlab.figures.plots, yarnlab.figures.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('yarnlab.evaluate')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    drawing = [p for p in FIGURES_DIR.glob("*.py") if p.name != "summaries.py"]  # summaries: the statistics, once
    assert {p.name for p in drawing} >= {"plots.py", "cli.py"}
    for path in drawing:
        src = path.read_text()
        for pattern in ("integers(", "quantile(", "yarnlab.evaluate", "bootstrap(", "default_rng"):
            assert pattern not in src, f"{path.name} contains {pattern!r}"


def test_paper_reference_writes_every_product(tmp_path):
    out = tmp_path / "ref"
    written = plots.paper_reference([str(plots.PAPER_NUMBERS)], str(out))
    assert {p.rsplit(".", 1)[1] for p in written} == {"csv", "md", "png", "pdf"}
    rows = read_table(f"{out}.csv")
    yarn = [r for r in rows if r["model"] == "YaRN (s=2)" and r["context"] == 8192]
    assert yarn[0]["value"] == 3.35 and yarn[0]["source"].startswith("published")


def test_dynamic_scaling_summary_matches_the_input(tmp_path):
    rows = [{"method": m, "length": n, "doc": f"w{d}@0", "nll": math.log(v)}
            for m, v in (("none", 3.0), ("dynamic-yarn", 2.0)) for n in (256, 512) for d in range(4)]
    write_table(tmp_path / "dyn.csv", rows, {})
    summaries.summarize("dynamic", read_table(tmp_path / "dyn.csv"), str(tmp_path / "fig.csv"),
                        [str(tmp_path / "dyn.csv")], {"n_boot": "200"})
    plots.dynamic_scaling([str(tmp_path / "fig.csv")], str(tmp_path / "fig"), original_ctx="256")
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


def _sweep_rows():
    """A sweep of 3 documents x 2 segments over m in {0.8, 1, 1.2} with known NLLs; document d's
    segment g is lowest at m index (d + g) % 3."""
    from yarnlab.evaluate.sweep import SweepResult

    ms = np.array([0.8, 1.0, 1.2])
    seg = np.array([[[1.0 + 0.1 * ((k - d - g) % 3) + 0.01 * d for g in range(2)] for d in range(3)]
                    for k in range(3)])
    res = SweepResult(ms, seg.mean(2), seg, np.array([4, 4]), 8, 4)
    return res, [{"s": 2.0, **r, "doc": f"w{r['doc']}@0"} for r in res.rows()]


def test_sweep_rows_round_trip():
    from yarnlab.evaluate.sweep import SweepResult

    res, rows = _sweep_rows()
    back = SweepResult.from_rows(rows)
    np.testing.assert_array_equal(back.ms, res.ms)
    np.testing.assert_array_equal(back.seg_nll, res.seg_nll)
    np.testing.assert_array_equal(back.doc_nll, res.doc_nll)
    np.testing.assert_array_equal(back.seg_tokens, res.seg_tokens)
    with pytest.raises(UsageError, match="missing"):
        SweepResult.from_rows(rows[1:])


def test_temperature_study_summary_holds_figs_2_to_4_and_the_figure_draws_it(tmp_path):
    res, rows = _sweep_rows()
    write_table(tmp_path / "sweep.csv", rows, {})
    summaries.summarize("temperature_study", read_table(tmp_path / "sweep.csv"), str(tmp_path / "ts.csv"),
                        [str(tmp_path / "sweep.csv")], {})
    out = read_table(tmp_path / "ts.csv")

    def value(stat, seg, m):
        (hit,) = [r["value"] for r in out if (r["statistic"], r["segment"], r["m"]) == (stat, seg, m)]
        return hit

    ppl = np.exp(res.doc_nll)  # (M, D)
    for k, m in enumerate(res.ms):
        assert value("ppl_mean", -1, m) == pytest.approx(ppl[k].mean())
        assert value("ppl_std", -1, m) == pytest.approx(ppl[k].std(ddof=1))
        for g in range(2):
            assert value("pct_change", g, 1.0) == 0
            seg_ppl = np.exp(res.seg_nll[:, :, g].mean(1))
            assert value("pct_change", g, m) == pytest.approx(100 * (seg_ppl[k] / seg_ppl[1] - 1))
            # document d is lowest at index (d + g) % 3: one document per m
            assert value("argmin_count", g, m) == 1
    plots.temperature_study([str(tmp_path / "ts.csv")], str(tmp_path / "fig"), original_ctx="4")
    assert (tmp_path / "fig.png").stat().st_size > 0
    with pytest.raises(UsageError, match="not a summary table"):  # the raw sweep is refused
        plots.temperature_study([str(tmp_path / "sweep.csv")], str(tmp_path / "fig2"))


def test_induction_curve_draws_the_logged_diagnostics_and_refuses_a_log_without_them(tmp_path):
    import json

    log = tmp_path / "metrics.jsonl"
    rows = [{"step": k * 10, "loss": 3.0, "tokens": k * 40960, "heldout_bpb": 3.0 - 0.1 * k,
             "induction_gain": 0.5 * k, "induction_gain_d32": 0.6 * k, "induction_gain_d224": 0.4 * k,
             "icl": -0.01 * k, "icl_lo": -0.02 * k, "icl_hi": 0.0} for k in range(1, 6)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows + [{"step": 50, "final": True, "heldout_bpb": 2.5}]))
    out = plots.induction_curve([str(log)], str(tmp_path / "ind"), unit="per byte", original_ctx=256)
    assert [Path(p).suffix for p in out] == [".png", ".pdf"] and all(Path(p).stat().st_size > 1000 for p in out)
    bare = tmp_path / "old.jsonl"
    bare.write_text(json.dumps({"step": 10, "loss": 3.0, "tokens": 1, "heldout_bpb": 3.0}) + "\n")
    with pytest.raises(UsageError, match="induction diagnostics"):
        plots.induction_curve([str(bare)], str(tmp_path / "x"))
