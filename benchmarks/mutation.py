"""Hand-made mutation runs: apply one realistic mutant at a time to a temporary copy of the
package, run the suite's torch-free tests against it, report killed / survived. Two suites: the
rope core (``--suite rope``, the default) and the claims engine (``--suite claims``: statistics,
verdict grammar, regime checks, gates and families).

    python benchmarks/mutation.py                 # every rope mutant, hypothesis profile "dev"
    python benchmarks/mutation.py --only clamp-half --profile ci
    python benchmarks/mutation.py --suite claims

The working tree is never modified: ``yarnlab/`` and the tests are copied into a temporary folder,
each mutant is a one-place text replacement in that copy (reverted before the next), and pytest
runs there with ``-x`` (the first failing test kills the mutant) and a fixed hypothesis seed. A
mutant whose text is no longer in the source is reported as ``not-applicable``. The unmutated copy
must pass first. Prints one JSON record; the score is killed / (killed + survived).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["test_rope_properties.py", "test_rope_pinned.py", "test_rope_tables.py", "test_rope_hf.py",
         "test_rope_edges.py", "test_testing_api.py"]

# (id, file under yarnlab/rope, original text, mutated text, what it models)
MUTANTS = [
    ("clamp-half", "frequencies.py", "min(high, rotary_dim - 1)", "min(high, rotary_dim // 2 - 1)",
     "upper clamp of the index ramp at |D|/2 - 1 instead of |D| - 1"),
    ("round-swap", "frequencies.py", "low, high = math.floor(low), math.ceil(high)",
     "low, high = math.ceil(low), math.floor(high)", "ramp bounds rounded inwards"),
    ("no-low-clamp", "frequencies.py", "return max(low, 0), min(", "return low, min(",
     "lower clamp of the index ramp dropped"),
    ("no-widen", "frequencies.py", "high = high + 0.001", "high = high + 0.0",
     "degenerate ramp (low == high) not widened"),
    ("ramp-reversed", "frequencies.py", "return 1.0 - np.clip((d - low) / (high - low), 0.0, 1.0)",
     "return np.clip((d - low) / (high - low), 0.0, 1.0)", "index ramp upside down"),
    ("theta-exponent", "frequencies.py", "np.power(float(base), -2.0 * d / rotary_dim)",
     "np.power(float(base), -2.0 * d / (rotary_dim - 2))", "theta_d = b^(-2d/(|D|-2))"),
    ("corr-dim-pi", "frequencies.py", "(num_rotations * 2.0 * math.pi)", "(num_rotations * math.pi)",
     "correction dim with pi instead of 2 pi"),
    ("paper-ramp-width", "frequencies.py", "np.clip((r - alpha) / (beta - alpha)",
     "np.clip((r - alpha) / beta", "paper ramp divided by beta, not beta - alpha"),
    ("blend-swapped", "frequencies.py", "(1.0 - gamma) * inv_freq / factor + gamma * inv_freq",
     "gamma * inv_freq / factor + (1.0 - gamma) * inv_freq", "Eq. 20 with gamma and 1 - gamma swapped"),
    ("ntk-exponent", "methods.py", "factor ** (rotary_dim / (rotary_dim - 2))",
     "factor ** ((rotary_dim - 2) / rotary_dim)", "Eq. 16 exponent inverted"),
    ("dynamic-no-floor", "methods.py", "return max(1.0, seq_len / original_ctx)", "return seq_len / original_ctx",
     "dynamic s below 1 for l < L"),
    ("dynamic-ntk-off-by-one", "methods.py", "s = length / geom.original_ctx", "s = (length + 1) / geom.original_ctx",
     "dynamic NTK s = (l + 1)/L"),
    ("llama3-args", "methods.py", "original_ctx), low_freq_factor, high_freq_factor)",
     "original_ctx), high_freq_factor, low_freq_factor)", "llama3 ramp bounds swapped"),
    ("order-refuses-equal", "methods.py", "not 0 < lo <= hi", "not 0 < lo < hi",
     "validation refuses equal ramp bounds (Llama 4's empty band, low = high)"),
    ("grow-only-forgets", "spec.py", "self.longest = max(self.longest, seq_len)", "self.longest = seq_len",
     "grow_only keeps no state across calls"),
    ("base-one-allowed", "spec.py", "base <= 1", "base < 1", "validation accepts base 1"),
    ("mscale-swapped", "temperature.py", "_g(s, 0.1 * mscale) / _g(s, 0.1 * mscale_all_dim)",
     "_g(s, 0.1 * mscale_all_dim) / _g(s, 0.1 * mscale)", "DeepSeek ratio upside down"),
    ("partial-round", "hf_read.py", "rot = int(head * prf)", "rot = round(head * prf)",
     "partial rotary factor rounded, not truncated like transformers"),
    ("partial-factor-loop", "hf_write.py", "while int(head_dim * f) < rotary_dim:",
     "while int(head_dim * f) <= rotary_dim:",
     "partial_rotary_factor written one step too high"),
    ("interleaved-sign", "tables.py", "np.stack([-x[..., 1::2], x[..., 0::2]], axis=-1)",
     "np.stack([x[..., 1::2], -x[..., 0::2]], axis=-1)", "interleaved rotation in the opposite direction"),
]


CLAIMS_TESTS = ["test_claims_grammar.py", "test_claims_stats.py", "test_claims_regime.py", "test_claims_build.py",
                "test_claims_pooled.py"]

# (id, file under yarnlab/claims, original text, mutated text, what it models)
CLAIMS_MUTANTS = [
    ("se-ddof0", "stats.py", "se = x.std(axis=0, ddof=1) / math.sqrt(n)", "se = x.std(axis=0, ddof=0) / math.sqrt(n)",
     "standard error with the biased sd"),
    ("t-one-sided", "stats.py", "t = np.abs(mb - mean) / sb", "t = (mb - mean) / sb",
     "bootstrap-t quantile of t, not |t| (a one-sided critical value for a two-sided interval)"),
    ("no-max-t", "stats.py", "tmax = t.max(axis=1)", "tmax = t[:, 0]",
     "the family's critical value from its first member only (intervals not simultaneous)"),
    ("quantile-flipped", "stats.py", "c = float(np.quantile(tmax, level))", "c = float(np.quantile(tmax, 1 - level))",
     "the lower quantile of max |t| as the critical value"),
    ("two-units", "stats.py", "if n < 3 or not np.all(np.isfinite(x)):", "if n < 2 or not np.all(np.isfinite(x)):",
     "intervals from 2 units"),
    ("documents-as-units", "stats.py", "by[work_of(doc)].append(float(v))", "by[str(doc)].append(float(v))",
     "pieces of one work resampled as independent units"),
    ("unequal-pieces", "stats.py", "if len(sizes) > 1:", "if len(sizes) > 2:",
     "works with unequal piece counts accepted"),
    ("paired-reversed", "stats.py", "{d: a[d] - b[d] for d in docs}", "{d: b[d] - a[d] for d in docs}",
     "paired difference B - A"),
    ("wilson-centre", "stats.py", "c = (p + z * z / (2 * n)) / den", "c = (p + z * z / n) / den",
     "Wilson centre with z^2/n"),
    ("work-of-offset", "stats.py", 'text.split("@", 1)[0]', 'text.rsplit("@", 1)[-1]',
     "the offset taken as the work"),
    ("superiority-low", "grammar.py", "    if est.high < 0:\n        return HOLDS",
     "    if est.low < 0:\n        return HOLDS",
     "superiority holds when the interval merely reaches below 0"),
    ("noninferiority-low", "grammar.py", "    if est.high <= margin:\n        return HOLDS",
     "    if est.low <= margin:\n        return HOLDS", "non-inferiority read on the lower end"),
    ("equivalence-one-side", "grammar.py", "if -margin <= est.low and est.high <= margin:", "if est.high <= margin:",
     "equivalence checks one side only"),
    ("above-point", "grammar.py", "    if est.low > threshold:\n        return HOLDS",
     "    if est.value > threshold:\n        return HOLDS", "a threshold applied to the point estimate"),
    ("point-value-half", "grammar.py", "return CONSISTENT if est.low <= value <= est.high else FAILS",
     "return CONSISTENT if est.low <= value else FAILS", "point value checked against the lower end only"),
    ("combine-all-fail", "grammar.py", "    if FAILS in vs:\n        return FAILS",
     "    if all(v == FAILS for v in vs):\n        return FAILS", "one failing row no longer fails the claim"),
    ("fitted-always", "grammar.py", "return NOT_TRANSFERRED if part == FAILS and FAILS not in others else verdict",
     "return NOT_TRANSFERRED if part == FAILS else verdict", "a failing other part hidden behind 'does not transfer'"),
    ("flat-lower-end", "regime.py", "est.high <= tol,", "est.low <= tol,", "flat positions judged on the lower end"),
    ("context-point", "regime.py",
     "        est.low > thr,\n        {\"estimate\": est.to_dict()},\n    )\n\n\ndef retrieval",
     "        est.value > thr,\n        {\"estimate\": est.to_dict()},\n    )\n\n\ndef retrieval",
     "context use judged on the point estimate"),
    ("induction-best", "regime.py", 'worst = min(rows, key=lambda r: r["lo"])',
     'worst = max(rows, key=lambda r: r["lo"])',
     "induction judged at the most favourable distance"),
    ("na-is-failure", "regime.py", 'if r["passed"] is False}', 'if not r["passed"]}',
     "a check that does not apply counted as failed"),
    ("convergence-window", "regime.py", 'cut = 0.8 * last["step"]', 'cut = 0.95 * last["step"]',
     "convergence over the last 5% instead of 20%"),
    ("gate-first-premise", "registry.py", "hit = [c for c in needs if c in bad]",
     "hit = [c for c in needs[:1] if c in bad]",
     "only a claim's first premise gates it"),
    ("claim10-ungated", "registry.py", "BASE + (USES_CONTEXT,), perplexity.measure_sliding",
     "BASE, perplexity.measure_sliding",
     "claim 10 no longer needs context use"),
    ("one-family", "results.py", "idx = [i for i, (_, _, row) in enumerate(items) if _votes(row) == votes]",
     "idx = list(range(len(items))) if votes else []", "context rows widen the voting family"),
    ("context-votes", "results.py", 'return row.get("role") in (None, "primary")',
     'return row.get("role") in (None, "primary", "context")', "context rows vote"),
    ("crossed-as-nested", "stats.py",
     "return seeds, works, np.array([[by[sd][w] for w in works] for sd in seeds]), True",
     "return seeds, works, np.array([[by[sd][w] for w in works] for sd in seeds]), False",
     "works shared by every seed resampled anew within each seed"),
    ("no-work-term", "stats.py", "var = var + xx.mean(axis=-3).var(axis=-2, ddof=1) / n_w", "var = var",
     "crossed standard error without the shared works' variance"),
    ("seeds-not-resampled", "stats.py", "si = rng.integers(0, n_s, (n_boot, n_s))",
     "si = np.tile(np.arange(n_s), (n_boot, 1))", "a hierarchical replicate keeps every seed once"),
    ("steps-cap-passes", "steps.py", 'capped = not math.isnan(point["y"]) and point["y_prev"] == 0',
     "capped = False", "a steps ratio capped by the evaluation grid is judged like a resolved one"),
    ("steps-no-margin", "steps.py", "target = cr[:, -1] + margin", "target = cr[:, -1]",
     "steps to reach the reference's last loss exactly (plateau noise decides)"),
]

SUITES = {"rope": ("rope", TESTS, MUTANTS), "claims": ("claims", CLAIMS_TESTS, CLAIMS_MUTANTS)}


def _copy(dst: Path, tests: list[str]) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "yarnlab", dst / "yarnlab", ignore=ignore)
    (dst / "tests").mkdir()
    # conftest.py and the helper modules the tests import (every tests/*.py that is not a test file)
    helpers = sorted(p.name for p in (ROOT / "tests").glob("*.py") if not p.name.startswith("test_"))
    for name in [*helpers, *tests]:
        shutil.copy2(ROOT / "tests" / name, dst / "tests" / name)
    # the workflow's configs and scripts: the claims tests read the regime thresholds from the default config
    shutil.copytree(ROOT / "workflows", dst / "workflows", ignore=ignore)
    if (ROOT / "tests" / "fixtures").is_dir():  # stored configs some tests read
        shutil.copytree(ROOT / "tests" / "fixtures", dst / "tests" / "fixtures", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):  # README: its example is run by test_testing_api.py
        shutil.copy2(ROOT / name, dst / name)


def _pytest(work: Path, tests: list[str], profile: str, timeout: float) -> tuple[str, float, str]:
    env = {**os.environ, "PYTHONPATH": str(work), "HYPOTHESIS_PROFILE": profile, "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0",
           *[f"tests/{t}" for t in tests]]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "killed", time.perf_counter() - t0, "timeout"
    lines = proc.stdout.splitlines()
    failed = [ln.split(" - ")[0].removeprefix("FAILED ") for ln in lines if ln.startswith(("FAILED", "ERROR"))]
    summary = [ln for ln in lines if " passed" in ln or " failed" in ln or " error" in ln]
    tail = failed[0] if failed else (summary[-1] if summary else "")
    return ("survived" if proc.returncode == 0 else "killed"), time.perf_counter() - t0, tail


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", choices=sorted(SUITES), default="rope", help="rope core (default) or claims engine")
    p.add_argument("--profile", default="dev", help="hypothesis profile of tests/conftest.py (dev: 50 examples)")
    p.add_argument("--only", help="comma-separated mutant ids")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per test run (a timeout kills)")
    p.add_argument("--tests", default=None, help="comma-separated test files under tests/ (default: the suite's)")
    a = p.parse_args()
    package, default_tests, mutants = SUITES[a.suite]
    tests = [t for t in (a.tests or ",".join(default_tests)).split(",") if t]
    chosen = [m for m in mutants if not a.only or m[0] in a.only.split(",")]
    with tempfile.TemporaryDirectory(prefix="yarnlab-mutation-") as tmp:
        work = Path(tmp)
        _copy(work, tests)
        check = subprocess.run([sys.executable, "-c", "import yarnlab; print(yarnlab.__file__)"], cwd=work,
                               env={**os.environ, "PYTHONPATH": str(work)}, capture_output=True, text=True)
        if not check.stdout.strip().startswith(str(work)):
            raise SystemExit(f"the copy is not the package imported (got {check.stdout.strip()})")
        status, secs, tail = _pytest(work, tests, a.profile, a.timeout)
        if status != "survived":
            raise SystemExit(f"the unmutated tests fail in the copy: {tail}")
        rows = []
        for ident, fname, old, new, what in chosen:
            path = work / "yarnlab" / package / fname
            original = path.read_text()
            if original.count(old) != 1:
                rows.append({"id": ident, "file": fname, "status": "not-applicable", "what": what})
                continue
            path.write_text(original.replace(old, new))
            try:
                status, secs, tail = _pytest(work, tests, a.profile, a.timeout)
            finally:
                path.write_text(original)
            rows.append({"id": ident, "file": fname, "status": status, "seconds": round(secs, 1),
                         "first_failure": tail, "what": what})
            print(f"{ident:24s} {status:9s} {secs:6.1f} s  {tail}", file=sys.stderr)
    killed = sum(r["status"] == "killed" for r in rows)
    survived = [r["id"] for r in rows if r["status"] == "survived"]
    result = {"benchmark": "mutation", "suite": a.suite, "profile": a.profile, "tests": tests, "mutants": len(rows),
              "killed": killed, "survived": survived,
              "not_applicable": [r["id"] for r in rows if r["status"] == "not-applicable"],
              "score": round(killed / max(1, killed + len(survived)), 3), "rows": rows}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
