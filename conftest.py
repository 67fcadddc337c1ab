"""Hypothesis profiles: deterministic by default, thorough with NC_VERIFY_HYPOTHESIS=thorough."""

import os

# The suites multiply many small matrices (tangent dimensions ~10^2); BLAS threads only add
# contention there, and on a busy 2-core machine a threaded eigh of a 100 x 100 matrix can be
# 100x slower. Must be set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    derandomize=False,
    database=None,
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("NC_VERIFY_HYPOTHESIS", "default"))
