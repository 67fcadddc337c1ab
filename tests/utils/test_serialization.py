"""Strict JSON (non-finite numbers as null with a note) and output files proved writable before the work."""

import json
import math
import os

import numpy as np
import pytest

from nc_verify.utils.serialization import dumps, strict, writable_file, writable_folder


def _strict_load(text):
    def refuse(token):
        raise ValueError(f"bare {token} token")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_with_a_note():
    obj = {"margin": math.inf, "value": np.float64("nan"), "low": -np.inf, "ok": 1.5, "n": np.int64(3),
           "gaps": np.array([0.0, np.nan, 1.0, np.inf]), "nested": [{"x": math.nan}], "rows": [[1.0, -math.inf]]}
    out = strict(obj)
    assert out["margin"] is None and out["margin_note"] == "inf: not a finite number"
    assert out["value"] is None and out["value_note"] == "nan: not a finite number"
    assert out["low"] is None and out["low_note"] == "-inf: not a finite number"
    assert out["ok"] == 1.5 and "ok_note" not in out and out["n"] == 3
    assert out["gaps"] == [0.0, None, 1.0, None]
    assert out["gaps_note"] == "non-finite entries as null: nan at [1]; inf at [3]"
    assert out["nested"] == [{"x": None, "x_note": "nan: not a finite number"}]
    assert out["rows"] == [[1.0, None]] and out["rows_note"] == "non-finite entries as null: -inf at [0]"
    text = dumps(obj)
    assert _strict_load(text) == out
    with pytest.raises(ValueError):               # the plain encoder writes the bare tokens strict parsers reject
        _strict_load(json.dumps({"a": math.nan}))


def test_a_note_never_overwrites_a_field():
    out = strict({"margin": math.inf, "margin_note": "kept"})
    assert out == {"margin": None, "margin_note": "kept"}


def test_writable_file_never_truncates_and_leaves_no_file(tmp_path):
    existing = tmp_path / "results.jsonl"
    existing.write_text('{"cell": 1}\n')
    assert writable_file(existing) == str(existing)
    assert existing.read_text() == '{"cell": 1}\n'          # a file being resumed is untouched
    new = tmp_path / "sub" / "new.json"
    writable_file(new)
    assert not new.exists() and new.parent.is_dir()            # no stray empty file
    with pytest.raises(ValueError, match="is a folder"):
        writable_file(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cannot create the folder"):
        writable_file(blocker / "x.json")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_writable_file_opens_instead_of_asking_os_access():
    # as root os.access("/proc", W_OK) is True, yet nothing can be created there
    with pytest.raises(ValueError, match="cannot be written"):
        writable_file("/proc/nc_verify_output.json")
    if os.path.isdir("/sys/kernel"):
        with pytest.raises(ValueError, match="cannot be written"):
            writable_file("/sys/kernel/nc_verify_output.json")


def test_writable_folder(tmp_path):
    d = tmp_path / "a" / "b"
    assert writable_folder(d) == str(d) and d.is_dir() and list(d.iterdir()) == []
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cannot be written"):
        writable_folder(blocker / "x")


def test_sweep_records_are_strict(tmp_path):
    """Sweep records held bare NaN tokens (an unsaturated search's unseen_probability, empty maxima)."""
    from nc_verify.runs.sweep import append_record, read_records

    out = tmp_path / "r.jsonl"
    append_record(out, {"cell": "c1", "state": "undecided", "figures": {"unseen_probability": math.nan,
                                                                        "gaps": [0.0, math.inf]}})
    line = out.read_text()
    rec = _strict_load(line)
    assert rec["figures"]["unseen_probability"] is None
    assert rec["figures"]["unseen_probability_note"] == "nan: not a finite number"
    assert rec["figures"]["gaps_note"] == "non-finite entries as null: inf at [1]"
    assert read_records(out)["c1"]["state"] == "undecided"
