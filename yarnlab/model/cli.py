"""``yarnlab inspect`` and ``yarnlab model show|extend|fetch|from-gguf``.

- ``inspect``: the rope doctor (:mod:`yarnlab.rope.doctor`) on a ``config.json`` or a GGUF source.

- ``show``: a checkpoint's geometry, scaling spec and attention factor.
- ``extend``: apply a scaling spec to a checkpoint, saved to a new directory.
- ``fetch`` and ``from-gguf``: a real pretrained base model laid out like a pretrained tiny one
  (a Hugging Face folder, an empty ``metrics.jsonl`` and a ``train_summary.json`` with its
  provenance), so the fine-tuning and evaluation rules of the workflow read either alike.
  ``fetch`` downloads a Hugging Face repository (``*.json``, ``*.safetensors``, ``*.model``);
  ``from-gguf`` de-quantizes a GGUF file with its tokenizer (:func:`yarnlab.model.gguf.convert_gguf`).

Only the standard library is imported at module level; ``inspect`` and ``show`` read ``config.json``
with numpy only, ``extend`` imports torch and transformers, ``fetch`` huggingface_hub and ``from-gguf`` gguf,
torch and transformers, each inside its handler.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _config_path(path: str) -> Path:
    from yarnlab.errors import UsageError

    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise UsageError(f"PATH: no config.json at {path!r} (give a checkpoint directory or a config.json)")
    return p


def describe(config: dict, seq_len: int | None = None) -> dict:
    """Geometry, scaling spec and attention factor of a Hugging Face ``config.json`` dict.

    For a dynamic spec the attention factor and s are those at ``seq_len`` (default L' = sL).
    """
    from yarnlab.errors import UsageError
    from yarnlab.rope.doctor import inspect_config
    from yarnlab.rope.spec import RopeSpec

    report = inspect_config(config)  # the same entries as `yarnlab inspect --json`
    spec, warnings = RopeSpec.from_dict(report["rope"][0]["spec"]), report["warnings"]
    if seq_len is not None and seq_len <= 0:
        raise UsageError(f"--seq-len: must be an integer > 0 (got {seq_len})")
    at = (seq_len or spec.extended_ctx) if spec.is_dynamic else None
    res = spec.compute(at)
    heads = config.get("num_attention_heads")
    yarnlab_only = config.get("yarnlab_rope") is not None
    return {
        "architecture": (config.get("architectures") or [config.get("model_type")])[0],
        "layers": config.get("num_hidden_layers"),
        "heads": heads,
        "kv_heads": config.get("num_key_value_heads", heads),
        "head_dim": spec.head_dim,
        "rotary_dim": spec.dim,
        "base": spec.base,
        "original_ctx": spec.original_ctx,
        "max_position_embeddings": report["rope"][0]["max_position_embeddings"],
        "spec": spec.to_dict(),
        "temperature_rule": spec.temperature_rule,
        "dynamic": spec.is_dynamic,
        "seq_len": at,
        "scale": res.scale,
        "attention_factor": res.attention_factor,
        "stored_as": "yarnlab_rope (yarnlab-only; vanilla transformers loads it UNSCALED, use "
                     "yarnlab.model.load_model)" if yarnlab_only else
                     ("rope_parameters (transformers-native)" if report["rope"][0]["transformers_native"]
                      else "rope_parameters"),
        "warnings": warnings,
        "rope": report["rope"],  # every RoPE setting (per layer type); the fields above are the first's
    }


def _cmd_inspect(args: argparse.Namespace) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.model.gguf import gguf_config, is_gguf_source
    from yarnlab.rope.cli import pair_table, print_pair_table
    from yarnlab.rope.doctor import inspect_config, report_lines

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
    report = {"config": args.config, **inspect_config(config)}
    if isinstance(config, dict) and "gguf" in config:
        report["gguf"] = config["gguf"]
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
        return 0
    print(f"config: {args.config}")
    for line in report_lines(report):
        print(line)
    if "gguf" in report:
        print(f"GGUF {report['gguf']['file']}: weights {report['gguf']['weights']}")
    if args.table:
        from yarnlab.rope.hf_read import read_hf_rope

        for entry in read_hf_rope(config).entries:
            if len(report["rope"]) > 1:
                print(f"pairs of {', '.join(entry.layer_types)}:")
            table = pair_table(entry.spec, entry.spec.extended_ctx if entry.spec.is_dynamic else None)
            table.pop("_result")
            print_pair_table(table, sys.stdout)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from yarnlab.model.gguf import is_gguf_source, read_config

    config = read_config(args.path if is_gguf_source(args.path) else _config_path(args.path))
    d = describe(config, args.seq_len)
    if "gguf" in config:
        d["gguf"] = config["gguf"]
    if args.json:
        json.dump(d, sys.stdout, indent=1)
        print()
        return 0
    spec = d["spec"]
    print(f"checkpoint {args.path}  ({d['architecture']})")
    print(f"  layers {d['layers']}  heads {d['heads']} (kv {d['kv_heads']})  head dim {d['head_dim']}  "
          f"rotary dim {d['rotary_dim']}  base {d['base']:g}")
    print(f"  L (original context) {d['original_ctx']}  max_position_embeddings {d['max_position_embeddings']}")
    print(f"  scaling: method {spec['method']}  factor {spec['factor']:g}  params {spec['params'] or '{}'}")
    print(f"  temperature rule {d['temperature_rule']} {spec['temperature_params'] or ''}".rstrip())
    where = f" at seq_len {d['seq_len']} (dynamic: s follows the length)" if d["dynamic"] else ""
    print(f"  s = {d['scale']:g}, attention factor m = sqrt(1/t) = {d['attention_factor']:.6g}{where}")
    print(f"  stored as {d['stored_as']}")
    for e in d["rope"]:
        layers = f" [{', '.join(e['layer_types'])}]" if e["layer_types"] else ""
        print(f"  rope{layers}: {e['method']}, rotary dim {e['rotary_dim']}, b {e['base']:g}, L {e['original_ctx']}, "
              f"s {e['factor']:g}, m {e['attention_factor']:.6g}, logit scale {e['logit_scale']:.6g}, "
              f"{e['layout']} layout")
    if "gguf" in d:
        print(f"  GGUF {d['gguf']['file']}: weights {d['gguf']['weights']}")
    for w in d["warnings"]:
        print(f"  warning: {w}")
    return 0


def _cmd_extend(args: argparse.Namespace) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.rope.cli import spec_from_args

    src = _config_path(args.path).parent
    out = Path(args.out)
    if out.exists():
        raise UsageError(f"OUT: {out} already exists (choose a new directory)")
    from yarnlab.io import atomic_path, provenance, write_json
    from yarnlab.model.patch import apply_scaling, load_model, original_config
    from yarnlab.rope.hf import read_hf_config

    model = load_model(src, reapply=False)
    unscaled, _ = read_hf_config({k: v for k, v in original_config(model).items() if k != "yarnlab_rope"})
    spec = spec_from_args(args, head_dim=unscaled.head_dim, base=unscaled.base,
                          original_ctx=unscaled.original_ctx, rotary_dim=unscaled.rotary_dim)
    apply_scaling(model, spec)
    with atomic_path(out) as tmp:  # the whole checkpoint folder appears at once
        model.save_pretrained(tmp)
        write_json(tmp / "yarnlab_extend.provenance.json",
                   provenance({"source": str(args.path), "spec": spec.to_dict()}))
    print(f"wrote {out} ({spec.method}, s = {spec.factor:g}, L = {spec.original_ctx})")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    """Download ``--repo`` into ``--out``; write ``metrics.jsonl`` (empty) and ``train_summary.json``
    (scenario ``hf_base``, the repository, the local path and the provenance)."""
    from huggingface_hub import snapshot_download

    from yarnlab.io import provenance, write_json

    path = snapshot_download(args.repo, local_dir=args.out, allow_patterns=["*.json", "*.safetensors", "*.model"])
    Path(args.out, "metrics.jsonl").touch()
    write_json(Path(args.out, "train_summary.json"), {"scenario": "hf_base", "repo": args.repo, "path": str(path),
                                                      "provenance": provenance({"repo": args.repo, "out": args.out})})
    print(f"wrote {args.out}: {args.repo}")
    return 0


def _cmd_from_gguf(args: argparse.Namespace) -> int:
    """Convert ``--source`` into ``--out`` unless it already holds a ``config.json``; write
    ``metrics.jsonl`` (empty) and ``train_summary.json`` (scenario ``gguf_base``, the file's
    :func:`~yarnlab.model.gguf.gguf_info`: sha256, tensor types, and the provenance)."""
    from yarnlab.io import atomic_write_text, provenance, write_json
    from yarnlab.model.gguf import convert_gguf, gguf_info

    out = Path(args.out)
    if not (out / "config.json").exists():
        convert_gguf(args.source, out)
    info = gguf_info(args.source)
    atomic_write_text(out / "metrics.jsonl", "")
    write_json(out / "train_summary.json", {"scenario": "gguf_base", "gguf": info,
                                            "provenance": provenance({"source": args.source, "out": args.out})})
    print(f"wrote {out}: {info['file']} ({info['weights']})")
    return 0


def register(subparsers) -> None:
    from yarnlab.rope.cli import add_spec_arguments

    p = subparsers.add_parser("inspect", help="rope doctor: read a Hugging Face config.json and report",
                              description="Report, per RoPE setting, the method, geometry, L, s, declared context, "
                                          "attention factor, logit scale and pitfalls. Exit 2 for a model without "
                                          "RoPE.")
    p.add_argument("config", metavar="CONFIG.json", help="a config.json, or a GGUF source (.gguf file, "
                   "pkg:<package>, smollm2-135m; needs the [real] extra)")
    p.add_argument("--table", action="store_true", help="also print the per-pair table")
    p.add_argument("--json", action="store_true", help='print JSON: {"rope": [one entry per RoPE setting], '
                   '"warnings": [...], ...}')
    p.set_defaults(func=_cmd_inspect)

    p = subparsers.add_parser("model", help="inspect, extend and fetch Hugging Face checkpoints",
                              description="Inspect or extend a Hugging Face causal-LM checkpoint, or fetch "
                              "a pretrained base model (Hugging Face repository or GGUF file).")
    sub = p.add_subparsers(dest="model_command", required=True)
    show = sub.add_parser("show", help="print a checkpoint's geometry, scaling spec and attention factor")
    show.add_argument("path", metavar="PATH", help="checkpoint directory, its config.json, or a GGUF source "
                      "(.gguf file, pkg:<package>, smollm2-135m)")
    show.add_argument("--seq-len", type=int, help="length at which to evaluate a dynamic spec (default L' = sL)")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(func=_cmd_show)
    ext = sub.add_parser("extend", help="apply a scaling spec to a checkpoint and save it to a new directory")
    ext.add_argument("path", metavar="PATH", help="source checkpoint directory")
    ext.add_argument("out", metavar="OUT", help="new checkpoint directory (must not exist)")
    add_spec_arguments(ext)
    ext.set_defaults(func=_cmd_extend)
    fe = sub.add_parser("fetch", help="download a Hugging Face base model with train_summary.json and metrics.jsonl",
                        description="Download a Hugging Face repository's *.json, *.safetensors and *.model files "
                        "into OUT and write an empty metrics.jsonl and a train_summary.json (scenario hf_base, "
                        "repository, path, provenance): the layout of a pretrained base model.")
    fe.add_argument("--repo", required=True, help="Hugging Face repository id, e.g. meta-llama/Llama-2-7b-hf")
    fe.add_argument("--out", required=True, help="checkpoint directory")
    fe.set_defaults(func=_cmd_fetch)
    fg = sub.add_parser("from-gguf", help="de-quantize a GGUF base model with train_summary.json and metrics.jsonl",
                        description="Convert a GGUF file into a float32 Hugging Face folder with its tokenizer "
                        "(skipped when OUT already holds a config.json) and write an empty metrics.jsonl and a "
                        "train_summary.json (scenario gguf_base, the file's sha256 and tensor types, provenance): "
                        "the layout of a pretrained base model. Needs the [real] extra.")
    fg.add_argument("--source", required=True, help="a .gguf file, a directory holding one, pkg:<package> or "
                    "smollm2-135m")
    fg.add_argument("--out", required=True, help="checkpoint directory")
    fg.set_defaults(func=_cmd_from_gguf)
