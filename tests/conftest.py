"""Shared pytest set-up: hypothesis profiles, and modules skipped (not broken) without an optional stack.

``ci`` (the default) runs 300 examples per property with no deadline (the machines are shared and
noisy); ``dev`` runs 50 for quick local loops; ``nightly`` 10,000 (BENCHMARKS.md). Pick with HYPOTHESIS_PROFILE.

A test module whose import fails because torch, transformers or snakemake is not installed is reported
as skipped, naming the missing package, instead of as a collection error: the theory and claims tests
still run on a numpy-only install. Any other import error is still an error. Tests that run the
Snakemake command line carry the ``snakemake`` marker and are skipped when it is not installed.
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
