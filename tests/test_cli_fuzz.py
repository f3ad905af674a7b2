"""Random command lines and config files for ``yarnlab freqs`` / ``yarnlab inspect``: exit 0 or 2,
never a traceback, never a run-away (sizes beyond any real model are refused naming the field).

Examples per test: 100 by default, the profile's 10,000 with HYPOTHESIS_PROFILE=nightly; the freqs
fuzz is parametrized by method and the inspect fuzz by rope type, so each gets that many.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yarnlab import cli
from yarnlab.cli import main
from yarnlab.rope.methods import METHODS

# a generous bound: the largest allowed table (head dim 8192) prints in well under a second
MAX_SECONDS = 20.0
FLAGS = ("--no-truncate", "--grow-only", "--json")
OPTIONS = ("--factor", "--alpha", "--beta", "--ramp", "--variant", "--low-freq-factor", "--high-freq-factor",
           "--temperature", "--m", "--coefficient", "--mscale", "--mscale-all-dim", "--head-dim", "--rotary-dim",
           "--base", "--original-ctx", "--seq-len", "--bogus-option", *FLAGS)
SPECIAL = ("", "nan", "-nan", "inf", "-inf", "1e400", "-0", "0x10", "1_000", "--", "-1", "paper", "index",
           "transformers", "yarn", "log-n", "fixed", "1e-320", "9" * 40, "\x00", "é")


def _number(draw_int=True):
    ints = st.one_of(st.integers(-10, 300), st.integers(-2**40, 2**40),
                     st.integers(0, 40).map(lambda k: 2**k), st.integers(0, 12).map(lambda k: 10**k))
    floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
    return st.one_of(ints, floats) if draw_int else floats


VALUES = st.one_of(_number().map(str), st.sampled_from(SPECIAL), st.text(max_size=6))


@st.composite
def freqs_argv(draw, method: str) -> list[str]:
    argv = ["freqs", "--method", method]
    for opt in draw(st.lists(st.sampled_from(OPTIONS), max_size=7)):
        argv.append(opt)
        if opt not in FLAGS:
            argv.append(draw(VALUES))
    return argv


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``yarnlab ARGV`` in-process: (exit code, stdout, stderr); anything but exit 0 / 2 fails."""
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err), mock.patch.object(cli, "build_parser", _parser):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse: bad option or value (2), --help (0)
            rc = exc.code
    elapsed = time.perf_counter() - t0
    assert rc in (0, 2), (argv, rc, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if rc == 2:
        assert "error" in err.getvalue(), (argv, err.getvalue())
    assert elapsed < MAX_SECONDS, (argv, elapsed)
    return rc, out.getvalue(), err.getvalue()


# the parser is built once (building it is most of the cost of one call); argparse parsers are reusable
_parser = functools.cache(cli.build_parser)
# ci: a smaller sample than the profile's 300 (each test runs once per method); nightly: the profile's 10,000
_NIGHTLY = os.environ.get("HYPOTHESIS_PROFILE") == "nightly"
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                **({} if _NIGHTLY else {"max_examples": 100}))


@pytest.mark.parametrize("method", sorted(METHODS) + ["no-such-method"])
@FUZZ
@given(data=st.data())
def test_random_freqs_command_lines(method, data):
    rc, out, err = run_cli(data.draw(freqs_argv(method)))
    if rc == 0 and out.startswith("method"):
        assert len(out.splitlines()) <= 2 + 1 + 8192 // 2


@pytest.mark.parametrize("argv, field", [
    (["freqs", "--method", "dynamic-ntk", "--head-dim", "100000000"], "head_dim"),
    (["freqs", "--method", "yarn", "--head-dim", "128", "--rotary-dim", "1000000"], "rotary_dim"),
    (["freqs", "--method", "yarn", "--factor", "1e9"], "factor"),
    (["freqs", "--method", "pi", "--original-ctx", str(2**40)], "original_ctx"),
    (["freqs", "--method", "dynamic-yarn", "--seq-len", "-5"], "--seq-len"),
])
def test_sizes_beyond_any_real_model_are_refused_naming_the_field(argv, field):
    t0 = time.perf_counter()
    rc, _, err = run_cli(argv)
    assert rc == 2 and field in err and "beyond any real model" in err or field == "--seq-len"
    assert time.perf_counter() - t0 < 5


def test_the_largest_allowed_sizes_stay_cheap():
    t0 = time.perf_counter()
    rc, out, _ = run_cli(["freqs", "--method", "dynamic-ntk", "--head-dim", "8192", "--original-ctx",
                          str(2**24), "--factor", "4096", "--seq-len", str(10**18)])
    assert rc == 0 and len(out.splitlines()) == 3 + 4096
    assert time.perf_counter() - t0 < 10


HF_TYPES = ("linear", "dynamic", "yarn", "llama3", "longrope", "default", "ntk", "bogus")


@st.composite
def hf_configs(draw, rope_type: str) -> dict:
    """A config.json with random (often wrong) rope fields; some keys left out."""
    num = _number()
    cfg = {}
    for key, value in (("hidden_size", num), ("num_attention_heads", num), ("head_dim", num),
                       ("rope_theta", num), ("max_position_embeddings", num), ("partial_rotary_factor", num),
                       ("model_type", st.sampled_from(["llama", "mistral", "qwen2", "", "x"]))):
        if draw(st.booleans()):
            cfg[key] = draw(value)
    if draw(st.booleans()):
        rs = {"rope_type": rope_type}
        for key in ("factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "attention_factor",
                    "low_freq_factor", "high_freq_factor", "mscale", "mscale_all_dim"):
            if draw(st.booleans()):
                rs[key] = draw(num)
        if draw(st.booleans()):
            rs["short_factor"] = draw(st.lists(num, max_size=5))
        cfg[draw(st.sampled_from(["rope_scaling", "rope_parameters"]))] = rs
    return cfg


@pytest.fixture(scope="module", autouse=True)
def _warm_imports(tmp_path_factory):
    """The first ``inspect`` of a model type imports transformers' config class for it (many seconds
    on a loaded machine, once per process): done here, untimed."""
    d = tmp_path_factory.mktemp("warm")
    for model_type in ("llama", "mistral", "qwen2", "", "x"):
        path = d / f"config-{model_type or 'none'}.json"
        path.write_text(json.dumps({"model_type": model_type, "num_attention_heads": 4}))
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            try:
                main(["inspect", str(path)])
            except (Exception, SystemExit):  # only the imports matter here; the tests check the outcome
                pass


def _json_safe(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


@pytest.mark.parametrize("rope_type", HF_TYPES)
@FUZZ
@given(data=st.data())
def test_random_config_files_for_inspect(rope_type, data):
    cfg = data.draw(hf_configs(rope_type))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "config.json"
        path.write_text(json.dumps(cfg, default=str) if data.draw(st.booleans()) else
                        json.dumps({k: _json_safe(v) for k, v in cfg.items()}, default=str))
        run_cli(["inspect", str(path)])


@pytest.mark.parametrize("alpha, beta", [("1e-320", "32"), ("1", "1e308"), ("1", "2.8611174857570283e+307"),
                                         ("1e-300", "1e300")])
def test_extreme_ramp_bounds_give_a_table_not_a_traceback(alpha, beta):
    rc, out, _ = run_cli(["freqs", "--method", "yarn", "--factor", "4", "--alpha", alpha, "--beta", beta])
    assert rc == 0 and "nan" not in out.lower()
