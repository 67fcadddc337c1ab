"""Three-state verdicts: the row, the report base and the one rule from rows to exit status.

Every check in nc-verify ends in rows, one per claim it tested.  A row is in one of
three states:

* :data:`PASS` ("pass") -- the claim holds to within the computation's own resolution;
* :data:`FAIL` ("FAIL") -- a violation is *resolved*: it exceeds the resolution of the
  arithmetic that measured it (a counterexample, a wrong formula);
* :data:`UNDECIDED` ("undecided") -- the evidence cannot settle the claim (a margin
  inside the resolution, an unsaturated search, a point the arithmetic cannot
  classify); the row's ``reason`` says why and ``margin`` by how much.

The rule (:func:`combine`), the same for every report and every command:

1. any row FAIL -> the report is FAIL;
2. otherwise any row undecided, or no row at all -> undecided;
3. otherwise (every row pass) -> pass.

Exit status of the command line, a closed contract (:data:`EXIT_STATUSES`):

* 0 -- pass: every claim holds (or no counterexample was found);
* 1 -- FAIL: a claim resolved false, or a counterexample found -- and nothing else;
* 2 -- usage or input error: argparse, a ``ValueError``/``TypeError`` (bad sizes, a
  size over the memory budget, :mod:`nc_verify.utils.budget`), an input file that
  cannot be read or is malformed, an output path that cannot be opened (checked
  before any work);
* 3 -- undecided;
* 4 -- the program itself failed (:data:`EXIT_INTERNAL`): a crash, a ``MemoryError``,
  an unreachable dask scheduler, an ``OSError`` while writing output;
* 130 -- interrupted (Ctrl-C, ``KeyboardInterrupt``; 128 + SIGINT);
* 141 -- stdout closed by the reader (``BrokenPipeError``, e.g. ``| head``; 128 + SIGPIPE).

:func:`failure_status` maps an exception to its status and one-line message; only
0, 1 and 3 carry a verdict.

A report class is a dataclass that also derives from :class:`Report`.  It defines
``rows()``; the base provides ``state``, ``verdict`` (the state in the report's own
words, :attr:`Report.WORDS`), ``holds``, ``exit_status`` and ``as_dict()``, which is
built from the dataclass fields (fields with ``metadata=ARRAY`` only with
``arrays=True``; nested reports and dataclasses are converted recursively) plus
``state``, ``verdict``, ``holds`` and the rows.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os


class State(str, enum.Enum):
    """State of one row or one report; a ``str``, so it compares with and serialises as its value."""

    PASS = "pass"
    FAIL = "FAIL"
    UNDECIDED = "undecided"

    def __str__(self) -> str:
        return self.value


PASS, FAIL, UNDECIDED = State.PASS, State.FAIL, State.UNDECIDED

#: ``dataclasses.field(metadata=ARRAY)`` marks a field (a point, a spectrum) that
#: :meth:`Report.as_dict` leaves out unless ``arrays=True``.
ARRAY = {"array": True}

#: Exit status per state (:func:`exit_status`); :data:`EXIT_USAGE` for usage and input errors.
EXIT_STATUS = {PASS: 0, FAIL: 1, UNDECIDED: 3}
EXIT_USAGE = 2
#: The program itself failed: a crash, out of memory, an unreachable cluster, output not written.
EXIT_INTERNAL = 4
#: Interrupted (Ctrl-C): 128 + SIGINT, the shells' convention.
EXIT_INTERRUPT = 130
#: The reader closed stdout (``BrokenPipeError``): 128 + SIGPIPE, the shells' convention.
EXIT_BROKEN_PIPE = 141
#: Every exit status of the command line and its meaning (the module docstring).
EXIT_STATUSES = {
    0: "pass: every claim holds",
    1: "FAIL: a claim resolved false or a counterexample found",
    EXIT_USAGE: "usage or input error (bad argument, unreadable or malformed input file, size over budget)",
    3: "undecided",
    EXIT_INTERNAL: "the program itself failed (crash, out of memory, unreachable scheduler, output not written)",
    EXIT_INTERRUPT: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "stdout closed by the reader (broken pipe)",
}

#: Verdict words of a theorem check and of a probe (outside a theorem's assumptions a
#: result is evidence about a conjecture: never "holds").
CHECK_WORDS = {PASS: "holds", FAIL: "violated", UNDECIDED: "undecided"}
PROBE_WORDS = {PASS: "no counterexample found", FAIL: "potential counterexample", UNDECIDED: "undecided"}


def state_of(ok, undecided: bool = False) -> State:
    """``UNDECIDED`` if ``undecided``, else ``PASS`` if ``ok`` else ``FAIL``."""
    if undecided:
        return UNDECIDED
    return PASS if ok else FAIL


def ratio(value, tolerance) -> float:
    """``value / tolerance`` for a row's margin: +-inf for a zero tolerance, NaN for 0/0 or NaN input."""
    value, tolerance = float(value), float(tolerance)
    if tolerance != 0.0:
        return value / tolerance
    return math.copysign(math.inf, value) if value != 0.0 and not math.isnan(value) else math.nan


@dataclasses.dataclass(frozen=True)
class Row:
    """One claim and its state.

    Attributes
    ----------
    name : str
        The claim, e.g. "eq. (5)-(6) gradient Taylor slope >= 2".
    state : State
    reason : str
        The evidence in one sentence (what the table shows); for an undecided row, why.
    value : float or None
        The measured number the decision was made on (a slope, a gap, ``lambda_min``).
    tolerance : float or None
        The threshold or resolution it was compared with.
    margin : float or None
        How far the value is from the threshold, in units of the tolerance
        (> 1: resolved; <= 1: within the resolution).
    """

    name: str
    state: State
    reason: str = ""
    value: object = None
    tolerance: object = None
    margin: object = None

    def __post_init__(self):
        object.__setattr__(self, "state", State(self.state))

    def as_dict(self) -> dict:
        return {"name": self.name, "state": self.state.value, "reason": self.reason,
                "value": _plain(self.value), "tolerance": _plain(self.tolerance), "margin": _plain(self.margin)}


def combine(states) -> State:
    """The overall state of a sequence of states (see the module docstring)."""
    states = [State(s) for s in states]
    if FAIL in states:
        return FAIL
    if not states or UNDECIDED in states:
        return UNDECIDED
    return PASS


def exit_status(state) -> int:
    """Exit status of a command whose result is ``state``: 0 pass, 1 FAIL, 3 undecided."""
    return EXIT_STATUS[State(state)]


def failure_status(exc: BaseException, inputs=()) -> tuple:
    """Exit status and one-line message for an exception that ended a command.

    Parameters
    ----------
    exc : BaseException
    inputs : iterable of str
        The command's input file paths: an ``OSError`` naming one of them is an input
        error (2); any other ``OSError`` (writing output, a connection) is an internal
        failure (:data:`EXIT_INTERNAL`).

    Returns
    -------
    status : int
        2 for ``ValueError``/``TypeError``/``ImportError`` and unreadable inputs,
        :data:`EXIT_INTERRUPT` for ``KeyboardInterrupt``, :data:`EXIT_BROKEN_PIPE` for
        ``BrokenPipeError``, :data:`EXIT_INTERNAL` for everything else.
    message : str
        One line (no traceback).
    """
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPT, "interrupted"
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE, "output closed by the reader (broken pipe)"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (ValueError, TypeError, ImportError)):
        return EXIT_USAGE, text
    if isinstance(exc, OSError):
        names = {os.path.abspath(os.fspath(f)) for f in (exc.filename, getattr(exc, "filename2", None))
                 if isinstance(f, (str, bytes, os.PathLike))}
        if any(os.path.abspath(os.fspath(p)) in names for p in inputs if p is not None):
            return EXIT_USAGE, f"cannot read input file {exc.filename!r}: {exc.strerror or text}"
        return EXIT_INTERNAL, f"internal failure ({type(exc).__name__}): {text}"
    if isinstance(exc, MemoryError):
        return EXIT_INTERNAL, ("internal failure: out of memory (MemoryError"
                               + (f": {text}" if text != "MemoryError" else "") + "); the size is beyond this "
                               "machine (see the memory budget, NC_VERIFY_MAX_MEMORY_GIB)")
    return EXIT_INTERNAL, f"internal failure ({type(exc).__name__}): {text}"


def _plain(x, arrays: bool = False):
    """``x`` with reports and dataclasses turned into dicts (numpy values are left to ``json_default``)."""
    if isinstance(x, enum.Enum):
        return x.value
    if isinstance(x, Report):
        return x.as_dict(arrays=arrays)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        if callable(getattr(x, "as_dict", None)):
            return x.as_dict()
        return {f.name: _plain(getattr(x, f.name), arrays) for f in dataclasses.fields(x)
                if arrays or not f.metadata.get("array", False)}
    if isinstance(x, dict):
        return {k: _plain(v, arrays) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v, arrays) for v in x]
    return x


class Report:
    """Base of every report (a mixin for dataclasses; see the module docstring).

    Subclasses define :meth:`rows`; they may set :attr:`WORDS` (e.g. to
    :data:`PROBE_WORDS`) or override :meth:`words` to name the verdict.
    """

    #: Verdict word per state.
    WORDS = CHECK_WORDS

    def rows(self) -> list:
        """The rows of this report (list of :class:`Row`)."""
        raise NotImplementedError

    @property
    def state(self) -> State:
        """The rows combined by the one rule (:func:`combine`)."""
        return combine(r.state for r in self.rows())

    def words(self) -> dict:
        """State -> verdict word for this report (default :attr:`WORDS`)."""
        return self.WORDS

    @property
    def verdict(self) -> str:
        """The state in this report's words ("holds" / "violated" / "undecided" by default)."""
        return self.words()[self.state]

    @property
    def holds(self) -> bool:
        """Every row passes."""
        return self.state is PASS

    @property
    def exit_status(self) -> int:
        """0 pass, 1 FAIL, 3 undecided (:func:`exit_status`)."""
        return exit_status(self.state)

    def as_dict(self, arrays: bool = False) -> dict:
        """JSON-ready dict of the dataclass fields plus ``state``, ``verdict``, ``holds`` and ``rows``.

        Fields marked ``metadata=ARRAY`` (points, spectra) are included only
        with ``arrays=True``.  Numpy values are kept; encode with
        :func:`nc_verify.utils.serialization.json_default`.
        """
        out = {f.name: _plain(getattr(self, f.name), arrays) for f in dataclasses.fields(self)
               if arrays or not f.metadata.get("array", False)}
        rows = self.rows()
        state = combine(r.state for r in rows)
        out.update(state=state.value, verdict=self.words()[state], holds=state is PASS,
                   rows=[r.as_dict() for r in rows])
        return out

