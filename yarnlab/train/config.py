"""Typed, validated training configuration.

``TrainConfig()`` defaults to the YaRN fine-tuning recipe (paper Section 4.1): AdamW with
beta1 = 0.9, beta2 = 0.95, weight decay 0, linear warmup over 20 steps then a constant learning
rate of 2e-5 (the paper's value for Llama 2 7B), documents chunked to the training length and
bookended by BOS/EOS. :func:`pretrain_config` gives the tiny-model pretraining defaults
(warmup + cosine decay, the preset's own peak learning rate).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from yarnlab.data.synthetic import COPY_SOURCES
from yarnlab.errors import UsageError

SCHEDULES = ("constant", "cosine", "linear")
STRATEGIES = ("ddp", "fsdp")
DATA_FORMATS = ("chunks", "windows")
PRECISIONS = ("fp32", "bf16")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = 400                 # optimizer steps (paper: 400 at s = 16)
    seq_len: int = 256               # chunk length T, BOS and EOS included
    batch_size: int = 16             # global batch in chunks (paper: 64)
    lr: float = 2e-5                 # peak learning rate (paper, 7B)
    schedule: str = "constant"       # after warmup: constant | cosine | linear decay
    min_lr_ratio: float = 0.1        # floor of cosine/linear decay, as a fraction of lr
    decay_start: int = 0             # cosine/linear decay starts after this step (or after warmup, if later)
    warmup_steps: int = 20           # linear warmup from lr/warmup_steps to lr (paper: 20)
    weight_decay: float = 0.0        # paper: none
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0           # max global grad norm; 0 disables
    seed: int = 0                    # data order, offsets and any dropout
    heldout_fraction: float = 0.1    # share of document groups held out
    eval_every: int = 100            # held-out evaluation every N steps (0: only at the end)
    eval_early_every: int = 0        # dense early grid: also before the first step and every N steps ...
    eval_early_until: int = 0        # ... through this step (0, 0: off); see eval_steps()
    eval_batches: int = 8            # batches per periodic held-out evaluation
    final_eval_chunks: int = 1024    # held-out chunks evaluated at the end
    checkpoint_every: int = 100      # resumable checkpoint every N steps (0: only at the end)
    checkpoint_minutes: float = 20.0  # and one whenever this many minutes passed since the last (0: off)
    keep_checkpoints: int = 2        # newest checkpoints kept
    log_every: int = 10              # metrics line every N steps
    threads: int = 1                 # torch.set_num_threads
    strategy: str = "ddp"            # multi-process wrapping: ddp | fsdp (fsdp needs CUDA)
    data_format: str = "chunks"      # chunks: BOS/EOS-bookended (paper 4.1) | windows: random offsets of one stream
    retrieval_fraction: float = 0.0  # windows only: share of stream tokens in synthetic key-retrieval documents
    copy_fraction: float = 0.0       # windows only: share of stream tokens in repeated random-letter spans
    place_whole: bool = True         # windows only: a window never cuts a synthetic document
    copy_gap_share: float = 0.5      # share of copy documents whose two copies a random-letter gap separates
    copy_alphabet: str = "letters"   # copy documents from: letters (a-z) | printable (ASCII 32..126) | prose | mixed
    warm_steps: int = 0              # curriculum: the first N steps draw from a copy-rich stream ...
    warm_copy_fraction: float = 0.9  # ... with this share of copy documents ...
    warm_copy_gap_share: float = 0.0  # ... of which this share has a gap (0: adjacent copies) ...
    warm_copy_alphabet: str | None = None  # ... drawn from this source (None: copy_alphabet)
    induction_eval: bool = False     # byte-level: induction gain and in-context-learning score at every evaluation
    precision: str = "fp32"          # training forward: fp32 | bf16 (autocast: bf16 matmuls, fp32 weights,
                                     # gradients, optimizer and loss); held-out evaluation is always fp32
                                     # not only speed: it can keep an induction head from forming
    compile: bool = False            # torch.compile the training forward (a speed setting: same math)

    def __post_init__(self):
        problems = []

        def need(field, ok, rule):
            if not ok:
                problems.append(f"{field}: must be {rule} (got {getattr(self, field)!r})")

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v):
            return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

        need("steps", is_int(self.steps) and self.steps >= 1, "an integer >= 1")
        need("seq_len", is_int(self.seq_len) and self.seq_len >= 3, "an integer >= 3")
        need("batch_size", is_int(self.batch_size) and self.batch_size >= 1, "an integer >= 1")
        need("lr", is_num(self.lr) and 0 < self.lr < 1, "in (0, 1)")
        need("schedule", self.schedule in SCHEDULES, f"one of {SCHEDULES}")
        need("min_lr_ratio", is_num(self.min_lr_ratio) and 0 <= self.min_lr_ratio <= 1, "in [0, 1]")
        need("warmup_steps", is_int(self.warmup_steps) and self.warmup_steps >= 0, "an integer >= 0")
        need("decay_start", is_int(self.decay_start) and 0 <= self.decay_start < max(1, self.steps)
             if is_int(self.steps) else False, "an integer in [0, steps)")
        need("weight_decay", is_num(self.weight_decay) and 0 <= self.weight_decay < 1, "in [0, 1)")
        need("beta1", is_num(self.beta1) and 0 <= self.beta1 < 1, "in [0, 1)")
        need("beta2", is_num(self.beta2) and 0 <= self.beta2 < 1, "in [0, 1)")
        need("eps", is_num(self.eps) and self.eps > 0, "> 0")
        need("grad_clip", is_num(self.grad_clip) and self.grad_clip >= 0, ">= 0")
        need("seed", is_int(self.seed) and self.seed >= 0, "an integer >= 0")
        need("heldout_fraction", is_num(self.heldout_fraction) and 0 < self.heldout_fraction < 1, "in (0, 1)")
        for f in ("eval_every", "checkpoint_every"):
            need(f, is_int(getattr(self, f)) and getattr(self, f) >= 0, "an integer >= 0")
        need("checkpoint_minutes", is_num(self.checkpoint_minutes) and self.checkpoint_minutes >= 0, ">= 0 (0: off)")
        need("eval_early_every", is_int(self.eval_early_every) and self.eval_early_every >= 0, "an integer >= 0")
        early = is_int(self.eval_early_every) and self.eval_early_every > 0
        need("eval_early_until", is_int(self.eval_early_until) and (
            self.eval_early_until >= self.eval_early_every if early else self.eval_early_until == 0),
            "an integer >= eval_early_every when eval_early_every > 0 (past steps: the whole run), else 0")
        for f in ("eval_batches", "final_eval_chunks", "keep_checkpoints", "log_every", "threads"):
            need(f, is_int(getattr(self, f)) and getattr(self, f) >= 1, "an integer >= 1")
        need("strategy", self.strategy in STRATEGIES, f"one of {STRATEGIES}")
        need("data_format", self.data_format in DATA_FORMATS, f"one of {DATA_FORMATS}")
        need("retrieval_fraction", is_num(self.retrieval_fraction) and 0 <= self.retrieval_fraction < 0.5
             and (self.retrieval_fraction == 0 or self.data_format == "windows"),
             "in [0, 0.5), and 0 unless data_format is windows")
        need("copy_fraction", is_num(self.copy_fraction) and 0 <= self.copy_fraction <= 0.95
             and self.retrieval_fraction + self.copy_fraction <= 0.95
             and (self.copy_fraction == 0 or self.data_format == "windows"),
             "in [0, 0.95] with retrieval_fraction + copy_fraction <= 0.95, and 0 unless data_format is windows")
        need("place_whole", isinstance(self.place_whole, bool), "true or false")
        need("copy_gap_share", is_num(self.copy_gap_share) and 0 <= self.copy_gap_share <= 1, "in [0, 1]")
        need("copy_alphabet", self.copy_alphabet in COPY_SOURCES, f"one of {list(COPY_SOURCES)}")
        need("warm_copy_alphabet", self.warm_copy_alphabet is None or self.warm_copy_alphabet in COPY_SOURCES,
             f"null or one of {list(COPY_SOURCES)}")
        need("warm_steps", is_int(self.warm_steps) and 0 <= self.warm_steps < self.steps
             and (self.warm_steps == 0 or self.data_format == "windows"),
             "an integer in [0, steps), and 0 unless data_format is windows")
        need("warm_copy_fraction", is_num(self.warm_copy_fraction) and 0 < self.warm_copy_fraction <= 0.95,
             "in (0, 0.95]")
        need("warm_copy_gap_share", is_num(self.warm_copy_gap_share) and 0 <= self.warm_copy_gap_share <= 1,
             "in [0, 1]")
        need("induction_eval", isinstance(self.induction_eval, bool), "true or false")
        need("precision", self.precision in PRECISIONS, f"one of {PRECISIONS}")
        need("compile", isinstance(self.compile, bool), "true or false")
        if problems:
            raise UsageError("invalid TrainConfig:\n" + "\n".join(f"  - {p}" for p in problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def evaluates_at(self, step: int) -> bool:
        """Whether the periodic held-out evaluation runs after ``step`` optimizer steps (0: before the
        first): every ``eval_every`` steps and at the last step (when ``eval_every`` > 0); with the early
        grid (``eval_early_every`` = k > 0) also at steps 0, k, 2k, ... <= ``eval_early_until`` and at
        the last step."""
        early = self.eval_early_every > 0
        if early and step <= self.eval_early_until and step % self.eval_early_every == 0:
            return True
        if step < 1:
            return False
        return (bool(self.eval_every) and step % self.eval_every == 0) or (
            step == self.steps and (bool(self.eval_every) or early))

    def eval_steps(self) -> list[int]:
        """Every step of the periodic held-out evaluation, in order (:meth:`evaluates_at`)."""
        return [k for k in range(self.steps + 1) if self.evaluates_at(k)]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise UsageError(f"TrainConfig: unknown field(s) {unknown}")
        return cls(**d)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def lr_at(self, step: int) -> float:
        """Learning rate for optimizer step ``step`` (0-based): linear warmup
        lr * (step + 1) / warmup_steps, then constant, or constant until ``decay_start`` and then
        decaying to lr * min_lr_ratio at the last step."""
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        start = max(self.warmup_steps, self.decay_start)
        if self.schedule == "constant" or step < start:
            return self.lr
        span = max(1, self.steps - start)
        frac = min(1.0, (step - start) / span)
        floor = self.lr * self.min_lr_ratio
        if self.schedule == "cosine":
            return floor + (self.lr - floor) * 0.5 * (1 + math.cos(math.pi * frac))
        return self.lr - (self.lr - floor) * frac


def pretrain_config(lr: float = 2e-3, **changes) -> TrainConfig:
    """Tiny-model pretraining defaults: warmup 100 steps, cosine to 10%, AdamW(0.9, 0.95),
    weight decay 0.1, batch 16 x 256 bytes (``yarnlab train pretrain`` adds the induction diagnostics)."""
    base = dict(lr=lr, schedule="cosine", warmup_steps=100, weight_decay=0.1, steps=1000,
                eval_every=200, checkpoint_every=200)
    base.update(changes)
    return TrainConfig(**base)
