"""Theorem 2 at (K, n) = (2, 1), proved by computer for every d >= 3 -- and re-checked.

Claim (Theorem 2): "If the feature dimension is larger than the number of classes, i.e. d > K,
and the temperature parameter satisfies tau < 2(d - 2)(1 + (K mod 2)/K)^{-1}, then the function
f(W, H) is a strict saddle function that has no spurious local minimum": every Riemannian
critical point is a global minimiser (the simplex ETF, Theorem 1) or has lambda_min(Hess f) < 0
(Hessian of eqs. (7)-(8)).

Here the dichotomy is *proved* (not sampled) at K = 2, n = 1, tau = 1.5 for every d >= 3 at once
(``docs/prover.md``: Lemmas 1-5 reduce every d to the planar chart plus the normal block): an
exhaustive interval branch and bound, then re-verified from the saved file alone in
python-flint balls.  tau = 1.5 < 2 = Theorem 2's limit at d = 3, so this is inside the theorem
for every d >= 3.  The same run with a prover that drops the feature-curvature term
-<dH ddiag(M^T G), dH> of eq. (8) must be rejected by the checker.
"""

import time

from nc_verify import theorem1_bound, theorem2_tau_limit
from nc_verify.certify.prover import check_landscape_proof, prove_landscape

K, N_PER, TAU = 2, 1, 1.5


def test_theorem2_proved_at_k2_n1(tmp_path):
    assert TAU < theorem2_tau_limit(3, K)            # inside Theorem 2 for every d >= 3
    t0 = time.perf_counter()
    proof = prove_landscape(K, N_PER, TAU)            # d=None: every d >= 3
    assert proof.status == "proved", proof.counts
    assert proof.counts["unresolved"] == 0 and proof.counts["etf_convex"] > 0
    path = tmp_path / "theorem2_k2_n1.json"
    proof.save(path)
    check = check_landscape_proof(path)
    assert check.valid and check.status == "proved", check.message
    assert check.checked == len(proof.leaves)
    assert time.perf_counter() - t0 < 60.0
    assert theorem1_bound(K, TAU) > 0                 # the global value the ETF boxes certify


def test_wrong_hessian_variant_rejected(tmp_path):
    bad = prove_landscape(K, N_PER, TAU, _drop="col_curvature")
    path = tmp_path / "faulty.json"
    bad.save(path)
    check = check_landscape_proof(path)
    assert not check.valid and check.status == "invalid"
    assert check.failures and check.failures[0]["index"] is not None
