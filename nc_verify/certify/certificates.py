"""Certified verdicts: strict saddles and minima up to symmetry, proved in ball arithmetic.

Every number a certificate reports is a rigorous enclosure (python-flint's ``arb``)
of the exact quantity at an *exact* point (:mod:`.exact`).  What is proved and what
is only checked is stated in :meth:`Certificate.summary`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np

from nc_verify.certify import ball
from nc_verify.certify._flint import flint, working_precision
from nc_verify.certify.alltau import (
    AllTauCertificate,
    CriticalityProof,
    all_tau_polynomial,
    prove_critical_all_tau,
)
from nc_verify.certify.exact import (
    ExactDirection,
    ExactPoint,
    exact_family,
    exact_point,
)
from nc_verify.landscape.spectrum import min_hessian_eigenpair, symmetric_eigh
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.budget import ball_matrix_bytes, check_memory
from nc_verify.utils.validation import check_instance, check_int

SADDLE_STATUSES = ("certified", "not_negative", "undecided", "not_critical")
MINIMUM_STATUSES = ("certified", "not_minimum", "undecided", "not_critical")
#: Automatic directions assemble the ball Hessian up to this tangent dimension;
#: above it the float64 Lanczos eigenvector of :mod:`nc_verify.landscape.spectrum` is used.
AUTO_DENSE_LIMIT = 600


@dataclass
class Enclosure:
    """A ball ``[mid +/- rad]`` containing an exact real number.

    ``text`` is the ball as python-flint prints it (decimal, any exponent);
    ``mid`` and ``rad`` are float64 (``mid`` underflows to 0.0 below 1e-308: read
    ``text`` there).  ``sign`` is "negative", "positive" or "contains zero".
    """

    text: str
    mid: float
    rad: float
    sign: str

    @classmethod
    def of(cls, x) -> "Enclosure":
        sign = "negative" if x < 0 else "positive" if x > 0 else "contains zero"
        return cls(x.str(radius=True), float(x.mid()), float(x.rad()), sign)


@dataclass
class CriticalityEvidence:
    """What is known about ``grad f = 0`` (eqs. (5)-(6)) at the exact point.

    Attributes
    ----------
    status : {"proved_all_tau", "consistent", "not_critical"}
        "proved_all_tau": every gradient coordinate is the zero rational function
        of ``x = exp(tau / q)`` (critical at every temperature); "consistent":
        every entry's ball contains 0 (not a proof); "not_critical": some entry's
        ball excludes 0 (a proof that the point is not critical).
    gradient_bound : float
        Upper bound on the largest ``|entry|`` of the gradient enclosure.
    proof : CriticalityProof or None
    """

    status: str
    gradient_bound: float
    proof: CriticalityProof | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["proof"] = None if self.proof is None else self.proof.as_dict()
        return out


@dataclass
class Certificate:
    """A certified verdict (see :meth:`summary` for the statement).

    Attributes
    ----------
    kind : {"strict_saddle", "minimum"}
    status : str
        :data:`SADDLE_STATUSES` or :data:`MINIMUM_STATUSES`.
    point : str
        The exact point's source.
    d, K, n : int
    tau : str
        The temperature, exactly (a float ``tau`` is its binary rational).
    criticality : CriticalityEvidence
    precision : int
        Bits of the last evaluation; ``precisions_tried`` lists all of them.
    time_s : float
        Wall-clock seconds for the whole certificate.
    direction : str or None
        (saddle) where the direction came from.
    quadratic_form, rayleigh_quotient : Enclosure or None
        (saddle) ``Hess f[Delta, Delta]`` (eqs. (7)-(8)) and its quotient by ``||Delta||^2``.
    all_tau : AllTauCertificate or None
        (saddle, ``all_tau=True``) the polynomial ``P`` with ``Q = tau P(x) / (N L(x))``.
    mu : Enclosure or None
        (minimum) certified lower bound on every eigenvalue off the orbit's tangent space.
    kernel_dimension, tangent_dimension : int or None
        (minimum) dimension of the O(d) orbit's tangent space (the proved kernel) and of the tangent space.
    reason : str
        One sentence on how the status was reached.
    """

    kind: str
    status: str
    point: str
    d: int
    K: int
    n: int
    tau: str
    criticality: CriticalityEvidence
    precision: int
    precisions_tried: list = field(default_factory=list)
    time_s: float = 0.0
    direction: str | None = None
    quadratic_form: Enclosure | None = None
    rayleigh_quotient: Enclosure | None = None
    all_tau: AllTauCertificate | None = None
    mu: Enclosure | None = None
    kernel_dimension: int | None = None
    tangent_dimension: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        """JSON-ready dict (enclosures as their text plus float midpoint and radius)."""
        out = asdict(self)
        out["criticality"] = self.criticality.as_dict()
        return out

    def summary(self) -> str:
        """Plain statement of what was proved and what was only checked."""
        where = f"{self.point} at d={self.d}, K={self.K}, n={self.n}, tau={self.tau}"
        crit = {
            "proved_all_tau": "PROVED: the Riemannian gradient (eqs. (5)-(6)) is identically zero, "
                              "for every tau (exact polynomial identities in x = exp(tau/q), "
                              f"q = {self.criticality.proof.q if self.criticality.proof else '?'})",
            "consistent": "CHECKED ONLY: every entry of the gradient's enclosure contains 0 "
                          f"(|entry| <= {self.criticality.gradient_bound:.3g}); criticality is not proved",
            "not_critical": "PROVED: the point is NOT critical (a gradient entry's enclosure excludes 0)",
        }[self.criticality.status]
        lines = [f"{self.kind.replace('_', ' ')} certificate: {self.status.upper()} -- {where}",
                 f"  criticality: {crit}"]
        if self.kind == "strict_saddle":
            lines.append(f"  direction: {self.direction}")
            if self.quadratic_form is not None:
                lines.append(f"  Hess f[D, D] in {self.quadratic_form.text}; "
                             f"Rayleigh quotient in {self.rayleigh_quotient.text}")
            if self.status == "certified":
                lines.append("  PROVED: the Riemannian Hessian has negative curvature along this exact "
                             "tangent direction, so lambda_min < 0" +
                             (" and the point is a strict saddle at this tau"
                              if self.criticality.status == "proved_all_tau" else
                              " (a strict saddle provided the point is critical, which is only checked)"))
            if self.all_tau is not None:
                if self.all_tau.proved:
                    lines.append(f"  PROVED for every tau > 0: Q = tau P(x)/(N L(x)), x = exp(tau/{self.all_tau.q}), "
                                 f"P(x) = {self.all_tau.polynomial}; P(1+t) = {self.all_tau.shifted} "
                                 "has only non-positive coefficients")
                else:
                    lines.append(f"  all-tau statement: not proved ({self.all_tau.reason})")
        else:
            if self.mu is not None:
                lines.append(f"  mu in {self.mu.text}")
            if self.status == "certified":
                lines.append(f"  PROVED: the Riemannian Hessian is positive semi-definite, its kernel is exactly "
                             f"the {self.kernel_dimension}-dimensional tangent space of the O(d) orbit, and every "
                             f"eigenvalue on the orbit's orthogonal complement is >= mu "
                             f"(tangent dimension {self.tangent_dimension})")
        lines.append(f"  reason: {self.reason}")
        lines.append(f"  precision: {self.precision} bits (tried {self.precisions_tried}); time {self.time_s:.3g} s")
        lines.append("  limits: the statement is about this exact point only; a float approximation "
                     "(e.g. an optimiser's output) is not covered")
        return "\n".join(lines)


# ------------------------------------------------------------------ helpers


def _resolve_point(problem: UFMProblem, W, H) -> ExactPoint:
    if isinstance(W, ExactPoint):
        point = W
    elif isinstance(W, str):
        if H is not None:
            raise ValueError("pass H only with an array W, not with a family name")
        point = exact_family(problem, W)
    else:
        if H is None:
            raise ValueError("H is required when W is an array")
        point = exact_point(W, H)
    if (point.d, point.K, point.n) != (problem.d, problem.K, problem.n):
        raise ValueError(f"point has (d, K, n) = {(point.d, point.K, point.n)}, "
                         f"problem has {(problem.d, problem.K, problem.n)}")
    return point


def _precisions(prec, max_prec):
    prec = check_int(prec, "prec", 2)
    max_prec = check_int(max_prec, "max_prec", prec)
    out = []
    while prec <= max_prec:
        out.append(prec)
        prec *= 2
    return out


def _exact_tau(problem: UFMProblem) -> Fraction:
    return Fraction(problem.tau)


def _tau_ball(tau: Fraction):
    fl = flint()
    return fl.arb(fl.fmpq(tau.numerator, tau.denominator))


def _gradient_evidence(Wb, Hb, tau_b, state, proof):
    fl = flint()
    gW, gH = ball.riemannian_gradient(Wb, Hb, tau_b, state)
    entries = [x for line in gW.tolist() + gH.tolist() for x in line]
    bound = max((float(abs(x).upper()) for x in entries), default=0.0)
    if any(not x.contains(fl.arb(0)) for x in entries):
        return CriticalityEvidence("not_critical", bound, proof)
    status = "proved_all_tau" if proof is not None and proof.proved else "consistent"
    return CriticalityEvidence(status, bound, proof)


def _mid_scaled(A):
    """Midpoints of an ``arb_mat`` as float64 after an exact scaling by ``2^-e``; returns (array, e)."""
    rows = A.tolist()
    mans = []
    e_max = None
    for line in rows:
        for x in line:
            m = x.mid()
            if m.is_zero():
                mans.append((0, 0))
                continue
            man, exp = m.man_exp()
            man, exp = int(man), int(exp)
            mans.append((man, exp))
            top = exp + man.bit_length() if man > 0 else exp + (-man).bit_length()
            e_max = top if e_max is None else max(e_max, top)
    e_max = 0 if e_max is None else e_max
    vals = [float(np.ldexp(float(man), exp - e_max)) if man else 0.0 for man, exp in mans]
    return np.array(vals, dtype=np.float64).reshape(A.nrows(), A.ncols()), e_max


def _power_of_two(e: int):
    fl = flint()
    return fl.arb(2 ** e) if e >= 0 else fl.arb(fl.fmpq(1, 2 ** (-e)))


def _ball_hessian(Wb, Hb, tau_b, state):
    """The Hessian in the exact orthonormal tangent basis of :func:`ball.tangent_basis`: (T, T) ``arb_mat``."""
    return ball.hessian_forms(Wb, Hb, tau_b, state, ball.tangent_basis(Wb, Hb))


def _basis_combination(Wb, Hb, coeffs):
    """``sum_t c_t b_t`` for the basis of :func:`ball.tangent_basis` (exactly tangent)."""
    fl = flint()
    d, K = Wb.nrows(), Wb.ncols()
    X = [list(col) for col in zip(*Wb.tolist())] + [list(col) for col in zip(*Hb.tolist())]
    cols = []
    for c, x in enumerate(X):
        basis = ball.householder_basis(x)
        cs = [fl.arb(float(v)) for v in coeffs[c * (d - 1):(c + 1) * (d - 1)]]
        cols.append([sum((ci * b[a] for ci, b in zip(cs, basis)), fl.arb(0)) for a in range(d)])
    rows = [[cols[c][a] for c in range(len(cols))] for a in range(d)]
    return fl.arb_mat([r[:K] for r in rows]), fl.arb_mat([r[K:] for r in rows])


def _gershgorin_positive(Y) -> bool:
    """True if every Gershgorin disc of the symmetric ``arb_mat`` ``Y`` lies in (0, inf): ``Y`` is PD."""
    fl = flint()
    rows = Y.tolist()
    for i, line in enumerate(rows):
        off = sum((abs(x) for j, x in enumerate(line) if j != i), fl.arb(0))
        if not line[i] - off > 0:
            return False
    return True


def _positive_definite(S) -> bool:
    """Prove the symmetric ``arb_mat`` ``S`` positive definite.

    Congruence by the float64 eigenvectors ``Q`` of its midpoint, then Gershgorin
    discs of ``Q^T S Q``; ``Q`` is proved nonsingular by the Gershgorin discs of
    ``Q^T Q`` (Sylvester's law of inertia then transfers positivity to ``S``).
    """
    fl = flint()
    mid, _ = _mid_scaled(S)
    _, Q = symmetric_eigh(0.5 * (mid + mid.T))
    Qb = fl.arb_mat(Q.tolist())
    Qt = Qb.transpose()
    return _gershgorin_positive(Qt * Qb) and _gershgorin_positive(Qt * S * Qb)


# ------------------------------------------------------------- strict saddle
def _resolve_direction(point: ExactPoint, direction):
    if direction is None:
        if point.directions:
            return next(iter(point.directions.values()))
        return "auto"
    if isinstance(direction, str):
        if direction == "auto":
            return "auto"
        if direction in point.directions:
            return point.directions[direction]
        raise ValueError(f"unknown direction {direction!r}; this point knows "
                         f"{sorted(point.directions) + ['auto']}")
    if isinstance(direction, ExactDirection):
        return direction
    if isinstance(direction, (tuple, list)) and len(direction) == 2:
        return point.direction_from_arrays(*direction)
    raise TypeError("direction must be None, 'auto', a known direction name, an ExactDirection "
                    "or a pair (dW, dH) of arrays")


def _automatic_coefficients(problem, point, Wb, Hb, tau_b, state):
    """Float64 coefficients of a negative-curvature direction and a description of their origin."""
    T = problem.tangent_dimension
    if T <= AUTO_DENSE_LIMIT:
        A, _ = _mid_scaled(_ball_hessian(Wb, Hb, tau_b, state))
        _, vecs = symmetric_eigh(0.5 * (A + A.T))
        return ("coeffs", vecs[:, 0],
                "automatic: smallest eigenvector of the midpoint of the ball Hessian (rescaled by a power "
                "of two, float64 eigh) in the exact Householder tangent basis, coefficients taken exactly")

    Wf, Hf = point.approx()
    _, (dW, dH) = min_hessian_eigenpair(problem, Wf, Hf, method="lanczos", rng=0)
    return ("ambient", (dW, dH),
            "automatic: float64 Lanczos eigenvector (nc_verify.landscape.spectrum), entries taken exactly, "
            "projected onto the tangent space in ball arithmetic")


def _balls_at(point, tau, proof):
    """Point, temperature, loss quantities and gradient evidence as balls at the working precision."""
    tau_b = _tau_ball(tau)
    Wb, Hb = point.balls()
    state = ball.loss_state(Wb, Hb, tau_b, point.labels)
    return tau_b, Wb, Hb, state, _gradient_evidence(Wb, Hb, tau_b, state, proof)


def certify_strict_saddle(problem, W, H=None, direction=None, *, prec: int = 53, max_prec: int = 4096,
                          all_tau: bool = False) -> Certificate:
    """Prove in ball arithmetic that the Hessian has negative curvature at an exact critical point.

    Parameters
    ----------
    problem : UFMProblem
        Sizes and temperature (``tau`` is taken exactly as the binary rational it is).
    W : array_like (d, K), ExactPoint or str
        The exact point: arrays of integers / ``Fraction`` / floats (unit columns
        checked exactly, see :func:`.exact.exact_point`) with ``H`` (d, N), an
        :class:`ExactPoint`, or a family name of
        :func:`nc_verify.objective.families.critical_point_families` (then ``H`` is None).
    direction : None, "auto", str, ExactDirection or (dW, dH)
        None: the family's exact direction if it knows one, else "auto" (the
        smallest eigenvector of the ball Hessian's rescaled midpoint in the exact
        tangent basis, coefficients taken exactly; the float64 Lanczos eigenvector
        above tangent dimension :data:`AUTO_DENSE_LIMIT`).  A caller's pair
        ``(dW, dH)`` is taken exactly and projected onto the tangent space in
        ball arithmetic.
    prec, max_prec : int
        Working precision in bits; it doubles until the quadratic form's ball has
        a sign, or "undecided" once ``max_prec`` is exceeded.
    all_tau : bool
        Also derive the polynomial ``P`` with ``Q = tau P(x) / (N L(x))`` (needs a
        scaled rational point and direction with ``D = 0``) and prove ``Q < 0`` for
        every ``tau > 0`` where its shifted coefficients allow.

    Returns
    -------
    Certificate
        ``status``: "certified" (``Q < 0`` proved, gradient proved zero or
        consistent with zero), "not_negative" (``Q >= 0`` proved along this
        direction: no verdict on the point), "undecided" (the ball still contains 0
        at ``max_prec``), "not_critical" (the gradient is proved nonzero).
    """
    t0 = time.perf_counter()
    p = check_instance(problem, "problem", UFMProblem)
    precisions = _precisions(prec, max_prec)
    if p.tangent_dimension <= AUTO_DENSE_LIMIT:     # the automatic direction takes the ball Hessian
        check_memory(ball_matrix_bytes(p.tangent_dimension, precisions[-1]),
                     f"a saddle certificate at tangent dimension {p.tangent_dimension} (ball matrices up to "
                     f"{precisions[-1]} bits)")
    point = _resolve_point(p, W, H)
    chosen = _resolve_direction(point, direction)
    tau = _exact_tau(p)
    proof = prove_critical_all_tau(point) if point.is_rational else None
    auto = None
    tried, status, Q, R, evidence, reason = [], "undecided", None, None, None, ""
    for bits in precisions:
        tried.append(bits)
        with working_precision(bits) as fl:
            tau_b, Wb, Hb, state, evidence = _balls_at(point, tau, proof)
            if evidence.status == "not_critical":
                status, reason = "not_critical", "a gradient entry's enclosure excludes 0"
                break
            if chosen == "auto":
                if auto is None:
                    auto = _automatic_coefficients(p, point, Wb, Hb, tau_b, state)
                if auto[0] == "coeffs":
                    dW, dH = _basis_combination(Wb, Hb, auto[1])
                else:
                    dW, dH = (ball.project_columns(X, fl.arb_mat(np.asarray(Z).tolist()))
                              for X, Z in ((Wb, auto[1][0]), (Hb, auto[1][1])))
            else:
                dW, dH = chosen.balls(point)
                if not chosen.exact_tangent:
                    dW, dH = ball.project_columns(Wb, dW), ball.project_columns(Hb, dH)
            nrm = ball.squared_norm(dW, dH)
            if not nrm > 0:
                raise ValueError("the direction's tangent part is (or may be) zero")
            Q = ball.hessian_forms(Wb, Hb, tau_b, state, [(dW, dH)])[0, 0]
            R = Q / nrm
            Qe, Re = Enclosure.of(Q), Enclosure.of(R)
            if Q < 0:
                status, reason = "certified", f"Hess f[D, D] < 0 proved at {bits} bits"
                break
            if Q > 0:
                status, reason = "not_negative", f"Hess f[D, D] > 0 proved at {bits} bits along this direction"
                break
            reason = f"the enclosure of Hess f[D, D] contains 0 at {bits} bits"
    if status == "undecided":
        reason += f" (max_prec={max_prec})"
    description = auto[2] if auto is not None else (
        "automatic" if chosen == "auto" else chosen.source)
    at = None
    if all_tau:
        at = (all_tau_polynomial(point, chosen) if isinstance(chosen, ExactDirection)
              else AllTauCertificate(False, "automatic directions are not in scaled rational form"))
    return Certificate(
        kind="strict_saddle", status=status, point=point.source, d=p.d, K=p.K, n=p.n, tau=str(tau),
        criticality=evidence, precision=tried[-1], precisions_tried=tried,
        time_s=time.perf_counter() - t0, direction=description,
        quadratic_form=Qe if Q is not None else None, rayleigh_quotient=Re if R is not None else None,
        all_tau=at, reason=reason)


# -------------------------------------------------------------------- minimum
def _orbit_vectors(Wb, Hb):
    """Coordinates (in the basis of :func:`ball.tangent_basis`) of ``Omega_ab [W, H]``, ``a < b``: (T, d(d-1)/2)."""
    fl = flint()
    d = Wb.nrows()
    X = [list(col) for col in zip(*Wb.tolist())] + [list(col) for col in zip(*Hb.tolist())]
    bases = [ball.householder_basis(x) for x in X]
    cols = []
    for a in range(d):
        for b in range(a + 1, d):
            coords = []
            for x, basis in zip(X, bases):
                # (e_a e_b^T - e_b e_a^T) x = x_b e_a - x_a e_b
                coords += [x[b] * v[a] - x[a] * v[b] for v in basis]
            cols.append(coords)
    return fl.arb_mat(cols).transpose()


def certify_minimum(problem, W, H=None, *, prec: int = 53, max_prec: int = 1024) -> Certificate:
    """Prove that the Hessian is PSD with kernel exactly the O(d) orbit's tangent space.

    With ``A`` the ball Hessian (eqs. (7)-(8)) in an exact orthonormal tangent basis,
    ``V`` the exact orbit vectors ``Omega_ab [W, H]`` (a float-chosen independent
    subset, recombined by a float matrix) and ``C`` a float64 basis of their
    orthogonal complement, the certificate proves in ball arithmetic that
    ``[V, C]`` is nonsingular and that ``C^T A C - mu C^T C`` is positive definite
    (congruence by float eigenvectors + Gershgorin discs).  Since ``A V = 0`` exactly
    at a critical point (``f`` is O(d)-invariant, so ``Hess f [Omega X] = Omega grad f = 0``),
    this proves ``A >= 0``, ``ker A = span V`` and every eigenvalue on the orbit's
    orthogonal complement ``>= mu``.  The kernel claim uses exact criticality, so the
    status is "certified" only where criticality is proved (all-tau identities).

    Returns
    -------
    Certificate with ``status`` in :data:`MINIMUM_STATUSES` ("not_minimum": a
    negative Rayleigh quotient was proved along the float eigenvector).
    """
    t0 = time.perf_counter()
    p = check_instance(problem, "problem", UFMProblem)
    precisions = _precisions(prec, max_prec)
    check_memory(ball_matrix_bytes(p.tangent_dimension, precisions[-1]),
                 f"a minimum certificate at tangent dimension {p.tangent_dimension} (ball matrices up to "
                 f"{precisions[-1]} bits)")
    point = _resolve_point(p, W, H)
    tau = _exact_tau(p)
    proof = prove_critical_all_tau(point) if point.is_rational else None
    tried, status, reason, mu_enc, m, evidence = [], "undecided", "", None, None, None
    for bits in precisions:
        tried.append(bits)
        with working_precision(bits) as fl:
            tau_b, Wb, Hb, state, evidence = _balls_at(point, tau, proof)
            if evidence.status == "not_critical":
                status, reason = "not_critical", "a gradient entry's enclosure excludes 0"
                break
            A = _ball_hessian(Wb, Hb, tau_b, state)
            Amid, e = _mid_scaled(A)
            A = A * _power_of_two(-e)                                 # exact rescaling
            V = _orbit_vectors(Wb, Hb)
            Vmid, _ = _mid_scaled(V)
            U, s, _ = np.linalg.svd(Vmid, full_matrices=True)
            m = int(np.sum(s > s[0] * np.sqrt(np.finfo(float).eps) * max(Vmid.shape)))
            from scipy.linalg import qr

            _, Rv, piv = qr(Vmid, pivoting=True, mode="economic")
            Rinv = np.linalg.inv(Rv[:m, :m])
            Vsel = fl.arb_mat([[V[i, int(j)] for j in piv[:m]] for i in range(V.nrows())])
            Vn = Vsel * fl.arb_mat(Rinv.tolist())
            Cf = U[:, m:]
            Cb = fl.arb_mat(Cf.tolist())
            Z = fl.arb_mat([[Vn[i, j] for j in range(m)] + list(Cf[i]) for i in range(Cf.shape[0])])
            if not _gershgorin_positive(Z.transpose() * Z):
                reason = f"could not prove the orbit vectors and their complement span the tangent space at {bits} bits"
                continue
            Ct = Cb.transpose()
            S0 = Ct * A * Cb
            G0 = Ct * Cb
            S0mid, e0 = _mid_scaled(S0)
            lam = float(np.ldexp(np.linalg.eigvalsh(0.5 * (S0mid + S0mid.T))[0], e0))
            if lam <= 0:
                fl_vecs = symmetric_eigh(0.5 * (Amid + Amid.T))[1][:, 0]
                dW, dH = _basis_combination(Wb, Hb, fl_vecs)
                Q = ball.hessian_forms(Wb, Hb, tau_b, state, [(dW, dH)])[0, 0]
                if Q < 0:
                    status, reason = "not_minimum", f"Hess f[D, D] < 0 proved at {bits} bits along the float eigenvector"
                    mu_enc = None
                    break
                reason = f"float64 sees no positive gap off the orbit (lambda ~ {lam:.3g} in units 2^{e})"
                continue
            proved = False
            for factor in (1.0 - 2.0 ** -20, 0.5):
                mu_s = fl.arb(float(lam * factor))
                if _positive_definite(S0 - G0 * mu_s):
                    proved = True
                    break
            if proved:
                mu_enc = Enclosure.of(mu_s * _power_of_two(e))
                if evidence.status == "proved_all_tau":
                    status, reason = "certified", f"C^T A C - mu C^T C proved positive definite at {bits} bits"
                else:
                    reason = ("C^T A C - mu C^T C proved positive definite, but criticality (needed for "
                              "A V = 0) is only checked")
                break
            reason = f"positive definiteness not proved at {bits} bits"
    return Certificate(
        kind="minimum", status=status, point=point.source, d=p.d, K=p.K, n=p.n, tau=str(tau),
        criticality=evidence, precision=tried[-1], precisions_tried=tried,
        time_s=time.perf_counter() - t0, mu=mu_enc, kernel_dimension=m,
        tangent_dimension=p.tangent_dimension, reason=reason)
