"""``yarnlab freqs`` and ``yarnlab inspect``, and the spec options other commands share.

Only the standard library is imported at module level; numpy enters inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys

METHOD_NAMES = ("none", "pi", "dynamic-pi", "ntk", "dynamic-ntk", "ntk-by-parts", "yarn", "dynamic-yarn", "llama3")
RULE_NAMES = ("yarn", "none", "fixed", "mscale-ratio", "longrope", "log-n")


def add_spec_arguments(parser: argparse.ArgumentParser, geometry: bool = False) -> None:
    """Options that describe a scaling method (and, with ``geometry``, the model geometry)."""
    g = parser.add_argument_group("scaling method")
    g.add_argument("--method", default="none", choices=METHOD_NAMES, help="scaling method (default: none)")
    g.add_argument("--factor", type=float, default=1.0, help="scale s = L'/L (>= 1)")
    g.add_argument("--alpha", type=float, help="ramp lower bound in rotations (ntk-by-parts/yarn; default 1)")
    g.add_argument("--beta", type=float, help="ramp upper bound in rotations (ntk-by-parts/yarn; default 32)")
    g.add_argument("--ramp", choices=("paper", "index"), help="ramp form: paper (linear in r) or index (default)")
    g.add_argument("--no-truncate", action="store_true", help="index ramp without floor/ceil of its bounds")
    g.add_argument("--variant", choices=("paper", "transformers"), help="dynamic-ntk form (default paper)")
    g.add_argument("--grow-only", action="store_true", help="dynamic-yarn: recompute only when length grows")
    g.add_argument("--low-freq-factor", type=float, help="llama3 low_freq_factor (default 1)")
    g.add_argument("--high-freq-factor", type=float, help="llama3 high_freq_factor (default 4)")
    g.add_argument("--temperature", choices=RULE_NAMES, help="attention temperature rule (default: method's)")
    g.add_argument("--m", type=float, help="attention factor sqrt(1/t) for --temperature fixed")
    g.add_argument("--coefficient", type=float, help="slope of the yarn rule 0.1 ln s + 1 (default 0.1)")
    g.add_argument("--mscale", type=float, help="mscale for --temperature mscale-ratio")
    g.add_argument("--mscale-all-dim", type=float, help="mscale_all_dim for --temperature mscale-ratio")
    if geometry:
        g = parser.add_argument_group("geometry")
        g.add_argument("--head-dim", type=int, default=128, help="head dimension |D| (even)")
        g.add_argument("--rotary-dim", type=int, help="rotated channels (partial rotary; default: head dim)")
        g.add_argument("--base", type=float, default=10000.0, help="RoPE base b (> 1)")
        g.add_argument("--original-ctx", type=int, default=4096, help="original trained context L")


def spec_from_args(args: argparse.Namespace, head_dim=None, base=None, original_ctx=None, rotary_dim=None):
    """A validated :class:`~yarnlab.rope.spec.RopeSpec` from :func:`add_spec_arguments` options.

    Geometry comes from the keyword arguments when given (e.g. read from a checkpoint), else from
    the options. Parameters that do not apply to the chosen method are an error, not ignored.
    """
    from yarnlab.rope.spec import RopeSpec

    params = {}
    for opt, key in [("alpha", "alpha"), ("beta", "beta"), ("ramp", "ramp"), ("variant", "variant"),
                     ("low_freq_factor", "low_freq_factor"), ("high_freq_factor", "high_freq_factor")]:
        if getattr(args, opt, None) is not None:
            params[key] = getattr(args, opt)
    if getattr(args, "no_truncate", False):
        params["truncate"] = False
    if getattr(args, "grow_only", False):
        params["grow_only"] = True
    tparams = {}
    for opt in ("m", "coefficient", "mscale", "mscale_all_dim"):
        if getattr(args, opt, None) is not None:
            tparams[opt] = getattr(args, opt)
    return RopeSpec(
        method=args.method,
        head_dim=head_dim if head_dim is not None else args.head_dim,
        rotary_dim=rotary_dim if rotary_dim is not None else getattr(args, "rotary_dim", None),
        base=base if base is not None else args.base,
        original_ctx=original_ctx if original_ctx is not None else args.original_ctx,
        factor=args.factor,
        params=params,
        temperature=args.temperature,
        temperature_params=tparams,
    )


def pair_table(spec, seq_len: int | None = None) -> dict:
    """Per-pair columns: d, theta, wavelength, r, gamma, scaled theta, interpolation factor."""
    import numpy as np

    from yarnlab.rope.frequencies import base_inv_freq, effective_gamma, ratios, wavelengths

    res = spec.compute(seq_len)
    theta = base_inv_freq(spec.dim, spec.base)
    return {
        "d": np.arange(theta.size),
        "theta": theta,
        "wavelength": wavelengths(theta),
        "r": ratios(spec.dim, spec.base, spec.original_ctx),
        "gamma": effective_gamma(theta, res.inv_freq, res.scale),
        "scaled_theta": res.inv_freq,
        "interp_factor": theta / res.inv_freq,
        "_result": res,
    }


def _print_table(table: dict, out) -> None:
    cols = ["d", "theta", "wavelength", "r", "gamma", "scaled_theta", "interp_factor"]
    heads = ["d", "theta", "wavelength", "r(d)=L/lambda", "gamma", "theta'", "theta/theta'"]
    print("  ".join(f"{h:>13}" for h in heads), file=out)
    for i in range(len(table["d"])):
        row = [f"{int(table['d'][i]):>13d}"] + [f"{table[c][i]:>13.6g}" for c in cols[1:]]
        print("  ".join(row), file=out)


def _cmd_freqs(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.seq_len is not None and args.seq_len <= 0:
        from yarnlab.errors import UsageError

        raise UsageError(f"--seq-len: must be an integer > 0 (got {args.seq_len})")
    table = pair_table(spec, args.seq_len)
    res = table.pop("_result")
    if args.json:
        out = {"spec": spec.to_dict(), "seq_len": args.seq_len, "scale": res.scale,
               "attention_factor": res.attention_factor, "inv_freq": res.inv_freq.tolist(),
               "pairs": {k: v.tolist() for k, v in table.items()}}
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    print(f"method {spec.method}  |D| = {spec.dim} (head dim {spec.head_dim})  b = {spec.base:g}  "
          f"L = {spec.original_ctx}  s = {res.scale:g}  params = {spec.params or '{}'}")
    print(f"temperature rule {spec.temperature_rule}: attention factor m = sqrt(1/t) = {res.attention_factor:.6g}"
          f"  (logits x {res.attention_factor**2:.6g})")
    _print_table(table, sys.stdout)
    return 0


def inspect_config(config: dict) -> dict:
    """The rope doctor's findings for a Hugging Face config dict (used by ``yarnlab inspect``)."""
    import numpy as np

    from yarnlab.rope.hf import hf_supported, read_hf_config

    spec, warnings = read_hf_config(config)
    table = pair_table(spec)
    res = table.pop("_result")
    gamma = table["gamma"]
    untouched = int(np.sum(np.isclose(gamma, 1.0)))
    interpolated = int(np.sum(np.isclose(gamma, 0.0))) if res.scale > 1 else 0
    long_pairs = int(np.sum(table["wavelength"] > spec.original_ctx))
    if spec.is_dynamic:
        effective = f"grows with the input: s = max(1, l/{spec.original_ctx})"
    else:
        effective = str(spec.extended_ctx)
    if spec.method == "ntk":
        warnings.append("ntk: some pairs extrapolate, so the nominal s under-states the real extension")
    return {"spec": spec, "warnings": warnings, "table": table, "result": res, "untouched": untouched,
            "interpolated": interpolated, "long_pairs": long_pairs, "effective_ctx": effective,
            "hf_supported": hf_supported(spec)}


def _cmd_inspect(args: argparse.Namespace) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.model.gguf import gguf_config, is_gguf_source

    try:
        if is_gguf_source(args.config):
            config = gguf_config(args.config)
        else:
            with open(args.config, encoding="utf-8") as fh:
                config = json.load(fh)
    except OSError as exc:
        raise UsageError(f"CONFIG: cannot read {args.config!r} ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"CONFIG: {args.config!r} is not valid JSON ({exc})") from None
    info = inspect_config(config)
    spec, res, t = info["spec"], info["result"], info["table"]
    n = len(t["d"])
    print(f"config: {args.config}")
    print(f"method: {spec.method}  params: {spec.params or '{}'}  temperature rule: {spec.temperature_rule}")
    print(f"geometry: head dim {spec.head_dim}, rotary dim {spec.dim}, base b = {spec.base:g}")
    print(f"L (original context): {spec.original_ctx}   s: {spec.factor:g}   "
          f"effective context: {info['effective_ctx']}")
    print(f"attention factor m = sqrt(1/t): {res.attention_factor:.6g} (logits x {res.attention_factor**2:.6g})")
    print(f"pairs: {n}; untouched (gamma = 1): {info['untouched']}; interpolated like PI (gamma = 0): "
          f"{info['interpolated']}; in between: {n - info['untouched'] - info['interpolated']}")
    print(f"pairs with wavelength > L (never complete a turn in the trained context): {info['long_pairs']}")
    print(f"wavelengths: {t['wavelength'].min():.4g} .. {t['wavelength'].max():.4g} tokens; "
          f"r(d): {t['r'].min():.4g} .. {t['r'].max():.4g}")
    print(f"transformers computes this natively: {'yes' if info['hf_supported'] else 'no (yarnlab-only)'}")
    if "gguf" in config:
        print(f"GGUF {config['gguf']['file']}: weights {config['gguf']['weights']}")
    for w in info["warnings"]:
        print(f"WARNING: {w}")
    if args.table:
        _print_table(t, sys.stdout)
    return 0


def register(sub) -> None:
    p = sub.add_parser("freqs", help="per-pair frequency table for a scaling method",
                       description="Print theta, wavelength, r(d), gamma and the scaled theta per pair.")
    add_spec_arguments(p, geometry=True)
    p.add_argument("--seq-len", type=int, help="current length (dynamic methods, log-n)")
    p.add_argument("--json", action="store_true", help="print JSON (inv_freq, attention_factor, pairs)")
    p.set_defaults(func=_cmd_freqs)

    p = sub.add_parser("inspect", help="rope doctor: read a Hugging Face config.json and report",
                       description="Report the method, L, s, effective context, attention factor and pitfalls.")
    p.add_argument("config", metavar="CONFIG.json", help="a config.json, or a GGUF source (.gguf file, "
                   "pkg:<package>, smollm2-135m; needs the [real] extra)")
    p.add_argument("--table", action="store_true", help="also print the per-pair table")
    p.set_defaults(func=_cmd_inspect)
