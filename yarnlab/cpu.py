"""CPU numerics of a process: subnormal floats flushed to zero, then the thread count.

As a model trains, its attention sharpens and the softmax probabilities of the keys a head ignores
(not the masked ones, which are exactly 0) underflow below the smallest normal float32 (``2**-126``,
about 1.18e-38) into subnormal numbers. x86 cores handle subnormal operands and results through
microcode assists, far slower than normal arithmetic, and the attention products that read those
probabilities slow down with them. In a medium-preset
model after 1130 pretraining steps (``benchmarks/bench_denormals.py``, 2 threads) 6.1% of the attention
probabilities were subnormal and a forward and backward pass ran 1.58x slower than with them flushed
(692 against 1,095 tokens/s; the untrained model: 1,062); the small preset's trained bases had none.
Flushing changes only values below 2**-126, which nothing the models compute can resolve: the fast
frameworks of the field flush by default on the CPU.

The flag (MXCSR's flush-to-zero and denormals-are-zero bits, set by ``torch.set_flush_denormal``) is per
thread, and the OpenMP worker threads copy it from the thread that starts them, at the process's first
parallel operation. :func:`configure` must therefore run before any parallel torch work; a process
that ran some before calling it flushes on the calling thread only (:func:`workers_flush` tells).

The flag also changes numpy's float64 arithmetic on that thread (subnormal inputs read as zero), so it
belongs to a process that trains or evaluates: the commands set it, and the command-line dispatchers
give the calling thread its previous state back when a command returns (:func:`restored`), so that a
command run in-process (a test, a notebook) leaves the caller's numerics as they were.
"""

from __future__ import annotations

import contextlib
import sys

# the probe's elements: the bits 2**20, the float32 2**-129 (a subnormal); enough of them for every
# thread to get a share of an element-wise product
_PROBE_BITS = 1 << 20
_PROBE = 1 << 20


def configure(threads: int | None = None) -> bool:
    """Flush subnormal floats to zero, then set the intra-op thread count (``threads``; None or 0 leaves
    it). Returns whether the CPU supports flushing (x86 with SSE3; False elsewhere, where it is a no-op).
    Call it before any parallel torch work so that the worker threads inherit the flag."""
    import torch

    supported = bool(torch.set_flush_denormal(True))
    if threads:
        torch.set_num_threads(threads)
    return supported


def workers_flush() -> bool:
    """Whether every intra-op thread flushes: a subnormal times one, element-wise over a tensor long
    enough to be split across all threads, comes out as zero everywhere. Built and read as integer bits,
    since a float conversion or comparison on a flushing thread would itself read the subnormal as 0."""
    return _survivors(_PROBE) == 0


def calling_thread_flushes() -> bool:
    """Whether the calling thread flushes subnormals (a one-element product runs on it alone)."""
    return _survivors(1) == 0


def _survivors(n: int) -> int:
    """How many of ``n`` subnormals survive a product with one."""
    import torch

    x = torch.full((n,), _PROBE_BITS, dtype=torch.int32).view(torch.float32)
    return int(((x * 1.0).view(torch.int32) != 0).count_nonzero())


@contextlib.contextmanager
def restored():
    """Run a command, then turn flushing off again on the calling thread if the command turned it on.
    Worker threads the command started keep the flag (torch's own threads; numpy runs on the caller)."""
    before = "torch" in sys.modules and calling_thread_flushes()
    try:
        yield
    finally:
        if "torch" in sys.modules and not before:
            import torch

            torch.set_flush_denormal(False)
