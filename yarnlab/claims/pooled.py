"""Claims pooled over training seeds: one verdict per claim from the runs of one configuration that differ
only in their training seed (claims-full's sensitivity runs, one results folder per toy and seed).

:class:`PooledResults` presents the seeds' results as one: every table with a ``doc`` column (the
perplexity tables, the dynamic and ablation tables) keys its documents ``seed<k>|<work>@<offset>``
(:func:`yarnlab.claims.stats.seed_doc`), so each claim computes its rows exactly as for one run and every
interval becomes hierarchical: seeds, then works within seeds (:func:`yarnlab.claims.stats.
hierarchical_bootstrap_t`; the same held-out works in every seed make the design crossed). The
steps-to-reach ratios of claims 3 and 5 resample seeds, then each seed's held-out windows
(:mod:`yarnlab.claims.steps`). Verdicts follow the grammar from those pooled intervals.

Not pooled (the per-seed table has them): claim 6 and Q4 (m*(s) is the argmin of a sweep curve with a
band from a bootstrap of that argmin over works, not a mean over documents) and claim 9 (passkey accuracy
is a proportion of trials of one model; the seeds' trials are not exchangeable).

Premises: a pooled claim is "not testable on this toy" when one of its regime checks failed in any seed
(the check and the seeds are named): its rows average over every seed's base. A claim about an extra base
(Q5) reads that base's checks in each seed.
"""

from __future__ import annotations

import json

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.regime import CHECKS, failed
from yarnlab.claims.results import MissingInputError, Results
from yarnlab.claims.sections import not_run
from yarnlab.errors import UsageError

NOT_POOLED = {
    "6": "m*(s) is the argmin of a sweep curve, its band a bootstrap of that argmin over works: not a mean over "
         "documents; see the per-seed table",
    "9": "passkey accuracy is a proportion of one model's trials (Wilson interval); the seeds' trials are not "
         "exchangeable; see the per-seed table",
    "Q4": "reads claim 6's band, which is not pooled; see the per-seed table",
}
MIN_SEEDS = 3


class PooledResults(Results):
    """The results of several seeds of one configuration read as one (module docstring)."""

    def __init__(self, runs: list[tuple[int, Results]]):
        if len(runs) < MIN_SEEDS:
            raise UsageError(f"seeds: pooling needs >= {MIN_SEEDS} seeds, the fewest a hierarchical interval is "
                             f"drawn from (got {len(runs)})")
        seeds = [s for s, _ in runs]
        if len(set(seeds)) < len(seeds):
            raise UsageError(f"seeds: listed more than once ({seeds})")
        first = runs[0][1]
        ref, others = _comparable(first.settings), [_comparable(r.settings) for _, r in runs[1:]]
        differ = sorted({k for o in others for k in set(ref) | set(o) if o.get(k) != ref.get(k)})
        if differ:
            raise UsageError(f"settings: the seeds' runs differ in {differ}; only the seed (and the "
                             "pre-registration's later history) may differ")
        self.runs = list(runs)
        self.settings = {**first.settings, "seed": seeds}
        if "preregistration" in first.settings:
            self.settings["preregistration"] = _newest_prereg(runs)
        self.results = [r.results for _, r in runs]
        self.paths = first.paths  # the roles of the configuration (membership tests); src() lists every seed's
        self.n_boot, self.margin, self.L = first.n_boot, first.margin, first.L
        self._cache = {}

    def seeds(self) -> list[tuple[int, Results]]:
        return list(self.runs)

    def table(self, key: str) -> list[dict]:
        """Every seed's rows with a ``seed`` column; documents keyed by seed."""
        if key not in self._cache:
            rows = []
            for sd, r in self.runs:
                rows += [{**x, "seed": sd, **({"doc": S.seed_doc(sd, x["doc"])} if "doc" in x else {})}
                         for x in r.table(key)]
            self._cache[key] = rows
        return self._cache[key]

    def nll(self, label: str, length: int, *args, **kwargs) -> dict:
        out = {}
        for sd, r in self.runs:
            out.update({S.seed_doc(sd, d): v for d, v in r.nll(label, length, *args, **kwargs).items()})
        return out

    def lengths(self, label: str) -> list[int]:
        each = {tuple(r.lengths(label)) for _, r in self.runs}
        if len(each) > 1:
            raise MissingInputError(f"{label}: the seeds' tables hold different lengths {sorted(each)}")
        return list(each.pop())

    def jsonl(self, key: str) -> list[dict]:
        raise UsageError(f"{key}: a pooled result has no single metrics file; read each seed's (seeds())")

    def json(self, key: str) -> dict:
        return self.runs[0][1].json(key)  # training summaries: the same configuration in every seed

    def src(self, *keys: str) -> list[str]:
        return [r.paths[k] for _, r in self.runs for k in keys if k in r.paths]


# the pre-registration's history as each run read it (later commits to the file, the amendments' text):
# documentation, not a setting; runs made before and after an amendment that changed no threshold pool
# (the thresholds are compared under ``regime``)
_PREREG_HISTORY = ("commits", "amendments")


def _comparable(settings: dict) -> dict:
    """The settings that must agree between pooled runs, each as canonical JSON: all but the seed and the
    pre-registration's history."""
    out = {}
    for k, v in settings.items():
        if k == "seed":
            continue
        if k == "preregistration" and isinstance(v, dict):
            v = {f: x for f, x in v.items() if f not in _PREREG_HISTORY}
        out[k] = json.dumps(v, sort_keys=True)
    return out


def _newest_prereg(runs: list) -> dict | None:
    """The pre-registration record of the run that saw the longest history of the file (the newest)."""
    regs = [r.settings.get("preregistration") for _, r in runs]
    regs = [x for x in regs if isinstance(x, dict)]
    return max(regs, key=lambda x: len(x.get("commits") or []), default=None)


def _gate(section: dict, premises, failed_in: dict[str, list[int]], base: str | None = "base") -> dict:
    needs = [p.check for p in premises]
    section["premises_of"] = base
    hit = [c for c in needs if failed_in.get(c)]
    if hit and section["verdict"] != G.NOT_RUN:
        section["verdict_if_testable"] = section["verdict"]
        section["verdict"] = G.NOT_TESTABLE
        section["not_testable_because"] = [f"{c} (failed in seed(s) {', '.join(map(str, failed_in[c]))})"
                                           for c in hit]
    section["needs"] = needs
    return section


def build_pooled(runs: list[tuple[str, dict]], n_boot: int | None = None) -> dict:
    """Pooled sections of every claim from ``runs`` = (results folder, claims settings) of each seed
    (settings as each run's ``claims_settings.json``); a JSON-able dict."""
    from yarnlab.claims.registry import CLAIMS, PUBLISHED, regimes

    per = [(int(st["seed"]), Results(res, st, n_boot)) for res, st in runs]
    pooled = PooledResults(per)
    pub = json.loads(PUBLISHED.read_text())
    # {base: {check: the seeds in which it failed}}: the main base and every extra base a claim is about
    failed_in: dict[str, dict[str, list[int]]] = {}
    for sd, r in per:
        for b, rows in regimes(r, r.settings).items():
            bad = failed(rows)
            by_check = failed_in.setdefault(b, {c: [] for c in CHECKS})
            for c in bad:
                by_check[c].append(sd)
    sections = []
    for claim in CLAIMS:
        head = {"id": claim.id, **pub[claim.published[0]][claim.published[1]]}
        if claim.id in NOT_POOLED or claim.reads:
            sections.append({**head, "verdict": "per seed only", "pooled": False,
                             "criterion": NOT_POOLED.get(claim.id, "not pooled"), "headline": "", "needs": []})
            continue
        try:
            sec, _ = claim.section(pooled)
        except MissingInputError as exc:
            sec = not_run(f"not run in this configuration: {exc}")
        base = claim.base_of(pooled.settings)
        sections.append(_gate({**head, **sec, "pooled": True}, claim.premises, failed_in.get(base, {}), base))
    return {
        "seeds": [sd for sd, _ in per],
        "interval_method": S.METHOD_SEEDS,
        "level": S.LEVEL,
        "n_boot": pooled.n_boot,
        "margin_nats": pooled.margin,
        "L": pooled.L,
        "regime_failed_in": {c: v for c, v in failed_in["base"].items() if v},
        "regime_failed_in_extra": {b: {c: v for c, v in f.items() if v} for b, f in failed_in.items() if b != "base"},
        "claims": [s for s in sections if not s["id"].startswith("Q")],
        "open_questions": [s for s in sections if s["id"].startswith("Q")],
        "inputs": sorted({p for _, r in per for p in r.paths.values()}),
    }
