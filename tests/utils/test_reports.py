"""The one rule from rows to verdict and exit status (nc_verify.utils.reports)."""

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from nc_verify.utils.reports import (
    ARRAY,
    CHECK_WORDS,
    EXIT_USAGE,
    FAIL,
    PASS,
    PROBE_WORDS,
    UNDECIDED,
    Report,
    Row,
    State,
    combine,
    exit_status,
    state_of,
)
from nc_verify.utils.serialization import json_default


@dataclass
class _Toy(Report):
    states: list
    size: int = 3
    point: np.ndarray = field(default_factory=lambda: np.eye(2), metadata=ARRAY)
    extra: dict = field(default_factory=lambda: {"x": 1.5})

    def rows(self):
        return [Row(f"claim {i}", s, reason="because", value=1.0, tolerance=0.5, margin=2.0)
                for i, s in enumerate(self.states)]


@dataclass
class _ToyProbe(_Toy):
    WORDS = PROBE_WORDS


@pytest.mark.parametrize("states, expected", [
    ([PASS, PASS], PASS),
    ([PASS, UNDECIDED], UNDECIDED),
    ([UNDECIDED, FAIL, PASS], FAIL),     # a resolved violation outranks an undecided row
    ([FAIL], FAIL),
    ([], UNDECIDED),                     # no evidence is not a pass
])
def test_combine_rule(states, expected):
    assert combine(states) is expected
    assert _Toy(states).state is expected
    assert _Toy(states).holds is (expected is PASS)


def test_exit_status_per_state():
    assert (exit_status(PASS), exit_status(FAIL), exit_status(UNDECIDED), EXIT_USAGE) == (0, 1, 3, 2)
    assert _Toy([PASS, UNDECIDED]).exit_status == 3
    assert _Toy([FAIL, UNDECIDED]).exit_status == 1


def test_states_are_their_strings():
    assert PASS == "pass" and FAIL == "FAIL" and UNDECIDED == "undecided"
    assert State("FAIL") is FAIL and str(UNDECIDED) == "undecided"
    assert Row("x", "pass").state is PASS
    with pytest.raises(ValueError):
        Row("x", "fail")                 # the FAIL state is spelled in capitals


def test_state_of():
    assert state_of(True) is PASS and state_of(False) is FAIL
    assert state_of(True, undecided=True) is UNDECIDED and state_of(False, undecided=True) is UNDECIDED


def test_verdict_words():
    assert _Toy([PASS]).verdict == CHECK_WORDS[PASS] == "holds"
    assert _Toy([FAIL]).verdict == "violated"
    assert _ToyProbe([PASS]).verdict == "no counterexample found"
    assert _ToyProbe([FAIL]).verdict == "potential counterexample"
    assert _ToyProbe([UNDECIDED]).verdict == "undecided"


def test_as_dict_from_fields_with_state_per_row():
    d = _Toy([PASS, UNDECIDED]).as_dict()
    assert set(d) == {"states", "size", "extra", "state", "verdict", "holds", "rows"}   # point is an array field
    assert d["state"] == "undecided" and d["verdict"] == "undecided" and d["holds"] is False
    assert [r["state"] for r in d["rows"]] == ["pass", "undecided"]
    assert d["rows"][0] == {"name": "claim 0", "state": "pass", "reason": "because", "value": 1.0,
                            "tolerance": 0.5, "margin": 2.0}
    assert "point" in _Toy([PASS]).as_dict(arrays=True)
    text = json.dumps(_Toy([PASS]).as_dict(arrays=True), default=json_default)
    assert json.loads(text)["point"] == [[1.0, 0.0], [0.0, 1.0]]


def test_failure_status_closed_contract(tmp_path):
    import errno

    from nc_verify.utils.reports import (
        EXIT_BROKEN_PIPE,
        EXIT_INTERNAL,
        EXIT_INTERRUPT,
        EXIT_STATUSES,
        EXIT_USAGE,
        failure_status,
    )

    assert (EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPT, EXIT_BROKEN_PIPE) == (2, 4, 130, 141)
    assert sorted(EXIT_STATUSES) == [0, 1, 2, 3, 4, 130, 141]
    assert failure_status(KeyboardInterrupt()) == (130, "interrupted")
    assert failure_status(BrokenPipeError())[0] == 141
    assert failure_status(ValueError("tau must be > 0")) == (2, "tau must be > 0")
    assert failure_status(TypeError("x"))[0] == 2 and failure_status(ImportError("no flint"))[0] == 2
    # an OSError naming an input file is an input error; any other (an output, a connection) is internal
    path = tmp_path / "proof.json"
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
    status, message = failure_status(missing, inputs=[str(path), None])
    assert status == 2 and "cannot read input file" in message and "No such file" in message
    assert failure_status(missing, inputs=[str(tmp_path / "other.json")])[0] == EXIT_INTERNAL
    status, message = failure_status(OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 10 s"))
    assert status == 4 and "\n" not in message and "Timed out" in message
    status, message = failure_status(MemoryError())
    assert status == 4 and "out of memory" in message
    assert failure_status(RuntimeError("boom\nsecond line"))[1] == "internal failure (RuntimeError): boom second line"
    assert failure_status(AttributeError("'list' object has no attribute 'get'"))[0] == 4
