"""The ``continuum`` leaves of the d = 2 prover: "no spurious local minimum" where "strict saddle" fails.

At ``d = 2`` the stratum ``W = u 1^T`` (all classifiers equal) holds a continuum of critical
points whose *degenerate members* -- every feature ``h_j = s_j v`` with ``v`` perpendicular to
``u``, ``s_j = +-1`` with equal class sums -- have a positive semi-definite Hessian
(``docs/continua.md``).  No box around them passes a second-order test, so the strict-saddle
form of the landscape is false there.  The *weak form*, "every critical point is a global
minimiser or not a local minimum", is proved with one more leaf label (``docs/prover.md``,
Lemmas W1-W4):

``continuum`` (``K = 2``, ``d = 2``, cross-entropy)
    the box ``X`` lies in ``|alpha_2| < pi`` and either (mode ``"bound"``)
    ``tau_hi * 2 max_X |sin(alpha_2 / 2)| < L_n``, ``L_n = log((n + 1) / (n - 1))`` (``L_1 = +inf``),
    or (mode ``"feature"``, sample ``j``) ``a_2 / 2 - t_j`` takes no value in ``pi Z`` on ``X``
    (``h_j`` is nowhere perpendicular to ``w_1 + w_2``).  By Lemma W2 every critical point in ``X``
    then has ``w_1 = w_2``; on that stratum a critical point is a strict saddle unless it is a
    degenerate member (Lemma W1), and every degenerate member in ``X`` carries a *descent
    certificate* (Lemma W3): along the curve ``phi_{j0}(t) = phi_{j0} + t``,
    ``alpha_2(t) = -lam t^2`` (other angles fixed), ``f(t) - log K = c_4(xi) t^4`` with
    ``c_4(xi) = f^{(4)}(xi) / 4!`` for some ``xi in [0, t]``; a ball enclosure of ``c_4`` over
    ``[0, s_1]`` (and the box's temperatures) below 0 makes ``f < log K = f(member)`` on
    ``0 < t <= s_1``: the member is not a local minimum.

The prover side (:class:`ContinuumTest`, numpy, with a margin) proposes the labels and the
certificates; :func:`check_continuum_leaf` re-verifies one leaf in flint balls from the file
alone (the bound ``L_n``, the box, which members lie in it, each member's ``c_4`` enclosure).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

STRICT = "strict saddle"
WEAK = "no spurious local minimum"
FORMS = (STRICT, WEAK)
FAULTS = (None, "c4_sign", "continuum_bound")
SERIES_PREC = 128                 # bits for the descent series (a handful of members per proof)


# ================================================================ what is supported
def weak_form_supported(K, d, enc):
    """``(ok, reason)``: whether ``continuum`` leaves exist for this problem (``K = 2``,
    ``d = 2``, cross-entropy: Lemma W2 uses the logistic form of the loss)."""
    spec = getattr(enc, "spec", None)
    if d != 2:
        return False, "the weak form is the d = 2 case; for d >= 3 the strict-saddle form is proved"
    if spec != "cross_entropy":
        return False, f"continuum leaves need cross-entropy (Lemma W2), got loss {spec!r}"
    if K != 2:
        return False, ("continuum leaves are implemented for K = 2 only (Lemma W2's reduction of the "
                       "off-stratum critical points uses the single margin of K = 2)")
    return True, ""


# ================================================================ exact data
def off_stratum_ratio(n: int):
    """The smallest ``P / Q > 1`` with ``P + Q = 2 n``, ``Q >= 1`` (``None`` when ``n = 1``: none).

    By Lemma W2 a critical point with ``0 < |alpha_2| < pi`` has ``tau |w_1 - w_2| = log(P / Q)``
    for such ``P, Q``; ``P - Q`` is even, so the smallest ratio is ``(n + 1) / (n - 1)``."""
    return None if n == 1 else Fraction(n + 1, n - 1)


def degenerate_members(K: int, n: int):
    """Sign vectors ``s`` (tuples of +-1, length ``N = K n``, class-major) of the degenerate members
    ``W = u 1^T``, ``h_j = s_j v``: every class sum ``sum_{j in k} s_j`` the same (Lemma W1).

    There are ``sum_m C(n, m)^K`` of them (``C(2n, n)`` for ``K = 2``)."""
    per_class = list(itertools.product((1, -1), repeat=n))
    out = []
    for combo in itertools.product(per_class, repeat=K):
        if len({sum(c) for c in combo}) == 1:
            out.append(tuple(z for c in combo for z in c))
    return out


def member_coordinates(chart, signs):
    """Chart coordinates of a member in units of ``pi`` (Fractions), length ``m``: every
    ``alpha_k = 0`` (``a_k = -o_k``) and ``phi_j = s_j pi / 2`` (``t_j = s_j / 2 - o_{y_j}``
    wrapped into ``(-1, 1]``; never at the window's ends, so the representative is unique)."""
    off = chart.offsets
    a = [-off[k] for k in range(1, chart.K)]
    t = []
    for j, y in enumerate(chart.labels):
        q = Fraction(signs[j], 2) - off[y]
        while q > 1:
            q -= 2
        while q <= -1:
            q += 2
        t.append(q)
    return a + t


def descent_lambda(chart, signs, j0, tau_mid):
    """The coefficient ``lam`` of the descent curve (Lemma W3) that minimises the leading term:
    ``lam = eps_{j0} s_{j0} / (N tau)`` with ``eps = -1`` for class 1 and ``+1`` for class 2
    (``K = 2``), giving ``c_4 = -1 / (8 N^2)`` at ``tau = tau_mid``."""
    eps = 1 if chart.labels[j0] == 1 else -1
    return eps * signs[j0] / (chart.N * tau_mid)


# ================================================================ the fourth-order coefficient
def descent_c4(K, n, signs, j0, lam, s1, tau_lo, tau_hi, prec=SERIES_PREC):
    """Ball enclosure of ``f^{(4)}(xi) / 4!`` over ``xi in [0, s1]`` and ``tau in [tau_lo, tau_hi]``
    along the curve of Lemma W3 through the member ``signs`` (``flint.arb``).

    The curve, in absolute angles: ``alpha_1 = 0``, ``alpha_k(t) = -lam t^2`` (``k >= 2``),
    ``phi_j = s_j pi / 2`` and ``phi_{j0}(t) = s_{j0} pi / 2 + t``.  Per sample, with
    ``delta_k = cos(alpha_k - phi_j) - cos(alpha_y - phi_j) = -2 sin(S) sin(D)``,
    ``S = (alpha_k + alpha_y) / 2 - phi_j``, ``D = (alpha_k - alpha_y) / 2`` (product form: no
    cancellation), ``CE_j - log K = log(1 + sum_{k != y} (exp(tau delta_k) - 1) / K)``; the Taylor
    series of ``f - log K = (1/N) sum_j CE_j - log K`` is evaluated at the ball ``t = [0, s1]``,
    whose coefficient 4 encloses ``f^{(4)}(xi) / 4!`` for every ``xi`` there.
    """
    from nc_verify.certify._flint import working_precision

    N = K * n
    with working_precision(prec) as fl:
        arb, ser = fl.arb, fl.arb_series
        L = 5
        T = arb(tau_lo).union(arb(tau_hi))
        t = ser([arb(0).union(arb(s1)), 1], prec=L)
        t2 = t * t
        alpha = [ser([arb(0)], prec=L)] + [t2 * arb(-lam) for _ in range(1, K)]
        half_pi = arb.pi() / 2
        total = ser([arb(0)], prec=L)
        for j in range(N):
            y = j // n
            phi = ser([half_pi * signs[j]], prec=L)
            if j == j0:
                phi = phi + t
            u = ser([arb(0)], prec=L)
            for k in range(K):
                if k == y:
                    continue
                S = (alpha[k] + alpha[y]) * arb(0.5) - phi
                D = (alpha[k] - alpha[y]) * arb(0.5)
                delta = S.sin() * D.sin() * arb(-2)
                u = u + ((delta * T).exp() - 1) * (arb(1) / K)
            total = total + (u + 1).log()
        total = total * (arb(1) / N)
        c = total.coeffs()
        return c[4] if len(c) > 4 else arb(0)


def member_certificate(chart, signs, tau_lo, tau_hi, fault=None, j0=0):
    """A descent certificate ``{"s", "j0", "lam", "s1"}`` for one member, or ``None`` if none of
    the tried ``s1`` gives a negative enclosure.  ``fault="c4_sign"`` is a deliberately wrong
    prover (negative control): it takes the step ``alpha_2`` with the opposite sign and flips the
    sign of the enclosed coefficient before testing it.  Without python-flint the certificate is
    proposed untested (``s1 = 1e-3``; the checker decides)."""
    lam = descent_lambda(chart, signs, j0, 0.5 * (tau_lo + tau_hi))
    if fault == "c4_sign":
        lam = -lam
    try:
        import flint  # noqa: F401
    except ImportError:
        return {"s": list(signs), "j0": j0, "lam": lam, "s1": 1e-3}
    for s1 in (1e-2, 1e-3, 1e-4):
        c4 = descent_c4(chart.K, chart.n, signs, j0, lam, s1, tau_lo, tau_hi)
        if fault == "c4_sign":
            c4 = -c4
        if bool(c4 < 0):
            return {"s": list(signs), "j0": j0, "lam": lam, "s1": s1}
    return None


# ================================================================ prover side (numpy, batches)
class ContinuumTest:
    """The ``continuum`` test on a batch of boxes (picklable, for ``workers``).

    Proposes the label where the float test holds with a relative margin of ``1e-9`` (the flint
    checker decides); members are counted as inside a box when within ``1e-9`` of it.
    """

    def __init__(self, chart, fault=None):
        if fault not in FAULTS:
            raise ValueError(f"_fault must be one of {FAULTS}, got {fault!r}")
        self.chart, self.fault = chart, fault
        ratio = off_stratum_ratio(chart.n)
        self.L = math.inf if ratio is None or fault == "continuum_bound" else math.log(ratio)
        self.members = degenerate_members(chart.K, chart.n)
        self.coords = np.array([[float(q) * math.pi for q in member_coordinates(chart, s)] for s in self.members])
        self._cert = {}

    def _certificate(self, i, tlo, thi):
        key = (i, tlo, thi)
        if key not in self._cert:
            self._cert[key] = member_certificate(self.chart, self.members[i], tlo, thi, self.fault)
        return self._cert[key]

    def __call__(self, lo, hi, codes, data, code):
        """Label the boxes with ``codes < 0`` that pass (in place: ``codes[b] = code``)."""
        ch = self.chart
        m = ch.n_angles
        if ch.tau_is_coordinate:
            tlo, thi = lo[:, m], hi[:, m]
        else:
            tlo, thi = np.full(len(lo), ch.tau_lo), np.full(len(lo), ch.tau_hi)
        a_lo, a_hi = math.pi + lo[:, 0], math.pi + hi[:, 0]              # alpha_2 = pi + a_2 (K = 2)
        with np.errstate(all="ignore"):
            r = 2.0 * np.maximum(np.abs(np.sin(0.5 * a_lo)), np.abs(np.sin(0.5 * a_hi)))
            inside = (codes < 0) & (a_hi < -1e-9 + math.pi) & (a_lo > 1e-9 - math.pi)
            bound = inside & (thi * r * (1 + 1e-9) < self.L)
            # x_j = a_2/2 - t_j over the box, in units of pi: no integer inside (with a margin)
            ql = (0.5 * lo[:, :1] - hi[:, 1:m]) / math.pi
            qh = (0.5 * hi[:, :1] - lo[:, 1:m]) / math.pi
            fl = np.floor(ql)
            feat = (ql > fl + 1e-9) & (qh < fl + 1 - 1e-9)                    # (B, N)
        ok = bound | (inside & feat.any(axis=1))
        for b in np.nonzero(ok)[0]:
            inside = np.all((self.coords >= lo[b, :m] - 1e-9) & (self.coords <= hi[b, :m] + 1e-9), axis=1)
            certs = []
            for i in np.nonzero(inside)[0]:
                c = self._certificate(int(i), float(tlo[b]), float(thi[b]))
                if c is None:
                    break
                certs.append(c)
            else:
                codes[b] = code
                data[b] = ({"mode": "bound", "members": certs} if bound[b] else
                           {"mode": "feature", "j": int(np.argmax(feat[b])), "members": certs})


def certified_members(leaves) -> set:
    """Sign vectors of the members certified in the ``continuum`` leaves (malformed data skipped:
    the checker rejects it at its leaf)."""
    out = set()
    for l in leaves:
        members = (l.get("data") or {}).get("members") if l.get("test") == "continuum" else None
        for c in members if isinstance(members, list) else []:
            if isinstance(c, dict) and isinstance(c.get("s"), list) and all(isinstance(z, int) for z in c["s"]):
                out.add(tuple(c["s"]))
    return out


# ================================================================ checker side (flint)
def _members_near(chart, lo, hi, cache):
    """The members (sign vectors and exact coordinates in units of pi) within ``1e-9`` of the box
    in float arithmetic; every other member is certainly outside (``|fl(q pi) - q pi| < 1e-15``
    for ``|q| <= 1``, far below the margin).  The table is built once per chart (``cache``)."""
    key = ("members", chart.K, chart.n)
    if key not in cache:
        ms = degenerate_members(chart.K, chart.n)
        coords = [member_coordinates(chart, s) for s in ms]
        cache[key] = (ms, coords, np.array([[float(q) * math.pi for q in c] for c in coords]))
    ms, coords, xf = cache[key]
    m = chart.n_angles
    near = np.all((xf >= np.asarray(lo[:m]) - 1e-9) & (xf <= np.asarray(hi[:m]) + 1e-9), axis=1)
    return [(ms[i], coords[i]) for i in np.nonzero(near)[0]]


def _member_inside(fl, coords_pi, lo, hi):
    """Whether a member (coordinates in units of pi, exact) may lie in the box: ``False`` only
    when some coordinate is certainly outside ``[lo_i, hi_i]``."""
    pi = fl.arb.pi()
    for q, a, b in zip(coords_pi, lo, hi):
        x = pi * q.numerator / q.denominator
        if bool(x < fl.arb(a)) or bool(x > fl.arb(b)):
            return False
    return True


def check_continuum_leaf(chart, data, lo, hi, cache):
    """Re-verify a ``continuum`` leaf in flint balls; ``(ok, why)``.

    Checks (``docs/prover.md``, Lemmas W1-W4): the box's ``alpha_2`` range lies in ``(-pi, pi)``
    and, by the leaf's mode, ``tau_hi * 2 max |sin(alpha_2 / 2)| < log((n + 1) / (n - 1))`` (Lemma W2,
    recomputed from ``n``) or ``a_2 / 2 - t_j`` avoids ``pi Z`` on the box; every degenerate member the box may contain (enumerated here, decided at 200 bits)
    has a certificate in the leaf; each certificate's ``c_4`` enclosure over ``[0, s1]`` and the
    box's temperatures is ``< 0`` (Lemma W3).  ``cache`` maps verified certificates to verdicts.
    """
    from nc_verify.certify._flint import working_precision

    m = chart.n_angles
    mode, members = data.get("mode"), data.get("members")
    if mode not in ("bound", "feature"):
        return False, "invalid certificate data: 'mode' must be 'bound' or 'feature'"
    j = data.get("j")
    if mode == "feature" and (isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < chart.N):
        return False, f"invalid certificate data: 'j' must be a sample index in [0, {chart.N})"
    if not isinstance(members, list):
        return False, "invalid certificate data: 'members' must be a list"
    certs = {}
    for c in members:
        ok = (isinstance(c, dict) and isinstance(c.get("s"), list) and len(c["s"]) == chart.N
              and all(z in (1, -1) and not isinstance(z, bool) for z in c["s"])
              and isinstance(c.get("j0"), int) and not isinstance(c.get("j0"), bool) and 0 <= c["j0"] < chart.N
              and all(isinstance(c.get(k), (int, float)) and not isinstance(c.get(k), bool)
                      and math.isfinite(c[k]) for k in ("lam", "s1")) and c["s1"] > 0)
        if not ok:
            return False, ("invalid certificate data: a member certificate must be {s: N signs, j0: index, "
                           "lam: finite, s1: finite > 0}")
        certs[tuple(c["s"])] = c
    tlo, thi = (lo[m], hi[m]) if chart.tau_is_coordinate else (chart.tau_lo, chart.tau_hi)
    with working_precision(200) as fl:
        arb, pi = fl.arb, fl.arb.pi()
        a_lo, a_hi = pi + arb(lo[0]), pi + arb(hi[0])
        if not (bool(a_lo > -pi) and bool(a_hi < pi)):
            return False, "the box's alpha_2 range is not inside (-pi, pi)"
        r = 2 * max((a_lo / 2).sin().abs_upper(), (a_hi / 2).sin().abs_upper())
        ratio = off_stratum_ratio(chart.n)
        if mode == "feature":
            ql = (arb(lo[0]) / 2 - arb(hi[1 + j])) / pi
            qh = (arb(hi[0]) / 2 - arb(lo[1 + j])) / pi
            k = math.floor(float(ql.mid()))
            if not (bool(ql > k) and bool(qh < k + 1)):
                return False, (f"a_2/2 - t_{j + 1} may reach a multiple of pi on the box (h_{j + 1} perpendicular to "
                               "w_1 + w_2): critical points off the stratum are not excluded (Lemma W2)")
        elif ratio is not None:
            L = (arb(ratio.numerator) / ratio.denominator).log()
            if not bool(arb(thi) * r < L):
                return False, (f"tau * |w_1 - w_2| may reach log({ratio}) on the box: critical points off "
                               "the stratum w_1 = w_2 are not excluded (Lemma W2)")
        for s, coords in _members_near(chart, lo, hi, cache):
            if not _member_inside(fl, coords, lo[:m], hi[:m]):
                continue
            c = certs.get(s)
            if c is None:
                return False, f"degenerate member s = {list(s)} may lie in the box and has no descent certificate"
            key = (s, c["j0"], float(c["lam"]), float(c["s1"]), tlo, thi)
            if key not in cache:
                c4 = descent_c4(chart.K, chart.n, s, c["j0"], float(c["lam"]), float(c["s1"]), tlo, thi)
                cache[key] = bool(c4 < 0)
            if not cache[key]:
                return False, (f"fourth-order coefficient along the descent curve of member s = {list(s)} "
                               "not < 0 on [0, s1] (Lemma W3)")
    return True, ""
