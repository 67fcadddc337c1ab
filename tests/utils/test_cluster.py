"""The package's dask clusters: pymanopt without the autodiff frameworks in the workers."""

import importlib.util
import os
import subprocess
import sys

import pytest

from nc_verify.utils.cluster import AUTODIFF_MODULES

_PROBE = """
import sys
from nc_verify.utils.cluster import import_pymanopt_without_autodiff{call}
import pymanopt.optimizers
from pymanopt.autodiff.backends import _pytorch
loaded = sorted(m for m in {mods!r} if m in sys.modules)
from nc_verify import UFMProblem
from nc_verify.landscape.solvers import solve
r = solve(UFMProblem(4, 3, 1, 1.0), "trust_regions", seed=0, gradient_tol=1e-9)
print(loaded, _pytorch.PyTorchBackend.is_available(), r.gradient_norm <= 1e-9)
"""


def _probe(hide: bool) -> str:
    code = _PROBE.format(call="; import_pymanopt_without_autodiff()" if hide else "", mods=AUTODIFF_MODULES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_pymanopt_imported_without_the_autodiff_frameworks_still_solves():
    """Hidden during pymanopt's import, no framework is loaded and the analytic solver runs."""
    assert _probe(hide=True) == "[] False True"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed: nothing to hide")
def test_a_plain_pymanopt_import_loads_torch():
    """The control: where torch is installed, pymanopt's own import loads it (what the workers save)."""
    loaded, available, solved = _probe(hide=False).rsplit(" ", 2)
    assert "'torch'" in loaded and available == "True" and solved == "True"


def test_the_frameworks_stay_importable_after_hiding():
    code = ("import sys, importlib.util\n"
            "from nc_verify.utils.cluster import import_pymanopt_without_autodiff as f, AUTODIFF_MODULES\n"
            "f()\n"
            "print(all(sys.modules.get(m, 0) is not None for m in AUTODIFF_MODULES))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


def _worker_state():
    import os
    import sys
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), "pymanopt" in sys.modules, "torch" in sys.modules


def test_local_cluster_workers():
    """A worker of ``local_cluster``: dask's MALLOC_TRIM_THRESHOLD_ (65536) unset, pymanopt preloaded,
    torch not loaded (dask's defaults would give '65536', False, False)."""
    distributed = pytest.importorskip("distributed")
    from nc_verify.utils.cluster import local_cluster

    with local_cluster(1) as cluster, distributed.Client(cluster) as client:
        state = next(iter(client.run(_worker_state).values()))
    assert state == (os.environ.get("MALLOC_TRIM_THRESHOLD_"), True, False)
