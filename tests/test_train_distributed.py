"""Two CPU processes (gloo), DDP or FSDP2, interrupted and resumed, follow the single-process run."""

import json

import pytest
import torch
import torch.multiprocessing as mp

from yarnlab.data.chunks import ChunkStream
from yarnlab.model.tiny import build_model
from yarnlab.train.config import TrainConfig
from yarnlab.train.loop import train

DOCS = [(f"Doc {i}. " + "Now is the winter of our discontent made glorious summer " * (12 + 5 * i)).encode()
        for i in range(8)]
SMALL = {"preset": "micro", "num_hidden_layers": 2, "max_position_embeddings": 64}
CFG = TrainConfig(steps=16, seq_len=64, batch_size=4, lr=3e-3, warmup_steps=2, log_every=1, eval_every=0,
                  checkpoint_every=8, final_eval_chunks=4)


def _worker(rank, world, init_file, out, strategy):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    cfg = CFG.replace(strategy=strategy)
    try:
        # interrupted after 6 steps, then resumed from that checkpoint by fresh models
        model = build_model(SMALL, seed=0)
        out1 = train(model, ChunkStream(DOCS[:6], 64, seed=1), ChunkStream(DOCS[6:], 64), cfg, out,
                     progress=False, stop_after=6)
        assert out1["interrupted"]
        model = build_model(SMALL, seed=7)
        train(model, ChunkStream(DOCS[:6], 64, seed=1), ChunkStream(DOCS[6:], 64), cfg, out, resume=True,
              progress=False)
    finally:
        dist.destroy_process_group()


def _curve(path):
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    return [(r["step"], r["loss"], r["tokens"]) for r in rows if not r.get("final")]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_process_gloo_matches_single_process(tmp_path, strategy):
    single = build_model(SMALL, seed=0)
    train(single, ChunkStream(DOCS[:6], 64, seed=1), ChunkStream(DOCS[6:], 64), CFG, tmp_path / "one",
          progress=False)
    mp.spawn(_worker, args=(2, str(tmp_path / "rdzv"), str(tmp_path / "two"), strategy), nprocs=2, join=True)

    one, two = _curve(tmp_path / "one" / "metrics.jsonl"), _curve(tmp_path / "two" / "metrics.jsonl")
    assert [s for s, _, _ in one] == [s for s, _, _ in two] == list(range(1, 17))
    # the ranks split each global batch: same token count, not twice it
    assert [t for _, _, t in one] == [t for _, _, t in two]
    for (_, a, _), (_, b, _) in zip(one, two):
        assert b == pytest.approx(a, rel=2e-4, abs=2e-4)
    assert one[-1][1] < one[0][1] - 0.5  # the curve really moves
    from safetensors.torch import load_file

    w1, w2 = load_file(tmp_path / "one" / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    for k in w1:
        torch.testing.assert_close(w1[k], w2[k], rtol=1e-3, atol=1e-4)
