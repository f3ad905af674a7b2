# Settings, labels and the final targets, all computed from the config. Every path comes from
# yarnlab.workflow.layout (LAYOUT), whose methods the claims generator names its inputs with too.
import json
import os
import re
import shlex

from yarnlab.workflow.config import check_config
from yarnlab.workflow.layout import (
    CLAIMS_PRODUCTS,
    SENSITIVITY_PRODUCTS,
    METRICS,
    SUMMARY,
    Layout,
    claims_settings,
    extra_base_name,
    figure_families,
    finetune_name,
    fmt,
    main_finetunes,
    model_meta,
    noft_names,
    position_names,
    products,
    seeded,
    split_seed,
    theory_figure_names,
)

# every cross-key problem of the config at once (one error listing all), before any job runs;
# add new checks in yarnlab/workflow/config.py
check_config(config)


# ---- the config's sections; the claims' settings (yarnlab.workflow.layout.claims_settings)
def _preregistration_record():
    """Where the regime thresholds were fixed (yarnlab.claims.preregistration.record), or None."""
    from yarnlab.claims.preregistration import record

    path = config.get("preregistration")
    return record(path) if path else None


# what the generator needs to know about this run (it derives every input path from it); read once
CLAIMS_SETTINGS = claims_settings(config, _preregistration_record())


SEEDS = config["seeds"]
FIRST_SEED = SEEDS[0]  # the seed the figures and the claims read
THREADS = config["threads"]  # torch threads per job
BASE = config["base"]
ORIGINAL_CTX = BASE["original_ctx"]  # L, the base model's trained context
FINETUNE = config["finetune"]
DATA = config["data"]
PERPLEXITY = config["ppl"]
LONG_PPL = config["long_ppl"]
SWEEP = config["sweep"]
DYNAMIC = config["dynamic"]
PASSKEY = config["passkey"]
ABLATION = config["ablation"]
THEORY = config["theory"]
VARIANTS = config["variants"]
EXTRA_BASES = config["extra_bases"]
REGIME = CLAIMS_SETTINGS["regime"]  # the regime checks' thresholds and evaluation settings
POSITIONS = REGIME["positions"]
LAYOUT = Layout(config["results"], config["paper_figs"], VARIANTS)
EVAL_DOCS = LAYOUT.eval_docs()  # the evaluation documents of data.corpus
CONDA_ENV = "../envs/yarnlab.yaml"


wildcard_constraints:
    seed=r"\d+",
    scale=r"[0-9.]+",
    method=r"[a-z][a-z0-9-]*?",


def csv(xs):
    return ",".join(str(x) for x in xs)


def finetuned_labels(seed):
    return [seeded(name, seed) for name in main_finetunes(FINETUNE)]


def model_summary(label):
    """The training summary of model ``label`` = <name>-seed<N> (a rule's model input)."""
    return LAYOUT.model(*split_seed(label), SUMMARY)


def eval_corpus(name):
    """The corpus whose held-out documents model ``name`` is evaluated on (yarnlab.workflow.layout.model_meta)."""
    return model_meta(name, VARIANTS, DATA["corpus"])[2]


def docs_for(corpus):
    """Evaluation documents of a corpus: the main set for data.corpus, else eval_docs-<corpus>."""
    return EVAL_DOCS if corpus == DATA["corpus"] else LAYOUT.eval_docs(corpus)


# ---- products
FIGURE_FAMILIES = {family: [LAYOUT.figure(name) for name in names]
                   for family, names in figure_families(config).items()}


def family_targets(family):
    return [p for prefix in FIGURE_FAMILIES[family] for p in products(prefix)]


def all_targets():
    return theory_targets() + [p for fam in FIGURE_FAMILIES for p in family_targets(fam)] + claims_targets()


def claims_targets():
    extra = [LAYOUT.figure(p) for p in SENSITIVITY_PRODUCTS] if config.get("sensitivity") else []
    # the temperature fit per extra corpus (m*(s) of its base, without fine-tuning), e.g. code vs prose
    extra += [p for c in EXTRA_BASES for p in products(LAYOUT.figure(f"temperature_fit_{c}"))]
    return extra + [LAYOUT.figure(p) for p in CLAIMS_PRODUCTS]


# ---- evaluation settings
HELDOUT_FRACTION = DATA.get("heldout_fraction", 0.1)  # works held out of every training run: the evaluation text
# the order of each work's evaluation pieces (yarnlab.evaluate.docs): every evaluation set is a prefix
PIECES = f"--pieces {DATA.get('pieces', 'balanced')} --pieces-seed {DATA.get('pieces_seed', 0)}"
# training data: random windows of one stream (no position artifacts) or the paper's bookended chunks
# synthetic documents (passkey, copy) keep the base's shares in fine-tuning windows too, so fine-tuned
# models are judged on the same kind of text (windows only)
SYNTHETIC_SHARES = {k: BASE.get(k, 0) for k in ("retrieval_fraction", "copy_fraction")}
TRAIN_FLAGS = {"rope_base": "--rope-base", "lr": "--lr", "warmup": "--warmup", "schedule": "--schedule",
               "weight_decay": "--weight-decay", "copy_gap_share": "--copy-gap-share", "warm_steps": "--warm-steps",
               "decay_start": "--decay-start", "copy_alphabet": "--copy-alphabet",
               "warm_copy_fraction": "--warm-copy-fraction", "warm_copy_gap_share": "--warm-copy-gap-share",
               "warm_copy_alphabet": "--warm-copy-alphabet", "precision": "--precision", "compile": "--compile"}


def _flags(section, keys):
    """`--flag value` for each key of `keys` the config section sets (a boolean is on | off)."""
    return "".join(f" {TRAIN_FLAGS[k]} {('on' if section[k] else 'off') if isinstance(section[k], bool) else section[k]}"
                   for k in keys if section.get(k) is not None)


_SYNTHETIC = (f"--retrieval-fraction {SYNTHETIC_SHARES['retrieval_fraction']} "
              f"--copy-fraction {SYNTHETIC_SHARES['copy_fraction']}")
PRETRAIN_DATA = (f"--heldout-fraction {HELDOUT_FRACTION} --data-format {BASE.get('data_format', 'chunks')} "
                 f"{_SYNTHETIC}{_flags(BASE, TRAIN_FLAGS)}")
# the speed settings of fine-tuning (training precision, compile) are the finetune section's own
_FINETUNE_SYNTHETIC = (f" {_SYNTHETIC}{_flags(BASE, ('copy_gap_share', 'copy_alphabet'))}"
                       if FINETUNE.get("data_format") == "windows" else "")
FINETUNE_DATA = (f"--heldout-fraction {HELDOUT_FRACTION} --data-format {FINETUNE.get('data_format', 'chunks')}"
                 f"{_flags(FINETUNE, ('precision', 'compile'))}{_FINETUNE_SYNTHETIC}")
# the dense early evaluation grid of every fine-tune (steps-to-reach of claims 3 and 5)
FINETUNE_EARLY_EVAL = (f" --eval-early-every {FINETUNE['eval_early_every']} "
                       f"--eval-early-until {FINETUNE['eval_early_until']}" if FINETUNE.get("eval_early_every") else "")


def _eval_common(wildcards, input):
    """`yarnlab eval` options shared by the regime rules: the model folder, the documents, threads."""
    return f"--model {os.path.dirname(input.model)} --docs {input.docs} --threads {THREADS} --no-progress"


def ppl_reading(lengths, sliding=False):
    """`yarnlab eval ppl` reading options for the perplexity of `lengths`. With ppl.same_targets T, the
    same last T tokens of each piece at every length (--target-end data.tokens, the piece's end, written
    out only where it differs from max(lengths), the command's default), plus the paper's truncation reading
    when ppl.truncation_reading. ``sliding``: the sliding-window baseline, on the same targets when
    ppl.sliding_same_targets, else on its own windows over the first n tokens."""
    same = PERPLEXITY.get("same_targets")
    if not same or (sliding and not PERPLEXITY.get("sliding_same_targets", True)):
        return ""
    end = int(DATA["tokens"])
    target_end = f" --target-end {end}" if end != max(lengths) else ""
    truncation = " --also-truncation" if PERPLEXITY.get("truncation_reading", True) else ""
    return f" --same-targets {same}{target_end}{truncation}"


def _voting_reading():
    from yarnlab.claims.results import primary_reading

    return primary_reading({"ppl": PERPLEXITY})


# the reading the claims vote on, and the perplexity figure and short-context table draw
PPL_READING = _voting_reading()


def _ppl_common(sliding=False):
    """`yarnlab eval ppl` options of the perplexity of the main documents at ppl.lengths."""
    return f"--docs {EVAL_DOCS} --lengths {csv(PERPLEXITY['lengths'])} --threads {THREADS} --no-progress" \
        f"{ppl_reading(PERPLEXITY['lengths'], sliding)}"


if config.get("nll_cache"):
    os.environ.update({"YARNLAB_NLL_CACHE": os.path.abspath(LAYOUT.nll_cache())})  # read by every eval job


# ---- theory
THEORY_FIGS = theory_figure_names(THEORY)


def theory_targets():
    return expand(LAYOUT.figure("theory/{name}.{ext}"), name=THEORY_FIGS, ext=["png", "pdf"])


# ---- figures
def ppl_inputs(wildcards=None):
    names = ["base", "base-sliding"] + main_finetunes(FINETUNE) + noft_names(PERPLEXITY, FINETUNE)
    return [LAYOUT.ppl_table(name, seed) for seed in SEEDS for name in names]


def fig_outputs(prefix, caption, category):
    """report()-wrapped products of one figure/table prefix."""
    return [report(p, caption=f"../report/{caption}.rst", category=category) if p.endswith(".png") else p
            for p in products(prefix)]


# ---- claims (workflows/rules/claims.smk)
def _alternation(names):
    """A wildcard constraint matching exactly these names (none: a pattern that never matches)."""
    return "|".join(re.escape(n) for n in names) if names else "(?!x)x"


def variant_args(name):
    v = VARIANTS[name]
    scale = float(v["scale"])
    seq_len = int(round(float(v.get("train_ctx", scale)) * ORIGINAL_CTX))
    ft = FINETUNE
    args = (f"--method {v['method']} --factor {scale:g} --seq-len {seq_len} --steps {v.get('steps', ft['steps'])} "
            f"--corpus {v.get('corpus', ft['corpus'])} --batch-size {ft['batch_size']} --eval-every {ft['eval_every']} "
            f"--eval-batches {ft['eval_batches']} --final-eval-chunks {ft['final_eval_chunks']} "
            f"{FINETUNE_DATA}{FINETUNE_EARLY_EVAL}")
    if v.get("ramp"):
        args += f" --ramp {v['ramp']}"
    return args


def tags(label, method, scale, finetuned):
    """`yarnlab eval` columns naming the model of a per-document table (what the summaries group by)."""
    return f"--tag label={label} --tag method={method} --tag scale={scale} --tag finetuned={finetuned}"


def eval_args(name):
    family, scale, _ = model_meta(name, VARIANTS, DATA["corpus"])
    finetuned = 0 if name == "base" or name.startswith("base-") or name.endswith("-noft") else 1
    return tags(name, family, fmt(scale), finetuned)


def regime_inputs(wildcards=None):
    """The result files of the regime checks alone (yarnlab.claims.regime.REGIME_ROLES)."""
    from yarnlab.claims.inputs import input_paths
    from yarnlab.claims.regime import REGIME_ROLES

    paths = input_paths(LAYOUT.results, CLAIMS_SETTINGS)
    return sorted({paths[k] for k in REGIME_ROLES if k in paths})


def claims_inputs(wildcards=None):
    """Every result file the generator reads (yarnlab.claims.inputs.required_inputs)."""
    from yarnlab.claims.inputs import required_inputs

    return required_inputs(LAYOUT.results, CLAIMS_SETTINGS)
