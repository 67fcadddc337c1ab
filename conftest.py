"""Repository test configuration: one BLAS thread, and nc-verify's pytest plugin with its deterministic profile.

The plugin (:mod:`_nc_verify_pytestplugin`: ``rng`` fixture, ``--nc-verify-profile``,
claims summary) is registered by the package's ``pytest11`` entry point ``nc_verify`` when
nc-verify is installed; it is loaded from here when plugin autoloading is off or nc-verify is
not installed. Hypothesis
runs the deterministic profile unless ``--nc-verify-profile`` or
``NC_VERIFY_HYPOTHESIS=thorough`` says otherwise.
"""

import os
from importlib.metadata import entry_points

# The suites multiply many small matrices (tangent dimensions ~10^2); BLAS threads only add
# contention there, and on a busy 2-core machine a threaded eigh of a 100 x 100 matrix can be
# 100x slower. Must be set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NC_VERIFY_HYPOTHESIS", "deterministic")

if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") or not any(
        ep.name == "nc_verify" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["_nc_verify_pytestplugin"]
