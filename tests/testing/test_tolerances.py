"""Default tolerances of the assertion helpers: raise just outside, pass just inside.

Each helper of :mod:`nc_verify.testing.assertions` is met with a measured value at 1.5 times
its default tolerance (between it and the next looser tolerance of the package, so a
helper loosened to that one would pass) and at 0.67 times it:

* ``assert_neural_collapse``: NC1 ``1e-8`` (next looser in the package: ``1e-6``,
  ``INVARIANT_RTOL``), NC2 / NC3 ``1e-3`` (a helper reading ``1e-2``, or NC3 checked
  against NC1's tolerance, would be caught too);
* ``assert_critical`` / ``assert_not_critical``: the gradient's rounding level
  (next looser: the solvers' stopping tolerances ``1e-10``, ``1e-8``);
* ``assert_derivatives``: relative discrepancy ``1e-10`` (``ROUNDING_TOL``; next looser
  ``1e-8``).

The values are set by scaling a perturbation (NC metrics are quadratic or linear in
it, the gradient linear), measured with the package's own metric or gradient, and the
tests assert where they landed before asking the helper.
"""

import numpy as np
import pytest

from nc_verify import UFMProblem, classify_critical_point, nc_metrics
from nc_verify.checks.derivatives import ROUNDING_TOL
from nc_verify.checks.theorem1 import NC1_TOL, NC23_TOL
from nc_verify.objective.families import global_etf
from nc_verify.testing import assert_critical, assert_derivatives, assert_neural_collapse, assert_not_critical

OUTSIDE, INSIDE = 1.5, 0.67


def _scaled(measure, target, s0=1e-3, power=1.0):
    """Amplitude ``s`` with ``measure(s) ~ target``, from one measurement and the known power law, refined twice."""
    s = s0
    for _ in range(3):
        s *= (target / measure(s)) ** (1.0 / power)
    return s


# ----------------------------------------------------------------------------- NC metrics
def _collapse(d=5, K=3, n=3):
    p = UFMProblem(d, K, n, 1.0)
    W, H = global_etf(p)
    rng = np.random.default_rng(4)
    return p, W, H, rng.standard_normal(H.shape), rng.standard_normal(W.shape)


def test_nc1_default_tolerance():
    """Within-class spread with NC1 at 1.5e-8 raises (names NC1); at 0.67e-8 it passes."""
    p, W, H, noise, _ = _collapse()
    centred = noise - np.repeat(noise.reshape(p.d, p.K, p.n).mean(axis=2), p.n, axis=1)   # class means unchanged

    def nc1(s):
        return nc_metrics(W, H + s * centred, p.labels).nc1

    for factor, raises in ((OUTSIDE, True), (INSIDE, False)):
        s = _scaled(nc1, factor * NC1_TOL, power=2.0)
        value = nc1(s)
        assert value == pytest.approx(factor * NC1_TOL, rel=0.05)
        assert value < 1e-6                                     # below the next looser tolerance
        if raises:
            with pytest.raises(AssertionError, match="NC1"):
                assert_neural_collapse(W, H + s * centred, p.labels)
        else:
            assert_neural_collapse(W, H + s * centred, p.labels)


@pytest.mark.parametrize("which", ["nc2", "nc3"])
def test_nc2_nc3_default_tolerance(which):
    """Classifiers (NC2) or class means (NC3) off the ETF: 1.5e-3 raises naming the metric, 0.67e-3 passes.

    NC2 moves ``W`` and its features together (NC3 stays near 0 relative to it only for
    the means); NC3 moves the class means with ``W`` fixed at the ETF.
    """
    p, W, H, noise, wnoise = _collapse()
    means_noise = np.repeat(noise.reshape(p.d, p.K, p.n).mean(axis=2), p.n, axis=1)

    def point(s):
        if which == "nc2":
            W2 = W + s * wnoise
            W2 = W2 / np.linalg.norm(W2, axis=0)
            return W2, np.repeat(W2, p.n, axis=1)
        return W, H + s * means_noise

    def metric(s):
        return getattr(nc_metrics(*point(s), p.labels), which)

    for factor, raises in ((OUTSIDE, True), (INSIDE, False)):
        s = _scaled(metric, factor * NC23_TOL)
        assert metric(s) == pytest.approx(factor * NC23_TOL, rel=0.05)
        m = nc_metrics(*point(s), p.labels)
        assert m.nc1 <= NC1_TOL
        if raises:
            with pytest.raises(AssertionError, match=which.upper()):
                assert_neural_collapse(*point(s), p.labels)
        else:
            assert_neural_collapse(*point(s), p.labels)


# ------------------------------------------------------------------------- critical points
def test_critical_at_its_rounding_level():
    """A gradient at 1.5x its rounding level: ``assert_critical`` raises, ``assert_not_critical`` passes;
    at 0.67x the reverse.  (d, K, n) = (5, 3, 2), tau = 1.5; the level is ~1e-14, far below
    the solvers' ``1e-10``.
    """
    p = UFMProblem(5, 3, 2, 1.5)
    W, H = global_etf(p)
    t = np.zeros(p.d)
    t[4] = 1.0

    def moved(s):
        H2 = H.copy()
        H2[:, 0] = H[:, 0] + s * (t - H[:, 0] * (H[:, 0] @ t))
        H2[:, 0] /= np.linalg.norm(H2[:, 0])
        return W, H2

    level = classify_critical_point(p, *moved(1e-12), refine=False).gradient_tol
    for factor, critical in ((OUTSIDE, False), (INSIDE, True)):
        s = _scaled(lambda s: p.gradient_norm(*moved(s)), factor * level, s0=1e-12)
        r = classify_critical_point(p, *moved(s), refine=False)
        assert r.gradient_norm / r.gradient_tol == pytest.approx(factor, rel=0.1)
        assert r.gradient_norm < 1e-10
        if critical:
            assert_critical(p, *moved(s))
            with pytest.raises(AssertionError):
                assert_not_critical(p, *moved(s))
        else:
            assert_not_critical(p, *moved(s))
            with pytest.raises(AssertionError, match="rounding level"):
                assert_critical(p, *moved(s))


# ----------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("factor, raises", [(OUTSIDE, True), (INSIDE, False)])
def test_derivatives_default_rounding_tolerance(monkeypatch, factor, raises):
    """A Riemannian gradient off by ``factor * 1e-10`` of its scale (along itself): raises at 1.5, passes at 0.67."""
    p = UFMProblem(4, 3, 2, 1.0)
    real = UFMProblem.riemannian_gradient

    def off(self, W, H):
        gW, gH = real(self, W, H)
        eW, eH = self.euclidean_gradient(W, H)
        scale = max(np.sqrt(np.sum(gW**2) + np.sum(gH**2)), np.sqrt(np.sum(eW**2) + np.sum(eH**2)))
        g = np.sqrt(np.sum(gW**2) + np.sum(gH**2))
        c = 1.0 + factor * ROUNDING_TOL * scale / g
        return c * gW, c * gH

    monkeypatch.setattr(UFMProblem, "riemannian_gradient", off)
    if raises:
        with pytest.raises(AssertionError, match="gradient == autograd"):
            assert_derivatives(p, rng=3)
    else:
        rep = assert_derivatives(p, rng=3)
        assert rep.autograd_gradient_rel == pytest.approx(factor * ROUNDING_TOL, rel=0.01)
