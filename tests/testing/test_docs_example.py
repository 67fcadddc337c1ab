"""The example of docs/testing.md runs as the docs say, from a folder outside the repository."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "test_my_loss.py"


def test_example_is_the_file_shown_in_the_docs():
    page = (ROOT / "docs" / "testing.md").read_text()
    shown = re.search(r"```python\n(\"\"\"A new loss.*?)```", page, re.S).group(1)
    assert shown == EXAMPLE.read_text()


def test_docs_example_runs(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    env = {k: v for k, v in os.environ.items() if k not in ("NC_VERIFY_HYPOTHESIS", "PYTEST_ADDOPTS")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "nc_verify.testing.plugin",
                          "-p", "no:cacheprovider", "--nc-verify-profile", "deterministic", EXAMPLE.name],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 passed" in out.stdout
    assert "nc-verify claims: assert_critical 3, assert_derivatives 25, assert_strict_saddle 3" in out.stdout
