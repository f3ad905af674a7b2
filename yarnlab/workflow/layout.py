"""The layout of a workflow run: model labels, file names, every result path and the claims' settings.

Both sides of the workflow/package line read this module, so each fact is written once: the Snakemake rules
(``workflows/rules/*.smk``) name their outputs and logs with :class:`Layout`, and
:mod:`yarnlab.claims.inputs` names the claims generator's inputs with the same methods.

**Labels.** A model *name* is ``base``; ``base-<corpus>``, a base pretrained on another corpus (config
``extra_bases``); a variant's own label (config ``variants``); or a main fine-tune ``<method>-s<scale>``. A
method applied to the base without fine-tuning is ``<method>-s<scale>-noft``. A model *label* adds the
training seed: ``<name>-seed<N>``. Scales are written with :func:`fmt` (``2.0`` -> ``2``).

**Paths.** Every function takes its parts as numbers or strings. A number is formatted (:func:`fmt` for a
scale); a string is used as it is, so the rules pass wildcards where the claims pass values:
``Layout("results").ppl_table("base", "{seed}")`` is the rule's output pattern
``results/eval/ppl/base-seed{seed}.csv``, ``Layout("results").ppl_table("base", 0)`` the file the claims read.

Standard library only (the Snakefile imports it while parsing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SUMMARY = "train_summary.json"  # a model folder's training summary: the file a rule's model input names
METRICS = "metrics.jsonl"  # its periodic evaluations (training curves, steps to reach)
LABEL = re.compile(r"^[a-z][a-z0-9-]*$")  # a model name, corpus or variant label
_SEEDED = re.compile(r"(.+)-seed(\d+)")
_FINETUNE = re.compile(r"([a-z][a-z0-9-]*?)-s([0-9.]+)")


def fmt(x: float) -> str:
    """1.0 -> '1', 2.5 -> '2.5': a scale as model labels and file names write it."""
    return f"{float(x):g}"


def _scale(x) -> str:
    """A scale in a label: a number through :func:`fmt`, a string (a wildcard, a written scale) as it is."""
    return x if isinstance(x, str) else fmt(x)


# ---------------------------------------------------------------- label grammar
def seeded(name: str, seed) -> str:
    """The label ``<name>-seed<seed>`` of model ``name`` trained with ``seed``."""
    return f"{name}-seed{seed}"


def split_seed(label: str) -> tuple[str, str]:
    """'yarn-s4-seed0' -> ('yarn-s4', '0')."""
    m = _SEEDED.fullmatch(label)
    if not m:
        raise ValueError(f"model label {label!r}: expected <name>-seed<N>")
    return m.group(1), m.group(2)


def finetune_name(method: str, scale) -> str:
    """``<method>-s<scale>``: a main fine-tune."""
    return f"{method}-s{_scale(scale)}"


def noft_name(method: str, scale) -> str:
    """``<method>-s<scale>-noft``: ``method`` applied to the base without fine-tuning."""
    return f"{finetune_name(method, scale)}-noft"


def extra_base_name(corpus: str) -> str:
    """``base-<corpus>``: a base pretrained on ``corpus`` (config ``extra_bases``)."""
    return f"base-{corpus}"


def main_finetunes(finetune: dict) -> list[str]:
    """The main fine-tunes of config section ``finetune``: every method at every scale."""
    return [finetune_name(m, s) for m in finetune["methods"] for s in finetune["scales"]]


def noft_names(ppl: dict, finetune: dict) -> list[str]:
    """The methods evaluated without fine-tuning (``ppl.noft_methods`` at ``ppl.noft_scales``, by default the
    fine-tuning scales)."""
    return [noft_name(m, s) for m in ppl["noft_methods"] for s in ppl.get("noft_scales") or finetune["scales"]]


def position_names(positions: dict) -> list[str]:
    """The methods of the per-position figure without fine-tuning (``regime.positions``)."""
    return [noft_name(m, s) for m in positions["methods"] for s in positions["scales"]]


def model_meta(name: str, variants: dict, data_corpus: str) -> tuple[str, float, str]:
    """(family, scale, corpus of its evaluation documents) of model ``name``: a variant or extra base with
    its own corpus is evaluated on that corpus' held-out documents, every other model on ``data_corpus``."""
    if name == "base":
        return "none", 1.0, data_corpus
    if name.startswith("base-"):
        return "none", 1.0, name[len("base-"):]
    if name in variants:
        v = variants[name]
        return v["method"], float(v["scale"]), v.get("corpus", data_corpus)
    m = _FINETUNE.fullmatch(name)
    if not m:
        raise ValueError(f"model {name!r}: not base, base-<corpus>, a variant or <method>-s<scale>")
    return m.group(1), float(m.group(2)), data_corpus


# ---------------------------------------------------------------- paths
class Layout:
    """Every path of one run: under ``results`` (models, data, evaluation and analysis tables, logs,
    benchmarks) and ``figures`` (the products: figures, summary tables, CLAIMS.md). ``variants``: the
    variant labels, which live in a folder of their own."""

    def __init__(self, results: str, figures: str | None = None, variants: Iterable[str] = ()):
        self.results = results
        self.figures = figures
        self.variants = frozenset(variants)

    # ---- models: the folder of each model, or a file in it
    def _in(self, folder: str, file: str | None) -> str:
        return f"{folder}/{file}" if file else folder

    def base_model(self, seed, file: str | None = None) -> str:
        return self._in(f"{self.results}/models/{seeded('base', seed)}", file)

    def extra_base_model(self, corpus: str, seed, file: str | None = None) -> str:
        return self._in(f"{self.results}/models/bases/{seeded(extra_base_name(corpus), seed)}", file)

    def variant_model(self, name: str, seed, file: str | None = None) -> str:
        return self._in(f"{self.results}/models/variants/{seeded(name, seed)}", file)

    def finetuned_model(self, name: str, seed, file: str | None = None) -> str:
        """A main fine-tune ``<method>-s<scale>``."""
        return self._in(f"{self.results}/models/{seeded(name, seed)}", file)

    def model(self, name: str, seed, file: str | None = None) -> str:
        """The folder (or ``file`` in it) of model ``name``: base, base-<corpus>, a variant or a main fine-tune."""
        if name == "base":
            return self.base_model(seed, file)
        if name.startswith("base-"):
            return self.extra_base_model(name[len("base-"):], seed, file)
        if name in self.variants:
            return self.variant_model(name, seed, file)
        return self.finetuned_model(name, seed, file)

    # ---- evaluation documents
    def eval_docs(self, corpus: str | None = None) -> str:
        """The held-out evaluation documents of ``data.corpus`` (``corpus`` None) or of another corpus."""
        return f"{self.results}/data/eval_docs{f'-{corpus}' if corpus else ''}.npz"

    # ---- per-document tables of `yarnlab eval`
    def ppl_table(self, name: str, seed) -> str:
        """Perplexity of a main model (base, fine-tune, method without fine-tuning, sliding baseline) at
        ``ppl.lengths``."""
        return f"{self.results}/eval/ppl/{seeded(name, seed)}.csv"

    def variant_ppl_table(self, name: str, seed) -> str:
        """Perplexity of a variant or extra base on its own corpus' documents."""
        return f"{self.results}/eval/variants/{seeded(name, seed)}.csv"

    def long_ppl_table(self, name: str, seed) -> str:
        """Perplexity at ``long_ppl.lengths``."""
        return f"{self.results}/eval/ppl_long/{seeded(name, seed)}.csv"

    def sweep_table(self, scale, seed, corpus: str | None = None) -> str:
        """The temperature sweep at ``scale`` of the base (or of ``base-<corpus>``)."""
        return f"{self._sweeps(corpus)}/s{_scale(scale)}-seed{seed}.csv"

    def sweep_rules_table(self, scale, seed, corpus: str | None = None) -> str:
        """The named temperature rules beside the sweep."""
        return f"{self._sweeps(corpus)}/rules-s{_scale(scale)}-seed{seed}.csv"

    def _sweeps(self, corpus: str | None) -> str:
        return f"{self.results}/eval/sweep{f'-{corpus}' if corpus else ''}"

    def dynamic_table(self, seed) -> str:
        return f"{self.results}/eval/dynamic/seed{seed}.csv"

    def passkey_table(self, label: str) -> str:
        """Passkey trials of model ``label`` (``<name>-seed<N>``)."""
        return f"{self.results}/eval/passkey/{label}.csv"

    def ablation_table(self, scale, seed) -> str:
        return f"{self.results}/eval/ablation/s{_scale(scale)}-seed{seed}.csv"

    def positions_table(self, name: str, seed) -> str:
        """Per-position loss of ``name``: base (at L), ``<method>-s<scale>-noft`` or ``-ft`` (at sL)."""
        return f"{self._regime()}/positions-{seeded(name, seed)}.csv"

    def context_use_table(self, seed) -> str:
        return f"{self._regime()}/context_use-seed{seed}.csv"

    def induction_table(self, seed) -> str:
        return f"{self._regime()}/induction-seed{seed}.csv"

    def induction_summary(self, seed) -> str:
        return f"{self._regime()}/induction_summary-seed{seed}.csv"

    def logit_spread_table(self, seed) -> str:
        return f"{self._regime()}/logit_spread-seed{seed}.csv"

    def temperature_prediction_table(self, seed) -> str:
        return f"{self._regime()}/temperature_prediction-seed{seed}.csv"

    def _regime(self) -> str:
        return f"{self.results}/eval/regime"

    # ---- analysis and theory tables
    def temperature_fit(self, corpus: str | None = None) -> str:
        """m*(s) with its band (``yarnlab claims temperature-fit``), of the base or of ``base-<corpus>``."""
        return f"{self.results}/analysis/temperature_fit{f'-{corpus}' if corpus else ''}.csv"

    def temperature_fit_rules(self, corpus: str | None = None) -> str:
        return f"{self.results}/analysis/temperature_fit_rules{f'-{corpus}' if corpus else ''}.csv"

    def theory(self, name: str = "") -> str:
        """The theory folder, or a file in it (``summary.json``, ``entropy_invariant.csv``,
        ``figures/<name>.<ext>``)."""
        return self._in(f"{self.results}/theory", name)

    # ---- the claims' settings, the regime table alone, logs, benchmarks, caches
    def claims_settings_file(self) -> str:
        """The JSON of :func:`claims_settings` the workflow writes for this run."""
        return f"{self.results}/claims_settings.json"

    def regime_checks(self, ext: str) -> str:
        """The regime table of the base alone (target ``regime_checks``): ``csv`` or ``md``."""
        return f"{self.results}/regime/regime_checks.{ext}"

    def log(self, name: str) -> str:
        """The log of a job, ``name`` relative to the logs folder without ``.log``."""
        return f"{self.results}/logs/{name}.log"

    def benchmark(self, rule: str, stem: str) -> str:
        """A job's wall and CPU seconds (Snakemake's benchmark file; ``benchmarks/estimate_runtime.py``)."""
        return f"{self.results}/benchmarks/{rule}/{stem}.tsv"

    def nll_cache(self) -> str:
        return f"{self.results}/cache/nll"

    # ---- products: figures, summary tables, CLAIMS.md
    def figure(self, name: str) -> str:
        """A product (``name`` relative to the figures folder, e.g. ``passkey.png``, ``CLAIMS.md``)."""
        if self.figures is None:
            raise ValueError("Layout: no figures folder given")
        return f"{self.figures}/{name}"


# ---------------------------------------------------------------- products
TABLE_ONLY = {"short_context"}  # products that are a table alone
FIG_ONLY = {"pretrain_curve", "induction_curve"}  # products that are a figure alone
FIG_ONLY_PREFIXES = ("temperature_fit",)  # temperature_fit*: their tables are the analysis tables
CLAIMS_PRODUCTS = ("CLAIMS.md", "claims.json", "claims_forest.png", "claims_forest.pdf", "regime_checks.csv",
                   "regime_checks.md")
SENSITIVITY_PRODUCTS = tuple(f"sensitivity/geometry{x}" for x in (".md", ".csv", "_pooled.csv", "_pooled.json"))


def products(prefix: str) -> list[str]:
    """The files of one figure or table ``prefix``: PREFIX.png / .pdf (a figure) and PREFIX.csv / .md (a table)."""
    name = prefix.rsplit("/", 1)[-1]
    out = []
    if name not in TABLE_ONLY:
        out += [f"{prefix}.png", f"{prefix}.pdf"]
    if name not in FIG_ONLY and not name.startswith(FIG_ONLY_PREFIXES):
        out += [f"{prefix}.csv", f"{prefix}.md"]
    return out


def figure_families(config: dict) -> dict[str, list[str]]:
    """{family: the product prefixes it draws, relative to the figures folder}: one target per family."""
    return {
        "context": ["ppl_vs_context", "short_context"],
        # a model loaded from a checkpoint (gguf, hf) was not trained here: no training curves
        "pretrain": ["pretrain_curve", "induction_curve"] if config["base"]["source"] == "pretrain" else [],
        "temperature": [f"temperature_study_s{fmt(config['sweep']['figure_scale'])}", "temperature_fit"],
        "dynamic": ["dynamic_scaling"],
        "passkey": ["passkey"],
        "ablation": ["alpha_beta_ablation"],
        # the training-efficiency curves exist only when the config fine-tunes
        "efficiency": ["training_efficiency"] if config["finetune"]["methods"] else [],
        "reference": ["paper_llama2_reference"],
        "regime": ["positions"],
    }


def theory_figure_names(theory: dict) -> list[str]:
    """The figures of ``yarnlab theory`` the workflow copies into the products (config ``theory``)."""
    return (["wavelengths", "entropy", "temperature_fit"]
            + [f"{k}_{g}" for g in theory["geometries"] for k in ("interp_factor", "ramp")]
            + [f"similarity_{theory['geometries'][0]}_s{s}" for s in (4, 16)])


# ---------------------------------------------------------------- the claims' settings
# regime settings a config may leave out, and what leaving them out means (None: every target of [L/2, L))
REGIME_OPTIONAL = {"context_targets": None}


def claims_settings(config: dict, preregistration: dict | None = None) -> dict:
    """What the claims generator needs to know about a run (it derives every input path from it): written
    to :meth:`Layout.claims_settings_file` by the workflow, read by ``yarnlab claims --settings``. The regime
    thresholds are the config's ``regime`` section as it is (``workflows/config/default.yaml`` holds every
    value, a config overrides them key by key; :data:`REGIME_OPTIONAL` the settings it may leave out);
    ``preregistration``: where they were fixed (:func:`yarnlab.claims.preregistration.record`), or None."""
    ft, sw, pk = config["finetune"], config["sweep"], config["passkey"]
    return {"regime": {**REGIME_OPTIONAL, **config["regime"]}, "toy": config.get("toy", {}), "seed": config["seeds"][0],
            "original_ctx": config["base"]["original_ctx"],
            "finetune": {k: ft[k] for k in ("methods", "scales", "steps", "corpus")},
            "ppl": config["ppl"], "sweep": {k: sw[k] for k in ("scales", "figure_scale")}, "dynamic": config["dynamic"],
            "passkey": {k: pk[k] for k in ("models", "lengths", "candidates")},
            "ablation": {"scale": config["ablation"]["scale"]}, "variants": config["variants"],
            "extra_bases": config["extra_bases"], "long_ppl": config["long_ppl"], "claims": config["claims"],
            "data_corpus": config["data"]["corpus"], "preregistration": preregistration,
            "base_source": config["base"].get("source", "pretrain")}
