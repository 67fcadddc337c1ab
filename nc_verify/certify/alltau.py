"""Statements for every temperature at once: exact polynomial identities in ``x = exp(tau / q)``.

When every logit is ``tau`` times a rational (``A = W^T H`` rational with common
denominator ``q``, which holds for points in scaled rational form,
:class:`~.exact.ExactPoint`), ``exp(M_ij) = x^{q A_ij}`` with ``x = exp(tau / q) > 1``
for ``tau > 0``.  Shifting
each column by its smallest exponent, ``p_ij = x^{e_ij} / Z_j(x)`` with ``Z_j`` a
polynomial with positive coefficients, and with ``L(x)`` the product of the
*distinct* ``Z_j``:

* ``N L(x) G_ij = (L / Z_j)(x) (x^{e_ij} - [i = y_j] Z_j(x))`` is a polynomial;
* eqs. (5)-(6) divided by ``tau`` are rational-coefficient combinations of these,
  so the Riemannian gradient vanishes for **every** ``tau`` iff all those
  polynomials are identically zero (:func:`prove_critical_all_tau`);
* along a direction with ``D = tau (W^T dH + dW^T H) = 0`` the first term of eq. (7)
  vanishes and eq. (7)-(8)'s quadratic form is
  ``Q = tau sum_ij G_ij (2 B_ij - (|dw_i|^2 + |dh_j|^2) A_ij)`` with
  ``B = dW^T dH``, i.e. ``Q = tau P(x) / (N L(x))`` for a polynomial ``P``
  (:func:`all_tau_polynomial`); all coefficients of ``P(1 + t)`` non-positive and
  ``P != 0`` prove ``Q < 0`` for every ``tau > 0``.

Columns of ``H`` with the same label, feature (and direction) are handled once,
weighted by their multiplicity.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

from nc_verify.certify._flint import flint
from nc_verify.certify.exact import ExactDirection, ExactPoint


def _q(x: Fraction):
    return flint().fmpq(x.numerator, x.denominator)


def _monomial(e: int):
    fl = flint()
    return fl.fmpq_poly([0] * e + [1])


#: Largest polynomial degree the exact identities are attempted with (``q`` times the
#: spread of a column of ``W^T H``); generic rational points exceed it by far.
MAX_DEGREE = 4096


class _Softmax:
    """Exact softmax data of a scaled rational point: ``q``, types, ``Z_j``, ``L``, ``N L G``."""

    def __init__(self, point: ExactPoint, direction_columns=None):
        fl = flint()
        K, N = point.K, point.N
        labels = point.labels
        A = point.inner(point.RW, point.RH)                     # W^T H, exact
        q = 1
        for line in A:
            for x in line:
                q = q * x.denominator // math.gcd(q, x.denominator)
        self.q, self.A = q, A
        spread = max(max(line[j] for line in A) - min(line[j] for line in A) for j in range(N))
        if spread * q > MAX_DEGREE:
            raise OverflowError(f"degree q * spread = {spread * q} exceeds {MAX_DEGREE}")
        types = {}
        for j in range(N):
            key = (int(labels[j]), tuple(point.RH[a][j] for a in range(point.d)))
            if direction_columns is not None:
                key = key + (direction_columns(j),)
            types.setdefault(key, []).append(j)
        self.types = [(cols[0], len(cols)) for cols in types.values()]
        exps, zkeys = {}, {}
        for j, _ in self.types:
            a = [int(A[i][j] * q) for i in range(K)]
            m = min(a)
            e = [x - m for x in a]
            exps[j] = e
            zkeys[j] = tuple(sorted(e))
        distinct = sorted(set(zkeys.values()))
        Z = {key: sum((_monomial(x) for x in key), fl.fmpq_poly([])) for key in distinct}
        self.Z = [Z[key] for key in distinct]
        self.L = fl.fmpq_poly([1])
        for z in self.Z:
            self.L *= z
        self.scaled_grad = {}                                    # j -> [N L G_ij for i]
        for j, _ in self.types:
            others = fl.fmpq_poly([1])
            for key in distinct:
                if key != zkeys[j]:
                    others *= Z[key]
            y = int(labels[j])
            zj = Z[zkeys[j]]
            self.scaled_grad[j] = [others * (_monomial(exps[j][i]) - (zj if i == y else 0)) for i in range(K)]


@dataclass
class CriticalityProof:
    """Outcome of :func:`prove_critical_all_tau`.

    Attributes
    ----------
    proved : bool
        The Riemannian gradient (eqs. (5)-(6)) is identically zero as a function of
        ``x = exp(tau / q)``: the point is critical for every ``tau``.
    q : int
        Common denominator of the entries of ``W^T H``.
    nonzero : int
        Number of gradient polynomials that are not identically zero.
    checked : int
        Number of polynomial identities checked (after merging equal columns).
    reason : str
        Empty, or why the identities were not attempted (degree above :data:`MAX_DEGREE`).
    """

    proved: bool
    q: int
    nonzero: int
    checked: int
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def prove_critical_all_tau(point: ExactPoint) -> CriticalityProof:
    """Prove (or fail to prove) that ``point`` is critical for every temperature.

    Needs a point in scaled rational form (``point.is_rational``).  Checks
    ``R_H (N L G)^T - R_W ddiag(rho) = 0`` and ``R_W (N L G) - R_H ddiag(varsigma) = 0``
    coefficient by coefficient, with ``rho_k = sum_j A_kj (N L G)_kj`` and
    ``varsigma_j = sum_k A_kj (N L G)_kj``, ``A = W^T H`` (eqs. (5)-(6) divided by ``tau`` in the
    point's scaled coordinates; the diagonal scaling ``diag(sqrt(sigma))`` is invertible).
    """
    if not point.is_rational:
        raise ValueError("an all-temperature criticality proof needs a point in scaled rational form")
    try:
        sm = _Softmax(point)
    except OverflowError as exc:
        return CriticalityProof(False, 0, 0, 0, f"not attempted: {exc}")
    K, d, A = point.K, point.d, sm.A
    RW, RH = point.RW, point.RH
    zero = flint().fmpq_poly([])
    rho = [sum((_q(mult * A[k][j]) * sm.scaled_grad[j][k] for j, mult in sm.types), zero) for k in range(K)]
    nonzero = checked = 0
    for a in range(d):
        for k in range(K):
            g = sum((_q(mult * RH[a][j]) * sm.scaled_grad[j][k] for j, mult in sm.types), zero) \
                - _q(RW[a][k]) * rho[k]
            checked += 1
            nonzero += not g.is_zero()
    for j, _ in sm.types:
        vs = sum((_q(A[k][j]) * sm.scaled_grad[j][k] for k in range(K)), zero)
        for a in range(d):
            g = sum((_q(RW[a][k]) * sm.scaled_grad[j][k] for k in range(K)), zero) - _q(RH[a][j]) * vs
            checked += 1
            nonzero += not g.is_zero()
    return CriticalityProof(proved=nonzero == 0, q=sm.q, nonzero=nonzero, checked=checked)


@dataclass
class AllTauCertificate:
    """Outcome of :func:`all_tau_polynomial`.

    Attributes
    ----------
    proved : bool
        ``Q < 0`` for every ``tau > 0`` along the direction (coefficients of
        ``P(1 + t)`` all ``<= 0``, ``P != 0``).
    reason : str
    q : int
        ``x = exp(tau / q)``.
    polynomial : str
        ``P(x)``, exactly, with ``Q = tau P(x) / (N L(x))``.
    shifted : str
        ``P(1 + t)``.
    denominator : list of str
        The distinct ``Z_j(x)`` whose product is ``L(x)``.
    coefficients : list of str
        Coefficients of ``P`` (exact rationals), constant term first.
    denominator_coefficients : list of list of str
        Coefficients of each distinct ``Z_j``, constant term first.
    """

    proved: bool
    reason: str
    q: int | None = None
    polynomial: str | None = None
    shifted: str | None = None
    denominator: list | None = None
    coefficients: list | None = None
    denominator_coefficients: list | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def negative_for_every_tau(P):
    """Whether ``P(x) < 0`` is proved for every ``x > 1`` (every ``tau > 0``): the decision of :func:`all_tau_polynomial`.

    ``P`` (``fmpq_poly``) is shifted to ``P(1 + t)``; the sign is proved when ``P != 0`` and
    *every* coefficient of ``P(1 + t)`` is ``<= 0`` (then ``P(1 + t) < 0`` for ``t > 0``).
    Returns ``(proved, P(1 + t), reason)``.
    """
    shifted = P(flint().fmpq_poly([1, 1]))
    coeffs = [Fraction(int(c.p), int(c.q)) for c in shifted.coeffs()]
    proved = (not P.is_zero()) and all(c <= 0 for c in coeffs)
    reason = ("all coefficients of P(1 + t) are <= 0 and P != 0: Q < 0 for every tau > 0" if proved else
              "P is zero" if P.is_zero() else "P(1 + t) has a positive coefficient: no sign for every tau")
    return proved, shifted, reason


def all_tau_polynomial(point: ExactPoint, direction: ExactDirection) -> AllTauCertificate:
    """The polynomial ``P`` with ``Q = tau P(x) / (N L(x))`` along a ``D = 0`` direction, and its sign.

    ``point`` and ``direction`` must be in scaled rational form, the direction
    exactly tangent and with ``W^T dH + dW^T H = 0`` exactly; otherwise the
    certificate says why it does not apply (``proved=False``).
    """
    if not point.is_rational or direction.rational is None:
        return AllTauCertificate(False, "point or direction not in scaled rational form")
    RdW, RdH = direction.rational
    K, N = point.K, point.N
    gw = point.inner(point.RW, RdW)
    gh = point.inner(point.RH, RdH)
    if any(gw[k][k] for k in range(K)) or any(gh[j][j] for j in range(N)):
        return AllTauCertificate(False, "direction not exactly tangent")
    D1, D2 = point.inner(point.RW, RdH), point.inner(RdW, point.RH)
    if any(D1[k][j] + D2[k][j] for k in range(K) for j in range(N)):
        return AllTauCertificate(False, "D = tau (W^T dH + dW^T H) is not zero along this direction")
    if not any(x for line in RdW + RdH for x in line):
        return AllTauCertificate(False, "zero direction")
    try:
        sm = _Softmax(point, direction_columns=lambda j: tuple(RdH[a][j] for a in range(point.d)))
    except OverflowError as exc:
        return AllTauCertificate(False, f"not attempted: {exc}")
    B = point.inner(RdW, RdH)
    a = [point.inner(RdW, RdW)[k][k] for k in range(K)]
    b = {j: sum(point.sigma[r] * RdH[r][j] * RdH[r][j] for r in range(point.d)) for j, _ in sm.types}
    fl = flint()
    P = fl.fmpq_poly([])
    for j, mult in sm.types:
        for k in range(K):
            c = mult * (2 * B[k][j] - (a[k] + b[j]) * sm.A[k][j])
            if c:
                P += _q(c) * sm.scaled_grad[j][k]
    proved, shifted, reason = negative_for_every_tau(P)
    return AllTauCertificate(proved, reason, sm.q, str(P), str(shifted), [str(z) for z in sm.Z],
                             [str(c) for c in P.coeffs()], [[str(c) for c in z.coeffs()] for z in sm.Z])
