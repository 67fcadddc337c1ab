"""The oblique manifold helpers: projection, retraction and the rotation-orbit dimension."""

import numpy as np
import pytest

from nc_verify.objective.oblique import project_columns, retract, symmetry_orbit_dimension


def test_projection_is_tangent_and_idempotent():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4))
    X /= np.linalg.norm(X, axis=0)
    Z = rng.standard_normal((5, 4))
    P = project_columns(X, Z)
    # column-wise x . P(z) = 0 and P(P(z)) = P(z), to a few roundings of 5-term dot products
    assert np.max(np.abs(np.sum(X * P, axis=0))) <= 8 * np.finfo(float).eps * np.max(np.abs(Z))
    assert np.max(np.abs(project_columns(X, P) - P)) <= 8 * np.finfo(float).eps * np.max(np.abs(Z))


def test_retraction_has_unit_columns_and_is_second_order():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 3))
    X /= np.linalg.norm(X, axis=0)
    V = project_columns(X, rng.standard_normal((4, 3)))
    (Y,) = retract((X,), (V,), 1e-3)
    assert np.allclose(np.linalg.norm(Y, axis=0), 1.0, rtol=0, atol=4e-16)
    # second order: R(x, t v) = x + t v + O(t^2), so the first-order error is ~t^2 ||v||^2 / 2
    err = np.linalg.norm(Y - (X + 1e-3 * V))
    assert err <= 1e-6 * np.linalg.norm(V) ** 2


class TestOrbitDimension:
    @pytest.mark.parametrize("r", [1, 2, 3, 5])
    def test_formula(self, r):
        d = 6
        rng = np.random.default_rng(r)
        U = np.linalg.qr(rng.standard_normal((d, r)))[0]
        W = U @ rng.standard_normal((r, 4))
        H = U @ rng.standard_normal((r, 7))
        assert symmetry_orbit_dimension(W, H) == d * (d - 1) // 2 - (d - r) * (d - r - 1) // 2

    def test_bad_input(self):
        with pytest.raises(ValueError, match="same number of rows"):
            symmetry_orbit_dimension(np.ones((3, 2)), np.ones((4, 2)))
        with pytest.raises(ValueError, match="finite"):
            symmetry_orbit_dimension(np.full((3, 2), np.nan), np.ones((3, 2)))
