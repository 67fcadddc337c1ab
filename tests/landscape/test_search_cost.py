"""The batched parts of the search's cost per start: Hessian-norm bound, batched classification,
batched descent, grouped Levenberg-Marquardt retries and the Hessian blocks (value tests)."""

import numpy as np
import pytest

import nc_verify.landscape.batched as bt
from nc_verify import UFMProblem
from nc_verify.landscape.batched import batched_descent, batched_levenberg_marquardt
from nc_verify.landscape.embedding import embed, embedded_spectrum, normal_block, normal_norm_bound
from nc_verify.landscape.points import _signature, found_point, found_points, same_point
from nc_verify.landscape.rounding import eigenvalue_floor, gradient_rounding
from nc_verify.landscape.search import _converged, _converged_batch
from nc_verify.landscape.spectrum import hessian_matrix, hessian_spectrum, householder_basis
from nc_verify.objective.problem import (
    batched_costs,
    batched_loss_quantities,
    column_hessians,
    riemannian_hessian_matrix,
)

EPS = np.finfo(float).eps


def _batch(p, m, seed):
    rng = np.random.default_rng(seed)
    pts = [p.random_point(rng) for _ in range(m)]
    return np.stack([w for w, _ in pts]), np.stack([h for _, h in pts])


@pytest.mark.parametrize("r, K, n, tau, d", [(2, 4, 2, 2.0, 5), (3, 5, 1, 1.5, 6), (2, 3, 1, 8.0, 4)])
def test_hessian_norm_bound_dominates_the_dense_norm_and_needs_the_normal_block(r, K, n, tau, d):
    """max(||Hess_r||, normal_norm_bound(Q)) >= ||Hess_d|| of the embedded point (dense), at random
    points and at critical points; the small problem's norm alone (the normal block left out)
    falls below it at most random points."""
    q, p = UFMProblem(r, K, n, tau), UFMProblem(d, K, n, tau)
    W, H = _batch(q, 12, 1)
    critical = list(q.known_critical_points().values())
    assert critical
    points = list(zip(W, H)) + critical
    below = 0
    for w, h in points:
        small = np.max(np.abs(hessian_spectrum(q, w, h)))
        full = np.max(np.abs(hessian_spectrum(p, *embed(w, h, d))))
        Q = normal_block(q, w, h)
        exact_q = np.max(np.abs(np.linalg.eigvalsh(Q)))
        # both norms of the bound dominate ||Q||_2; eigensolver error ~ T eps ||Hess||
        assert normal_norm_bound(Q) >= exact_q * (1 - 1e-13)
        assert max(small, normal_norm_bound(Q)) >= full * (1 - 1e-13)
        below += small < full * (1 - 1e-6)
    assert below >= 6              # the wrong variant (no normal block) underestimates at most random points


@pytest.mark.parametrize("r, d", [(2, 5), (3, 5), (5, 5)])
def test_batched_classification_is_the_point_by_point_rule(r, d):
    """_converged_batch keeps exactly the starts the per-point rule (embedded spectrum, dense
    tolerance) keeps, with the same records."""
    p = UFMProblem(d, 4, 2, 2.0)
    q = p.resized(r)
    res = batched_levenberg_marquardt(q, *_batch(q, 40, 2), max_iterations=30)
    batch = _converged_batch(p, q, res)
    kept = 0
    for b, got in enumerate(batch):
        lam, w, h = res.models.eigenvalues[b], res.W[b], res.H[b]
        if r < d:
            lam, (w, h) = embedded_spectrum(q, w, h, lam, d), embed(w, h, d)
        ref = _converged(p, (w, h), float(res.gradient_norm[b]), lam)
        assert (got is None) == (ref is None)
        if ref is not None:
            kept += 1
            assert same_point(got, ref) and got.n_zero == ref.n_zero and got.orbit_dimension == ref.orbit_dimension
            assert abs(got.cost - ref.cost) <= 8 * EPS * abs(ref.cost)
    assert 0 < kept < len(batch) or r == d       # both outcomes exercised where starts fail


def test_prefilter_tolerance_is_monotone_in_the_norm():
    """The pre-filter is exact because the tolerance grows with ||Hess||: a start rejected at an
    upper bound of the norm is rejected at the norm itself."""
    p = UFMProblem(6, 4, 2, 2.0)
    norms = np.array([0.0, 1e-3, 1.0, 10.0])
    tol = gradient_rounding(p, np.ones(4), norms)
    assert np.all(np.diff(tol) > 0)


def test_found_points_is_found_point_per_point():
    p = UFMProblem(5, 3, 2, 2.0)
    W, H = _batch(p, 6, 3)
    lam = np.random.default_rng(4).standard_normal((6, p.tangent_dimension))
    got = found_points(p, (W, H), np.arange(6.0), lam, batched_costs(p, W, H))
    for b in range(6):
        ref = found_point(p, (W[b], H[b]), float(b), lam[b])
        assert got[b].n_zero == ref.n_zero and got[b].orbit_dimension == ref.orbit_dimension
        assert abs(got[b].cost - ref.cost) <= 8 * EPS * abs(ref.cost)
        for k, v in ref.invariants.items():
            assert np.max(np.abs(got[b].invariants[k] - v)) <= 64 * EPS * (1 + np.max(np.abs(v)))
        # the signature formed for the batch is the one formed point by point from the same invariants
        batched = got[b].__dict__.pop("_signature")
        single = _signature(got[b])
        assert batched[1:3] == single[1:3] and batched[0] is single[0]
        for x, y in zip(batched[3:], single[3:]):
            assert np.array_equal(x, y)


@pytest.mark.parametrize("size, tau", [((5, 3, 2), 2.0), ((7, 4, 1), 1.0), ((4, 5, 1), 3.0)])
def test_batched_descent_ends_at_minima(size, tau):
    """From uniform starts the batched descent ends at critical points whose spectrum is >= 0 to
    within the eigenvalue floor, below the start's cost; the root-finder from the same starts
    (a wrong variant: it lands on saddles) fails the same check."""
    p = UFMProblem(*size, tau)
    W, H = _batch(p, 16, 5)
    f0 = batched_costs(p, W, H)
    res = batched_descent(p, W.copy(), H.copy())
    assert np.all(res.converged)
    lam = res.models.eigenvalues
    floor = np.array([eigenvalue_floor(p, x) for x in np.max(np.abs(lam), axis=1)])
    assert np.all(lam[:, 0] >= -floor)
    assert np.all(batched_costs(p, res.W, res.H) < f0)
    lm = batched_levenberg_marquardt(p, W, H, max_iterations=30)
    lam = lm.models.eigenvalues[lm.converged]
    floor = np.array([eigenvalue_floor(p, x) for x in np.max(np.abs(lam), axis=1)])
    assert np.any(lam[:, 0] < -floor)


def test_batched_descent_reaches_the_theorem1_bound_where_it_is_the_only_minimum():
    """(5, 3, 1), tau = 2: every run ends at the global minimum (the bound, to the cost's rounding)."""
    p = UFMProblem(5, 3, 1, 2.0)
    res = batched_descent(p, *_batch(p, 8, 6))
    f = batched_costs(p, res.W, res.H)
    assert np.all(np.abs(f - p.bound) <= 64 * EPS * p.bound)


def test_grouped_retries_are_the_sequential_retries(monkeypatch):
    """Retries evaluated in groups (bt._RETRY_WIDTHS) take the first damping that lowers ||grad f||, as
    one-at-a-time retries do: the same iterates.  Taking the last successful damping of a group
    (a wrong variant) gives other iterates."""
    p = UFMProblem(3, 4, 2, 2.0)
    W, H = _batch(p, 48, 7)

    def run(widths, its):
        monkeypatch.setattr(bt, "_RETRY_WIDTHS", widths)
        return batched_levenberg_marquardt(p, W, H, max_iterations=its)

    groups = bt._RETRY_WIDTHS
    assert sum(groups) == 12 and len(groups) > 1
    for its in (1, 3):
        grouped, single = run(groups, its), run((1,) * 12, its)
        # the batched gradient norms round a little differently with other batch compositions
        assert np.max(np.abs(grouped.W - single.W)) <= 1e-12
        assert np.max(np.abs(grouped.H - single.H)) <= 1e-12
    # the wrong variant: one group of 12 dampings, keeping the last successful one
    argmax = np.argmax
    monkeypatch.setattr(bt.np, "argmax", lambda a, axis=None: a.shape[-1] - 1 - argmax(a[..., ::-1], axis=axis)
                        if axis == 1 else argmax(a, axis=axis))
    wrong = run((12,), 3)
    monkeypatch.setattr(bt.np, "argmax", argmax)
    assert np.max(np.abs(wrong.W - single.W)) > 1e-6


@pytest.mark.parametrize("d, K, n", [(2, 3, 1), (4, 5, 2), (7, 3, 3)])
def test_hessian_blocks_are_the_products_matrix(d, K, n):
    """The closed-form assembly equals the matrix of Hessian-vector products (batched and single),
    exactly symmetric."""
    p = UFMProblem(d, K, n, 1.7)
    W, H = _batch(p, 3, 8)
    G, row, col, blocks = batched_loss_quantities(p, W, H, hessian_blocks=True)
    basis = householder_basis(W, H)
    A = riemannian_hessian_matrix(p.tau, W, H, G, blocks, row, col, *basis.column_bases())
    assert np.array_equal(A, np.swapaxes(A, -1, -2))
    for b in range(3):
        ref = hessian_matrix(p, W[b], H[b], method="products")
        assert np.max(np.abs(A[b] - ref)) <= 64 * EPS * np.max(np.abs(ref))
        s = p.hessian_operator(W[b], H[b]).state
        one = riemannian_hessian_matrix(p.tau, W[b], H[b], s.grad, column_hessians(s, K, p.N), s.row_curvature,
                                        s.col_curvature, *householder_basis(W[b], H[b]).column_bases())
        assert np.max(np.abs(one - ref)) <= 64 * EPS * np.max(np.abs(ref))


def test_a_start_whose_twelve_dampings_fail_stops(monkeypatch):
    """When no damping lowers ||grad f|| (trial points made to fail), every start stops after its first
    iteration: one A^2 per start, not one per iteration up to the cap (the stop that a grouped-retry
    rewrite once lost), with mu multiplied by 4^12 and the start left where it was."""
    p = UFMProblem(3, 3, 2, 2.0)
    W, H = _batch(p, 5, 9)
    systems = []
    lm_system = bt._lm_system
    monkeypatch.setattr(bt, "_lm_system", lambda m, idx: systems.append(len(idx)) or lm_system(m, idx))
    monkeypatch.setattr(bt, "batched_gradient_norms", lambda problem, W, H: np.full(W.shape[0], np.inf))
    res = batched_levenberg_marquardt(p, W, H, max_iterations=30)
    assert systems == [5]
    assert np.array_equal(res.W, W) and np.array_equal(res.H, H)
