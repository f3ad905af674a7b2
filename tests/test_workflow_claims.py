"""The workflow's claims rules: every config's DAG contains the claims generator, its inputs and the
regime checks, and bad variant / role settings stop the run with the key named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.snakemake

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "workflows" / "config").glob("*.yaml"))


def merged(config: Path) -> dict:
    """A config file as Snakemake sees it: merged over default.yaml (the Snakefile's configfile)."""
    import copy

    from snakemake.utils import update_config

    out = copy.deepcopy(yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text()))
    update_config(out, yaml.safe_load(config.read_text()))
    return out


def dry(config: Path, tmp_path: Path, *extra: str):
    args = [sys.executable, "-m", "snakemake", "-n", "--nolock", "paper_figs", "--configfile", str(config),
            "--config", f"results={tmp_path}/r", f"paper_figs={tmp_path}/p", *extra]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_config_runs_the_claims_generator(config, tmp_path):
    r = dry(config, tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "rule claims:" in out and "CLAIMS.md" in out
    assert "regime_checks.csv" in out and "rule temperature_fit_table:" in out and "rule positions_base:" in out
    cfg = merged(config)
    cl = cfg["claims"]
    roles = [cl.get(k) for k in ("fewer_steps", "transfer", "short_data", "paper_ramp")]
    roles += [cl["corpus"][k] for k in ("yarn", "pi")] if cl.get("corpus") else []
    if any(r in cfg["variants"] for r in roles):  # variants no claim role refers to are never built
        assert "rule variant_model:" in out
    if cfg["long_ppl"]["models"] and cfg["long_ppl"]["lengths"]:
        assert "rule ppl_long:" in out
    if cfg["extra_bases"]:
        assert "rule extra_base_model:" in out and "rule eval_documents_corpus:" in out


def test_default_has_every_claim_role_and_claims_full_adds_code():
    d = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())
    full = yaml.safe_load((ROOT / "workflows/config/claims-full.yaml").read_text())
    for role in ("fewer_steps", "transfer", "short_data", "paper_ramp"):
        assert d["claims"][role] in d["variants"]
    assert d["claims"]["corpus"] is None and full["claims"]["corpus"]["corpus"] in full["extra_bases"]
    # claims-full is the default plus the code check: same results directory, same shared models, once
    # Snakemake has merged it over default.yaml (the Snakefile's configfile)
    import copy

    from snakemake.utils import update_config

    merged = copy.deepcopy(d)
    update_config(merged, full)
    assert merged["results"] == d["results"] and merged["base"] == d["base"] and merged["finetune"] == d["finetune"]


def _bad(tmp_path: Path, edit) -> subprocess.CompletedProcess:
    cfg = yaml.safe_load((ROOT / "workflows/config/smoke.yaml").read_text())
    edit(cfg)
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return dry(p, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("edit, needle", [
    (lambda c: c["variants"]["yarn-s4-from-s2"].update(init="warp-s9"), "init"),
    (lambda c: c["variants"]["yarn-s4-from-s2"].update(lr=1.0), "lr"),
    (lambda c: c["variants"].update({"base-x": {"init": "base", "method": "yarn", "scale": 2}}), "base-x"),
    (lambda c: c["claims"].update(transfer="not-a-variant"), "claims.transfer"),
    (lambda c: c["claims"].update(margin=-1), "margin"),
    (lambda c: c["long_ppl"].update(models=["yarn-s99"]), "long_ppl"),
])
def test_bad_claims_settings_stop_with_the_key_named(tmp_path, edit, needle):
    r = _bad(tmp_path, edit)
    assert r.returncode != 0
    assert needle in r.stdout + r.stderr
