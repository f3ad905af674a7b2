"""Checkpoints that survive: stale settings set aside (never deleted), corrupt files named with a
fallback to the previous checkpoint, unwritable results folders and bad inputs named."""

import dataclasses
import errno
import json
import shutil

import pytest
import torch
from tiny_train import SMALL, TEXT

from yarnlab.data.chunks import ChunkStream
from yarnlab.errors import StaleCheckpoint, UsageError
from yarnlab.model.tiny import build_model
from yarnlab.train import checkpoint as ckpt
from yarnlab.train.config import TrainConfig
from yarnlab.train.loop import train

CFG = TrainConfig(steps=12, seq_len=32, batch_size=4, lr=3e-3, warmup_steps=2, eval_every=0, eval_batches=1,
                  final_eval_chunks=4, checkpoint_every=3, log_every=1, seed=0)


def _train(out, cfg=CFG, seed=1, **kw):
    model = build_model(SMALL, seed=seed)
    summary = train(model, ChunkStream(TEXT, 32, seed=0), None, cfg, out, progress=False, **kw)
    return model, summary


def _same(a, b):
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), k


def _steps(out):
    return [s for s, _ in ckpt.list_checkpoints(out)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("ref") / "run")[0]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_unreadable_newest_checkpoint_falls_back_to_the_previous(tmp_path, reference, damage, capsys):
    out = tmp_path / "run"
    _train(out, stop_after=7)
    assert _steps(out) == [6, 7]  # the two newest are kept
    newest = out / "checkpoints" / "step-0000007.pt"
    data = newest.read_bytes()
    newest.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00not a checkpoint" * 50,
                        "empty": b""}[damage])
    resumed, _ = _train(out, seed=99, resume=True)
    assert "step-0000007.pt" in capsys.readouterr().err  # the bad file is named
    _same(reference, resumed)  # resumed from step 6: bit-identical to the uninterrupted run


def test_every_checkpoint_unreadable_is_a_usage_error_naming_them(tmp_path):
    out = tmp_path / "run"
    _train(out, stop_after=7)
    for _, p in ckpt.list_checkpoints(out):
        p.write_bytes(b"corrupt")
    with pytest.raises(UsageError, match=r"no readable checkpoint(.|\n)*step-0000007.pt(.|\n)*step-0000006.pt"):
        _train(out, resume=True)
    assert _steps(out) == [6, 7]  # left in place


def test_stale_settings_refused_with_their_own_signal_and_kept(tmp_path):
    out = tmp_path / "run"
    _train(out, stop_after=6)
    before = {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()}
    with pytest.raises(StaleCheckpoint, match=r"lr \(was 0.003, got 0.001\)") as err:
        _train(out, cfg=CFG.replace(lr=1e-3), resume=True)
    assert err.value.exit_code == 3
    assert {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()} == before


def test_stale_settings_set_aside_on_request(tmp_path):
    out = tmp_path / "run"
    _train(out, stop_after=6)
    before = {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()}
    old_metrics = (out / "metrics.jsonl").read_text()
    new_cfg = CFG.replace(lr=1e-3)
    model, summary = _train(out, cfg=new_cfg, resume=True, set_aside_stale=True)
    stale = sorted(out.glob("checkpoints.stale-*"))
    assert len(stale) == 1
    assert {p.name: p.read_bytes() for p in stale[0].glob("step-*.pt")} == before  # kept, byte for byte
    assert (stale[0] / "metrics.jsonl").read_text() == old_metrics
    assert "lr (was 0.003, got 0.001)" in (stale[0] / "REASON.txt").read_text()
    fresh, _ = _train(tmp_path / "fresh", cfg=new_cfg)
    _same(fresh, model)  # the new run started over
    assert summary["steps"] == 12


def _cli(tmp_path, *extra):
    from yarnlab.train.__main__ import main

    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    for i, t in enumerate(TEXT):
        (corpus / f"d{i}.txt").write_bytes(t)
    return main(["pretrain", "--preset", "micro", "--seq-len", "32", "--corpus", str(corpus), "--out",
                 str(tmp_path / "o"), "--steps", "4", "--batch-size", "2", "--checkpoint-every", "2",
                 "--eval-every", "0", "--final-eval-chunks", "2", "--no-progress", *extra])


def test_cli_exit_codes_stale_3_other_errors_2_and_nothing_moved(tmp_path, capsys):
    assert _cli(tmp_path) == 0
    ck = sorted(p.name for p in (tmp_path / "o" / "checkpoints").iterdir())
    assert _cli(tmp_path, "--resume", "--lr", "0.5") == 3
    assert "--set-aside-stale" in capsys.readouterr().err
    # any other error (here a missing corpus) exits 2, even with --set-aside-stale, and moves nothing
    from yarnlab.train.__main__ import main

    rc = main(["pretrain", "--preset", "micro", "--corpus", str(tmp_path / "missing"), "--out", str(tmp_path / "o"),
               "--steps", "4", "--resume", "--set-aside-stale", "--no-progress"])
    assert rc == 2 and "corpus" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "o" / "checkpoints").iterdir()) == ck
    assert not list((tmp_path / "o").glob("checkpoints.stale-*"))
    assert _cli(tmp_path, "--resume", "--lr", "0.5", "--set-aside-stale") == 0
    assert "moved the checkpoints" in capsys.readouterr().err
    assert len(list((tmp_path / "o").glob("checkpoints.stale-*"))) == 1


@pytest.mark.parametrize("code,needle", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "not writable"),
                                         (errno.EACCES, "not writable")])
def test_full_or_read_only_results_folder_is_named(tmp_path, monkeypatch, code, needle):
    def fail(*a, **k):
        raise OSError(code, "simulated")

    monkeypatch.setattr(ckpt.torch, "save", fail)
    with pytest.raises(UsageError, match=needle) as err:
        ckpt.save_checkpoint(tmp_path / "run", {"x": 1}, 3)
    assert str(tmp_path / "run" / "checkpoints") in str(err.value)
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == []  # no temporary left behind


def test_corrupt_base_safetensors_is_named(tmp_path, small_base, text_corpus):
    from yarnlab.train.recipes import finetune

    shutil.copytree(small_base, tmp_path / "base")
    st = tmp_path / "base" / "model.safetensors"
    st.write_bytes(st.read_bytes()[:100])
    cfg = TrainConfig(steps=1, seq_len=64, batch_size=2, lr=1e-3, eval_every=0, checkpoint_every=0)
    with pytest.raises(UsageError, match=r"base: cannot load the checkpoint in .*base.*truncated or corrupt"):
        finetune(tmp_path / "base", "yarn", 2.0, str(text_corpus), tmp_path / "ft", cfg, progress=False)


def test_empty_or_binary_corpus_is_named(tmp_path):
    from yarnlab.data.corpus import load_corpus

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_bytes(b"")
    with pytest.raises(UsageError, match="no non-empty text files"):
        load_corpus(str(tmp_path / "empty"))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "a.txt").write_text("fine text " * 20)
    (tmp_path / "bin" / "b.txt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UsageError, match=r"b\.txt is binary"):
        load_corpus(str(tmp_path / "bin"))


def test_metrics_of_a_set_aside_run_are_not_mixed_in(tmp_path):
    out = tmp_path / "run"
    _train(out, stop_after=6)
    _train(out, cfg=CFG.replace(lr=1e-3), resume=True, set_aside_stale=True)
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps[:-1] == list(range(1, 13))


def test_workflow_rules_delete_nothing_and_pass_set_aside_stale():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = "\n".join(p.read_text() for p in [root / "Snakefile", *sorted((root / "workflows/rules").glob("*.smk"))])
    for bad in ("rm -rf", "rm -r ", "rmtree", "shutil.rm", ".unlink("):
        assert bad not in text
    trains = [ln for ln in text.splitlines() if '"yarnlab train ' in ln]
    assert trains and all("--set-aside-stale" in text.split(ln, 1)[1].split("\n\n", 1)[0] for ln in trains)


def test_resume_drops_a_metrics_line_cut_short_by_the_kill(tmp_path, reference):
    out = tmp_path / "run"
    _train(out, stop_after=7)
    with open(out / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 8, "loss": 1.2')  # killed mid-append
    resumed, _ = _train(out, seed=99, resume=True)
    _same(reference, resumed)
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps[:-1] == list(range(1, 13))


def test_time_of_a_resumed_run_adds_the_earlier_process_up_to_its_checkpoint(tmp_path):
    fresh = _train(tmp_path / "fresh")[1]
    assert fresh["resumed_from_step"] is None
    assert fresh["train_seconds_total"] == fresh["train_seconds_this_run"]
    assert fresh["elapsed_s_total"] == pytest.approx(fresh["elapsed_s_this_run"], abs=0.5)
    out = tmp_path / "run"
    _train(out, stop_after=7)
    earlier = torch.load(out / "checkpoints" / "step-0000007.pt", weights_only=False)
    state = torch.load(out / "checkpoints" / "step-0000006.pt", weights_only=False)
    assert earlier["train_seconds_total"] > 0 and earlier["elapsed_s_total"] >= earlier["train_seconds_total"]
    resumed = _train(out, seed=99, resume=True)[1]
    assert resumed["resumed_from_step"] == 7
    assert resumed["train_seconds_total"] == pytest.approx(earlier["train_seconds_total"]
                                                           + resumed["train_seconds_this_run"])
    assert resumed["elapsed_s_total"] == pytest.approx(earlier["elapsed_s_total"] + resumed["elapsed_s_this_run"],
                                                       abs=0.5)
    # a checkpoint written before these fields existed: the totals are unknown, not this process's alone
    del state["train_seconds_total"], state["elapsed_s_total"]
    old = tmp_path / "old"
    (old / "checkpoints").mkdir(parents=True)
    torch.save(state, old / "checkpoints" / "step-0000006.pt")
    legacy = _train(old, seed=99, resume=True)[1]
    assert legacy["resumed_from_step"] == 6
    assert legacy["train_seconds_total"] is None and legacy["elapsed_s_total"] is None


def test_resume_restores_metrics_removed_with_the_outputs_of_an_interrupted_job(tmp_path):
    # a workflow manager deletes an interrupted job's outputs (metrics.jsonl) before rerunning it
    full = tmp_path / "full"
    _train(full)
    out = tmp_path / "run"
    _train(out, stop_after=7)
    (out / "metrics.jsonl").unlink()
    _train(out, seed=99, resume=True)
    ref = [json.loads(x) for x in (full / "metrics.jsonl").read_text().splitlines()]
    got = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in got] == [r["step"] for r in ref]
    assert [r.get("loss") for r in got] == [r.get("loss") for r in ref]


def test_time_based_checkpoints_come_at_log_steps_and_resume_bit_identical(tmp_path, reference):
    # checkpoint_minutes so small that every log step is due: checkpoints at each log step, none by count
    timed = dataclasses.replace(CFG, checkpoint_every=0, checkpoint_minutes=1e-9, log_every=2, keep_checkpoints=20)
    out = tmp_path / "run"
    _train(out, cfg=timed, stop_after=7)
    assert _steps(out) == [2, 4, 6, 7]  # log steps 2, 4, 6, then the stop
    resumed, _ = _train(out, cfg=timed, seed=99, resume=True)
    assert _steps(out) == [2, 4, 6, 7, 8, 10, 12]  # 12: the final checkpoint
    _same(reference, resumed)  # saving by time does not touch the weights, the data order or the RNG
    off = tmp_path / "off"
    _train(off, cfg=dataclasses.replace(timed, checkpoint_minutes=0))
    assert _steps(off) == [12]  # neither by count nor by time: the final one only


def test_checkpoint_minutes_is_resume_free_and_validated(tmp_path):
    out = tmp_path / "run"
    _train(out, stop_after=4)
    _, summary = _train(out, cfg=dataclasses.replace(CFG, checkpoint_minutes=5.0), resume=True)
    assert summary["resumed_from_step"] == 4  # a new interval is not a stale setting
    with pytest.raises(UsageError, match=r"checkpoint_minutes.*>= 0"):
        dataclasses.replace(CFG, checkpoint_minutes=-1.0)
