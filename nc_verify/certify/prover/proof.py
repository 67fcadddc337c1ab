"""Proof objects of the landscape prover: run, save/load (JSON), re-check in flint balls.

A *proof* of "every critical point of problem (4) is a global minimiser or a strict
saddle" at ``(K, n, tau)`` (and ``d``) consists of

* the reductions used (``docs/prover.md``, Lemmas 1-4), recorded with their hypotheses;
* the planar chart and its domain (recomputed by the checker from ``K, n, tau``);
* the leaves of a bisection tree of the domain, each with the discard test that
  holds on it and the float data the test needs (a row, a direction, a matrix).

:func:`check_landscape_proof` trusts none of the numbers in the file: it rebuilds
every leaf's box from its bisection path, checks that the paths form a complete
tree (so the leaves cover the domain), checks the hypotheses of the reductions
and re-evaluates every leaf's test in ``flint.arb`` balls.
"""

from __future__ import annotations

import json
import math
import numbers
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from nc_verify.objective.closed_forms import theorem2_tau_limit

from . import enclosures as E
from .bnb import TESTS, box_center, path_step, run_bnb, split_point
from .chart import PlanarChart, SphereChart
from .intervals import FlintBackend

FORMAT = "nc-verify/landscape-proof/1"
DEFAULT_MAX_BOXES = 400_000
DEFAULT_MIN_WIDTH = 1e-7
DEFAULT_BATCH = 2048

REDUCTIONS_EVERY_D = [
    {"name": "Lemma 1 (span)",
     "statement": "K = 2, columns of grad g(M) never zero: at a critical point with w_1 != w_2 every h_j "
                  "lies in span(w_1, w_2); all columns lie in one 2-plane S."},
    {"name": "Lemma 2 (embedding, block structure)",
     "statement": "A configuration in a 2-plane S of R^d (d >= 3) is critical iff it is critical for the "
                  "planar problem; its Riemannian Hessian is block diagonal: the planar Hessian (chart "
                  "Hessian) and d - 2 copies of the normal block [[-diag(rowc), tau G], [tau G^T, -diag(colc)]]."},
    {"name": "Lemma 3 (stratum w_1 = w_2)",
     "statement": "K = 2, shift-invariant loss with psi'(0) != 0, d >= 3: every critical point with "
                  "w_1 = w_2 is a strict saddle (explicit direction; no box needed)."},
    {"name": "Lemma 4 (chart)",
     "statement": "Every planar configuration is O(2)-equivalent to one with alpha_1 = 0, alpha_2 in [0, pi]; "
                  "f and the critical-point types are O(d)-invariant."},
    {"name": "Lemma 5 (global minimiser)",
     "statement": "f attains its minimum on the compact manifold at a critical point with PSD Hessian; every "
                  "such point lies in an etf_convex box, whose only critical point is the ETF slice point "
                  "(a critical point: all sin(alpha_k - phi_j) vanish there exactly). So the ETF orbit is "
                  "the set of global minimisers and every other critical point is a strict saddle."},
]
REDUCTIONS_PLANAR = [REDUCTIONS_EVERY_D[3], REDUCTIONS_EVERY_D[4]]
LEMMA7 = {"name": "Lemma 7 (rank-3 chart, K = 3)",
          "statement": "Every configuration in R^3 is O(3)-equivalent to one with w_1 = e_1, w_2 = (cos p, sin p, 0), "
                       "p in [0, pi], w_3 with z >= 0, every other column in spherical coordinates; for F = f o phi, "
                       "dF != 0 excludes a critical point, v^T d2F v < 0 at a critical point is a negative Hessian "
                       "eigenvalue, and F strictly convex on a box has at most one critical point."}
REDUCTIONS_K3 = [
    {"name": "Lemma 1' (span, every K)",
     "statement": "Shift-invariant loss with G_kj > 0 off target: at a critical point either W = w 1^T or every h_j "
                  "lies in span(W); all columns lie in a subspace of dimension <= K."},
    {"name": "Lemma 2 (embedding, block structure)",
     "statement": "A configuration in a 3-space S of R^d (d >= 4) is critical iff it is critical for the d = 3 "
                  "problem in S; its Hessian is that problem's Hessian plus d - 3 copies of the normal block."},
    {"name": "Lemma 3' (stratum W = w 1^T, every K)",
     "statement": "Shift-invariant loss, symmetric off target with G_kj != 0 at equal logits, d >= 3: every critical "
                  "point with all classifiers equal is a strict saddle (explicit direction)."},
    LEMMA7, REDUCTIONS_EVERY_D[4]]
REDUCTIONS_K3_D3 = [LEMMA7, REDUCTIONS_EVERY_D[4]]
REDUCTIONS_RANK2 = [
    {"name": "Lemma 2 (embedding, block structure)", "statement": REDUCTIONS_EVERY_D[1]["statement"]},
    {"name": "Lemma 4 (chart)", "statement": "Every planar configuration is O(2)-equivalent to one with "
                                             "alpha_1 = 0, alpha_2 in [0, pi]; f and the critical-point types "
                                             "are O(d)-invariant."},
    {"name": "Lemma 6 (rank <= 2 stratum, K = 3)",
     "statement": "Only configurations whose columns lie in one 2-plane are covered: every such critical "
                  "point, in every d >= 3, is in an etf_convex box (the ETF orbit, the global minimisers by "
                  "Theorem 1) or a strict saddle. Rank-3 configurations (chart on (S^2)^(K+N) mod O(3)) are "
                  "NOT covered, so the dichotomy for all critical points is not proved."},
]
STRATA = {"all": "every configuration", "rank<=2": "configurations whose columns span at most a 2-plane"}
NOT_COVERED = {"rank<=2": "the configurations whose columns span a 3-space (rank 3)"}


# ================================================================ validation
def _check_int(x, name, lo, hi=None):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    x = int(x)
    if x < lo or (hi is not None and x > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {rng}, got {x}")
    return x


def _check_tau(tau):
    def one(t, nm):
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Real):
            raise TypeError(f"{nm} must be a real number, got {type(t).__name__} {t!r}")
        t = float(t)
        if not (math.isfinite(t) and t > 0):
            raise ValueError(f"{nm} must be finite and > 0, got {t!r}")
        return t
    if isinstance(tau, (tuple, list, np.ndarray)):
        if len(tau) != 2:
            raise ValueError(f"tau as an interval must be (lo, hi), got {tau!r}")
        lo, hi = one(tau[0], "tau[0]"), one(tau[1], "tau[1]")
        if lo > hi:
            raise ValueError(f"tau interval must have lo <= hi, got {tau!r}")
        return lo, hi
    t = one(tau, "tau")
    return t, t


def _setup(K, n, tau, d, loss, stratum="all"):
    K = _check_int(K, "K", 2, 3)
    n = _check_int(n, "n", 1, 6)
    tlo, thi = _check_tau(tau)
    if d is not None:
        d = _check_int(d, "d", 2)
    enc = E.prover_loss(loss)
    if stratum not in STRATA:
        raise ValueError(f"stratum must be one of {sorted(STRATA)}, got {stratum!r}")
    every_d = d is None or d >= 3
    if stratum != "all" and not (K == 3 and every_d):
        raise ValueError("the rank <= 2 stratum is a K = 3, d >= 3 option")
    if K * n > 8:
        raise ValueError(f"K*n must be <= 8 for the prover, got {K * n}")
    # the reduction lemmas (1/1', 3/3') are used for K = 2, d >= 3 and K = 3, d >= 4 (d = None);
    # K = 3, d = 3 is the whole problem in the sphere chart, and the rank <= 2 stratum needs Lemma 2 only
    reduce_ = every_d and stratum == "all" and not (K == 3 and d == 3)
    if reduce_:
        if not enc.shift_invariant:
            raise ValueError(f"loss {enc.spec!r} is not shift invariant: Lemmas 1 and 3 (reduction for every "
                             "d) do not apply; use d=2")
        ok, why = enc.every_d_ok(thi, K)
        if not ok:
            raise ValueError(f"d={d!r}: {why}; use d=2 or a smaller tau")
    if K == 3 and every_d and stratum == "all":
        if not enc.shift_invariant:
            raise ValueError(f"loss {enc.spec!r}: the rank-3 chart supports shift-invariant losses only")
        chart = SphereChart(K, n, tlo, thi)
        allow_normal = d is None or d >= 4
    else:
        chart = PlanarChart(K, n, tlo, thi)
        allow_normal = every_d
    return K, n, tlo, thi, d, enc, every_d, chart, stratum, allow_normal


# ================================================================ the proof
@dataclass
class LandscapeProof:
    """Result of :func:`prove_landscape`.

    Attributes
    ----------
    status : {"proved", "not_proved"}
    K, n, d : int (``d`` None = every ``d >= 3``)
    tau : float or (float, float)
    loss : str
        Loss spec.
    chart : dict
        The chart (:meth:`PlanarChart.to_json`) and its domain.
    reductions : list of dict
        Lemmas used (``docs/prover.md``).
    counts : dict
        Leaves per discard test, ``"unresolved"`` and ``"evaluated"`` (boxes evaluated).
    classes : list of dict
        Critical-point classes met, each with its certificate.
    unresolved : list of dict
        Unresolved boxes (``lo``, ``hi``, ``center_angles_deg``).
    leaves : list of dict
        Every leaf: ``path``, ``lo``, ``hi``, ``test``, ``data``.
    seconds : float
    stratum : {"all", "rank<=2"}
        The configurations the chart covers (``"rank<=2"``: ``K = 3``, ``d >= 3``; a proof of that
        stratum only, so ``status`` is ``"not_proved"``).
    """

    status: str
    K: int
    n: int
    d: object
    tau: object
    loss: str
    chart: dict
    reductions: list
    counts: dict
    classes: list
    unresolved: list
    leaves: list = field(repr=False)
    seconds: float
    settings: dict
    prover_variant: str = "correct"
    stratum: str = "all"

    def to_json(self) -> dict:
        return {"format": FORMAT, "status": self.status, "K": self.K, "n": self.n, "d": self.d,
                "tau": self.tau, "loss": self.loss, "chart": self.chart, "reductions": self.reductions,
                "counts": self.counts, "classes": self.classes, "unresolved": self.unresolved,
                "seconds": self.seconds, "settings": self.settings, "prover_variant": self.prover_variant,
                "stratum": self.stratum, "leaves": self.leaves}

    def save(self, path) -> None:
        """Write the proof as JSON (floats round-trip exactly)."""
        with open(path, "w") as fh:
            json.dump(self.to_json(), fh, separators=(",", ":"))

    @classmethod
    def load(cls, path) -> "LandscapeProof":
        with open(path) as fh:
            js = json.load(fh)
        if js.get("format") != FORMAT:
            raise ValueError(f"{path}: not a landscape proof (format {js.get('format')!r})")
        tau = js["tau"]
        return cls(js["status"], js["K"], js["n"], js["d"], tuple(tau) if isinstance(tau, list) else tau,
                   js["loss"], js["chart"], js["reductions"], js["counts"], js["classes"], js["unresolved"],
                   js["leaves"], js["seconds"], js["settings"], js.get("prover_variant", "correct"),
                   js.get("stratum", "all"))

    @property
    def statement(self) -> str:
        """What the proof establishes (or would establish), in words."""
        if self.stratum != "all":
            dims = "every d >= 3"
        elif self.d is None or self.d > self.K or (self.K == 2 and self.d >= 3):
            dims = f"every d >= {self.K + 1}"
        else:
            dims = f"d = {self.d}"
        t = (f"every tau in [{self.tau[0]:g}, {self.tau[1]:g}]" if isinstance(self.tau, tuple)
             else f"tau = {self.tau:g}")
        if self.stratum != "all":
            return (f"problem (4) with K = {self.K}, n = {self.n} (N = {self.K * self.n}), {dims}, {t}, "
                    f"loss {self.loss}, restricted to {STRATA[self.stratum]}: every critical point there is "
                    "in the simplex-ETF orbit or a strict saddle (negative Riemannian Hessian eigenvalue); "
                    "the other configurations are not covered")
        return (f"problem (4) with K = {self.K}, n = {self.n} (N = {self.K * self.n}), {dims}, {t}, "
                f"loss {self.loss}: every critical point is a global minimiser (the simplex-ETF orbit) "
                "or a strict saddle (negative Riemannian Hessian eigenvalue)")


def _angles_deg(chart, x):
    if isinstance(chart, SphereChart):
        return chart.describe(x)
    off = chart.offsets
    a = [0.0] + list(x[: chart.K - 1])
    alpha = [math.degrees(float(off[k]) * math.pi + a[k]) for k in range(chart.K)]
    phi = [math.degrees(float(off[y]) * math.pi + x[chart.K - 1 + j]) for j, y in enumerate(chart.labels)]
    wrap = lambda z: (z + 180.0) % 360.0 - 180.0
    return {"alpha": [wrap(z) for z in alpha], "phi": [wrap(z) for z in phi]}


def _classes(leaves, lemma3, K):
    cnt = {t: sum(1 for l in leaves if l["test"] == t) for t in TESTS}
    out = []
    if cnt["etf_convex"]:
        out.append({"class": "global minimiser (simplex-ETF orbit)", "boxes": cnt["etf_convex"],
                    "certificate": "etf_convex boxes: chart Hessian positive definite on each (Gershgorin on "
                                   "Q^T H Q), the ETF slice point its only critical point; Lemma 5"})
    if cnt["saddle_inplane"]:
        out.append({"class": "strict saddle (in-plane negative curvature)", "boxes": cnt["saddle_inplane"],
                    "certificate": "fixed chart direction v with v^T H v < 0 on the box (eqs. (7)-(8))"})
    if cnt["saddle_normal"]:
        out.append({"class": "strict saddle (normal-direction negative curvature, d >= 3)",
                    "boxes": cnt["saddle_normal"],
                    "certificate": "fixed (c, e): normal-block form < 0 on the box (Lemma 2)"})
    if lemma3 and K == 2:
        out.append({"class": "strict saddle (non-planar points of the stratum w_1 = w_2)", "boxes": 0,
                    "certificate": "Lemma 3 (analytic)"})
    if lemma3 and K == 3:
        out.append({"class": "strict saddle (points of the stratum W = w 1^T outside the chart's 3-space)",
                    "boxes": 0, "certificate": "Lemma 3' (analytic)"})
    return out


def prove_landscape(K, n, tau, *, d=None, loss="cross_entropy", max_boxes=DEFAULT_MAX_BOXES, workers=None,
                    progress=None, min_width=DEFAULT_MIN_WIDTH, batch=DEFAULT_BATCH, _drop=None, _stratum="all"):
    """Prove by interval branch and bound that every critical point of problem (4) is a global
    minimiser or a strict saddle (Theorem 2's dichotomy), at small sizes.

    Parameters
    ----------
    K : int
        Classes: 2 (every ``d``), or 3: ``d = 2`` (the planar problem), ``d = 3`` (the rank-3 chart
        of Lemma 7, ``docs/prover.md``), ``d=None`` / ``d >= 4`` (the same chart with the normal
        block; Lemmas 1', 2, 3').
    n : int
        Samples per class (``K n <= 8``).
    tau : float or (float, float)
        Temperature, or an interval ``(lo, hi)``: then the proof holds for every ``tau`` in it.
    d : int or None
        ``None`` (default): every ``d > K`` at once (Lemmas 1-3 of ``docs/prover.md``; for
        ``K = 2`` an int ``>= 3`` is covered by the same proof, for ``K = 3`` an int ``>= 4``); ``d = 2`` is the planar problem only
        (for ``K = 2`` that is ``d = K``, a case of the paper's conjecture, false there).
    loss : str or loss object
        ``"cross_entropy"``, ``"label_smoothing:ALPHA"``, ``"mse"`` (``d = 2``), or a loss with
        ``prover_enclosure()`` (see :class:`~.enclosures.PlantedWellLoss`).
    max_boxes : int
        Box budget (boxes evaluated); what is left is reported as unresolved.
    workers : int or None
        Processes for the box batches (deterministic results); None: one process.
    progress : callable or None
        Called as ``progress(boxes_left, boxes_per_second)`` after every batch.
    min_width : float
        Boxes narrower than this are not split further (reported unresolved).

    _stratum : {"all", "rank<=2"}
        ``"rank<=2"`` (``K = 3``, ``d >= 3``): the planar chart with the normal block, a proof for the
        configurations spanning at most a 2-plane only (Lemma 6); ``status`` is then ``not_proved``.

    Returns
    -------
    LandscapeProof
        ``status == "proved"`` iff every leaf was discarded (and the stratum is ``"all"``).

    Raises
    ------
    TypeError, ValueError
        Bad input, naming the parameter (before any computation).
    """
    K, n, tlo, thi, d, enc, every_d, chart, stratum, allow_normal = _setup(K, n, tau, d, loss, _stratum)
    max_boxes = _check_int(max_boxes, "max_boxes", 1)
    if workers is not None:
        workers = _check_int(workers, "workers", 1)
    if not (isinstance(min_width, numbers.Real) and min_width > 0):
        raise ValueError(f"min_width must be a positive number, got {min_width!r}")
    batch = _check_int(batch, "batch", 1)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable(boxes_left, boxes_per_second) or None")
    if _drop not in E.DROPPABLE:
        raise ValueError(f"_drop must be one of {E.DROPPABLE}")
    t0 = time.perf_counter()
    leaves, evaluated = run_bnb(chart, enc, allow_normal=allow_normal, max_boxes=max_boxes, min_width=float(min_width),
                                batch=batch, workers=workers, progress=progress, drop=_drop)
    seconds = time.perf_counter() - t0
    counts = {t: sum(1 for l in leaves if l["test"] == t) for t in TESTS}
    counts["unresolved"] = sum(1 for l in leaves if l["test"] == "unresolved")
    counts["evaluated"] = evaluated
    unresolved = [{"lo": l["lo"], "hi": l["hi"], "path": l["path"],
                   "center_angles_deg": _angles_deg(chart, box_center(l["lo"], l["hi"])[: chart.n_angles]),
                   "why": l["data"]["why"]} for l in leaves if l["test"] == "unresolved"]
    dlo, dhi = chart.domain()
    chart_js = dict(chart.to_json(), domain_lo=dlo.tolist(), domain_hi=dhi.tolist())
    # a proof of a stratum only is not a proof of the dichotomy: "not_proved", with the stratum recorded
    return LandscapeProof(
        status="proved" if counts["unresolved"] == 0 and stratum == "all" else "not_proved",
        K=K, n=n, d=d, tau=(tlo, thi) if thi > tlo else tlo, loss=enc.spec, chart=chart_js,
        reductions=(REDUCTIONS_RANK2 if stratum != "all" else REDUCTIONS_PLANAR if not every_d
                    else REDUCTIONS_EVERY_D if K == 2 else REDUCTIONS_K3 if allow_normal else REDUCTIONS_K3_D3),
        counts=counts,
        classes=_classes(leaves, every_d and stratum == "all" and not (K == 3 and d == 3), K),
        unresolved=unresolved, leaves=leaves, seconds=seconds,
        settings={"max_boxes": max_boxes, "min_width": float(min_width), "batch": batch},
        prover_variant="correct" if _drop is None else f"faulty: drops {_drop} term of eq. (8)", stratum=stratum)


# ================================================================ the checker
@dataclass
class ProofCheck:
    """Outcome of :func:`check_landscape_proof`.

    Attributes
    ----------
    valid : bool
        Every discarded leaf's test holds in flint balls, the leaves cover the domain,
        the boxes match their paths and the reductions' hypotheses hold.
    status : {"proved", "not_proved", "invalid"}
    message : str
    failures : list of dict
        ``{"index", "path", "test", "why"}`` per failing leaf (or a structural failure).
    checked : int
        Leaves re-evaluated.
    seconds : float
    """

    valid: bool
    status: str
    message: str
    failures: list
    checked: int
    seconds: float

    def __str__(self):
        return self.message


def _rebuild(dlo, dhi, path, D):
    lo, hi = list(dlo), list(dhi)
    for ch in path:
        dim, side = path_step(ch)
        if dim >= D:
            raise ValueError(f"path {path!r} splits coordinate {dim} >= {D}")
        s = split_point(lo[dim], hi[dim])
        if side == 0:
            hi[dim] = s
        else:
            lo[dim] = s
    return lo, hi


def _cover_failures(paths, D):
    from .bnb import path_char
    fails = []
    leafset = set(paths)
    if len(leafset) != len(paths):
        fails.append("duplicate leaves")
    children = {}
    for p in paths:
        for i in range(len(p)):
            pre = p[:i]
            if pre in leafset:
                fails.append(f"leaf {pre!r} has descendants")
                break
            children.setdefault(pre, set()).add(p[i])
    if "" not in leafset and "" not in children:
        fails.append("no leaves")
    for pre, chs in children.items():
        dims = {path_step(c)[0] for c in chs}
        if len(dims) != 1 or chs != {path_char(next(iter(dims)), 0), path_char(next(iter(dims)), 1)}:
            fails.append(f"box {pre!r} is not covered by its children {sorted(chs)}")
    return fails


def _domain_failure(chart, dlo, dhi):
    """Check at 200 bits that the float box contains the exact chart domain (Lemma 4)."""
    from nc_verify.certify._flint import working_precision

    o2 = chart.offsets[1]
    exact = (chart.exact_domain() if isinstance(chart, SphereChart) else
             [(-o2, 1 - o2)] + [(Fraction(-1), Fraction(1))] * (chart.K - 2 + chart.N))
    with working_precision(200) as fl:
        pi = fl.arb.pi()
        for i, (ql, qh) in enumerate(exact):
            if not (bool(fl.arb(float(dlo[i])) <= pi * ql.numerator / ql.denominator) and
                    bool(fl.arb(float(dhi[i])) >= pi * qh.numerator / qh.denominator)):
                return f"domain coordinate {i} does not contain [{ql} pi, {qh} pi]"
    return None


def check_leaf(bk, chart, enc, leaf, lo, hi, allow_normal):
    """Re-evaluate one leaf's discard test on the box ``[lo, hi]``; ``(ok, why)``."""
    m = chart.n_angles
    test, data = leaf["test"], leaf["data"] or {}
    xs = [bk.interval(lo[i], hi[i]) for i in range(m)]
    T = bk.interval(lo[m], hi[m]) if chart.tau_is_coordinate else bk.point(chart.tau_lo)
    Qb = E.quantities(bk, chart, xs, T, enc)
    if test == "gradient":
        if data.get("mode") == "naive":
            g = E.gradient(chart, Qb, enc)[int(data["i"])]
            return (bk.is_pos(g) or bk.is_neg(g)), "gradient component contains 0"
        row = [float(z) for z in data["row"]]
        if len(row) != m:
            return False, "row has the wrong length"
        xc = box_center(lo[:m], hi[:m])
        Qc = E.quantities(bk, chart, [bk.point(z) for z in xc], T, enc)
        gc = E.gradient(chart, Qc, enc)
        J = E.hessian(bk, chart, Qb)
        val = 0
        for a in range(m):
            val = val + gc[a] * row[a]
        for b in range(m):
            rj = 0
            for a in range(m):
                if J[a][b] is not None:
                    rj = rj + J[a][b] * row[a]
            val = val + rj * (xs[b] - float(xc[b]))
        return (bk.is_pos(val) or bk.is_neg(val)), "mean-value form contains 0"
    if test == "saddle_inplane":
        v = [float(z) for z in data["v"]]
        if len(v) != m:
            return False, "direction has the wrong length"
        q = E.inplane_form(bk, chart, Qb, v, enc)
        return bk.is_neg(q), "in-plane Hessian form not < 0"
    if test == "saddle_normal":
        if not allow_normal:
            return False, "normal directions exist only for d >= 3"
        c, e = [float(z) for z in data["c"]], [float(z) for z in data["e"]]
        if len(c) != chart.K or len(e) != chart.N:
            return False, "direction has the wrong length"
        q = E.normal_form(bk, chart, Qb, c, e, enc)
        return bk.is_neg(q), "normal-block form not < 0"
    if test == "etf_convex":
        if not all(lo[i] <= 0.0 <= hi[i] for i in range(m)):
            return False, "box does not contain the ETF slice point"
        Qm = [[float(z) for z in r] for r in data["Q"]]
        J = E.hessian(bk, chart, Qb)
        JQ = [[None] * m for _ in range(m)]
        for i in range(m):
            for k in range(m):
                acc = 0
                for a in range(m):
                    if J[i][a] is not None:
                        acc = acc + J[i][a] * Qm[a][k]
                JQ[i][k] = acc
        for i in range(m):
            row = []
            for k in range(m):
                acc = 0
                for a in range(m):
                    acc = acc + JQ[a][k] * Qm[a][i]
                row.append(acc)
            gers = row[i]
            for k in range(m):
                if k != i:
                    gers = gers - bk.abs_upper(row[k])
            if not bk.is_pos(gers):
                return False, f"Gershgorin row {i} of Q^T H Q not positive"
        return True, ""
    return False, f"unknown test {test!r}"


def check_landscape_proof(path, *, max_failures=20) -> ProofCheck:
    """Re-verify a saved proof from the file alone, in python-flint balls.

    Returns a :class:`ProofCheck`: ``valid`` and ``status`` ("proved" when valid with no
    unresolved leaf, "not_proved" when valid with unresolved leaves, "invalid" otherwise),
    with the failing leaves listed.
    """
    t0 = time.perf_counter()
    fails = []

    def done(status, msg, checked=0):
        return ProofCheck(status != "invalid", status, msg, fails, checked, time.perf_counter() - t0)

    try:
        pr = LandscapeProof.load(path)
        K, n, tlo, thi, d, enc, every_d, chart, stratum, allow_normal = _setup(pr.K, pr.n, pr.tau, pr.d, pr.loss,
                                                                              pr.stratum)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        fails.append({"index": None, "path": None, "test": None, "why": f"cannot load: {exc}"})
        return done("invalid", f"invalid: {exc}")
    if every_d and stratum == "all" and not (K == 3 and d == 3):
        # Lemma 3's hypothesis psi'(0) != 0 and Lemma 1's (checked in _setup); flint check of the LS bound
        # 1 / (1 + (K-1) e^{2 tau}) > alpha / K, i.e. tau < log((K - alpha) / (alpha (K - 1))) / 2
        if isinstance(enc, E.SoftmaxEnclosure) and enc.alpha:
            fl = FlintBackend()
            a = fl.arb(enc.alpha)
            lim = ((K - a) / (a * (K - 1))).log() / 2
            if not bool(fl.arb(thi) < lim):
                fails.append({"index": None, "path": None, "test": None, "why": "tau too large for Lemma 1"})
                return done("invalid", "invalid: tau too large for Lemma 1 with label smoothing")
    dlo, dhi = chart.domain()
    D = chart.dim
    dom_fail = _domain_failure(chart, dlo, dhi)
    if dom_fail:
        fails.append({"index": None, "path": None, "test": "domain", "why": dom_fail})
        return done("invalid", f"invalid: {dom_fail}")
    leaves = pr.leaves
    paths = [l.get("path", "") for l in leaves]
    try:
        cov = _cover_failures(paths, D)
    except ValueError as exc:
        cov = [str(exc)]
    for c in cov[:max_failures]:
        fails.append({"index": None, "path": None, "test": "coverage", "why": c})
    bk = FlintBackend()
    checked = 0
    unresolved = 0
    for idx, leaf in enumerate(leaves):
        try:
            lo, hi = _rebuild(dlo, dhi, leaf["path"], D)
        except ValueError as exc:
            fails.append({"index": idx, "path": leaf["path"], "test": leaf.get("test"), "why": str(exc)})
            continue
        if [float(z) for z in leaf["lo"]] != lo or [float(z) for z in leaf["hi"]] != hi:
            fails.append({"index": idx, "path": leaf["path"], "test": leaf.get("test"),
                          "why": "stored bounds differ from the box its path defines"})
        if leaf["test"] == "unresolved":
            unresolved += 1
            continue
        checked += 1
        try:
            ok, why = check_leaf(bk, chart, enc, leaf, lo, hi, allow_normal)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            ok, why = False, f"malformed leaf data: {exc}"
        if not ok:
            fails.append({"index": idx, "path": leaf["path"], "test": leaf["test"], "why": why,
                          "lo": lo, "hi": hi})
        if len(fails) >= max_failures:
            break
    if pr.status == "proved" and unresolved:
        fails.append({"index": None, "path": None, "test": None,
                      "why": f"file claims 'proved' but has {unresolved} unresolved leaves"})
    if fails:
        f0 = fails[0]
        return done("invalid", f"invalid: {len(fails)} failure(s); first: leaf {f0['index']} "
                               f"(path {f0['path']!r}, test {f0['test']}): {f0['why']}", checked)
    if unresolved:
        return done("not_proved", f"valid, not proved: {checked} leaves verified, {unresolved} unresolved", checked)
    if stratum != "all":
        return done("not_proved", f"valid, not proved: {checked} leaves verified in flint balls; they cover the "
                                  f"chart of {STRATA[stratum]} only (that stratum is proved; the rest is not "
                                  "covered)", checked)
    return done("proved", f"valid: {checked} leaves verified in flint balls; the leaves cover the chart domain",
                checked)


def summary_lines(proof: LandscapeProof) -> list:
    """Lines for a CLI to print: what was proved, how, and what is left."""
    c = proof.counts
    lines = [f"status: {proof.status}"]
    if proof.stratum != "all" and c["unresolved"] == 0:
        lines.append("PROVED ON A STRATUM ONLY: " + proof.statement)
        lines.append(f"NOT PROVED: the dichotomy for all critical points (not covered: {NOT_COVERED[proof.stratum]})")
    else:
        lines.append(("PROVED: " if proof.status == "proved" else "NOT PROVED: ") + proof.statement)
    K = proof.K
    dd = (3 if proof.stratum != "all" else K + 1) if proof.d is None else proof.d
    taus = proof.tau if isinstance(proof.tau, tuple) else (proof.tau, proof.tau)
    if K == 2 and dd >= 3:
        conj = [dv for dv in range(3, 3 + 1000) if theorem2_tau_limit(dv, K) <= taus[1]]
        if proof.d is not None:
            conj = [dv for dv in conj if dv == proof.d]
        if conj:
            ds = f"d = {conj[0]}" if len(conj) == 1 else f"d = {conj[0]}..{conj[-1]}"
            lines.append(f"note: tau up to {taus[1]:g} reaches Theorem 2's limit 2(d-2)/(1+(K mod 2)/K) for {ds}: "
                         "there this is a case of the paper's conjecture (no published proof); "
                         "for larger d it is inside Theorem 2")
    if dd <= K:
        which = f"its member d = {dd}" if proof.d is None else f"d = {dd}"
        lines.append(f"note: {which} <= K = {K} is outside Theorem 2 (conjecture case)")
    lines.append(f"boxes: {c['evaluated']} evaluated; leaves: " +
                 ", ".join(f"{t} {c[t]}" for t in TESTS) + f", unresolved {c['unresolved']}")
    lines.append(f"time: {proof.seconds:.1f} s")
    for r in proof.reductions:
        lines.append(f"uses {r['name']}")
    for u in proof.unresolved[:5]:
        ang = u["center_angles_deg"]
        lines.append("unresolved box near " + ", ".join(f"{key} = [" + ", ".join(f"{z:.2f}" for z in vals) + "]"
                                                         for key, vals in ang.items()) + " deg")
    if len(proof.unresolved) > 5:
        lines.append(f"... and {len(proof.unresolved) - 5} more unresolved boxes")
    return lines
