# Paths, labels and the final targets, all computed from the config.
import json
import os
import re
import shlex
R = config["results"]
P = config["paper_figs"]
SEEDS = config["seeds"]
FT = config["finetune"]
THREADS = config["threads"]
L = config["base"]["original_ctx"]


wildcard_constraints:
    seed=r"\d+",
    scale=r"[0-9.]+",
    method=r"[a-z][a-z0-9-]*?",


def fmt(x):
    """1.0 -> '1', 2.5 -> '2.5' (scales in file names)."""
    return f"{float(x):g}"


def csv(xs):
    return ",".join(str(x) for x in xs)


def finetuned_labels(seed):
    return [f"{m}-s{fmt(s)}-seed{seed}" for m in FT["methods"] for s in FT["scales"]]


def noft_labels(seed):
    scales = config["ppl"].get("noft_scales") or FT["scales"]
    return [f"{m}-s{fmt(s)}-noft-seed{seed}" for m in config["ppl"]["noft_methods"] for s in scales]


VAR = config["variants"]
XB = config["extra_bases"]
LONG = config["long_ppl"]
CL = config["claims"]


def split_seed(label):
    """'yarn-s4-seed0' -> ('yarn-s4', '0')."""
    m = re.fullmatch(r"(.+)-seed(\d+)", label)
    if not m:
        raise ValueError(f"model label {label!r}: expected <name>-seed<N>")
    return m.group(1), m.group(2)


def model_path(name, seed):
    """The folder of model ``name`` (label without its seed): base, base-<corpus>, a variant or a
    main fine-tune <method>-s<scale>."""
    if name == "base":
        return f"{R}/models/base-seed{seed}"
    if name.startswith("base-"):
        return f"{R}/models/bases/{name}-seed{seed}"
    if name in VAR:
        return f"{R}/models/variants/{name}-seed{seed}"
    return f"{R}/models/{name}-seed{seed}"


def model_dir(label):
    """The folder of model ``label`` = <name>-seed<N> (see model_path)."""
    return model_path(*split_seed(label))


def model_meta(name):
    """(family, scale, corpus of its evaluation documents) of a model name: a variant or extra base with
    its own corpus is evaluated on that corpus' held-out documents, every other model on data.corpus."""
    if name == "base":
        return "none", 1.0, DATA["corpus"]
    if name.startswith("base-"):
        return "none", 1.0, name[len("base-"):]
    if name in VAR:
        v = VAR[name]
        return v["method"], float(v["scale"]), v.get("corpus", DATA["corpus"])
    m = re.fullmatch(r"([a-z][a-z0-9-]*?)-s([0-9.]+)", name)
    if not m:
        raise ValueError(f"model {name!r}: not base, base-<corpus>, a variant or <method>-s<scale>")
    return m.group(1), float(m.group(2)), DATA["corpus"]


def docs_for(corpus):
    """Evaluation documents of a corpus: the main set for data.corpus, else eval_docs-<corpus>."""
    return DOCS if corpus == DATA["corpus"] else f"{R}/data/eval_docs-{corpus}.npz"


# every cross-key problem of the config at once (one error listing all), before any job runs;
# add new checks in yarnlab/workflow_config.py
from yarnlab.workflow_config import check_config

check_config(config)


FIGS = {
    "context": [f"{P}/ppl_vs_context", f"{P}/short_context"],
    # a model loaded from a checkpoint (gguf, hf) was not trained here: no training curves
    "pretrain": [f"{P}/pretrain_curve", f"{P}/induction_curve"] if config["base"]["source"] == "pretrain" else [],
    "temperature": [f"{P}/temperature_study_s{fmt(config['sweep']['figure_scale'])}", f"{P}/temperature_fit"],
    "dynamic": [f"{P}/dynamic_scaling"],
    "passkey": [f"{P}/passkey"],
    "ablation": [f"{P}/alpha_beta_ablation"],
    # the training-efficiency curves exist only when the config fine-tunes
    "efficiency": [f"{P}/training_efficiency"] if config["finetune"]["methods"] else [],
    "reference": [f"{P}/paper_llama2_reference"],
    "regime": [f"{P}/positions"],
}
# which of PREFIX.png / .csv each product has
TABLE_ONLY = {"short_context"}
FIG_ONLY = {"pretrain_curve", "induction_curve"}
FIG_ONLY_PREFIXES = ("temperature_fit",)  # temperature_fit*: tables in results/analysis/


def products(prefix):
    name = prefix.rsplit("/", 1)[-1]
    out = []
    if name not in TABLE_ONLY:
        out += [f"{prefix}.png", f"{prefix}.pdf"]
    if name not in FIG_ONLY and not name.startswith(FIG_ONLY_PREFIXES):
        out += [f"{prefix}.csv", f"{prefix}.md"]
    return out


def family_targets(family):
    return [p for prefix in FIGS[family] for p in products(prefix)]


def all_targets():
    return theory_targets() + [p for fam in FIGS for p in family_targets(fam)] + claims_targets()


def claims_targets():
    extra = ([f"{P}/sensitivity/geometry{x}" for x in (".md", ".csv", "_pooled.csv", "_pooled.json")]
             if config.get("sensitivity") else [])
    # the temperature fit per extra corpus (m*(s) of its base, without fine-tuning), e.g. code vs prose
    extra += [p for c in XB for p in products(f"{P}/temperature_fit_{c}")]
    return extra + [f"{P}/CLAIMS.md", f"{P}/claims.json", f"{P}/claims_forest.png", f"{P}/claims_forest.pdf",
            f"{P}/regime_checks.csv", f"{P}/regime_checks.md"]


# ---- evaluation settings
DATA = config["data"]
HELD = DATA.get("heldout_fraction", 0.1)  # works held out of every training run: the evaluation text
# the order of each work's evaluation pieces (yarnlab.evaluate.docs): every evaluation set is a prefix
PIECES = f"--pieces {DATA.get('pieces', 'balanced')} --pieces-seed {DATA.get('pieces_seed', 0)}"
# training data: random windows of one stream (no position artifacts) or the paper's bookended chunks
# synthetic documents (passkey, copy) keep the base's shares in fine-tuning windows too, so fine-tuned
# models are judged on the same kind of text (windows only)
SYNTH = {k: config["base"].get(k, 0) for k in ("retrieval_fraction", "copy_fraction")}
_OPT = {"rope_base": "--rope-base", "lr": "--lr", "warmup": "--warmup", "schedule": "--schedule",
        "weight_decay": "--weight-decay", "copy_gap_share": "--copy-gap-share", "warm_steps": "--warm-steps",
        "decay_start": "--decay-start", "copy_alphabet": "--copy-alphabet",
        "warm_copy_fraction": "--warm-copy-fraction", "warm_copy_gap_share": "--warm-copy-gap-share",
        "warm_copy_alphabet": "--warm-copy-alphabet", "precision": "--precision", "compile": "--compile"}


def _flags(section, keys):
    """`--flag value` for each key of `keys` the config section sets (a boolean is on | off)."""
    return "".join(f" {_OPT[k]} {('on' if section[k] else 'off') if isinstance(section[k], bool) else section[k]}"
                   for k in keys if section.get(k) is not None)


BASE_DATA = (f"--heldout-fraction {HELD} --data-format {config['base'].get('data_format', 'chunks')} "
             f"--retrieval-fraction {SYNTH['retrieval_fraction']} --copy-fraction {SYNTH['copy_fraction']}"
             + _flags(config["base"], _OPT))
# the speed settings of fine-tuning (training precision, compile) are the finetune section's own
_FT_SYNTH = (f" --retrieval-fraction {SYNTH['retrieval_fraction']} --copy-fraction {SYNTH['copy_fraction']}"
             f"{_flags(config['base'], ('copy_gap_share', 'copy_alphabet'))}"
             if FT.get("data_format") == "windows" else "")
FT_DATA = (f"--heldout-fraction {HELD} --data-format {FT.get('data_format', 'chunks')}"
           f"{_flags(FT, ('precision', 'compile'))}{_FT_SYNTH}")
# the dense early evaluation grid of every fine-tune (steps-to-reach of claims 3 and 5)
FT_EVAL = (f" --eval-early-every {FT['eval_early_every']} --eval-early-until {FT['eval_early_until']}"
           if FT.get("eval_early_every") else "")
PPL = config["ppl"]
SW = config["sweep"]
DYN = config["dynamic"]
PK = config["passkey"]
AB = config["ablation"]
DOCS = f"{R}/data/eval_docs.npz"


def _regime_settings():
    from yarnlab.claims.regime import settings

    return settings(config.get("regime"))


REGIME = _regime_settings()


def _eval_common(wildcards, input):
    """`yarnlab eval` options shared by the regime rules: the model folder, the documents, threads."""
    return f"--model {os.path.dirname(input.model)} --docs {input.docs} --threads {THREADS} --no-progress"
POS = REGIME["positions"]



def ppl_reading(lengths, sliding=False):
    """`yarnlab eval ppl` reading options for the perplexity of `lengths`. With ppl.same_targets T, the
    same last T tokens of each piece at every length (--target-end data.tokens, the piece's end, written
    out only where it differs from max(lengths), the command's default), plus the paper's truncation reading
    when ppl.truncation_reading. ``sliding``: the sliding-window baseline, on the same targets when
    ppl.sliding_same_targets, else on its own windows over the first n tokens."""
    same = PPL.get("same_targets")
    if not same or (sliding and not PPL.get("sliding_same_targets", True)):
        return ""
    end = int(DATA["tokens"])
    target_end = f" --target-end {end}" if end != max(lengths) else ""
    truncation = " --also-truncation" if PPL.get("truncation_reading", True) else ""
    return f" --same-targets {same}{target_end}{truncation}"


def _voting_reading():
    from yarnlab.claims.results import primary_reading

    return primary_reading({"ppl": PPL})


# the reading the claims vote on, and the perplexity figure and short-context table draw
PPL_READING = _voting_reading()


def _ppl_common(sliding=False):
    """`yarnlab eval ppl` options of the perplexity of the main documents at ppl.lengths."""
    return f"--docs {DOCS} --lengths {csv(PPL['lengths'])} --threads {THREADS} --no-progress" \
        f"{ppl_reading(PPL['lengths'], sliding)}"


if config.get("nll_cache"):
    os.environ.update({"YARNLAB_NLL_CACHE": os.path.abspath(f"{R}/cache/nll")})  # read by every eval job



# ---- theory
TH = config["theory"]
THEORY_FIGS = (
    ["wavelengths", "entropy", "temperature_fit"]
    + [f"{k}_{g}" for g in TH["geometries"] for k in ("interp_factor", "ramp")]
    + [f"similarity_{TH['geometries'][0]}_s{s}" for s in (4, 16)]
)


def theory_targets():
    return expand(f"{P}/theory/{{name}}.{{ext}}", name=THEORY_FIGS, ext=["png", "pdf"])


# ---- figures
S0 = SEEDS[0]
ENV = "../envs/yarnlab.yaml"


def ppl_inputs(wildcards=None):
    out = []
    for seed in SEEDS:
        labels = [f"base-seed{seed}", f"base-sliding-seed{seed}"] + finetuned_labels(seed) + noft_labels(seed)
        out += [f"{R}/eval/ppl/{x}.csv" for x in labels]
    return out


def fig_outputs(prefix, caption, category):
    """report()-wrapped products of one figure/table prefix."""
    return [report(p, caption=f"../report/{caption}.rst", category=category) if p.endswith(".png") else p
            for p in products(prefix)]


# ---- claims (workflows/rules/claims.smk)
def _alternation(names):
    """A wildcard constraint matching exactly these names (none: a pattern that never matches)."""
    return "|".join(re.escape(n) for n in names) if names else "(?!x)x"


def variant_args(name):
    v = VAR[name]
    scale = float(v["scale"])
    seq_len = int(round(float(v.get("train_ctx", scale)) * L))
    args = (f"--method {v['method']} --factor {scale:g} --seq-len {seq_len} --steps {v.get('steps', FT['steps'])} "
            f"--corpus {v.get('corpus', FT['corpus'])} --batch-size {FT['batch_size']} --eval-every {FT['eval_every']} "
            f"--eval-batches {FT['eval_batches']} --final-eval-chunks {FT['final_eval_chunks']} {FT_DATA}{FT_EVAL}")
    if v.get("ramp"):
        args += f" --ramp {v['ramp']}"
    return args


def eval_args(name):
    family, scale, _ = model_meta(name)
    finetuned = 0 if name == "base" or name.startswith("base-") or name.endswith("-noft") else 1
    return f"--tag label={name} --tag method={family} --tag scale={scale:g} --tag finetuned={finetuned}"


def _preregistration_record():
    """Where the regime thresholds were fixed (yarnlab.claims.preregistration.record), or None."""
    from yarnlab.claims.preregistration import record

    path = config.get("preregistration")
    return record(path) if path else None


PREREG = _preregistration_record()  # read once: claims_settings() is called by several input functions


def claims_settings():
    """What the generator needs to know about this run (it derives every input path from it)."""
    return {"regime": REGIME, "toy": config.get("toy", {}), "seed": S0, "original_ctx": L, "finetune": {k: FT[k] for k in ("methods", "scales", "steps", "corpus")},
            "ppl": PPL, "sweep": {k: SW[k] for k in ("scales", "figure_scale")}, "dynamic": DYN,
            "passkey": {k: PK[k] for k in ("models", "lengths", "candidates")}, "ablation": {"scale": AB["scale"]},
            "variants": VAR, "extra_bases": XB, "long_ppl": LONG, "claims": CL, "data_corpus": DATA["corpus"],
            "preregistration": PREREG, "base_source": config["base"].get("source", "pretrain")}


def regime_inputs(wildcards=None):
    """The result files of the regime checks alone (yarnlab.claims.regime.REGIME_ROLES)."""
    from yarnlab.claims.inputs import input_paths
    from yarnlab.claims.regime import REGIME_ROLES

    paths = input_paths(R, P, claims_settings())
    return sorted({paths[k] for k in REGIME_ROLES if k in paths})


def claims_inputs(wildcards=None):
    """Every result file the generator reads (yarnlab.claims.inputs.required_inputs mirrors this)."""
    from yarnlab.claims.inputs import required_inputs

    return required_inputs(R, P, claims_settings())
