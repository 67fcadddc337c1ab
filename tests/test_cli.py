"""The command-line interface: verdict table, JSON output, exit codes, clean errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

import nc_verify
from nc_verify.cli import main


def test_verify_small(tmp_path, capsys):
    out = tmp_path / "new" / "v.json"                 # the parent folder is created
    code = main(["verify", "--d", "5", "--K", "3", "--n", "1", "--tau", "1.0", "--wide", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert text.startswith("nc-verify verify: d=5 K=3 n=1 tau=1 seed=0")   # header first
    assert "verdict: all checks passed" in text
    assert "Thm 1: simplex ETF attains the bound" in text and "Theorem 2: search saturated" in text
    data = json.loads(out.read_text())
    assert data["state"] == "pass" and data["theorem1"]["holds"] is True
    assert {r["state"] for r in data["rows"]} == {"pass"}
    assert data["theorem2"]["rows"][-1]["name"] == "Theorem 2: search saturated"


def test_verify_at_d_equal_K_labels_probe_rows(capsys):
    code = main(["verify", "--d", "3", "--K", "3", "--n", "1", "--tau", "1.0", "--starts", "20", "--wide"])
    text = capsys.readouterr().out
    assert "PROBE of the paper's conjecture" in text.splitlines()[0]
    assert "Theorem 2 probe: search saturated" in text and "Theorem 2: " not in text
    assert "Theorem 2 rows are a probe" in text
    assert code == 3                                   # 20 starts do not saturate: undecided


def test_tiny_tau_is_undecided_not_failed(capsys):
    code = main(["verify", "--d", "4", "--K", "3", "--n", "1", "--tau", "1e-8", "--starts", "20", "--wide"])
    text = capsys.readouterr().out
    assert code == 3 and "FAIL" not in text


def test_huge_tau_never_blames_the_user(capsys):
    code = main(["verify", "--d", "4", "--K", "3", "--n", "1", "--tau", "1e4", "--starts", "20", "--wide"])
    out, err = capsys.readouterr()
    assert "NaN" not in err and "RuntimeWarning" not in err and "W has" not in out + err
    assert code in (1, 3)


def test_bad_argument_is_a_clean_error(capsys):
    assert main(["verify", "--tau", "-1"]) == 2
    assert "tau must be finite and > 0" in capsys.readouterr().err


def test_unwritable_json_is_refused_before_computing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--json", str(blocker / "x.json")])        # parent is a file
    assert exc.value.code == 2 and "cannot create the folder" in capsys.readouterr().err


def test_version_and_defaults_in_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"nc-verify {nc_verify.__version__}"
    with pytest.raises(SystemExit):
        main(["theorem2", "--help"])
    text = capsys.readouterr().out
    text = text[text.index("options:"):]
    for option in ("--d D", "--K K", "--n N", "--tau TAU", "--starts STARTS", "--seed SEED"):
        entry = text[text.index(option):].split("\n  -")[0]      # the option's help, up to the next option
        assert "(default:" in " ".join(entry.split()), entry


def test_certify_point_errors(tmp_path, capsys):
    bad = tmp_path / "p.txt"
    bad.write_text("not a point")
    code = main(["certify", "--point", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "is not an .npz archive" in err and "pickle" not in err
    wrong = tmp_path / "w.npz"
    np.savez(wrong, W=np.ones((3, 4)), H=np.ones((2, 4)))
    assert main(["certify", "--point", str(wrong)]) == 2
    assert "W has shape (3, 4) but H has shape (2, 4)" in capsys.readouterr().err


@pytest.mark.parametrize("state, code", [("pass", 0), ("FAIL", 1), ("undecided", 3)])
def test_exit_code_per_state(monkeypatch, capsys, state, code):
    import nc_verify.checks.verify as V
    from nc_verify.utils.reports import Report, Row

    class Fake(Report):
        theorem2 = type("T2", (), {"elapsed": 0.0, "mode": "check", "verdict": "holds"})()

        def rows(self):
            return [Row("claim", state, "because")]

        def as_dict(self, arrays=False):
            return {}

    monkeypatch.setattr(V, "verify_all", lambda *a, **k: Fake())
    assert main(["verify"]) == code


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "nc_verify", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "verify" in proc.stdout and "exit status" in proc.stdout


def test_prove_and_check(tmp_path, capsys):
    """nc-verify prove: (2, 1) at tau = 1 is proved for every d > 2 (exit 0), its file re-checks (exit 0);
    at d = 2 the degenerate member W = u 1^T, H = v 1^T leaves boxes unresolved (exit 3, undecided)."""
    from nc_verify.cli import main

    out = tmp_path / "proof.json"
    assert main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--out", str(out)]) == 0
    assert "status: proved" in capsys.readouterr().out
    assert main(["prove", "--check", str(out)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--d", "2"]) == 3
    assert "unresolved box" in capsys.readouterr().out
    assert main(["prove", "--K", "2", "--n", "1"]) == 2
    assert "exactly one of --tau and --tau-range" in capsys.readouterr().err


def test_theorem2_workers_and_scheduler_options(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["theorem2", "--workers", "0"])
    assert exc.value.code == 2 and "expected a positive integer" in capsys.readouterr().err
    seen = {}
    import nc_verify.checks.theorem2 as T2

    real = T2.verify_theorem2

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **{**kwargs, "workers": None, "scheduler": None})

    monkeypatch.setattr(T2, "verify_theorem2", spy)
    main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--starts", "20", "--workers", "2",
          "--scheduler", "tcp://127.0.0.1:8786"])
    assert seen["workers"] == 2 and seen["scheduler"] == "tcp://127.0.0.1:8786"
    monkeypatch.setattr(T2, "verify_theorem2", real)
    capsys.readouterr()
    # both at once: refused before any work (it used to run the families, then fail 31 s later)
    assert main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--workers", "2",
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "not both" in err and "families" not in err
