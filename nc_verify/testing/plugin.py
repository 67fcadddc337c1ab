"""The pytest plugin of nc-verify, under its documented name (``pytest -p no:nc_verify`` disables it).

* ``rng`` fixture: a ``numpy.random.Generator`` seeded from ``sha256`` of the test's node id
  (``node_seed``), shown when the test fails.
* ``--nc-verify-profile {deterministic,thorough}`` (or ``NC_VERIFY_HYPOTHESIS``): one of the
  hypothesis profiles of :data:`nc_verify.testing.strategies.PROFILES`.
* The claims summary (``summary_lines``): the ``assert_*`` helpers called, by name and
  outcome, and on a line of their own the negative controls -- helpers that raised inside a
  test that passed (``pytest.raises``, xfail) -- so that only real failures alarm.

The code is the top-level module ``_nc_verify_pytestplugin``, which the ``pytest11`` entry
point ``nc_verify`` names: pytest loads it without importing this package or numpy, so a
suite that uses none of it pays nothing (``benchmarks/bench_plugin.py``). Importing this
module gives that same module object (``pytest -p nc_verify.testing.plugin`` works with
plugin autoloading off, and never registers the hooks twice).
"""

import sys

import _nc_verify_pytestplugin

sys.modules[__name__] = _nc_verify_pytestplugin
