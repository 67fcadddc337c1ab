"""Exact points and directions of problem (4), as certificates need them.

A certificate is about one exact point, never about a float approximation of one.
An :class:`ExactPoint` is given either

* in *scaled rational* form ``[W, H] = diag(sqrt(sigma)) [R_W, R_H]`` with
  rational ``sigma > 0`` (one per coordinate) and rational ``R`` -- then every inner
  product of its columns (``W^T H`` and the Gram matrix) is rational, which is what
  the all-temperature proofs need; rational points are the case ``sigma = 1``; or
* by an enclosure rule only (coordinates such as ``cos(2 pi / 5)``), evaluated as
  balls at the working precision.

:func:`exact_point` takes a user's arrays (integers, ``Fraction`` or floats, a float
taken as the binary rational it is) and checks unit columns *exactly*;
:func:`exact_family` mirrors :func:`nc_verify.objective.families.critical_point_families` by
name (the same configuration, up to a rotation where the float construction uses a
QR basis), with the exact negative-curvature directions the family is known to have.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from nc_verify.certify._flint import flint
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.validation import check_instance


def _fraction(x, name: str) -> Fraction:
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must hold numbers, got a bool")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Integral):
        return Fraction(int(x))
    if isinstance(x, numbers.Real):
        xf = float(x)
        if not math.isfinite(xf):
            raise ValueError(f"{name} has NaN or infinite entries")
        return Fraction(xf)
    raise TypeError(f"{name} must hold integers, Fractions or floats, got {type(x).__name__}")


def _rational_matrix(X, name: str, shape) -> list:
    arr = np.asarray(X, dtype=object)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return [[_fraction(arr[a, c], name) for c in range(shape[1])] for a in range(shape[0])]


def _rational_sqrt(q: Fraction):
    """``sqrt(q)`` if it is rational, else None."""
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    return Fraction(a, b) if a * a == q.numerator and b * b == q.denominator else None


def _ball_matrix(sigma, R):
    """``diag(sqrt(sigma)) R`` as an ``arb_mat`` at the working precision."""
    fl = flint()
    rows = []
    for s, line in zip(sigma, R):
        root = _rational_sqrt(s)
        scale = fl.arb(fl.fmpq(root.numerator, root.denominator)) if root is not None else \
            fl.arb(fl.fmpq(s.numerator, s.denominator)).sqrt()
        rows.append([scale * fl.arb(fl.fmpq(x.numerator, x.denominator)) if x else fl.arb(0) for x in line])
    return fl.arb_mat(rows)


def _weighted_inner(sigma, U, V):
    """``U^T diag(sigma) V`` for rational matrices (lists of rows): the exact inner products."""
    d = len(sigma)
    m, p = len(U[0]), len(V[0])
    return [[sum(sigma[a] * U[a][i] * V[a][j] for a in range(d) if U[a][i] and V[a][j])
             for j in range(p)] for i in range(m)]


@dataclass
class ExactDirection:
    """A tangent direction ``(dW, dH)``: scaled rational (same ``sigma`` as the point) or by rule."""

    source: str
    rational: tuple | None = None        # (R_dW, R_dH) in the point's scaled coordinates
    rule: object = None                  # callable -> (dW, dH) arb_mat, or None
    exact_tangent: bool = False          # known to be exactly tangent (no projection needed)

    def balls(self, point: "ExactPoint"):
        """``(dW, dH)`` as ``arb_mat`` at the working precision."""
        if self.rule is not None:
            return self.rule()
        return _ball_matrix(point.sigma, self.rational[0]), _ball_matrix(point.sigma, self.rational[1])


@dataclass
class ExactPoint:
    """An exact point of ``OB(d, K) x OB(d, N)`` (see the module docstring).

    Attributes
    ----------
    d, K, n : int
    source : str
        Where it came from ("family anti_aligned_etf", "rational arrays", ...).
    sigma : list of Fraction, length d, or None
    RW, RH : lists of rows of Fraction, shapes (d, K), (d, N), or None
        Scaled rational form ``W = diag(sqrt(sigma)) RW``, ``H = diag(sqrt(sigma)) RH``.
    rule : callable or None
        ``rule() -> (W, H)`` ``arb_mat`` at the working precision (points without a
        scaled rational form).
    directions : dict of str -> ExactDirection
        Exact negative-curvature directions the construction is known to have.
    """

    d: int
    K: int
    n: int
    source: str
    sigma: list | None = None
    RW: list | None = None
    RH: list | None = None
    rule: object = None
    directions: dict = field(default_factory=dict)

    @property
    def N(self) -> int:
        return self.K * self.n

    @property
    def labels(self) -> np.ndarray:
        return np.repeat(np.arange(self.K), self.n)

    @property
    def is_rational(self) -> bool:
        """True when ``W^T H`` and every inner product of columns is rational (scaled form)."""
        return self.sigma is not None

    def balls(self):
        """``(W, H)`` as ``arb_mat`` at the working precision."""
        if self.rule is not None:
            return self.rule()
        return _ball_matrix(self.sigma, self.RW), _ball_matrix(self.sigma, self.RH)

    def inner(self, U, V):
        """Exact ``U^T V`` for matrices given in this point's scaled coordinates."""
        return _weighted_inner(self.sigma, U, V)

    def approx(self):
        """Float64 ``(W, H)`` (midpoints at 53 bits), for float tools and display."""
        from nc_verify.certify._flint import working_precision

        with working_precision(53):
            W, H = self.balls()
            return _mid_array(W), _mid_array(H)

    def direction_from_arrays(self, dW, dH) -> ExactDirection:
        """A caller's direction (exact rationals or floats taken exactly) in ambient coordinates."""
        RdW = _rational_matrix(dW, "direction dW", (self.d, self.K))
        RdH = _rational_matrix(dH, "direction dH", (self.d, self.N))
        if self.is_rational:
            roots = [_rational_sqrt(s) for s in self.sigma]
            if all(r is not None for r in roots):
                return ExactDirection("caller", rational=(
                    [[x / r for x in line] for r, line in zip(roots, RdW)],
                    [[x / r for x in line] for r, line in zip(roots, RdH)]))
        ones = [Fraction(1)] * self.d
        return ExactDirection("caller", rule=lambda: (_ball_matrix(ones, RdW), _ball_matrix(ones, RdH)))


def _mid_array(A) -> np.ndarray:
    return np.array([[float(x.mid()) for x in line] for line in A.tolist()], dtype=np.float64)


def exact_point(W, H, *, source: str = "rational arrays") -> ExactPoint:
    """An :class:`ExactPoint` from arrays of integers, ``Fraction`` or floats.

    Floats are taken as the exact binary rationals they are.  Every column must have
    squared norm *exactly* 1: points rounded to float64 (an optimiser's output, an
    ETF in floating point) are rejected, because a certificate about them would be
    about a different, non-critical point.

    Parameters
    ----------
    W : array_like, shape (d, K)
    H : array_like, shape (d, N), ``N`` a multiple of ``K`` (sample ``j`` in class ``j // n``)
    """
    Wa, Ha = np.asarray(W, dtype=object), np.asarray(H, dtype=object)
    if Wa.ndim != 2 or Ha.ndim != 2 or Wa.shape[0] != Ha.shape[0]:
        raise ValueError(f"W and H must be 2-D with the same number of rows, got {Wa.shape}, {Ha.shape}")
    d, K = Wa.shape
    N = Ha.shape[1]
    if K < 2 or N % K:
        raise ValueError(f"H must have n K columns (n >= 1) for K = {K} >= 2 classes, got {N}")
    RW = _rational_matrix(Wa, "W", (d, K))
    RH = _rational_matrix(Ha, "H", (d, N))
    for name, R in (("W", RW), ("H", RH)):
        for c in range(len(R[0])):
            sq = sum(R[a][c] * R[a][c] for a in range(d))
            if sq != 1:
                raise ValueError(
                    f"column {c} of {name} has squared norm {float(sq)!r} (exactly {sq}), not exactly 1: "
                    "certificates need exact points (rational coordinates, or a family name); "
                    "a point rounded to float64, e.g. an optimiser's output, is not one"
                )
    return ExactPoint(d, K, N // K, source, sigma=[Fraction(1)] * d, RW=RW, RH=RH)


# ------------------------------------------------------------------ families
def _zeros(rows, cols):
    return [[Fraction(0)] * cols for _ in range(rows)]


def _etf_block(R, sigma, row0, rows_avail, col0, K):
    """Write a ``K``-vertex simplex ETF into rows ``row0..`` and columns ``col0..`` of ``R``.

    With ``rows_avail >= K``: ``sqrt(K/(K-1)) (e_k - 1/K)`` in ``K`` rows (as
    :func:`nc_verify.objective.frames.simplex_etf`); with ``K - 1`` rows: the Helmert basis
    of ``1^perp``, row ``i`` scaled by ``sqrt(K / ((K-1) i (i+1)))``.
    """
    s = Fraction(K, K - 1)
    if rows_avail >= K:
        for a in range(K):
            sigma[row0 + a] = s
            for k in range(K):
                R[row0 + a][col0 + k] = Fraction(int(a == k)) - Fraction(1, K)
    else:
        for i in range(1, K):
            sigma[row0 + i - 1] = s / (i * (i + 1))
            for k in range(i):
                R[row0 + i - 1][col0 + k] = Fraction(1)
            R[row0 + i - 1][col0 + i] = Fraction(-i)


def _repeat_columns(R, n):
    return [[x for x in line for _ in range(n)] for line in R]


def _signed_features(RW, signs):
    """``h_{k,i} = signs[k][i] w_k`` in scaled coordinates."""
    return [[x * s for x, srow in zip(line, signs) for s in srow] for line in RW]


def _sign_vector(n, negatives):
    return [1] * (n - negatives) + [-1] * negatives


def _point(p, source, sigma, RW, RH, directions=None):
    return ExactPoint(p.d, p.K, p.n, source, sigma=sigma, RW=RW, RH=RH, directions=directions or {})


def _etf_points(p, anti: bool):
    d, K, n = p.d, p.K, p.n
    sigma, RW = [Fraction(1)] * d, _zeros(d, K)
    _etf_block(RW, sigma, 0, d, 0, K)
    RH = _repeat_columns(RW, n)
    if anti:
        RH = [[-x for x in line] for line in RH]
    name = "anti_aligned_etf" if anti else "global_etf"
    directions = {}
    if anti and d >= K:
        # u = sqrt(K/(K-1)) 1 on the first K coordinates is orthogonal to every w_k;
        # dw_k = c_k u, dh_j = c_{y_j} u / n with c = e_1 - e_2 (FACTS: D = 0 along it).
        c = [Fraction(0)] * K
        c[0], c[1] = Fraction(1), Fraction(-1)
        u = [Fraction(1) if a < K else Fraction(0) for a in range(d)]
        RdW = [[u[a] * c[k] for k in range(K)] for a in range(d)]
        RdH = [[u[a] * c[j // n] / n for j in range(K * n)] for a in range(d)]
        directions["anti_aligned_bend"] = ExactDirection(
            "family anti_aligned_etf: dw_k = c_k u, dh_j = c_{y_j} u / n, u _|_ span W, c = e_1 - e_2",
            rational=(RdW, RdH), exact_tangent=True)
    return _point(p, f"family {name}", sigma, RW, RH, directions)


def _cross_polytope(p):
    d, K, n = p.d, p.K, p.n
    if K % 2 or d < K // 2:
        raise ValueError(f"cross_polytope needs an even K and d >= K/2, got d={d}, K={K}")
    RW = _zeros(d, K)
    for m in range(K // 2):
        RW[m][2 * m], RW[m][2 * m + 1] = Fraction(1), Fraction(-1)
    directions = {}
    if d > K // 2 and K >= 4:
        u = K // 2
        weights = [Fraction(0)] * (K // 2)
        weights[0], weights[1] = Fraction(1), Fraction(-1)
        RdW = _zeros(d, K)
        for k in range(K):
            RdW[u][k] = weights[k // 2]
        directions["pair_bend"] = ExactDirection(
            "family cross_polytope: both members of pair m bend by a_m towards u _|_ span, "
            "a = e_1 - e_2, features follow their classifier",
            rational=(RdW, _repeat_columns(RdW, n)), exact_tangent=True)
    return _point(p, "family cross_polytope", [Fraction(1)] * d, RW, _repeat_columns(RW, n), directions)


def _collinear(p, w_signs, aligned, name):
    d, K, n = p.d, p.K, p.n
    RW = _zeros(d, K)
    RW[0] = [Fraction(s) for s in w_signs]
    signs = [_sign_vector(n, n - a) for a in aligned]
    return _point(p, f"family {name}", [Fraction(1)] * d, RW, _signed_features(RW, signs))


def _u1_v1(p):
    d, K, N = p.d, p.K, p.N
    if d < 2:
        raise ValueError("u1_v1 needs d >= 2")
    sigma = [Fraction(1)] * d
    sigma[1] = Fraction(3)                      # v = (1/2, sqrt(3)/2): angle pi/3
    RW, RH = _zeros(d, K), _zeros(d, N)
    RW[0] = [Fraction(1)] * K
    RH[0] = [Fraction(1, 2)] * N
    RH[1] = [Fraction(1, 2)] * N
    return _point(p, "family u1_v1", sigma, RW, RH)


def _u1_means_along_u(p):
    d, K, n, N = p.d, p.K, p.n, p.N
    if n >= 3 and d < 3:
        raise ValueError(f"u1_means_along_u with n >= 3 needs d >= 3, got d={d}")
    if n == 1:
        RW, RH = _zeros(d, K), _zeros(d, N)
        RW[0] = [Fraction(1)] * K
        RH[0] = [Fraction(3, 5) * (-1) ** k for k in range(K)]
        RH[1] = [Fraction(4, 5)] * K
        return _point(p, "family u1_means_along_u", [Fraction(1)] * d, RW, RH)

    def rule():
        fl = flint()
        arb, zero = fl.arb, fl.arb(0)
        W = [[arb(1) if a == 0 else zero for _ in range(K)] for a in range(d)]
        H = [[zero] * N for _ in range(d)]
        for k in range(K):
            c = arb.cos_pi_fmpq(fl.fmpq(k + 1, K + 1))
            r = (1 - c * c).sqrt()
            for i in range(n):
                j = k * n + i
                H[0][j] = c
                H[1][j] = r * arb.cos_pi_fmpq(fl.fmpq(2 * i, n))
                if n >= 3:
                    H[2][j] = r * arb.sin_pi_fmpq(fl.fmpq(2 * i, n))
        return fl.arb_mat(W), fl.arb_mat(H)

    return ExactPoint(d, K, n, "family u1_means_along_u", rule=rule)


#: Regular K-gons whose coordinates are scaled rationals: (sigma of the second
#: coordinate, R rows (cos, sin / sqrt(sigma)) in units of 1/2).
_RATIONAL_KGONS = {
    3: (Fraction(3), [2, -1, -1], [0, 1, -1]),
    4: (Fraction(1), [2, 0, -2, 0], [0, 2, 0, -2]),
    6: (Fraction(3), [2, 1, -1, -2, -1, 1], [0, 1, 1, 0, -1, -1]),
}


def _kgon(p, negatives, name):
    d, K, n = p.d, p.K, p.n
    signs = [_sign_vector(n, negatives)] * K
    if K in _RATIONAL_KGONS:
        s1, cos2, sin2 = _RATIONAL_KGONS[K]
        sigma = [Fraction(1)] * d
        sigma[1] = s1
        RW = _zeros(d, K)
        RW[0] = [Fraction(x, 2) for x in cos2]
        RW[1] = [Fraction(x, 2) for x in sin2]
        return _point(p, f"family {name}", sigma, RW, _signed_features(RW, signs))

    def rule():
        fl = flint()
        zero = fl.arb(0)
        W = [[zero] * K for _ in range(d)]
        for k in range(K):
            W[0][k] = fl.arb.cos_pi_fmpq(fl.fmpq(2 * k, K))
            W[1][k] = fl.arb.sin_pi_fmpq(fl.fmpq(2 * k, K))
        H = [[W[a][j // n] * signs[j // n][j % n] for j in range(K * n)] for a in range(d)]
        return fl.arb_mat(W), fl.arb_mat(H)

    return ExactPoint(d, K, n, f"family {name}", rule=rule)


def _grouped_etf(p, r):
    d, K, n = p.d, p.K, p.n
    if K % r or not 2 < r < K or d < r - 1:
        raise ValueError(f"grouped_etf[{r}] needs r | K, 2 < r < K, d >= r - 1; got d={d}, K={K}")
    sigma, V = [Fraction(1)] * d, _zeros(d, r)
    _etf_block(V, sigma, 0, d, 0, r)
    RW = [[x for x in line for _ in range(K // r)] for line in V]
    return _point(p, f"family grouped_etf[{r}]", sigma, RW, _repeat_columns(RW, n))


def _signed_simplex_sum(p, blocks, negatives):
    d, K, n = p.d, p.K, p.n
    if sum(blocks) != K or any(b < 2 for b in blocks) or len(blocks) != len(negatives) \
            or K - len(blocks) > d or any(not 0 <= m <= n for m in negatives):
        raise ValueError(f"signed_simplex_sum: invalid blocks {blocks} / negatives {negatives} "
                         f"for d={d}, K={K}, n={n}")
    sigma, RW = [Fraction(1)] * d, _zeros(d, K)
    signs, row, col = [], 0, 0
    for b, m in zip(blocks, negatives):
        _etf_block(RW, sigma, row, b - 1, col, b)
        signs += [_sign_vector(n, m)] * b
        row += b - 1
        col += b
    label = "+".join(map(str, blocks)) + "|" + ",".join(map(str, negatives))
    return _point(p, f"family signed_simplex_sum[{label}]", sigma, RW, _signed_features(RW, signs))


_COLLINEAR = re.compile(r"^collinear\[((?:[+-]\d+ ?)+)\]$")
_BRACKET = re.compile(r"^(signed_kgon|grouped_etf)\[(\d+)\]$")
_SIGNED_SUM = re.compile(r"^signed_simplex_sum\[([\d+]+)\|([\d,]+)\]$")


def exact_family(problem: UFMProblem, name: str) -> ExactPoint:
    """The exact point of the family ``name`` of :func:`nc_verify.objective.families.critical_point_families`.

    Names as that function gives them: ``"global_etf"``, ``"anti_aligned_etf"``,
    ``"collinear_all_equal"``, ``"collinear[+2 -1 ...]"``, ``"u1_v1"``,
    ``"u1_means_along_u"``, ``"cross_polytope"``, ``"regular_kgon"``,
    ``"signed_kgon[m]"``, ``"grouped_etf[r]"``, ``"signed_simplex_sum[3+2|0,1]"``.
    Coordinates agree with the float construction up to a rotation (a symmetry of
    problem (4)); where the float one uses a QR basis of ``1^perp`` this one uses
    the Helmert basis, whose row scales ``sqrt(K / ((K-1) i (i+1)))`` keep it in
    scaled rational form.
    """
    check_instance(problem, "problem", UFMProblem)
    if not isinstance(name, str):
        raise TypeError(f"family name must be a str, got {type(name).__name__}")
    p = problem
    if name in ("global_etf", "anti_aligned_etf"):
        if p.d < p.K - 1:
            raise ValueError(f"{name} needs d >= K - 1, got d={p.d}, K={p.K}")
        return _etf_points(p, anti=(name == "anti_aligned_etf"))
    if name == "cross_polytope":
        return _cross_polytope(p)
    if name == "collinear_all_equal":
        return _collinear(p, [1] * p.K, [p.n] * p.K, name)
    if name == "u1_v1":
        return _u1_v1(p)
    if name == "u1_means_along_u":
        return _u1_means_along_u(p)
    if name == "regular_kgon":
        return _kgon(p, 0, name)
    m = _COLLINEAR.match(name)
    if m:
        parts = m.group(1).split()
        if len(parts) != p.K or any(int(t[1:]) > p.n for t in parts):
            raise ValueError(f"{name!r} does not fit K={p.K}, n={p.n}")
        return _collinear(p, [1 if t[0] == "+" else -1 for t in parts], [int(t[1:]) for t in parts], name)
    m = _BRACKET.match(name)
    if m:
        value = int(m.group(2))
        if m.group(1) == "signed_kgon":
            if value > p.n:
                raise ValueError(f"{name!r}: at most n={p.n} negatives")
            return _kgon(p, value, name)
        return _grouped_etf(p, value)
    m = _SIGNED_SUM.match(name)
    if m:
        blocks = [int(b) for b in m.group(1).split("+")]
        negatives = [int(x) for x in m.group(2).split(",")]
        return _signed_simplex_sum(p, blocks, negatives)
    from nc_verify.objective.families import critical_point_families

    valid = ", ".join(critical_point_families(p))
    raise ValueError(f"unknown family {name!r} at (d, K, n) = ({p.d}, {p.K}, {p.n}); valid: {valid}")
