"""Batched Levenberg-Marquardt / Newton (nc_verify.landscape.batched) against the serial root-finders."""

import numpy as np
import pytest

from nc_verify import UFMProblem
from nc_verify.landscape.batched import (
    batched_gradient_norms,
    batched_levenberg_marquardt,
    batched_newton_polish,
    local_models,
)
from nc_verify.landscape.newton import levenberg_marquardt, newton_polish
from nc_verify.landscape.points import describe_point, same_point
from nc_verify.landscape.spectrum import hessian_matrix, householder_basis
from nc_verify.objective.families import critical_point_families
from nc_verify.objective.problem import batched_loss_quantities

EPS = np.finfo(float).eps


def _starts(p, m, seed):
    rng = np.random.default_rng(seed)
    pts = [p.random_point(rng) for _ in range(m)]
    return [x for x in pts], np.stack([w for w, _ in pts]), np.stack([h for _, h in pts])


@pytest.mark.parametrize("loss", [None, "focal:2", "label_smoothing:0.1"])
def test_batched_loss_quantities_are_the_single_point_ones(loss):
    p = UFMProblem(4, 3, 2, 3.0, loss=loss)
    pts, W, H = _starts(p, 5, 0)
    G, row, col, blocks = batched_loss_quantities(p, W, H, hessian_blocks=True)
    for b, (w, h) in enumerate(pts):
        s = p.hessian_operator(w, h).state
        # the same per-column arithmetic, scaled by B and back: equal to a few eps
        for got, ref in ((G[b], s.grad), (row[b], s.row_curvature), (col[b], s.col_curvature)):
            assert np.max(np.abs(got - ref)) <= 8 * EPS * np.max(np.abs(ref))
        ref = p.hessian_operator(w, h).matrix(*householder_basis(w, h).column_bases())
        got = local_models(p, W[b:b + 1], H[b:b + 1]).hessian[0]
        assert np.max(np.abs(got - ref)) <= 64 * EPS * np.max(np.abs(ref))
    # a wrong variant: the row curvature of the side-by-side logits (a sum over every
    # point's columns, times B) for each point's own
    M = p.tau * np.swapaxes(W, -1, -2) @ H
    joint = p.loss(np.concatenate(list(M), axis=1), np.tile(p.labels, 5))
    assert np.max(np.abs(5 * joint.row_curvature - row[0])) > 1e-3 * np.max(np.abs(row[0]))


def test_local_models_match_the_dense_single_point_tools():
    p = UFMProblem(5, 3, 2, 2.0)
    pts, W, H = _starts(p, 4, 1)
    m = local_models(p, W, H, spectrum=True)
    for b, (w, h) in enumerate(pts):
        B = householder_basis(w, h)
        g = B.from_ambient(*p.riemannian_gradient(w, h))
        A = hessian_matrix(p, w, h, basis=B)
        scale = np.max(np.abs(A))
        assert np.max(np.abs(m.gradient[b] - g)) <= 64 * EPS * (1 + np.max(np.abs(g)))
        assert np.max(np.abs(m.hessian[b] - A)) <= 64 * EPS * scale
        assert np.max(np.abs(m.eigenvalues[b] - np.linalg.eigvalsh(A))) <= 1e3 * EPS * scale
    assert np.allclose(batched_gradient_norms(p, W, H), [p.gradient_norm(w, h) for w, h in pts], rtol=1e-13)
    # ||Hess||_F bounds ||Hess||_2 before the spectrum is known
    m2 = local_models(p, W, H)
    assert np.all(m2.hessian_norm >= m.hessian_norm * (1 - 1e-14))


@pytest.mark.parametrize("size,tau,loss", [((5, 3, 2), 2.0, None), ((4, 3, 1), 1.0, None), ((3, 3, 2), 2.0, "focal:1")])
def test_batched_lm_is_the_serial_lm(size, tau, loss):
    """The same iteration on stacked arrays: from each start the same end point.

    Both run the same arithmetic in a different order of operations (rounding ~1e-16); an
    iteration can amplify such differences only where a step's acceptance is decided by
    a rounding-level margin, so nearly every start must end at the same coordinates and
    every start that both runs bring to a critical point at the same point modulo symmetry.
    """
    p = UFMProblem(*size, tau, loss=loss)
    pts, W, H = _starts(p, 24, 2)
    res = batched_levenberg_marquardt(p, W, H, max_iterations=30)
    same_coords = both = 0
    for b, x in enumerate(pts):
        w, h, g = levenberg_marquardt(p, *x, max_iterations=30)
        same_coords += max(np.max(np.abs(w - res.W[b])), np.max(np.abs(h - res.H[b]))) < 1e-8
        serial_ok = g <= 10 * res.models.gradient_tolerance(p)[b]
        if serial_ok and res.converged[b]:
            both += 1
            assert same_point(describe_point(p, w, h), describe_point(p, res.W[b], res.H[b]))
    assert same_coords >= 20 and both >= 18, (same_coords, both)
    assert np.all(res.gradient_norm[res.converged] <= 1e-12)


def test_batched_newton_polish_reaches_rounding_level_from_perturbed_family_points():
    p = UFMProblem(5, 3, 2, 2.0)
    fam = list(critical_point_families(p).values())[:6]
    rng = np.random.default_rng(3)
    W = np.stack([w + 1e-5 * rng.standard_normal(w.shape) for w, _ in fam])
    H = np.stack([h + 1e-5 * rng.standard_normal(h.shape) for _, h in fam])
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    res = batched_newton_polish(p, W, H, steps=8)
    for b in range(len(fam)):
        w, h, g = newton_polish(p, W[b], H[b], steps=8)
        assert res.gradient_norm[b] <= max(10 * g, 1e-14)
    assert res.converged.all()


def test_bad_input():
    p = UFMProblem(4, 3, 1, 1.0)
    _, W, H = _starts(p, 3, 0)
    with pytest.raises(ValueError, match=r"W must have shape \(B, 4, 3\)"):
        batched_levenberg_marquardt(p, W[0], H)
    with pytest.raises(ValueError, match=r"H must have shape \(3, 4, 3\)"):
        batched_levenberg_marquardt(p, W, H[:2])
    with pytest.raises(ValueError, match="W must have unit-norm columns"):
        batched_newton_polish(p, 2 * W, H)
    with pytest.raises(ValueError, match="finite"):
        batched_newton_polish(p, np.full_like(W, np.nan), H)
    with pytest.raises(TypeError, match="problem"):
        batched_levenberg_marquardt("problem", W, H)
    with pytest.raises(ValueError, match="max_iterations"):
        batched_levenberg_marquardt(p, W, H, max_iterations=-1)
