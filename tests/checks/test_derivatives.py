"""check_derivatives(): returns numbers that pass for the package and fail for a wrong formula."""

import json

import numpy as np
import pytest

from nc_verify import UFMProblem, check_derivatives, etf_point
from nc_verify.checks.derivatives import taylor_slopes


@pytest.mark.parametrize("size", [(3, 2, 1, 0.5), (10, 5, 2, 5.0), (4, 6, 1, 1.0)])
def test_report_passes(size):
    rep = check_derivatives(UFMProblem(*size), rng=0)
    assert rep.passed, rep.rows()
    assert np.median(rep.gradient_slopes) >= 1.9 and np.median(rep.hessian_slopes) >= 2.9
    json.dumps(rep.as_dict())  # serialisable


def test_at_given_point():
    p = UFMProblem(6, 3, 2, 2.0)
    W, H = etf_point(6, 3, 2, rng=1)
    rep = check_derivatives(p, W, H, rng=0)
    assert rep.point == "given point" and rep.passed, rep.rows()


def test_wrong_gradient_gives_wrong_slope():
    p = UFMProblem(5, 3, 1, 1.0)
    W, H = p.random_point(0)
    half = lambda W, H: tuple(0.5 * g for g in p.riemannian_gradient(W, H))  # noqa: E731
    gs, _ = taylor_slopes(p, W, H, gradient=half, rng=1)
    assert np.all(np.abs(gs - 1.0) < 0.1), gs


def test_bad_arguments():
    p = UFMProblem(4, 2, 1, 1.0)
    W, H = p.random_point(0)
    with pytest.raises(ValueError, match="pass both W and H"):
        check_derivatives(p, W)
    with pytest.raises(TypeError, match="problem must be a UFMProblem"):
        check_derivatives(None)
    with pytest.raises(ValueError, match="directions must be >= 1"):
        taylor_slopes(p, W, H, directions=0)
