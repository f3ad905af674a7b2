"""The multi-process path: torch.distributed process groups, DDP or FSDP wrapping, reductions.

Launch with ``torchrun --nproc-per-node N -m yarnlab train ...`` (GPU: NCCL, one device per
process) or, on CPU, any launcher that sets up a gloo group (the tests use
``torch.multiprocessing.spawn``). Each rank takes its slice of every global batch (see
:class:`yarnlab.data.chunks.ChunkStream`), so a w-process run follows the single-process run's
data and, up to floating-point reduction order, its loss curve.

``ddp``: ``DistributedDataParallel`` averages gradients across ranks. ``fsdp``: PyTorch FSDP2
(``fully_shard`` on every decoder layer and the root), as in the paper's recipe (Section 4.1);
it needs CUDA here.
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def init_from_env() -> DistContext:
    """Join the process group that ``torchrun`` describes (WORLD_SIZE > 1), else a single process."""
    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return current()


def current() -> DistContext:
    """The context of an already initialised process group (or a single process)."""
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    if not (dist.is_available() and dist.is_initialized()):
        return DistContext(device="cuda:0" if cuda else "cpu")
    local = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    if cuda and dist.get_backend() == "nccl":
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    else:
        device = "cpu"
    return DistContext(dist.get_rank(), dist.get_world_size(), local, device)


def wrap(model, strategy: str, ctx: DistContext):
    """The model to run forward/backward through: itself, DDP(model) or the FSDP2-sharded model."""
    if not ctx.active:
        return model
    if strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[ctx.local_rank] if ctx.device != "cpu" else None)
    from torch.distributed.fsdp import fully_shard

    for layer in model.model.layers:
        fully_shard(layer)
    fully_shard(model)
    return model


def all_sum(value: float, ctx: DistContext) -> float:
    if not ctx.active:
        return float(value)
    import torch
    import torch.distributed as dist

    t = torch.tensor([float(value)], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return float(t.item())


def barrier(ctx: DistContext) -> None:
    if ctx.active:
        import torch.distributed as dist

        dist.barrier()
