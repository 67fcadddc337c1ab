"""From a fresh virtual environment with the built wheel installed (no checkout), a user's tests run.

The wheel is built from a copy of the package's files (the checkout is not touched), installed
with ``--no-deps --no-index`` into a new venv that sees this environment's dependencies
(numpy, pymanopt, pytest, hypothesis, ...) through a ``.pth`` line naming their
site-packages folder: a folder named in a ``.pth`` file is put on ``sys.path`` but its own
``.pth`` files are not run, so an editable install of nc-verify there stays inactive, and a
non-editable one comes after the venv's own site-packages on ``sys.path`` (the wheel is
installed before the ``.pth`` line is written, so pip cannot take it for installed already). The
user's file runs from a temporary folder outside the repository, with pytest's plugin
autoloading on, so the ``pytest11`` entry point is what brings in the ``rng`` fixture,
``--nc-verify-profile`` and the claims line.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from nc_verify.testing.strategies import PROFILES

ROOT = Path(__file__).resolve().parents[2]

USER_TEST = textwrap.dedent('''
    import sys
    from pathlib import Path

    import nc_verify
    from hypothesis import given
    from nc_verify import UFMProblem, etf_point
    from nc_verify.testing import UndecidedError, assert_derivatives, assert_global_minimizer
    from nc_verify.testing.strategies import problems

    def test_installed_copy(rng):
        assert Path(nc_verify.__file__).is_relative_to(sys.prefix), (nc_verify.__file__, sys.prefix)
        p = UFMProblem(5, 3, 1, 1.0)
        assert_global_minimizer(p, *etf_point(5, 3, 1, rng=rng))
        assert issubclass(UndecidedError, AssertionError)

    @given(problems(d=(3, 5), K=(2, 3), n=1, tau=(0.5, 2.0)))
    def test_derivatives_property(problem):
        assert_derivatives(problem, rng=0, directions=2)
''')


def _run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout}\n{out.stderr}"
    return out


@pytest.mark.slow
def test_wheel_in_fresh_venv(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md", "_nc_verify_pytestplugin.py"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "nc_verify", src / "nc_verify", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
                                                              "PYTEST_PLUGINS", "PYTEST_ADDOPTS")}
    pip = [sys.executable, "-m", "pip"]
    _run(pip + ["wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", str(src),
                "-w", str(tmp_path / "dist")], env=env, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("nc_verify-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=env)
    py = venv / "bin" / "python"
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        env=env).stdout.strip())
    # The wheel goes in before the dependencies become visible: where this environment holds
    # nc-verify installed non-editable (an unpacked sdist's suite), pip would otherwise find it
    # through the .pth line, report "already satisfied" and install nothing, and the user's
    # test would import this environment's copy.
    _run(pip + ["--python", str(py), "install", "-q", "--no-deps", "--no-index", str(wheel)], env=env)
    assert (purelib / "nc_verify" / "__init__.py").is_file(), sorted(p.name for p in purelib.iterdir())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_host_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")

    user = tmp_path / "user"
    user.mkdir()
    (user / "test_user_claims.py").write_text(USER_TEST)
    out = _run([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nc-verify-profile", "deterministic",
                "test_user_claims.py"], env=env, cwd=user)
    assert "2 passed" in out.stdout, out.stdout
    # the claims line counts the helpers by name: one minimiser check, and one derivative
    # check per example of the deterministic profile (at most its max_examples; fewer only if
    # hypothesis exhausts the strategy's small space)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("nc-verify claims:"))
    counts = dict(part.rsplit(" ", 1) for part in line.removeprefix("nc-verify claims: ").split(", "))
    assert counts["assert_global_minimizer"] == "1", line
    assert 1 <= int(counts["assert_derivatives"]) <= PROFILES["deterministic"]["max_examples"], line
