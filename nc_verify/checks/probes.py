"""Conjecture probes: the landscape outside Theorem 2's assumptions, or for other losses.

Theorem 2 covers cross-entropy with ``d > K`` and ``tau`` below its limit; there
the global minimum value is known (Theorem 1) and a check can say "every critical
point is a global minimiser or a strict saddle".  The paper conjectures the same
benign landscape for ``d <= K`` (where the minimisers are no longer simplex ETFs),
for ``tau`` past the bound and for other losses.  There is no closed-form minimum
there, so a probe is evidence, not a proof:

* "global" means the **best value found** over many descent starts (trust
  regions from uniform random points, each polished by pseudo-inverse Newton steps);
* the probe collects every distinct critical point reached by the descents and by
  the critical-point search of :func:`~nc_verify.landscape.search.find_critical_points`
  (Levenberg-Marquardt on ``||grad f||^2`` from structured starts, which also
  reaches saddles), modulo symmetry;
* every point is classified by :func:`~nc_verify.landscape.degenerate.classify_point`
  (continua by their worst member, flat points by a higher-order test)
  with the best value as reference; a point whose cost is resolved above the best
  value and whose Hessian is positive semi-definite with kernel exactly the
  rotation orbit is a **potential counterexample** (a spurious local minimiser).
  It is saved exactly (float64 arrays and metadata) so that it can be re-checked with
  :func:`recheck_counterexample`;
* the worst (least negative) saddle curvature and its margin over the numerical
  resolution are reported: a saddle whose margin is small is the nearest thing to
  a counterexample that the numerics could resolve.

Points the arithmetic cannot settle are reported as "undecided", never as a verdict.
The supervised contrastive loss (``loss="supcon"``, :mod:`nc_verify.objective.supcon`) is
probed by descent starts only (no saddle search) and classified by its dense spectrum.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from nc_verify.checks.theorem1 import bound_underflows
from nc_verify.checks.theorem2 import NOTHING_EXAMINED, examined, merged_reasons, saturation_reason
from nc_verify.landscape.degenerate import classify_point
from nc_verify.landscape.newton import gradient_tolerance, newton_polish
from nc_verify.landscape.points import (
    ClassifiedPoint,
    add_distinct,
    describe_point,
    load_point,
    save_point,
)
from nc_verify.landscape.search import DEFAULT_BATCH, DEFAULT_MAX_STARTS, find_critical_points
from nc_verify.landscape.solvers import solve
from nc_verify.landscape.spectrum import DENSE_LIMIT
from nc_verify.objective.closed_forms import theorem1_bound, theorem2_assumptions_hold
from nc_verify.objective.losses import get_loss
from nc_verify.objective.problem import UFMProblem
from nc_verify.objective.protocol import blocks
from nc_verify.utils.progress import Progress
from nc_verify.utils.reports import (
    FAIL,
    PASS,
    PROBE_WORDS,
    UNDECIDED,
    Report,
    Row,
)
from nc_verify.utils.budget import BudgetError, check_memory, dense_spectrum_bytes, search_bytes
from nc_verify.utils.serialization import dumps, json_default
from nc_verify.utils.threads import blas_threads_for
from nc_verify.utils.validation import (
    as_rng,
    check_finite_float,
    check_int,
    check_positive_float,
    check_seed,
)

#: Classification kinds (:data:`nc_verify.landscape.classify.KINDS`) as probe verdicts.
PROBE_KINDS = {
    "global_minimizer": "at_best_value",
    "spurious_local_minimizer": "local_minimizer_above_best",
    "strict_saddle": "strict_saddle",
    "undecided": "undecided",
    "not_critical": "not_critical",
    "local_minimizer": "local_minimizer",
    "degenerate_saddle": "degenerate_saddle",
}
COUNTEREXAMPLE = "local_minimizer_above_best"
#: Largest tangent dimension at which descent end points are Newton-polished and the
#: saddle search runs by default (both form a dense Hessian at every step).
POLISH_LIMIT = 300
SUPCON = "supcon"
#: Descent runs of a probe by default (the critical-point search supplies the saddles).
DEFAULT_DESCENTS = 10


@dataclass
class ProbeReport(Report):
    """Result of :func:`probe` (see the module docstring).

    Attributes
    ----------
    d, K, n, tau, loss, seed, n_starts, search_starts
        The inputs (``loss`` as its spec string; ``search_starts`` the starts the
        critical-point search used, 0 without one).
    best_value : float
        Lowest cost reached by any descent or search (an upper bound on the minimum).
    reference : float
        The value points are compared with (``best_value`` unless given).
    theorem1_bound : float or None
        Theorem 1's bound where it applies (cross-entropy; attained iff ``d >= K - 1``).
    theorem2_regime : bool
        Cross-entropy with ``d > K`` and ``tau`` below Theorem 2's limit: a theorem
        check applies there, this probe is then a consistency check.
    descent_costs : list of float
        Final cost of every descent run.
    points : list of ClassifiedPoint
        ``kind`` in the probe's words (:data:`PROBE_KINDS`), ``gap`` against ``reference``.
    search_saturated : bool
        The critical-point search's saturation rule held (False without a search).
    last_new_point_at : int
    unseen_probability : float
        The search's Good-Turing chance of a new point per start (NaN without a search).
    rarest_miss_probability : float
        The chance that a point as rare as the rarest found stays unseen after the last new point
        (:attr:`~nc_verify.landscape.search.CriticalPointSearch.rarest_miss_probability`; NaN without a search).
    underflow : bool
        Cross-entropy at a ``tau`` where Theorem 1's bound underflows
        (:func:`~nc_verify.checks.theorem1.bound_underflows`): no saddle search is run and
        the verdict is undecided.

    Rows, in a probe's words (:data:`~nc_verify.utils.reports.PROBE_WORDS`): no
    spurious local minimiser (FAIL: a potential counterexample, saved); every other
    critical point a strict saddle (FAIL: a degenerate saddle; undecided: a point the
    arithmetic cannot classify); both undecided, never pass, when no point was examined
    (:func:`~nc_verify.checks.theorem2.examined`); a critical point at the best value (undecided without
    one: the descents did not converge to rounding level); search saturated
    (undecided when not, or without a saddle search).
    """

    WORDS = PROBE_WORDS

    d: int
    K: int
    n: int
    tau: float
    loss: str
    seed: object
    n_starts: int
    search_starts: int
    best_value: float
    reference: float
    theorem1_bound: object
    theorem2_regime: bool
    descent_costs: list
    points: list
    search_saturated: bool = False
    last_new_point_at: int = 0
    unseen_probability: float = float("nan")
    underflow: bool = False
    rarest_miss_probability: float = float("nan")

    @property
    def counterexamples(self) -> list:
        """Points flagged as potential counterexamples (spurious local minimisers and degenerate saddles)."""
        return [p for p in self.points if p.kind in (COUNTEREXAMPLE, "degenerate_saddle")]

    @property
    def saddles(self) -> list:
        return [p for p in self.points if p.kind == "strict_saddle"]

    @property
    def worst_saddle(self):
        """The strict saddle with the least negative ``lambda_min`` (None without saddles)."""
        s = self.saddles
        return max(s, key=lambda p: p.lambda_min) if s else None

    def rows(self):
        """One :class:`~nc_verify.utils.reports.Row` per claim (see the class docstring)."""
        spurious = [p for p in self.points if p.kind == COUNTEREXAMPLE]
        degenerate = [p for p in self.points if p.kind == "degenerate_saddle"]
        open_ = [p for p in self.points if p.kind in ("undecided", "not_critical", "local_minimizer")]
        w = self.worst_saddle
        n = len(self.points)
        rows = [
            Row("probe: no spurious local minimiser", examined(FAIL if spurious else PASS, n),
                "; ".join(f"cost {p.cost:.12g} above the best value by {p.gap:.3g}" for p in spurious[:3])
                or (f"none among {n} distinct points" if n else NOTHING_EXAMINED)),
            Row("probe: every other critical point a strict saddle",
                examined(FAIL if degenerate else (UNDECIDED if open_ else PASS), n),
                merged_reasons([("", p.kind, p.reason) for p in degenerate + open_], limit=3)
                or (NOTHING_EXAMINED if not n else f"{len(self.saddles)} strict saddles" + ("" if w is None else
                    f", worst lambda_min {w.lambda_min:.3e} (margin {w.margin:.3g}x resolution)")),
                value=None if w is None else w.lambda_min, margin=None if w is None else w.margin),
            Row("probe: a critical point at the best value",
                PASS if any(p.kind == "at_best_value" for p in self.points) else UNDECIDED,
                f"best value {self.best_value:.12g}" + ("" if any(p.kind == "at_best_value" for p in self.points)
                                                         else "; no point critical to rounding level there")),
            Row("probe: search saturated", PASS if self.search_saturated else UNDECIDED,
                saturation_reason(self.search_saturated, self.last_new_point_at, self.search_starts,
                                  self.unseen_probability, self.rarest_miss_probability) if self.search_starts
                else (f"no critical-point search: at tau = {self.tau:g} the softmax saturates ((K-1) exp(-K tau/(K-1)) "
                      "underflows in float64) and critical points cannot be told apart" if self.underflow
                      else "no critical-point search (descent starts only): saddles were not searched for"),
                value=self.unseen_probability),
        ]
        return rows

    def figures(self) -> dict:
        """The numbers a sweep records for this probe (JSON-ready scalars)."""
        w = self.worst_saddle
        kinds = [p.kind for p in self.points]
        return {
            "state": self.state.value, "verdict": self.verdict, "best_value": self.best_value,
            "reference": self.reference, "theorem1_bound": self.theorem1_bound,
            "theorem2_regime": self.theorem2_regime, "search_saturated": self.search_saturated,
            "unseen_probability": self.unseen_probability,
            "n_points": len(self.points), "n_at_best": kinds.count("at_best_value"),
            "n_saddles": kinds.count("strict_saddle"), "n_undecided": kinds.count("undecided"),
            # every potential counterexample: local minimisers above the best value and degenerate saddles
            "n_counterexamples": len(self.counterexamples), "n_spurious_minimizers": kinds.count(COUNTEREXAMPLE),
            "n_degenerate_saddles": kinds.count("degenerate_saddle"),
            "worst_saddle_lambda": None if w is None else w.lambda_min,
            "worst_saddle_margin": None if w is None else w.margin,
            "counterexample_files": [p.file for p in self.counterexamples],
        }

    def point_rows(self):
        """``(kind, cost, gap, lambda_min, margin, hits)`` per point, lowest cost first."""
        return [(p.kind, f"{p.cost:.10g}", f"{p.gap:.3e}", f"{p.lambda_min:.3e}", f"{p.margin:.3g}", p.hits)
                for p in sorted(self.points, key=lambda p: p.cost)]


def make_problem(d, K, n, tau, loss="cross_entropy"):
    """``UFMProblem(d, K, n, tau, loss=loss)``, or a :class:`~nc_verify.objective.supcon.SupConProblem` for ``loss="supcon"``."""
    if isinstance(loss, str) and loss.strip() == SUPCON:
        from nc_verify.objective.supcon import SupConProblem

        return SupConProblem(d, K, n, tau)
    return UFMProblem(d, K, n, tau, loss=get_loss(loss))


def _loss_spec(problem) -> str:
    return SUPCON if not isinstance(problem, UFMProblem) else problem.loss.spec


# ------------------------------------------------------------------ saving
def save_counterexample(path, problem, point, metadata: dict) -> str:
    """Save a point exactly in the one ``.npz`` point format (:func:`~nc_verify.landscape.points.save_point`).

    The metadata (sizes, loss, reference value, ...) goes into the file and, for
    people, next to it as ``.json``.  For the supervised contrastive loss (``point =
    (H,)``, no classifiers) the archive holds ``H`` and the metadata alone.
    Returns the ``.npz`` path.
    """
    meta = {"d": problem.d, "K": problem.K, "n": problem.n, "tau": problem.tau,
            "loss": _loss_spec(problem), **metadata}
    if len(point) == 1:                      # supcon: features only, same archive layout otherwise
        path = os.fspath(path)
        path = path if path.endswith(".npz") else path + ".npz"
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        np.savez(path, metadata=np.array(json.dumps(meta, default=json_default)),
                 H=np.asarray(point[0], dtype=np.float64))
    else:
        path = save_point(path, *point, metadata=meta)
    with open(path[:-4] + ".json", "w", encoding="utf-8") as fh:
        fh.write(dumps(meta, indent=2) + "\n")          # strict JSON (NaN as null with a note)
    return path


def load_counterexample(path):
    """Load a file written by :func:`save_counterexample`: ``(problem, point, metadata)``."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            features_only = "W" not in data.files and "H" in data.files
            H = np.array(data["H"], dtype=np.float64) if features_only else None
            meta = json.loads(str(data["metadata"])) if features_only else None
    except (OSError, ValueError, EOFError):
        features_only = False
    if features_only:
        point = (H,)
    else:
        W, H, _, meta = load_point(path)
        point = (W, H)
    if not {"d", "K", "n", "tau", "loss"} <= set(meta):
        raise ValueError(f"{path!r} is a point file without a counterexample's metadata (d, K, n, tau, loss)")
    return make_problem(meta["d"], meta["K"], meta["n"], meta["tau"], meta["loss"]), point, meta


def recheck_counterexample(path):
    """Re-classify a saved point against its saved reference value; returns the classification report."""
    problem, point, meta = load_counterexample(path)
    return _classify(problem, point, meta["reference"], rng=0)


# ---------------------------------------------------------------- the probe
def _classify(problem, point, reference, rng):
    return classify_point(problem, *point, reference=reference, method="dense", rng=rng)


def _descend(problem, rng, tol, max_iterations):
    """Trust regions from a uniform random point, then Newton polish (below :data:`POLISH_LIMIT`)."""
    res = solve(problem, "trust_regions", x0=blocks(problem.random_point(rng)), gradient_tol=tol,
                max_iterations=max_iterations)
    if problem.tangent_dimension > POLISH_LIMIT:
        return res.cost, res.point
    *x, _ = newton_polish(problem, *res.point)
    return res.cost, tuple(x)


def probe(d, K, n, tau, *, loss="cross_entropy", n_starts: int = DEFAULT_DESCENTS, search_starts=None, seed=0,
          descent_tol: float = 1e-6, max_iterations: int = 200, reference=None,
          save_dir="counterexamples", progress=None, max_starts: int = DEFAULT_MAX_STARTS) -> ProbeReport:
    """Probe the landscape at ``(d, K, n, tau)`` for a loss (see the module docstring).

    Parameters
    ----------
    d, K, n : int
    tau : float
    loss : str or loss object
        A spec of :func:`nc_verify.objective.losses.get_loss` (``"cross_entropy"``,
        ``"label_smoothing:0.1"``, ``"focal:2"``, ``"mse"``), a loss object, or
        ``"supcon"`` (:mod:`nc_verify.objective.supcon`; needs ``n >= 2``).
    n_starts : int
        Descent runs (trust regions to ``descent_tol``, at most ``max_iterations``
        iterations, then Newton polish) from uniform random points.
    search_starts : int, "auto" or None
        Starts of the critical-point search (Levenberg-Marquardt from structured
        starts; finds saddles).  "auto": until saturated (at most ``max_starts``).  None (default):
        "auto" up to tangent dimension 300 (dense Hessians at every iterate;
        :data:`POLISH_LIMIT`), 0 above.  Without a saturated search the verdict is
        "undecided".
    seed : int, Generator or None
    descent_tol : float
        Gradient-norm target of the descent runs; the polish then takes the point to
        rounding level (only points critical to rounding level are classified).
    reference : float, optional
        Compare with this value instead of the best value found (e.g. a conjectured
        minimum value; a reference below the true minimum flags every minimiser).
    save_dir : path or None
        Directory for potential counterexamples (created when one is found); None: keep in memory only.
    progress : bool or None
        Progress bar on stderr (default: when stderr is a terminal).
    max_starts : int
        Cap of an "auto" search (:data:`~nc_verify.landscape.search.DEFAULT_MAX_STARTS`); it is then
        undecided if not saturated before.

    Returns
    -------
    ProbeReport
    """
    with blas_threads_for(make_problem(d, K, n, tau, loss)):
        return _probe(d, K, n, tau, loss=loss, n_starts=n_starts, search_starts=search_starts, seed=seed,
                      descent_tol=descent_tol, max_iterations=max_iterations, reference=reference,
                      save_dir=save_dir, progress=progress, max_starts=max_starts)


def _probe(d, K, n, tau, *, loss="cross_entropy", n_starts: int = 10, search_starts=None, seed=0,
          descent_tol: float = 1e-6, max_iterations: int = 200, reference=None,
          save_dir="counterexamples", progress=None, max_starts: int = DEFAULT_MAX_STARTS):
    problem = make_problem(d, K, n, tau, loss)
    n_starts = check_int(n_starts, "n_starts", 1)
    max_iterations = check_int(max_iterations, "max_iterations", 1)
    max_starts = check_int(max_starts, "max_starts", 1)
    descent_tol = check_positive_float(descent_tol, "descent_tol")
    check_seed(seed)
    T = problem.tangent_dimension
    if T > DENSE_LIMIT:
        raise BudgetError(f"probe classifies with dense Hessians: tangent dimension {T} "
                          f"exceeds {DENSE_LIMIT} (dense eigh beyond a second per point); choose smaller (d, K, n)")
    check_memory(search_bytes(T, DEFAULT_BATCH) if T <= POLISH_LIMIT else dense_spectrum_bytes(T),
                 f"probe at tangent dimension {T}")
    underflow = (isinstance(problem, UFMProblem) and problem.loss.spec == "cross_entropy"
                 and bound_underflows(problem.K, problem.tau))
    if underflow:
        search_starts = 0        # nothing a search finds there is resolvable (see ProbeReport.underflow)
    if search_starts is None:
        search_starts = 0 if problem.tangent_dimension > POLISH_LIMIT else "auto"
    if search_starts != "auto":
        search_starts = check_int(search_starts, "search_starts", 0)
    if reference is not None:
        reference = check_finite_float(reference, "reference")
    rng = as_rng(seed)

    candidates, costs = [], []                 # FoundPoint records, merged modulo symmetry
    if problem.tangent_dimension <= POLISH_LIMIT:
        # the exact critical points the problem knows (problem (4): the families; SupCon: the
        # collapsed ETF): they hold the continua whose worst members a random search rarely
        # reaches (W = u 1^T, H = v 1^T)
        known = getattr(problem, "known_critical_points", None)
        for x in (known().values() if known is not None else ()):
            found = describe_point(problem, *blocks(x))
            # problem (4)'s families are critical for cross-entropy; for another loss only some are
            if found.gradient_norm <= gradient_tolerance(
                    problem, *found.point, hessian_norm=float(np.max(np.abs(found.invariants["hessian"])))):
                add_distinct(candidates, found, "family")
    with Progress(n_starts, "probe: descents", enabled=progress) as bar:
        for _ in range(n_starts):
            cost, point = _descend(problem, rng, descent_tol, max_iterations)
            costs.append(float(cost))
            found = describe_point(problem, *point)
            tol = gradient_tolerance(problem, *found.point,
                                     hessian_norm=float(np.max(np.abs(found.invariants["hessian"]))))
            if found.gradient_norm <= tol:
                add_distinct(candidates, found, "descent")
            bar.update(postfix=f"best {min(costs):.10g}")
    if search_starts:
        search = find_critical_points(problem, n_starts=None if search_starts == "auto" else search_starts,
                                      seed=rng, methods=("lm",), max_starts=max_starts, progress=progress)
        search_starts = search.n_starts
        for q in search.points:
            add_distinct(candidates, q)
    found_costs = [c.cost for c in candidates]
    entries = [(c.point, c.hits, c.sources) for c in candidates]
    best = float(min(costs + found_costs))
    ref = best if reference is None else reference

    points = []
    for point, hits, sources in entries:
        rep = _classify(problem, point, ref, rng)
        kind = PROBE_KINDS[rep.kind]
        reason = rep.reason if kind != "at_best_value" else "cost equals the reference value to within its resolution"
        final = rep.point
        pp = ClassifiedPoint(report=rep, hits=int(hits), sources=dict(sources), kind=kind, reason=reason)
        if kind in (COUNTEREXAMPLE, "degenerate_saddle") and save_dir is not None:
            name = (f"counterexample_{_loss_spec(problem).replace(':', '-')}_d{problem.d}_K{problem.K}"
                    f"_n{problem.n}_tau{problem.tau:g}_seed{seed if isinstance(seed, int) else 'rng'}_{len(points)}")
            pp.file = save_counterexample(os.path.join(os.fspath(save_dir), name), problem, final, {
                "reference": ref, "best_value": best, "cost": pp.cost, "lambda_min": pp.lambda_min,
                "resolution": pp.resolution, "n_zero": pp.n_zero, "orbit_dimension": pp.orbit_dimension,
                "gradient_norm": pp.gradient_norm, "reason": reason, "seed": seed if isinstance(seed, int) else None,
                "spectrum": rep.spectrum,
            })
        points.append(pp)

    ufm_ce = isinstance(problem, UFMProblem) and problem.bound is not None
    t1 = theorem1_bound(problem.K, problem.tau) if ufm_ce else None
    regime = ufm_ce and theorem2_assumptions_hold(problem.d, problem.K, problem.tau)
    return ProbeReport(
        d=problem.d, K=problem.K, n=problem.n, tau=problem.tau, loss=_loss_spec(problem),
        seed=seed if isinstance(seed, int) or seed is None else "generator", n_starts=n_starts,
        search_starts=search_starts, best_value=best, reference=ref, theorem1_bound=t1,
        theorem2_regime=regime, descent_costs=costs, points=points,
        search_saturated=bool(search_starts and search.saturated),
        last_new_point_at=search.last_new_point_at if search_starts else 0,
        unseen_probability=search.unseen_probability if search_starts else float("nan"), underflow=underflow,
        rarest_miss_probability=search.rarest_miss_probability if search_starts else float("nan"),
    )
