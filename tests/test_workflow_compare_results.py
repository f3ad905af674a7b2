"""workflows/scripts/compare_results.py: equal trees compare equal; a changed number or label does not;
timing columns and files in one tree only do not count as differences."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("compare_results", ROOT / "workflows/scripts/compare_results.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tree(root: Path, nll: float, wall: float, label: str = "base") -> Path:
    (root / "eval").mkdir(parents=True)
    (root / "eval" / "ppl.csv").write_text(f"model,nll,wall_s\n{label},{nll},{wall}\n")
    (root / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": [nll, 2.0], "elapsed_s": wall}) + "\n")
    return root


def test_equal_numbers_compare_equal_and_timing_is_ignored(tmp_path, monkeypatch, capsys):
    c = _script()
    a, b = _tree(tmp_path / "a", 1.5, 10.0), _tree(tmp_path / "b", 1.5, 99.0)
    (b / "eval" / "extra.csv").write_text("x\n1\n")
    monkeypatch.setattr("sys.argv", ["compare_results.py", str(a), str(b)])
    assert c.main() == 0
    assert "identical: 2; different: 0" in capsys.readouterr().out


def test_a_changed_number_or_label_is_a_difference(tmp_path):
    c = _script()
    a = _tree(tmp_path / "a", 1.5, 10.0)
    assert c.difference(a / "eval/ppl.csv", _tree(tmp_path / "b", 1.5 + 1e-6, 10.0) / "eval/ppl.csv", 1e-9)
    assert c.difference(a / "metrics.jsonl", tmp_path / "b" / "metrics.jsonl", 1e-9)  # inside a list
    assert c.difference(a / "eval/ppl.csv", _tree(tmp_path / "c", 1.5, 10.0, "pi") / "eval/ppl.csv", 1e-9)
    assert c.difference(a / "eval/ppl.csv", _tree(tmp_path / "d", 1.5 + 1e-12, 10.0) / "eval/ppl.csv", 1e-9) is None
