"""``yarnlab freqs``, and the spec options and per-pair table other commands share (``yarnlab inspect``,
which also reads GGUF sources, is registered by :mod:`yarnlab.model.cli`).

The scaling options are derived from the registries: one option per method parameter
(:data:`~yarnlab.rope.methods.METHODS`) and per temperature-rule parameter
(:data:`~yarnlab.rope.temperature.TEMPERATURE_RULES`), with the registry's help, default and
constraint, so a new method's parameter is an option (and validated) without touching this file.
"""

from __future__ import annotations

import argparse
import json
import sys

from yarnlab.rope.methods import METHODS, all_params
from yarnlab.rope.params import Param
from yarnlab.rope.temperature import TEMPERATURE_RULES


def _float_list(text: str) -> list[float]:
    """Comma-separated numbers (``--short-factor 1,1.02,1.05``)."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated numbers (got {text!r})") from None


def _rule_params() -> dict[str, Param]:
    out: dict[str, Param] = {}
    for rule in TEMPERATURE_RULES.values():
        for p in rule.parameters:
            out.setdefault(p.name, p)
    return out


def _users(name: str, registry: dict) -> str:
    return ", ".join(k for k, v in registry.items() if name in v.params)


def _add_param_option(group, p: Param, users: str) -> None:
    flag = p.name.replace("_", "-")
    default = "" if p.required else f"; default {p.default}"
    where = f" [{users}{default}]"
    if p.kind == "bool":
        if p.default:
            group.add_argument(f"--no-{flag}", dest=f"no_{p.name}", action="store_true",
                               help=f"switch off ({p.help}){where}")
        else:
            group.add_argument(f"--{flag}", dest=p.name, action="store_true", help=p.help + where)
    elif p.kind == "choice":
        group.add_argument(f"--{flag}", dest=p.name, choices=p.choices, help=p.help + where)
    elif p.kind == "factors":
        group.add_argument(f"--{flag}", dest=p.name, type=_float_list, metavar="F1,F2,...",
                           help=f"{p.help}: |D|/2 comma-separated numbers{where}")
    else:
        group.add_argument(f"--{flag}", dest=p.name, type=float, help=p.help + where)


def add_spec_arguments(parser: argparse.ArgumentParser, geometry: bool = False) -> None:
    """Options that describe a scaling method (and, with ``geometry``, the model geometry)."""
    g = parser.add_argument_group("scaling method")
    g.add_argument("--method", default="none", choices=tuple(METHODS), help="scaling method (default: none)")
    g.add_argument("--factor", type=float, default=1.0, help="scale s = L'/L (>= 1)")
    for p in all_params().values():
        _add_param_option(g, p, _users(p.name, METHODS))
    g.add_argument("--temperature", choices=tuple(TEMPERATURE_RULES),
                   help="attention temperature rule (default: method's)")
    for p in _rule_params().values():
        _add_param_option(g, p, "--temperature " + _users(p.name, TEMPERATURE_RULES))
    if geometry:
        g = parser.add_argument_group("geometry")
        g.add_argument("--head-dim", type=int, default=128, help="head dimension |D| (even)")
        g.add_argument("--rotary-dim", type=int, help="rotated channels (partial rotary; default: head dim)")
        g.add_argument("--base", type=float, default=10000.0, help="RoPE base b (> 1)")
        g.add_argument("--original-ctx", type=int, default=4096, help="original trained context L")


def _collect(args: argparse.Namespace, params: dict[str, Param]) -> dict:
    out = {}
    for name, p in params.items():
        if p.kind == "bool":
            if p.default and getattr(args, f"no_{name}", False):
                out[name] = False
            elif not p.default and getattr(args, name, False):
                out[name] = True
        elif getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    return out


def method_params(args: argparse.Namespace) -> dict:
    """The method parameters :func:`add_spec_arguments` options set (``RopeSpec.params``)."""
    return _collect(args, all_params())


def rule_params(args: argparse.Namespace) -> dict:
    """The temperature-rule parameters they set (``RopeSpec.temperature_params``)."""
    return _collect(args, _rule_params())


def given_scaling_options(args: argparse.Namespace) -> list[str]:
    """The flags of :func:`add_spec_arguments` that ``args`` sets, other than ``--method`` (for a
    command whose ``--method`` and ``--factor`` default to None: options without a method are an
    error there, not ignored). Read from the method and rule registries, so a new parameter is
    covered without an edit here."""
    names = ["factor"] if getattr(args, "factor", None) is not None else []
    names += ["temperature"] if getattr(args, "temperature", None) is not None else []
    for params in (all_params(), _rule_params()):
        for name, p in params.items():
            if p.kind == "bool" and p.default:
                names += [f"no_{name}"] if getattr(args, f"no_{name}", False) else []
            elif name in _collect(args, {name: p}):
                names.append(name)
    return ["--" + n.replace("_", "-") for n in dict.fromkeys(names)]


def spec_from_args(args: argparse.Namespace, head_dim=None, base=None, original_ctx=None, rotary_dim=None):
    """A validated :class:`~yarnlab.rope.spec.RopeSpec` from :func:`add_spec_arguments` options.

    Geometry comes from the keyword arguments when given (e.g. read from a checkpoint), else from
    the options. Parameters that do not apply to the chosen method are an error, not ignored.
    """
    from yarnlab.rope.spec import RopeSpec

    return RopeSpec(
        method=args.method,
        head_dim=head_dim if head_dim is not None else args.head_dim,
        rotary_dim=rotary_dim if rotary_dim is not None else getattr(args, "rotary_dim", None),
        base=base if base is not None else args.base,
        original_ctx=original_ctx if original_ctx is not None else args.original_ctx,
        factor=args.factor,
        params=method_params(args),
        temperature=args.temperature,
        temperature_params=rule_params(args),
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


def print_pair_table(table: dict, out) -> None:
    """The columns of :func:`pair_table` as text, one row per pair."""
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
    print_pair_table(table, sys.stdout)
    return 0


def register(sub) -> None:
    p = sub.add_parser("freqs", help="per-pair frequency table for a scaling method",
                       description="Print theta, wavelength, r(d), gamma and the scaled theta per pair.")
    add_spec_arguments(p, geometry=True)
    p.add_argument("--seq-len", type=int, help="current length (dynamic methods, log-n)")
    p.add_argument("--json", action="store_true", help="print JSON (inv_freq, attention_factor, pairs)")
    p.set_defaults(func=_cmd_freqs)
