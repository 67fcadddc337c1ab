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


def test_estimated_total_is_labelled_and_follows_the_projection(monkeypatch):
    clock = iter([0.0, 6.0, 12.0, 30.0])
    monkeypatch.setattr(P.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    with P.Progress(3000, "search", enabled=True, stream=out, estimated=True) as bar:   # t = 0
        bar.update(600, total=3000)           # t = 6: 600 of a projected 3000
        bar.update(600, total=6000)           # t = 12: a new point moved the projected end
    lines = out.getvalue().splitlines()       # t = 30: ended at 1200, the end is known
    assert lines == ["search: 600/~3000 (~20%), 6 s elapsed, est. eta 24 s",
                     "search: 1200/~6000 (~20%), 12 s elapsed, est. eta 48 s",
                     "search: 1200/1200 (100%), 30 s elapsed, eta 0 s"]


def test_heartbeat_line_while_a_step_takes_long(monkeypatch):
    """A long first stage (one family classified for minutes) still writes a line every LOG_INTERVAL."""
    import time

    monkeypatch.setattr(P, "LOG_INTERVAL", 0.2)
    out = io.StringIO()
    with P.Progress(5, "families", enabled=True, stream=out):
        time.sleep(0.7)                       # no update at all
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and lines[0].startswith("families: 0/5 (0%)")


def test_saturation_projection_is_the_stopping_rule():
    """The ETA of an adaptive search counts toward the saturation rule's stop, not the 1 000 000-start cap."""
    from nc_verify.landscape.search import (
        DEFAULT_MAX_STARTS,
        MIN_SATURATION_STARTS,
        SATURATION_FRACTION,
        saturation_projection,
    )

    assert (MIN_SATURATION_STARTS, SATURATION_FRACTION) == (3000, 0.5)
    assert saturation_projection(0, DEFAULT_MAX_STARTS) == 3000
    assert saturation_projection(1500, DEFAULT_MAX_STARTS) == 3000
    assert saturation_projection(1501, DEFAULT_MAX_STARTS) == 3002   # last new point in the first half
    assert saturation_projection(7000, DEFAULT_MAX_STARTS) == 14000
    assert saturation_projection(40000, DEFAULT_MAX_STARTS) == 80000
    assert saturation_projection(600000, DEFAULT_MAX_STARTS) == DEFAULT_MAX_STARTS
    assert saturation_projection(100, 1000) == 1000
    # the rarest point (2 random hits in 3000 starts) at its rate needs 3 more hits after the last new point
    assert saturation_projection(1000, DEFAULT_MAX_STARTS, rarest=2, starts=3000) == 1000 + 4500
    assert saturation_projection(7000, DEFAULT_MAX_STARTS, rarest=30, starts=8000) == 14000     # the half binds


def test_no_known_end_shows_no_fraction(monkeypatch):
    """A stage without a total printed "0/0 (100%)" while it was still running."""
    clock = iter([0.0, 12.0])
    monkeypatch.setattr(P.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    with P.Progress(0, "plan", enabled=True, stream=out):
        pass
    assert out.getvalue() == "plan: 12 s elapsed\n"
