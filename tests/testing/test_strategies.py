"""The hypothesis strategies: shapes, unit columns to rounding, tangency, and shrinking to minimal sizes."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from nc_verify import UFMProblem
from nc_verify.objective.losses import FocalLoss
from nc_verify.testing import assert_critical
from nc_verify.testing.strategies import (
    family_points,
    orthogonal_matrices,
    points,
    problems,
    problems_and_points,
    tangent_vectors,
)

EPS = np.finfo(np.float64).eps
NO_DB = settings(database=None, max_examples=200)


def _unit_columns_to_rounding(X):
    # x / ||x|| re-normed: the norm's rounding (<= d/2 eps, sums of d squares) plus one
    # rounding per entry of the division; (d + 2) eps bounds both
    d = X.shape[0]
    return np.max(np.abs(np.linalg.norm(X, axis=0) - 1.0)) <= (d + 2) * EPS


@given(problems_and_points())
def test_points_shape_and_unit_columns(data):
    p, W, H = data
    assert W.shape == (p.d, p.K) and H.shape == (p.d, p.N)
    assert _unit_columns_to_rounding(W) and _unit_columns_to_rounding(H)


@given(problems(d=(3, 10), K=(2, 5), n=(1, 3)).flatmap(lambda p: st.tuples(st.just(p), st.integers(1, p.d)))
       .flatmap(lambda pr: points(pr[0], rank=pr[1], rotate=True).map(lambda x: (*x, pr[1]))))
def test_low_rank_points(data):
    p, W, H, r = data
    assert W.shape == (p.d, p.K) and H.shape == (p.d, p.N)
    assert _unit_columns_to_rounding(W) and _unit_columns_to_rounding(H)
    assert np.linalg.matrix_rank(np.hstack([W, H])) <= r


@given(problems(d=(2, 10), K=(2, 5), n=(1, 3)).flatmap(lambda p: points(p, near_degenerate=True)))
def test_near_degenerate_points(data):
    p, W, H = data
    X = np.hstack([W, H])
    assert X.shape == (p.d, p.K + p.N) and _unit_columns_to_rounding(X)
    # every column within 10^-3 sqrt(d) (noise entries <= 10^-3) of +-one of <= 3 centres:
    # two columns of one cluster have 1 - |cos| <= (2 10^-3 sqrt(d))^2 / 2 <= 2e-5 (d <= 10)
    C = np.abs(X.T @ X)
    clusters = []
    for j in range(X.shape[1]):
        if not any(C[j, i] >= 1 - 1e-4 for i in clusters):
            clusters.append(j)
    assert len(clusters) <= 3


@given(problems_and_points(d=(2, 8), K=(2, 4), n=(1, 3)).flatmap(
    lambda x: st.tuples(st.just(x), tangent_vectors(*x))))
def test_tangent_vectors(data):
    (p, W, H), (dW, dH) = data
    assert dW.shape == W.shape and dH.shape == H.shape
    assert abs(np.sum(dW * dW) + np.sum(dH * dH) - 1.0) <= 8 * EPS
    # x . (v - x (x . v)) with unit x: d-term dot products of entries <= sqrt(d): <= 4 d eps
    for X, V in ((W, dW), (H, dH)):
        assert np.max(np.abs(np.sum(X * V, axis=0))) <= 4 * p.d * EPS


@given(st.integers(1, 12).flatmap(orthogonal_matrices))
def test_orthogonal_matrices(Q):
    d = Q.shape[0]
    assert Q.shape == (d, d)
    # Householder QR: ||Q^T Q - I||_max ~ d eps
    assert np.max(np.abs(Q.T @ Q - np.eye(d))) <= 8 * d * EPS


@given(problems(d=(2, 6), K=(2, 4), n=(1, 2)).flatmap(lambda p: family_points(p, rotate=True)))
def test_family_points_are_critical(data):
    p, name, W, H = data
    assert _unit_columns_to_rounding(W) and _unit_columns_to_rounding(H)
    assert_critical(p, W, H)


def test_family_points_names():
    p = UFMProblem(5, 4, 1, 1.0)
    _, name, W, H = find(family_points(p, names=["cross_polytope"]), lambda x: True, settings=NO_DB)
    assert name == "cross_polytope"
    with pytest.raises(ValueError, match=r"unknown family names \['nope'\]"):
        family_points(p, names=["nope"])


def test_problems_with_a_loss():
    loss = FocalLoss(2.0)
    p = find(problems(loss=loss), lambda p: True, settings=NO_DB)
    assert p.loss == loss
    q = find(problems(loss=st.sampled_from(["mse", "focal:1"])), lambda p: p.loss.name == "focal", settings=NO_DB)
    assert q.loss == FocalLoss(1.0)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(d=(1, 4)), ValueError, r"d must satisfy 2 <= lo <= hi, got \(1, 4\)"),
    (dict(K=(5, 3)), ValueError, r"K must satisfy 2 <= lo <= hi"),
    (dict(n=1.5), TypeError, r"n must be an int or a pair"),
    (dict(tau=(0.0, 1.0)), ValueError, r"tau must satisfy 0 < lo <= hi"),
    (dict(d=(2, 3), K=(4, 5), d_at_least_K=True), ValueError, r"leaves no d >= K"),
])
def test_bad_bounds(kw, exc, match):
    with pytest.raises(exc, match=match):
        problems(**kw)


def test_points_rank_checked():
    with pytest.raises(ValueError, match="rank must be <= d = 3, got 4"):
        points(UFMProblem(3, 2, 1, 1.0), rank=4)
    with pytest.raises(TypeError, match="problem must be a UFMProblem"):
        points("problem")


# ------------------------------------------------------------------ shrinking
def test_problems_shrink_to_minimal_size():
    """A property that fails for d >= 5 (and N >= 4) shrinks to exactly that size, the rest minimal."""
    p = find(problems(), lambda p: p.d >= 5 and p.N >= 4, settings=NO_DB)
    assert (p.d, p.K, p.n, p.tau) == (5, 2, 2, 1.0)
    q = find(problems(d_greater_than_K=True, K=(3, 6)), lambda p: True, settings=NO_DB)
    assert (q.d, q.K, q.n) == (4, 3, 1)


def test_failing_given_reports_the_minimal_size():
    """A failing @given test: the falsifying example hypothesis reports is the smallest failing size."""
    seen = []

    @settings(database=None, max_examples=200, derandomize=True)
    @given(problems(d=(2, 20), K=(2, 8)))
    def claim(problem):
        seen.append(problem)
        assert problem.K < 4

    with pytest.raises(AssertionError):
        claim()
    last = seen[-1]                                              # hypothesis replays the minimal example last
    assert (last.d, last.K, last.n) == (2, 4, 1)


def test_points_shrink_to_a_simple_point():
    """Points shrink to equal columns: the minimal point with some w_k . h_j < 0 has every column +-(one vector)."""
    p = UFMProblem(3, 2, 1, 1.0)
    _, W, H = find(points(p), lambda x: float(np.min(x[1].T @ x[2])) < 0, settings=NO_DB)
    # all columns equal up to sign: |W^T H| = 1 entrywise
    np.testing.assert_allclose(np.abs(W.T @ H), 1.0, rtol=0, atol=4 * EPS)
