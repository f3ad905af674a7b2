"""Measure cos/sin table error at long positions against a 50-digit reference.

    python benchmarks/table_drift.py

Compares yarnlab's tables (float64 angles, cast to float32 at the end) with the usual float32
computation (float32 positions times float32 theta) for |D| = 128, b = 1e4 at positions near 2^k.
"""

import numpy as np

from yarnlab.rope import RopeSpec, cos_sin
from yarnlab.rope.tables import exact_cos_sin, float32_naive_cos_sin

spec = RopeSpec("none", head_dim=128)
inv = spec.compute().inv_freq
print("| positions | yarnlab float32 max abs error | usual float32 max abs error |")
print("|---|---|---|")
for k in (12, 16, 20):
    pos = np.arange((1 << k) - 64, (1 << k) + 1)
    rc, rs = exact_cos_sin(spec.base, 128, pos)
    c, s = cos_sin(inv, pos, dtype=np.float32)
    nc, ns = float32_naive_cos_sin(inv, pos)
    ours = max(np.abs(c[:, :64] - rc).max(), np.abs(s[:, :64] - rs).max())
    naive = max(np.abs(nc[:, :64] - rc).max(), np.abs(ns[:, :64] - rs).max())
    print(f"| 2^{k}-64 .. 2^{k} | {ours:.2e} | {naive:.2e} |")
