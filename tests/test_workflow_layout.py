"""The run's layout (yarnlab.workflow.layout): one spelling of each path and label for the rules (which pass
wildcards) and the claims generator (which passes values), and the regime thresholds stored once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from yarnlab.workflow import layout as W

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())


@pytest.mark.parametrize("method, pattern, values", [
    ("ppl_table", ("{name}", "{seed}"), ("yarn-s2", 0)),
    ("variant_ppl_table", ("{name}", "{seed}"), ("yarn-s4-ctx2", 1)),
    ("long_ppl_table", ("{name}", "{seed}"), ("pi-s4", 0)),
    ("sweep_table", ("{scale}", "{seed}"), (2.0, 0)),
    ("sweep_table", ("{scale}", "{seed}", "{corpus}"), (2.5, 0, "code")),
    ("sweep_rules_table", ("{scale}", "{seed}"), (16, 0)),
    ("dynamic_table", ("{seed}",), (0,)),
    ("passkey_table", ("{label}",), ("base-seed0",)),
    ("ablation_table", ("{scale}", "{seed}"), (4, 0)),
    ("positions_table", ("{name}", "{seed}"), ("pi-s2-noft", 0)),
    ("context_use_table", ("{seed}",), (0,)),
    ("induction_summary", ("{seed}",), (0,)),
    ("logit_spread_table", ("{seed}",), (0,)),
    ("temperature_prediction_table", ("{seed}",), (0,)),
    ("temperature_fit", ("{corpus}",), ("code",)),
    ("eval_docs", ("{corpus}",), ("code",)),
    ("base_model", ("{seed}",), (0,)),
    ("extra_base_model", ("{corpus}", "{seed}"), ("code", 0)),
    ("variant_model", ("{name}", "{seed}"), ("yarn-s4-ctx2", 0)),
    ("finetuned_model", ("{name}", "{seed}"), ("yarn-s2", 0)),
])
def test_a_rules_pattern_filled_in_is_the_path_the_claims_read(method, pattern, values):
    """What Snakemake makes of a rule's output pattern for a job is the path the claims name for its values."""
    at = W.Layout("results", "figs")
    wildcards = {p.strip("{}"): W.fmt(v) if p == "{scale}" else v for p, v in zip(pattern, values)}
    filled = getattr(at, method)(*pattern).format(**wildcards)
    assert filled == getattr(at, method)(*values)
    assert filled.startswith("results/")


def test_paths_as_the_workflow_writes_them():
    at = W.Layout("r", "p", variants=["yarn-s4-ctx2"])
    assert at.ppl_table(W.noft_name("pi", 2.0), 0) == "r/eval/ppl/pi-s2-noft-seed0.csv"
    assert at.sweep_table(8, 0) == "r/eval/sweep/s8-seed0.csv"
    assert at.sweep_rules_table(2, 0, "code") == "r/eval/sweep-code/rules-s2-seed0.csv"
    assert at.temperature_fit() == "r/analysis/temperature_fit.csv"
    assert at.temperature_fit_rules("code") == "r/analysis/temperature_fit_rules-code.csv"
    assert at.eval_docs() == "r/data/eval_docs.npz"
    assert at.model("base", 0, W.SUMMARY) == "r/models/base-seed0/train_summary.json"
    assert at.model("base-code", 1) == "r/models/bases/base-code-seed1"
    assert at.model("yarn-s4-ctx2", 0, W.METRICS) == "r/models/variants/yarn-s4-ctx2-seed0/metrics.jsonl"
    assert at.model("yarn-s4", 0) == "r/models/yarn-s4-seed0"
    assert at.log("ppl/base-seed{seed}") == "r/logs/ppl/base-seed{seed}.log"
    assert at.benchmark("base_model", "seed-0") == "r/benchmarks/base_model/seed-0.tsv"
    assert at.figure("theory/{name}.{ext}") == "p/theory/{name}.{ext}"
    with pytest.raises(ValueError, match="no figures folder"):
        W.Layout("r").figure("CLAIMS.md")


def test_label_grammar():
    assert W.fmt(1.0) == "1" and W.fmt(2.5) == "2.5"
    assert W.finetune_name("yarn", 4.0) == "yarn-s4" and W.finetune_name("{method}", "{scale}") == "{method}-s{scale}"
    assert W.seeded(W.extra_base_name("code"), 2) == "base-code-seed2"
    assert W.split_seed("yarn-s4-seed10") == ("yarn-s4", "10")
    with pytest.raises(ValueError, match="'yarn-s4': expected <name>-seed<N>"):
        W.split_seed("yarn-s4")
    ft = {"methods": ["pi", "yarn"], "scales": [2, 4.0]}
    assert W.main_finetunes(ft) == ["pi-s2", "pi-s4", "yarn-s2", "yarn-s4"]
    assert W.noft_names({"noft_methods": ["yarn"]}, ft) == ["yarn-s2-noft", "yarn-s4-noft"]
    assert W.noft_names({"noft_methods": ["yarn"], "noft_scales": [8]}, ft) == ["yarn-s8-noft"]
    variants = {"yarn-s4-code": {"method": "yarn", "scale": 4, "corpus": "code"}}
    assert W.model_meta("yarn-s4-code", variants, "prose") == ("yarn", 4.0, "code")
    assert W.model_meta("base-code", variants, "prose") == ("none", 1.0, "code")
    assert W.model_meta("ntk-by-parts-s2", variants, "prose") == ("ntk-by-parts", 2.0, "prose")
    with pytest.raises(ValueError, match="'warp'"):
        W.model_meta("warp", variants, "prose")


def test_every_threshold_is_stored_once_in_the_default_config():
    """The claims settings carry the config's regime section as it is; the schema requires each of its keys
    (a config cannot lose one); the package keeps no copy of the values."""
    from yarnlab.claims import regime

    settings = W.claims_settings(DEFAULT)
    assert settings["regime"] == {**W.REGIME_OPTIONAL, **DEFAULT["regime"]}
    schema = yaml.safe_load((ROOT / "workflows/schemas/config.schema.yaml").read_text())["properties"]["regime"]
    assert set(schema["required"]) == set(DEFAULT["regime"]) == set(schema["properties"]) - set(W.REGIME_OPTIONAL)
    assert not hasattr(regime, "DEFAULTS") and not hasattr(regime, "settings")


def test_the_claims_inputs_are_layout_paths():
    from yarnlab.claims.inputs import input_paths

    settings = W.claims_settings(DEFAULT)
    paths = input_paths("results", settings)
    at = W.Layout("results", variants=DEFAULT["variants"])
    assert paths["ppl:yarn-s4"] == at.ppl_table("yarn-s4", 0)
    assert paths["variant:yarn-s4-ctx2"] == at.variant_ppl_table("yarn-s4-ctx2", 0)
    assert paths["summary:yarn-s4-ctx2"] == at.variant_model("yarn-s4-ctx2", 0, W.SUMMARY)
    assert paths["sweep:8"] == at.sweep_table(8, 0) and paths["passkey:base"] == at.passkey_table("base-seed0")
    assert paths["positions:pi-s2-noft"] == at.positions_table("pi-s2-noft", 0)
    assert all(p.startswith("results/") for p in paths.values())
