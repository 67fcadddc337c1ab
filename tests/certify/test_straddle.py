"""Rigorous decisions outside the prover refuse to decide on an enclosure that straddles zero.

Each decision taken on a ball (python-flint ``arb``) in :mod:`nc_verify.certify` --
the sign of an :class:`Enclosure`, the criticality evidence, the Gershgorin and
congruence tests of positive definiteness, the strict-saddle and minimum certificates,
the all-temperature polynomial test and the policy that turns a status into a verdict --
is given an enclosure containing zero (and, where the rule quantifies over many terms,
a mixed case that only the right quantifier rejects).  The wrong variants each test
catches are named in its docstring and, where cheap, shown deciding where the rule must not.
"""

import numpy as np
import pytest

flint = pytest.importorskip("flint")

from nc_verify import UFMProblem  # noqa: E402
from nc_verify.certify import ball, certificates  # noqa: E402
from nc_verify.certify.alltau import CriticalityProof, negative_for_every_tau  # noqa: E402
from nc_verify.certify.certificates import (  # noqa: E402
    Enclosure,
    _gershgorin_positive,
    _gradient_evidence,
    _positive_definite,
    certify_minimum,
    certify_strict_saddle,
)
from nc_verify.certify.policy import certificate_state  # noqa: E402
from nc_verify.objective.families import cross_polytope  # noqa: E402
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED  # noqa: E402

arb = flint.arb


def ball_(mid, rad):
    return arb(mid, rad)


# ---------------------------------------------------------------------------- Enclosure sign
@pytest.mark.parametrize("mid, rad, sign", [
    (1e-20, 2e-20, "contains zero"),        # midpoint positive, ball straddles
    (-1e-20, 2e-20, "contains zero"),
    (0.0, 0.0, "contains zero"),            # exactly zero
    (1e-20, 1e-21, "positive"),
    (-1e-300, 1e-301, "negative"),
])
def test_enclosure_sign(mid, rad, sign):
    """A ball that straddles 0 has no sign.  Catches a sign read from the midpoint (``mid > 0``)."""
    x = ball_(mid, rad)
    assert Enclosure.of(x).sign == sign
    if sign == "contains zero" and mid != 0:
        midpoint_rule = "positive" if mid > 0 else "negative"
        assert midpoint_rule != sign


# --------------------------------------------------------------------- criticality evidence
def _evidence(monkeypatch, entries, proof=None):
    """``_gradient_evidence`` with the gradient's enclosure replaced by ``entries`` (2 x 2 and 2 x 2)."""
    gW = flint.arb_mat([[entries[0], entries[1]], [entries[2], entries[3]]])
    gH = flint.arb_mat([[entries[4], entries[5]], [entries[6], entries[7]]])
    monkeypatch.setattr(ball, "riemannian_gradient", lambda *a: (gW, gH))
    return _gradient_evidence(None, None, None, None, proof)


def test_gradient_evidence_straddling_is_only_consistent(monkeypatch):
    """Every entry's ball contains 0 (midpoints nonzero): "consistent", not a proof either way.

    Catches "not_critical" read from nonzero midpoints, and "proved" without the exact proof.
    """
    entries = [ball_(s * 1e-18, 1e-17) for s in (1, -1, 2, -2, 3, -3, 4, -4)]
    ev = _evidence(monkeypatch, entries)
    assert ev.status == "consistent"
    assert ev.gradient_bound >= 4e-18
    proved = CriticalityProof(True, 1, 0, 8)
    assert _evidence(monkeypatch, entries, proved).status == "proved_all_tau"
    assert _evidence(monkeypatch, entries, CriticalityProof(False, 1, 2, 8)).status == "consistent"


def test_gradient_evidence_one_entry_excluding_zero_is_not_critical(monkeypatch):
    """Seven balls contain 0, one excludes it: "not_critical" (*any* entry resolved nonzero suffices).

    Catches an ``all`` where the rule needs ``any`` (seven of eight contain 0), and the
    exact proof overriding a resolved nonzero entry.
    """
    entries = [ball_(0.0, 1e-17)] * 7 + [ball_(1e-15, 1e-17)]
    assert _evidence(monkeypatch, entries).status == "not_critical"
    assert _evidence(monkeypatch, entries, CriticalityProof(True, 1, 0, 8)).status == "not_critical"
    assert not all(not x.contains(arb(0)) for x in entries)       # the wrong quantifier would not fire


# ----------------------------------------------------------------- Gershgorin, congruence
def test_gershgorin_disc_straddling_zero_is_not_a_proof():
    """A disc reaching 0 (diagonal ball straddling 0, or off-diagonal mass above the diagonal) proves nothing.

    Catches midpoints in place of balls (the midpoint matrix is diagonally dominant) and
    ``>=`` in place of ``>``.
    """
    straddle = flint.arb_mat([[arb(1), arb(0)], [arb(0), ball_(1e-10, 2e-10)]])
    assert not _gershgorin_positive(straddle)
    touching = flint.arb_mat([[arb(1), arb("0.5")], [arb("0.5"), arb("0.5")]])      # 0.5 - 0.5 = 0
    assert not _gershgorin_positive(touching)
    assert _gershgorin_positive(flint.arb_mat([[arb(1), arb(0)], [arb(0), ball_(1e-10, 1e-11)]]))


def test_gershgorin_every_row_must_pass():
    """Rows 1-3 strictly dominant, row 4 not: not proved.  Catches ``any`` for ``all`` over the rows."""
    A = np.diag([4.0, 4.0, 4.0, 1.0])
    A[3, 0] = A[0, 3] = 1.5
    Y = flint.arb_mat(A.tolist())
    assert not _gershgorin_positive(Y)
    rows = Y.tolist()
    dominant = [r[i] - sum((abs(x) for j, x in enumerate(r) if j != i), arb(0)) > 0 for i, r in enumerate(rows)]
    assert dominant == [True, True, True, False]


def test_positive_definite_with_an_eigenvalue_ball_straddling_zero():
    """``diag(1, 2, [1e-10 +- 1e-9])``: the congruence + Gershgorin test must not prove it PD.

    With the radius ten times smaller it does (control).  Catches a decision on the
    midpoint matrix (which is PD).
    """
    def mat(rad):
        return flint.arb_mat([[arb(1), arb(0), arb(0)], [arb(0), arb(2), arb(0)], [arb(0), arb(0), ball_(1e-10, rad)]])

    assert not _positive_definite(mat(1e-9))
    assert _positive_definite(mat(1e-11))


# ------------------------------------------------------------------ certificates end to end
def test_strict_saddle_along_the_orbit_is_undecided():
    """Along a rotation of the whole point (``Delta = Omega [W, H]``) ``Hess f[Delta, Delta] = 0`` exactly.

    Its enclosure contains 0 at every precision, so the certificate must end "undecided"
    after trying every precision up to ``max_prec`` -- not "certified" and not
    "not_negative" -- and the policy maps that to undecided.  (d, K, n) = (3, 4, 1), tau = 3.
    """
    p = UFMProblem(3, 4, 1, 3.0)
    W, H = cross_polytope(p)
    Omega = np.zeros((3, 3))
    Omega[0, 2], Omega[2, 0] = 1.0, -1.0
    cert = certify_strict_saddle(p, W, H, direction=(Omega @ W, Omega @ H), prec=53, max_prec=212)
    assert cert.status == "undecided", cert.summary()
    assert cert.precisions_tried == [53, 106, 212]
    assert cert.quadratic_form.sign == "contains zero"
    assert certificate_state(cert) is UNDECIDED


def _widened(monkeypatch, rad):
    """``_ball_hessian`` with every entry's radius increased by ``rad`` (relative to the largest midpoint)."""
    real = certificates._ball_hessian

    def wide(*a):
        A = real(*a)
        top = max(abs(float(x.mid())) for r in A.tolist() for x in r)
        return flint.arb_mat([[x + ball_(0, rad * top) for x in r] for r in A.tolist()])

    monkeypatch.setattr(certificates, "_ball_hessian", wide)


def test_minimum_with_a_straddling_hessian_is_undecided(monkeypatch):
    """The ETF minimum with every Hessian entry widened past its smallest off-orbit eigenvalue: "undecided".

    Unwidened it is "certified" (control).  Catches a certificate on the midpoints and a
    "not_minimum" from an enclosure that only contains negative values.
    (d, K, n) = (3, 3, 1), tau = 2.
    """
    p = UFMProblem(3, 3, 1, 2.0)
    assert certify_minimum(p, "global_etf", max_prec=53).status == "certified"
    _widened(monkeypatch, 1.0)
    cert = certify_minimum(p, "global_etf", max_prec=106)
    assert cert.status == "undecided", cert.summary()
    assert certificate_state(cert) is UNDECIDED


def test_strict_saddle_with_a_straddling_quadratic_form_is_undecided(monkeypatch):
    """The cross-polytope's exact negative direction, its ``Hess f[D, D]`` widened to straddle 0: "undecided".

    Unwidened it is "certified" (control).  Catches a verdict from the midpoint of ``Q``.
    """
    p = UFMProblem(3, 4, 1, 3.0)
    assert certify_strict_saddle(p, "cross_polytope", max_prec=53).status == "certified"
    real = ball.hessian_forms

    def wide(*a):
        Q = real(*a)
        return flint.arb_mat([[x + ball_(0, 3 * abs(float(x.mid()))) for x in r] for r in Q.tolist()])

    monkeypatch.setattr(ball, "hessian_forms", wide)
    cert = certify_strict_saddle(p, "cross_polytope", max_prec=106)
    assert cert.status == "undecided" and cert.precisions_tried == [53, 106]
    assert cert.quadratic_form.mid < 0                     # the midpoint alone would have "certified"


# -------------------------------------------------------------------- all-tau polynomial sign
def _poly(coeffs):
    return flint.fmpq_poly(coeffs)


def test_all_tau_sign_needs_every_shifted_coefficient_nonpositive():
    """``P(1 + t)`` with all coefficients ``<= 0`` but one: not proved; all ``<= 0`` (zeros included): proved.

    * cross-polytope ``P = 32 (1 - x)``: ``P(1 + t) = -32 t`` (constant term 0): proved --
      catches a strict ``< 0`` on every coefficient;
    * ``P(1 + t) = -1 - 2 t + 3 t^2 - t^3``: one positive coefficient: not proved -- catches
      ``any`` for ``all``;
    * ``P = -(x - 1)^2``: ``P(x)`` has the positive coefficient ``2 x`` but ``P(1 + t) = -t^2``:
      proved -- catches a test on ``P``'s own coefficients;
    * ``P = 0``: not proved.
    """
    ok, shifted, _ = negative_for_every_tau(_poly([32, -32]))
    assert ok and [int(c) for c in shifted.coeffs()] == [0, -32]
    t = _poly([-1, 1])                                      # x - 1 = t
    mixed = -1 - 2 * t + 3 * t * t - t * t * t
    ok, shifted, reason = negative_for_every_tau(mixed)
    assert not ok and "positive coefficient" in reason
    assert [int(c) for c in shifted.coeffs()] == [-1, -2, 3, -1]
    ok, _, _ = negative_for_every_tau(-(t * t))
    assert ok
    ok, _, reason = negative_for_every_tau(_poly([]))
    assert not ok and "zero" in reason


# --------------------------------------------------------------------------------- policy
@pytest.mark.parametrize("status, state", [("certified", PASS), ("not_critical", FAIL), ("not_minimum", FAIL),
                                           ("not_negative", UNDECIDED), ("undecided", UNDECIDED),
                                           ("something new", UNDECIDED)])
def test_policy_maps_only_proofs_to_verdicts(status, state):
    """Only a proof is a verdict; "not_negative" (one direction), "undecided" and unknown statuses are undecided."""
    class C:
        pass

    c = C()
    c.status = status
    assert certificate_state(c) is state
