"""Assertion helpers for the claims of the paper (and a researcher's own), in the style of ``numpy.testing``.

Each helper runs one of nc-verify's checks and raises :class:`AssertionError` with the
numbers behind the verdict (value, tolerance or resolution, margin) when the claim is
resolved false, and :class:`UndecidedError` (a subclass, so the test still fails) when
the arithmetic or the search cannot decide it; on success it returns the report it
checked, for follow-up assertions. A helper never compares numbers itself:
the verdict is the library's own (its resolution rules and verdict states), read
through :func:`report_rows` and :func:`report_verdict`, the one place that knows how
each report states its result.

Helpers (claims) and the library call behind each:

* :func:`assert_derivatives` -- eqs. (5)-(8) (:func:`~nc_verify.check_derivatives`).
* :func:`assert_critical`, :func:`assert_not_critical` -- ``grad f = 0`` to rounding
  (:func:`~nc_verify.classify_critical_point`, its gradient rounding level).
* :func:`assert_strict_saddle` -- ``lambda_min(Hess f) < 0`` resolved (Theorem 2's saddles).
* :func:`assert_global_minimizer` -- cost at Theorem 1's bound, Hessian PSD with exactly the
  rotation orbit as kernel.
* :func:`assert_neural_collapse` -- NC1-NC3 within the tolerances of Theorem 1's check.
* :func:`assert_theorem1`, :func:`assert_theorem2` -- the theorems at one size.
* :func:`assert_certified_saddle`, :func:`assert_certified_minimum` -- ball-arithmetic
  certificates (extra ``certify``).
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from nc_verify.checks.derivatives import DerivativeReport, check_derivatives
from nc_verify.checks.theorem1 import NC1_TOL, NC23_TOL, Theorem1Report, verify_theorem1
from nc_verify.checks.theorem2 import Theorem2Report, verify_theorem2
from nc_verify.landscape.classify import CriticalPointReport, classify_critical_point
from nc_verify.objective.losses import CrossEntropy
from nc_verify.objective.metrics import NCMetrics, nc_metrics
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED, Row, State, combine
from nc_verify.utils.validation import check_instance

__all__ = [
    "FAIL",
    "PASS",
    "UNDECIDED",
    "Row",
    "UndecidedError",
    "assert_certified_minimum",
    "assert_certified_saddle",
    "assert_critical",
    "assert_derivatives",
    "assert_global_minimizer",
    "assert_neural_collapse",
    "assert_not_critical",
    "assert_strict_saddle",
    "assert_theorem1",
    "assert_theorem2",
    "claims_run",
    "report_rows",
    "report_verdict",
]

if TYPE_CHECKING:  # the certify layer is imported when a certificate is asked for
    from nc_verify.certify import Certificate



class UndecidedError(AssertionError):
    """The claim could not be decided: the arithmetic or the search cannot resolve it.

    An ``AssertionError``, so a test that asserts the claim still fails, with the reason
    and the margin in its message instead of a false verdict.
    """


# ---------------------------------------------------------------- reports
# Every report is built on nc_verify.utils.reports: rows are Row objects with a state, and
# ``report.state`` is the one rule combining them. The helpers read nothing else.
def report_rows(report) -> list:
    """The rows of a report (:class:`~nc_verify.utils.reports.Row` objects with a ``state``)."""
    return list(report.rows())


def report_verdict(report) -> State:
    """Overall state of a report: ``report.state`` (:data:`PASS`, :data:`FAIL` or :data:`UNDECIDED`)."""
    return State(report.state)


def _theorem2_state(report, require_saturated: bool) -> tuple[State, bool]:
    """State of a Theorem 2 report, and whether it is undecided only for want of saturation.

    The search's saturation is its own row (name ending in "search saturated"):
    without ``require_saturated`` that row is left out.
    """
    rows = report_rows(report)
    other_state = combine(r.state for r in rows if not r.name.endswith("search saturated"))
    if not require_saturated:
        return other_state, False
    state = combine(r.state for r in rows)
    return state, state == UNDECIDED and other_state == PASS


# ---------------------------------------------------------------- bookkeeping
_RUNS: Counter = Counter()


def _claim_frame(excinfo) -> bool:
    """pytest's ``__tracebackhide__`` rule for the helpers' own frames: hidden when the claim failed.

    A failed or undecided claim (``AssertionError``) is reported at the test's line with the
    helper's message; any other exception (a bad argument, a bug) keeps every frame.
    """
    return excinfo is not None and excinfo.errisinstance(AssertionError)


def claims_run() -> dict:
    """Calls of each helper in this process so far: ``{name: Counter(passed=, failed=, undecided=, error=)}``."""
    out: dict = {}
    for (name, outcome), count in sorted(_RUNS.items()):
        out.setdefault(name, Counter())[outcome] += count
    return out


def _claim(fn):
    """Count the helper's calls by outcome (read by the pytest plugin's summary line)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = _claim_frame
        try:
            result = fn(*args, **kwargs)
        except UndecidedError:
            _RUNS[fn.__name__, "undecided"] += 1
            raise
        except AssertionError:
            _RUNS[fn.__name__, "failed"] += 1
            raise
        except Exception:
            _RUNS[fn.__name__, "error"] += 1
            raise
        _RUNS[fn.__name__, "passed"] += 1
        return result

    return wrapper


def _raise(state: str, claim: str, headline: str, fields) -> None:
    """Raise ``AssertionError`` ("FAIL") or ``UndecidedError`` ("undecided") with aligned ``fields``."""
    __tracebackhide__ = _claim_frame
    cls = UndecidedError if state == UNDECIDED else AssertionError
    lines = [f"{claim}: {'UNDECIDED' if state == UNDECIDED else 'FAILED'}: {headline}"]
    width = max((len(k) for k, _ in fields), default=0) + 2
    lines += [f"  {k + ':':<{width}}{v}" for k, v in fields]
    raise cls("\n".join(lines))


def _rows_fields(rows):
    def numbers(r):
        parts = [f"{k} {v:.3g}" for k, v in (("value", r.value), ("tolerance", r.tolerance), ("margin", r.margin))
                 if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)]
        return f" [{', '.join(parts)}]" if parts else ""

    return [(f"[{getattr(r.state, 'value', r.state)}] {r.name}", r.reason + numbers(r)) for r in rows]


# ---------------------------------------------------------------- derivatives
@_claim
def assert_derivatives(problem: UFMProblem, W=None, H=None, *, rng=None, directions: int = 3) -> DerivativeReport:
    """Assert that the problem's gradient and Hessian (eqs. (5)-(8)) are right at a point.

    Taylor slopes along the retraction (at least 2 and 3), agreement with autograd,
    symmetry and tangency of the Hessian: every row of
    :func:`~nc_verify.check_derivatives` must pass.

    Parameters
    ----------
    problem : UFMProblem
        Any loss (:mod:`nc_verify.objective.losses`); its ``autograd_value`` is the reference.
    W, H : ndarray, shapes (d, K), (d, N), optional
        The point (a random one from ``rng`` when omitted).
    rng : Generator, int or None
    directions : int
        Random tangent directions for the Taylor slopes.

    Raises
    ------
    AssertionError
        A row failed; the message lists every row with its measured values and tolerance.
    UndecidedError
        No row failed but a slope could not be fitted above the rounding floor.
    """
    __tracebackhide__ = _claim_frame
    rep = check_derivatives(problem, W, H, directions=directions, rng=rng)
    state = report_verdict(rep)
    if state != PASS:
        _raise(state, "assert_derivatives", f"{problem!r} at a {rep.point}",
               _rows_fields(report_rows(rep))
               + [("tolerances", f"slopes >= exact - {rep.slope_tol:g} (median over directions); "
                                 f"relative differences <= {rep.rounding_tol:g}")])
    return rep


# ---------------------------------------------------------------- critical points
def _point_fields(problem, r):
    """The failure block of a classified point: the quantities its kind rests on, nothing else.

    Every block shows the gradient against its rounding level. Only at a critical point do
    the second-order data (``lambda_min`` against its resolution, the zero count) and the
    cost's distance to the reference (``f - bound`` against its resolution, where a bound
    is attained) mean anything: at a point that is not critical they are left out.
    """
    ratio = r.gradient_norm / r.gradient_tol if r.gradient_tol > 0 else np.inf
    fields = [
        ("classified", f"{r.kind} ({r.reason})"),
        ("||grad f||", f"{r.gradient_norm:.3e} = {ratio:.3g} x its rounding level {r.gradient_tol:.3e}"
                       + (f" (Newton-refined from {r.initial_gradient_norm:.3e})" if r.refined else "")),
    ]
    if r.kind != "not_critical":
        zeros = ("n/a (Lanczos: no full spectrum)" if r.n_zero is None
                 else f"{r.n_zero} (rotation orbit {r.orbit_dimension})")
        fields += [
            ("lambda_min", f"{r.lambda_min:.6e}"),
            ("resolution", f"{r.resolution:.3e}"),
            ("margin", f"{r.margin:.3g} (|lambda_min| / resolution; > 1 resolves its sign)"),
            ("zero eigenvalues", zeros),
        ]
        if np.isfinite(r.bound):
            fields.append(("f - bound", f"{r.gap:.3e} (resolution {r.gap_resolution:.3e})"))
    return fields + [("problem", repr(problem))]


def _classified(problem, W, H, **kwargs):
    check_instance(problem, "problem", UFMProblem)
    return classify_critical_point(problem, W, H, **kwargs)


@_claim
def assert_critical(problem: UFMProblem, W, H) -> CriticalPointReport:
    """Assert that ``(W, H)`` is a critical point: ``||grad f||`` (eqs. (5)-(6)) at its rounding level.

    The point is taken as given (no Newton refinement); the rounding level is
    :func:`~nc_verify.landscape.newton.gradient_tolerance`.

    Raises
    ------
    AssertionError
        With ``||grad f||``, the rounding level and their ratio.
    """
    __tracebackhide__ = _claim_frame
    r = _classified(problem, W, H, refine=False)
    if r.kind == "not_critical":
        _raise(FAIL, "assert_critical", f"||grad f|| = {r.gradient_norm:.3e} is "
               f"{r.gradient_norm / r.gradient_tol:.3g} x its rounding level {r.gradient_tol:.3e}",
               _point_fields(problem, r))
    return r


@_claim
def assert_not_critical(problem: UFMProblem, W, H) -> CriticalPointReport:
    """Assert that ``(W, H)`` is not a critical point (``||grad f||`` above its rounding level).

    Raises
    ------
    AssertionError
        The gradient is at rounding level; with ``||grad f||`` and the level.
    """
    __tracebackhide__ = _claim_frame
    r = _classified(problem, W, H, refine=False)
    if r.kind != "not_critical":
        _raise(FAIL, "assert_not_critical", f"||grad f|| = {r.gradient_norm:.3e} is within its rounding "
               f"level {r.gradient_tol:.3e}", _point_fields(problem, r))
    return r


@_claim
def assert_strict_saddle(problem: UFMProblem, W, H, **classify_options) -> CriticalPointReport:
    """Assert that ``(W, H)`` is a strict saddle: critical, with ``lambda_min(Hess f) < -resolution``.

    Parameters
    ----------
    problem : UFMProblem
    W, H : ndarray, shapes (d, K), (d, N)
    **classify_options
        Passed to :func:`~nc_verify.classify_critical_point` (``refine``, ``method``,
        ``rng``, ``reference``).

    Raises
    ------
    AssertionError
        The point is classified otherwise (a minimiser, not critical, ...).
    UndecidedError
        The classification is "undecided" (e.g. ``|lambda_min|`` within the resolution).
    """
    __tracebackhide__ = _claim_frame
    r = _classified(problem, W, H, **classify_options)
    if r.kind != "strict_saddle":
        state = UNDECIDED if r.kind == "undecided" else FAIL
        _raise(state, "assert_strict_saddle", f"classified {r.kind!r}, not 'strict_saddle'", _point_fields(problem, r))
    return r


@_claim
def assert_global_minimizer(problem: UFMProblem, W, H, **classify_options) -> CriticalPointReport:
    """Assert that ``(W, H)`` is a global minimiser, non-degenerate up to rotation.

    The cost equals Theorem 1's bound (or ``reference=``) to within its resolution, no
    eigenvalue is resolved negative, and the Hessian has exactly as many zero
    eigenvalues as the rotation orbit has dimensions (``zeros = orbit``).

    Raises
    ------
    AssertionError
        Classified otherwise (a strict saddle, not critical, above the bound, ...).
    UndecidedError
        Classified "undecided", or a minimiser whose zero count differs from the orbit
        dimension or was not computed (Lanczos), as Theorem 2's check treats it.
    """
    __tracebackhide__ = _claim_frame
    r = _classified(problem, W, H, **classify_options)
    if r.kind == "global_minimizer" and r.n_zero == r.orbit_dimension:
        return r
    if r.kind == "global_minimizer":
        headline = (f"{r.n_zero} zero eigenvalues vs rotation orbit of dimension {r.orbit_dimension}"
                    if r.n_zero is not None else "zero eigenvalues not counted (Lanczos)")
        _raise(UNDECIDED, "assert_global_minimizer", headline, _point_fields(problem, r))
    state = UNDECIDED if r.kind == "undecided" else FAIL
    _raise(state, "assert_global_minimizer", f"classified {r.kind!r}, not 'global_minimizer'",
           _point_fields(problem, r))


@_claim
def assert_neural_collapse(W, H, labels, *, nc1_tol: float = NC1_TOL, nc23_tol: float = NC23_TOL) -> NCMetrics:
    """Assert NC1-NC3 (Theorem 1's equality case) at classifiers ``W`` (d, K), features ``H`` (d, N).

    Parameters
    ----------
    W, H : ndarray, shapes (d, K), (d, N)
    labels : ndarray of int, shape (N,)
    nc1_tol, nc23_tol : float
        Defaults: the tolerances of :func:`~nc_verify.verify_theorem1` for optimised
        points (NC1 ``<= 1e-8``, NC2/NC3 ``<= 1e-3``; see :mod:`nc_verify.checks.theorem1`).

    Raises
    ------
    AssertionError
        A metric above its tolerance or undefined (NaN: coincident class means, or
        classifiers orthogonal to every class mean); with every metric, its tolerance and ratio.
    """
    __tracebackhide__ = _claim_frame
    m = nc_metrics(W, H, labels)
    fields, bad = [], []
    for name, value, tol in (("NC1", m.nc1, nc1_tol), ("NC2", m.nc2, nc23_tol), ("NC3", m.nc3, nc23_tol)):
        ok = bool(value <= tol)
        if not ok:
            bad.append(name)
        ratio = "undefined (NaN)" if np.isnan(value) else f"{value / tol:.3g} x tolerance"
        fields.append((name, f"{value:.3e} (tolerance {tol:g}; {ratio})"))
    if bad:
        _raise(FAIL, "assert_neural_collapse", f"{', '.join(bad)} not satisfied", fields)
    return m


# ---------------------------------------------------------------- theorems
def _cross_entropy_problem(problem, claim: str) -> UFMProblem:
    check_instance(problem, "problem", UFMProblem)
    if not isinstance(problem.loss, CrossEntropy):
        raise ValueError(f"{claim} is about cross-entropy (problem (4)); got loss {problem.loss.spec!r}")
    return problem


@_claim
def assert_theorem1(problem: UFMProblem, **options) -> Theorem1Report:
    """Assert Theorem 1 at the problem's size (:func:`~nc_verify.verify_theorem1`, every row).

    ``**options`` go to :func:`~nc_verify.verify_theorem1` (``trials``, ``random_points``,
    ``seed``, ``bound``). Raises ``ValueError`` for ``d < K`` or a loss other than cross-entropy.

    Raises
    ------
    AssertionError
        A row failed; the message lists every row with its evidence (gaps and resolution).
    UndecidedError
        No row failed but one is undecided.
    """
    __tracebackhide__ = _claim_frame
    p = _cross_entropy_problem(problem, "Theorem 1")
    rep = verify_theorem1(p.d, p.K, p.n, p.tau, **options)
    state = report_verdict(rep)
    if state != PASS:
        _raise(state, "assert_theorem1", f"at {p!r} (bound {rep.bound:.17g}, cost resolution {rep.resolution:.3e})",
               _rows_fields(report_rows(rep)))
    return rep


@_claim
def assert_theorem2(problem: UFMProblem, *, require_saturated: bool = True, **options) -> Theorem2Report:
    """Assert Theorem 2 at the problem's size (:func:`~nc_verify.verify_theorem2`).

    Every critical point found is a global minimiser (non-degenerate up to rotation) or
    a strict saddle, and every descent run reaches the bound.

    Parameters
    ----------
    problem : UFMProblem
        Cross-entropy; outside the assumptions (``d > K``, ``tau`` below its limit) the
        run is a probe of the conjecture and the message says so.
    require_saturated : bool
        Also require the search to be saturated (its documented rule,
        :attr:`~nc_verify.CriticalPointSearch.saturated`); an unsaturated search with
        consistent evidence raises :class:`UndecidedError`.
    **options
        Passed to :func:`~nc_verify.verify_theorem2` (``n_starts``, ``seed``, ``families``,
        ``max_starts``); ``n_starts=None`` searches until saturated.

    Raises
    ------
    AssertionError
        A spurious local minimiser (or other violation) was found.
    UndecidedError
        Some point could not be classified, a descent run stopped above the bound, or
        (``require_saturated``) the search is not saturated.
    """
    __tracebackhide__ = _claim_frame
    p = _cross_entropy_problem(problem, "Theorem 2")
    rep = verify_theorem2(p.d, p.K, p.n, p.tau, **options)
    state, only_saturation = _theorem2_state(rep, require_saturated)
    if state == PASS:
        return rep
    what = "Theorem 2" if rep.mode == "check" else "Theorem 2 probe (outside d > K, tau < limit)"
    headline = f"{what} at {p!r}: verdict {rep.verdict!r}"
    if only_saturation:
        headline += "; the search is not saturated"
    fields = _rows_fields(report_rows(rep)) + [
        ("points by kind", ", ".join(f"{k} {v}" for k, v in sorted(rep.counts.items()))),
        ("search", f"{'saturated' if rep.saturated else 'NOT saturated'}: last new point at start "
                   f"{rep.last_new_point_at}/{rep.n_starts}, Good-Turing chance of a new point per start "
                   f"{rep.unseen_probability:.3g}" + ("" if rep.saturated else
                   " (n_starts=None searches until saturated; require_saturated=False accepts this)")),
    ]
    _raise(state, "assert_theorem2", headline, fields)


# ---------------------------------------------------------------- certificates
def _certificate_fields(c):
    fields = [("status", f"{c.status} ({c.reason})"), ("criticality", c.criticality.status),
              ("precision", f"{c.precision} bits (tried {c.precisions_tried})")]
    if c.quadratic_form is not None:
        fields += [("Hess f[D, D]", f"{c.quadratic_form.text} ({c.quadratic_form.sign})"),
                   ("Rayleigh quotient", c.rayleigh_quotient.text)]
    if c.mu is not None:
        fields.append(("mu", f"{c.mu.text} (lower bound off the orbit; kernel {c.kernel_dimension})"))
    if c.all_tau is not None:
        fields.append(("all tau", "proved" if c.all_tau.proved else f"not proved ({c.all_tau.reason})"))
    return fields + [("point", f"{c.point} at d={c.d}, K={c.K}, n={c.n}, tau={c.tau}")]


@_claim
def assert_certified_saddle(problem: UFMProblem, W, H=None, direction=None, *, all_tau: bool = False,
                            **certify_options) -> Certificate:
    """Assert a ball-arithmetic proof of negative curvature at an exact critical point.

    Needs the ``certify`` extra (python-flint): ``pip install "nc-verify[certify]"``;
    without it an ``ImportError`` names the extra. Arguments as
    :func:`~nc_verify.certify_strict_saddle` (``W`` may be a family name).

    Parameters
    ----------
    all_tau : bool
        Also require the statement for every ``tau > 0`` (criticality proved for all
        tau and ``Q < 0`` for all tau).

    Raises
    ------
    AssertionError
        Status "not_critical" (gradient proved nonzero) or "not_negative"
        (``Hess f[D, D] >= 0`` proved along the direction).
    UndecidedError
        Status "undecided" (the ball contains 0 up to ``max_prec``), or ``all_tau``
        requested and not proved.
    """
    __tracebackhide__ = _claim_frame
    from nc_verify.certify import certify_strict_saddle

    c = certify_strict_saddle(problem, W, H, direction, all_tau=all_tau, **certify_options)
    if c.status == "certified" and (not all_tau or (c.all_tau.proved and c.criticality.status == "proved_all_tau")):
        return c
    if c.status == "certified":
        state, headline = UNDECIDED, "certified at this tau, but the every-tau statement is not proved"
    else:
        state = UNDECIDED if c.status == "undecided" else FAIL
        headline = f"certificate status {c.status!r}"
    _raise(state, "assert_certified_saddle", headline, _certificate_fields(c))


@_claim
def assert_certified_minimum(problem: UFMProblem, W, H=None, **certify_options) -> Certificate:
    """Assert a ball-arithmetic proof that an exact point is a minimum up to symmetry.

    PSD Hessian with kernel exactly the O(d) orbit's tangent space
    (:func:`~nc_verify.certify_minimum`; extra ``certify``).

    Raises
    ------
    AssertionError
        Status "not_minimum" or "not_critical".
    UndecidedError
        Status "undecided".
    """
    __tracebackhide__ = _claim_frame
    from nc_verify.certify import certify_minimum

    c = certify_minimum(problem, W, H, **certify_options)
    if c.status != "certified":
        _raise(UNDECIDED if c.status == "undecided" else FAIL, "assert_certified_minimum",
               f"certificate status {c.status!r}", _certificate_fields(c))
    return c
