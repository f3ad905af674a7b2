"""``yarnlab theory``: the theory layer's command (standard library only at import time)."""

from __future__ import annotations

import argparse


def _floats(text: str) -> list[float]:
    from yarnlab.errors import UsageError

    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"expected comma-separated numbers (got {text!r})") from None
    if not vals:
        raise UsageError(f"expected at least one number (got {text!r})")
    return vals


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "theory", help="symbolic derivations, wavelength/ramp/similarity/entropy analyses, fits and figures",
        description="Write the theory tables (CSV + JSON provenance) and figures (PNG + PDF) to --out.")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--geometries", default="llama2,llama3,mistral,tiny",
                   help="comma-separated: llama2 (128, 1e4, 4096), llama3 (128, 5e5, 8192), mistral (128, 1e4, 8192), "
                        "tiny (--tiny-*)")
    p.add_argument("--tiny-dim", type=int, default=32, help="tiny model head dim |D| (even, >= 4; default 32)")
    p.add_argument("--tiny-base", type=float, default=300.0, help="tiny model RoPE base (> 1; default 300)")
    p.add_argument("--tiny-ctx", type=int, default=256, help="tiny model original context L (> 0; default 256)")
    p.add_argument("--scales", default="2,4,8,16,32", help="comma-separated scale factors s >= 1")
    p.add_argument("--alpha", type=float, default=1.0, help="NTK-by-parts alpha (default 1)")
    p.add_argument("--beta", type=float, default=32.0, help="NTK-by-parts beta (default 32)")
    p.add_argument("--sigmas", default="1,2,3", help="logit standard deviations of the Gaussian entropy model")
    p.add_argument("--entropy-geometry", default="llama2", help="geometry whose L is the entropy model's n")
    p.add_argument("--entropy-scales", default="2,4,8,16,32,64",
                   help="scales s >= 1 at which the entropy-invariant temperature is solved")
    p.add_argument("--entropy-s", type=float, default=16.0, help="scale shown in the entropy-vs-m panel")
    p.add_argument("--similarity-geometries", default=None, help="geometries for the similarity analysis "
                   "(default: the entropy geometry)")
    p.add_argument("--similarity-scales", default=None, help="scales for the similarity analysis (default 4,16)")
    p.add_argument("--optima", default=None, help="CSV with columns s,m_opt (measured optima) to fit; default: "
                   "the entropy-invariant model")
    p.add_argument("--fit-sigma", type=float, default=None,
                   help="sigma of the model optima fitted when --optima is absent (default: best match to Eq. 22)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (>= 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-figures", action="store_true", help="write the tables only")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.rope.methods import Geometry
    from yarnlab.theory.run import run_theory

    problems = []
    if args.tiny_dim < 4 or args.tiny_dim % 2:
        problems.append(f"--tiny-dim: must be an even integer >= 4 (got {args.tiny_dim})")
    if not args.tiny_base > 1:
        problems.append(f"--tiny-base: must be > 1 (got {args.tiny_base})")
    if args.tiny_ctx <= 0:
        problems.append(f"--tiny-ctx: must be > 0 (got {args.tiny_ctx})")
    scales = _floats(args.scales)
    if any(s < 1 for s in scales):
        problems.append(f"--scales: every s must be >= 1 (got {args.scales})")
    if not 0 < args.alpha < args.beta:
        problems.append(f"--alpha, --beta: must satisfy 0 < alpha < beta (got {args.alpha}, {args.beta})")
    sigmas = _floats(args.sigmas)
    if any(x <= 0 for x in sigmas):
        problems.append(f"--sigmas: must be > 0 (got {args.sigmas})")
    entropy_scales = _floats(args.entropy_scales)
    if any(s < 1 for s in entropy_scales):
        problems.append(f"--entropy-scales: every s must be >= 1 (got {args.entropy_scales})")
    if args.entropy_s < 1:
        problems.append(f"--entropy-s: must be >= 1 (got {args.entropy_s})")
    if args.n_boot < 10:
        problems.append(f"--n-boot: must be >= 10 (got {args.n_boot})")
    if problems:
        raise UsageError("; ".join(problems))
    summary = run_theory(
        args.out, [g.strip() for g in args.geometries.split(",") if g.strip()],
        Geometry(args.tiny_dim, args.tiny_base, args.tiny_ctx), scales, args.alpha, args.beta, sigmas,
        args.entropy_geometry, args.entropy_s,
        [g.strip() for g in args.similarity_geometries.split(",")] if args.similarity_geometries else None,
        _floats(args.similarity_scales) if args.similarity_scales else None, args.optima, args.fit_sigma,
        args.n_boot, args.seed, not args.no_figures, entropy_scales)
    l2 = summary.get("llama2")
    print(f"wrote theory tables{' and figures' if not args.no_figures else ''} to {args.out} "
          f"in {summary['elapsed_s']} s; derivations all hold: {summary['derivations_all_hold']}")
    if l2:
        print(f"llama2: ramp band (index) d={l2['ramp_band_index']}, pairs with lambda > L: {l2['pairs_lambda_gt_L']}")
    return 0
