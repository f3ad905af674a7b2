"""Shared pytest set-up: hypothesis profiles, and modules skipped (not broken) without an optional stack.

``ci`` (the default) runs 300 examples per property with no deadline (the machines are shared and
noisy); ``dev`` runs 50 for quick local loops; ``nightly`` 10,000 (BENCHMARKS.md). Pick with HYPOTHESIS_PROFILE.

A test module whose import fails because torch, transformers or snakemake is not installed is reported
as skipped, naming the missing package, instead of as a collection error: the theory and claims tests
still run on a numpy-only install. Any other import error is still an error. Tests that run the
Snakemake command line carry the ``snakemake`` marker and are skipped when it is not installed.

Tests that start another Python (Snakemake, the ``yarnlab`` command line, ``python -c``, worker processes),
train for long, or load the real SmolLM2 model carry the ``slow`` marker: ``python -m pytest -m "not slow"``
is the fast run, the plain command (CI's) runs everything. A ``git`` call to set up or read a repository
does not make a test slow.

Shared tiny inputs, built once per session; a test that writes into one copies it first:

- ``micro_checkpoint``: ``build_model("micro")`` saved as a Hugging Face checkpoint folder;
- ``small_base``: ``build_model(tiny_train.SMALL, seed=0)`` saved likewise (a one-layer base to fine-tune);
- ``text_corpus``: a folder of the eight documents of ``tiny_train.TEXT`` (``d0.txt`` ... ``d7.txt``).

The two checkpoints need torch and are skipped without it.
"""

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("nightly", max_examples=10_000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: packages a module may need whose absence skips it
OPTIONAL = ("torch", "transformers", "snakemake")


def missing_optional(exc: BaseException | None) -> str | None:
    """The optional package whose absence caused ``exc`` (an import error, possibly wrapped), else None."""
    while exc is not None:
        if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] in OPTIONAL:
            return exc.name.split(".")[0]
        exc = exc.__cause__
    return None


class _Module(pytest.Module):
    def _getobj(self):
        try:
            return super()._getobj()
        except self.CollectError as exc:
            name = missing_optional(exc)
            if name is None:
                raise
            pytest.skip(f"{name} is not installed", allow_module_level=True)


def pytest_pycollect_makemodule(module_path, parent):
    return _Module.from_parent(parent, path=module_path)


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("snakemake") is not None:
        return
    skip = pytest.mark.skip(reason="snakemake is not installed")
    for item in items:
        if "snakemake" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def micro_checkpoint(tmp_path_factory):
    """A checkpoint folder of ``build_model("micro")`` (seed 0); read-only: copy it before changing it."""
    pytest.importorskip("torch")
    from yarnlab.model.tiny import build_model

    path = tmp_path_factory.mktemp("micro") / "ckpt"
    build_model("micro").save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def small_base(tmp_path_factory):
    """A checkpoint folder of ``build_model(SMALL, seed=0)``; read-only: copy it before changing it."""
    pytest.importorskip("torch")
    from tiny_train import SMALL

    from yarnlab.model.tiny import build_model

    path = tmp_path_factory.mktemp("small") / "base"
    build_model(SMALL, seed=0).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def text_corpus(tmp_path_factory):
    """A corpus folder holding ``tiny_train.TEXT``, one file per document; read-only."""
    from tiny_train import TEXT

    path = tmp_path_factory.mktemp("text") / "corpus"
    path.mkdir()
    for i, t in enumerate(TEXT):
        (path / f"d{i}.txt").write_bytes(t)
    return path
