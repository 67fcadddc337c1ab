"""Every assertion helper passes on a true claim and raises on a false one, with the numbers.

Expected numbers in the messages are computed here by the library's public functions
(``gradient_norm``, ``nc_metrics``, the classification report), never parsed back from
the helper's own output alone.
"""

import dataclasses
import re
import sys

import numpy as np
import pytest

from nc_verify import (
    UFMProblem,
    classify_critical_point,
    nc_metrics,
    theorem1_bound,
)
from nc_verify.objective import families as F
from nc_verify.objective.oblique import project_columns
from nc_verify.objective.problem import HessianOperator
from nc_verify.testing import (
    FAIL,
    PASS,
    UNDECIDED,
    UndecidedError,
    assert_certified_minimum,
    assert_certified_saddle,
    assert_critical,
    assert_derivatives,
    assert_global_minimizer,
    assert_neural_collapse,
    assert_not_critical,
    assert_strict_saddle,
    assert_theorem1,
    assert_theorem2,
    claims_run,
)
from nc_verify.testing import assertions as A
from nc_verify.utils.reports import Row, combine


@pytest.fixture
def p():
    return UFMProblem(6, 4, 2, 1.0)


def _perturbed(W, rng, size=1e-3):
    Wp = W + size * rng.standard_normal(W.shape)
    return Wp / np.linalg.norm(Wp, axis=0)


def _drop_curvature(monkeypatch):
    """Eq. (8) without its ddiag curvature terms: the projected Euclidean Hessian."""
    def wrong(self, dW, dH):
        hW, hH = self.euclidean(dW, dH)
        return project_columns(self.W, hW), project_columns(self.H, hH)

    monkeypatch.setattr(HessianOperator, "__call__", wrong)
    # the dense Hessian is assembled from closed-form blocks: drop the same terms there
    import nc_verify.objective.problem as P

    blocks = P.riemannian_hessian_matrix

    def wrong_matrix(tau, W, H, G, hess, row, col, UW, UH):
        r = W.shape[-2] - 1
        return blocks(tau, W, H, G, hess, row, col, UW, UH) + np.diag(
            np.concatenate([np.repeat(row, r), np.repeat(col, r)]))

    monkeypatch.setattr(P, "riemannian_hessian_matrix", wrong_matrix)


class DroppedCurvature(UFMProblem):
    """Problem (4) whose Riemannian Hessian lacks eq. (8)'s curvature terms."""

    def riemannian_hessian(self, W, H, dW, dH):
        hW, hH = self.euclidean_hessian(W, H, dW, dH)
        return project_columns(W, hW), project_columns(H, hH)


# ------------------------------------------------------------------ adapter
def test_derivatives_true(p):
    assert_derivatives(p, rng=0)
    assert_derivatives(UFMProblem(5, 3, 2, 2.0, loss="focal:2"), rng=1)


def test_derivatives_dropped_curvature_raises():
    p = DroppedCurvature(6, 4, 2, 1.0)
    with pytest.raises(AssertionError) as e:
        assert_derivatives(p, rng=0)
    assert not isinstance(e.value, UndecidedError)
    msg = str(e.value)
    assert "[FAIL] eq. (7)-(8) Hessian Taylor slope >= 3" in msg
    assert "[FAIL] Hessian-vector product == autograd" in msg
    assert "[pass] eq. (5)-(6) gradient Taylor slope >= 2" in msg      # the gradient is still right
    assert "relative differences <= 1e-10" in msg


# ------------------------------------------------------------------ criticality
def test_critical_true_and_perturbed(p, rng):
    W, H = F.global_etf(p)
    assert_critical(p, W, H)
    Wp = _perturbed(W, rng)
    with pytest.raises(AssertionError) as e:
        assert_critical(p, Wp, H)
    msg = str(e.value)
    assert f"||grad f|| = {p.gradient_norm(Wp, H):.3e}" in msg
    assert "rounding level" in msg and "not_critical" in msg


def test_critical_point_taken_as_given(p):
    """A point 1e-10 off the ETF is critical to sqrt(eps) but not to rounding: no refinement."""
    W, H = F.global_etf(p)
    Wp = _perturbed(W, np.random.default_rng(3), 1e-10)
    assert classify_critical_point(p, Wp, H).kind == "global_minimizer"     # refined
    with pytest.raises(AssertionError):
        assert_critical(p, Wp, H)


def test_not_critical(p):
    W = np.eye(6)[:, :4]                            # orthonormal W = Hbar: gradient 0.067 (FACTS)
    assert_not_critical(p, W, np.repeat(W, 2, axis=1))
    with pytest.raises(AssertionError, match=r"is within its rounding level"):
        assert_not_critical(p, *F.global_etf(p))


@pytest.mark.parametrize("helper", [assert_critical, assert_strict_saddle, assert_global_minimizer])
def test_non_critical_block_shows_the_gradient_only(helper):
    """At a point that is not critical the block compares ||grad f|| with its rounding level.

    lambda_min, its resolution and f - bound are statements about critical points (at
    orthonormal W = Hbar the "resolution" of f - bound is ||grad f||^2 / sigma, a meaningless
    number of order 1e2): a block that shows them fails here.
    """
    p = UFMProblem(5, 3, 2, 1.5)                    # a size no other test names
    W = np.eye(5)[:, :3]
    H = np.repeat(W, 2, axis=1)
    r = classify_critical_point(p, W, H, refine=False)
    assert r.kind == "not_critical"
    with pytest.raises(AssertionError) as e:
        helper(p, W, H)
    msg = str(e.value)
    value = f"{r.gradient_norm:.3e} = {r.gradient_norm / r.gradient_tol:.3g} x its rounding level {r.gradient_tol:.3e}"
    assert re.search(r"\|\|grad f\|\|: +" + re.escape(value) + "\n", msg), msg
    for meaningless in ("lambda_min", "resolution", "f - bound", "zero eigenvalues", "margin"):
        assert meaningless not in msg, (meaningless, msg)


# ------------------------------------------------------------------ second order
def test_strict_saddle_true(p):
    assert_strict_saddle(p, *F.anti_aligned_etf(p))


def test_etf_called_a_saddle_raises(p):
    W, H = F.global_etf(p)
    r = classify_critical_point(p, W, H)
    with pytest.raises(AssertionError) as e:
        assert_strict_saddle(p, W, H)
    assert not isinstance(e.value, UndecidedError)
    msg = str(e.value)
    assert "classified 'global_minimizer', not 'strict_saddle'" in msg
    assert f"lambda_min:       {r.lambda_min:.6e}" in msg and f"resolution:       {r.resolution:.3e}" in msg
    assert f"{r.n_zero} (rotation orbit {r.orbit_dimension})" in msg


def test_degenerate_point_is_undecided_saddle():
    """d = 2, W = u 1^T, H = v 1^T with v _|_ u: spectrum [0, 0, 0, 0.5], orbit 1: undecided."""
    p = UFMProblem(2, 2, 1, 1.0)
    W, H = np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(UndecidedError, match="flat directions beyond the rotation orbit"):
        assert_strict_saddle(p, W, H)


def test_global_minimizer_true(p, rng):
    assert_global_minimizer(p, *F.global_etf(p))
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    W, H = F.global_etf(p)
    assert_global_minimizer(p, Q @ W, Q @ H)                     # anywhere on the orbit


def test_saddle_called_a_minimum_raises(p):
    with pytest.raises(AssertionError) as e:
        assert_global_minimizer(p, *F.anti_aligned_etf(p))
    assert not isinstance(e.value, UndecidedError)
    assert "classified 'strict_saddle', not 'global_minimizer'" in str(e.value)


def test_minimizer_with_dropped_curvature_is_undecided(p, monkeypatch):
    """Without eq. (8)'s curvature terms the ETF shows negative curvature at the bound: inconsistent."""
    W, H = F.global_etf(p)
    _drop_curvature(monkeypatch)
    with pytest.raises(UndecidedError, match="inconsistent"):
        assert_global_minimizer(p, W, H)


def test_minimizer_zeros_must_equal_orbit(p, monkeypatch):
    """A minimiser whose zero count differs from the orbit dimension is undecided (zeros = orbit)."""
    W, H = F.global_etf(p)
    r = classify_critical_point(p, W, H)
    monkeypatch.setattr(A, "classify_critical_point",
                        lambda *a, **k: dataclasses.replace(r, n_zero=r.orbit_dimension + 1))
    with pytest.raises(UndecidedError, match=f"{r.orbit_dimension + 1} zero eigenvalues vs rotation orbit "
                                             f"of dimension {r.orbit_dimension}"):
        assert_global_minimizer(p, W, H)


# ------------------------------------------------------------------ neural collapse
def test_neural_collapse(p, rng):
    W, H = F.global_etf(p)
    assert_neural_collapse(W, H, p.labels)
    Wp = _perturbed(W, rng)
    m = nc_metrics(Wp, H, p.labels)
    assert m.nc2 > 1e-3                                          # this perturbation breaks NC2
    with pytest.raises(AssertionError) as e:
        assert_neural_collapse(Wp, H, p.labels)
    assert f"NC2: {m.nc2:.3e} (tolerance 0.001; {m.nc2 / 1e-3:.3g} x tolerance)" in str(e.value)


def test_neural_collapse_undefined_metric_fails(p):
    W = F.global_etf(p)[0]
    H = np.repeat(W[:, :1], p.N, axis=1)                         # every class mean equal: NC1 undefined
    with pytest.raises(AssertionError, match=r"NC1: nan .*undefined"):
        assert_neural_collapse(W, H, p.labels)


# ------------------------------------------------------------------ theorems
def test_theorem1_true_and_wrong_bound():
    p = UFMProblem(6, 4, 1, 2.0)
    assert_theorem1(p, trials=1, random_points=20, seed=0)
    wrong = float(np.log1p(3 * np.exp(-2.0)))                    # K/(K-1) replaced by 1: too high
    assert wrong > theorem1_bound(4, 2.0)
    with pytest.raises(AssertionError) as e:
        assert_theorem1(p, trials=1, random_points=20, seed=2, bound=wrong)
    assert "[FAIL] Thm 1: bound never beaten (optimised points)" in str(e.value)
    assert f"bound {wrong:.17g}" in str(e.value)


def test_theorem1_needs_cross_entropy():
    with pytest.raises(ValueError, match="cross-entropy"):
        assert_theorem1(UFMProblem(4, 3, 1, 1.0, loss="mse"))


def test_theorem2_unsaturated_search_is_undecided():
    p = UFMProblem(4, 3, 1, 1.0)
    with pytest.raises(UndecidedError) as e:
        assert_theorem2(p, n_starts=20, seed=0)
    msg = str(e.value)
    assert "; the search is not saturated" in msg
    assert "NOT saturated: last new point at start" in msg and "/20" in msg
    assert_theorem2(p, n_starts=20, seed=0, require_saturated=False)


@pytest.mark.slow
def test_theorem2_saturated_holds():
    assert_theorem2(UFMProblem(4, 3, 1, 1.0), n_starts=None, max_starts=6000, seed=0)


class _StateReport:
    """A report in the three-state form: Row objects with states, ``state`` combined from them."""

    mode, verdict, counts, saturated, last_new_point_at, n_starts, unseen_probability = (
        "check", "undecided", {}, False, 10, 20, 0.2)

    def __init__(self, *states):
        self._rows = [Row(name, s, "r", value=0.5, tolerance=1.0, margin=0.5) for name, s in states]
        self.state = combine(r.state for r in self._rows)

    def rows(self):
        return self._rows


@pytest.mark.parametrize("states, require, outcome", [
    ((("Theorem 2: no spurious minimiser", PASS), ("Theorem 2: search saturated", UNDECIDED)), True, UndecidedError),
    ((("Theorem 2: no spurious minimiser", PASS), ("Theorem 2: search saturated", UNDECIDED)), False, None),
    ((("Theorem 2: no spurious minimiser", FAIL), ("Theorem 2: search saturated", UNDECIDED)), False, AssertionError),
    ((("Theorem 2: no spurious minimiser", UNDECIDED), ("Theorem 2: search saturated", PASS)), False, UndecidedError),
])
def test_theorem2_three_state_rows(monkeypatch, states, require, outcome):
    """With rows carrying states, require_saturated=False leaves out only the saturation row."""
    rep = _StateReport(*states)
    monkeypatch.setattr(A, "verify_theorem2", lambda *a, **k: rep)
    if outcome is None:
        assert assert_theorem2(UFMProblem(4, 3, 1, 1.0), require_saturated=require) is rep
        return
    with pytest.raises(outcome) as e:
        assert_theorem2(UFMProblem(4, 3, 1, 1.0), require_saturated=require)
    assert (outcome is UndecidedError) == isinstance(e.value, UndecidedError)
    assert "[value 0.5, tolerance 1, margin 0.5]" in str(e.value)


# ------------------------------------------------------------------ certificates
def test_certified_saddle(p):
    pytest.importorskip("flint")
    assert_certified_saddle(p, "anti_aligned_etf")
    assert_certified_saddle(UFMProblem(4, 4, 2, 3.0), "cross_polytope", all_tau=True)
    with pytest.raises(AssertionError) as e:                     # the ETF called a saddle
        assert_certified_saddle(p, "global_etf")
    assert not isinstance(e.value, UndecidedError)
    assert "certificate status 'not_negative'" in str(e.value) and "(positive)" in str(e.value)


def test_certified_saddle_undecided_along_orbit(p):
    """Along an orbit direction Q = 0 exactly: the ball keeps containing 0."""
    pytest.importorskip("flint")
    from nc_verify.certify import exact_family

    W, H = exact_family(p, "cross_polytope").approx()
    Om = np.zeros((6, 6))
    Om[0, 5], Om[5, 0] = 1.0, -1.0
    with pytest.raises(UndecidedError, match=r"status 'undecided'[\s\S]*contains zero"):
        assert_certified_saddle(p, "cross_polytope", direction=(Om @ W, Om @ H), max_prec=212)


def test_certified_minimum(p):
    pytest.importorskip("flint")
    assert_certified_minimum(p, "global_etf")
    with pytest.raises(AssertionError, match="certificate status 'not_minimum'"):
        assert_certified_minimum(p, "anti_aligned_etf")


def test_certified_saddle_without_flint_names_the_extra(p, monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)              # import flint -> ImportError
    with pytest.raises(ImportError, match=r'nc-verify\[certify\]'):
        assert_certified_saddle(p, "anti_aligned_etf")


def test_critical_block_shows_the_bound_comparison(p):
    """At a critical point the second-order data and f - bound are the evidence: they stay."""
    W, H = F.anti_aligned_etf(p)
    r = classify_critical_point(p, W, H)
    with pytest.raises(AssertionError) as e:
        assert_global_minimizer(p, W, H)
    msg = str(e.value)
    assert re.search(r"f - bound: +" + re.escape(f"{r.gap:.3e} (resolution {r.gap_resolution:.3e})\n"), msg), msg
    assert re.search(r"lambda_min: +" + re.escape(f"{r.lambda_min:.6e}\n"), msg), msg


FAILING_CLAIMS = """
import numpy as np
from nc_verify import UFMProblem, etf_point
from nc_verify.testing import assert_strict_saddle, assert_theorem1

def test_claim_fails():
    p = UFMProblem(4, 3, 1, 1.0)
    assert_strict_saddle(p, *etf_point(4, 3, 1))    # the ETF is a minimiser

def test_bad_argument():
    assert_theorem1("not a problem")
"""


def test_tracebacks_hide_the_helpers_frames(tmp_path):
    """A failed claim is reported at the test's line; a bad argument (a TypeError) keeps every frame."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "test_user.py").write_text(FAILING_CLAIMS)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--tb=long",
                          "test_user.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    sections = out.stdout.split("_____ test_bad_argument _____")
    assert len(sections) == 2, out.stdout
    failed_claim, bad_argument = sections
    assert "assert_strict_saddle: FAILED: classified 'global_minimizer'" in failed_claim
    for frame in ("def wrapper(", "def _raise(", "def assert_strict_saddle(", "assertions.py:"):
        assert frame not in failed_claim, (frame, failed_claim)
    assert "test_user.py:8: AssertionError" in failed_claim          # the test's own line
    assert "def wrapper(" in bad_argument and "TypeError" in bad_argument


# ------------------------------------------------------------------ bookkeeping
def test_claims_are_counted(p):
    before = claims_run().get("assert_critical", {})
    W, H = F.global_etf(p)
    assert_critical(p, W, H)
    with pytest.raises(AssertionError):
        assert_critical(p, _perturbed(W, np.random.default_rng(0)), H)
    after = claims_run()["assert_critical"]
    assert after["passed"] == before.get("passed", 0) + 1
    assert after["failed"] == before.get("failed", 0) + 1
