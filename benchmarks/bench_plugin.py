"""What nc-verify's pytest plugin adds to a pytest run that does not use it (goal: under 0.1 s).

A trivial test file (one ``assert 1 + 1 == 2``) in a temporary folder outside the
repository, run ``N`` times each way in fresh processes, alternating:

* plugin loaded (``-p _nc_verify_pytestplugin``) against not loaded, with plugin
  autoloading off in both, so the difference is this checkout's plugin alone;
* autoloaded from the installed ``pytest11`` entry point against ``-p no:nc_verify``, as a
  user sees it (the entry point's target is printed: an environment installed before the
  plugin moved out of the package still points at ``nc_verify.testing.plugin``, which
  imports the package, and needs ``pip install -e .`` again).

Prints the medians and their difference (asserts nothing), numpy's BLAS (threadpoolctl)
and the machine's load.

    python benchmarks/bench_plugin.py [N]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

from _blas import blas_kernels  # noqa: E402  (benchmarks/ is on sys.path: these are scripts)

ROOT = Path(__file__).resolve().parents[1]


def pytest_time(folder, args, autoload: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_trivial.py"],
                         cwd=folder, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return elapsed


def compare(folder, n, with_args, without_args, autoload):
    with_t, without_t = [], []
    for _ in range(n):                    # alternate, so a load change hits both arms alike
        with_t.append(pytest_time(folder, with_args, autoload))
        without_t.append(pytest_time(folder, without_args, autoload))
    return statistics.median(with_t), statistics.median(without_t), min(with_t), min(without_t)


def main(n: int) -> None:
    print(f"pytest on a trivial test file, {n} runs each way, medians (min); "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(blas_kernels())
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "test_trivial.py").write_text("def test_trivial():\n    assert 1 + 1 == 2\n")
        rows = [("this checkout's plugin (autoload off)", ["-p", "_nc_verify_pytestplugin"], [], False)]
        installed = [ep.value for ep in entry_points(group="pytest11") if ep.name == "nc_verify"]
        if installed:
            rows.append((f"installed entry point nc_verify = {installed[0]}", [], ["-p", "no:nc_verify"], True))
        else:
            print("nc-verify's pytest11 entry point is not installed: the autoload comparison is skipped")
        for label, with_args, without_args, autoload in rows:
            w, wo, wmin, womin = compare(folder, n, with_args, without_args, autoload)
            print(f"{label}:\n  with {w:.3f} s ({wmin:.3f}), without {wo:.3f} s ({womin:.3f}): "
                  f"plugin adds {w - wo:+.3f} s (median difference)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
