"""pytest plugin of nc-verify (entry point ``pytest11``: ``nc_verify``), active wherever nc-verify is installed.

* ``rng`` fixture: a ``numpy.random.Generator`` seeded from the test's node id, so every
  test gets its own reproducible stream (the seed is shown when the test fails).
* ``--nc-verify-profile {deterministic,thorough}`` (or the environment variable
  ``NC_VERIFY_HYPOTHESIS``) loads one of the hypothesis profiles of
  :data:`nc_verify.testing.strategies.PROFILES`; without either, hypothesis's own
  settings are left alone.
* A summary of the claims checked: the ``assert_*`` helpers of :mod:`nc_verify.testing`
  called during the run, counted by name and outcome, with the negative controls (a
  helper that raised inside a test that passed: the test expected it) on a line of
  their own, apart from real failures.

The module lives outside the ``nc_verify`` package, as hypothesis's own plugin does, so that
pytest loading it imports neither nc-verify nor numpy: a suite that never asks for ``rng``,
a profile or a helper pays nothing for it (``benchmarks/bench_plugin.py`` measures that).
Disable it with ``pytest -p no:nc_verify``.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import Counter

import pytest

__all__ = [
    "PROFILE_CHOICES", "PROFILE_ENV", "node_seed", "pytest_addoption", "pytest_configure",
    "pytest_report_header", "pytest_runtest_makereport", "pytest_terminal_summary", "rng", "summary_lines",
]

PROFILE_ENV = "NC_VERIFY_HYPOTHESIS"
PROFILE_CHOICES = ("deterministic", "thorough")
_PROFILE_KEY = pytest.StashKey[str]()
_ASSERTIONS = "nc_verify.testing.assertions"
#: Helper outcomes that mean the claim did not hold (its exception propagated out of the helper).
_RAISED = ("failed", "undecided", "error")
_SEEN: Counter = Counter()          # helper calls already attributed to a test report
_CONTROLS: Counter = Counter()      # (name, outcome) raised inside a test that did not fail


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
    import numpy as np

    seed = node_seed(request.node.nodeid)
    request.node.user_properties.append(("nc_verify_seed", seed))
    return np.random.default_rng(seed)


def _helper_calls() -> Counter:
    """``Counter((name, outcome))`` of the helpers' calls so far; empty if no helper was ever imported."""
    assertions = sys.modules.get(_ASSERTIONS)
    return Counter(assertions._RUNS) if assertions is not None else Counter()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "rng" in getattr(item, "fixturenames", ()):
        report.sections.append(("nc-verify", f"rng seed {node_seed(item.nodeid)} "
                                             f"(numpy.random.default_rng; from the node id)"))
    # the helper calls since the last report belong to this phase of this test; a helper that
    # raised while the test still passed (pytest.raises, an xfail) was a negative control
    calls = _helper_calls()
    new = calls - _SEEN
    _SEEN.update(new)
    if not report.failed:
        _CONTROLS.update({key: count for key, count in new.items() if key[1] in _RAISED})


def pytest_report_header(config):
    name = config.stash.get(_PROFILE_KEY, None)
    if name is not None:
        return f"nc-verify: hypothesis profile nc-verify-{name}"
    return None


def summary_lines(calls: Counter, controls: Counter) -> list[tuple[str, bool]]:
    """The claims summary: ``[(line, is_alarm), ...]``.

    Parameters
    ----------
    calls : Counter
        ``{(helper name, outcome): count}`` of every helper call (outcomes ``passed``,
        ``failed``, ``undecided``, ``error``).
    controls : Counter
        The part of ``calls`` that raised inside tests that did not fail: negative controls.

    Returns
    -------
    list of (str, bool)
        ``"nc-verify claims: assert_critical 3, assert_strict_saddle 2 (1 FAILED)"`` for the
        claims checked for real (upper case and ``is_alarm`` where one failed, was undecided
        or raised an error), then ``"nc-verify negative controls: 4, all failed as they
        should (assert_strict_saddle 3 failed, assert_theorem1 1 error)"``.
    """
    real = Counter(calls)
    real.subtract(controls)
    names = sorted({name for (name, _), count in real.items() if count > 0})
    parts, alarm = [], False
    for name in names:
        total = sum(real[name, k] for k in ("passed", *_RAISED))
        bad = ", ".join(f"{real[name, k]} {k.upper()}" for k in _RAISED if real[name, k] > 0)
        alarm = alarm or bool(bad)
        parts.append(f"{name} {total}" + (f" ({bad})" if bad else ""))
    lines = [("nc-verify claims: " + ", ".join(parts), alarm)] if parts else []
    n_controls = sum(controls.values())
    if n_controls:
        which = ", ".join(f"{name} {count} {outcome}" for (name, outcome), count in sorted(controls.items()) if count)
        lines.append((f"nc-verify negative controls: {n_controls}, all failed as they should ({which})", False))
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line, alarm in summary_lines(_helper_calls(), _CONTROLS):
        terminalreporter.write_line(line, red=alarm, bold=alarm)
