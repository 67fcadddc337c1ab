"""nc-verify prove: inputs validated before any work, the flint re-check by default, files that
are no proof as input errors (exit 2, one line)."""

import json
import sys

import pytest

from nc_verify.cli import main


def _run(capsys, *argv):
    try:
        code = main(["prove", *argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    flat = lambda text: " ".join(text.split()).replace(" ]", "]")    # the console wraps long lines
    return code, flat(out.out), out.err


@pytest.mark.parametrize("argv,word", [
    (["--K", "2", "--n", "1", "--tau", "745"], "350"),
    (["--K", "2", "--n", "1", "--tau", "1e4"], "350"),
    (["--K", "2", "--n", "1", "--tau", "nan"], "tau"),
    (["--K", "2", "--n", "1", "--tau-range", "2", "1"], "lo <= hi"),
    (["--K", "4", "--n", "1", "--tau", "1"], "K"),
    (["--K", "2", "--n", "1", "--tau", "1", "--max-boxes", "0"], "max_boxes"),
    (["--K", "2", "--n", "1", "--tau", "1", "--workers", "0"], "workers"),
    (["--K", "2", "--n", "1", "--tau", "1", "--loss", "mse"], "d=2"),
])
def test_bad_input_exits_2_before_any_work(capsys, argv, word):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and word in err
    assert "prove: boxes" not in out + err and "Traceback" not in err       # no progress bar opened, no traceback


def test_unwritable_out_fails_before_the_run(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = _run(capsys, "--K", "2", "--n", "1", "--tau", "1", "--out", str(blocker / "p.json"))
    assert code == 2 and "prove: boxes" not in out + err
    code, out, err = _run(capsys, "--K", "2", "--n", "1", "--tau", "1", "--out", "/proc/nc_verify_probe.json")
    assert code == 2 and "prove: boxes" not in out + err


def test_default_run_is_rechecked_in_flint(capsys, tmp_path):
    path = tmp_path / "p.json"
    code, out, err = _run(capsys, "--K", "2", "--n", "1", "--tau", "1.9", "--d", "5", "--out", str(path))
    assert code == 0, out + err
    assert "re-checked: " in out and "arb function values" in out and "PROVED: " in out
    assert "d = 5 (the same proof covers every d >= 3)" in out and "tau = 1.9" in out
    assert json.loads(path.read_text())["tau_exact"] == "19/10"


def test_flint_only_rechecks_leaf_by_leaf(capsys, tmp_path):
    path = tmp_path / "p.json"
    code, out, err = _run(capsys, "--K", "2", "--n", "1", "--tau", "1", "--out", str(path), "--flint-only")
    assert code == 0 and "re-checked: " in out and "leaves, flint balls; " in out, out + err
    code, out, err = _run(capsys, "--check", str(path), "--flint-only")
    assert code == 0 and "verdict: pass" in out, out + err


def test_no_check_says_unchecked_and_is_undecided(capsys):
    code, out, err = _run(capsys, "--K", "2", "--n", "1", "--tau", "1", "--no-check")
    assert code == 3
    assert "unchecked (--no-check)" in out and "UNCHECKED: " in out
    assert " PROVED: " not in out and not out.startswith("PROVED")


def test_missing_flint_says_unchecked(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)          # import flint raises ImportError
    code, out, err = _run(capsys, "--K", "2", "--n", "1", "--tau", "1")
    assert code == 3 and "unchecked (python-flint missing)" in out


@pytest.mark.parametrize("content,word", [
    (None, "cannot read"), ("", "empty"), ('{"format": "nc-verify/landscape-pr', "not valid JSON"),
    ("not json", "not valid JSON"), ("[1, 2]", "JSON list"),
])
def test_check_of_a_file_that_is_no_proof_exits_2(capsys, tmp_path, content, word):
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    code, out, err = _run(capsys, "--check", str(path))
    assert code == 2 and word in err and str(path) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_check_of_a_file_without_K_exits_2(capsys, tmp_path):
    path = tmp_path / "p.json"
    main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--out", str(path), "--no-check"])
    js = json.loads(path.read_text())
    del js["K"]
    path.write_text(json.dumps(js))
    capsys.readouterr()
    code, out, err = _run(capsys, "--check", str(path))
    assert code == 2 and "'K' missing" in err


def test_check_of_a_failing_proof_exits_1(capsys, tmp_path):
    path = tmp_path / "p.json"
    main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--out", str(path), "--no-check"])
    js = json.loads(path.read_text())
    leaf = next(l for l in js["leaves"] if l["test"] == "saddle_normal")
    leaf["data"]["c"], leaf["data"]["e"] = [0.0, 0.0], [0.0, 0.0]
    path.write_text(json.dumps(js))
    capsys.readouterr()
    code, out, err = _run(capsys, "--check", str(path))
    assert code == 1 and "invalid" in out
