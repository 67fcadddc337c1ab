"""Unit and property tests of the ball-arithmetic certificates (extra ``certify``)."""

import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from nc_verify.objective.families import critical_point_families
from nc_verify.objective.problem import UFMProblem

EPS = np.finfo(np.float64).eps


def test_missing_flint_names_the_extra(monkeypatch):
    from nc_verify.certify import certify_strict_saddle

    monkeypatch.setitem(sys.modules, "flint", None)          # import flint -> ImportError
    with pytest.raises(ImportError, match=r'pip install "nc-verify\[certify\]"'):
        certify_strict_saddle(UFMProblem(6, 4, 1, 1.0), "cross_polytope")


flint = pytest.importorskip("flint")

from nc_verify.certify import (  # noqa: E402
    certify_minimum, certify_strict_saddle, exact_family, exact_point, prove_critical_all_tau,
)
from nc_verify.certify import Enclosure, ball  # noqa: E402
from nc_verify.certify._flint import working_precision  # noqa: E402


def _unit(ts):
    """Inverse stereographic projection: a rational unit vector from rationals ``ts``."""
    s = sum(t * t for t in ts)
    return [2 * t / (s + 1) for t in ts] + [(s - 1) / (s + 1)]


def _rational_point(ints, d, K, n):
    """A rational point on OB(d, K) x OB(d, K n) from a flat list of small integers."""
    cols = [_unit([Fraction(ints[(c * (d - 1) + a) % len(ints)], 3) for a in range(d - 1)])
            for c in range(K + K * n)]
    X = np.array(cols, dtype=object).T
    return X[:, :K], X[:, K:]


class TestExactPoints:
    def test_float_point_rejected_with_reason(self):
        W, H = critical_point_families(UFMProblem(6, 4, 1, 1.0))["anti_aligned_etf"]
        with pytest.raises(ValueError, match="not exactly 1: certificates need exact points"):
            exact_point(W, H)

    def test_bad_inputs(self):
        p = UFMProblem(6, 4, 1, 1.0)
        with pytest.raises(ValueError, match="unknown family"):
            exact_family(p, "simplex")
        with pytest.raises(ValueError, match="cross_polytope needs an even K"):
            exact_family(UFMProblem(6, 3, 1, 1.0), "cross_polytope")
        with pytest.raises(ValueError, match="NaN or infinite"):
            exact_point(np.full((2, 2), np.nan), np.eye(2))
        with pytest.raises(ValueError, match="prec must be >= 2"):
            certify_strict_saddle(p, "cross_polytope", prec=1)
        with pytest.raises(ValueError, match="max_prec must be >= 53"):
            certify_strict_saddle(p, "cross_polytope", max_prec=20)
        with pytest.raises(ValueError, match=r"point has \(d, K, n\)"):
            certify_strict_saddle(UFMProblem(6, 4, 2, 1.0), exact_family(p, "cross_polytope"))
        with pytest.raises(ValueError, match="unknown direction"):
            certify_strict_saddle(p, "cross_polytope", direction="sideways")
        with pytest.raises(TypeError, match="problem must be a UFMProblem"):
            certify_minimum("problem", "global_etf")

    @pytest.mark.parametrize("dKn", [(6, 4, 2), (7, 6, 1), (5, 5, 1), (3, 4, 1), (4, 3, 3)])
    def test_families_match_float_constructions(self, dKn):
        # Same configuration up to a rotation: equal Gram matrices of [W, H]. The float
        # constructions carry rounding of order eps per entry; 64 eps covers it.
        p = UFMProblem(*dKn, 1.0)
        for name, (W, H) in critical_point_families(p).items():
            Wx, Hx = exact_family(p, name).approx()
            X, Xx = np.hstack([W, H]), np.hstack([Wx, Hx])
            np.testing.assert_allclose(Xx.T @ Xx, X.T @ X, atol=64 * EPS, err_msg=name)

    def test_all_tau_criticality_rejects_noncritical_point(self):
        W = np.zeros((6, 4))
        W[:4, :4] = np.eye(4)                  # orthonormal W = Hbar: not critical (FACTS)
        proof = prove_critical_all_tau(exact_point(W, np.repeat(W, 2, axis=1)))
        assert not proof.proved and proof.nonzero > 0


class TestEnclosures:
    @given(st.lists(st.integers(-6, 6), min_size=7, max_size=7), st.sampled_from([0.5, 2.0, 9.0]))
    def test_float64_form_inside_widened_ball_and_balls_shrink(self, ints, tau):
        d, K, n = 3, 3, 2
        p = UFMProblem(d, K, n, tau)
        W, H = _rational_point(ints, d, K, n)
        Wf, Hf = W.astype(float), H.astype(float)
        dW, dH = p.random_tangent(Wf, Hf, rng=abs(sum(ints)))
        point = exact_point(W, H)
        direction = point.direction_from_arrays(dW, dH)

        def form(bits):
            with working_precision(bits) as fl:
                Wb, Hb = point.balls()
                tau_b = fl.arb(tau)
                state = ball.loss_state(Wb, Hb, tau_b, point.labels)
                dWb, dHb = direction.balls(point)
                dWb, dHb = ball.project_columns(Wb, dWb), ball.project_columns(Hb, dHb)
                q = ball.hessian_forms(Wb, Hb, tau_b, state, [(dWb, dHb)])[0, 0]
                return Enclosure.of(q)

        q53, q212 = form(53), form(212)
        # float64: the rounded point and direction perturb Q by a few eps times the
        # size of its terms, (tau^2 + 4 tau + 2) ||Delta||^2 (softmax, cross and curvature
        # terms with |M| <= tau); 256 eps of that is a generous rounding allowance.
        qf = p.hessian_quadratic_form(Wf, Hf, dW, dH)
        allowance = 256 * EPS * (tau * tau + 4 * tau + 2)
        assert abs(qf - q212.mid) <= q212.rad + allowance
        assert abs(qf - q53.mid) <= q53.rad + allowance

    def test_large_tau_curvature_below_float_range(self):
        # FACTS: cross-polytope lambda_min ~ -1.74e-432 at tau = 1000 (n = 2)
        c = certify_strict_saddle(UFMProblem(6, 4, 2, 1000.0), "cross_polytope")
        assert c.status == "certified" and c.precision == 53
        assert "e-432" in c.rayleigh_quotient.text and c.rayleigh_quotient.mid == 0.0


class TestReports:
    def test_summary_and_dict(self):
        c = certify_strict_saddle(UFMProblem(6, 4, 1, 6.0), "cross_polytope", all_tau=True)
        text = c.summary()
        assert "PROVED for every tau > 0" in text and "identically zero" in text
        d = c.as_dict()
        assert d["status"] == "certified" and d["quadratic_form"]["sign"] == "negative"
        assert d["criticality"]["status"] == "proved_all_tau"

    def test_consistent_only_when_gram_irrational(self):
        c = certify_strict_saddle(UFMProblem(5, 5, 1, 1.0), "regular_kgon")
        assert c.status == "certified" and c.criticality.status == "consistent"
        assert "CHECKED ONLY" in c.summary()


def test_cli_certify_family_and_point(tmp_path, capsys):
    from nc_verify.cli import main

    out = tmp_path / "c.json"
    assert main(["certify", "--family", "cross_polytope", "--d", "6", "--K", "4", "--n", "1",
                 "--tau", "50", "--all-tau", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "PROVED for every tau > 0" in text and out.exists()
    W = np.zeros((3, 2), dtype=np.int64)
    W[0] = [1, -1]
    np.savez(tmp_path / "p.npz", W_num=W, W_den=np.ones_like(W), H=W.astype(float))
    # positive curvature proved along the one direction tried: undecided (exit 3), not refuted
    assert main(["certify", "--point", str(tmp_path / "p.npz"), "--tau", "2", "--wide"]) == 3
    text = capsys.readouterr().out
    assert "strict_saddle" in text and "not_negative" in text and "verdict: undecided" in text
    with pytest.raises(SystemExit):
        main(["certify", "--tau", "2"])
