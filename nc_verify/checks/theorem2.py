"""Numerical check of Theorem 2 (global landscape): every critical point is a global
minimiser of the Theorem 1 form or a strict saddle with ``lambda_min(Hess f) < 0``.

Theorem 2 assumes ``d > K`` and ``tau < 2 (d - 2) (1 + (K mod 2)/K)^{-1}``
(:func:`~nc_verify.theorem2_tau_limit`).  :func:`verify_theorem2` enumerates the
exact critical-point families (:func:`~nc_verify.critical_point_families`), searches
for further critical points numerically (:func:`~nc_verify.find_critical_points`),
runs descent from random starts, and classifies every distinct point
(:func:`~nc_verify.classify_critical_point`).  Outside the assumptions the same
run is a probe of the paper's conjecture (Section 3: the landscape stays benign
for ``d <= K`` and large ``tau``), never a check of the theorem.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.classify import CriticalPointReport, classify_critical_point
from nc_verify.landscape.points import FoundPoint, point_invariants, same_point
from nc_verify.landscape.rounding import cost_resolution
from nc_verify.landscape.search import DEFAULT_MAX_STARTS, find_critical_points
from nc_verify.objective.closed_forms import (
    theorem2_assumptions_hold,
    theorem2_tau_limit,
)
from nc_verify.objective.families import critical_point_families
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.progress import Progress
from nc_verify.utils.validation import check_int, check_positive_float


@dataclass
class ClassifiedPoint:
    """A distinct critical point: its names (family names, or ``"found"``), hits and report."""

    names: list
    report: CriticalPointReport
    hits: int = 0
    sources: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.names[0] if len(self.names) == 1 else f"{self.names[0]} (+{len(self.names) - 1})"

    def as_dict(self) -> dict:
        return {"names": list(self.names), "hits": self.hits, "sources": dict(self.sources),
                **self.report.as_dict()}


@dataclass
class Theorem2Report:
    """Outcome of :func:`verify_theorem2`.

    Attributes
    ----------
    d, K, n : int
    tau, tau_limit : float
    assumptions_hold : bool
        ``d > K`` and ``tau < tau_limit``; if False the run is a probe (``mode == "probe"``).
    mode : str
        "check" (inside the assumptions) or "probe".
    verdict : str
        "holds", "violated" (a spurious local minimiser was found) or "undecided"
        (some point could not be classified, or a descent run stopped above the bound).
    holds : bool
        ``verdict == "holds"``.
    critical_points : list of ClassifiedPoint
        Every distinct critical point found, families included.
    counts : dict of str -> int
        Distinct points per kind.
    n_starts, n_converged : int
    saturated : bool
        The search's saturation rule (:attr:`~nc_verify.landscape.search.CriticalPointSearch.saturated`):
        at least ``MIN_SATURATION_STARTS`` (400) starts and no new distinct point in the last
        ``SATURATION_FRACTION`` (half) of them.
    last_new_point_at : int
    unseen_probability : float
        Good-Turing estimate of the chance that one more search start finds a new point.
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
    """

    d: int
    K: int
    n: int
    tau: float
    tau_limit: float
    assumptions_hold: bool
    mode: str
    verdict: str
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

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    def _of(self, *kinds):
        return [c for c in self.critical_points if c.report.kind in kinds]

    def rows(self):
        """``(check, passed, evidence)`` rows for the CLI table."""
        tag = "Theorem 2" if self.mode == "check" else "Theorem 2 probe"
        minima = self._of("global_minimizer")
        saddles = self._of("strict_saddle")
        bad = self._of("spurious_local_minimizer", "undecided", "not_critical")
        local = self._of("local_minimizer")
        rows = []
        mins = minima + local
        deg = [c for c in mins if c.report.n_zero != c.report.orbit_dimension]
        rows.append((
            f"{tag}: minima non-degenerate up to rotation",
            bool(mins) and not deg,
            ", ".join(f"zeros {c.report.n_zero} vs orbit {c.report.orbit_dimension}" for c in mins[:3])
            or "no minimiser found",
        ))
        margins = [c.report.margin for c in saddles]
        worst = max((c.report.lambda_min for c in saddles), default=float("nan"))
        rows.append((
            f"{tag}: every other critical point a strict saddle",
            not bad,
            f"{len(self.critical_points)} distinct points, {len(saddles)} strict saddles (largest "
            f"lambda_min {worst:.3g}, smallest margin {min(margins, default=float('nan')):.3g}x resolution); "
            + (", ".join(f"{c.name}: {c.report.kind}" for c in bad[:4]) or "none undecided")
            + f"; search {'saturated' if self.saturated else 'NOT saturated'}: last new point at start "
            f"{self.last_new_point_at}/{self.n_starts}, {self.n_converged} starts converged, "
            f"Good-Turing chance of a new point per start {self.unseen_probability:.2g}",
        ))
        if local:
            costs = [c.report.cost for c in local]
            rows.append((f"{tag}: local minimisers share one cost", bool(max(costs) - min(costs) <= self.descent_tol),
                         f"{len(local)} local minimisers, costs {min(costs):.12g} .. {max(costs):.12g}"))
        if self.descent_gaps.size:
            ok = int(np.sum(self.descent_gaps <= self.descent_tol))
            target = "the bound" if self.reference == "bound" else "the lowest local minimum"
            rows.append((f"{tag}: descent from random starts reaches {target}",
                         ok == self.descent_gaps.size,
                         f"{ok}/{self.descent_gaps.size} runs, largest gap {np.max(self.descent_gaps):.3g}"))
        return rows

    def as_dict(self) -> dict:
        return {
            "d": self.d, "K": self.K, "n": self.n, "tau": self.tau, "tau_limit": self.tau_limit,
            "assumptions_hold": self.assumptions_hold, "mode": self.mode, "verdict": self.verdict,
            "holds": self.holds, "counts": dict(self.counts), "n_starts": self.n_starts,
            "n_converged": self.n_converged, "saturated": self.saturated,
            "last_new_point_at": self.last_new_point_at, "unseen_probability": self.unseen_probability,
            "search_elapsed": self.search_elapsed, "descent_gaps": self.descent_gaps,
            "reference": self.reference,
            "descent_tol": self.descent_tol, "elapsed": self.elapsed,
            "critical_points": [c.as_dict() for c in self.critical_points],
        }


def _found(problem, rep: CriticalPointReport) -> FoundPoint:
    return FoundPoint(point=rep.point, cost=rep.cost, gradient_norm=rep.gradient_norm,
                      invariants=point_invariants(rep.point, rep.spectrum),
                      n_zero=rep.n_zero, orbit_dimension=rep.orbit_dimension, hits=0)


def verify_theorem2(d: int, K: int, n: int, tau: float, *, n_starts=None, seed=0,
                    families: bool = True, max_starts: int = DEFAULT_MAX_STARTS, progress=None) -> Theorem2Report:
    """Check Theorem 2 at ``(d, K, n, tau)`` by enumerating and classifying critical points.

    Parameters
    ----------
    d, K, n : int
    tau : float
    n_starts : int or None
        Starts of the numerical search (every tenth is a descent run).  None
        (default): search until saturated (at least 400 starts, no new distinct
        point in the last half of them) or ``max_starts`` starts; see
        :func:`~nc_verify.find_critical_points`.
    seed : int, Generator or None
    families : bool
        Also classify every exact family point.
    max_starts : int
        Cap of the adaptive search.
    progress : bool or None
        Progress bars (default: when stderr is a terminal).

    Returns
    -------
    Theorem2Report
        ``verdict`` "holds" iff no spurious local minimiser was found, every critical
        point other than the global minimisers has ``lambda_min < 0`` by more than
        its resolution (so none is "undecided"), every minimiser found has exactly as
        many zero Hessian eigenvalues as the dimension of its rotation orbit
        (non-degenerate up to symmetry), and every descent run reached the bound.
        "violated" only when a spurious local minimiser was found (or, in a
        probe with ``d < K - 1`` where the bound is not attained, local minimisers
        with different costs); a descent run that stopped above the bound without
        reaching such a point makes the verdict "undecided".
    """
    t0 = time.perf_counter()
    problem = UFMProblem(d, K, n, tau)
    if n_starts is not None:
        n_starts = check_int(n_starts, "n_starts", 1)
    tau = check_positive_float(tau, "tau")
    limit = theorem2_tau_limit(d, K)
    assumptions = theorem2_assumptions_hold(d, K, tau)
    points, entries = [], []

    def add(rep, name, hits=0, sources=None):
        found = _found(problem, rep)
        idx = next((i for i, p in enumerate(points) if same_point(p, found)), None)
        if idx is None:
            points.append(found)
            entries.append(ClassifiedPoint(names=[name], report=rep))
            idx = len(entries) - 1
        entry = entries[idx]
        if name not in entry.names and (name != "found" or not entry.names):
            entry.names.append(name)
        entry.hits += hits
        for k, v in (sources or {}).items():
            entry.sources[k] = entry.sources.get(k, 0) + v

    if families:
        fam = critical_point_families(problem)
        with Progress(len(fam), "families", enabled=progress) as bar:
            for name, (W, H) in fam.items():
                add(classify_critical_point(problem, W, H), name)
                bar.update()
    search = find_critical_points(problem, n_starts=n_starts, seed=seed, max_starts=max_starts, progress=progress)
    with Progress(len(search.points), "classify", enabled=progress) as bar:
        for p in search.points:
            add(classify_critical_point(problem, p.W, p.H), "found", p.hits, p.sources)
            bar.update()

    counts = {}
    for e in entries:
        counts[e.report.kind] = counts.get(e.report.kind, 0) + 1
    local = [e.report.cost for e in entries if e.report.kind == "local_minimizer"]
    if d >= K - 1 or not local:
        reference, target = "bound", problem.bound
    else:
        reference, target = "lowest_minimum", min(local)
    descent_tol = cost_resolution(problem, target)
    descent_gaps = search.descent_costs - target
    kinds = [e.report.kind for e in entries]
    violated = "spurious_local_minimizer" in kinds or bool(local and max(local) - min(local) > descent_tol)
    # A descent run that stops above the bound is not itself a counterexample: it may
    # have stalled (iteration cap) or stopped at a saddle.  If it ended at a critical
    # point, that point was classified above; otherwise the evidence is incomplete.
    incomplete = bool(np.any(descent_gaps > descent_tol))
    # minima must be non-degenerate up to the rotation symmetry (zero eigenvalues =
    # orbit dimension); otherwise the spectrum leaves their nature open
    minima = [e.report for e in entries if e.report.kind in ("global_minimizer", "local_minimizer")]
    degenerate = not minima or any(r.n_zero != r.orbit_dimension for r in minima)
    if violated:
        verdict = "violated"
    elif incomplete or degenerate or any(k in ("undecided", "not_critical") for k in kinds):
        verdict = "undecided"
    else:
        verdict = "holds"
    return Theorem2Report(
        d=d, K=K, n=n, tau=tau, tau_limit=limit, assumptions_hold=assumptions,
        mode="check" if assumptions else "probe", verdict=verdict, critical_points=entries,
        counts=counts, n_starts=search.n_starts, n_converged=search.n_converged,
        saturated=search.saturated, last_new_point_at=search.last_new_point_at,
        unseen_probability=search.unseen_probability, search_elapsed=search.elapsed,
        descent_gaps=descent_gaps, reference=reference, descent_tol=descent_tol, elapsed=time.perf_counter() - t0,
    )

