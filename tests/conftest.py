"""Shared pytest set-up: hypothesis profiles.

``ci`` (the default) runs 300 examples per property with no deadline (the machines are shared and
noisy); ``dev`` runs 50 for quick local loops; ``nightly`` 10,000 (BENCHMARKS.md). Pick with HYPOTHESIS_PROFILE.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("nightly", max_examples=10_000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
