"""The distributed search gives the serial result for every number of workers and any completion order.

The search's start partition is fixed by ``(entropy, round, batch)`` and its explore batches
read the snapshot taken when the round before was merged, never the points known when a
batch happened to be submitted or to finish; the batches are merged in a fixed order.  A
partition that depended on merge timing (explore starts drawn from the points known at
submission, or batches merged as they finish) would fail these tests, since the worker counts
and the injected delays below change both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import nc_verify.landscape.search as S
from nc_verify.objective.problem import UFMProblem

distributed = pytest.importorskip("distributed")

SIZE = (4, 3, 2, 2.0)
STARTS = 900


def _same_result(a, b):
    assert np.array_equal(a.discovery, b.discovery)
    assert a.n_converged == b.n_converged and a.n_enumerated == b.n_enumerated
    assert np.array_equal(a.descent_costs, b.descent_costs)
    for p, q in zip(a.points, b.points, strict=True):
        assert p.cost == q.cost and p.hits == q.hits and p.sources == q.sources
        assert all(np.array_equal(x, y) for x, y in zip(p.point, q.point))


@pytest.fixture(scope="module")
def serial():
    return S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False)


def test_one_two_and_three_workers_give_the_serial_result(serial):
    """One cluster of worker processes scaled 1 -> 2 -> 3: each search equals the serial one (the
    window, 4 batches per worker, changes with the count, and so does the completion order).  The
    searches reach it by its address, and by the connected client itself, which the search leaves
    open (a warm cluster for the next search)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        for n in (1, 2, 3):
            cluster.scale(n)
            client.wait_for_workers(n, timeout=120)
            assert len(client.scheduler_info()["workers"]) == n
            target = client if n == 2 else cluster.scheduler_address
            _same_result(S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False,
                                                scheduler=target), serial)
            assert client.status == "running" and client.submit(abs, -n).result(timeout=60) == n


_STARTED, _FINISHED, _LOCK, _RUN = [], [], threading.Lock(), S._run_task


def _delayed(p, task, *args):
    """``_run_task`` delayed so that batch 0 of a round waits longest (module level: dask pickles it by name)."""
    with _LOCK:
        _STARTED.append(task.key)
    time.sleep(0.02 * (7 - task.key[1] % 8))
    out = _RUN(p, task, *args)
    with _LOCK:
        _FINISHED.append(task.key)
    return out


def test_batches_finishing_out_of_order_give_the_serial_result(serial, monkeypatch):
    """Three worker threads, each batch delayed so that later batches of a round finish first:
    the completion order differs from the submission order, the result does not.  No batch
    the serial search does not run is started (with a fixed ``n_starts`` a batch beginning at or
    after the last start would be computed in vain: 12 batches are queued ahead here)."""
    monkeypatch.setattr(S, "_run_task", _delayed)
    _STARTED.clear()
    S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False)
    serial_batches = set(_STARTED)
    _STARTED.clear()
    _FINISHED.clear()
    finished = _FINISHED
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False,
                                        scheduler=cluster.scheduler_address)
    assert finished != sorted(finished), "no batch finished out of order: the test would prove nothing"
    _same_result(result, serial)
    assert set(_STARTED) <= serial_batches, sorted(set(_STARTED) - serial_batches)


def test_scheduler_and_workers_started_as_separate_processes(serial, tmp_path):
    """``dask scheduler`` and ``dask worker`` as their own processes (as on a cluster's nodes): the
    search on that scheduler equals the serial one."""
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    if not os.path.exists(dask):
        pytest.skip("the dask command is not installed beside this Python")
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--no-dashboard", "--scheduler-file",
                               str(info)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 120
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert info.exists(), "the scheduler wrote no scheduler file within 120 s"
        procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(info), "--nworkers", "2",
                                       "--nthreads", "1", "--no-dashboard"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        address = json.loads(info.read_text())["address"]
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        result = S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False,
                                        scheduler=address)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    _same_result(result, serial)
