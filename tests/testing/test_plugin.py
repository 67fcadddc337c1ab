"""The pytest plugin: seeded ``rng`` per test, ``--nc-verify-profile``, the claims summary, no import cost.

The subprocess runs disable plugin autoloading and load the plugin with ``-p`` so they test
this checkout's plugin whatever is installed (the installed entry point is tested in
``test_installed.py``).
"""

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from _nc_verify_pytestplugin import node_seed, summary_lines

ROOT = Path(__file__).resolve().parents[2]

USER_TESTS = textwrap.dedent(r'''
    import pytest
    from hypothesis import settings
    from nc_verify import UFMProblem, etf_point
    from nc_verify.testing import assert_critical, assert_strict_saddle

    def test_a(rng):
        print("\nDRAW a", rng.integers(2**62))

    def test_b(rng):
        print("\nDRAW b", rng.integers(2**62))

    def test_profile():
        s = settings()
        print("\nPROFILE", s.max_examples, s.derandomize)

    def test_claims():
        p = UFMProblem(4, 3, 1, 1.0)
        W, H = etf_point(4, 3, 1)
        assert_critical(p, W, H)
        with pytest.raises(AssertionError):
            assert_strict_saddle(p, W, H)

    def test_fails(rng):
        assert rng.random() > 2.0
''')


def _run(tmp_path, *args, env_extra=None, tests=USER_TESTS, returncode=1):
    (tmp_path / "test_user.py").write_text(tests)
    # hypothesis loads its own "ci" profile when it sees a CI variable: the user suite runs without them
    ci_vars = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "BUILDKITE", "CIRCLECI", "TRAVIS",
               "JENKINS_URL", "CODEBUILD_BUILD_ID", "BITBUCKET_COMMIT")
    env = {k: v for k, v in os.environ.items() if k not in ("NC_VERIFY_HYPOTHESIS", "PYTEST_ADDOPTS", *ci_vars)}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(ROOT), **(env_extra or {}))
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "_nc_verify_pytestplugin", "-p", "no:cacheprovider",
                          "-s", "-rA", "test_user.py", *args], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == returncode, out.stdout + out.stderr          # USER_TESTS: exactly test_fails fails
    return out.stdout


def _lines(stdout, tag):
    return [ln for ln in stdout.splitlines() if ln.startswith(tag)]


def test_node_seed_is_sha256_of_node_id():
    nodeid = "tests/test_x.py::test_y[1]"
    assert node_seed(nodeid) == int.from_bytes(hashlib.sha256(nodeid.encode()).digest()[:8], "little")
    assert node_seed(nodeid) != node_seed("tests/test_x.py::test_y[2]")


def test_rng_fixture_seeded_from_node_id(rng, request):
    assert rng.random() == np.random.default_rng(node_seed(request.node.nodeid)).random()


def test_plugin_in_a_user_suite(tmp_path):
    first = _run(tmp_path, "--nc-verify-profile", "deterministic")
    again = _run(tmp_path, "--nc-verify-profile", "deterministic")
    draws = _lines(first, "DRAW")
    assert len(draws) == 2 and draws == _lines(again, "DRAW")                  # reproducible
    assert draws[0].split()[2] != draws[1].split()[2]                          # one stream per test
    expected = np.random.default_rng(node_seed("test_user.py::test_a")).integers(2**62)
    assert draws[0] == f"DRAW a {expected}"
    assert _lines(first, "PROFILE") == ["PROFILE 25 True"]
    assert "nc-verify: hypothesis profile nc-verify-deterministic" in first
    assert f"rng seed {node_seed('test_user.py::test_fails')}" in first        # shown on failure
    assert _lines(first, "nc-verify claims:") == ["nc-verify claims: assert_critical 1"]
    assert _lines(first, "nc-verify negative controls:") == [
        "nc-verify negative controls: 1, all failed as they should (assert_strict_saddle 1 failed)"]


@pytest.mark.parametrize("args, env, expected", [
    (("--nc-verify-profile", "thorough"), None, "PROFILE 500 False"),
    ((), {"NC_VERIFY_HYPOTHESIS": "thorough"}, "PROFILE 500 False"),
    ((), None, "PROFILE 100 False"),                                          # hypothesis's own default
])
def test_profile_selection(tmp_path, args, env, expected):
    assert _lines(_run(tmp_path, *args, env_extra=env), "PROFILE") == [expected]


CLAIMS = textwrap.dedent(r'''
    import pytest
    from nc_verify import UFMProblem, etf_point
    from nc_verify.testing import UndecidedError, assert_critical, assert_global_minimizer, assert_strict_saddle

    P = UFMProblem(5, 3, 2, 0.7)

    def test_negative_controls():
        W, H = etf_point(5, 3, 2)
        assert_critical(P, W, H)
        with pytest.raises(AssertionError):
            assert_strict_saddle(P, W, H)              # the ETF is no saddle: expected to fail
        with pytest.raises(TypeError):
            assert_global_minimizer("not a problem", W, H)

    @pytest.mark.xfail(strict=True)
    def test_expected_failure():
        assert_strict_saddle(P, *etf_point(5, 3, 2))

    def test_real_failure():
        assert_strict_saddle(P, *etf_point(5, 3, 2))   # a claim that is false: a real failure
''')


def test_summary_separates_negative_controls(tmp_path):
    """Claims raising inside passing (or xfail) tests are negative controls; one in a failing test is real."""
    out = _run(tmp_path, tests=CLAIMS)
    assert _lines(out, "nc-verify claims:") == ["nc-verify claims: assert_critical 1, assert_strict_saddle 1 (1 FAILED)"]
    assert _lines(out, "nc-verify negative controls:") == [
        "nc-verify negative controls: 3, all failed as they should "
        "(assert_global_minimizer 1 error, assert_strict_saddle 2 failed)"]


def test_summary_lines():
    from collections import Counter

    calls = Counter({("assert_critical", "passed"): 2, ("assert_critical", "failed"): 3,
                     ("assert_theorem2", "undecided"): 1, ("assert_theorem1", "failed"): 1})
    controls = Counter({("assert_critical", "failed"): 2, ("assert_theorem1", "failed"): 1})
    assert summary_lines(calls, controls) == [
        ("nc-verify claims: assert_critical 3 (1 FAILED), assert_theorem2 1 (1 UNDECIDED)", True),
        ("nc-verify negative controls: 3, all failed as they should "
         "(assert_critical 2 failed, assert_theorem1 1 failed)", False)]
    # every failure a control: nothing alarms, and a helper used only as a control is no claim
    assert summary_lines(controls, controls) == [
        ("nc-verify negative controls: 3, all failed as they should "
         "(assert_critical 2 failed, assert_theorem1 1 failed)", False)]
    passed = Counter({("assert_critical", "passed"): 4})
    assert summary_lines(passed, Counter()) == [("nc-verify claims: assert_critical 4", False)]
    assert summary_lines(Counter(), Counter()) == []


def test_loading_the_plugin_imports_neither_numpy_nor_nc_verify():
    """pytest loads the plugin module; nc-verify and numpy come in only when a test asks for them."""
    code = ("import sys, _nc_verify_pytestplugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'nc_verify', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
