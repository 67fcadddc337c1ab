"""Fixed-point subspace starts: the starts are fixed by their subgroup, and the iteration keeps them there."""

import itertools

import numpy as np
import pytest

from nc_verify import UFMProblem
from nc_verify.landscape.batched import batched_levenberg_marquardt
from nc_verify.landscape.sources import (class_element, fixed_point_start, fixed_set, fixed_set_invariant,
                                         orthogonal_map, random_subgroup, subgroup_starts, subgroup_types)


def _residual(W, H, generators):
    """max over generators and columns of ||x_{pi(c)} - Q x_c||."""
    X = np.concatenate([W, H], axis=1)
    return max(float(np.max(np.linalg.norm(X[:, pi] - Q @ X, axis=0))) for pi, Q in generators)


def _act(W, H, pi, Q):
    """The point ``g X``: column ``pi(c)`` of the result is ``Q x_c``."""
    X = np.concatenate([W, H], axis=1)
    Y = np.empty_like(X)
    Y[:, pi] = Q @ X
    K = W.shape[1]
    return Y[:, :K], Y[:, K:]


class TestOrthogonalMap:
    @pytest.mark.parametrize("kind,m,j,order,det", [("id", 2, 1, 1, 1), ("reflection", 2, 1, 2, -1),
                                                    ("rotation", 5, 2, 5, 1), ("rotation", 2, 1, 2, 1),
                                                    ("rotoreflection", 4, 1, 4, -1)])
    def test_order_and_determinant(self, kind, m, j, order, det):
        Q = orthogonal_map(4, kind, m, j)
        assert np.allclose(Q.T @ Q, np.eye(4), atol=1e-15)
        assert round(np.linalg.det(Q)) == det
        powers = [np.linalg.matrix_power(Q, k) for k in range(1, order + 1)]
        assert np.allclose(powers[-1], np.eye(4), atol=1e-14)
        assert not any(np.allclose(P, np.eye(4), atol=1e-6) for P in powers[:-1])   # order exactly `order`

    def test_bad_kind(self):
        with pytest.raises(ValueError, match="kind"):
            orthogonal_map(3, "shear")
        with pytest.raises(ValueError, match="r >= 3"):
            orthogonal_map(2, "rotoreflection", 4)


class TestFixedPointStart:
    def test_class_element_columns(self):
        # K = 3, n = 2: classes 0 -> 1 -> 0, class 2 fixed; sample 0 of class 0 -> sample 1 of class 1
        pi, _ = class_element(3, 2, [1, 0, 2], [[1, 0], [0, 1], [0, 1]], np.eye(2))
        assert list(pi) == [1, 0, 2, 3 + 3, 3 + 2, 3 + 0, 3 + 1, 3 + 4, 3 + 5]

    def test_mirror_pair_by_hand(self):
        """Classes 0 and 1 swapped with a reflection: w_1 is the mirror image of w_0, and so are their features."""
        r, K, n = 3, 3, 2
        Q = orthogonal_map(r, "reflection")
        gens = [class_element(K, n, [1, 0, 2], [[0, 1], [0, 1], [0, 1]], Q)]
        W, H = fixed_point_start(r, K, n, gens, np.random.default_rng(0))
        assert np.allclose(W[:, 1], Q @ W[:, 0], atol=1e-15) and np.allclose(H[:, 2:4], Q @ H[:, 0:2], atol=1e-15)
        # class 2 is fixed by the element: its vectors lie on the mirror (first coordinate 0)
        assert np.max(np.abs(W[0, 2])) < 1e-15 and np.max(np.abs(H[0, 4:6])) < 1e-15
        assert np.allclose(np.linalg.norm(np.concatenate([W, H], 1), axis=0), 1.0, atol=1e-15)

    def test_rotation_cycle(self):
        """A 3-cycle of classes with a rotation by 2 pi / 3: the classifiers form an equilateral triangle."""
        r, K, n = 2, 3, 1
        gens = [class_element(K, n, [1, 2, 0], [[0], [0], [0]], orthogonal_map(r, "rotation", 3, 1))]
        W, H = fixed_point_start(r, K, n, gens, np.random.default_rng(1))
        G = W.T @ W
        assert np.allclose(G[np.triu_indices(3, 1)], -0.5, atol=1e-14)
        # the wrong angle (2 pi / 3 imposed on a 2-cycle of classes) has no fixed unit vector on the cycle
        bad = [class_element(K, n, [1, 0, 2], [[0], [0], [0]], orthogonal_map(r, "rotation", 3, 1))]
        assert fixed_point_start(r, K, n, bad, np.random.default_rng(1)) is None

    @pytest.mark.parametrize("r,K,n", [(3, 5, 2), (2, 4, 3), (4, 6, 1)])
    def test_random_subgroups_fix_their_starts(self, r, K, n):
        rng = np.random.default_rng(r * 100 + K * 10 + n)
        for _ in range(40):
            gens = random_subgroup(r, K, n, rng)
            x = fixed_point_start(r, K, n, gens, rng)
            if x is None:
                continue
            W, H = x
            assert W.shape == (r, K) and H.shape == (r, K * n)
            assert np.allclose(np.linalg.norm(np.concatenate([W, H], 1), axis=0), 1.0, atol=1e-14)
            assert _residual(W, H, gens) < 1e-13
            # not every column is fixed trivially: a random other relabelling does not fix the point
            other = class_element(K, n, rng.permutation(K), [rng.permutation(n) for _ in range(K)], np.eye(r))
            if not np.array_equal(other[0], np.arange(K + K * n)):
                assert _residual(W, H, gens + [other]) > 1e-6 or _residual(W, H, [other]) < 1e-13

    def test_uniform_on_the_fixed_set(self):
        """Two tied samples of one class: the shared feature is uniform on the sphere (mean ~0, second moment I/r)."""
        r, K, n = 3, 2, 2
        gens = [class_element(K, n, [0, 1], [[1, 0], [0, 1]], np.eye(r))]
        rng = np.random.default_rng(5)
        xs = np.array([fixed_point_start(r, K, n, gens, rng)[1][:, 0] for _ in range(4000)])
        # standard errors: mean 1/sqrt(3 * 4000) ~ 0.009, second moment ~ 0.005
        assert np.max(np.abs(xs.mean(0))) < 0.04
        assert np.max(np.abs(xs.T @ xs / len(xs) - np.eye(r) / r)) < 0.03

    def test_bad_kinds(self):
        rng = np.random.default_rng(0)
        with pytest.raises(ValueError, match="kinds must name"):
            random_subgroup(2, 3, 2, rng, ("rotations",))
        with pytest.raises(ValueError, match="ties need"):
            random_subgroup(2, 3, 1, rng, ("ties",))
        with pytest.raises(ValueError, match="no element"):
            random_subgroup(2, 1, 1, rng)

    def test_subgroup_starts_size(self):
        starts = subgroup_starts(3, 4, 2, 17, np.random.default_rng(2))
        assert len(starts) == 17 and all(r == 3 and x[0].shape == (3, 4) for r, x in starts)


def _projector_invariants(r, K, n, generators):
    """(tr, squared norm) of the r x r blocks of the projector onto {X : x_pi(c) = Q x_c}, shape (2, m, m).

    Computed from the null space of the stacked linear constraints in R^(r m) (not from the orbits of
    ``fixed_set``): an independent route to the fixed subspace.
    """
    m = K + K * n
    rows = []
    for pi, Q in generators:
        for c in range(m):
            A = np.zeros((r, r, m))              # x_pi(c) - Q x_c, as rows acting on vec(X) (r-major)
            A[:, :, pi[c]] += np.eye(r)
            A[:, :, c] -= Q
            rows.append(A.reshape(r, r * m))
    _, s, vt = np.linalg.svd(np.concatenate(rows))
    N = vt[int(np.sum(s > 1e-9)):]
    P = (N.T @ N).reshape(r, m, r, m).transpose(1, 3, 0, 2)          # blocks P[c, c'] of shape (r, r)
    return np.round(np.stack([np.einsum("abii->ab", P), np.einsum("abij,abij->ab", P, P)]), 9)


def _relabellings(K, n):
    """Every element of G = S_K x| (S_n)^K as a permutation of the K + K n columns."""
    for sigma in itertools.permutations(range(K)):
        for bij in itertools.product(list(itertools.permutations(range(n))), repeat=K):
            yield class_element(K, n, sigma, bij, np.eye(1))[0]


def _conjugate_invariants(a, b, perms):
    """Whether some relabelling maps the projector invariants ``a`` onto ``b`` (necessary for conjugacy)."""
    return any(np.array_equal(a[:, pi][:, :, pi], b) for pi in perms)


class TestSubgroupTypes:
    @pytest.mark.parametrize("r,K,n", [(2, 3, 2), (3, 3, 2), (3, 4, 1)])
    def test_types_are_pairwise_non_conjugate(self, r, K, n):
        """No relabelling maps one type's fixed subspace invariants onto another's (brute force over G).

        Rotation-invariant block traces and norms of the projector are permuted by a relabelling, so
        two types whose invariants no element of G matches are not conjugate in G x O(r).  The wrong
        variant: a random conjugate ``(g, R)`` of a type, added to the list, is caught as conjugate.
        """
        types = subgroup_types(r, K, n)
        perms = [np.argsort(pi) for pi in _relabellings(K, n)]      # X[:, argsort(pi)] moves column c to pi(c)
        inv = [_projector_invariants(r, K, n, t.generators) for t in types]
        for i in range(len(types)):
            for j in range(i):
                assert not _conjugate_invariants(inv[i], inv[j], perms), (types[i].name, types[j].name)
        rng = np.random.default_rng(7)
        k = int(rng.integers(len(types)))
        t = types[k]
        g, _ = class_element(K, n, rng.permutation(K), [rng.permutation(n) for _ in range(K)], np.eye(r))
        R = np.linalg.qr(rng.standard_normal((r, r)))[0]
        ginv = np.argsort(g)
        conj = [(g[pi[ginv]], R @ Q @ R.T) for pi, Q in t.generators]
        assert _conjugate_invariants(_projector_invariants(r, K, n, conj), inv[k], perms)
        assert fixed_set_invariant(r, K, n, fixed_set(r, K, n, conj)) == t.invariant

    @pytest.mark.parametrize("r,K,n", [(3, 4, 2), (2, 5, 1), (3, 3, 3)])
    def test_every_independent_draw_has_a_type(self, r, K, n):
        """The subgroups of :func:`random_subgroup` that fix a point all have the invariant of some type."""
        keys = {t.invariant for t in subgroup_types(r, K, n)}
        rng = np.random.default_rng(r + K + n)
        seen = 0
        for _ in range(150):
            fixed = fixed_set(r, K, n, random_subgroup(r, K, n, rng))
            if fixed is not None:
                seen += 1
                assert fixed_set_invariant(r, K, n, fixed) in keys
        assert seen > 30                             # a third to most of the draws fix a point

    @pytest.mark.parametrize("r,K,n", [(3, 4, 2), (2, 3, 3), (4, 5, 1)])
    def test_starts_are_fixed_by_their_type(self, r, K, n):
        """Start s < size // 2 of a batch lies in the fixed set of type (o + s) mod T, o the batch's first draw.

        The residual ||x_pi(c) - Q x_c|| is at rounding (1e-13: a product of at most K + N orthogonal
        maps, each exact to 1e-16, applied to a unit vector); the wrong variant, the start checked
        against the next type's generators, is off by O(1) for most starts.  The second half are
        independent draws (unit columns, the problem size).
        """
        types = subgroup_types(r, K, n)
        T = len(types)
        starts = subgroup_starts(r, K, n, 2 * (T + 3), np.random.default_rng(4))
        o = int(np.random.default_rng(4).integers(T))
        wrong = 0
        for s, (rr, (W, H)) in enumerate(starts):
            assert rr == r and W.shape == (r, K) and H.shape == (r, K * n)
            assert np.allclose(np.linalg.norm(np.concatenate([W, H], 1), axis=0), 1.0, atol=1e-14)
            if s < T + 3:
                assert _residual(W, H, types[(o + s) % T].generators) < 1e-13
                wrong += _residual(W, H, types[(o + s + 1) % T].generators) > 1e-6
        assert wrong > T // 2

    def test_reproducible_for_a_seed(self):
        a = subgroup_starts(3, 4, 2, 50, np.random.default_rng(12))
        b = subgroup_starts(3, 4, 2, 50, np.random.default_rng(12))
        c = subgroup_starts(3, 4, 2, 50, np.random.default_rng(13))
        assert all(np.array_equal(x[1][0], y[1][0]) and np.array_equal(x[1][1], y[1][1]) for x, y in zip(a, b))
        assert not all(np.array_equal(x[1][0], y[1][0]) for x, y in zip(a, c))

    def test_every_type_fixes_a_point_and_the_empty_ones_are_left_out(self):
        """A rotation by 2 pi / 3 on a 2-cycle of classes fixes no point: no type has it, every type has a fixed set."""
        types = subgroup_types(2, 3, 1)
        assert all(fixed_set(2, 3, 1, t.generators) is not None for t in types)
        bad = [class_element(3, 1, [1, 0, 2], [[0], [0], [0]], orthogonal_map(2, "rotation", 3, 1))]
        assert fixed_set(2, 3, 1, bad) is None
        # by hand at (2, 3, 1): twins; the mirror (2) by a reflection, alone or with twins on its own pair or on a
        # moved and the fixed class (the other such pair is conjugate); the 3-cycle by a third of a turn.  Empty:
        # the half-turn (the fixed class would need x = -x), the 3-cycle with twins (forces the turn to be I)
        names = sorted(t.name for t in types)
        assert names == sorted(["twins 0-1", "mirror (2,) reflection", "mirror (2,) reflection; twins 0-1",
                                "mirror (2,) reflection; twins 0-2", "mirror (3,) rotation 1/3"])


class TestEquivariance:
    def test_one_step_commutes_with_the_group(self):
        """LM(g X) = g LM(X) for a random X and an element g of G x O(r) (one iteration, then the polish)."""
        p = UFMProblem(3, 4, 2, 1.5)
        rng = np.random.default_rng(11)
        W, H = p.random_point(rng)
        pi, _ = class_element(4, 2, [2, 0, 1, 3], [rng.permutation(2) for _ in range(4)], np.eye(3))
        Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
        gW, gH = _act(W, H, pi, Q)
        a = batched_levenberg_marquardt(p, W[None], H[None], max_iterations=1)
        b = batched_levenberg_marquardt(p, gW[None], gH[None], max_iterations=1)
        aW, aH = _act(a.W[0], a.H[0], pi, Q)
        # rounding: one LM step and six pseudo-inverse Newton steps, each a solve whose condition reaches
        # ~1e4 away from a critical point, so ~1e-11 (measured 2.4e-11); a broken symmetry shows at the
        # step's size, 1e-3 and above (the wrong variant below)
        assert np.max(np.abs(aW - b.W[0])) < 1e-9 and np.max(np.abs(aH - b.H[0])) < 1e-9
        assert np.max(np.abs(a.W[0] - W)) > 1e-3                      # the step moved the point
        # a relabelling that does not move the samples with their class breaks the symmetry
        bad = pi.copy()
        bad[4:] = 4 + np.arange(8)
        cW, cH = _act(a.W[0], a.H[0], bad, Q)
        bW, bH = _act(W, H, bad, Q)
        c = batched_levenberg_marquardt(p, bW[None], bH[None], max_iterations=1)
        assert np.max(np.abs(cW - c.W[0])) + np.max(np.abs(cH - c.H[0])) > 1e-3

    @pytest.mark.parametrize("r,K,n,tau", [(3, 5, 2, 1.5), (4, 5, 2, 1.5), (2, 3, 3, 0.7)])
    def test_iterates_stay_in_the_fixed_set(self, r, K, n, tau):
        """From a fixed start the LM iterate stays fixed to rounding; a non-symmetric perturbation does not.

        After one iteration (and the six polish steps) the exact element ``(pi, Q)`` still fixes the
        iterate to rounding: 1e-15 typically, 1.2e-11 where the polish solves with a Hessian of
        condition ~1e5 (nearly coinciding classifiers), so 1e-9; a perturbation off the fixed set by
        1e-5 stays 1e-6 or more off it (measured: 0.1 to 10 times the perturbation).  At convergence the pseudo-inverse polish may drift along the rotation orbit
        by rounding amplified by the orbit's zero eigenvalues (1e-10 seen): the end point is then fixed
        by a conjugate ``(pi, Q')``, i.e. its Gram matrix is invariant under ``pi`` (to <= 1e-14).
        """
        p = UFMProblem(r, K, n, tau)
        rng = np.random.default_rng(3)
        checked = 0
        for _ in range(10):
            gens = random_subgroup(r, K, n, rng)
            x = fixed_point_start(r, K, n, gens, rng)
            if x is None:
                continue
            W, H = x
            end = batched_levenberg_marquardt(p, W[None], H[None], max_iterations=30)
            X = np.concatenate([end.W[0], end.H[0]], axis=1)
            G = X.T @ X
            assert max(np.max(np.abs(G[np.ix_(pi, pi)] - G)) for pi, _ in gens) < 1e-12
            one = batched_levenberg_marquardt(p, W[None], H[None], max_iterations=1)
            if one.gradient_norm[0] < 1e-6:
                continue                             # converged at once: nothing left to compare
            checked += 1
            assert np.max(np.abs(one.W[0] - W)) > 1e-4                        # the step moved the point
            assert _residual(one.W[0], one.H[0], gens) < 1e-9
            # the wrong variant: a start perturbed off the fixed set by 1e-5 stays about as far off it
            Wp = W + 1e-5 * rng.standard_normal(W.shape)
            Hp = H + 1e-5 * rng.standard_normal(H.shape)
            Wp, Hp = Wp / np.linalg.norm(Wp, axis=0), Hp / np.linalg.norm(Hp, axis=0)
            off = batched_levenberg_marquardt(p, Wp[None], Hp[None], max_iterations=1)
            assert _residual(off.W[0], off.H[0], gens) > 1e-7
        assert checked >= 2


def test_search_plan_has_subgroup_batches_for_every_small_r():
    """Each round searches the fixed sets at every r = 2..min(K, d), r < d: 2 batches at r = 2, 4 above."""
    from nc_verify.landscape.search import _round_tasks

    for size, rs in [((7, 5, 2, 1.5), {2: 2, 3: 4, 4: 4, 5: 4}), ((3, 4, 1, 1.0), {2: 2})]:
        tasks = _round_tasks(UFMProblem(*size), 1, 32, 0.02, ("lm",))
        got = {}
        for t in tasks:
            if t.source == "subgroup":
                got[t.r] = got.get(t.r, 0) + 1
                assert t.size == 32
        assert got == rs, size


def test_search_plan_weights_the_near_coincident_sources():
    """4 batches each of coincident and clustered per round, 1 of symmetric (docs/search.md, "The points found late").

    The former plan (1 batch each) and a plan raising only one of the two fail the equality.
    """
    from nc_verify.landscape.search import _round_tasks

    def counts(size):
        tasks = _round_tasks(UFMProblem(*size), 1, 32, 0.02, ("lm",))
        return {s: sum(1 for t in tasks if t.source == s) for s in ("coincident", "clustered", "symmetric")}

    for size in [(7, 5, 2, 1.5), (3, 4, 1, 1.0), (10, 6, 3, 0.8)]:
        got = counts(size)
        assert got == {"coincident": 4, "clustered": 4, "symmetric": 1}, size
