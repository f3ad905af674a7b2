"""The claims generator on a small synthetic results tree: verdict logic (holds / does not hold /
inconclusive), a missing input raises, the CLI writes CLAIMS.md + JSON + the forest figure."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from yarnlab.claims import stats as S
from yarnlab.claims.generate import MissingInputError, build
from yarnlab.claims.inputs import input_paths
from yarnlab.theory.provenance import write_table

N_DOCS = 40
L = 16


def settings(corpus: bool = False) -> dict:
    variants = {
        "yarn-s2-steps4": {"init": "base", "method": "yarn", "scale": 2, "steps": 4},
        "yarn-s2-from-s1": {"init": "yarn-s2", "method": "yarn", "scale": 2, "steps": 4},
        "yarn-s2-ctx1": {"init": "base", "method": "yarn", "scale": 2, "train_ctx": 1},
        "yarn-s2-paper-ramp": {"init": "base", "method": "yarn", "scale": 2, "ramp": "paper"},
    }
    cl = {
        "n_boot": 300,
        "margin": 0.02,
        "fewer_steps": "yarn-s2-steps4",
        "transfer": "yarn-s2-from-s1",
        "short_data": "yarn-s2-ctx1",
        "paper_ramp": "yarn-s2-paper-ramp",
        "corpus": None,
    }
    if corpus:
        variants.update(
            {
                "yarn-s2-code": {"init": "base-code", "method": "yarn", "scale": 2, "corpus": "code"},
                "pi-s2-code": {"init": "base-code", "method": "pi", "scale": 2, "corpus": "code"},
            }
        )
        cl["corpus"] = {"corpus": "code", "yarn": "yarn-s2-code", "pi": "pi-s2-code"}
    return {
        "seed": 0,
        "original_ctx": L,
        "data_corpus": "prose",
        "finetune": {"methods": ["pi", "ntk", "yarn"], "scales": [2], "steps": 10, "corpus": "prose"},
        "ppl": {"lengths": [8, 16, 32, 64], "noft_methods": ["yarn"]},
        "sweep": {"scales": [2, 4, 8], "figure_scale": 4},
        "dynamic": {"methods": ["none", "dynamic-pi", "dynamic-yarn"], "lengths": [16, 32, 64]},
        "passkey": {"models": ["base", "yarn-s2"], "lengths": [16, 32], "candidates": 5},
        "ablation": {"scale": 2},
        "variants": variants,
        "extra_bases": ["code"] if corpus else [],
        "long_ppl": {"models": ["yarn-s2"], "lengths": [128]},
        "claims": cl,
    }


def make_tree(
    root: Path, yarn_vs_pi: float = -0.05, noise: float = 0.01, corpus: bool = False
) -> tuple[str, str, dict]:
    """Write every input of the generator. ``yarn_vs_pi``: the per-token NLL offset of every YaRN
    model relative to PI (negative: YaRN better)."""
    from yarnlab.figures.plots import temperature_fit

    st = settings(corpus)
    res, figs = str(root / "results"), str(root / "paper_figs")
    paths = input_paths(res, figs, st)
    rng = np.random.default_rng(0)
    doc_base = 1.0 + 0.3 * rng.random(N_DOCS)

    def nll(label: str, n: int) -> np.ndarray:
        eff = 0.0
        s = 1.0 if label.startswith("base") else 2.0
        if label.startswith("base") and n > L:
            eff += 2.0 * math.log2(n / L)  # explodes past L
        elif n > s * L:
            eff += 0.5 * math.log2(n / (s * L))  # degrades past sL
        if label.startswith("yarn"):
            eff += yarn_vs_pi
        if label.startswith("ntk") and n <= L:
            eff += 0.1
        return doc_base + eff + noise * rng.standard_normal(N_DOCS)

    for key, p in paths.items():
        kind, _, name = key.partition(":")
        if kind in ("ppl", "long", "variant"):
            lens = st["long_ppl"]["lengths"] if kind == "long" else st["ppl"]["lengths"]
            write_table(
                p,
                [
                    {"label": name, "length": n, "doc": i, "nll": float(v)}
                    for n in lens
                    for i, v in enumerate(nll(name, n))
                ],
                {},
            )
        elif kind == "metrics":
            rows = [
                {"step": k, "heldout_bpb": 2.0 - k / (20 if name.startswith("yarn") else 10)}
                for k in (0, 5, 10)
            ]
            Path(p).parent.mkdir(parents=True, exist_ok=True)
            Path(p).write_text("\n".join(json.dumps(r) for r in rows + [{**rows[-1], "final": True}]) + "\n")
        elif kind == "summary":
            Path(p).parent.mkdir(parents=True, exist_ok=True)
            Path(p).write_text(json.dumps({"tokens": 1000}))
        elif kind == "sweep":
            s = float(name)
            m_star = 0.1 * math.log(s) + 1
            write_table(
                p,
                [
                    {
                        "s": s,
                        "m": m,
                        "doc": i,
                        "segment": g,
                        "nll": float(doc_base[i] + (m - m_star) ** 2 + 0.001 * rng.standard_normal()),
                        "tokens": 16,
                    }
                    for m in np.round(np.arange(0.9, 1.41, 0.05), 2)
                    for i in range(N_DOCS)
                    for g in (-1, 0, 1)
                ],
                {},
            )
        elif kind == "rules":
            s = float(name)
            write_table(
                p,
                [
                    {
                        "s": s,
                        "rule": r,
                        "m": m,
                        "doc": i,
                        "nll": float(doc_base[i] + (m - 0.1 * math.log(s) - 1) ** 2),
                    }
                    for r, m in (("none", 1.0), ("yarn", 0.1 * math.log(s) + 1))
                    for i in range(N_DOCS)
                ],
                {},
            )
        elif kind == "dynamic":
            write_table(
                p,
                [
                    {"method": m, "length": n, "doc": i, "nll": float(v)}
                    for m in st["dynamic"]["methods"]
                    for n in st["dynamic"]["lengths"]
                    for i, v in enumerate(nll("base" if m == "none" else "yarn" if "yarn" in m else "pi", n))
                ],
                {},
            )
        elif kind == "passkey":
            write_table(
                p,
                [
                    {"label": name, "length": n, "trial": j, "exact": 1, "ranked": 1}
                    for n in (16, 32)
                    for j in range(40)
                ],
                {},
            )
        elif kind == "ablation":
            write_table(
                p,
                [
                    {
                        "alpha": a,
                        "beta": b,
                        "ramp": "index",
                        "s": 2.0,
                        "doc": i,
                        "nll": float(doc_base[i] + 0.01 * abs(b - 32) / 16),
                    }
                    for a in (1.0,)
                    for b in (16.0, 32.0)
                    for i in range(N_DOCS)
                ],
                {},
            )
        elif kind == "theory_entropy":
            write_table(
                p,
                [
                    {
                        "n_short": 4096,
                        "s": s,
                        "sigma": sig,
                        "m_invariant_mc": 1 + 0.1 * math.log(s) * sig / 1.8,
                        "m_yarn_rule": 0.1 * math.log(s) + 1,
                    }
                    for s in (2.0, 4.0, 8.0)
                    for sig in (1.0, 1.8, 3.0)
                ],
                {},
            )
        elif kind == "theory_summary":
            Path(p).write_text(json.dumps({"entropy": {"best_matching_sigma": 1.8}}))
    sweeps = [paths[f"{k}:{s:g}"] for k in ("sweep", "rules") for s in st["sweep"]["scales"]]
    temperature_fit(sweeps, str(Path(figs) / "temperature_fit"), n_boot="50")
    return res, figs, st


def _claim(doc, cid):
    return next(c for c in doc["claims"] + doc["open_questions"] if c["id"] == cid)


@pytest.mark.parametrize("offset, expected", [(-0.05, S.HOLDS), (0.05, S.FAILS), (0.0, S.INCONCLUSIVE)])
def test_claim2_verdict_follows_the_data(tmp_path, offset, expected):
    res, figs, st = make_tree(tmp_path, yarn_vs_pi=offset, noise=0.01 if offset else 0.2)
    doc = build(res, figs, st)
    assert _claim(doc, "2")["parts"]["YaRN < PI at every length L/2..sL"] == expected


def test_synthetic_tree_verdicts(tmp_path):
    res, figs, st = make_tree(tmp_path)
    doc = build(res, figs, st)
    assert _claim(doc, "1")["verdict"] == S.HOLDS  # base explodes past L by construction
    c2 = _claim(doc, "2")
    assert c2["parts"]["NTK-aware worse than PI and YaRN at <= L"] == S.HOLDS
    c6 = _claim(doc, "6")
    assert c6["fit"]["paper_inside"]  # optima drawn from 0.1 ln s + 1
    assert abs(c6["fit"]["a"] - 0.1) < 0.03 and abs(c6["fit"]["b"] - 1.0) < 0.03
    assert _claim(doc, "9")["verdict"] == S.HOLDS  # 40/40 trials correct: Wilson lower end > 0.8
    assert _claim(doc, "Q5")["verdict"] == "not run"
    q2 = _claim(doc, "Q2")
    assert q2["breaks_at"]["yarn-s2"] == 64  # degrades past sL = 32 by construction


def test_corpus_question_runs_when_configured(tmp_path):
    res, figs, st = make_tree(tmp_path, corpus=True)
    assert _claim(build(res, figs, st), "Q5")["verdict"] in (S.HOLDS, S.PARTLY)


def test_missing_input_raises_naming_it(tmp_path):
    res, figs, st = make_tree(tmp_path)
    victim = Path(input_paths(res, figs, st)["variant:yarn-s2-from-s1"])
    victim.unlink()
    with pytest.raises(MissingInputError, match="yarn-s2-from-s1"):
        build(res, figs, st)


def test_cli_writes_markdown_json_and_figure(tmp_path):
    from yarnlab.cli import main

    res, figs, st = make_tree(tmp_path)
    sp = tmp_path / "settings.json"
    sp.write_text(json.dumps(st))
    out = Path(figs) / "CLAIMS.md"
    assert main(
        [
            "claims",
            "--results",
            res,
            "--paper-figs",
            figs,
            "--settings",
            str(sp),
            "--out",
            str(out),
            "--n-boot",
            "200",
        ]
    ) in (0, None)
    text = out.read_text()
    for cid in list("123456789"):
        assert f"## Claim {cid}:" in text
    for q in ("Q1", "Q2", "Q3", "Q4", "Q5"):
        assert f"## Open question {q}:" in text
    js = json.loads((Path(figs) / "CLAIMS.json").read_text())
    assert len(js["claims"]) == 9 and js["provenance"]["package"] == "yarnlab"
    assert (Path(figs) / "claims_forest.png").stat().st_size > 0


def test_cli_missing_settings_is_a_usage_error(tmp_path):
    from yarnlab.cli import main

    assert (
        main(
            [
                "claims",
                "--results",
                str(tmp_path),
                "--paper-figs",
                str(tmp_path),
                "--out",
                str(tmp_path / "C.md"),
            ]
        )
        == 2
    )


def test_passkey_without_base_retrieval_is_inconclusive(tmp_path):
    """If the base model cannot retrieve within L, a failing extended model says nothing about the claim."""
    res, figs, st = make_tree(tmp_path)
    paths = input_paths(res, figs, st)
    for label in st["passkey"]["models"]:
        write_table(
            paths[f"passkey:{label}"],
            [
                {"label": label, "length": n, "trial": j, "exact": 0, "ranked": 0}
                for n in (16, 32)
                for j in range(40)
            ],
            {},
        )
    c9 = _claim(build(res, figs, st), "9")
    assert not c9["powered"] and c9["verdict"] == S.INCONCLUSIVE
    assert all(r["verdict"] == S.FAILS for r in c9["measurements"] if r["label"] != "base")


def test_verdict_rules():
    e = S.Estimate
    assert S.verdict_better(e(-0.1, -0.2, -0.01, 10)) == S.HOLDS
    assert S.verdict_better(e(0.1, 0.01, 0.2, 10)) == S.FAILS
    assert S.verdict_better(e(0.0, -0.1, 0.1, 10)) == S.INCONCLUSIVE
    assert S.verdict_noninferior(e(0.01, 0.0, 0.015, 10), 0.02) == S.HOLDS
    assert S.verdict_noninferior(e(0.05, 0.03, 0.07, 10), 0.02) == S.FAILS
    assert S.verdict_noninferior(e(0.02, 0.0, 0.04, 10), 0.02) == S.INCONCLUSIVE
    assert S.aggregate([S.HOLDS, S.HOLDS]) == S.HOLDS
    assert S.aggregate([S.HOLDS, S.FAILS]) == S.PARTLY
    assert S.aggregate([S.INCONCLUSIVE, S.FAILS]) == S.INCONCLUSIVE
    with pytest.raises(Exception, match="unknown"):
        S.aggregate(["maybe"])


def test_paired_interval_covers_a_known_shift():
    rng = np.random.default_rng(1)
    a = {i: 1.0 + rng.normal() for i in range(200)}
    b = {i: a[i] - 0.05 + 0.01 * rng.normal() for i in range(200)}
    est = S.paired(a, b, n_boot=500)
    assert est.low < 0.05 < est.high and est.high - est.low < 0.01
