"""Progress: plain lines every LOG_INTERVAL seconds when stderr is not a terminal."""

import io

import nc_verify.utils.progress as P


def test_log_lines_when_not_a_terminal(monkeypatch):
    clock = iter([0.0, 1.0, 6.0, 7.0, 20.0])
    monkeypatch.setattr(P.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    with P.Progress(4, "search", enabled=True, stream=out) as bar:   # start at t = 0
        bar.update()                          # t = 1: within LOG_INTERVAL, no line
        bar.update(postfix="3 distinct")      # t = 6: a line
        bar.update()                          # t = 7: no line
    lines = out.getvalue().splitlines()       # close at t = 20: the final line
    assert lines == ["search: 2/4 (50%), 6 s elapsed, eta 6 s; 3 distinct",
                     "search: 3/4 (75%), 20 s elapsed, eta 7 s; 3 distinct"]


def test_silent_by_default_off_a_terminal():
    out = io.StringIO()
    with P.Progress(3, "x", stream=out) as bar:
        bar.update(3)
    assert out.getvalue() == ""
