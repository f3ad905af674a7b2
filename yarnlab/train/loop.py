"""One training loop for pretraining tiny base models and fine-tuning extended ones.

Objective: next-token cross-entropy, mean over the non-PAD targets of the global batch.
Optimizer: AdamW (decoupled weight decay on matrices only; paper Section 4.1: beta1 0.9,
beta2 0.95, no decay, 20 warmup steps), learning rate from :meth:`TrainConfig.lr_at`. Held-out
loss of byte-level models in bits per byte: bpb = (sum of -ln p over byte targets) / (number of
byte targets) / ln 2 (EOS targets excluded); other tokenizers report bits per token.

Outputs in ``out``: ``metrics.jsonl`` (one JSON line per ``log_every`` steps: step, loss, lr,
tokens, tokens_per_s, elapsed_s; evaluation lines add heldout_loss and heldout_bpb, and per evaluation
window its mean NLL ``heldout_unit_loss`` and scored targets ``heldout_unit_tokens``, with ``heldout_units``
a SHA-1 of the windows' token ids: the windows are the same at every evaluation of a run and in every run
with the same held-out stream, so the claims can resample them as paired units; evaluation steps:
:meth:`TrainConfig.eval_steps`, step 0 being the model before training),
``checkpoints/step-*.pt`` (resumable), the final model as an ordinary Hugging Face checkpoint
(config.json + model.safetensors) and ``train_summary.json`` (results + provenance; the time of this
process, ``*_this_run``, and of the whole run over every process that resumed it, ``*_total``).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from yarnlab import cpu
from yarnlab.data.chunks import IGNORE, ChunkStream
from yarnlab.data.tokenizer import BYTE_VOCAB
from yarnlab.errors import StaleCheckpoint, UsageError
from yarnlab.io import atomic_files, atomic_write_text, provenance, write_json
from yarnlab.train import checkpoint as ckpt
from yarnlab.train import distributed
from yarnlab.train.config import TrainConfig

# settings that may change between a run and its resumption (they do not change the weights)
_RESUME_FREE = {"threads", "log_every", "eval_every", "eval_early_every", "eval_early_until", "eval_batches",
                "final_eval_chunks",
                "checkpoint_every", "checkpoint_minutes", "keep_checkpoints", "induction_eval", "compile"}


def next_token_loss(logits: torch.Tensor, labels: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of predicting labels[:, 1:] from logits[:, :-1] (PAD targets ignored);
    logits (B, T, V), labels (B, T)."""
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                           labels[:, 1:].reshape(-1), ignore_index=IGNORE, reduction=reduction)


@torch.no_grad()
def heldout_bits(model, batches, device: str = "cpu", byte_level: bool = True,
                 per_position: list | None = None, per_row: list | None = None) -> dict:
    """Held-out loss of ``batches`` (iterable of (input_ids, labels)) in nats and in bits: per byte
    for byte-level models, per token for other tokenizers.

    Byte-level: mean nats over byte targets (EOS excluded) as ``heldout_loss`` and
    ``heldout_bpb`` = that / ln 2. Other tokenizers: mean nats per target token (``heldout_loss``)
    and ``heldout_bpt`` (bits per token); ``heldout_bpb`` is then NaN. ``per_position``: a list that
    receives each batch's (B, T) NLL array (NaN where a target is not counted, column 0 too);
    ``per_row``: a list that receives (sum of nats, counted targets, token ids) of every sequence."""
    was_training = model.training
    model.eval()
    nats, count = 0.0, 0
    for ids, labels in batches:
        ids, labels = ids.to(device), labels.to(device)
        logits = model(input_ids=ids).logits[:, :-1].float()
        target = labels[:, 1:]
        mask = (target >= 0) & (target < BYTE_VOCAB) if byte_level else target != IGNORE
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.clamp(min=0).reshape(-1),
                              reduction="none").view_as(target)
        nats += float(nll[mask].sum())
        count += int(mask.sum())
        if per_row is not None:
            row_nats = torch.where(mask, nll, 0.0).sum(dim=1).double().cpu()
            row_count = mask.sum(dim=1).cpu()
            per_row += [(float(a), int(b), x) for a, b, x in zip(row_nats, row_count, ids.cpu().numpy())]
        if per_position is not None:
            rows = torch.full(ids.shape, float("nan"), dtype=torch.float64)
            rows[:, 1:] = torch.where(mask, nll, torch.nan).double().cpu()
            per_position.append(rows.numpy())
    model.train(was_training)
    if not count:
        return {"heldout_loss": float("nan"), "heldout_bpb": float("nan"), "heldout_bytes": 0}
    if not byte_level:
        return {"heldout_loss": nats / count, "heldout_bpt": nats / count / math.log(2),
                "heldout_bpb": float("nan"), "heldout_tokens": count}
    return {"heldout_loss": nats / count, "heldout_bpb": nats / count / math.log(2), "heldout_bytes": count}


def training_forward(net, cfg: TrainConfig, device: str = "cpu"):
    """``ids -> logits`` of the training step: ``net`` compiled (``cfg.compile``) and run under bf16
    autocast (``cfg.precision == "bf16"``: matrix products in bfloat16; weights, gradients, optimizer
    state and the loss stay float32). Held-out evaluation never goes through it."""
    import contextlib

    fn = torch.compile(net) if cfg.compile else net
    kind = torch.device(device).type

    def forward(ids):
        with (torch.autocast(kind, dtype=torch.bfloat16) if cfg.precision == "bf16"
              else contextlib.nullcontext()):
            return fn(input_ids=ids).logits

    return forward


def unit_losses(rows: list[tuple[float, int, np.ndarray]]) -> dict:
    """The per-window part of an evaluation line from :func:`heldout_bits`'s ``per_row``: each window's
    mean NLL (nats, 6 decimals; NaN-free: a window without counted targets gets 0 tokens and loss 0),
    its counted targets, and ``heldout_units``, a SHA-1 of the windows' token ids in order."""
    import hashlib

    digest = hashlib.sha1()
    for _, _, ids in rows:
        digest.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    return {"heldout_unit_loss": [round(a / b, 6) if b else 0.0 for a, b, _ in rows],
            "heldout_unit_tokens": [b for _, b, _ in rows], "heldout_units": digest.hexdigest()}


def _optimizer(model, cfg: TrainConfig):
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    other = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, foreach=False)


def _state_dicts(model, opt, ctx: distributed.DistContext, cfg: TrainConfig):
    if ctx.active and cfg.strategy == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

        return get_state_dict(model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return model.state_dict(), opt.state_dict()


def _load_state_dicts(model, opt, state: dict, ctx: distributed.DistContext, cfg: TrainConfig):
    if ctx.active and cfg.strategy == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

        set_state_dict(model, opt, model_state_dict=state["model"], optim_state_dict=state["optimizer"],
                       options=StateDictOptions(full_state_dict=True))
    else:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])


def _truncate_metrics(path: Path, step: int, saved: str | None = None) -> None:
    """Drop metric lines written after ``step`` (by a run killed after its last checkpoint), and a
    last line cut short by the kill. ``saved``: the metric lines the checkpoint holds; they are used
    when the file has fewer lines (a workflow manager removes the outputs of an interrupted job,
    metrics.jsonl among them, before running it again)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    if saved is not None and len(saved.splitlines()) > len(text.splitlines()):
        text = saved
    if not text:
        return
    keep = []
    for ln in text.splitlines():
        try:
            row = json.loads(ln)
        except json.JSONDecodeError:  # a line cut short by the kill (appends are not atomic)
            continue
        if isinstance(row, dict) and row.get("step", step + 1) <= step:
            keep.append(ln)
    atomic_write_text(path, "".join(ln + "\n" for ln in keep))


def save_hf_atomic(model, out: Path, state_dict: dict | None = None) -> None:
    """``save_pretrained`` into a temporary folder, then move each file atomically into ``out``."""
    with atomic_files(out) as tmp:
        model.save_pretrained(tmp, state_dict=state_dict)


def _totals(before: dict, elapsed: float, train_time: float) -> dict:
    """Cumulative time of a run over all its processes: ``elapsed_s_total`` (wall time inside the loop,
    compilation and evaluations included) and ``train_seconds_total`` (optimizer steps only), each the
    earlier processes' value at the checkpoint resumed from plus this process's. Steps trained again
    after an interruption count once. None where the resumed checkpoint did not record them."""
    e, t = before["elapsed_s"], before["train_seconds"]
    return {"elapsed_s_total": None if e is None else e + elapsed,
            "train_seconds_total": None if t is None else t + train_time}


def train(model, train_stream: ChunkStream, heldout_stream: ChunkStream | None, cfg: TrainConfig,
          out: str | os.PathLike, resume: bool = False, progress: bool = True,
          meta: dict | None = None, stop_after: int | None = None, set_aside_stale: bool = False,
          diagnostics=None) -> dict:
    """Train ``model`` in place for ``cfg.steps`` optimizer steps; return the summary dict.

    Runs single-process, or in every rank of an initialised torch.distributed group (each rank
    calls ``train`` with the same arguments). ``resume`` continues from the newest checkpoint in
    ``out``; without it, an ``out`` that already holds checkpoints is refused. ``stop_after``
    interrupts the run after that many steps (in total) with a checkpoint and no final save, as a
    time-limited job would; the run is then continued with ``resume=True``.

    Resuming reads the newest readable checkpoint (an unreadable newest one falls back to the
    previous). A checkpoint written under other settings raises :class:`StaleCheckpoint` (exit 3)
    and is left in place, or with ``set_aside_stale`` is moved to ``checkpoints.stale-<time>``
    (:func:`yarnlab.train.checkpoint.set_aside`) and the run starts over.

    ``diagnostics(model, seq_len, heldout_nll) -> dict``: extra metrics of each evaluation line when
    ``cfg.induction_eval`` is set (the CLI passes :func:`yarnlab.evaluate.induction.training_diagnostics`;
    the loop itself imports nothing from the layers above it).
    """
    if cfg.induction_eval and diagnostics is None:
        raise UsageError("induction_eval: needs a diagnostics function (e.g. "
                         "yarnlab.evaluate.induction.training_diagnostics); pass diagnostics= or set it false")
    torch.set_num_threads(cfg.threads)
    subnormals_flushed = cpu.workers_flush()  # set by the command line (yarnlab/cpu.py), reported
    if train_stream.seq_len != cfg.seq_len:
        raise UsageError(f"seq_len: stream has {train_stream.seq_len}, config has {cfg.seq_len}")
    ctx = distributed.current()
    out = Path(out)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
    distributed.barrier(ctx)
    existing = ckpt.latest_checkpoint(out)
    if existing is not None and not resume:
        raise UsageError(f"out: {out} already holds checkpoints; pass --resume or choose a new --out")
    model.to(ctx.device)
    model.train()
    net = distributed.wrap(model, cfg.strategy, ctx)
    opt = _optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cfg.lr_at(s) / cfg.lr)
    step, tokens = 0, 0
    # time spent by earlier processes on the steps this run resumes from (0 for a fresh start; None when
    # the checkpoint predates these fields): with this process's own time, the cost of the whole run
    before = {"elapsed_s": 0.0, "train_seconds": 0.0}
    metrics_path = out / "metrics.jsonl"
    found = ckpt.load_resumable(out) if resume and existing is not None else None
    if found is not None:
        path, state = found
        changed = sorted(k for k, v in cfg.to_dict().items()
                         if k not in _RESUME_FREE and state["config"].get(k) != v)
        if changed:
            msg = (f"resume: these settings differ from those of checkpoint {path}: "
                   + ", ".join(f"{k} (was {state['config'].get(k)!r}, got {getattr(cfg, k)!r})" for k in changed))
            if not set_aside_stale:
                raise StaleCheckpoint(msg + "; pass --set-aside-stale to move those checkpoints aside and start over")
            distributed.barrier(ctx)
            if ctx.is_main:
                ckpt.set_aside(out, msg)
            distributed.barrier(ctx)
            found = None
    if found is not None:
        _load_state_dicts(model, opt, state, ctx, cfg)
        sched.load_state_dict(state["scheduler"])
        ckpt.set_rng_state(state["rng"])
        step, tokens = state["step"], state["tokens"]
        before = {k: state.get(f"{k}_total") for k in before}
        if ctx.is_main:
            _truncate_metrics(metrics_path, step, state.get("metrics"))
    elif ctx.is_main and metrics_path.exists():  # a fresh start (nothing to resume from)
        metrics_path.unlink()
    distributed.barrier(ctx)

    def log(row):
        if ctx.is_main:
            with open(metrics_path, "a") as fh:
                fh.write(json.dumps(row) + "\n")

    def evaluate(n_batches, units=False):
        if heldout_stream is None:
            return {}
        per_pos = [] if cfg.induction_eval else None
        rows = [] if units else None
        out = heldout_bits(model if cfg.strategy == "ddp" else net,
                           heldout_stream.eval_batches(n_batches, cfg.batch_size), ctx.device,
                           heldout_stream.byte_level, per_position=per_pos, per_row=rows)
        if cfg.induction_eval and heldout_stream.byte_level:
            out.update(diagnostics(model, cfg.seq_len, np.concatenate(per_pos) if per_pos else None))
        if rows:
            out.update(unit_losses(rows))
        return out

    last_save = time.perf_counter()

    def _save_due(at_step):
        """Whether `checkpoint_minutes` have passed since the last checkpoint (or the start), so that a run
        stopped from outside loses at most that much. Asked at log steps only, where every rank asks: the
        ranks agree through one collective (any rank due -> all save)."""
        if not cfg.checkpoint_minutes or at_step % cfg.log_every:
            return False
        due = time.perf_counter() - last_save >= 60.0 * cfg.checkpoint_minutes
        return distributed.all_sum(int(due), ctx) > 0

    def save(at_step):
        nonlocal last_save
        last_save = time.perf_counter()
        model_sd, opt_sd = _state_dicts(model, opt, ctx, cfg)
        if ctx.is_main:
            ckpt.save_checkpoint(out, {"model": model_sd, "optimizer": opt_sd, "scheduler": sched.state_dict(),
                                       "rng": ckpt.rng_state(), "step": at_step, "tokens": tokens,
                                       **_totals(before, time.perf_counter() - t0, train_time),
                                       "config": cfg.to_dict(),
                                       "metrics": metrics_path.read_text() if metrics_path.exists() else ""},
                                 at_step, cfg.keep_checkpoints)
        distributed.barrier(ctx)
        return model_sd

    forward = training_forward(net, cfg, ctx.device)
    bar = None
    if progress and ctx.is_main:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc="train", unit="step", dynamic_ncols=True)
    t0, tokens0, step0, train_time = time.perf_counter(), tokens, step, 0.0
    row = {}
    if step == 0 and cfg.evaluates_at(0) and heldout_stream is not None:  # the early grid: the untrained model
        log({"step": 0, "tokens": 0, "lr": sched.get_last_lr()[0], **evaluate(cfg.eval_batches, units=True)})
    while step < cfg.steps:
        t_step = time.perf_counter()
        ids, labels = train_stream.batch(step, cfg.batch_size, ctx.rank, ctx.world_size)
        ids, labels = ids.to(ctx.device), labels.to(ctx.device)
        lr = sched.get_last_lr()[0]
        # token-mean over the GLOBAL batch: each rank's sum over its targets divided by the global
        # count, times world_size because DDP/FSDP average gradients over ranks
        n_global = distributed.all_sum(int((labels[:, 1:] != IGNORE).sum()), ctx)
        loss_sum = next_token_loss(forward(ids), labels, reduction="sum")
        opt.zero_grad(set_to_none=True)
        (loss_sum * (ctx.world_size / n_global)).backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        step += 1
        tokens += int(distributed.all_sum(int((labels != IGNORE).sum()), ctx))
        train_time += time.perf_counter() - t_step
        # the last step is evaluated like the others too (the final evaluation uses more chunks), so the
        # periodic curve covers the whole run
        do_eval = cfg.evaluates_at(step)
        if do_eval or step % cfg.log_every == 0 or step == cfg.steps:
            row = {"step": step, "loss": distributed.all_sum(loss_sum.detach().item(), ctx) / n_global, "lr": lr,
                   "tokens": tokens,
                   "tokens_per_s": (tokens - tokens0) / max(train_time, 1e-9),
                   "elapsed_s": time.perf_counter() - t0}
            if do_eval:
                row.update(evaluate(cfg.eval_batches, units=True))
            log(row)
            if bar is not None:
                bar.set_postfix(loss=f"{row['loss']:.3f}", bpb=f"{row.get('heldout_bpb', float('nan')):.3f}")
        if bar is not None:
            bar.update(1)
        stopping = stop_after is not None and stop_after <= step < cfg.steps
        if step < cfg.steps and (stopping or cfg.checkpoint_every and step % cfg.checkpoint_every == 0
                                 or _save_due(step)):
            save(step)
        if stopping:
            if bar is not None:
                bar.close()
            return {"steps": step, "tokens": tokens, "interrupted": True}
    if bar is not None:
        bar.close()
    n_final = max(1, math.ceil(cfg.final_eval_chunks / cfg.batch_size))
    final_eval = evaluate(n_final)
    final_sd = save(step)
    elapsed = time.perf_counter() - t0
    summary = {"steps": step, "tokens": tokens, "final_train_loss": row.get("loss"),
               "tokens_per_s_this_run": (tokens - tokens0) / max(train_time, 1e-9),
               "train_seconds_this_run": train_time, "world_size": ctx.world_size,
               "elapsed_s_this_run": elapsed, "resumed_from_step": step0 if step0 else None,
               "subnormals_flushed_this_run": subnormals_flushed,
               **_totals(before, elapsed, train_time),
               **final_eval, "config": cfg.to_dict(),
               "provenance": provenance({"seed": cfg.seed, **(meta or {})})}
    if ctx.is_main:
        log({"step": step, "final": True, **final_eval})
        try:
            save_hf_atomic(model, out, final_sd if (ctx.active and cfg.strategy == "fsdp") else None)
            write_json(out / "train_summary.json", summary, sort_keys=True, indent=1)
        except OSError as exc:
            raise ckpt.write_error(out, exc) from exc
    distributed.barrier(ctx)
    return summary
