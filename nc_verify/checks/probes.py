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
* every point is classified by :func:`~nc_verify.landscape.classify.classify_critical_point`
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
from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.classify import classify_critical_point
from nc_verify.landscape.newton import gradient_tolerance, newton_polish
from nc_verify.landscape.points import (
    add_distinct,
    describe_point,
)
from nc_verify.landscape.search import find_critical_points
from nc_verify.landscape.solvers import solve
from nc_verify.landscape.spectrum import DENSE_LIMIT
from nc_verify.objective.closed_forms import theorem1_bound, theorem2_assumptions_hold
from nc_verify.objective.losses import get_loss
from nc_verify.objective.problem import UFMProblem
from nc_verify.objective.protocol import blocks
from nc_verify.utils.progress import Progress
from nc_verify.utils.serialization import json_default
from nc_verify.utils.validation import (
    as_rng,
    check_finite_float,
    check_int,
    check_positive_float,
)

#: Classification kinds (:data:`nc_verify.landscape.classify.KINDS`) as probe verdicts.
PROBE_KINDS = {
    "global_minimizer": "at_best_value",
    "spurious_local_minimizer": "local_minimizer_above_best",
    "strict_saddle": "strict_saddle",
    "undecided": "undecided",
    "not_critical": "not_critical",
    "local_minimizer": "local_minimizer",
}
COUNTEREXAMPLE = "local_minimizer_above_best"
#: Largest tangent dimension at which descent end points are Newton-polished and the
#: saddle search runs by default (both form a dense Hessian at every step).
POLISH_LIMIT = 300
SUPCON = "supcon"


@dataclass
class ProbePoint:
    """One distinct critical point found by a probe.

    Attributes
    ----------
    kind : str
        A value of :data:`PROBE_KINDS`.
    reason : str
    cost, gap : float
        ``f`` and ``f - reference``.
    gradient_norm, lambda_min, resolution, margin : float
        ``margin = |lambda_min| / resolution`` (> 1: the sign of ``lambda_min`` is resolved).
    n_zero, orbit_dimension : int or None
    hits : int
        Starts that reached this point.
    sources : dict
        Hits per kind of start ("descent", "uniform", "subspace", ...).
    file : str or None
        Where a potential counterexample was saved.
    point : tuple of ndarray
        ``(W, H)`` (``(H,)`` for the supervised contrastive loss).
    """

    kind: str
    reason: str
    cost: float
    gap: float
    gradient_norm: float
    lambda_min: float
    resolution: float
    margin: float
    n_zero: object
    orbit_dimension: int
    hits: int
    sources: dict
    point: tuple = field(repr=False)
    file: object = None

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in (
            "kind", "reason", "cost", "gap", "gradient_norm", "lambda_min", "resolution", "margin",
            "n_zero", "orbit_dimension", "hits", "sources", "file")}
        return out


@dataclass
class ProbeReport:
    """Result of :func:`probe` (see the module docstring).

    Attributes
    ----------
    d, K, n, tau, loss, seed, n_starts, search_starts
        The inputs (``loss`` as its spec string).
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
    points : list of ProbePoint
    """

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

    @property
    def counterexamples(self) -> list:
        """Points flagged as potential counterexamples."""
        return [p for p in self.points if p.kind == COUNTEREXAMPLE]

    @property
    def saddles(self) -> list:
        return [p for p in self.points if p.kind == "strict_saddle"]

    @property
    def worst_saddle(self):
        """The strict saddle with the least negative ``lambda_min`` (None without saddles)."""
        s = self.saddles
        return max(s, key=lambda p: p.lambda_min) if s else None

    @property
    def verdict(self) -> str:
        """"potential counterexample", "undecided" or "no counterexample found".

        "undecided" when some point is unresolved, or when no critical point was
        resolved at the best value (the descents did not converge to rounding level:
        the lowest point seen is then not known to be a minimiser).
        """
        if self.counterexamples:
            return "potential counterexample"
        if any(p.kind in ("undecided", "not_critical", "local_minimizer") for p in self.points):
            return "undecided"
        if not any(p.kind == "at_best_value" for p in self.points):
            return "undecided"
        return "no counterexample found"

    def figures(self) -> dict:
        """The numbers a sweep records for this probe (JSON-ready scalars)."""
        w = self.worst_saddle
        kinds = [p.kind for p in self.points]
        return {
            "verdict": self.verdict, "best_value": self.best_value, "reference": self.reference,
            "theorem1_bound": self.theorem1_bound, "theorem2_regime": self.theorem2_regime,
            "n_points": len(self.points), "n_at_best": kinds.count("at_best_value"),
            "n_saddles": kinds.count("strict_saddle"), "n_undecided": kinds.count("undecided"),
            "n_counterexamples": kinds.count(COUNTEREXAMPLE),
            "worst_saddle_lambda": None if w is None else w.lambda_min,
            "worst_saddle_margin": None if w is None else w.margin,
            "counterexample_files": [p.file for p in self.counterexamples],
        }

    def rows(self):
        """``(kind, cost, gap, lambda_min, margin, hits)`` per point, lowest cost first."""
        return [(p.kind, f"{p.cost:.10g}", f"{p.gap:.3e}", f"{p.lambda_min:.3e}", f"{p.margin:.3g}", p.hits)
                for p in sorted(self.points, key=lambda p: p.cost)]

    def as_dict(self) -> dict:
        return {
            "d": self.d, "K": self.K, "n": self.n, "tau": self.tau, "loss": self.loss, "seed": self.seed,
            "n_starts": self.n_starts, "search_starts": self.search_starts,
            "descent_costs": self.descent_costs, **self.figures(),
            "points": [p.as_dict() for p in self.points],
        }


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
    """Save a point exactly: ``np.savez`` with float64 arrays and the metadata as JSON.

    Writes ``path`` (``.npz``: arrays ``W``, ``H`` -- or ``H`` alone for the
    supervised contrastive loss -- and ``metadata``, a JSON string) and the same
    metadata next to it as ``.json``.  Returns the ``.npz`` path.
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    meta = {"d": problem.d, "K": problem.K, "n": problem.n, "tau": problem.tau,
            "loss": _loss_spec(problem), **metadata}
    text = json.dumps(meta, indent=2, default=json_default)
    names = ("H",) if len(point) == 1 else ("W", "H")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in zip(names, point)}
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    np.savez(path, metadata=np.array(text), **arrays)
    with open(path[:-4] + ".json", "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


def load_counterexample(path):
    """Load a file written by :func:`save_counterexample`: ``(problem, point, metadata)``."""
    with np.load(os.fspath(path), allow_pickle=False) as data:
        meta = json.loads(str(data["metadata"]))
        point = (data["H"],) if "W" not in data.files else (data["W"], data["H"])
        point = tuple(np.array(a, dtype=np.float64) for a in point)
    return make_problem(meta["d"], meta["K"], meta["n"], meta["tau"], meta["loss"]), point, meta


def recheck_counterexample(path):
    """Re-classify a saved point against its saved reference value; returns the classification report."""
    problem, point, meta = load_counterexample(path)
    return _classify(problem, point, meta["reference"], rng=0)


# ---------------------------------------------------------------- the probe
def _classify(problem, point, reference, rng):
    return classify_critical_point(problem, *point, reference=reference, method="dense", rng=rng)


def _descend(problem, rng, tol, max_iterations):
    """Trust regions from a uniform random point, then Newton polish (below :data:`POLISH_LIMIT`)."""
    res = solve(problem, "trust_regions", x0=blocks(problem.random_point(rng)), gradient_tol=tol,
                max_iterations=max_iterations)
    if problem.tangent_dimension > POLISH_LIMIT:
        return res.cost, res.point
    *x, _ = newton_polish(problem, *res.point)
    return res.cost, tuple(x)


def probe(d, K, n, tau, *, loss="cross_entropy", n_starts: int = 10, search_starts=None, seed=0,
          descent_tol: float = 1e-6, max_iterations: int = 200, reference=None,
          save_dir="counterexamples", progress=None) -> ProbeReport:
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
    search_starts : int, optional
        Starts of the critical-point search (Levenberg-Marquardt from structured
        starts; finds saddles).  Default ``n_starts`` up to tangent dimension 300
        (dense Hessians at every iterate; :data:`POLISH_LIMIT`), 0 above.
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

    Returns
    -------
    ProbeReport
    """
    problem = make_problem(d, K, n, tau, loss)
    n_starts = check_int(n_starts, "n_starts", 1)
    max_iterations = check_int(max_iterations, "max_iterations", 1)
    descent_tol = check_positive_float(descent_tol, "descent_tol")
    if problem.tangent_dimension > DENSE_LIMIT:
        raise ValueError(f"probe classifies with dense Hessians: tangent dimension {problem.tangent_dimension} "
                         f"exceeds {DENSE_LIMIT}; choose smaller (d, K, n)")
    if search_starts is None:
        search_starts = 0 if problem.tangent_dimension > POLISH_LIMIT else n_starts
    search_starts = check_int(search_starts, "search_starts", 0)
    if reference is not None:
        reference = check_finite_float(reference, "reference")
    rng = as_rng(seed)
    candidates, costs = [], []                 # FoundPoint records, merged modulo symmetry
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
        search = find_critical_points(problem, n_starts=search_starts, seed=rng, methods=("lm",), progress=progress)
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
        pp = ProbePoint(kind=kind, reason=reason, cost=float(rep.cost), gap=float(rep.cost - ref),
                        gradient_norm=float(rep.gradient_norm), lambda_min=float(rep.lambda_min),
                        resolution=float(rep.resolution), margin=float(rep.margin), n_zero=rep.n_zero,
                        orbit_dimension=int(rep.orbit_dimension), hits=int(hits), sources=dict(sources),
                        point=final)
        if kind == COUNTEREXAMPLE and save_dir is not None:
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
    )
