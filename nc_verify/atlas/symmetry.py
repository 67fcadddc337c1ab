"""Orbit type and span of a point of problem (4): its stabiliser under class and sample relabelling.

The symmetry group of problem (4) beyond the rotations ``O(d)`` is the group ``G`` of
relabellings: a permutation ``sigma`` of the ``K`` classes together with, for every class
``k``, a bijection of its ``n`` samples onto those of class ``sigma(k)``; ``|G| = K! (n!)^K``.
Two configurations of unit vectors are related by an orthogonal map if and only if their
Gram matrices are equal, so ``g`` in ``G`` fixes the point ``(W, H)`` modulo ``O(d)`` exactly
when the permuted Gram matrix of ``X = [W, H]`` equals the Gram matrix.  The stabiliser
``Stab(W, H)`` is counted by a backtracking search over the images of the columns, each
partial assignment checked against the Gram entries of the columns already placed; its
order and the order of its image in the class permutations ``S_K`` form the orbit type,
and ``|G| / |Stab|`` is the number of distinct labelled copies of the point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nc_verify.landscape.embedding import reduce_to_span
from nc_verify.landscape.points import INVARIANT_RTOL
from nc_verify.utils.validation import check_int

#: Backtracking nodes visited before :func:`orbit_type` gives up (a bound, so a large group
#: never hangs a caller; the result then says it was not counted).
MAX_NODES = 2_000_000


@dataclass(frozen=True)
class OrbitType:
    """The stabiliser of a point under class and sample relabellings (module docstring).

    Attributes
    ----------
    group_order : int
        ``|G| = K! (n!)^K``.
    stabilizer_order : int or None
        ``|Stab(W, H)|``; None when the search stopped at ``MAX_NODES`` nodes.
    class_stabilizer_order : int or None
        Order of the image of the stabiliser in ``S_K`` (class permutations that some
        sample relabelling completes to a symmetry of the point).
    """

    group_order: int
    stabilizer_order: int | None
    class_stabilizer_order: int | None

    @property
    def orbit_size(self) -> int | None:
        """Distinct labelled copies of the point, ``|G| / |Stab|``."""
        return None if self.stabilizer_order is None else self.group_order // self.stabilizer_order

    def __str__(self) -> str:
        if self.stabilizer_order is None:
            return "not counted"
        return f"|Stab| {self.stabilizer_order} (classes {self.class_stabilizer_order})"


def orbit_type(W, H, n: int, *, rtol: float = INVARIANT_RTOL, max_nodes: int = MAX_NODES) -> OrbitType:
    """The orbit type of ``(W, H)`` under class and sample relabellings.

    Parameters
    ----------
    W : ndarray, shape (d, K)
    H : ndarray, shape (d, N), ``N = K n``, columns ordered by class (``labels = repeat(arange(K), n)``)
    n : int
        Samples per class.
    rtol : float
        Gram entries equal to within ``rtol`` (absolute; unit columns make every entry at most 1)
        are equal: the deduplication's tolerance
        (:data:`~nc_verify.landscape.points.INVARIANT_RTOL`), far above the ~1e-13 error of a
        polished critical point and far below the O(1) differences of distinct configurations.
    max_nodes : int
        Bound on the backtracking nodes.

    Returns
    -------
    OrbitType
    """
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    n = check_int(n, "n", 1)
    max_nodes = check_int(max_nodes, "max_nodes", 1)
    if W.ndim != 2 or H.ndim != 2 or H.shape[0] != W.shape[0] or H.shape[1] != W.shape[1] * n:
        raise ValueError(f"W, H must have shapes (d, K), (d, K n) with n = {n}; got {W.shape}, {H.shape}")
    K = W.shape[1]
    X = np.concatenate([W, H], axis=1)
    gram = X.T @ X
    order = math.factorial(K) * math.factorial(n) ** K
    # column c of X is placed on column image[c]; classifiers first, then the samples
    cls = [None] * K + [j // n for j in range(K * n)]       # class of each sample column
    m = K + K * n
    image = [-1] * m
    used = [False] * m
    nodes = 0
    count = 0
    classes = set()

    def consistent(c: int, t: int) -> bool:
        # every Gram entry between c and the columns already placed (and c with itself)
        placed = image[:c]
        return bool(np.all(np.abs(gram[c, :c] - gram[t, placed]) <= rtol)) if c else True

    def place(c: int) -> bool:
        nonlocal nodes, count
        if c == m:
            count += 1
            classes.add(tuple(image[:K]))
            return True
        if c < K:
            candidates = range(K)
        else:
            k = cls[c]
            target = image[k]                                   # the class that class k goes to
            candidates = range(K + target * n, K + (target + 1) * n)
        for t in candidates:
            if used[t]:
                continue
            nodes += 1
            if nodes > max_nodes:
                return False
            if consistent(c, t):
                image[c], used[t] = t, True
                ok = place(c + 1)
                image[c], used[t] = -1, False
                if not ok:
                    return False
        return True

    if not place(0):
        return OrbitType(order, None, None)
    return OrbitType(order, count, len(classes))


def span_dimension(W, H, *, rtol: float | None = None) -> int:
    """Dimension ``r`` of ``span[W, H]``: singular values of ``[W, H]`` above ``rtol * s_max``.

    The rule of :func:`~nc_verify.landscape.embedding.reduce_to_span` (default ``rtol = sqrt(eps)``).
    """
    return reduce_to_span(W, H, rtol=rtol)[2].shape[1]
