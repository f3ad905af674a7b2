"""A synthetic results tree for the claims registry (yarnlab.claims): every input of ``input_paths``
written from known effects, shared by test_claims_build.py and test_claims_pooled.py.

Documents are pieces of works, ``<work>@<offset>`` (8 works x 4 pieces), with a per-work effect.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import yaml

from yarnlab.claims.inputs import input_paths
from yarnlab.claims.temperature import rule_table, temperature_fit
from yarnlab.io import write_table
from yarnlab.workflow.layout import claims_settings

N_WORKS, PIECES = 8, 4
DOCS = [f"w{w}@{o * 64}" for w in range(N_WORKS) for o in range(PIECES)]
L = 16
M_GRID = np.round(np.arange(0.9, 1.41, 0.05), 2)
N_BOOT = 200
# the regime thresholds of the default config, as the workflow writes them into the claims settings
REGIME = claims_settings(yaml.safe_load((Path(__file__).parents[1] / "workflows/config/default.yaml").read_text()))[
    "regime"]


def settings(corpus: bool = False) -> dict:
    variants = {
        "yarn-s2-steps4": {"init": "base", "method": "yarn", "scale": 2, "steps": 4},
        "yarn-s2-from-s1": {"init": "yarn-s2", "method": "yarn", "scale": 2, "steps": 4},
        "yarn-s2-ctx1": {"init": "base", "method": "yarn", "scale": 2, "train_ctx": 1},
        "yarn-s2-paper-ramp": {"init": "base", "method": "yarn", "scale": 2, "ramp": "paper"},
        "none-s1-steps20": {"init": "base", "method": "none", "scale": 1, "steps": 20},
    }
    cl = {
        "n_boot": 300,
        "margin": 0.02,
        "fewer_steps": "yarn-s2-steps4",
        "transfer": "yarn-s2-from-s1",
        "short_data": "yarn-s2-ctx1",
        "paper_ramp": "yarn-s2-paper-ramp",
        "short_context_control": "none-s1-steps20",
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
        "regime": {**REGIME, "positions": {"methods": ["yarn"], "scales": [2], "bins": L}},
        "toy": {"L": L, "works": N_WORKS},
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


def write_jsonl(path: str, rows: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def centred(d: dict) -> dict:
    mean = float(np.mean(list(d.values())))
    return {k: v - mean for k, v in d.items()}


def sweep_rows(s: float, rng, work_shift: dict, noise_shift: float = 0.005) -> list[dict]:
    """A temperature sweep at scale s: per-document NLL = doc level + (m - m*_doc(s))^2 with
    m*_doc(s) = 0.1 ln s + 1 + work_shift[work] (shared by every s) + an independent per-(s, work)
    shift (sd ``noise_shift``), centred so that the pooled optimum is exactly 0.1 ln s + 1 + the mean
    shared shift; segments -1 (whole document), 0, 1."""
    m_star = 0.1 * math.log(s) + 1
    own = centred({w: noise_shift * rng.standard_normal() for w in work_shift})
    rows = []
    for d in DOCS:
        w = d.split("@")[0]
        opt = m_star + work_shift[w] + own[w]
        for m in M_GRID:
            for g in (-1, 0, 1):
                rows.append(
                    {"s": s, "m": float(m), "doc": d, "segment": g, "nll": 1.5 + (m - opt) ** 2, "tokens": int(s * L)}
                )
    return rows


# Held-out curves of the training runs (claims 3 and 5): per-window NLL 2 + amp exp(-step / tau) + a window
# offset shared by every run + noise, evaluated at every step. With the margin 0.02: PI (tau 5) first reaches
# its last loss + margin at step 9, YaRN (tau 1.7) reaches it at step 3 (ratio in [8/3, 9/2], above 2.5) and
# its own last loss + margin at step 6; the transfer (amp 0.1, tau 1) reaches that at step 2 (ratio in
# [5/2, 6], above 2).
CURVES = {"pi": (0.5, 5.0), "ntk": (0.5, 5.0), "yarn": (0.5, 1.7), "yarn-s2-from-s1": (0.1, 1.0),
          "none-s1-steps20": (0.1, 5.0)}
WINDOWS = 16


def run_steps(st: dict, name: str) -> int:
    return int(st["variants"].get(name, {}).get("steps", st["finetune"]["steps"]))


def curve_rows(st: dict, name: str, rng, win_off: np.ndarray, curves: dict | None = None) -> list[dict]:
    """Evaluation lines of a fine-tune's metrics.jsonl with per-window losses (see CURVES), then the final line."""
    amp, tau = (curves or {}).get(name) or CURVES.get(name) or CURVES[name.split("-")[0]]
    steps = run_steps(st, name)
    v = st["variants"].get(name) or {"scale": name.split("-s")[1].split("-")[0]}
    ctx = float(v.get("train_ctx", v["scale"]))
    rows = []
    for k in range(steps + 1):
        units = 2.0 + amp * math.exp(-k / tau) + win_off + 0.002 * rng.standard_normal(WINDOWS)
        rows.append({"step": k, "tokens": int(k * 64 * ctx), "heldout_loss": float(units.mean()),
                     "heldout_unit_loss": [float(u) for u in units], "heldout_unit_tokens": [64] * WINDOWS,
                     "heldout_units": "synthetic-windows"})
    return rows + [{"step": steps, "final": True, "heldout_loss": rows[-1]["heldout_loss"]}]


def make_tree(
    root: Path,
    yarn_vs_pi: float = -0.05,
    noise: float = 0.01,
    corpus: bool = False,
    position_artifact: float = 0.0,
    extra_position_artifact: float = 0.0,
    base_retrieves: bool = True,
    dynamic_blowup: float = 0.0,
    work_shift_sd: float = 0.01,
    converged: bool = True,
    context_gain: float = 0.3,
    base_blowup: float = 2.0,
    induction_gain: float = 2.5,
    passkey_trials: int = 40,
    m_offset: float = 0.0,
    offsets: dict | None = None,
    curves: dict | None = None,
    seed: int = 0,
    seed_effect: float = 0.0,
) -> tuple[str, dict]:
    """Write every input of ``input_paths`` (regime inputs and the temperature_fit tables included); return
    the results folder and the claims settings.

    ``yarn_vs_pi``: NLL offset of every YaRN model vs PI; ``position_artifact``: nats added to the base's
    last L/16 positions at L (``extra_position_artifact``: to base-code's, with ``corpus``);
    ``base_retrieves``: the base's passkey within L; ``dynamic_blowup``: nats
    added to the dynamic methods past 2L; ``base_blowup``: nats per doubling past L of the base (plain
    RoPE); ``converged``: the base's held-out loss has flattened; ``context_gain``: nats lost on [L/2, L)
    when only the last L/8 tokens are visible; ``m_offset``: added to every optimum of the temperature
    sweeps (0: the optima lie around Eq. 22's 0.1 ln s + 1); ``offsets``: nats added to the named models
    at every length (a variant that is worse than the paper says); ``curves``: (amp, tau) of the held-out
    curves of named runs (:data:`CURVES`); ``seed``: the training seed of the tree (its random draws);
    ``seed_effect``: nats added to every YaRN model (a seed's own effect, for pooling)."""
    st = settings(corpus)
    st["seed"] = seed
    res = str(root / "results")
    paths = input_paths(res, st)
    rng = np.random.default_rng(seed)
    work_eff = {f"w{w}": 0.3 * rng.random() for w in range(N_WORKS)}
    doc_base = np.array([1.0 + work_eff[d.split("@")[0]] + 0.05 * rng.random() for d in DOCS])

    def nll(label: str, n: int) -> np.ndarray:
        eff = 0.0
        s = 1.0 if label.startswith("base") else 2.0
        if label == "base-sliding":
            pass  # at most L tokens of context: flat in n
        elif label.startswith("base") and n > L:
            eff += base_blowup * math.log2(n / L)  # explodes past L
        elif n > s * L:
            eff += 0.5 * math.log2(n / (s * L))  # degrades past sL
        if label.startswith("yarn"):
            eff += yarn_vs_pi + seed_effect
        if label.startswith("ntk") and n <= L:
            eff += 0.1
        eff += (offsets or {}).get(label, 0.0)
        return doc_base + eff + noise * rng.standard_normal(len(DOCS))

    def ppl_rows(name: str, lens) -> list[dict]:
        return [
            {"label": name, "length": n, "doc": d, "nll": float(v)} for n in lens for d, v in zip(DOCS, nll(name, n))
        ]

    def positions(length: int, artifact: float) -> list[dict]:
        bins = st["regime"]["positions"]["bins"]
        edges = np.linspace(0, length, bins + 1).astype(int)
        out = []
        for i, d in enumerate(DOCS):
            for k in range(bins):
                lo, hi = int(edges[k]), int(edges[k + 1])
                v = doc_base[i] + 0.01 * rng.standard_normal() + (artifact if lo >= length - length // 16 else 0.0)
                out.append(
                    {"method": "none", "factor": 1.0, "length": length, "doc": d, "bin": k, "pos_lo": lo,
                     "pos_hi": hi, "tokens": hi - lo, "nll": float(v)}
                )
        return out

    curve_rng = np.random.default_rng([seed, 5])
    win_off = 0.3 * curve_rng.standard_normal(WINDOWS)  # the held-out windows of this seed
    sweeps: dict[float, list[dict]] = {}
    rules: dict[float, list[dict]] = {}
    # per-work shifts of the optimum, shared by every s; centred: the sample's pooled optimum is the rule
    work_shift = {w: v + m_offset for w, v in
                  centred({f"w{w}": work_shift_sd * rng.standard_normal() for w in range(N_WORKS)}).items()}
    for key, p in paths.items():
        kind, _, name = key.partition(":")
        if kind in ("ppl", "variant"):
            write_table(p, ppl_rows(name, st["ppl"]["lengths"]), {})
        elif kind == "long":
            write_table(p, ppl_rows(name, st["long_ppl"]["lengths"]), {})
        elif kind == "metrics":
            if name.startswith("base"):  # base and base-code, converged: < 3% drop over the last 20% of steps
                losses = [(0, 5.0), (20, 2.5), (40, 2.1), (60, 2.02), (80, 2.0), (100, 1.99 if converged else 1.8)]
            else:
                write_jsonl(p, curve_rows(st, name, curve_rng, win_off, curves))
                continue
            rows = [{"step": k, "heldout_loss": v} for k, v in losses]
            write_jsonl(p, rows + [{**rows[-1], "final": True}])
        elif kind == "summary":
            Path(p).parent.mkdir(parents=True, exist_ok=True)
            Path(p).write_text(json.dumps({"tokens": 1000}))
        elif kind == "positions":
            length = L if name.startswith("base") else int(float(name.split("-s")[1].split("-")[0]) * L)
            artifact = {"base": position_artifact, "base-code": extra_position_artifact}.get(name, 0.0)
            write_table(p, positions(length, artifact), {})
        elif kind == "context_use":
            write_table(
                p,
                [
                    {"method": "none", "factor": 1.0, "doc": d, "length": L, "visible": L // 8, "n_tokens": L // 2,
                     "nll_full": float(v), "nll_truncated": float(v + context_gain + 0.01 * rng.standard_normal())}
                    for d, v in zip(DOCS, doc_base)
                ],
                {},
            )
        elif kind == "induction":  # the summary of `yarnlab eval induction`: a gain per distance, then ICL
            write_table(
                p,
                [{"method": "none", "factor": 1.0, "length": L, "measure": "induction_gain", "distance": d, "span": 8,
                  "n": 16, "nll_a": 3.26, "nll_b": 3.26 - induction_gain, "value": induction_gain,
                  "lo": induction_gain - 0.2, "hi": induction_gain + 0.2} for d in (8, 16, L - 8)]
                + [{"method": "none", "factor": 1.0, "length": L, "measure": "icl", "distance": "", "span": "",
                    "n": 32, "nll_a": 2.0, "nll_b": 2.1, "value": -0.1, "lo": -0.15, "hi": -0.05}],
                {},
            )
        elif kind == "logit_spread":
            write_table(
                p,
                [
                    {"layer": la, "head": h, "length": L, "sigma": 1.5 + 0.1 * la + 0.05 * h}
                    for la in range(2)
                    for h in range(4)
                ],
                {},
            )
        elif kind == "temperature_prediction":
            write_table(
                p,
                [
                    {"s": float(s), "n": L, "n_heads": 8, "n_solved": 8, "m_median": 0.1 * math.log(s) + 1,
                     "m_q25": 0.1 * math.log(s) + 0.98, "m_q75": 0.1 * math.log(s) + 1.02, "sigma_rms": 1.6,
                     "m_at_sigma_rms": 0.1 * math.log(s) + 1, "m_yarn_rule": 0.1 * math.log(s) + 1}
                    for s in st["sweep"]["scales"]
                ],
                {},
            )
        elif kind == "sweep":
            sweeps[float(name)] = sweep_rows(float(name), rng, work_shift)
            write_table(p, sweeps[float(name)], {})
        elif kind == "rules":
            s = float(name)
            rules[s] = [
                {"s": s, "rule": r, "m": m, "doc": d, "nll": float(doc_base[i] + (m - 0.1 * math.log(s) - 1) ** 2)}
                for r, m in (("none", 1.0), ("yarn", 0.1 * math.log(s) + 1))
                for i, d in enumerate(DOCS)
            ]
            write_table(p, rules[s], {})
        elif kind == "dynamic":
            rows = []
            for m in st["dynamic"]["methods"]:
                for n in st["dynamic"]["lengths"]:
                    vals = nll("base" if m == "none" else "yarn" if "yarn" in m else "pi", n)
                    if m != "none" and n > 2 * L:
                        vals = vals + dynamic_blowup
                    rows += [{"method": m, "length": n, "doc": d, "nll": float(v)} for d, v in zip(DOCS, vals)]
            write_table(p, rows, {})
        elif kind == "passkey":
            ok = int(base_retrieves or name != "base")
            write_table(
                p,
                [
                    {"label": name, "length": n, "trial": j, "exact": ok, "ranked": ok}
                    for n in st["passkey"]["lengths"]
                    for j in range(passkey_trials)
                ],
                {},
            )
        elif kind == "ablation":
            write_table(
                p,
                [
                    {"alpha": 1.0, "beta": b, "ramp": "index", "s": 2.0, "doc": d,
                     "nll": float(doc_base[i] + 0.01 * abs(b - 32) / 16)}
                    for b in (16.0, 32.0)
                    for i, d in enumerate(DOCS)
                ],
                {},
            )
        elif kind == "theory_entropy":
            write_table(
                p,
                [
                    {"n_short": 4096, "s": s, "sigma": sig, "m_invariant_mc": 1 + 0.1 * math.log(s) * sig / 1.8,
                     "m_yarn_rule": 0.1 * math.log(s) + 1}
                    for s in (2.0, 4.0, 8.0)
                    for sig in (1.0, 1.8, 3.0)
                ],
                {},
            )
        elif kind == "theory_summary":
            Path(p).parent.mkdir(parents=True, exist_ok=True)
            Path(p).write_text(json.dumps({"entropy": {"best_matching_sigma": 1.8}}))
    # the analysis tables, as the workflow's `yarnlab claims temperature-fit` writes them
    write_table(paths["temperature_fit"], temperature_fit(sweeps, N_BOOT), {})
    write_table(paths["temperature_fit_rules"], rule_table(rules, N_BOOT), {})
    return res, st


def claim_of(doc, cid):
    return next(c for c in doc["claims"] + doc["open_questions"] if c["id"] == cid)


def regime_of(doc) -> dict:
    return {r["check"]: r for r in doc["regime"]}
