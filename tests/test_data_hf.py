"""Hub data-set loaders on local fixtures (no download); skipped without ``datasets``."""

import json

import pytest

from yarnlab.data.corpus import load_directory
from yarnlab.data.hf import HF_DATASETS, TextDocument, export_documents, load_hf_documents
from yarnlab.errors import UsageError


def test_unknown_dataset_is_a_usage_error():
    with pytest.raises(UsageError, match="dataset"):
        load_hf_documents("wikitext")


def test_in_memory_dataset_filters_by_length(tmp_path):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "gov.json"
    path.write_text("".join(json.dumps({"report": r, "summary": ""}) + "\n" for r in ["short", "x" * 500, "y" * 800]))
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    assert isinstance(ds, datasets.Dataset)
    docs = load_hf_documents("govreport", split="test", source=ds, min_bytes=100)
    assert [d.name for d in docs] == ["govreport/test/1", "govreport/test/2"]
    assert docs[1].manifest_row()["bytes"] == 800
    assert len(load_hf_documents("govreport", source=ds, max_docs=1)) == 1


def test_local_jsonl_files(tmp_path):
    pytest.importorskip("datasets")
    path = tmp_path / "pg19.jsonl"
    path.write_text("".join(json.dumps({"text": f"book {i} " * 100}) + "\n" for i in range(3)))
    docs = load_hf_documents("pg19", split="test", source=str(path), cache_dir=str(tmp_path / "c"))
    assert len(docs) == 3 and docs[2].text.startswith("book 2")
    with pytest.raises(UsageError, match="field"):
        load_hf_documents("pg19", source=str(path), field="report", cache_dir=str(tmp_path / "c"))


def test_registry_names_a_text_field():
    assert set(HF_DATASETS) == {"pg19", "proof-pile", "govreport"}
    assert all(e["field"] for e in HF_DATASETS.values())


def test_exported_documents_form_a_directory_corpus(tmp_path):
    docs = [TextDocument(f"pg19/test/{i}", f"book {i} " * (10 + i)) for i in range(3)]
    manifest = export_documents(docs, tmp_path / "pg19")
    corpus = load_directory(tmp_path / "pg19")
    assert sorted(d.name for d in corpus.documents) == sorted(r["file"] for r in manifest["documents"])
    assert [d.read_bytes() for d in sorted(corpus.documents, key=lambda d: d.name)] == [d.data for d in docs]
