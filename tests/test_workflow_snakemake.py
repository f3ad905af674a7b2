"""The Snakemake workflow: lint, dry runs of every config and profile, config validation, and the
smoke config end to end (slow)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.snakemake

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CONFIGS = sorted((ROOT / "workflows" / "config").glob("*.yaml"))


def run(args, cwd=ROOT, timeout=300):
    return subprocess.run(SNAKEMAKE + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_lint_clean():
    r = run(["--lint"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Lints for" not in r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_dry_run_every_config(config, tmp_path):
    r = run(["-n", "--nolock", "paper_figs", "--configfile", str(config), "--config", f"results={tmp_path}/r",
             f"paper_figs={tmp_path}/p"])
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_config_merged_over_the_default_validates():
    """Snakemake merges a --configfile over default.yaml: each config (a full one, or overrides such as
    claims-full) must give a valid config that way, and name no key the schema does not know."""
    import copy

    import jsonschema
    from snakemake.utils import update_config

    assert {"default", "smoke", "gpu-medium", "gpu-llama2", "claims-full"} <= {p.stem for p in CONFIGS}
    schema = yaml.safe_load((ROOT / "workflows/schemas/config.schema.yaml").read_text())
    default = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())
    for p in CONFIGS:
        cfg = yaml.safe_load(p.read_text())
        assert set(cfg) <= set(schema["properties"]), (p.stem, set(cfg) - set(schema["properties"]))
        merged = copy.deepcopy(default)
        update_config(merged, cfg)
        jsonschema.validate(merged, schema)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["default", "smoke"])
def test_perplexity_rules_read_the_same_targets_and_pieces_are_balanced(config, tmp_path):
    """Every perplexity rule (main, variants, long_ppl, the sliding baseline) scores the last ppl.same_targets
    tokens of each piece (--target-end data.tokens where that is not the longest length) with the truncation
    reading beside; the evaluation documents are balanced."""
    import re

    cfg = yaml.safe_load((ROOT / f"workflows/config/{config}.yaml").read_text())
    default = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())
    tokens = cfg["data"]["tokens"]
    r = run(["-n", "-p", "--nolock", "paper_figs", "--configfile", f"workflows/config/{config}.yaml", "--config",
             f"results={tmp_path}/r", f"paper_figs={tmp_path}/p"])
    assert r.returncode == 0, r.stdout + r.stderr
    ppl = [ln for ln in r.stdout.splitlines() if "yarnlab eval ppl " in ln]
    assert len(ppl) >= 10
    for line in ppl:
        lengths = [int(x) for x in re.search(r"--lengths (\S+)", line).group(1).split(",")]
        assert f"--same-targets {cfg['ppl'].get('same_targets', default['ppl']['same_targets'])} " in line, line
        assert ("--target-end" in line) == (max(lengths) != tokens), line
        assert "--also-truncation" in line, line
    assert sum("--window" in ln for ln in ppl) == 1  # the sliding baseline, on the same targets too
    docs = [ln for ln in r.stdout.splitlines() if "yarnlab eval docs " in ln]
    assert docs and all("--pieces balanced --pieces-seed 0" in ln for ln in docs)


@pytest.mark.slow
def test_dry_run_gpu_profile(tmp_path):
    r = run(["-n", "--nolock", "--profile", "workflows/profiles/gpu", "paper_figs", "--configfile",
             "workflows/config/gpu-medium.yaml", "--config", f"results={tmp_path}/r", f"paper_figs={tmp_path}/p"])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
def test_dry_run_slurm_profile(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    r = run(["-n", "--nolock", "--profile", "workflows/profiles/slurm", "paper_figs", "--configfile",
             "workflows/config/gpu-llama2.yaml", "--config", f"results={tmp_path}/r", f"paper_figs={tmp_path}/p"])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("override, key", [
    ("threads=0", "threads"),
    ("bogus_key=1", "bogus_key"),
    ("seeds=oops", "seeds"),
])
def test_bad_config_stops_with_the_key_named(override, key, tmp_path):
    r = run(["-n", "--nolock", "paper_figs", "--config", override, f"results={tmp_path}/r"])
    assert r.returncode != 0
    assert key in r.stdout + r.stderr


@pytest.mark.slow
def test_bad_nested_value_names_the_key(tmp_path):
    cfg = yaml.safe_load((ROOT / "workflows/config/smoke.yaml").read_text())
    cfg["finetune"]["methods"] = ["pi", "warp-drive"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    r = run(["-n", "--nolock", "paper_figs", "--configfile", str(bad)])
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "warp-drive" in out and "methods" in out


@pytest.mark.slow
def test_toy_text_with_quotes_reaches_the_claims_settings(tmp_path):
    import json

    cfg = yaml.safe_load((ROOT / "workflows/config/smoke.yaml").read_text())
    cfg["toy"] = {"pretraining": "the base config's recipe with {\"steps\": 6000} and a `tick`"}
    cfg["results"] = str(tmp_path / "r")
    path = tmp_path / "quotes.yaml"
    path.write_text(yaml.safe_dump(cfg))
    r = run(["--cores", "1", "--nolock", f"{tmp_path}/r/claims_settings.json", "--configfile", str(path)])
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads((tmp_path / "r" / "claims_settings.json").read_text())
    assert got["toy"]["pretraining"] == cfg["toy"]["pretraining"]


def expected_products(paper_figs: Path) -> list[Path]:
    names = ["ppl_vs_context", "dynamic_scaling", "passkey", "alpha_beta_ablation", "training_efficiency",
             "paper_llama2_reference", "positions", "temperature_study_s4"]
    out = [paper_figs / f"{n}.{e}" for n in names for e in ("png", "pdf", "csv", "md")]
    out += [paper_figs / f"{n}.{e}" for n in ("pretrain_curve", "temperature_fit")
            for e in ("png", "pdf")]
    out += [paper_figs / f"{n}.{e}" for n in ("short_context", "passkey_summary", "regime_checks")
            for e in ("csv", "md")]
    out += [paper_figs / "theory" / f"{n}.png" for n in ("wavelengths", "entropy", "ramp_tiny", "ramp_llama2")]
    out += [paper_figs / n for n in ("CLAIMS.md", "claims.json", "claims_forest.png", "claims_forest.pdf")]
    return out


@pytest.mark.slow
def test_smoke_config_end_to_end(tmp_path):
    """The smoke DAG in a temporary results directory: every figure and table exists, is not
    empty, and every result table has a provenance sidecar; a second run has nothing to do."""
    res, figs = tmp_path / "results", tmp_path / "paper_figs"
    args = ["--cores", "2", "paper_figs", "--configfile", "workflows/config/smoke.yaml", "--config",
            f"results={res}", f"paper_figs={figs}"]
    r = run(args, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for p in expected_products(figs):
        assert p.is_file() and p.stat().st_size > 0, p
        if p.suffix == ".csv":
            assert Path(str(p) + ".provenance.json").is_file(), p
    assert list((res / "eval" / "ppl").glob("*.csv.provenance.json"))
    assert (res / "analysis" / "temperature_fit.csv").is_file()  # the table the figure and CLAIMS.md read
    assert "## Regime checks" in (paper_figs_md := (figs / "CLAIMS.md").read_text()) and "sliding" in paper_figs_md
    # the code base's own checks (smoke has the code-vs-prose question Q5), which Q5 is gated on
    assert "Regime checks of `base-code`" in paper_figs_md
    claims = json.loads((figs / "claims.json").read_text())
    assert [r["check"] for r in claims["regime_extra"]["base-code"]] == ["convergence", "flat_positions", "premise"]
    assert next(q for q in claims["open_questions"] if q["id"] == "Q5")["premises_of"] == "base-code"
    again = run(["-n"] + args)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)
