"""Exact critical points of problem (4): the known families, one construction each.

Every function here builds one point ``(W, H)`` (shapes (d, K) and (d, N)) whose
Riemannian gradient (eqs. (5)-(6)) vanishes exactly in real arithmetic, so in
float64 it is at rounding level.  The constructions are deliberately small and
separately callable, so that exact (rational / ball-arithmetic) versions can
mirror them one by one.  :func:`critical_point_families` enumerates every
family member that exists for a problem's ``(d, K, n)``, one representative per
symmetry class (a common rotation of ``W`` and ``H``, class relabelling and the
reordering of samples within a class are symmetries of problem (4)).

Sample ``j`` belongs to class ``j // n`` (:attr:`UFMProblem.labels`), so the
features of class ``k`` are the columns ``k n, ..., k n + n - 1`` of ``H``.

Families (see the package documentation, "Theorem 2"):

* ``global_etf`` -- the Theorem 1 minimiser: ``W`` a simplex ETF, ``h_{k,i} = w_k``.
* ``collinear`` -- every ``w_k`` and ``h_{k,i}`` is ``+u`` or ``-u``.
* ``u1_v1`` -- ``W = u 1^T``, ``H = v 1^T`` (a continuum in the angle of ``u, v``).
* ``u1_means_along_u`` -- ``W = u 1^T`` with class means that differ only along ``u``.
* ``u1_signed`` -- ``W = u 1^T``, ``h_{k,i} = s_i v`` with ``v`` orthogonal to ``u`` and one
  sign vector ``s`` for every class (equal class sums): at ``d = 2`` the members of the
  ``W = u 1^T`` continuum with the largest ``lambda_min`` (zero; docs "Continua").
* ``anti_aligned_etf`` -- ``W`` a simplex ETF, ``h_{k,i} = -w_k``.
* ``cross_polytope`` -- ``K`` even, ``W = Hbar = {+e_m, -e_m}``.
* ``regular_kgon`` -- ``W = Hbar`` a regular ``K``-gon in a 2-plane.
* ``grouped_etf`` -- ``r | K``, ``2 < r < K``: ``K/r`` classes on each vertex of an
  ``r``-simplex ETF, ``W = Hbar``.
* ``signed_simplex_sum`` -- blocks of classes, each a regular simplex in its own
  subspace (mutually orthogonal), ``h_{k,i} = s_{b,i} w_k`` with one sign vector
  ``s_b`` per block.
* ``signed_kgon`` -- a regular ``K``-gon with ``h_{k,i} = s_i w_k``, one sign vector.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from nc_verify.objective.frames import random_orthogonal, simplex_etf
from nc_verify.utils.validation import check_int

# ------------------------------------------------------------------ helpers


def _check_problem(problem):
    """``problem`` if its points are ``(W, H)`` of shapes (d, K), (d, K n) (problem (4) with any loss)."""
    sizes = tuple(getattr(problem, "block_sizes", ()))
    if not all(hasattr(problem, a) for a in ("d", "K", "n")) or sizes != (problem.K, problem.K * problem.n):
        raise TypeError(f"problem must be a UFMProblem (points (W, H)), got {type(problem).__name__}")
    return problem


def _features_from_signs(W: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """``h_{k,i} = signs[k, i] w_k``: ``W`` (d, K), ``signs`` (K, n) -> ``H`` (d, K n)."""
    d, K = W.shape
    n = signs.shape[1]
    return (W[:, :, None] * signs[None, :, :]).reshape(d, K * n)


def _sign_vector(n: int, negatives: int) -> np.ndarray:
    """``(+1, ..., +1, -1, ..., -1)`` of length ``n`` with ``negatives`` minus signs."""
    s = np.ones(n)
    s[n - negatives:] = -1.0
    return s


def _kgon(d: int, K: int) -> np.ndarray:
    """A regular ``K``-gon in the plane of the first two coordinates, shape (d, K)."""
    a = 2.0 * np.pi * np.arange(K) / K
    W = np.zeros((d, K))
    W[0], W[1] = np.cos(a), np.sin(a)
    return W


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


# ------------------------------------------------------------ constructions
def global_etf(problem):
    """Theorem 1's minimiser: ``W`` a simplex ETF and ``h_{k,i} = w_k`` (needs ``d >= K - 1``)."""
    p = _check_problem(problem)
    _require(p.d >= p.K - 1, f"global_etf needs d >= K - 1, got d={p.d}, K={p.K}")
    W = simplex_etf(p.d, p.K)
    return W, np.repeat(W, p.n, axis=1)


def anti_aligned_etf(problem):
    """``W`` a simplex ETF and every feature of class ``k`` equal to ``-w_k`` (``d >= K - 1``)."""
    W, H = global_etf(problem)
    return W, -H


def collinear(problem, w_signs, aligned):
    """All vectors on one line: ``w_k = w_signs[k] u``; class ``k`` has ``aligned[k]`` features ``= w_k``.

    Parameters
    ----------
    w_signs : sequence of +-1, length K
    aligned : sequence of int in ``0..n``, length K
        The remaining ``n - aligned[k]`` features of class ``k`` are ``-w_k``.
    """
    p = _check_problem(problem)
    w_signs = np.asarray(w_signs, dtype=float)
    aligned = np.asarray(aligned)
    _require(w_signs.shape == (p.K,) and np.all(np.abs(w_signs) == 1), "w_signs must be K signs +-1")
    _require(aligned.shape == (p.K,) and np.all((aligned >= 0) & (aligned <= p.n)),
             f"aligned must be K integers in 0..{p.n}")
    u = np.zeros(p.d)
    u[0] = 1.0
    W = np.outer(u, w_signs)
    signs = np.stack([_sign_vector(p.n, p.n - int(a)) for a in aligned])
    return W, _features_from_signs(W, signs)


def u1_v1(problem, angle: float = np.pi / 3):
    """``W = u 1^T`` and ``H = v 1^T`` with ``<u, v> = cos(angle)``: softmax is uniform, ``f = log K``."""
    p = _check_problem(problem)
    W = np.zeros((p.d, p.K))
    W[0] = 1.0
    H = np.zeros((p.d, p.N))
    H[0], H[1] = np.cos(angle), np.sin(angle)
    return W, H


def u1_means_along_u(problem):
    """``W = u 1^T`` with class means that differ only along ``u`` (``f = log K``).

    With ``W = u 1^T`` the logits do not depend on the class, ``G = (1/K - Y)/N``,
    ``grad_H f = 0`` and ``grad_{w_k} f`` is the part of ``(mu - hbar_k)/K``
    orthogonal to ``u``: zero iff every class mean differs from the global mean
    ``mu`` only along ``u``.  For ``n >= 2`` class ``k`` gets ``c_k u + sqrt(1 - c_k^2) z_i``
    with the ``z_i`` a regular ``n``-gon orthogonal to ``u`` (summing to zero) and
    distinct ``c_k``; for ``n = 1`` the features are ``(+-0.6) u + 0.8 v``.
    Needs ``d >= 3`` when ``n >= 3``.
    """
    p = _check_problem(problem)
    _require(p.n <= 2 or p.d >= 3, f"u1_means_along_u with n >= 3 needs d >= 3, got d={p.d}")
    W = np.zeros((p.d, p.K))
    W[0] = 1.0
    H = np.zeros((p.d, p.N))
    if p.n == 1:
        c = 0.6 * (-1.0) ** np.arange(p.K)
        H[0], H[1] = c, 0.8
        return W, H
    c = np.cos(np.pi * np.arange(1, p.K + 1) / (p.K + 1))       # distinct, in (-1, 1)
    a = 2.0 * np.pi * np.arange(p.n) / p.n
    z = np.zeros((p.d, p.n))
    z[1] = np.cos(a)
    if p.n >= 3:
        z[2] = np.sin(a)
    for k in range(p.K):
        H[:, k * p.n:(k + 1) * p.n] = np.sqrt(1.0 - c[k] ** 2) * z
        H[0, k * p.n:(k + 1) * p.n] = c[k]
    return W, H


def u1_signed(problem, negatives: int):
    """``W = u 1^T``, ``h_{k,i} = s_i v`` with ``v`` orthogonal to ``u`` and ``s`` (``negatives`` minus signs)
    shared by every class.

    Every class has the same feature multiset, so the class means are equal and the
    point lies on the ``W = u 1^T`` continuum (critical, ``f = log K``).  At ``d = 2``
    these points (``negatives = 0 .. n // 2``; more are mirror images ``v -> -v``) are
    exactly its members without a negative Hessian eigenvalue (docs "Continua").
    """
    p = _check_problem(problem)
    negatives = check_int(negatives, "negatives", 0)
    _require(negatives <= p.n, f"negatives must be <= n={p.n}, got {negatives}")
    W = np.zeros((p.d, p.K))
    W[0] = 1.0
    H = np.zeros((p.d, p.N))
    H[1] = np.tile(_sign_vector(p.n, negatives), p.K)
    return W, H


def cross_polytope(problem):
    """``K`` even: ``W = Hbar = {+e_m, -e_m : m = 1..K/2}``, ``h_{k,i} = w_k`` (needs ``d >= K/2``)."""
    p = _check_problem(problem)
    _require(p.K % 2 == 0, f"cross_polytope needs an even K, got K={p.K}")
    _require(p.d >= p.K // 2, f"cross_polytope needs d >= K/2, got d={p.d}, K={p.K}")
    W = np.zeros((p.d, p.K))
    m = np.arange(p.K // 2)
    W[m, 2 * m] = 1.0
    W[m, 2 * m + 1] = -1.0
    return W, np.repeat(W, p.n, axis=1)


def regular_kgon(problem):
    """``W = Hbar`` a regular ``K``-gon in a 2-plane, ``h_{k,i} = w_k``."""
    p = _check_problem(problem)
    W = _kgon(p.d, p.K)
    return W, np.repeat(W, p.n, axis=1)


def signed_kgon(problem, negatives: int):
    """A regular ``K``-gon with ``h_{k,i} = s_i w_k``, ``s`` shared by all classes with ``negatives`` minus signs."""
    p = _check_problem(problem)
    negatives = check_int(negatives, "negatives", 0)
    _require(negatives <= p.n, f"negatives must be <= n={p.n}, got {negatives}")
    W = _kgon(p.d, p.K)
    s = _sign_vector(p.n, negatives)
    return W, _features_from_signs(W, np.tile(s, (p.K, 1)))


def grouped_etf(problem, groups: int):
    """``K`` classes in ``groups`` equal groups on the vertices of a ``groups``-simplex ETF, ``W = Hbar``.

    Class ``k`` sits on vertex ``k // (K / groups)``.  Needs ``groups | K``,
    ``2 < groups < K`` and ``d >= groups - 1``.
    """
    p = _check_problem(problem)
    r = check_int(groups, "groups", 3)
    _require(p.K % r == 0 and r < p.K, f"groups must divide K={p.K} and be < K, got {r}")
    _require(p.d >= r - 1, f"grouped_etf with {r} groups needs d >= {r - 1}, got d={p.d}")
    V = simplex_etf(p.d, r)
    W = np.repeat(V, p.K // r, axis=1)
    return W, np.repeat(W, p.n, axis=1)


def signed_simplex_sum(problem, blocks, negatives):
    """Blocks of classes, each a regular simplex in its own subspace, ``h_{k,i} = s_{b,i} w_k``.

    Parameters
    ----------
    blocks : sequence of int
        Block sizes ``K_b >= 2`` summing to ``K``; consecutive classes form a block.
        Block ``b`` spans ``K_b - 1`` coordinates of its own, so ``d >= K - #blocks``.
    negatives : sequence of int
        Number of minus signs in the block's shared sign vector ``s_b`` (``0..n``).
    """
    p = _check_problem(problem)
    blocks = [int(b) for b in blocks]
    negatives = [int(m) for m in negatives]
    _require(len(blocks) == len(negatives), "blocks and negatives must have the same length")
    _require(all(b >= 2 for b in blocks) and sum(blocks) == p.K,
             f"blocks must be sizes >= 2 summing to K={p.K}, got {blocks}")
    _require(all(0 <= m <= p.n for m in negatives), f"negatives must be in 0..{p.n}, got {negatives}")
    _require(p.K - len(blocks) <= p.d, f"blocks {blocks} need d >= {p.K - len(blocks)}, got d={p.d}")
    W = np.zeros((p.d, p.K))
    signs = np.zeros((p.K, p.n))
    row = col = 0
    for b, m in zip(blocks, negatives):
        W[row:row + b - 1, col:col + b] = simplex_etf(b - 1, b)
        signs[col:col + b] = _sign_vector(p.n, m)
        row += b - 1
        col += b
    return W, _features_from_signs(W, signs)


# -------------------------------------------------------------- enumeration
#: :func:`critical_point_families` enumerates at most this many points; beyond it (the count grows
#: combinatorially: the collinear points alone are about ``C(2n + K + 1, K) / 2``, 2.8e10 at
#: ``K = 60, n = 4``) it refuses before any work, with the count (:func:`family_count`).
MAX_FAMILY_POINTS = 100_000


def collinear_count(K: int, n: int) -> int:
    """Number of symmetry classes of collinear points, the patterns of :func:`_collinear_patterns`.

    A pattern is a multiset of ``K`` per-class types out of ``2 (n + 1)`` (a sign and a count
    of aligned features): ``M = C(2(n + 1) + K - 1, K)`` multisets; ``u -> -u`` pairs them up
    except the ``F`` that it fixes (``K`` even: each type as often as its flip,
    ``F = C(n + 1 + K/2 - 1, K/2)``; ``K`` odd: ``F = 0``), so there are ``(M + F) / 2`` classes.
    """
    m = math.comb(2 * (n + 1) + K - 1, K)
    f = math.comb(n + 1 + K // 2 - 1, K // 2) if K % 2 == 0 else 0
    return (m + f) // 2


def family_count(d: int, K: int, n: int, limit: int | None = None) -> int:
    """Number of points :func:`critical_point_families` returns at ``(d, K, n)``.

    Counted without building them (closed forms, and the signed-sum patterns one by one); with
    ``limit`` the count stops as soon as it exceeds it (then the value returned is above ``limit``
    but not the full count).
    """
    count = collinear_count(K, n) + 1 + (2 if d >= K - 1 else 0) + (1 if n <= 2 or d >= 3 else 0)
    count += (1 if K % 2 == 0 and d >= K // 2 else 0) + (1 + n if K >= 5 else 0)
    count += sum(1 for r in range(3, K) if K % r == 0 and d >= r - 1)
    for _ in _signed_sum_patterns(d, K, n):
        if limit is not None and count > limit:
            break
        count += 1
    return count


def _collinear_patterns(K: int, n: int):
    """One ``(w_signs, aligned)`` per symmetry class of collinear points.

    Class relabelling makes a point a multiset of per-class types ``(sign, aligned)``;
    ``u -> -u`` flips every sign, so the representative keeps at least as many
    ``+`` classes as ``-`` classes (ties: the lexicographically smaller one).
    """
    types = [(s, a) for s in (1, -1) for a in range(n, -1, -1)]
    seen = set()
    for combo in itertools.combinations_with_replacement(types, K):
        flipped = tuple(sorted(((-s, a) for s, a in combo), key=types.index))
        key = min(combo, flipped, key=lambda c: ([-s for s, _ in c], [types.index(t) for t in c]))
        if key in seen:
            continue
        seen.add(key)
        yield [s for s, _ in key], [a for _, a in key]


def _partitions(K: int, smallest: int = 2, largest=None):
    """Partitions of ``K`` into parts ``>= smallest``, parts non-increasing."""
    largest = K if largest is None else largest
    if K == 0:
        yield []
        return
    for first in range(min(K, largest), smallest - 1, -1):
        for rest in _partitions(K - first, smallest, first):
            yield [first] + rest


def _signed_sum_patterns(d: int, K: int, n: int):
    """One ``(blocks, negatives)`` per symmetry class, excluding the separately named families."""
    for blocks in _partitions(K):
        if K - len(blocks) > d:
            continue
        # equal-sized blocks are interchangeable: non-increasing sign counts within them
        per_size = [(size, blocks.count(size)) for size in sorted(set(blocks), reverse=True)]
        choices = [itertools.combinations_with_replacement(range(n + 1), c) for _, c in per_size]
        for combo in itertools.product(*choices):
            negatives = [m for group in combo for m in sorted(group, reverse=True)]
            if len(blocks) == 1 and negatives[0] in (0, n):
                continue                      # global_etf / anti_aligned_etf
            if all(b == 2 for b in blocks) and all(m == 0 for m in negatives):
                continue                      # cross_polytope
            yield list(blocks), negatives


def _sign_label(s: int) -> str:
    return "+" if s > 0 else "-"


def critical_point_families(problem, rng=None, *, max_points: int | None = MAX_FAMILY_POINTS) -> dict:
    """Every exact critical-point family member that exists at the problem's ``(d, K, n)``.

    Parameters
    ----------
    problem : UFMProblem
    rng : numpy Generator, int or None
        If given, every point is rotated by one Haar-random orthogonal matrix
        (a symmetry of problem (4)); by default the points are in canonical
        coordinates (sparse, exactly structured).
    max_points : int or None
        Refuse (``ValueError``, before building any point) when there are more than this
        many (:func:`family_count`); None: no limit.

    Returns
    -------
    dict of str -> (W, H)
        Names such as ``"global_etf"``, ``"collinear[+2 +2 -1 +0]"`` (per class: the
        classifier's sign on ``u`` and how many of its features equal it),
        ``"signed_simplex_sum[3+3|0,1]"`` (block sizes | minus signs per block),
        ``"grouped_etf[3]"``, ``"signed_kgon[1]"``.  The enumeration is exhaustive
        up to the symmetries of problem (4); its size grows combinatorially in
        ``K`` and ``n`` (collinear points: about ``C(2n + K + 1, K) / 2``).
    """
    p = _check_problem(problem)
    d, K, n = p.d, p.K, p.n
    if max_points is not None:
        count = family_count(d, K, n, limit=max_points)
        if count > max_points:
            raise ValueError(
                f"the exact critical-point families at (d, K, n) = ({d}, {K}, {n}) have more than {max_points} "
                f"points (collinear points alone: {collinear_count(K, n):.3g}); enumerating them is beyond "
                "the budget (nc_verify.objective.families.MAX_FAMILY_POINTS): choose a smaller K or n, or "
                "pass max_points=None to critical_point_families")
    out = {}
    if d >= K - 1:
        out["global_etf"] = global_etf(p)
        out["anti_aligned_etf"] = anti_aligned_etf(p)
    for w_signs, aligned in _collinear_patterns(K, n):
        if all(s > 0 for s in w_signs) and all(a == n for a in aligned):
            name = "collinear_all_equal"
        else:
            name = "collinear[" + " ".join(f"{_sign_label(s)}{a}" for s, a in zip(w_signs, aligned)) + "]"
        out[name] = collinear(p, w_signs, aligned)
    out["u1_v1"] = u1_v1(p)
    if n <= 2 or d >= 3:
        out["u1_means_along_u"] = u1_means_along_u(p)
    if K % 2 == 0 and d >= K // 2:
        out["cross_polytope"] = cross_polytope(p)
    if K >= 5:                                # K = 3: the ETF; K = 4: the cross-polytope
        out["regular_kgon"] = regular_kgon(p)
        for m in range(1, n + 1):
            out[f"signed_kgon[{m}]"] = signed_kgon(p, m)
    for r in range(3, K):
        if K % r == 0 and d >= r - 1:
            out[f"grouped_etf[{r}]"] = grouped_etf(p, r)
    for blocks, negatives in _signed_sum_patterns(d, K, n):
        label = "+".join(map(str, blocks)) + "|" + ",".join(map(str, negatives))
        out[f"signed_simplex_sum[{label}]"] = signed_simplex_sum(p, blocks, negatives)
    if rng is not None:
        Q = random_orthogonal(d, rng)
        out = {name: (Q @ W, Q @ H) for name, (W, H) in out.items()}
    return out
