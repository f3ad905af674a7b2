"""A real pretrained base model from a GGUF file (config ``base.source: gguf``): de-quantize it into
a Hugging Face folder with its tokenizer (:func:`yarnlab.model.gguf.convert_gguf`) and write a
``train_summary.json`` (provenance: the file, its sha256 and tensor types) and an empty
``metrics.jsonl``, so the later rules see the same layout as a pretrained tiny model."""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True, help="a .gguf file, pkg:<package> or smollm2-135m")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    from yarnlab.io import atomic_write_text, provenance, write_json
    from yarnlab.model.gguf import convert_gguf, gguf_info

    out = Path(a.out)
    if not (out / "config.json").exists():
        convert_gguf(a.source, out)
    info = gguf_info(a.source)
    atomic_write_text(out / "metrics.jsonl", "")
    write_json(out / "train_summary.json", {"scenario": "gguf_base", "gguf": info,
                                            "provenance": provenance(vars(a))})
    print(f"wrote {out}: {info['file']} ({info['weights']})")


if __name__ == "__main__":
    main()
