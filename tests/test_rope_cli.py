"""``yarnlab freqs`` / ``yarnlab inspect`` end to end, in-process and as a console script."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from yarnlab.cli import main
from yarnlab.rope import RopeSpec


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_freqs_json_matches_the_core(capsys):
    rc, out, _ = run(capsys, "freqs", "--method", "yarn", "--head-dim", "128", "--base", "10000", "--factor", "16",
                     "--original-ctx", "4096", "--beta", "32", "--alpha", "1", "--ramp", "paper", "--json")
    assert rc == 0
    data = json.loads(out)
    spec = RopeSpec("yarn", head_dim=128, factor=16, params={"ramp": "paper"})
    np.testing.assert_array_equal(np.array(data["inv_freq"]), spec.compute().inv_freq)
    assert data["attention_factor"] == spec.compute().attention_factor
    assert len(data["pairs"]["gamma"]) == 64


def test_freqs_table_is_readable(capsys):
    rc, out, _ = run(capsys, "freqs", "--method", "pi", "--head-dim", "8", "--factor", "4")
    assert rc == 0
    assert "attention factor m = sqrt(1/t) = 1" in out
    lines = [line for line in out.splitlines() if line.strip() and line.split()[0].isdigit()]
    assert len(lines) == 4
    assert all(float(line.split()[-1]) == pytest.approx(4.0) for line in lines)


def test_bad_input_exits_2_with_message_and_no_traceback(capsys):
    rc, _, err = run(capsys, "freqs", "--method", "yarn", "--factor", "0.5", "--alpha", "40")
    assert rc == 2
    assert "factor: must be a finite number >= 1 (got 0.5)" in err
    assert "params.alpha, params.beta" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["freqs", "--method", "nope"])
    assert exc.value.code == 2


def test_inspect_reports_pitfalls(tmp_path, capsys):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 65536,
                               "rope_scaling": {"type": "yarn", "factor": 16.0}}))
    rc, out, _ = run(capsys, "inspect", str(cfg))
    assert rc == 0
    assert "method: yarn" in out and "attention factor m = sqrt(1/t): 1.27726" in out
    assert "WARNING: yarn: original_max_position_embeddings is missing" in out


def test_inspect_missing_file_exits_2(tmp_path, capsys):
    rc, _, err = run(capsys, "inspect", str(tmp_path / "nope.json"))
    assert rc == 2 and "CONFIG: cannot read" in err


@pytest.mark.slow
def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "yarnlab", "freqs", "--method", "ntk", "--head-dim", "16",
                          "--factor", "4", "--json"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["inv_freq"][0] == 1.0


@pytest.mark.slow
def test_freqs_and_inspect_of_a_complete_config_do_not_import_torch(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32,
                               "max_position_embeddings": 131072, "rope_theta": 5e5,
                               "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}))
    code = ("import sys, io, contextlib; from yarnlab.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['freqs', '--method', 'yarn', '--factor', '8']) == 0\n"
            f"    assert main(['inspect', '--json', {str(cfg)!r}]) == 0\n"
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
