"""Numerical check of Theorem 1 (global optimality condition).

Theorem 1: for ``d >= K`` and balanced classes,
``f(W, H) >= log(1 + (K - 1) exp(-K tau / (K - 1)))`` on ``OB(d, K) x OB(d, N)``, with
equality iff NC1 (``h_{k,i} = hbar_k``), NC2 (``Hbar`` a simplex ETF) and NC3
(``w_k = hbar_k``) hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from nc_verify.landscape.classify import spectrum_summary
from nc_verify.landscape.rounding import TINY, cost_resolution, gap_resolution
from nc_verify.landscape.solvers import solve
from nc_verify.landscape.spectrum import DENSE_LIMIT, hessian_matrix, symmetric_eigh
from nc_verify.objective.frames import etf_point
from nc_verify.objective.metrics import nc_metrics
from nc_verify.objective.problem import UFMProblem
from nc_verify.utils.reports import FAIL, PASS, UNDECIDED, Report, Row, combine, ratio, state_of
from nc_verify.utils.validation import as_rng, check_int

#: Gradient tolerances of the optimised runs. Trust regions converge quadratically
#: and reach 1e-10 in a few iterations; steepest descent converges linearly and is
#: stopped at 1e-8 (about 10^3 iterations at the default size).
TR_GRADIENT_TOL = 1e-10
SD_GRADIENT_TOL = 1e-8

#: Near a minimiser that is non-degenerate up to symmetry, a point with gradient
#: norm g lies ~ g / mu from the minimum set (mu: smallest non-zero Hessian
#: eigenvalue, >= 1e-3 at the sizes checked here). With g <= 1e-8 the relative
#: cost gap is ~ g^2 / (2 mu f*) < 1e-10, NC2/NC3 distances ~ g / mu < 1e-5 and NC1
#: (a squared distance) < 1e-10; the tolerances below leave a factor 100 of headroom.
REACH_RTOL = 1e-8
NC1_TOL = 1e-8
NC23_TOL = 1e-3


def bound_underflows(K: int, tau: float) -> bool:
    """``(K - 1) exp(-K tau / (K - 1))`` is below the smallest normal double (``tau`` beyond about
    ``708 (K - 1) / K``): Theorem 1's bound, and every cost and curvature near the minimum set,
    is 0 or subnormal in float64, so no comparison with it can be decided."""
    return bool(np.log(K - 1) - K * tau / (K - 1) < np.log(TINY))


def etf_curvature(K: int, n: int, tau: float):
    """Smallest non-zero Hessian eigenvalue ``mu`` at the simplex ETF minimiser (off its rotation orbit).

    Computed from the dense spectrum at ``d = K``: the ETF's non-zero spectrum is the same
    for every ``d >= K`` (extra dimensions add only normal directions, whose quadratic form
    does not depend on ``d``; checked in ``tests/runs/test_experiments.py``). Returns None
    where that Hessian is too large for a dense spectrum (tangent dimension above
    :data:`~nc_verify.landscape.spectrum.DENSE_LIMIT`).
    """
    problem = UFMProblem(K, K, n, tau)
    if problem.tangent_dimension > DENSE_LIMIT:
        return None
    W, H = etf_point(K, K, n)
    eigenvalues = symmetric_eigh(hessian_matrix(problem, W, H), eigvals_only=True)
    return spectrum_summary(problem, eigenvalues)["sigma"]


def reach_state(problem: UFMProblem, cost: float, gradient_norm: float, mu, bound=None) -> tuple:
    """Whether one optimiser run reached Theorem 1's bound: ``(state, resolution, reason)``.

    ``bound``: the value compared with (default ``problem.bound``; :func:`verify_theorem1`
    passes an alternative bound it is testing).

    * "FAIL" -- the bound is beaten (``f - bound < -``:func:`cost_resolution`), or the run
      stopped above it by more than its stopping gradient ``g`` accounts for.
    * "pass" -- ``f - bound <= REACH_RTOL * bound`` (:data:`REACH_RTOL`).
    * "undecided" -- above that, but within :func:`gap_resolution` ``= cost rounding +
      g^2 / mu``, the cost a point with gradient ``g`` can lie above a minimum whose
      smallest non-zero curvature is ``mu`` (:func:`etf_curvature`): the run's stopping
      tolerance cannot tell its cost from the bound. At large ``tau`` the bound is
      ``~ (K-1) exp(-K tau/(K-1))`` (5e-48 at ``K = 10``, ``tau = 100``) and ``mu`` is as
      small, so an absolute gradient tolerance of 1e-10 resolves nothing near the bound.
      Also undecided where ``mu`` could not be computed (None).

    The resolution returned is the limit the gap was compared with.
    """
    bound = problem.bound if bound is None else float(bound)
    gap = cost - bound
    below = cost_resolution(problem, bound)
    if gap < -below:
        return FAIL, below, f"below the bound by {-gap:.2e} (rounding {below:.1e})"
    reach = REACH_RTOL * bound
    if gap <= reach:
        return PASS, reach, f"reached (gap {gap:.1e} <= {REACH_RTOL:g} x bound)"
    if mu is None:
        return UNDECIDED, float("nan"), "stopped above the bound; the minimum's curvature was not computed"
    resolution = gap_resolution(problem, cost, bound, gradient_norm, mu)
    if gap <= resolution:
        return UNDECIDED, resolution, (f"stopped at ||grad f|| = {gradient_norm:.1e}, which resolves f - bound only "
                                       f"to {resolution:.1e} (curvature {mu:.1e}): gap {gap:.1e} within it")
    return FAIL, resolution, (f"stopped {gap:.1e} above the bound, beyond what its gradient {gradient_norm:.1e} "
                              f"accounts for ({resolution:.1e})")


@dataclass
class Theorem1Report(Report):
    """Evidence gathered by :func:`verify_theorem1`.

    ``gap`` always means ``f - bound``; ``resolution`` is :func:`cost_resolution` at the bound.
    ``optimised`` holds one dict per optimiser run (optimizer, gap, gradient_norm,
    iterations, nc1, nc2, nc3, stopping_reason, warnings).

    Decision rules (rows): the bound is beaten (FAIL) only by a gap below ``-resolution``.
    An optimised point whose NC metrics exceed their tolerances FAILS the NC row only
    if its cost equals the bound to within the resolution (Theorem 1's equality case);
    a point resolved above the bound (a flat landscape, tiny ``tau``, where the
    optimiser stops at its gradient tolerance far from the minimum set) makes the row
    undecided.  An optimiser that stopped on a non-finite step (pymanopt's line search
    when the cost no longer changes in float64, huge ``tau``) makes "optimisers reach the
    bound" undecided if it did not reach it.  A run above the bound is judged by
    :func:`reach_state`: FAIL only when its gap exceeds what its stopping gradient can
    account for near the minimum set (``curvature``: the ETF's smallest non-zero Hessian
    eigenvalue, computed when a run stopped above the bound); undecided when it is within
    that resolution (large ``tau``: bound and curvature are both ~ exp(-tau)).
    """

    d: int
    K: int
    n: int
    tau: float
    bound: float
    resolution: float
    random_min_gap: float = float("nan")
    optimised: list = field(default_factory=list)
    etf_gap: float = float("nan")
    etf_metrics: dict = field(default_factory=dict)
    off_nc_gaps: dict = field(default_factory=dict)
    curvature: float | None = None

    @property
    def bound_underflows(self) -> bool:
        """:func:`bound_underflows` at this report's ``K`` and ``tau``."""
        return bound_underflows(self.K, self.tau)

    def rows(self):
        """One :class:`~nc_verify.utils.reports.Row` per claim (see the class docstring)."""
        rows = self._rows()
        if not self.bound_underflows:
            return rows
        why = (f"; undecidable in float64: the bound's term (K-1) exp(-K tau/(K-1)) underflows at tau = "
               f"{self.tau:g}, so costs near the bound cannot be compared")
        near_bound = ("Thm 1: optimisers reach the bound", "Thm 1: optimised points satisfy NC1-NC3",
                      "Thm 1: simplex ETF attains the bound", "Thm 1: points off NC cost strictly more")
        return [replace(r, state=UNDECIDED, reason=r.reason + why) if r.name in near_bound and r.state is not PASS
                else r for r in rows]

    def _rows(self):
        res = self.resolution
        opt_gaps = np.array([r["gap"] for r in self.optimised])
        reach_tol = REACH_RTOL * self.bound
        problem = UFMProblem(self.d, self.K, self.n, self.tau)
        reach = [reach_state(problem, self.bound + r["gap"], r["gradient_norm"], self.curvature, bound=self.bound)
                 for r in self.optimised]
        broke = ["non-finite" in r.get("stopping_reason", "") for r in self.optimised]
        # a run that broke on a non-finite step proves nothing either way
        reach_states = [UNDECIDED if b and s is not PASS else s for b, (s, _, _) in zip(broke, reach)]
        reach_notes = "; ".join(
            f"{len(runs)} run{'s' if len(runs) > 1 else ''} {state} (first, {runs[0][0]['optimizer']}: {runs[0][1]})"
            for state in (FAIL, UNDECIDED)
            for runs in [[(r, why) for r, (_, _, why), st in zip(self.optimised, reach, reach_states) if st is state]]
            if runs)
        nc_bad = [not (r["nc1"] <= NC1_TOL and r["nc2"] <= NC23_TOL and r["nc3"] <= NC23_TOL) for r in self.optimised]
        nc_resolved_bad = [bad and abs(r["gap"]) <= res for bad, r in zip(nc_bad, self.optimised)]
        worst_nc = max((max(r["nc2"], r["nc3"]) for r in self.optimised), default=float("nan"))
        nc_text = f"max NC1 {max(r['nc1'] for r in self.optimised):.1e}, max NC2/NC3 {worst_nc:.1e}"
        if any(nc_bad) and not any(nc_resolved_bad):
            nc_text += (f"; the runs off NC stopped above the bound (gap up to {np.max(opt_gaps):.1e} > resolution "
                        f"{res:.1e}): a flat landscape leaves them far from the minimum set")
        off = self.off_nc_gaps.values()
        return [
            Row("Thm 1: bound never beaten (random points)", state_of(self.random_min_gap >= -res),
                f"min gap {self.random_min_gap:.3e} (resolution {res:.1e})",
                value=self.random_min_gap, tolerance=res, margin=ratio(self.random_min_gap, res)),
            Row("Thm 1: bound never beaten (optimised points)", state_of(bool(np.all(opt_gaps >= -res))),
                f"min gap {np.min(opt_gaps):.3e} over {len(opt_gaps)} runs",
                value=float(np.min(opt_gaps)), tolerance=res, margin=ratio(float(np.min(opt_gaps)), res)),
            Row("Thm 1: optimisers reach the bound", combine(reach_states),
                f"max gap {np.max(opt_gaps):.3e} (tol {REACH_RTOL:g} x bound); "
                + _runs_text(self.optimised)
                + next((f"; {r['optimizer']}: {r['stopping_reason']}" for b, r in zip(broke, self.optimised) if b), "")
                + (f"; {reach_notes}" if reach_notes else ""),
                value=float(np.max(opt_gaps)), tolerance=reach_tol, margin=ratio(float(np.max(opt_gaps)), reach_tol)),
            Row("Thm 1: optimised points satisfy NC1-NC3",
                FAIL if any(nc_resolved_bad) else (UNDECIDED if any(nc_bad) else PASS), nc_text,
                value=worst_nc, tolerance=NC23_TOL, margin=ratio(worst_nc, NC23_TOL)),
            Row("Thm 1: simplex ETF attains the bound", state_of(abs(self.etf_gap) <= res),
                f"gap {self.etf_gap:.2e} (resolution {res:.1e})",
                value=self.etf_gap, tolerance=res, margin=ratio(abs(self.etf_gap), res)),
            Row("Thm 1: points off NC cost strictly more", _off_nc_state(off, res),
                ", ".join(f"{k} {v:.2e}" for k, v in self.off_nc_gaps.items()),
                value=min(off, default=float("nan")), tolerance=res,
                margin=ratio(min(off, default=float("nan")), res)),
        ]


def _off_nc_state(gaps, res):
    """Points off NC: pass when every gap is resolved above 0, FAIL when one is resolved below, else undecided."""
    gaps = list(gaps)
    if all(g > res for g in gaps):
        return PASS
    return FAIL if any(g < -res for g in gaps) else UNDECIDED


def _off_nc_points(problem: UFMProblem, rng):
    """Points that violate exactly one of NC1, NC2, NC3 (starting from the ETF minimiser)."""
    d, K, n = problem.d, problem.K, problem.n
    W, H = etf_point(d, K, n, rng)
    out = {}
    # NC1 broken: one feature rotated by 0.3 rad towards a direction orthogonal to it.
    H1 = H.copy()
    v = rng.standard_normal(d)
    v -= (v @ H1[:, 0]) * H1[:, 0]
    v /= np.linalg.norm(v)
    H1[:, 0] = np.cos(0.3) * H1[:, 0] + np.sin(0.3) * v
    out["NC1 broken"] = (W, H1)
    # NC2 broken: orthonormal classifiers (not a simplex ETF) with collapsed, self-dual features.
    Q = np.linalg.qr(rng.standard_normal((d, K)))[0]
    out["NC2 broken"] = (Q, np.repeat(Q, n, axis=1))
    # NC3 broken: features form an ETF but class k's classifier is class k+1's mean.
    out["NC3 broken"] = (np.roll(W, 1, axis=1), H)
    return out


def _runs_text(runs) -> str:
    """Every optimiser run in one phrase: per optimiser the number of runs and their iterations."""
    by = {}
    for r in runs:
        by.setdefault(r["optimizer"], []).append(int(r["iterations"]))
    return "; ".join(f"{name} {len(its)} run{'s' if len(its) > 1 else ''}, "
                     + (f"{min(its)}-{max(its)}" if min(its) < max(its) else f"{its[0]}") + " it"
                     for name, its in by.items())


def verify_theorem1(d, K, n, tau, *, trials=3, random_points=200, seed=0, bound=None) -> Theorem1Report:
    """Check Theorem 1 numerically at one size.

    Evidence gathered: (i) the bound is never beaten at ``random_points`` uniformly
    random points nor at optimised points; (ii) trust regions (gradient tolerance
    1e-10) and steepest descent (1e-8) from ``trials`` random starts each reach it,
    and their points satisfy NC1-NC3 within stated tolerances; (iii) a randomly
    rotated simplex ETF with ``h_{k,i} = w_k`` attains it to rounding; (iv) points
    violating NC1, NC2 or NC3 alone cost strictly more than the bound.

    Parameters
    ----------
    d, K, n : int
        Sizes; Theorem 1 needs ``d >= K``.
    tau : float
        Temperature.
    trials : int
        Random starts per optimiser.
    random_points : int
        Random points for (i).
    seed : int
        Seed of every random choice.
    bound : float, optional
        Compare against this value instead of Theorem 1's bound (to test an
        alternative or conjectured formula; a wrong bound fails the checks).

    Returns
    -------
    Theorem1Report
        ``holds`` is True iff every row passes; ``state`` combines the rows
        (:func:`~nc_verify.utils.reports.combine`).
    """
    problem = UFMProblem(d, K, n, tau)
    if problem.d < problem.K:
        raise ValueError(f"Theorem 1 assumes d >= K; got d={problem.d}, K={problem.K}")
    trials = check_int(trials, "trials", 1)
    random_points = check_int(random_points, "random_points", 1)
    rng = as_rng(seed)
    bound = problem.bound if bound is None else float(bound)
    rep = Theorem1Report(problem.d, problem.K, problem.n, problem.tau, bound, cost_resolution(problem, bound))

    rep.random_min_gap = min(problem.cost(*problem.random_point(rng)) - bound for _ in range(random_points))

    for optimizer, tol in (("trust_regions", TR_GRADIENT_TOL), ("steepest_descent", SD_GRADIENT_TOL)):
        for _ in range(trials):
            res = solve(problem, optimizer, seed=rng, gradient_tol=tol, max_iterations=20000)
            m = nc_metrics(res.W, res.H, problem.labels)
            rep.optimised.append(
                {"optimizer": optimizer, "gap": res.cost - bound, "gradient_norm": res.gradient_norm,
                     "iterations": res.iterations, "nc1": m.nc1, "nc2": m.nc2, "nc3": m.nc3,
                     "stopping_reason": res.stopping_reason, "warnings": res.warnings}
            )

    if any(r["gap"] > REACH_RTOL * bound for r in rep.optimised):
        # a run above the bound is judged against what its stopping gradient can resolve
        rep.curvature = etf_curvature(problem.K, problem.n, problem.tau)
    W, H = etf_point(problem.d, problem.K, problem.n, rng)
    rep.etf_gap = problem.cost(W, H) - bound
    m = nc_metrics(W, H, problem.labels)
    rep.etf_metrics = {"nc1": m.nc1, "nc2": m.nc2, "nc3": m.nc3}
    rep.off_nc_gaps = {name: problem.cost(*pt) - bound for name, pt in _off_nc_points(problem, rng).items()}
    return rep
