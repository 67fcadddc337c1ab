"""Computer-assisted proofs of Theorem 2's landscape claims at exact points (ball arithmetic).

Theorem 2 (paper, Section 3): for ``d`` large enough relative to ``K`` and ``tau`` below
its limit, "every critical point of problem (4) is either a global minimizer ... or a strict
saddle point" (negative curvature, eqs. (7)-(8)), and the global minimisers are the simplex
ETF configurations of Theorem 1, unique up to rotation.  These checks prove, in interval
arithmetic, the strict-saddle property of every exact non-global critical family and the
"minimum up to symmetry" property of the ETF, and the negative controls show the same
machinery refuses what is false.
"""

import numpy as np
import pytest

flint = pytest.importorskip("flint")

from nc_verify.certify import ball, exact_family  # noqa: E402
from nc_verify.certify._flint import working_precision  # noqa: E402
from nc_verify.landscape.spectrum import hessian_spectrum  # noqa: E402
from nc_verify.objective.families import critical_point_families  # noqa: E402
from nc_verify.objective.oblique import symmetry_orbit_dimension  # noqa: E402
from nc_verify.objective.problem import UFMProblem  # noqa: E402
from nc_verify.testing import UndecidedError, assert_certified_minimum, assert_certified_saddle  # noqa: E402

TAUS = (1.0, 6.0, 20.0, 50.0, 100.0, 1000.0)


@pytest.mark.slow
@pytest.mark.parametrize("tau", TAUS)
@pytest.mark.parametrize("dKn", [(6, 4, 2), (5, 5, 1), (7, 6, 1)])
def test_every_non_global_family_is_a_certified_strict_saddle(dKn, tau):
    """Theorem 2: "every critical point ... that is not a global minimizer is a strict saddle":
    negative curvature proved at every exact non-global family member."""
    p = UFMProblem(*dKn, tau)
    names = [nm for nm in critical_point_families(p) if nm != "global_etf"]
    if dKn != (6, 4, 2):                      # collinear members are covered at (6, 4, 2)
        names = [nm for nm in names if not nm.startswith("collinear")]
    for name in names:
        assert_certified_saddle(p, name)


@pytest.mark.parametrize("K", [3, 4, 5, 6])
def test_all_tau_strict_saddles(K):
    """Anti-aligned ETF (all K) and cross-polytope (even K): strict saddles for every tau > 0.

    Independently of the polynomial, the anti-aligned Rayleigh quotient along the exact
    direction must equal FACTS' closed form -tau (1 + 1/n) / (K - 1 + exp(-tau K/(K-1))),
    and the polynomial route must agree with the ball route: tau P(x) / (N L(x)) at
    tau = 3 lies in the ball enclosure of Q.
    """
    n, tau = 2, 3.0
    p = UFMProblem(K, K, n, tau)
    names = ["anti_aligned_etf"] + (["cross_polytope"] if K % 2 == 0 else [])
    for name in names:
        c = assert_certified_saddle(p, name, all_tau=True)
        with working_precision(212) as fl:
            x = (fl.arb(tau) / c.all_tau.q).exp()
            L = fl.arb(1)
            for z in c.all_tau.denominator_coefficients:
                L *= _eval(fl, _poly(fl, z), x)
            q_poly = fl.arb(tau) * _eval(fl, _poly(fl, c.all_tau.coefficients), x) / (p.N * L)
            ball_q = fl.arb(c.quadratic_form.mid)
            assert abs(float(q_poly) - ball_q.mid()) <= 8 * c.quadratic_form.rad + 1e-14 * abs(float(q_poly))
            if name == "anti_aligned_etf":
                closed = -fl.arb(tau) * (1 + fl.arb(1) / n) / (K - 1 + (-fl.arb(tau) * K / (K - 1)).exp())
                assert abs(float(closed) - c.rayleigh_quotient.mid) <= c.rayleigh_quotient.rad + 1e-13


def _poly(fl, coefficients):
    from fractions import Fraction

    return [fl.arb(fl.fmpq(Fraction(c).numerator, Fraction(c).denominator)) for c in coefficients]


def _eval(fl, coeffs, x):
    return sum((c * x ** k for k, c in enumerate(coeffs)), fl.arb(0))


def test_cross_polytope_closed_form():
    """K = 4, n = 1 (FACTS): lambda_min = -(tau/2)(1 - e^-tau)/(e^tau + e^-tau + 2); the exact pair-bend is its eigenvector."""
    for tau in (1.0, 6.0, 50.0):
        c = assert_certified_saddle(UFMProblem(6, 4, 1, tau), "cross_polytope")
        with working_precision(106) as fl:
            t = fl.arb(tau)
            closed = -(t / 2) * (1 - (-t).exp()) / (t.exp() + (-t).exp() + 2)
            assert abs(float(closed / fl.arb(c.rayleigh_quotient.mid) - 1)) < 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("dKn", [(4, 3, 1), (6, 4, 2), (5, 4, 1)])
@pytest.mark.parametrize("tau", [1.0, 20.0, 200.0])
def test_etf_minimum_up_to_symmetry(dKn, tau):
    """Theorems 1-2: the ETF is a minimiser "unique up to rotation": Hessian PSD with kernel exactly the O(d) orbit."""
    p = UFMProblem(*dKn, tau)
    c = assert_certified_minimum(p, "global_etf")
    W, H = exact_family(p, "global_etf").approx()
    assert c.kernel_dimension == symmetry_orbit_dimension(W, H)
    if tau == 1.0:
        # mu is a lower bound on the smallest eigenvalue off the orbit, and not a loose one
        lam = hessian_spectrum(p, W, H)[c.kernel_dimension]
        assert c.mu.mid <= lam * (1 + 1e-9) and c.mu.mid >= 0.25 * lam


def _orbit_direction(p, name):
    W, H = exact_family(p, name).approx()
    Om = np.zeros((p.d, p.d))
    Om[0, p.d - 1], Om[p.d - 1, 0] = 1.0, -1.0
    return Om @ W, Om @ H


def test_negative_controls():
    """Negative controls, must not certify: a non-critical point, an orbit direction, the global minimiser, a saddle."""
    p = UFMProblem(6, 4, 2, 1.0)
    W = np.zeros((6, 4))
    W[:4, :4] = np.eye(4)                              # orthonormal W = Hbar: not critical (FACTS)
    with pytest.raises(AssertionError, match="certificate status 'not_critical'"):
        assert_certified_saddle(p, W, np.repeat(W, 2, axis=1))
    with pytest.raises(AssertionError, match="certificate status 'not_critical'"):
        assert_certified_minimum(p, W, np.repeat(W, 2, axis=1))
    # an orbit direction: Q = 0 exactly, the ball keeps containing 0
    with pytest.raises(UndecidedError, match=r"status 'undecided'[\s\S]*\(contains zero\)"):
        assert_certified_saddle(p, "cross_polytope", direction=_orbit_direction(p, "cross_polytope"), max_prec=212)
    # the global minimiser: no negative curvature along the automatic direction
    with pytest.raises(AssertionError, match="certificate status 'not_negative'"):
        assert_certified_saddle(p, "global_etf")
    # a saddle is not a minimum
    with pytest.raises(AssertionError, match="certificate status 'not_minimum'"):
        assert_certified_minimum(p, "anti_aligned_etf")


def test_dropped_curvature_term_is_caught(monkeypatch):
    """Eq. (8) without its feature curvature term -<dH ddiag(M^T G), dH>: the ETF is no longer certified a minimum."""
    p = UFMProblem(6, 4, 2, 1.0)
    assert_certified_minimum(p, "global_etf")
    original = ball.hessian_forms

    def dropped(W, H, tau, state, vectors):
        saved = state.col_curvature
        state.col_curvature = [x * 0 for x in saved]
        try:
            return original(W, H, tau, state, vectors)
        finally:
            state.col_curvature = saved

    monkeypatch.setattr(ball, "hessian_forms", dropped)
    with pytest.raises(AssertionError, match="assert_certified_minimum: (FAILED|UNDECIDED)"):
        assert_certified_minimum(p, "global_etf")
