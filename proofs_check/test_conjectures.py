"""Conjectures beyond Theorem 2's assumptions, recorded as PROBES (not proofs).

The paper (Section 3, after Theorem 2, and Figure 1) conjectures that the benign
landscape of problem (4) -- every critical point a global minimiser or a strict
saddle -- survives (a) d <= K, where the minimisers are no longer simplex ETFs,
and (b) tau past Theorem 2's bound ``2 (d - 2) / (1 + (K mod 2) / K)``.

These checks do NOT establish the conjectures.  They check that the probe
machinery finds and classifies critical points correctly in those regimes: the
best value equals the known minimum where one is known, distinct saddles are
found with resolved negative curvature, and a wrong reference value is caught
(the probe would report a counterexample if the landscape had one).  The probe
results themselves are evidence recorded in the sweep/closing note.
"""

import numpy as np
import pytest

from nc_verify import probe, theorem1_bound, theorem2_tau_limit

EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("d, K, n, tau", [
    (3, 4, 1, 2.0),     # d < K, d = K - 1: Theorem 1's bound is still attained (ETF in R^3)
    (3, 3, 1, 1.0),     # d = K: outside Theorem 2 (d > K required)
])
def test_probe_at_d_at_most_K(d, K, n, tau):
    """(a) d <= K: the probe reaches Theorem 1's bound (attained for d >= K - 1), finds
    saddles with resolved negative curvature, and no local minimiser above it."""
    r = probe(d, K, n, tau, n_starts=4, seed=0, save_dir=None)
    assert not r.theorem2_regime
    assert abs(r.best_value - theorem1_bound(K, tau)) <= 64 * EPS
    assert r.verdict == "no counterexample found"
    assert len(r.saddles) >= 2 and all(p.margin > 1 for p in r.saddles)


def test_probe_on_the_circle():
    """(a) d = 2 < K - 1: the minimum is no longer an ETF; the best value is the
    evenly spaced K-gon value log(1 + sum_{j>0} exp(tau (cos(2 pi j/K) - 1))) (Figure 1)."""
    K, tau = 5, 1.0
    r = probe(2, K, 1, tau, n_starts=4, seed=0, save_dir=None)
    kgon = np.log(np.sum(np.exp(tau * (np.cos(2 * np.pi * np.arange(K) / K) - 1.0))))
    assert abs(r.best_value - kgon) <= 64 * EPS * kgon
    assert r.best_value > theorem1_bound(K, tau) + 1e-3     # not attained for d < K - 1 (gap 0.082 here)
    assert any(p.kind == "at_best_value" for p in r.points)


def test_probe_past_the_temperature_bound():
    """(b) tau past Theorem 2's bound (d = 4, K = 3: limit 3; tau = 6)."""
    d, K, tau = 4, 3, 6.0
    assert tau > theorem2_tau_limit(d, K)
    r = probe(d, K, 1, tau, n_starts=4, seed=0, save_dir=None)
    assert not r.theorem2_regime
    assert abs(r.best_value - theorem1_bound(K, tau)) <= 64 * EPS + 1e-12 * theorem1_bound(K, tau)
    assert r.verdict == "no counterexample found"
    assert r.worst_saddle is not None and r.worst_saddle.margin > 1


def test_a_wrong_reference_is_caught():
    """The probe must report a counterexample when one exists: with a reference
    value below the true minimum (a stand-in for a landscape whose lowest value was
    missed) the minimiser is flagged as a local minimiser above the best value."""
    r = probe(3, 4, 1, 2.0, n_starts=2, search_starts=0, seed=0, reference=theorem1_bound(4, 2.0) - 1e-6,
              save_dir=None)
    assert r.verdict == "potential counterexample"
