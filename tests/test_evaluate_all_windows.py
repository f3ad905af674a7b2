"""`yarnlab eval positions --all-windows`: every consecutive window of each document, ids per window."""

from __future__ import annotations

import numpy as np

from yarnlab.claims.stats import work_of
from yarnlab.evaluate.cli_regime import all_windows


def test_all_windows_cut_every_document_and_keep_the_work():
    docs = [np.arange(100), np.arange(1000, 1070)]
    record = {"data_manifest": {"documents": [{"id": "hamlet@0"}, {"id": "lear@4096"}]}}
    out = all_windows(docs, 32, record)
    assert [len(w) for w in out] == [32] * 5  # 3 windows of the first, 2 of the second (tails dropped)
    assert np.array_equal(out[1], np.arange(32, 64)) and np.array_equal(out[4], np.arange(1032, 1064))
    ids = [d["id"] for d in record["data_manifest"]["documents"]]
    assert ids == ["hamlet@0+0", "hamlet@0+32", "hamlet@0+64", "lear@4096+0", "lear@4096+32"]
    assert {work_of(i) for i in ids} == {"hamlet", "lear"}
