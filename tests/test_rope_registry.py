"""One method registry: every parameter's default, constraint and help live in METHODS /
TEMPERATURE_RULES; the CLI options, the workflow schema's method enum and the Hugging Face mapping
are derived from it or checked against it here."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
import yaml

from yarnlab.errors import SpecError, UsageError
from yarnlab.rope import METHODS, TEMPERATURE_RULES, RopeSpec
from yarnlab.rope.cli import add_spec_arguments, spec_from_args
from yarnlab.rope.hf import hf_supported, spec_to_hf
from yarnlab.rope.hf_types import HF_TYPES
from yarnlab.rope.methods import Method, Param, all_params, rope_pi

ROOT = Path(__file__).resolve().parents[1]
ALL = [(m.name, p) for m in METHODS.values() for p in m.parameters]
RULE_PARAMS = [(r.name, p) for r in TEMPERATURE_RULES.values() for p in r.parameters]


def sample(p: Param, n_pairs: int = 8):
    """A valid value other than the default where one exists."""
    if p.kind == "choice":
        return p.choices[-1]
    if p.kind == "bool":
        return not p.default
    return {"positive": 2.5, "nonnegative": 0.25, "fraction": 0.5, "factors": [1.5] * n_pairs}[p.kind]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    add_spec_arguments(ap, geometry=True)
    return ap


def test_every_parameter_has_help_a_known_kind_and_a_default_that_passes_its_own_check():
    assert all_params()  # shared names are defined once (all_params raises otherwise)
    for owner, p in ALL + RULE_PARAMS:
        assert p.help and p.kind in ("positive", "nonnegative", "fraction", "bool", "choice", "factors"), (owner, p)
        if not p.required:
            assert p.check(p.default, 8) is None, (owner, p)
        assert p.check(sample(p), 8) is None
        assert p.check("x", 8) == f"params.{p.name}: {p.constraint(8)} (got 'x')"


def test_defaults_are_what_a_spec_fills_in():
    for name, method in METHODS.items():
        params = {p.name: sample(p, 32) for p in method.parameters if p.required}
        spec = RopeSpec(name, head_dim=64, factor=2.0, params=params)
        for p in method.parameters:
            if not p.required:
                assert spec.params[p.name] == p.default


@pytest.mark.parametrize("method,param", ALL, ids=[f"{m}-{p.name}" for m, p in ALL])
def test_every_method_parameter_is_a_cli_option_that_reaches_the_spec(method, param):
    value = sample(param)
    flag = "--" + param.name.replace("_", "-")
    argv = ["--method", method, "--head-dim", "16", "--factor", "2"]
    for p in METHODS[method].parameters:  # required ones must be given
        if p.required and p is not param:
            argv += ["--" + p.name.replace("_", "-"), ",".join(["1.5"] * 8)]
    if param.kind == "bool":
        argv.append(f"--no-{param.name.replace('_', '-')}" if param.default else flag)
    elif param.kind == "factors":
        argv += [flag, ",".join(str(x) for x in value)]
    else:
        argv += [flag, str(value)]
    spec = spec_from_args(parser().parse_args(argv))
    assert spec.params[param.name] == (tuple(value) if param.kind == "factors" else value)


@pytest.mark.parametrize("rule,param", RULE_PARAMS, ids=[f"{r}-{p.name}" for r, p in RULE_PARAMS])
def test_every_temperature_parameter_is_a_cli_option(rule, param):
    argv = ["--temperature", rule, "--" + param.name.replace("_", "-"), "0.75"]
    for p in TEMPERATURE_RULES[rule].parameters:
        if p.required and p is not param:
            argv += ["--" + p.name.replace("_", "-"), "0.5"]
    spec = spec_from_args(parser().parse_args(argv))
    assert spec.temperature_params[param.name] == 0.75


def test_an_option_for_another_method_is_an_error_naming_it():
    with pytest.raises(SpecError, match="params.alpha: unknown parameter for method 'pi'"):
        spec_from_args(parser().parse_args(["--method", "pi", "--alpha", "2"]))


def test_a_new_method_gets_its_option_and_its_constraint_without_touching_the_cli(monkeypatch):
    knob = Param("knob", "positive", 3.0, "a test-only parameter")
    monkeypatch.setitem(METHODS, "test-method", Method("test-method", lambda g, s, l=None, knob=3.0: rope_pi(g, s),
                                                      (knob,)))
    args = parser().parse_args(["--method", "test-method", "--knob", "7"])
    assert spec_from_args(args).params == {"knob": 7.0}
    with pytest.raises(SpecError, match=r"params.knob: must be a finite number > 0 \(got -1.0\)"):
        spec_from_args(parser().parse_args(["--method", "test-method", "--knob", "-1"]))


def test_workflow_schema_holds_no_method_list_and_the_config_check_reads_the_registry(monkeypatch):
    """The schema checks only the shape of a method name; which names exist is the registry's: a method
    registered at run time is accepted by the workflow's config check with no other edit, and one that
    needs a parameter the config cannot give (LongRoPE's factor lists) is refused, naming the key."""
    from yarnlab.workflow import config as wc

    schema = yaml.safe_load((ROOT / "workflows" / "schemas" / "config.schema.yaml").read_text())
    assert "enum" not in schema["$defs"]["method"] and "pattern" in schema["$defs"]["method"]
    config = yaml.safe_load((ROOT / "workflows" / "config" / "smoke.yaml").read_text())
    config["finetune"]["methods"] = ["test-method", "longrope"]
    monkeypatch.setitem(METHODS, "test-method", Method("test-method", lambda g, s, l=None: rope_pi(g, s), ()))
    problems = wc.methods(config)
    assert [p.split(":")[0] for p in problems] == ["finetune.methods[1]"]
    assert "'longrope'" in problems[0]


def test_hf_mapping_covers_the_registry():
    assert {method for method, _, _ in HF_TYPES.values()} <= set(METHODS)
    for name, method in METHODS.items():
        params = {p.name: sample(p, 32) for p in method.parameters if p.required}
        spec = RopeSpec(name, head_dim=64, factor=4.0, params=params)
        if hf_supported(spec):
            assert "rope_parameters" in spec_to_hf(spec)
        else:
            with pytest.raises(UsageError, match="no transformers equivalent"):
                spec_to_hf(spec)
    # every rope type transformers computes is read by yarnlab
    pytest.importorskip("transformers")
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    assert set(ROPE_INIT_FUNCTIONS) - set(HF_TYPES) <= {"proportional"}  # Gemma 4's, not read yet


def test_rule_registry_is_frozen_data():
    for rule in TEMPERATURE_RULES.values():
        assert dataclasses.is_dataclass(rule) and set(rule.params) == {p.name for p in rule.parameters}
        assert rule.required == tuple(p.name for p in rule.parameters if p.default is None)


def test_length_rule_states_what_compute_does():
    """A method that says its scale grows with the input computes s = max(1, l/L) at every length;
    the doctor prints that rule, read from the registry."""
    from yarnlab.rope.doctor import pair_stats
    from yarnlab.rope.methods import METHODS
    from yarnlab.rope.spec import RopeSpec

    growing = [m for m, v in METHODS.items() if v.length_rule]
    assert set(growing) == {"dynamic-pi", "dynamic-ntk", "dynamic-yarn"}
    for m in growing:
        spec = RopeSpec(m, head_dim=64, original_ctx=1024, factor=4.0)
        for length, s in ((500, 1.0), (1024, 1.0), (3000, 3000 / 1024)):
            assert spec.compute(length).scale == pytest.approx(s), (m, length)
        assert pair_stats(spec)["effective_ctx"] == "grows with the input: s = max(1, l/1024)"
    assert pair_stats(RopeSpec("yarn", head_dim=64, original_ctx=1024, factor=4.0))["effective_ctx"] == 4096
