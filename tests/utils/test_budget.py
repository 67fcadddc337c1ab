"""The memory budget: the estimates by value, measured against the real peaks, and the boundary."""

import os
import time
import tracemalloc

import numpy as np
import pytest

from nc_verify.utils import budget as B


def test_estimates_by_value():
    # one T x T float64 matrix is 8 T^2 bytes; a wrong factor (4 bytes, T instead of T^2) fails
    assert B.matrix_bytes(10) == 800
    assert B.matrix_bytes(313_950) == 8 * 313_950**2            # the 734 GiB Hessian
    assert round(B.matrix_bytes(313_950) / B.GIB) == 734
    assert B.dense_spectrum_bytes(10) == 4 * 800
    assert B.hessian_matrix_bytes(10) == 3 * 800
    assert B.search_bytes(10, 128) == 4 * 128 * 800
    assert B.search_bytes(10, 128, processes=2) == 2 * 4 * 128 * 800
    assert B.ball_matrix_bytes(10, 53) == 4 * 100 * 48             # mantissa inline up to 128 bits
    assert B.ball_matrix_bytes(10, 128) == 4 * 100 * 48
    assert B.ball_matrix_bytes(10, 129) == 4 * 100 * (48 + 8 * 3)  # ceil(129 / 64) = 3 limbs


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_search_estimate_matches_the_measured_peak():
    """One batch of Levenberg-Marquardt starts peaks at 4 Hessian-sized matrices per start (measured
    4.03-4.16 at T = 60..264); a factor 3 or 5 in the estimate would be off by 25% or more."""
    from nc_verify.landscape.batched import batched_levenberg_marquardt
    from nc_verify.objective.problem import UFMProblem

    p = UFMProblem(10, 4, 3, 2.0)                 # T = 9 * 16 = 144, a size no other test names
    rng = np.random.default_rng(3)
    starts = [p.random_point(rng) for _ in range(16)]
    W, H = np.stack([s[0] for s in starts]), np.stack([s[1] for s in starts])
    peak = _peak(lambda: batched_levenberg_marquardt(p, W, H, max_iterations=5))
    ratio = peak / B.search_bytes(p.tangent_dimension, 16)
    assert 0.9 <= ratio <= 1.2, ratio


def test_dense_spectrum_estimate_matches_the_measured_peak():
    """classify_point with dense Hessians: the Hessian, eigh's copy and syevd's 2 T^2 workspace (4.02-4.06)."""
    from nc_verify.landscape.degenerate import classify_point
    from nc_verify.objective.families import critical_point_families
    from nc_verify.objective.problem import UFMProblem

    p = UFMProblem(12, 6, 3, 2.0)                 # T = 11 * 24 = 264
    W, H = list(critical_point_families(p).values())[-1]
    peak = _peak(lambda: classify_point(p, W, H, rng=0, method="dense"))
    ratio = peak / B.dense_spectrum_bytes(p.tangent_dimension)
    assert 0.9 <= ratio <= 1.2, ratio


def test_budget_boundary_at_the_limit_and_one_byte_above():
    est = B.search_bytes(64, 128)                 # 16 MiB = 1/64 GiB exactly
    with B.memory_budget(1 / 64):
        assert B.check_memory(est, "x") == est    # at the limit: allowed
        with pytest.raises(B.BudgetError) as exc:
            B.check_memory(est + 1, "the work")    # one byte more: refused, with the figures and the way out
    text = str(exc.value)
    assert "the work needs an estimated 0.0156 GiB" in text and "budget of 0.0156 GiB" in text
    assert "--max-memory" in text and B.ENV_VAR in text
    assert isinstance(exc.value, ValueError)      # exit status 2


def test_budget_sources_in_order(monkeypatch):
    monkeypatch.setenv(B.ENV_VAR, "3.5")
    assert B.max_memory_gib() == 3.5
    with B.memory_budget(2):
        assert B.max_memory_gib() == 2.0
        assert os.environ[B.ENV_VAR] == "2.0"     # inherited by processes started in the block
        with B.memory_budget(None):               # None leaves it unchanged
            assert B.max_memory_gib() == 2.0
    assert B.max_memory_gib() == 3.5 and os.environ[B.ENV_VAR] == "3.5"
    monkeypatch.delenv(B.ENV_VAR)
    phys = B.physical_memory_bytes()
    if phys:
        assert B.max_memory_gib() == pytest.approx(B.DEFAULT_FRACTION * phys / B.GIB)
    for bad in ("0", "-1", "nan", "inf", "lots"):
        monkeypatch.setenv(B.ENV_VAR, bad)
        with pytest.raises(ValueError, match=B.ENV_VAR):
            B.max_memory_gib()
    with pytest.raises(ValueError, match="max_memory_gib"):
        with B.memory_budget(0):
            pass


def test_hessian_matrix_refuses_before_work():
    """The issue's case: tangent dimension 313 950 worked 20 s, then MemoryError; now refused at once."""
    from nc_verify.landscape.spectrum import hessian_matrix
    from nc_verify.objective.problem import UFMProblem

    p = UFMProblem(11, 30, 1046, 1.0)             # T = 10 * (30 + 31380) = 314100
    W, H = p.random_point(np.random.default_rng(0))
    t0 = time.perf_counter()
    with pytest.raises(B.BudgetError, match="tangent dimension 314100"):
        hessian_matrix(p, W, H)
    assert time.perf_counter() - t0 < 1.0
    # just below and just above a small budget at T = 144 (3 * 8 * 144^2 = 497664 bytes)
    q = UFMProblem(10, 4, 3, 1.0)
    x = q.random_point(np.random.default_rng(1))
    with B.memory_budget(497_664 / B.GIB):
        assert hessian_matrix(q, *x).shape == (144, 144)
    with B.memory_budget(497_663 / B.GIB):
        with pytest.raises(B.BudgetError):
            hessian_matrix(q, *x)


def test_theorem2_and_verify_refuse_before_any_work(capsys):
    """theorem2 --d 200 --K 50 --n 10 and verify --d 1000 --K 100 --n 100 ran silently for a minute."""
    from nc_verify.checks.theorem2 import verify_theorem2
    from nc_verify.checks.verify import verify_all

    t0 = time.perf_counter()
    with pytest.raises(B.BudgetError, match="tangent dimension 109450"):
        verify_theorem2(200, 50, 10, 1.0, progress=True)
    with pytest.raises(B.BudgetError, match="tangent dimension 10089900"):
        verify_all(1000, 100, 100, 1.0, progress=True)
    assert time.perf_counter() - t0 < 2.0
    assert capsys.readouterr().err == ""          # no stage started
    # (5, 4, 3): T = 64, search 4 * 128 * 8 * 64^2 bytes = 1/64 GiB; with 2 workers twice that
    with B.memory_budget(1 / 64 - 1e-9):
        with pytest.raises(B.BudgetError):
            verify_theorem2(5, 4, 3, 1.0, n_starts=1)
    from nc_verify.checks.theorem2 import check_theorem2_budget
    from nc_verify.objective.problem import UFMProblem

    with B.memory_budget(1 / 64):
        assert check_theorem2_budget(UFMProblem(5, 4, 3, 1.0)) == 2**24
        with pytest.raises(B.BudgetError, match="2 worker processes"):
            check_theorem2_budget(UFMProblem(5, 4, 3, 1.0), workers=2)


def test_probe_uses_the_budget():
    from nc_verify.checks.probes import probe

    # (6, 3, 2): T = 5 * 9 = 45 <= POLISH_LIMIT, so the search's batches: 4 * 128 * 8 * 45^2 bytes
    need = B.search_bytes(45, 128)
    with B.memory_budget((need - 1) / B.GIB):
        with pytest.raises(B.BudgetError, match="probe at tangent dimension 45"):
            probe(6, 3, 2, 1.0, save_dir=None)
