"""``yarnlab theory``: tables with provenance, figures from tables read back, bad input exits 2."""

import json

import pytest

from yarnlab.cli import main
from yarnlab.io import read_table, write_table
from yarnlab.theory import figures

FAST = ["--geometries", "llama2,tiny", "--scales", "2,16", "--sigmas", "2", "--n-boot", "50",
        "--entropy-scales", "2,16", "--similarity-scales", "2"]


@pytest.fixture(scope="module")
def theory_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("theory")
    assert main(["theory", "--out", str(out), *FAST]) == 0
    return out


def test_tables_and_provenance(theory_out):
    for name in ("derivations", "wavelengths", "wavelength_summary", "ramp", "ramp_summary", "similarity",
                 "entropy_curve", "entropy_invariant", "temperature_rules", "fit_points", "fit_band"):
        rows = read_table(theory_out / f"{name}.csv")
        assert rows, name
        prov = json.loads((theory_out / f"{name}.csv.provenance.json").read_text())
        assert prov["package"] == "yarnlab" and prov["version"] and prov["rows"] == len(rows)
        assert prov["parameters"]["scales"] == [2.0, 16.0] and "git_revision" in prov and "git_dirty" in prov
        assert (theory_out / f"{name}.csv").stat().st_mode & 0o777 == 0o644
    summary = json.loads((theory_out / "summary.json").read_text())
    assert summary["derivations_all_hold"] is True
    assert summary["llama2"]["pairs_lambda_gt_L"] == 18
    assert summary["llama2"]["ramp_band_index"] == [20, 46]
    fit = json.loads((theory_out / "fit_report.json").read_text())
    assert {r["form"] for r in fit["reports"]} >= {"log", "quartic-root"}


def test_figures_written(theory_out):
    summary = json.loads((theory_out / "summary.json").read_text())
    names = set(summary["figures"])
    for stem in ("wavelengths", "entropy", "temperature_fit", "ramp_llama2", "interp_factor_tiny",
                 "similarity_llama2_s2"):
        for ext in ("png", "pdf"):
            assert f"figures/{stem}.{ext}" in names
            assert (theory_out / "figures" / f"{stem}.{ext}").stat().st_size > 1000


def test_figures_from_tables_only(theory_out, tmp_path):
    # a figure function draws whatever table it is given: a hand-written table works too
    pts = [{"s": 2.0, "m_opt": 1.07}, {"s": 8.0, "m_opt": 1.2}]
    band = [{"s": s, "m_fit": 1 + 0.1 * s, "m_lo": 1.0, "m_hi": 2.0, "m_paper": 1.0} for s in (2.0, 8.0)]
    paths = figures.plot_fit(pts, band, tmp_path / "fit")
    assert all(p.exists() for p in paths)
    rows = read_table(theory_out / "ramp.csv")
    assert all(p.exists() for p in figures.plot_ramp_comparison(rows, tmp_path / "ramp", "tiny", 2.0))
    with pytest.raises(Exception, match="no rows"):
        figures.plot_ramp_comparison(rows, tmp_path / "x", "mistral", 2.0)


def test_optima_file_is_fitted(tmp_path):
    optima = tmp_path / "optima.csv"
    write_table(optima, [{"s": s, "m_opt": 0.1 * __import__("math").log(s) + 1} for s in (2, 4, 8, 16)], {})
    out = tmp_path / "o"
    assert main(["theory", "--out", str(out), *FAST, "--optima", str(optima), "--no-figures"]) == 0
    fit = json.loads((out / "fit_report.json").read_text())
    log = next(r for r in fit["reports"] if r["form"] == "log")
    assert log["params"]["a"] == pytest.approx(0.1) and log["params"]["b"] == pytest.approx(1.0)
    assert not (out / "figures").exists()


@pytest.mark.parametrize("args,field", [
    (["--scales", "0.5,2"], "--scales"),
    (["--tiny-dim", "7"], "--tiny-dim"),
    (["--alpha", "40"], "--alpha"),
    (["--geometries", "gpt2"], "geometry"),
    (["--optima", "missing.csv"], "file not found"),
])
def test_bad_input_exits_2(tmp_path, capsys, args, field):
    assert main(["theory", "--out", str(tmp_path), "--n-boot", "20", "--no-figures", *args]) == 2
    assert field in capsys.readouterr().err


@pytest.mark.slow
def test_theory_layer_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys, yarnlab.io, yarnlab.theory.run, yarnlab.theory.cli; "
            "print(','.join(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
