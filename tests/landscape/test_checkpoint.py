"""Checkpoints of the critical-point search: a killed search resumes to the uninterrupted result."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nc_verify.landscape.search as S
from nc_verify.objective.problem import UFMProblem

SIZE = (5, 3, 1, 1.0)
STARTS = 1200


def _same_result(a, b):
    assert a.n_starts == b.n_starts and a.n_converged == b.n_converged and a.n_enumerated == b.n_enumerated
    assert np.array_equal(a.discovery, b.discovery)
    assert np.array_equal(a.descent_costs, b.descent_costs)
    assert [(p.cost, p.hits, p.sources) for p in a.points] == [(p.cost, p.hits, p.sources) for p in b.points]
    assert all(np.array_equal(x, y) for p, q in zip(a.points, b.points) for x, y in zip(p.point, q.point))


@pytest.fixture(scope="module")
def reference():
    return S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False)


def test_interrupted_search_resumes_to_the_uninterrupted_result(reference, tmp_path, monkeypatch):
    """A search stopped after its fourth batch (an exception inside the fifth) resumes from its
    checkpoint, runs only the batches not merged, and gives the uninterrupted result exactly."""
    path = tmp_path / "search.ckpt"
    calls = {"n": 0}
    run = S._run_task

    def failing(*args):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return run(*args)

    monkeypatch.setattr(S, "_run_task", failing)
    with pytest.raises(KeyboardInterrupt):
        S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False,
                               checkpoint=path, checkpoint_interval=0)
    with open(path, "rb") as fh:
        saved = pickle.load(fh)
    assert saved["merged"] == 4 and not saved["finished"]
    calls["n"] = -10**9                                  # no more failures
    counted = {"n": 0}

    def counting(*args):
        counted["n"] += 1
        return run(*args)

    monkeypatch.setattr(S, "_run_task", counting)
    resumed = S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False,
                                     checkpoint=path, checkpoint_interval=0)
    _same_result(resumed, reference)
    monkeypatch.setattr(S, "_run_task", run)
    total = S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False,
                                   checkpoint=tmp_path / "fresh.ckpt", checkpoint_interval=0)
    with open(tmp_path / "fresh.ckpt", "rb") as fh:
        assert counted["n"] == pickle.load(fh)["merged"] - 4      # the four merged batches were not rerun
    _same_result(total, reference)


def test_finished_checkpoint_returns_its_result_without_searching(reference, tmp_path, monkeypatch):
    path = tmp_path / "done.ckpt"
    S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False, checkpoint=path)
    monkeypatch.setattr(S, "_run_task", lambda *a: pytest.fail("a finished search ran a batch"))
    _same_result(S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=None, progress=False,
                                        checkpoint=path), reference)


_CHILD = """
import sys
from nc_verify.landscape.search import find_critical_points
from nc_verify.objective.problem import UFMProblem
find_critical_points(UFMProblem({size}), n_starts={starts}, seed=3, progress=False,
                     checkpoint=sys.argv[1], checkpoint_interval=0)
"""


def test_sigkilled_search_resumes_to_the_uninterrupted_result(reference, tmp_path):
    """SIGKILL of the searching process (no handler runs) after a few batches: the checkpoint it
    left resumes to the uninterrupted result."""
    path = tmp_path / "killed.ckpt"
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(size=", ".join(map(str, SIZE)), starts=STARTS),
                              str(path)], env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    try:
        merged = 0
        while time.monotonic() < deadline and child.poll() is None:
            if path.exists():
                try:
                    with open(path, "rb") as fh:
                        merged = pickle.load(fh)["merged"]
                except (EOFError, pickle.UnpicklingError):
                    merged = 0
                if merged >= 3:
                    break
            time.sleep(0.05)
        assert child.poll() is None, "the search ended before it could be killed"
        assert merged >= 3, "no checkpoint within 120 s"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    with open(path, "rb") as fh:
        assert not pickle.load(fh)["finished"]
    resumed = S.find_critical_points(UFMProblem(*SIZE), n_starts=STARTS, seed=3, progress=False, checkpoint=path)
    _same_result(resumed, reference)


def test_checkpoint_of_another_search_is_refused(tmp_path):
    path = tmp_path / "a.ckpt"
    S.find_critical_points(UFMProblem(*SIZE), n_starts=300, seed=3, progress=False, checkpoint=path)
    for kwargs, what in (({"seed": 4}, "seed"), ({"seed": 3, "batch_size": 64}, "batch_size"),
                         ({"seed": 3, "n_starts": 400}, "n_starts")):
        args = {"n_starts": 300, "progress": False, "checkpoint": path, **kwargs}
        with pytest.raises(ValueError, match=f"belongs to another search .*{what}"):
            S.find_critical_points(UFMProblem(*SIZE), **args)
    with pytest.raises(ValueError, match="belongs to another search .*problem"):
        S.find_critical_points(UFMProblem(5, 3, 1, 1.5), n_starts=300, seed=3, progress=False, checkpoint=path)


def test_unreadable_checkpoint_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="cannot be read"):
        S.find_critical_points(UFMProblem(*SIZE), n_starts=10, seed=0, progress=False, checkpoint=bad)
    other = tmp_path / "other.ckpt"
    other.write_bytes(pickle.dumps({"version": 99}))
    with pytest.raises(ValueError, match="format version"):
        S.find_critical_points(UFMProblem(*SIZE), n_starts=10, seed=0, progress=False, checkpoint=other)
    with pytest.raises(ValueError, match="checkpoint_interval"):
        S.find_critical_points(UFMProblem(*SIZE), n_starts=10, seed=0, progress=False, checkpoint=other,
                               checkpoint_interval=-1)


def test_killed_dask_worker_is_replaced_and_the_result_is_the_serial_one(tmp_path):
    """SIGKILL of one of two dask worker processes mid-search: its nanny starts a new one, the
    scheduler reruns the lost batches, and the search ends with the serial result."""
    distributed = pytest.importorskip("distributed")
    import threading

    starts = 2500
    serial = S.find_critical_points(UFMProblem(*SIZE), n_starts=starts, seed=5, progress=False)
    path = tmp_path / "dask.ckpt"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        out = {}

        def search():
            try:
                out["result"] = S.find_critical_points(UFMProblem(*SIZE), n_starts=starts, seed=5, progress=False,
                                                       scheduler=cluster.scheduler_address, checkpoint=path,
                                                       checkpoint_interval=0)
            except BaseException as exc:            # reported below
                out["error"] = exc

        thread = threading.Thread(target=search, daemon=True)
        thread.start()
        deadline = time.monotonic() + 180
        merged = 0
        while time.monotonic() < deadline and thread.is_alive() and merged < 2:
            try:
                with open(path, "rb") as fh:
                    merged = pickle.load(fh)["merged"]
            except (FileNotFoundError, EOFError, pickle.UnpicklingError):
                pass
            time.sleep(0.05)
        assert thread.is_alive() and merged >= 2, "the search ended (or never checkpointed) before the kill"
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=240)
        assert not thread.is_alive(), "the search did not finish within 240 s after the kill"
        assert "error" not in out, out.get("error")
        assert set(client.run(os.getpid).values()) != set(pids.values())     # a new worker process
    _same_result(out["result"], serial)


def test_cli_theorem2_resumes_from_its_checkpoint(tmp_path, capsys):
    """``nc-verify theorem2 --checkpoint FILE`` run twice: the second run resumes the finished search
    (no batch run) and prints the same point table and verdict."""
    from nc_verify.cli import main

    path = tmp_path / "cli.ckpt"
    argv = ["theorem2", "--d", "5", "--K", "3", "--n", "1", "--tau", "1", "--starts", "400", "--wide",
            "--checkpoint", str(path)]
    first_status = main(argv)
    first = capsys.readouterr().out
    assert path.exists()
    second_status = main(argv)
    second = capsys.readouterr().out

    def table(text):          # everything but the timing in the verdict line
        return [line for line in text.splitlines() if not line.startswith("verdict")]

    assert first_status == second_status == 3            # 400 starts cannot saturate: undecided
    assert table(first) == table(second)
