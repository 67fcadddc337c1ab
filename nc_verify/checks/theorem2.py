"""Numerical check of Theorem 2 (global landscape): every critical point is a global
minimiser of the Theorem 1 form or a strict saddle with ``lambda_min(Hess f) < 0``.

Theorem 2 assumes ``d > K`` and ``tau < 2 (d - 2) (1 + (K mod 2)/K)^{-1}``
(:func:`~nc_verify.theorem2_tau_limit`).  :func:`verify_theorem2` enumerates the
exact critical-point families (:func:`~nc_verify.critical_point_families`), searches
for further critical points numerically (:func:`~nc_verify.find_critical_points`),
runs descent from random starts, and classifies every distinct point
(:func:`~nc_verify.landscape.degenerate.classify_point`: continua by their worst member,
degenerate points by a higher-order test).  Outside the assumptions the same
run is a probe of the paper's conjecture (Section 3: the landscape stays benign
for ``d <= K`` and large ``tau``), never a check of the theorem.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nc_verify.checks.theorem1 import bound_underflows
from nc_verify.landscape.classify import CriticalPointReport
from nc_verify.landscape.degenerate import classify_point
from nc_verify.landscape.points import (
    ClassifiedPoint,
    FoundPoint,
    describe_point,
    point_invariants,
    same_point,
)
from nc_verify.landscape.rounding import cost_resolution
from nc_verify.landscape.search import (
    DEFAULT_BATCH,
    DEFAULT_MAX_STARTS,
    SATURATION_FRACTION,
    find_critical_points,
)
from nc_verify.objective.closed_forms import (
    theorem2_assumptions_hold,
    theorem2_tau_limit,
)
from nc_verify.objective.families import critical_point_families
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.progress import Progress
from nc_verify.utils.reports import (
    CHECK_WORDS,
    FAIL,
    PASS,
    PROBE_WORDS,
    UNDECIDED,
    Report,
    Row,
)
from nc_verify.utils.budget import check_memory, search_bytes
from nc_verify.utils.threads import blas_threads_for
from nc_verify.utils.validation import check_int, check_positive_float, check_seed


def saturation_reason(saturated: bool, last_new_point_at: int, n_starts: int, unseen_probability: float,
                      rarest_miss_probability: float = float("nan")) -> str:
    """The saturation evidence of a search in one sentence, with the hint to search further.

    ``rarest_miss_probability``
    (:attr:`~nc_verify.landscape.search.CriticalPointSearch.rarest_miss_probability`), when given:
    the chance that a point as rare as the rarest found stays unseen after the last new point.
    """
    where = f"last new point at start {last_new_point_at}/{n_starts}"
    rare = ("" if not np.isfinite(rarest_miss_probability) else
            f"; a point as rare as the rarest found would stay unseen after it with probability "
            f"{rarest_miss_probability:.2g}")
    if saturated:
        return f"search saturated ({where}; no new point in the last {SATURATION_FRACTION:.0%} of the starts{rare})"
    return (f"search not saturated; estimated chance of a new point per start {unseen_probability:.2g} ({where}{rare}); "
            f"search until saturated with n_starts=None (--starts auto), with a larger max_starts (--max-starts) "
            f"where it stopped at that cap")


def examined(state, count: int):
    """A claim about the critical points found earns "pass" only about points examined.

    ``state`` unless it is :data:`~nc_verify.utils.reports.PASS` and ``count`` (the points
    the claim quantifies over) is zero: then :data:`~nc_verify.utils.reports.UNDECIDED`
    (no evidence, no verdict).  The one rule for the rows of Theorem 2 checks and probes.
    """
    return UNDECIDED if state == PASS and count == 0 else state


NOTHING_EXAMINED = "no critical point was examined (nothing to judge)"


def merged_reasons(items, limit: int = 4) -> str:
    """``"; "``-joined evidence of ``(name, kind, reason)`` items, each distinct ``(kind, reason)`` once.

    Points with the same kind and reason are one clause, ``"3 points (a, b, c) undecided: reason"``
    (names shown when given); at most ``limit`` clauses, then how many were left out.
    """
    groups = {}
    for name, kind, reason in items:
        groups.setdefault((kind, reason), []).append(name)
    parts = []
    for (kind, reason), names in list(groups.items())[:limit]:
        shown = [x for x in names if x]
        if len(names) == 1:
            parts.append(f"{shown[0]}: {kind} ({reason})" if shown else f"{kind}: {reason}")
        else:
            who = f" ({', '.join(shown[:3])}{', ...' if len(shown) > 3 else ''})" if shown else ""
            parts.append(f"{len(names)} points{who} {kind}: {reason}")
    if len(groups) > limit:
        parts.append(f"{len(groups) - limit} more kinds of evidence")
    return "; ".join(parts)


@dataclass
class Theorem2Report(Report):
    """Outcome of :func:`verify_theorem2`.

    Attributes
    ----------
    d, K, n : int
    tau, tau_limit : float
    assumptions_hold : bool
        ``d > K`` and ``tau < tau_limit``; if False the run is a probe (``mode == "probe"``).
    mode : str
        "check" (inside the assumptions) or "probe".
    critical_points : list of ClassifiedPoint
        Every distinct critical point found, families included.
    counts : dict of str -> int
        Distinct points per kind.
    n_starts, n_converged : int
    saturated : bool
        The search's saturation rule (:attr:`~nc_verify.landscape.search.CriticalPointSearch.saturated`):
        at least ``MIN_SATURATION_STARTS`` (3000) starts, no new distinct point in the last
        ``SATURATION_FRACTION`` (half) of them, and the rarest point found by random starts hit often
        enough that one as rare stays unseen in those starts with probability at most
        ``exp(-SATURATION_RAREST_HITS)`` (about 0.05).
    last_new_point_at : int
    unseen_probability : float
        Good-Turing estimate of the chance that one more search start finds a new point.
    rarest_miss_probability : float
        The chance that a point as rare as the rarest one found stays unseen after the last new point
        (:attr:`~nc_verify.landscape.search.CriticalPointSearch.rarest_miss_probability`).
    search_elapsed : float
        Seconds spent in the search.
    descent_gaps : ndarray
        ``f - bound`` at the (polished) end of every descent run.
    reference : str
        "bound" (Theorem 1's bound, ``d >= K - 1``) or "lowest_minimum" (the lowest
        local minimum found, ``d < K - 1``): what descent gaps are measured from.
    descent_tol : float
        A descent run reaches the bound when its gap is at most this
        (``(K + N + 2 d tau) eps bound``: the rounding of the cost there).
    elapsed : float
        Seconds.
    underflow : bool
        ``tau`` so large that Theorem 1's bound underflows
        (:func:`~nc_verify.checks.theorem1.bound_underflows`): no search is run and the one
        row is undecided.

    The rows (``Theorem 2: ...``, or ``Theorem 2 probe: ...`` outside the assumptions)
    and their rules:

    * minima non-degenerate up to rotation -- pass when every minimiser found has as many zero Hessian eigenvalues as its rotation orbit; undecided otherwise (or without one);
    * no spurious local minimiser -- FAIL when one is found (or, with ``d < K - 1``, local minimisers of different costs);
    * every other critical point a strict saddle -- FAIL when a ``degenerate_saddle`` is found; undecided when a point is ``undecided`` or ``not_critical``;
    * both are undecided, never pass, when no critical point was examined (:func:`examined`);
    * descent reaches the bound -- undecided when a run stopped above it (a stalled run is no counterexample: where it stopped at a critical point, that point is classified);
    * search saturated -- undecided when not (:func:`saturation_reason`).

    ``verdict`` combines them (:func:`~nc_verify.utils.reports.combine`): "holds",
    "violated", "undecided" for a check; "no counterexample found", "potential
    counterexample", "undecided" for a probe.  "holds" thus needs a saturated search.
    """

    d: int
    K: int
    n: int
    tau: float
    tau_limit: float
    assumptions_hold: bool
    mode: str
    critical_points: list
    counts: dict
    n_starts: int
    n_converged: int
    saturated: bool
    last_new_point_at: int
    unseen_probability: float
    search_elapsed: float
    descent_gaps: np.ndarray
    reference: str
    descent_tol: float
    elapsed: float
    underflow: bool = False
    rarest_miss_probability: float = float("nan")

    def words(self):
        return CHECK_WORDS if self.mode == "check" else PROBE_WORDS

    def _of(self, *kinds):
        return [c for c in self.critical_points if c.report.kind in kinds]

    def rows(self):
        """One :class:`~nc_verify.utils.reports.Row` per claim (see the class docstring)."""
        tag = "Theorem 2" if self.mode == "check" else "Theorem 2 probe"
        if self.underflow:
            return [Row(f"{tag}: the landscape is resolvable in float64", UNDECIDED,
                        f"at tau = {self.tau:g} the softmax saturates: (K-1) exp(-K tau/(K-1)) underflows in float64, "
                        "so gradients and curvatures near the minimum set vanish below the rounding level and "
                        "critical points cannot be told apart; no search was run")]
        saddles = self._of("strict_saddle")
        local = self._of("local_minimizer")
        mins = self._of("global_minimizer") + local
        deg = [c for c in mins if c.report.n_zero != c.report.orbit_dimension]
        rows = [Row(
            f"{tag}: minima non-degenerate up to rotation", PASS if mins and not deg else UNDECIDED,
            ", ".join(f"zeros {c.report.n_zero} vs orbit {c.report.orbit_dimension}" for c in mins[:3])
            or "no minimiser found",
        )]
        spurious = self._of("spurious_local_minimizer")
        costs = [c.report.cost for c in local]
        spread = max(costs) - min(costs) if costs else 0.0
        split = spread > self.descent_tol
        n_points = len(self.critical_points)
        rows.append(Row(
            f"{tag}: no spurious local minimiser", examined(FAIL if spurious or split else PASS, n_points),
            (", ".join(f"{c.name}: cost {c.report.cost:.12g}, lambda_min {c.report.lambda_min:.3g}" for c in spurious[:3])
             or (f"none among {n_points} distinct points" if n_points else NOTHING_EXAMINED))
            + (f"; {len(local)} local minimisers, costs {min(costs):.12g} .. {max(costs):.12g}" if local else ""),
            value=spread if local else None, tolerance=self.descent_tol if local else None,
        ))
        degenerate = self._of("degenerate_saddle")
        open_ = self._of("undecided", "not_critical")
        margins = [c.report.margin for c in saddles]
        worst = max((c.report.lambda_min for c in saddles), default=float("nan"))
        rows.append(Row(
            f"{tag}: every other critical point a strict saddle",
            examined(FAIL if degenerate else (UNDECIDED if open_ else PASS), n_points),
            ("" if n_points else NOTHING_EXAMINED + "; ") + f"{len(self.critical_points)} distinct points, {len(saddles)} strict saddles (largest "
            f"lambda_min {worst:.3g}, smallest margin {min(margins, default=float('nan')):.3g}x resolution)"
            + (("; " + merged_reasons([(c.name, c.report.kind, c.report.reason) for c in degenerate + open_]))
               if degenerate + open_ else ""),
            value=worst, margin=min(margins, default=None),
        ))
        if self.descent_gaps.size:
            ok = int(np.sum(self.descent_gaps <= self.descent_tol))
            target = "the bound" if self.reference == "bound" else "the lowest local minimum"
            rows.append(Row(f"{tag}: descent from random starts reaches {target}",
                            PASS if ok == self.descent_gaps.size else UNDECIDED,
                            f"{ok}/{self.descent_gaps.size} runs, largest gap {np.max(self.descent_gaps):.3g}",
                            value=float(np.max(self.descent_gaps)), tolerance=self.descent_tol))
        rows.append(Row(f"{tag}: search saturated", PASS if self.saturated else UNDECIDED,
                        saturation_reason(self.saturated, self.last_new_point_at, self.n_starts,
                                          self.unseen_probability, self.rarest_miss_probability)
                        + f"; {self.n_converged} starts converged",
                        value=self.unseen_probability))
        return rows


def check_theorem2_budget(problem, workers=None, scheduler=None, seed=0) -> int:
    """Check the arguments every Theorem 2 run shares and refuse a size over the memory budget, before any work.

    The peak is the batched search's (:func:`~nc_verify.utils.budget.search_bytes`, batches
    of :data:`~nc_verify.landscape.search.DEFAULT_BATCH` starts at the full tangent
    dimension, in each of ``workers`` processes; one per worker of a ``scheduler``); the
    families' dense spectra are smaller.  Returns the estimate in bytes.
    """
    check_seed(seed)
    if workers is not None and scheduler is not None:
        raise ValueError("pass workers (a local cluster) or scheduler (a running one), not both")
    if workers is not None:
        workers = check_int(workers, "workers", 1)
    T = problem.tangent_dimension
    return check_memory(search_bytes(T, DEFAULT_BATCH, workers or 1),
                        f"the Theorem 2 search at (d, K, n) = ({problem.d}, {problem.K}, {problem.n}) "
                        f"(tangent dimension {T}, batches of {DEFAULT_BATCH} dense Hessians"
                        + (f", {workers} worker processes" if workers else "") + ")")


def _found(problem, rep: CriticalPointReport) -> FoundPoint:
    return FoundPoint(point=rep.point, cost=rep.cost, gradient_norm=rep.gradient_norm,
                      invariants=point_invariants(rep.point, rep.spectrum),
                      n_zero=rep.n_zero, orbit_dimension=rep.orbit_dimension, hits=0)


def verify_theorem2(d: int, K: int, n: int, tau: float, *, n_starts=None, seed=0,
                    families: bool = True, max_starts: int = DEFAULT_MAX_STARTS, progress=None,
                    workers=None, scheduler=None, checkpoint=None) -> Theorem2Report:
    """Check Theorem 2 at ``(d, K, n, tau)`` by enumerating and classifying critical points.

    Parameters
    ----------
    d, K, n : int
    tau : float
    n_starts : int or None
        Starts of the numerical search (2% are descent runs).  None (default):
        search until saturated (at least 3000 starts, no new distinct point in the
        last half of them) or ``max_starts`` starts; see
        :func:`~nc_verify.find_critical_points`.
    seed : int, Generator or None
    families : bool
        Also classify every exact family point.
    max_starts : int
        Cap of the adaptive search.
    progress : bool or None
        Progress bars (default: when stderr is a terminal).
    workers : int, optional
        Run the search on a dask ``LocalCluster`` of this many processes (the ``sweep``
        extra); the result is the serial one.
    scheduler : str, optional
        Address of a running dask scheduler for the search (not with ``workers``).
    checkpoint : str or path-like, optional
        The search's checkpoint file: saved while it runs, resumed from when it exists
        (:func:`~nc_verify.find_critical_points`); a killed run started again ends with the
        uninterrupted result.

    Raises
    ------
    ValueError
        Bad arguments, ``workers`` with ``scheduler``, or a size whose estimated memory
        exceeds the budget (:func:`check_theorem2_budget`, :mod:`nc_verify.utils.budget`),
        all before any work.

    Returns
    -------
    Theorem2Report
        ``verdict`` "holds" iff the search saturated, no spurious local minimiser or
        degenerate saddle was found, every critical point other than the global
        minimisers has ``lambda_min < 0`` by more than its resolution (none is
        "undecided"), every minimiser found has exactly as many zero Hessian
        eigenvalues as the dimension of its rotation orbit (non-degenerate up to
        symmetry), and every descent run reached the bound; "violated" when a
        spurious local minimiser or a degenerate saddle was found; otherwise
        "undecided".  Outside the assumptions the same rows give a probe's words.
    """
    with blas_threads_for(UFMProblem(d, K, n, tau)):
        return _verify_theorem2(d, K, n, tau, n_starts=n_starts, seed=seed, families=families,
                                max_starts=max_starts, progress=progress, workers=workers, scheduler=scheduler,
                                checkpoint=checkpoint)


def _verify_theorem2(d: int, K: int, n: int, tau: float, *, n_starts, seed, families, max_starts, progress,
                     workers, scheduler, checkpoint):
    t0 = time.perf_counter()
    problem = UFMProblem(d, K, n, tau)
    if n_starts is not None:
        n_starts = check_int(n_starts, "n_starts", 1)
    tau = check_positive_float(tau, "tau")
    check_theorem2_budget(problem, workers, scheduler, seed)
    limit = theorem2_tau_limit(d, K)
    assumptions = theorem2_assumptions_hold(d, K, tau)
    if bound_underflows(K, tau):
        return Theorem2Report(
            d=d, K=K, n=n, tau=tau, tau_limit=limit, assumptions_hold=assumptions,
            mode="check" if assumptions else "probe", critical_points=[], counts={}, n_starts=0, n_converged=0,
            saturated=False, last_new_point_at=0, unseen_probability=float("nan"), search_elapsed=0.0,
            descent_gaps=np.zeros(0), reference="bound", descent_tol=0.0, elapsed=time.perf_counter() - t0,
            underflow=True)
    points, entries = [], []

    def add(W, H, name, hits=0, sources=None):
        # a point already known (modulo symmetry, continua included) only adds its hits;
        # a new one is classified, continua by their worst member (classify_point)
        raw = describe_point(problem, W, H)
        idx = next((i for i, p in enumerate(points) if same_point(p, raw)), None)
        # another member of a known continuum with a larger lambda_min is classified too:
        # a continuum is judged by the worst member found from any of its members
        worse = idx is not None and raw.continuum and entries[idx].report.kind == "strict_saddle" \
            and raw.invariants["hessian"][0] > entries[idx].report.lambda_min + entries[idx].report.resolution
        if idx is None or worse:
            rep = classify_point(problem, W, H, rng=0)
            if idx is None:
                idx = next((i for i, p in enumerate(points) if same_point(p, _found(problem, rep))), None)
            if idx is None:
                points.append(raw)
                entries.append(ClassifiedPoint(names=[name], report=rep))
                idx = len(entries) - 1
            elif raw.continuum and entries[idx].report.kind == "strict_saddle" \
                    and rep.lambda_min > entries[idx].report.lambda_min:
                old = entries[idx]
                entries[idx] = ClassifiedPoint(report=rep, names=old.names, hits=old.hits, sources=old.sources)
        entry = entries[idx]
        if name not in entry.names and (name != "found" or not entry.names):
            entry.names.append(name)
        entry.merge(hits, sources or {})

    if families:
        fam = critical_point_families(problem)
        with Progress(len(fam), "families", enabled=progress) as bar:
            for name, (W, H) in fam.items():
                add(W, H, name)
                bar.update()
    search = find_critical_points(problem, n_starts=n_starts, seed=seed, max_starts=max_starts, progress=progress,
                                  workers=workers, scheduler=scheduler, checkpoint=checkpoint)
    with Progress(len(search.points), "classify", enabled=progress) as bar:
        for p in search.points:
            add(p.W, p.H, "found", p.hits, p.sources)
            bar.update()

    counts = {}
    for e in entries:
        counts[e.report.kind] = counts.get(e.report.kind, 0) + 1
    local = [e.report.cost for e in entries if e.report.kind == "local_minimizer"]
    if d >= K - 1 or not local:
        reference, target = "bound", problem.bound
    else:
        reference, target = "lowest_minimum", min(local)
    return Theorem2Report(
        d=d, K=K, n=n, tau=tau, tau_limit=limit, assumptions_hold=assumptions,
        mode="check" if assumptions else "probe", critical_points=entries,
        counts=counts, n_starts=search.n_starts, n_converged=search.n_converged,
        saturated=search.saturated, last_new_point_at=search.last_new_point_at,
        unseen_probability=search.unseen_probability, search_elapsed=search.elapsed,
        rarest_miss_probability=search.rarest_miss_probability,
        descent_gaps=search.descent_costs - target, reference=reference, descent_tol=cost_resolution(problem, target),
        elapsed=time.perf_counter() - t0,
    )
