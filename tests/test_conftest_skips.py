"""The test suite's own plumbing: which import errors skip a module (tests/conftest.py)."""

from conftest import missing_optional


def _wrapped(inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except ImportError as e:
            raise RuntimeError("collect error") from e
    except RuntimeError as outer:
        return outer


def test_only_a_missing_optional_package_skips():
    assert missing_optional(_wrapped(ModuleNotFoundError("No module named 'torch'", name="torch"))) == "torch"
    assert missing_optional(ModuleNotFoundError("x", name="transformers.models")) == "transformers"
    assert missing_optional(_wrapped(ModuleNotFoundError("No module named 'numpy'", name="numpy"))) is None
    assert missing_optional(_wrapped(ImportError("cannot import name 'foo' from 'yarnlab'"))) is None
    assert missing_optional(None) is None
