"""NC metrics: values at known configurations, invariances, input checks."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nc_verify import etf_point, nc_metrics, random_orthogonal, simplex_etf
from nc_verify.objective.metrics import class_means

from nc_verify.testing.strategies import problems_and_points

EPS = np.finfo(np.float64).eps


class TestSimplexETF:
    @pytest.mark.parametrize("d, K", [(2, 3), (3, 4), (5, 5), (10, 4), (2, 2)])
    def test_gram(self, d, K):
        X = simplex_etf(d, K, rng=1)
        np.testing.assert_allclose(np.linalg.norm(X, axis=0), 1.0, rtol=0, atol=4 * EPS)
        target = (K * np.eye(K) - np.ones((K, K))) / (K - 1)
        np.testing.assert_allclose(X.T @ X, target, rtol=0, atol=16 * EPS * K)

    def test_needs_room(self):
        with pytest.raises(ValueError, match=r"needs d >= K - 1 = 4, got d=3"):
            simplex_etf(3, 5)


class TestKnownValues:
    def test_zero_at_neural_collapse(self):
        W, H = etf_point(8, 4, 3, rng=0)
        labels = np.repeat(np.arange(4), 3)
        m = nc_metrics(W, H, labels)
        # exact collapse: Sigma_W = 0 up to rounding of the class means (~eps), so
        # NC1, a squared quantity, is ~eps^2 and the ETF distances are ~eps
        assert m.nc1 <= (64 * EPS) ** 2
        assert m.nc2 <= 64 * EPS and m.nc3 <= 64 * EPS and m.nc2_means <= 64 * EPS
        assert m.nc2_equinorm <= 64 * EPS and m.nc2_equiangularity <= 64 * EPS
        assert m.nc3_centered_sq <= 64 * EPS

    def test_hand_computed_nc1(self):
        # two classes on a line: means +-e1, features spread by +-s along e2.
        s = 0.3
        H = np.array([[1, 1, -1, -1], [s, -s, s, -s]], dtype=float)
        W = np.array([[1.0, -1.0], [0.0, 0.0]])
        m = nc_metrics(W, H, np.array([0, 0, 1, 1]))
        # Sigma_W = diag(0, s^2); Sigma_B = diag(1, 0): tr(Sigma_W pinv Sigma_B) = 0
        assert m.nc1 == pytest.approx(0.0, abs=1e-15)
        # trace ratio: s^2 / 1
        assert m.nc1_trace_ratio == pytest.approx(s**2, rel=1e-14)
        # variability along the mean direction: e1 offsets +-s instead
        H2 = np.array([[1 + s, 1 - s, -1 + s, -1 - s], [0, 0, 0, 0]], dtype=float)
        m2 = nc_metrics(W, H2, np.array([0, 0, 1, 1]))
        # Sigma_W = diag(s^2, 0), Sigma_B = diag(1, 0) -> trace s^2, /K = s^2 / 2
        assert m2.nc1_unnormalized == pytest.approx(s**2, rel=1e-13)
        assert m2.nc1 == pytest.approx(s**2 / 2, rel=1e-13)

    def test_nc2_of_orthonormal_frame(self):
        # W^T W = I: distance between I/sqrt(K) and (I - 11^T/K)/sqrt(K-1), by hand
        K = 4
        W = np.eye(6)[:, :K]
        m = nc_metrics(W, np.repeat(W, 2, axis=1), np.repeat(np.arange(K), 2))
        target = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
        assert m.nc2 == pytest.approx(np.linalg.norm(np.eye(K) / 2 - target), rel=1e-14)
        assert m.nc3 == pytest.approx(m.nc2, rel=1e-14)

    def test_class_means(self):
        H = np.arange(12.0).reshape(2, 6)
        np.testing.assert_allclose(class_means(H, np.array([0, 1, 0, 1, 2, 2]), 3),
                                   [[1, 2, 4.5], [7, 8, 10.5]])


class TestInvariance:
    @given(problems_and_points(), st.integers(0, 2**32 - 1), st.floats(0.1, 10), st.floats(0.1, 10))
    def test_rotation_relabelling_scaling(self, data, seed, a, b):
        p, W, H = data
        # NC1 uses pinv(Sigma_B), which is discontinuous where the centred class means
        # lose rank (coincident means: rank < K - 1); keep configurations whose K - 1
        # non-trivial singular values are well separated from zero
        centred = class_means(H, p.labels, p.K) - H.mean(axis=1, keepdims=True)
        sv = np.linalg.svd(centred, compute_uv=False)
        rank = min(p.K - 1, p.d)
        # (features are unit vectors, so 1e-3 is also an absolute separation)
        assume(sv[rank - 1] > 1e-3 * max(sv[0], 1.0))
        # NC3 normalises W^T Hbar: undefined (NaN) when it vanishes, ill-conditioned near it
        means = class_means(H, p.labels, p.K)
        assume(np.linalg.norm(W.T @ means) > 1e-3 * np.linalg.norm(W) * np.linalg.norm(means))
        rng = np.random.default_rng(seed)
        m = nc_metrics(W, H, p.labels).as_dict()
        Q = random_orthogonal(p.d, rng)
        perm = rng.permutation(p.K)
        Hb = H.reshape(p.d, p.K, p.n)[:, perm].reshape(p.d, p.N)
        for W2, H2 in ((Q @ W, Q @ H), (W[:, perm], Hb), (a * W, b * H)):
            m2 = nc_metrics(W2, H2, p.labels).as_dict()
            for key, v in m.items():
                # every metric is a smooth function of well-conditioned Gram matrices
                # except through pinv(Sigma_B), whose conditioning the relative
                # tolerance 1e-6 absorbs at these sizes (d <= 30)
                assert m2[key] == pytest.approx(v, rel=1e-6, abs=1e-9), key


class TestInputChecks:
    W, H = etf_point(5, 3, 2, rng=0)
    labels = np.repeat(np.arange(3), 2)

    def test_shapes(self):
        with pytest.raises(ValueError, match=r"H must have shape \(d=5, N\)"):
            nc_metrics(self.W, self.H[:4], self.labels)
        with pytest.raises(ValueError, match="W must be a 2-D array"):
            nc_metrics(self.W[:, 0], self.H, self.labels)
        with pytest.raises(ValueError, match=r"labels must be an integer array of shape \(6,\)"):
            nc_metrics(self.W, self.H, self.labels[:5])

    def test_labels_cover_classes(self):
        with pytest.raises(ValueError, match="labels must take every value 0..2"):
            nc_metrics(self.W, self.H, np.array([0, 0, 1, 1, 1, 1]))

    def test_degenerate_means_give_nan(self):
        W = self.W
        H = np.repeat(W[:, :1], 6, axis=1)  # every feature identical: Sigma_B = 0
        m = nc_metrics(W, H, self.labels)
        assert np.isnan(m.nc1) and np.isnan(m.nc2_means) and np.isnan(m.nc1_trace_ratio)

    def test_non_finite(self):
        H = self.H.copy()
        H[1, 1] = np.inf
        with pytest.raises(ValueError, match="H has NaN or infinite entries"):
            nc_metrics(self.W, H, self.labels)


def test_nc3_where_W_differs_from_the_class_means():
    # d = 2, K = 2, n = 2, W = I; class 0 features e1, e1 (mean e1), class 1 features e2, -e1
    # (mean (-1/2, 1/2)).  W^T Hbar = [[1, -1/2], [0, 1/2]] has Frobenius norm sqrt(3/2), so with
    # a = sqrt(2/3) and E = (I - 11^T/2) / sqrt(1):
    #   NC3^2 = (a - 1/2)^2 + 2 (1/2 - a/2)^2 + 1/4 = 3a^2/2 - 2a + 1 = 2 - 2 sqrt(2/3).
    # Wrong variants give other numbers: W^T W in place of W^T Hbar (sqrt(2 - sqrt 2) = 0.765),
    # the squared distance (0.367), centred class means (0.4595).
    W = np.eye(2)
    H = np.array([[1.0, 1.0, 0.0, -1.0], [0.0, 0.0, 1.0, 0.0]])
    m = nc_metrics(W, H, np.array([0, 0, 1, 1]))
    expected = np.sqrt(2 - 2 * np.sqrt(2 / 3))
    assert abs(m.nc3 - expected) <= 4 * EPS
    assert abs(m.nc3 - 0.6058108) <= 1e-7
