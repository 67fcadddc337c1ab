"""Sweeps: grid validation, append-only results, dask LocalCluster, kill and resume."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nc_verify.runs.sweep import append_record, load_grid, parse_grid, read_records, run_sweep

GRID = """task = "probe"
d = [3, 4]
K = [3]
n = [1]
tau = [1.0, 6.0]
loss = ["cross_entropy", "focal:2"]
seed = [0]
[options]
n_starts = 2
search_starts = 2
save_dir = "{save}"
"""
FLOAT_RTOL = 1e-9   # same code, same seeds; only BLAS summation order may differ between processes


def _grid(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID.format(save=tmp_path / "cx"))
    return path


def _same(a, b):
    """Records equal up to timing, with floats compared to FLOAT_RTOL."""
    if isinstance(a, dict):
        keys = set(a) - {"elapsed_s"}
        return keys == set(b) - {"elapsed_s"} and all(_same(a[k], b[k]) for k in keys)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        if a != a or b != b:                          # NaN (e.g. no converged search start) on both sides
            return a != a and b != b
        return abs(a - b) <= FLOAT_RTOL * max(abs(a), abs(b), 1e-300)
    return a == b


class TestGrid:
    @pytest.mark.parametrize("data, match", [
        ({"d": [3], "K": [3], "n": [1], "tau": [1.0], "colour": 1}, "unknown grid key"),
        ({"d": [1], "K": [3], "n": [1], "tau": [1.0]}, r"grid entry 'd'\[0\]: d must be >= 2"),
        ({"d": [3], "K": [3], "n": [1], "tau": [1.0, -2.0]}, r"grid entry 'tau'\[1\]"),
        ({"d": [3], "K": [3], "n": [1], "tau": [1.0], "loss": ["hinge"]}, r"grid entry 'loss'\[0\]"),
        ({"d": [3], "K": [3], "n": [1], "tau": [1.0], "loss": ["supcon"]}, "needs n >= 2"),
        ({"d": [30], "K": [20], "n": [5], "tau": [1.0]}, "exceeds the probe's dense limit"),
        ({"task": "theorem1", "d": [3], "K": [4], "n": [1], "tau": [1.0]}, "Theorem 1 needs d >= K"),
        ({"task": "solve", "d": [3], "K": [3], "n": [1], "tau": [1.0]}, "unknown task 'solve'"),
        ({"d": [3], "K": [3], "n": [1], "tau": [1.0], "options": {"starts": 2}}, "unknown option"),
        ({"d": [3], "K": [3], "tau": [1.0]}, "missing 'n'"),
        ({"d": [], "K": [3], "n": [1], "tau": [1.0]}, "'d' is empty"),
    ])
    def test_bad_grids_rejected(self, data, match):
        with pytest.raises(ValueError, match=match):
            parse_grid(data)

    def test_bad_toml(self, tmp_path):
        path = tmp_path / "g.toml"
        path.write_text("d = [3,")
        with pytest.raises(ValueError, match="not valid TOML"):
            load_grid(path)

    def test_cells(self, tmp_path):
        cells = load_grid(_grid(tmp_path)).cells()
        assert len(cells) == 8 and len({c.id for c in cells}) == 8


class TestResultsFile:
    def test_append_and_partial_tail(self, tmp_path):
        out = tmp_path / "r.jsonl"
        append_record(out, {"cell": "a", "x": 1})
        append_record(out, {"cell": "b", "x": 2})
        with open(out, "ab") as fh:                       # a write cut short
            fh.write(b'{"cell": "c", "x"')
        assert set(read_records(out)) == {"a", "b"}
        read_records(out, repair=True)
        assert out.read_bytes().endswith(b"\n") and len(out.read_text().splitlines()) == 2

    def test_refuses_to_mix_without_resume(self, tmp_path):
        out = tmp_path / "r.jsonl"
        append_record(out, {"cell": "a"})
        with pytest.raises(ValueError, match="already holds 1 cells"):
            run_sweep({"d": [3], "K": [3], "n": [1], "tau": [1.0]}, out, workers=0)


def test_serial_sweep_and_resume_is_a_no_op(tmp_path):
    out = tmp_path / "serial.jsonl"
    s = run_sweep(_grid(tmp_path), out, workers=0)
    assert s.ran == 8 and len(out.read_text().splitlines()) == 8
    s2 = run_sweep(_grid(tmp_path), out, workers=0, resume=True)
    assert s2.ran == 0 and s2.skipped == 8 and len(out.read_text().splitlines()) == 8


@pytest.mark.slow
def test_local_cluster_kill_and_resume(tmp_path):
    pytest.importorskip("distributed", reason='dask.distributed not installed (pip install "nc-verify[sweep]")')
    grid = _grid(tmp_path)
    serial = run_sweep(grid, tmp_path / "serial.jsonl", workers=0).records

    out = tmp_path / "killed.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "nc_verify", "sweep", str(grid), "--out", str(out),
                             "--workers", "2"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240      # a loaded 2-core machine starts a cluster slowly
        while time.monotonic() < deadline and (not out.exists() or len(out.read_bytes().splitlines()) < 2):
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)           # the sweep and its worker processes
        proc.wait()
    before = read_records(out)
    assert 2 <= len(before) < 8, "the kill should land part-way"

    s = run_sweep(grid, out, workers=2, resume=True)
    assert s.skipped == len(before) and s.ran == 8 - len(before)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    ids = [r["cell"] for r in lines]
    assert sorted(ids) == sorted(serial) and len(set(ids)) == 8          # every cell exactly once
    for r in lines:
        assert _same(r, serial[r["cell"]]), r["cell"]


def test_cli_sweep_serial(tmp_path, capsys):
    from nc_verify.cli import main

    out = tmp_path / "r.jsonl"
    code = main(["sweep", str(_grid(tmp_path)), "--out", str(out), "--workers", "0"])
    text = capsys.readouterr().out
    # 2 search starts per cell cannot saturate: every cell undecided, the sweep exits 3
    assert code == 3 and "8 cells run, 0 already done, 8 in the grid" in text
    assert {r["state"] for r in read_records(out).values()} == {"undecided"}
    assert (tmp_path / "r.jsonl.png").stat().st_size > 0


def test_missing_dask_message(monkeypatch):
    import builtins

    from nc_verify.runs import sweep

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "distributed":
            raise ImportError("No module named 'distributed'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r'pip install "nc-verify\[sweep\]"'):
        sweep._import_distributed()


def test_theorem2_cell():
    """A theorem2 cell runs verify_theorem2 and records its state, verdict and critical points;
    10 starts do not saturate the search, so it is undecided."""
    from nc_verify.runs.sweep import Cell, parse_grid, run_cell

    grid = parse_grid({"task": "theorem2", "d": [5], "K": [3], "n": [1], "tau": [1.0],
                       "options": {"n_starts": 10}})
    (cell,) = list(grid.cells())
    assert isinstance(cell, Cell)
    rec = run_cell(cell)
    assert rec["state"] == rec["verdict"] == "undecided"
    assert rec["figures"]["holds"] is False and rec["figures"]["assumptions_hold"] is True
    assert [r["name"] for r in rec["figures"]["rows"] if r["state"] != "pass"] == ["Theorem 2: search saturated"]


def test_theorem2_needs_cross_entropy():
    from nc_verify.runs.sweep import parse_grid

    with pytest.raises(ValueError, match="Theorem 2 is stated for loss 'cross_entropy'"):
        parse_grid({"task": "theorem2", "d": [5], "K": [3], "n": [1], "tau": [1.0], "loss": ["focal:2"]})
