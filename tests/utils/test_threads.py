"""BLAS threads: one thread for small problems, untouched for big ones and when the user set them."""

from threadpoolctl import threadpool_info

from nc_verify import UFMProblem
from nc_verify.utils.threads import SMALL_TANGENT_DIMENSION, blas_threads_for

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def _clear(monkeypatch):
    for v in THREAD_VARS:
        monkeypatch.delenv(v, raising=False)


def test_small_problem_runs_on_one_thread(monkeypatch):
    _clear(monkeypatch)
    with blas_threads_for(UFMProblem(5, 3, 1, 1.0)):
        assert set(_blas_threads()) == {1}


def test_big_problem_and_user_setting_left_alone(monkeypatch):
    _clear(monkeypatch)
    before = _blas_threads()
    big = UFMProblem(40, 10, 4, 1.0)
    assert big.tangent_dimension > SMALL_TANGENT_DIMENSION
    with blas_threads_for(big):
        assert _blas_threads() == before
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    with blas_threads_for(UFMProblem(5, 3, 1, 1.0)):
        assert _blas_threads() == before
