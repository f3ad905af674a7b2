"""Cross-checks of the workflow config: every problem at once, each naming its key; every shipped
config passes; a bad sweep grid fails the dry run before anything runs."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from yarnlab.errors import SpecError, UsageError
from yarnlab.workflow.config import CHECKS, check, check_config, problems

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())


def _merge(base: dict, over: dict) -> dict:
    """Snakemake's merge of a --configfile over the default: nested mappings key by key."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
    return base


def _config(name="smoke"):
    return _merge(copy.deepcopy(DEFAULT), yaml.safe_load((ROOT / f"workflows/config/{name}.yaml").read_text()))


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "workflows/config").glob("*.yaml")))
def test_every_shipped_config_is_sound(name):
    assert problems(_config(name)) == []
    check_config(_config(name))


@pytest.mark.parametrize("edit, needle", [
    (lambda c: c["sweep"].update(grid=[1.6, 0.2, 0.1]), "sweep.grid: start must be <= stop"),
    (lambda c: c["sweep"].update(grid=[0.5, 1.5, 0]), "sweep.grid: step must be > 0"),
    (lambda c: c["sweep"].update(grid=[0.5, 1.5, 1e-6]), "sweep.grid: at most 1000 points"),
    (lambda c: c["sweep"].update(grid=[0.5, 1.5]), "sweep.grid: must be [start, stop, step]"),
    (lambda c: c["sweep"].update(figure_scale=3), "sweep.figure_scale"),
    (lambda c: c["ppl"].update(lengths=[256, 99999]), "ppl.lengths: [99999] exceed data.tokens"),
    (lambda c: c["ppl"].update(lengths=[512, 1024]), "ppl.lengths: needs lengths both <= L and > L"),
    (lambda c: c["ppl"].update(lengths=[256, 512, 512]), "ppl.lengths: 512 is listed more than once"),
    (lambda c: c["dynamic"].update(lengths=[256, 2048]), "dynamic.lengths: [2048]"),
    (lambda c: c["long_ppl"].update(lengths=[4096]), "long_ppl.lengths"),
    (lambda c: c["sweep"].update(scales=[2, 8]), "sweep.scales: [8] x L = 256 exceed data.tokens"),
    (lambda c: c["ablation"].update(scale=8), "ablation.scale"),
    (lambda c: c["ablation"].update(scale=1), "ablation.scale: must be > 1 (got 1)"),
    (lambda c: c["ablation"].update(n_docs=2), "ablation.n_docs: must be >= 3"),
    (lambda c: c["dynamic"].update(n_docs=2), "dynamic.n_docs: must be >= 3"),
    (lambda c: c["variants"]["yarn-s4-from-s2"].update(init="warp-s9"), "variants.yarn-s4-from-s2.init: 'warp-s9'"),
    (lambda c: c["variants"]["yarn-s4-from-s2"].update(init="yarn-s4-from-s2"), "cannot start from itself"),
    (lambda c: c["variants"].update({"a-x": {"init": "b-x", "method": "yarn", "scale": 2},
                                     "b-x": {"init": "a-x", "method": "yarn", "scale": 2}}), "loops back"),
    (lambda c: c["variants"].update({"yarn-s2": {"init": "base", "method": "yarn", "scale": 2}}),
     "variants.yarn-s2: the name of a main fine-tune"),
    (lambda c: c["variants"].update({"base-x": {"init": "base", "method": "yarn", "scale": 2}}), "variants.base-x"),
    (lambda c: c["variants"].update({"Bad_Name": {"init": "base", "method": "yarn", "scale": 2}}), "variants.Bad_Name"),
    (lambda c: c["passkey"].update(models=["base", "yarn-s9"]), "passkey.models: 'yarn-s9'"),
    (lambda c: c["long_ppl"].update(models=["yarn-s99"]), "long_ppl.models: 'yarn-s99'"),
    (lambda c: c.update(extra_bases=["Code Base"]), "extra_bases: 'Code Base'"),
    (lambda c: c["claims"].update(transfer="not-a-variant"), "claims.transfer: 'not-a-variant'"),
    (lambda c: c["claims"].update(corpus={"corpus": "math", "yarn": "yarn-s4-code", "pi": "nope"}),
     "claims.corpus.pi"),
    (lambda c: c["claims"].update(corpus={"corpus": "math", "yarn": "yarn-s4-code", "pi": "pi-s4-code"}),
     "claims.corpus.corpus: 'math' must be listed in extra_bases"),
    (lambda c: c.update(seeds=[0, 0]), "seeds: 0 is listed more than once"),
    (lambda c: c["finetune"].update(methods=["yarn", "rope-warp"]), "finetune.methods[1]: must be one of ["),
    (lambda c: c["finetune"].update(methods=["longrope"]), "finetune.methods[0]: must be one of ["),
    (lambda c: c["ppl"].update(noft_methods=["proportional"]), "ppl.noft_methods[0]"),
    (lambda c: c["dynamic"].update(methods=["none", "dynamic-yarn:hot"]), "dynamic.methods[1]: temperature rule"),
    (lambda c: c["variants"]["yarn-s4-from-s2"].update(method="yarm"), "variants.yarn-s4-from-s2.method"),
    (lambda c: c["ppl"].update(same_targets=256),
     "ppl.same_targets: must be an integer in [1, 255], below the shortest length of ppl.lengths and "
     "long_ppl.lengths (256), so every target has context (got 256)"),
    (lambda c: c["long_ppl"].update(lengths=[1024, 48]), "ppl.same_targets: must be an integer in [1, 47]"),
    (lambda c: c["ppl"].update(same_targets=0), "ppl.same_targets: must be an integer in [1, 255]"),
    (lambda c: c["ppl"].update(truncation_reading="yes"), "ppl.truncation_reading: must be true or false"),
    (lambda c: c["sweep"].update(n_docs=64), "sweep.n_docs: must be in [1, data.n_docs = 4]"),
    (lambda c: c["regime"].update(spread_docs=9), "regime.spread_docs: must be in [1, data.n_docs = 4]"),
    (lambda c: c["finetune"].update(eval_early_every=4, eval_early_until=2),
     "finetune.eval_early_until: must be >= finetune.eval_early_every = 4 (got 2)"),
    (lambda c: c["finetune"].update(eval_early_every=0, eval_early_until=8),
     "finetune.eval_early_until: must be 0 or absent while finetune.eval_early_every is 0"),
    (lambda c: c["claims"].update(short_context_control="nope"), "claims.short_context_control: 'nope'"),
    (lambda c: c["variants"]["none-s1-steps8"].update(method="yarn", scale=2),
     "claims.short_context_control ('none-s1-steps8'): must be a variant with init base, method none, scale 1"),
    (lambda c: c["variants"]["none-s1-steps8"].update(steps=7),
     "claims.short_context_control ('none-s1-steps8'): steps must be finetune.steps x s = 4 x s for a YaRN scale "
     "s in finetune.scales (one of 8, 16), so that it trains on as many tokens as that fine-tune (got 7)"),
])
def test_each_problem_names_its_key(edit, needle):
    cfg = _config()
    edit(cfg)
    found = problems(cfg)
    assert any(needle in p for p in found), found
    with pytest.raises(SpecError) as err:
        check_config(cfg)
    assert isinstance(err.value, UsageError) and needle in str(err.value)


def test_the_reading_and_piece_keys_of_every_shipped_config():
    """Issue 20 items 2 and 3: the default, smoke and claims-full configs score the same targets (T below every
    length) with the truncation reading beside and balanced pieces; real-smollm2-cpu keeps the piece order,
    the single reading and the baseline windows its committed results were computed with."""
    for name in ("default", "smoke", "claims-full", "gpu-medium"):
        cfg = _config(name)
        ppl = cfg["ppl"]
        assert 1 <= ppl["same_targets"] < min(ppl["lengths"] + cfg["long_ppl"]["lengths"]), name
        assert ppl["truncation_reading"] and ppl["sliding_same_targets"], name
        assert cfg["data"]["pieces"] == "balanced", name
    real = _config("real-smollm2-cpu")
    assert real["data"]["pieces"] == "sequential" and real["ppl"]["same_targets"] == 4096
    assert real["ppl"]["truncation_reading"] is False and real["ppl"]["sliding_same_targets"] is False


def test_the_schema_accepts_the_new_keys_and_refuses_bad_values():
    jsonschema = pytest.importorskip("jsonschema")
    schema = yaml.safe_load((ROOT / "workflows/schemas/config.schema.yaml").read_text())
    jsonschema.validate(_config("default"), schema)
    for section, key, bad in (("data", "pieces", "random"), ("data", "pieces_seed", -1), ("ppl", "same_targets", 0),
                              ("ppl", "truncation_reading", "yes"), ("ppl", "sliding_same_targets", 1)):
        cfg = _config("default")
        cfg[section][key] = bad
        with pytest.raises(jsonschema.ValidationError) as err:
            jsonschema.validate(cfg, schema)
        assert list(err.value.absolute_path) == [section, key], (key, err.value.absolute_path)
    cfg = _config("default")
    cfg["data"].update(pieces="sequential", pieces_seed=3)
    cfg["ppl"].update(same_targets=None, truncation_reading=False, sliding_same_targets=False)
    jsonschema.validate(cfg, schema)


def test_all_problems_at_once():
    cfg = _config()
    cfg["sweep"]["grid"] = [1.6, 0.2, 0.1]
    cfg["ppl"]["lengths"] = [512, 99999]
    cfg["passkey"]["models"] = ["nope-s3"]
    cfg["claims"]["transfer"] = "missing"
    cfg["variants"]["yarn-s4-ctx2"]["init"] = "gone"
    found = problems(cfg)
    keys = ["sweep.grid", "ppl.lengths: [99999]", "ppl.lengths: needs", "passkey.models", "claims.transfer",
            "variants.yarn-s4-ctx2.init"]
    assert all(any(k in p for p in found) for k in keys), found
    with pytest.raises(SpecError, match=r"invalid workflow config \(6 problem\(s\)\)"):
        check_config(cfg)


def test_a_malformed_part_is_reported_not_raised_and_checks_are_extensible():
    cfg = _config()
    del cfg["passkey"]
    found = problems(cfg)
    assert any(p.startswith("model_labels: cannot check") for p in found)

    @check
    def new_key(config):
        return [] if config.get("no_such_key") else ["no_such_key: missing"]

    try:
        assert "no_such_key: missing" in problems(_config())
    finally:
        CHECKS.remove(new_key)


@pytest.mark.slow
@pytest.mark.snakemake
def test_bad_sweep_grid_fails_the_dry_run_naming_sweep_grid(tmp_path):
    cfg = yaml.safe_load((ROOT / "workflows/config/smoke.yaml").read_text())
    cfg["sweep"]["grid"] = [1.6, 0.2, 0.1]
    cfg["passkey"]["models"] = ["base", "yarn-s9"]
    cfg["results"], cfg["paper_figs"] = str(tmp_path / "r"), str(tmp_path / "p")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--nolock", "paper_figs", "--configfile",
                        str(tmp_path / "bad.yaml")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "sweep.grid: start must be <= stop" in out and "passkey.models: 'yarn-s9'" in out
    assert not (tmp_path / "r").exists()  # nothing ran


def test_the_default_config_carries_the_preregistered_thresholds(monkeypatch):
    """The workflow reads the pre-registration: the default's regime thresholds equal it, a changed one is refused."""
    cfg = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())
    assert cfg["preregistration"] == "workflows/preregistration/base_recipe.yaml"
    prereg = yaml.safe_load((ROOT / cfg["preregistration"]).read_text())
    for key, value in prereg["thresholds"].items():
        assert cfg["regime"][key] == value, key
    moved = copy.deepcopy(cfg)
    moved["regime"]["induction_min_gain"] = 0.5
    monkeypatch.chdir(ROOT)
    assert not [p for p in problems(cfg) if p.startswith(("regime.", "preregistration"))]
    assert any("regime.induction_min_gain: must equal the pre-registered value 1.0" in p for p in problems(moved))


def test_workflow_methods_come_from_the_registry():
    """Every registered method that needs only s may be named; a new one needs no schema edit."""
    from yarnlab.rope.methods import METHODS
    from yarnlab.workflow.config import workflow_methods

    assert workflow_methods() == [m for m in METHODS if m not in ("longrope", "proportional")]


def test_the_schema_takes_the_early_grid_and_the_control_role_and_refuses_bad_values():
    import jsonschema

    schema = yaml.safe_load((ROOT / "workflows/schemas/config.schema.yaml").read_text())
    cfg = _config()
    jsonschema.validate(cfg, schema)
    assert cfg["finetune"]["eval_early_every"] == 1 and cfg["claims"]["short_context_control"] == "none-s1-steps8"
    for edit in (lambda c: c["finetune"].update(eval_early_every=-1),
                 lambda c: c["finetune"].update(eval_early_until="40"),
                 lambda c: c["claims"].update(short_context_control=3)):
        bad = copy.deepcopy(cfg)
        edit(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
