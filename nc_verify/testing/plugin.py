"""pytest plugin of nc-verify (entry point ``pytest11``: ``nc_verify``), active wherever nc-verify is installed.

* ``rng`` fixture: a ``numpy.random.Generator`` seeded from the test's node id, so every
  test gets its own reproducible stream (the seed is shown when the test fails).
* ``--nc-verify-profile {deterministic,thorough}`` (or the environment variable
  ``NC_VERIFY_HYPOTHESIS``) loads one of the hypothesis profiles of
  :data:`nc_verify.testing.strategies.PROFILES`; without either, hypothesis's own
  settings are left alone.
* A summary line of the claims checked: the ``assert_*`` helpers of
  :mod:`nc_verify.testing` called during the run, counted by name and outcome.

Disable it with ``pytest -p no:nc_verify``.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from nc_verify.testing.assertions import claims_run

PROFILE_ENV = "NC_VERIFY_HYPOTHESIS"
PROFILE_CHOICES = ("deterministic", "thorough")
_PROFILE_KEY = pytest.StashKey[str]()


def node_seed(nodeid: str) -> int:
    """The ``rng`` fixture's seed: the first 8 bytes of ``sha256(nodeid)`` as an unsigned integer."""
    return int.from_bytes(hashlib.sha256(nodeid.encode("utf-8")).digest()[:8], "little")


def pytest_addoption(parser):
    group = parser.getgroup("nc-verify")
    group.addoption("--nc-verify-profile", choices=PROFILE_CHOICES, default=None,
                    help=f"load nc-verify's hypothesis profile (default: ${PROFILE_ENV} if set, "
                         "else hypothesis's own settings)")


def pytest_configure(config):
    name = config.getoption("nc_verify_profile") or os.environ.get(PROFILE_ENV) or None
    if name is None:
        return
    if name not in PROFILE_CHOICES:
        raise pytest.UsageError(f"{PROFILE_ENV}={name!r}: expected one of {', '.join(PROFILE_CHOICES)}")
    try:
        from nc_verify.testing.strategies import load_profile
    except ImportError as exc:
        raise pytest.UsageError(f"--nc-verify-profile needs hypothesis ({exc}); "
                                'install it with pip install "nc-verify[test]"') from None
    load_profile(name)
    config.stash[_PROFILE_KEY] = name


@pytest.fixture
def rng(request):
    """A ``numpy.random.Generator`` seeded from the test's node id (:func:`node_seed`)."""
    seed = node_seed(request.node.nodeid)
    request.node.user_properties.append(("nc_verify_seed", seed))
    return np.random.default_rng(seed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "rng" in getattr(item, "fixturenames", ()):
        report.sections.append(("nc-verify", f"rng seed {node_seed(item.nodeid)} "
                                             f"(numpy.random.default_rng; from the node id)"))


def pytest_report_header(config):
    name = config.stash.get(_PROFILE_KEY, None)
    if name is not None:
        return f"nc-verify: hypothesis profile nc-verify-{name}"
    return None


def summary_line(claims: dict) -> str:
    """``"nc-verify claims: assert_critical 3 (1 failed), ..."`` from :func:`~nc_verify.testing.claims_run`."""
    parts = []
    for name, outcomes in claims.items():
        total = sum(outcomes.values())
        other = ", ".join(f"{outcomes[k]} {k}" for k in ("failed", "undecided", "error") if outcomes.get(k))
        parts.append(f"{name} {total}" + (f" ({other})" if other else ""))
    return "nc-verify claims: " + ", ".join(parts)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    claims = claims_run()
    if claims:
        terminalreporter.write_line(summary_line(claims))
