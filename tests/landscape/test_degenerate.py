"""Continua by their worst member, and the higher-order test at flat points (nc_verify.landscape.degenerate)."""

import numpy as np
import pytest

from nc_verify import UFMProblem, classify_critical_point
from nc_verify.objective import families as F
from nc_verify.landscape.degenerate import (
    classify_point,
    flat_directions,
    higher_order_test,
    worst_member,
)


def _u1_v1(problem, angle):
    d, K, N = problem.d, problem.K, problem.N
    u = np.zeros(d)
    u[0] = 1.0
    v = np.zeros(d)
    v[0], v[1] = np.cos(angle), np.sin(angle)
    return np.tile(u[:, None], (1, K)), np.tile(v[:, None], (1, N))


def test_lambda_min_along_the_continuum():
    # measured: lambda_min = -cos^2(angle) / 2 along W = u 1^T, H = v 1^T at (2, 2, 1, 1)
    p = UFMProblem(2, 2, 1, 1.0)
    for angle in (0.0, 0.4, 1.0):
        rep = classify_critical_point(p, *_u1_v1(p, angle))
        assert abs(rep.lambda_min + np.cos(angle) ** 2 / 2) <= 1e-12
        assert rep.kind == "strict_saddle" and rep.n_zero == 2 and rep.orbit_dimension == 1


def test_flat_directions_exclude_the_orbit():
    p = UFMProblem(2, 2, 1, 1.0)
    E, _ = flat_directions(p, _u1_v1(p, 0.3))
    assert E.shape == (4, 1)                      # n_zero 2, orbit 1: one direction along the continuum
    assert np.allclose(E.T @ E, np.eye(1), atol=1e-12)
    E0, _ = flat_directions(p, F.global_etf(p))  # the minimum: kernel = orbit
    assert E0.shape[1] == 0


def test_worst_member_is_v_orthogonal_to_u():
    p = UFMProblem(2, 2, 1, 1.0)
    (W, H), info = worst_member(p, *_u1_v1(p, 0.3))
    assert info["moved"] and info["lambda_min_start"] == pytest.approx(-np.cos(0.3) ** 2 / 2, abs=1e-12)
    assert abs(info["lambda_min"]) <= 1e-12        # the maximum of -cos^2 / 2 is 0, at angle pi / 2
    assert abs(W[:, 0] @ H[:, 0]) <= 1e-6
    assert abs(p.cost(W, H) - np.log(2)) <= 1e-15   # still on the continuum (cost log K)


def test_degenerate_saddle_at_fourth_order():
    p = UFMProblem(2, 2, 1, 1.0)
    rep = classify_point(p, *_u1_v1(p, 0.3))
    assert rep.kind == "degenerate_saddle" and rep.state == "FAIL"      # Theorem 2's claim fails there
    assert np.allclose(rep.spectrum, [0, 0, 0, 0.5], atol=1e-12)
    ho = rep.higher_order
    assert ho["decrease"] and abs(ho["order"] - 4.0) <= 0.05
    # f - log 2 is about -5.8e-6 at distance 0.1 and scales like t^4 (a fourth-order decrease)
    t, df = ho["steps"], ho["differences"]
    i = int(np.argmin(np.abs(t - 0.1)))
    assert -1e-5 < df[i] * (0.1 / t[i]) ** 4 < -3e-6
    assert rep.continuum["lambda_min_representative"] < -0.4


def test_strict_saddle_and_minimum_unchanged():
    p = UFMProblem(5, 3, 1, 1.0)
    assert classify_point(p, *F.global_etf(p)).kind == "global_minimizer"
    W, H = F.anti_aligned_etf(p)
    a, b = classify_point(p, W, H), classify_critical_point(p, W, H)
    assert a.kind == b.kind == "strict_saddle" and a.lambda_min == b.lambda_min


def test_no_decrease_without_flat_directions():
    p = UFMProblem(5, 3, 1, 1.0)
    out = higher_order_test(p, *F.global_etf(p))
    assert out == {"decrease": False, "flat_directions": 0, "directions_tried": 0}
