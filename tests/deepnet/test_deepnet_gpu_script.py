"""The prepared GPU script runs end to end with its tiny --smoke settings on a CPU."""

import csv
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason='the GPU script needs the torch extra: pip install "nc-verify[torch]"')
pytest.importorskip("sklearn", reason="the GPU script trains on scikit-learn's bundled digits")

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_run_writes_all_outputs(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_deepnet_figures.py"), "--smoke", "--device", "cpu", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    names = {p.name for p in tmp_path.iterdir()}
    for fig in ("figure4", "figure6"):
        assert {f"{fig}.csv", f"{fig}.png", f"{fig}.json", f"{fig}_summary.txt"} <= names
    with open(tmp_path / "figure6.csv", newline="") as fh:
        runs = {row["run"] for row in csv.DictReader(fh)}
    assert runs == {"resnet18-normalized", "resnet18-regularized", "resnet50-normalized", "resnet50-regularized"}
    summary = (tmp_path / "summary.md").read_text()
    assert "mode: smoke" in summary and "skipped" not in summary


def test_budget_skips_runs_and_says_so(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_deepnet_figures.py"), "--smoke", "--device", "cpu",
         "--budget-s", "0", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert "skipped for lack of time: figure4 width 2, figure4 width 4, figure6 resnet18 normalized" in summary
