"""Fetch a Hugging Face base checkpoint (gpu-llama2 config) into ``--out`` and write a
``train_summary.json`` (provenance: repository and revision) and an empty ``metrics.jsonl`` so the
fine-tuning rules see the same layout as a pretrained tiny model."""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    from huggingface_hub import snapshot_download

    from yarnlab.io import provenance, write_json

    path = snapshot_download(a.repo, local_dir=a.out, allow_patterns=["*.json", "*.safetensors", "*.model"])
    Path(a.out, "metrics.jsonl").touch()
    write_json(Path(a.out, "train_summary.json"), {"scenario": "hf_base", "repo": a.repo, "path": str(path),
                                                    "provenance": provenance(vars(a))})


if __name__ == "__main__":
    main()
