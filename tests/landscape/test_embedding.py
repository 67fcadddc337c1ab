"""The span argument (nc_verify.landscape.embedding): reduction, embedding and the embedded spectrum."""

import numpy as np
import pytest
from scipy.stats import special_ortho_group

from nc_verify import UFMProblem
from nc_verify.landscape.embedding import embed, embedded_spectrum, normal_block, reduce_to_span
from nc_verify.landscape.spectrum import hessian_matrix, symmetric_eigh
from nc_verify.objective.families import critical_point_families

EPS = np.finfo(float).eps


def _rotated(x, Q):
    return tuple(Q @ b for b in x)


@pytest.mark.parametrize("size,tau", [((7, 4, 2), 2.0), ((6, 3, 1), 1.0), ((5, 4, 1), 3.0)])
def test_embedded_spectrum_is_the_full_spectrum_on_every_family_point(size, tau):
    """Small spectrum + (d - r) copies of the normal block's = the dense (d, K, n) spectrum
    (docs/search.md, "The Hessian at an embedded point"), at every exact family point of
    span r >= 2, rotated at random in R^d."""
    p = UFMProblem(*size, tau)
    d = p.d
    rng = np.random.default_rng(0)
    checked = 0
    for name, x in critical_point_families(p, rng).items():
        W, H = _rotated(x, special_ortho_group.rvs(d, random_state=rng))
        w, h, B = reduce_to_span(W, H)
        r = w.shape[0]
        if r < 2 or r >= d:
            continue
        q = p.resized(r)
        w, h = w / np.linalg.norm(w, axis=0), h / np.linalg.norm(h, axis=0)
        ref = symmetric_eigh(hessian_matrix(p, W, H), eigvals_only=True)
        tol = 1e3 * EPS * max(1.0, np.max(np.abs(ref)))
        # the reduced point is critical in the small problem (its gradient is B^T grad f = 0)
        assert q.gradient_norm(w, h) <= tol, name
        small = symmetric_eigh(hessian_matrix(q, w, h), eigvals_only=True)
        full = embedded_spectrum(q, w, h, small, d)
        assert full.shape == ref.shape and np.max(np.abs(full - ref)) <= tol, name
        # wrong variants: one copy of the normal block too few (padded with zeros) or the
        # normal block without its curvature terms (the diagonal of eq. (8))
        if d - r >= 2:
            fewer = np.sort(np.concatenate([small, np.tile(symmetric_eigh(normal_block(q, w, h), eigvals_only=True),
                                                           d - r - 1), np.zeros(p.K + p.N)]))
            assert np.max(np.abs(fewer - ref)) > 1e-3, name
        Q = normal_block(q, w, h)
        bare = Q - np.diag(np.diag(Q))
        wrong = np.sort(np.concatenate([small, np.tile(symmetric_eigh(bare, eigvals_only=True), d - r)]))
        if np.max(np.abs(np.diag(Q))) > 1e-3:
            assert np.max(np.abs(wrong - ref)) > 1e-3, name
        checked += 1
    assert checked >= 3


def test_normal_block_is_the_quadratic_form_along_normal_directions():
    """At any point in R^r embedded in R^d (critical or not), along dw_k = c_k u,
    dh_j = e_j u with u normal to the span, eqs. (7)-(8) give [c, e]^T Q [c, e]."""
    p = UFMProblem(6, 3, 2, 2.5)
    q = p.resized(3)
    rng = np.random.default_rng(1)
    w, h = q.random_point(rng)
    W, H = embed(w, h, 6)
    for _ in range(3):
        u = np.r_[np.zeros(3), rng.standard_normal(3)]
        u /= np.linalg.norm(u)
        c, e = rng.standard_normal(p.K), rng.standard_normal(p.N)
        form = p.hessian_quadratic_form(W, H, np.outer(u, c), np.outer(u, e))
        z = np.r_[c, e]
        assert abs(form - z @ normal_block(q, w, h) @ z) <= 1e-12 * (1 + abs(form))


def test_reduce_and_embed_round_trip():
    p = UFMProblem(7, 4, 1, 2.0)
    fam = critical_point_families(p)
    W, H = fam["global_etf"]
    w, h, B = reduce_to_span(W, H)
    assert w.shape == (3, 4) and B.shape == (7, 3)          # the simplex ETF spans K - 1 = 3
    assert np.allclose(B @ w, W, atol=1e-14) and np.allclose(B @ h, H, atol=1e-14)
    W2, H2 = embed(w, h, 7)
    assert W2.shape == (7, 4) and np.allclose(W2[3:], 0.0)
    assert abs(p.cost(W2 / np.linalg.norm(W2, axis=0), H2 / np.linalg.norm(H2, axis=0)) - p.cost(W, H)) < 1e-14
    with pytest.raises(ValueError, match="d"):
        embed(w, h, 2)
