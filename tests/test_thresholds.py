"""Rank and zero thresholds, and rules over many terms, at the value that tells them from a looser one.

Each threshold of the package is met with a value between it and a plausible looser one
(``1e-3``), in the configuration where the looser threshold gives the other answer: a
near-degenerate spectrum (an eigenvalue ``1e-6`` relative that must *not* count as zero),
a nearly rank-deficient point, a column ``1e-6`` off unit norm, a gradient ``1e-6`` of its
terms' size.  Each test shows the looser threshold deciding the other way.  The rules
that quantify over many terms (every invariant equal in ``same_point``, every gap resolved
in Theorem 1's "points off NC cost strictly more") get a mixed case that only the right
quantifier rejects.  (The thresholds of ``landscape/classify.py`` and
``landscape/degenerate.py`` are tested with those modules.)
"""

import numpy as np
import pytest

from nc_verify import UFMProblem, symmetry_orbit_dimension
from nc_verify.checks.theorem1 import _off_nc_state
from nc_verify.landscape.newton import gradient_tolerance, pseudo_inverse
from nc_verify.landscape.points import INVARIANT_RTOL, FoundPoint, same_point
from nc_verify.landscape.rounding import eigenvalue_floor
from nc_verify.landscape.search import _converged
from nc_verify.landscape.spectrum import count_zero_eigenvalues
from nc_verify.objective.families import global_etf
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED
from nc_verify.utils.validation import UNIT_NORM_TOL

LOOSE = 1e-3


# ------------------------------------------------------------------------- zero eigenvalues
def _spectrum(orbit: int, near: float, rng):
    """``orbit`` rounding-level zeros, one eigenvalue ``near`` (relative), the rest in [0.05, 1] with both signs."""
    zeros = 1e-16 * rng.standard_normal(orbit)
    rest = rng.uniform(0.05, 1.0, 30) * np.where(np.arange(30) % 3 == 0, -1.0, 1.0)
    return np.concatenate([zeros, [near], rest, [1.0]])


@pytest.mark.parametrize("near", [1e-6, -1e-6, 3e-5])
def test_near_zero_eigenvalue_is_not_counted_as_zero(near):
    """An eigenvalue ``1e-6 ||Hess||`` next to a 12-dimensional orbit: 12 zeros, not 13.

    At the eigenvalue floor of a (6, 4, 2) problem (``(T + 2 d tau) eps ||Hess|| ~ 2e-14``)
    the largest-gap cut lies between the orbit and ``1e-6``; a floor of ``1e-3 ||Hess||``
    puts ``1e-6`` among the zeros (13) -- the count that would call a strict saddle with a
    small negative eigenvalue degenerate.
    """
    p = UFMProblem(6, 4, 2, 1.0)
    lam = _spectrum(12, near, np.random.default_rng(0))
    floor = eigenvalue_floor(p, 1.0)
    assert floor < 1e-13
    assert count_zero_eigenvalues(lam, floor)[0] == 12
    assert count_zero_eigenvalues(lam, LOOSE)[0] == 13


# ------------------------------------------------------------------------------ rank of span
def _nearly_rank_3(delta):
    """Unit columns in R^5 spanning 3 dimensions, one tilted by ``delta`` into a fourth."""
    W = np.zeros((5, 3))
    W[0, 0] = W[1, 1] = 1.0
    W[2, 2] = np.sqrt(1.0 - delta * delta)
    W[3, 2] = delta
    H = np.repeat(np.eye(5)[:, :3], 2, axis=1)
    return W, H


def test_orbit_dimension_counts_a_1e6_direction():
    """A span tilted by ``1e-6`` into a fourth dimension has rank 4: orbit dimension 10 (d = 5), not 9.

    The default ``rtol = sqrt(eps) ~ 1.5e-8`` keeps the tilt; ``rtol = 1e-3`` drops it (9);
    a tilt of ``1e-10`` is rounding-level and drops at the default too (control).
    """
    W, H = _nearly_rank_3(1e-6)
    assert symmetry_orbit_dimension(W, H) == 10
    assert symmetry_orbit_dimension(W, H, rtol=LOOSE) == 9
    assert symmetry_orbit_dimension(*_nearly_rank_3(1e-10)) == 9


# ------------------------------------------------------------------------------- unit norm
@pytest.mark.parametrize("off, ok", [(1e-6, False), (-1e-6, False), (0.5 * UNIT_NORM_TOL, True)])
def test_unit_norm_check_between_its_tolerance_and_a_looser_one(off, ok):
    """A column of norm ``1 +- 1e-6`` is not a point of the oblique manifold; ``1 + 5e-9`` is (rounding).

    Catches ``UNIT_NORM_TOL`` loosened to ``1e-3`` (which would accept ``1e-6``).
    """
    p = UFMProblem(4, 3, 1, 1.0)
    W, H = global_etf(p)
    W = W.copy()
    W[:, 1] *= 1.0 + off
    assert abs(off) < LOOSE
    if ok:
        p.cost(W, H)
    else:
        with pytest.raises(ValueError, match="unit-norm"):
            p.cost(W, H)


# -------------------------------------------------------------------------- pseudo-inverse
def test_pseudo_inverse_keeps_a_1e6_eigenvalue():
    """Newton's pseudo-inverse inverts ``1e-6 max|lambda|`` and drops ``1e-9`` (below ``sqrt(eps)``).

    Catches the cut loosened to ``1e-3``, which would drop the ``1e-6`` direction and stall
    the polish along it.
    """
    lam = np.array([-2.0, 1e-6, 1e-9, 1.0])
    inv = pseudo_inverse(lam)
    assert inv[1] == pytest.approx(1e6, rel=1e-15) and inv[2] == 0.0 and inv[0] == -0.5
    loose = np.where(np.abs(lam) > LOOSE * 2.0, 1.0 / lam, 0.0)
    assert loose[1] == 0.0


# ----------------------------------------------------------------------- critical-point test
def test_gradient_norm_test_rejects_a_1e6_gradient():
    """A point whose gradient is ``1e-6`` of its terms' size is not critical; the exact ETF is.

    ``_converged`` (the search's acceptance) compares ``||grad f||`` with the rounding
    level ``(m + 2 d tau) eps * scale + eps sqrt(d m) ||Hess||`` (~1e-13 here): a
    threshold of ``1e-3 * scale`` would accept the moved point.  (d, K, n) = (5, 3, 2).
    """
    p = UFMProblem(5, 3, 2, 1.5)
    W, H = global_etf(p)
    lam = np.linspace(-1.0, 1.0, p.tangent_dimension)
    assert _converged(p, (W, H), p.gradient_norm(W, H), lam) is not None
    # move one feature by about 1e-6 along a tangent direction
    t = np.zeros(p.d)
    t[4] = 1.0
    H2 = H.copy()
    H2[:, 0] = H[:, 0] + 1e-6 * (t - H[:, 0] * (H[:, 0] @ t))
    H2[:, 0] /= np.linalg.norm(H2[:, 0])
    g, scale = p.gradient_norm(W, H2), p.gradient_scale(W, H2)
    assert 1e-8 * scale < g < LOOSE * scale
    assert g > gradient_tolerance(p, W, H2, hessian_norm=1.0)
    assert _converged(p, (W, H2), g, lam) is None


# ------------------------------------------------------------------ invariants (same_point)
def _found(cost=1.0, **changes):
    inv = {"gram_0": np.array([0.0, 0.5, 1.5, 2.0]), "cross_0_1": np.array([3.0, 2.0, 0.25]),
           "hessian": np.array([-0.3, 0.0, 0.0, 0.7, 2.0])}
    for key, (i, rel) in changes.items():
        inv[key] = inv[key].copy()
        inv[key][i] += rel * (1.0 + np.max(np.abs(inv[key])))
    return FoundPoint(point=(np.eye(2), np.eye(2)), cost=cost, gradient_norm=0.0, invariants=inv,
                      n_zero=2, orbit_dimension=2)


@pytest.mark.parametrize("key, index", [("gram_0", 0), ("cross_0_1", 2), ("hessian", 0)])
def test_same_point_needs_every_invariant_equal(key, index):
    """All invariants equal but one entry of one, off by ``1e-5`` of its scale: two points, not one.

    ``1e-5`` lies between ``INVARIANT_RTOL = 1e-6`` and ``1e-3``: a looser tolerance, or an
    ``any`` over the invariants in place of ``all``, would merge them.  Half the tolerance
    merges (control).
    """
    a = _found()
    assert same_point(a, _found())
    assert same_point(a, _found(**{key: (index, 0.5 * INVARIANT_RTOL)}))
    b = _found(**{key: (index, 1e-5)})
    assert not same_point(a, b) and not same_point(b, a)
    close = {k: bool(np.max(np.abs(a.invariants[k] - b.invariants[k]))
                     <= LOOSE * (1 + np.max(np.abs(a.invariants[k])))) for k in a.invariants}
    assert all(close.values())                                  # the looser tolerance would merge
    exact = [np.array_equal(a.invariants[k], b.invariants[k]) for k in a.invariants]
    assert any(exact) and not all(exact)                        # "any invariant equal" would merge


def test_same_point_cost_alone_differing():
    """Equal invariants, costs ``1e-5`` apart (relative): distinct.  Catches the cost check dropped or loosened."""
    assert not same_point(_found(cost=1.0), _found(cost=1.0 + 1e-5))
    assert same_point(_found(cost=1.0), _found(cost=1.0 + 0.5 * INVARIANT_RTOL))


# -------------------------------------------------------------- Theorem 1: points off NC
@pytest.mark.parametrize("gaps, state", [
    ([1e-3, 2e-3, 5e-3], PASS),
    ([1e-3, 2e-3, 5e-13], UNDECIDED),       # all resolved above 0 but one within the resolution
    ([1e-3, 2e-3, -5e-13], UNDECIDED),
    ([1e-3, 2e-3, -1e-3], FAIL),            # one resolved below 0
    ([-1e-3, 5e-13, 1e-3], FAIL),
])
def test_off_nc_rule_over_every_gap(gaps, state):
    """Pass needs *every* gap resolved above 0; one resolved below fails; anything else is undecided.

    Resolution ``1e-12``.  Catches ``any`` for ``all`` (the mixed cases would pass), and a
    gap within the resolution read as a verdict.
    """
    assert _off_nc_state(gaps, 1e-12) is state
    if state is not PASS:
        assert any(g > 1e-12 for g in gaps)                     # "any gap above" would pass
