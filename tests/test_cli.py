"""The command-line interface: verdict table, JSON output, exit codes, clean errors."""

import json
import subprocess
import sys

import pytest

from nc_verify.cli import main


def test_verify_small(tmp_path, capsys):
    out = tmp_path / "v.json"
    code = main(["verify", "--d", "5", "--K", "3", "--n", "1", "--tau", "1.0", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "verdict: all checks passed" in text
    assert "Thm 1: simplex ETF attains the bound" in text
    data = json.loads(out.read_text())
    assert data["passed"] is True and data["theorem1"]["holds"] is True


def test_bad_argument_is_a_clean_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--tau", "-1"])
    assert exc.value.code == 2
    assert "tau must be finite and > 0" in capsys.readouterr().err


def test_unwritable_json(tmp_path):
    with pytest.raises(SystemExit, match="cannot write --json file"):
        main(["verify", "--d", "4", "--K", "2", "--n", "1", "--json", str(tmp_path / "no" / "x.json")])


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "nc_verify", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "verify" in proc.stdout
