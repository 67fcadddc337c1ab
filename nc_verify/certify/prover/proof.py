"""Proof objects of the landscape prover: run, save/load (JSON), re-check with arb-enclosed functions.

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

import decimal
import json
import math
import numbers
import os
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from nc_verify.objective.closed_forms import theorem2_tau_limit

from . import continuum as C
from . import enclosures as E
from . import symmetry as SYM
from .bnb import TESTS, box_center, path_step, run_bnb, split_point
from .frontier import ORDERS, SPLITS, run_bnb_breadth, volume_fractions
from .chart import PlanarChart, SphereChart
from .intervals import CHECKED_NUMPY, FlintBackend

FORMAT = "nc-verify/landscape-proof/2"
DEFAULT_MAX_BOXES = 400_000
#: Largest temperature the prover accepts.  The numpy enclosures evaluate exp(tau (c_l - c_i)) with
#: |c_l - c_i| <= 2 and sums of K - 1 such terms, which must stay finite in binary64:
#: 2 tau + log K < log(DBL_MAX) = 709.78, i.e. tau < 354.3 for K = 3 (at tau >= 355, exp(2 tau)
#: overflows and NaN reaches the float Hessian whose eigenvectors give the test directions).
TAU_MAX = 350
DEFAULT_MIN_WIDTH = 1e-7
DEFAULT_BATCH = 2048
#: Precision (bits) of the checker's one retry of a leaf that fails in 53-bit balls.
RETRY_PREC = 128
#: Leaves per batch of the batched check (:func:`check_landscape_proof`, ``batched=True``): on a
#: 150 000-box (3, 1) proof (19 157 leaves checked) the batches took 2.1 CPU s with 256 leaves,
#: 1.0-1.2 s with 1024 and 1.1 s with 4096 (the fixed cost of an evaluation is shared by more leaves).
CHECK_BATCH = 1024
#: What a check's leaf evaluations rest on, batched or one by one (``ProofCheck.method``).
CHECK_METHODS = {True: "batches of IEEE arithmetic rounded outwards with arb function values, flint balls "
                       "where a batch could not confirm",
                 False: "flint balls"}
#: The discard tests the batched check evaluates (the others, ``symmetry`` and ``continuum``,
#: are checked leaf by leaf in flint).
BATCHED_TESTS = ("gradient", "saddle_inplane", "saddle_normal", "etf_convex")

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
REDUCTIONS_WEAK_D2 = [
    REDUCTIONS_EVERY_D[3],
    {"name": "Lemma 5' (global minimiser, weak form)",
     "statement": "f attains its minimum at a local minimum, which lies in no gradient, saddle or continuum box, "
                  "hence in an etf_convex box, whose only critical point is the ETF slice point. So the ETF "
                  "orbit is the set of global minimisers and no other critical point is a local minimum."},
    {"name": "Lemma W1 (d = 2 stratum W = u 1^T)",
     "statement": "d = 2, shift-invariant loss symmetric off target: a critical point with w_1 = ... = w_K = u is "
                  "a strict saddle unless every h_j = +-v (v _|_ u) with equal class sums (a degenerate member)."},
    {"name": "Lemma W2 (K = 2, d = 2, off the stratum)",
     "statement": "Cross-entropy, K = 2, d = 2: a critical point with 0 < |alpha_2| < pi has tau |w_1 - w_2| = "
                  "log(P/Q), P + Q = 2n, P > Q >= 1 (so tau |w_1 - w_2| >= log((n+1)/(n-1)); none for n = 1), and "
                  "every h_j _|_ w_1 + w_2."},
    {"name": "Lemma W3 (fourth-order descent)",
     "statement": "At a degenerate member, along phi_j0(t) = phi_j0 + t, alpha_2(t) = -lam t^2, f(t) - f(0) = "
                  "f(xi) t^4 / 24 with xi in [0, t]; a ball enclosure of f/24 over [0, s1] below 0 "
                  "makes f < f(member) for 0 < t <= s1: the member is not a local minimum."},
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


class ProofFileError(ValueError):
    """A proof file that cannot be read as a proof: missing, empty, truncated, not JSON, not an
    object, a missing or mistyped key, or a claim the prover does not support (an input error, not
    a failed proof)."""


def exact_tau(t, name) -> Fraction:
    """The exact rational a temperature input stands for.

    A decimal string is read exactly (``"1.9"`` is 19/10); a float is read as the shortest
    decimal that prints as it (``repr``), so ``1.9`` also means 19/10 -- its outward enclosure
    contains the float itself too; ints, Fractions and Decimals are exact.
    """
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or a decimal string, got {type(t).__name__} {t!r}")
    try:
        if isinstance(t, str):
            q = Fraction(t.strip())
        elif isinstance(t, (Fraction, numbers.Integral)):
            q = Fraction(int(t)) if isinstance(t, numbers.Integral) else t
        elif isinstance(t, decimal.Decimal):
            q = Fraction(t)
        elif isinstance(t, numbers.Real):
            f = float(t)
            if not math.isfinite(f):
                raise ValueError
            q = Fraction(repr(f))
        else:
            raise TypeError(f"{name} must be a real number or a decimal string, got {type(t).__name__} {t!r}")
    except (ValueError, ZeroDivisionError, OverflowError):
        raise ValueError(f"{name} must be a finite decimal number, got {t!r}") from None
    if not 0 < q <= TAU_MAX:
        raise ValueError(f"{name} must be in (0, {TAU_MAX}], got {t!r}: the prover's float64 enclosures need "
                         f"exp(2 tau) and sums of K of them finite (2 tau + log K < 709.78), and tau > 0")
    return q


def enclose_outward(q: Fraction):
    """``(lo, hi)``: the binary64 interval, one ulp at most on each side, containing the rational ``q``."""
    f = float(q)
    fq = Fraction(f)
    if fq == q:
        return f, f
    if fq < q:
        return f, float(np.nextafter(f, np.inf))
    return float(np.nextafter(f, -np.inf)), f


def _check_tau(tau):
    """``(lo, hi, exact)``: the outward float enclosure of the temperature(s) and the exact
    rational(s) (a Fraction, or a pair for an interval)."""
    if isinstance(tau, (tuple, list, np.ndarray)):
        if len(tau) != 2:
            raise ValueError(f"tau as an interval must be (lo, hi), got {tau!r}")
        qlo, qhi = exact_tau(tau[0], "tau[0]"), exact_tau(tau[1], "tau[1]")
        if qlo > qhi:
            raise ValueError(f"tau interval must have lo <= hi, got {tau!r}")
        if qlo < qhi:
            return enclose_outward(qlo)[0], enclose_outward(qhi)[1], (qlo, qhi)
        q = qlo
    else:
        q = exact_tau(tau, "tau")
    lo, hi = enclose_outward(q)
    return lo, hi, q


def _setup(K, n, tau, d, loss, stratum="all", form=None):
    K = _check_int(K, "K", 2, 3)
    n = _check_int(n, "n", 1, 6)
    tlo, thi, texact = _check_tau(tau)
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
    weak_ok, weak_why = C.weak_form_supported(K, d, enc)
    if form is None:
        # d = 2 with cross-entropy: the strict-saddle form is false there (docs/continua.md); the weak
        # form is what the conjecture needs
        form = C.WEAK if d == 2 and getattr(enc, "spec", None) == "cross_entropy" else C.STRICT
    if form not in C.FORMS:
        raise ValueError(f"form must be one of {C.FORMS}, got {form!r}")
    if form == C.WEAK and d != 2:
        raise ValueError(f"form={form!r}: {C.weak_form_supported(K, d, enc)[1]}")
    if form == C.WEAK and getattr(enc, "spec", None) != "cross_entropy":
        raise ValueError(f"form={form!r}: the weak form is supported for cross-entropy only, got loss {enc.spec!r}")
    if K == 3 and every_d and stratum == "all":
        if not enc.shift_invariant:
            raise ValueError(f"loss {enc.spec!r}: the rank-3 chart supports shift-invariant losses only")
        chart = SphereChart(K, n, tlo, thi)
        allow_normal = d is None or d >= 4
    else:
        chart = PlanarChart(K, n, tlo, thi)
        allow_normal = every_d
    return _Setup(K, n, tlo, thi, texact, d, enc, every_d, chart, stratum, allow_normal, form,
                  form == C.WEAK and weak_ok)


@dataclass(frozen=True)
class _Setup:
    K: int
    n: int
    tlo: float
    thi: float
    texact: object          # Fraction, or (Fraction, Fraction)
    d: object
    enc: object
    every_d: bool
    chart: object
    stratum: str
    allow_normal: bool
    form: str = C.STRICT
    continuum: bool = False      # whether continuum leaves exist (weak form, K = 2, cross-entropy)

    @property
    def lemma3(self) -> bool:
        """Whether the analytic strata (Lemma 3 / 3') are part of the proof."""
        return self.every_d and self.stratum == "all" and not (self.K == 3 and self.d == 3)

    @property
    def reductions(self) -> list:
        if self.stratum != "all":
            return REDUCTIONS_RANK2
        if self.form == C.WEAK:
            return REDUCTIONS_WEAK_D2
        if not self.every_d:
            return REDUCTIONS_PLANAR
        return REDUCTIONS_EVERY_D if self.K == 2 else REDUCTIONS_K3 if self.allow_normal else REDUCTIONS_K3_D3

    @property
    def tau(self):
        """The temperature as given, in floats (nearest): a float or a pair."""
        return (float(self.texact[0]), float(self.texact[1])) if isinstance(self.texact, tuple) else float(self.texact)

    @property
    def tau_exact(self):
        """The exact temperature(s) as strings (``Fraction`` syntax), stored in proofs."""
        return [str(q) for q in self.texact] if isinstance(self.texact, tuple) else str(self.texact)


def check_prove_arguments(K, n, tau, *, d=None, loss="cross_entropy", max_boxes=DEFAULT_MAX_BOXES, workers=None,
                          progress=None, min_width=DEFAULT_MIN_WIDTH, batch=DEFAULT_BATCH, order="depth",
                          symmetry=False, split="widest", form=None, _drop=None, _stratum="all", _fault=None):
    """Validate every argument of :func:`prove_landscape` (same signature) without any work.

    Returns the validated setup; raises ``TypeError``/``ValueError`` naming the parameter.
    """
    st = _setup(K, n, tau, d, loss, _stratum, form)
    if _fault not in C.FAULTS:
        raise ValueError(f"_fault must be one of {C.FAULTS}")
    if _fault is not None and not st.continuum:
        raise ValueError("_fault plants a fault in the continuum leaves: it needs the weak form (d = 2, K = 2)")
    _check_int(max_boxes, "max_boxes", 1)
    if workers is not None:
        _check_int(workers, "workers", 1)
    if isinstance(min_width, (bool, np.bool_)) or not (isinstance(min_width, numbers.Real) and min_width > 0
                                                       and math.isfinite(min_width)):
        raise ValueError(f"min_width must be a positive finite number, got {min_width!r}")
    _check_int(batch, "batch", 1)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable(boxes_left, boxes_per_second) or None")
    if _drop not in E.DROPPABLE:
        raise ValueError(f"_drop must be one of {E.DROPPABLE}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if not isinstance(symmetry, (bool, np.bool_)):
        raise TypeError(f"symmetry must be True or False, got {symmetry!r}")
    if symmetry and not SYM.applies(st.chart):
        raise ValueError("symmetry=True needs the rank-3 chart (K = 3 with d=None, d >= 4 or d = 3, stratum 'all')")
    if symmetry and order != "breadth":
        raise ValueError("symmetry=True runs with order='breadth'")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split != "widest" and order != "breadth":
        raise ValueError(f"split={split!r} runs with order='breadth'")
    return st


# ================================================================ the proof
@dataclass
class LandscapeProof:
    """Result of :func:`prove_landscape`.

    Attributes
    ----------
    status : {"proved", "not_proved"}
        What the numpy branch and bound found (``"proved"``: no unresolved leaf); a proof is a
        theorem only once :func:`check_landscape_proof` has re-checked it in flint balls.
    K, n, d : int (``d`` None = every ``d >= 3``)
    tau : float or (float, float)
        The temperature (nearest floats of :attr:`tau_exact`).
    loss : str
        Loss spec.
    chart : dict
        The chart (:meth:`PlanarChart.to_json`) and its domain; its ``tau`` is the outward float
        enclosure of :attr:`tau_exact`.
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
    tau_exact : str or [str, str]
        The exact temperature(s) proved (``Fraction`` syntax: ``"19/10"``); the checker encloses
        them outward itself.
    form : {"strict saddle", "no spurious local minimum"}
        Which form of the landscape the proof proves: every critical point is a global minimiser
        or a strict saddle, or (the weak form, ``d = 2``) a global minimiser or not a local
        minimum (``continuum`` leaves; ``docs/prover.md``, Lemmas W1-W4).
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
    tau_exact: object = None
    form: str = C.STRICT

    _KEYS = {"status": str, "K": int, "n": int, "tau": (int, float, list), "tau_exact": (str, list),
             "loss": str, "chart": dict, "reductions": list, "counts": dict, "classes": list,
             "unresolved": list, "seconds": (int, float), "settings": dict, "prover_variant": str,
             "stratum": str, "leaves": list}

    def to_json(self) -> dict:
        return {"format": FORMAT, "status": self.status, "K": self.K, "n": self.n, "d": self.d,
                "tau": list(self.tau) if isinstance(self.tau, tuple) else self.tau, "tau_exact": self.tau_exact,
                "loss": self.loss, "chart": self.chart, "reductions": self.reductions,
                "counts": self.counts, "classes": self.classes, "unresolved": self.unresolved,
                "seconds": self.seconds, "settings": self.settings, "prover_variant": self.prover_variant,
                "stratum": self.stratum, "form": self.form, "leaves": self.leaves}

    def save(self, path) -> None:
        """Write the proof as JSON (floats round-trip exactly; strict JSON: no NaN or inf tokens)."""
        with open(path, "w") as fh:
            json.dump(self.to_json(), fh, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, js, source="<proof>") -> "LandscapeProof":
        """Build from a parsed proof file; :class:`ProofFileError` (naming ``source``) if it is not
        one: not an object, another format, a key missing or of the wrong type, a malformed leaf."""
        if not isinstance(js, dict):
            raise ProofFileError(f"{source}: not a landscape proof (a JSON {type(js).__name__}, expected an object)")
        if js.get("format") != FORMAT:
            raise ProofFileError(f"{source}: not a landscape proof of this version (format {js.get('format')!r}, "
                                 f"expected {FORMAT!r})")
        for key, typ in cls._KEYS.items():
            if key not in js:
                raise ProofFileError(f"{source}: key {key!r} missing")
            if isinstance(js[key], bool) or not isinstance(js[key], typ):
                raise ProofFileError(f"{source}: key {key!r} has type {type(js[key]).__name__}")
        if "d" not in js or not (js["d"] is None or (isinstance(js["d"], int) and not isinstance(js["d"], bool))):
            raise ProofFileError(f"{source}: key 'd' missing or not an integer or null")
        for i, leaf in enumerate(js["leaves"]):
            if not (isinstance(leaf, dict) and isinstance(leaf.get("path"), str) and isinstance(leaf.get("test"), str)
                    and isinstance(leaf.get("lo"), list) and isinstance(leaf.get("hi"), list)
                    and (leaf.get("data") is None or isinstance(leaf.get("data"), dict))):
                raise ProofFileError(f"{source}: leaf {i} is not an object with path, lo, hi, test, data")
        form = js.get("form", C.STRICT)           # files written before the weak form: strict saddle
        if not isinstance(form, str):
            raise ProofFileError(f"{source}: key 'form' has type {type(form).__name__}")
        tau = js["tau"]
        return cls(js["status"], js["K"], js["n"], js["d"], tuple(tau) if isinstance(tau, list) else tau,
                   js["loss"], js["chart"], js["reductions"], js["counts"], js["classes"], js["unresolved"],
                   js["leaves"], js["seconds"], js["settings"], js["prover_variant"], js["stratum"], js["tau_exact"],
                   form)

    def volume_fractions(self) -> dict:
        """Fraction of the chart's domain (coordinate measure) per leaf label, and ``"resolved"``
        (:func:`.frontier.volume_fractions` over the recorded domain; derived from the leaves, not
        stored)."""
        return volume_fractions((self.chart["domain_lo"], self.chart["domain_hi"]), self.leaves)

    @classmethod
    def load(cls, path) -> "LandscapeProof":
        """Read a proof file; :class:`ProofFileError` naming the file if it cannot be read as one."""
        return cls.from_json(_read_json(path), str(path))

    @property
    def statement(self) -> str:
        """What the proof establishes (or would establish), in words."""
        if self.stratum != "all":
            dims = "every d >= 3"
        elif self.d is None:
            dims = f"every d >= {self.K + 1}"
        elif self.d > self.K or (self.K == 2 and self.d >= 3):
            dims = f"d = {self.d} (the same proof covers every d >= {self.K + 1})"
        else:
            dims = f"d = {self.d}"
        t = (f"every tau in [{format_exact_tau(self.tau_exact[0])}, {format_exact_tau(self.tau_exact[1])}]"
             if isinstance(self.tau_exact, list) else f"tau = {format_exact_tau(self.tau_exact)}")
        if self.stratum != "all":
            return (f"problem (4) with K = {self.K}, n = {self.n} (N = {self.K * self.n}), {dims}, {t}, "
                    f"loss {self.loss}, restricted to {STRATA[self.stratum]}: every critical point there is "
                    "in the simplex-ETF orbit or a strict saddle (negative Riemannian Hessian eigenvalue); "
                    "the other configurations are not covered")
        if self.form == C.WEAK:
            return (f"problem (4) with K = {self.K}, n = {self.n} (N = {self.K * self.n}), {dims}, {t}, "
                    f"loss {self.loss}: no spurious local minimum -- every critical point is a global minimiser "
                    "(the simplex-ETF orbit) or not a local minimum (a strict saddle, or a degenerate member of "
                    "the continuum W = u 1^T with a certified fourth-order descent curve)")
        return (f"problem (4) with K = {self.K}, n = {self.n} (N = {self.K * self.n}), {dims}, {t}, "
                f"loss {self.loss}: every critical point is a global minimiser (the simplex-ETF orbit) "
                "or a strict saddle (negative Riemannian Hessian eigenvalue)")


def format_exact_tau(text: str) -> str:
    """An exact temperature for people: the decimal when it is one (19/10 -> 1.9), else p/q."""
    q = Fraction(text)
    den = q.denominator
    for p_ in (2, 5):
        while den % p_ == 0:
            den //= p_
    if den != 1:
        return str(q)
    d = decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator)
    return format(d.normalize(), "f") if d == d.to_integral_value() else str(d)


def _read_json(path):
    """Parse a JSON file; :class:`ProofFileError` naming the file for anything but a readable JSON text."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ProofFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ProofFileError(f"{path}: empty file, not a landscape proof")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:      # JSONDecodeError, UnicodeDecodeError
        raise ProofFileError(f"{path}: not valid JSON (truncated or not a proof file): {exc}") from None


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
    if cnt["continuum"]:
        members = C.certified_members(leaves)
        out.append({"class": "not a local minimum (the stratum W = u 1^T, d = 2)", "boxes": cnt["continuum"],
                    "degenerate_members": len(members),
                    "certificate": "continuum boxes: every critical point has w_1 = w_2 (Lemma W2); a strict saddle "
                                   "(Lemma W1) or a degenerate member with a fourth-order descent curve whose "
                                   "coefficient is enclosed below 0 (Lemma W3)"})
    if lemma3 and K == 2:
        out.append({"class": "strict saddle (non-planar points of the stratum w_1 = w_2)", "boxes": 0,
                    "certificate": "Lemma 3 (analytic)"})
    if lemma3 and K == 3:
        out.append({"class": "strict saddle (points of the stratum W = w 1^T outside the chart's 3-space)",
                    "boxes": 0, "certificate": "Lemma 3' (analytic)"})
    return out


def prove_landscape(K, n, tau, *, d=None, loss="cross_entropy", max_boxes=DEFAULT_MAX_BOXES, workers=None,
                    progress=None, min_width=DEFAULT_MIN_WIDTH, batch=DEFAULT_BATCH, order="depth", symmetry=False,
                    split="widest", form=None, _drop=None, _stratum="all", _fault=None):
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
    tau : real, decimal string, or a pair of them
        Temperature, or an interval ``(lo, hi)``: then the proof holds for every ``tau`` in it.
        Each value is read as an exact rational (a string exactly: ``"1.9"`` is 19/10; a float as
        the decimal it prints as, so ``1.9`` is 19/10 too) in ``(0, TAU_MAX]``, and proved on its
        outward binary64 enclosure (``fl(1.9) < 1.9``: the enclosure contains both).
    d : int or None
        ``None`` (default): every ``d > K`` at once (Lemmas 1-3 of ``docs/prover.md``; for
        ``K = 2`` an int ``>= 3`` is covered by the same proof, for ``K = 3`` an int ``>= 4``); ``d = 2`` is the planar problem only
        (for ``K = 2`` that is ``d = K``, a case of the paper's conjecture: false there in the strict-saddle form, proved in the weak
        form, see ``form``).
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
    order : {"depth", "breadth"}
        Order of the search: depth first (the smallest memory), or breadth first
        (:func:`.frontier.run_bnb_breadth`): a run that spends its budget leaves the widest boxes,
        spread over the domain, and :meth:`LandscapeProof.volume_fractions` says how much of the
        domain is proved.  A finished proof has the same leaves either way.
    symmetry : bool
        Quotient by the relabelling of classes and samples (rank-3 chart, ``K = 3``, ``order="breadth"``):
        boxes outside the fundamental domain of :mod:`.symmetry` become ``symmetry`` leaves
        (``docs/prover.md``, Lemma 13).
    split : {"widest", "smear"}
        Bisection coordinate: the widest, or (``order="breadth"``) the largest smear
        ``w_a sum_i |H_ia(x_c)|`` (the float chart Hessian at the centre).  Any coordinate is valid:
        the checker rebuilds every box from its path.

    form : {None, "strict saddle", "no spurious local minimum"}
        What to prove.  ``None``: the weak form ``"no spurious local minimum"`` for ``d = 2`` with
        cross-entropy (the strict-saddle form is false there: ``docs/continua.md``), the strict-saddle
        form otherwise.  The weak form adds ``continuum`` leaves (``K = 2``; ``docs/prover.md``,
        Lemmas W1-W4); it is refused for ``d != 2`` and losses other than cross-entropy.
    _fault : {None, "c4_sign", "continuum_bound"}
        Negative controls of the weak form (the checker must reject the boxes that use them): the
        descent certificates with a flipped fourth-order coefficient, or ``continuum`` labels
        without Lemma W2's bound.
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
    st = check_prove_arguments(K, n, tau, d=d, loss=loss, max_boxes=max_boxes, workers=workers, progress=progress,
                               min_width=min_width, batch=batch, order=order, symmetry=symmetry, split=split,
                               form=form, _drop=_drop, _stratum=_stratum, _fault=_fault)
    t0 = time.perf_counter()
    cont = C.ContinuumTest(st.chart, _fault) if st.continuum else None
    search = run_bnb if order == "depth" else run_bnb_breadth
    extra = {"symmetry": bool(symmetry), "split": split} if order == "breadth" else {}
    leaves, evaluated = search(st.chart, st.enc, allow_normal=st.allow_normal, max_boxes=int(max_boxes),
                               min_width=float(min_width), batch=int(batch), workers=workers, progress=progress,
                               drop=_drop, continuum=cont, **extra)
    seconds = time.perf_counter() - t0
    meta = _metadata(st, leaves, evaluated)
    return LandscapeProof(
        status=meta["status"], K=st.K, n=st.n, d=st.d, tau=st.tau, loss=st.enc.spec, chart=meta["chart"],
        reductions=meta["reductions"], counts=meta["counts"], classes=meta["classes"],
        unresolved=meta["unresolved"], leaves=leaves, seconds=seconds,
        settings={"max_boxes": int(max_boxes), "min_width": float(min_width), "batch": int(batch), "order": order,
                  "symmetry": bool(symmetry), "split": split},
        prover_variant=("correct" if _drop is None and _fault is None else
                        f"faulty: drops {_drop} term of eq. (8)" if _drop else f"faulty: {_fault}"),
        stratum=st.stratum, tau_exact=st.tau_exact, form=st.form)


def _metadata(st: _Setup, leaves, evaluated) -> dict:
    """Everything in a proof that follows from its setup and leaves: the chart description, the
    reductions, the counts, the classes met, the unresolved list and the status.  One place for
    the prover (which writes them) and the checker (which compares the file's with these)."""
    chart = st.chart
    counts = {t: sum(1 for l in leaves if l["test"] == t) for t in TESTS}
    n_sym = sum(1 for l in leaves if l["test"] == SYM.LABEL)
    if n_sym:
        counts[SYM.LABEL] = n_sym
    counts["unresolved"] = sum(1 for l in leaves if l["test"] == "unresolved")
    counts["evaluated"] = evaluated
    unresolved = [{"lo": l["lo"], "hi": l["hi"], "path": l["path"],
                   "center_angles_deg": _angles_deg(chart, box_center(l["lo"], l["hi"])[: chart.n_angles]),
                   "why": (l["data"] or {}).get("why")} for l in leaves if l["test"] == "unresolved"]
    dlo, dhi = chart.domain()
    # a proof of a stratum only is not a proof of the dichotomy: "not_proved", with the stratum recorded
    return {"status": "proved" if counts["unresolved"] == 0 and st.stratum == "all" else "not_proved",
            "chart": dict(chart.to_json(), domain_lo=dlo.tolist(), domain_hi=dhi.tolist()),
            "reductions": st.reductions + ([SYM.LEMMA] if n_sym else []), "counts": counts,
            "classes": _classes(leaves, st.lemma3, st.K),
            "unresolved": unresolved}


# ================================================================ the checker
@dataclass
class ProofCheck:
    """Outcome of :func:`check_landscape_proof`.

    Attributes
    ----------
    valid : bool
        Every discarded leaf's test holds (rigorous enclosures: see ``method``), the leaves cover
        the domain, the boxes match their paths and the reductions' hypotheses hold.
    status : {"proved", "not_proved", "invalid"}
    message : str
    failures : list of dict
        ``{"index", "path", "test", "why"}`` per failing leaf (or a structural failure).
    checked : int
        Leaves re-evaluated.
    seconds : float
    method : str
        How the leaves were evaluated (:data:`CHECK_METHODS`).
    flint_leaves : int
        Leaves evaluated one by one in flint balls (all of them with ``batched=False``; with
        batching, the ``continuum`` and sample-ordering leaves, malformed data, and the leaves a
        batch could not confirm).
    """

    valid: bool
    status: str
    message: str
    failures: list
    checked: int
    seconds: float
    method: str = "flint balls"
    flint_leaves: int = 0

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


class _BadLeafData(ValueError):
    """Certificate data of a leaf that cannot be used (wrong shape, not numbers, not finite)."""


def _finite_vector(data, key, length):
    """``data[key]`` as a list of ``length`` finite floats, or :class:`_BadLeafData`."""
    vec = data.get(key)
    if not isinstance(vec, list) or len(vec) != length:
        raise _BadLeafData(f"{key!r} must be a list of {length} numbers")
    out = []
    for z in vec:
        if isinstance(z, bool) or not isinstance(z, (int, float)):
            raise _BadLeafData(f"{key!r} has an entry that is not a number: {z!r}")
        if not math.isfinite(z):
            raise _BadLeafData(f"{key!r} has a non-finite entry {z!r}")
        out.append(float(z))
    return out


def parse_certificate(chart, leaf) -> dict:
    """A leaf's certificate data, validated: finite floats of the right shape.

    Returns
    -------
    dict
        ``{"mode": "naive", "i": int}`` or ``{"mode": "mv", "row": [m floats]}`` (``gradient``),
        ``{"v": [m floats]}`` (``saddle_inplane``), ``{"c": [K floats], "e": [N floats]}``
        (``saddle_normal``), ``{"Q": m rows of m floats}`` (``etf_convex``).

    Raises
    ------
    _BadLeafData
        The data is missing, mistyped, of the wrong shape or not finite (an infinite or NaN entry
        could otherwise turn an enclosure into NaN or an infinity, on which a sign test must not be
        trusted); or the test is unknown.
    """
    m = chart.n_angles
    test, data = leaf["test"], leaf["data"] or {}
    if test == "gradient":
        if data.get("mode") == "naive":
            i = data.get("i")
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < m:
                raise _BadLeafData(f"'i' must be a component index in [0, {m}), got {i!r}")
            return {"mode": "naive", "i": i}
        return {"mode": "mv", "row": _finite_vector(data, "row", m)}
    if test == "saddle_inplane":
        return {"v": _finite_vector(data, "v", m)}
    if test == "saddle_normal":
        return {"c": _finite_vector(data, "c", chart.K), "e": _finite_vector(data, "e", chart.N)}
    if test == "etf_convex":
        Q = data.get("Q")
        if not isinstance(Q, list) or len(Q) != m:
            raise _BadLeafData(f"'Q' must be a list of {m} rows")
        return {"Q": [_finite_vector({"Q row": r}, "Q row", m) for r in Q]}
    raise _BadLeafData(f"unknown test {test!r}")


def certificate_holds(bk, chart, enc, test, cert, lo, hi, allow_normal):
    """Evaluate a discard test's hypothesis (Lemmas 8-11) with its certificate on a box, or on a batch.

    One code for both checkers: ``bk`` a :class:`~.intervals.FlintBackend` with ``lo``, ``hi``
    sequences of floats (one box), or :class:`~.intervals.CheckedNumpyBackend` with sequences
    of arrays of shape ``(B,)`` (``B`` boxes, coordinate by coordinate) and the certificate's
    vectors given entry by entry as arrays of shape ``(B,)`` (the naive gradient's component
    ``i`` is one integer for the batch).

    Returns
    -------
    ok : bool or ndarray of bool, shape (B,)
        Whether the hypothesis holds on the box (each box).
    why : str
        What fails where it does not.
    """
    m = chart.n_angles
    if test == "saddle_normal" and not allow_normal:
        return False, "normal directions exist only for d >= 3"
    xs = [bk.interval(lo[i], hi[i]) for i in range(m)]
    T = bk.interval(lo[m], hi[m]) if chart.tau_is_coordinate else bk.point(chart.tau_lo)
    Qb = E.quantities(bk, chart, xs, T, enc)
    if test == "gradient":
        if cert["mode"] == "naive":
            g = E.gradient(chart, Qb, enc)[cert["i"]]
            return bk.is_pos(g) | bk.is_neg(g), f"gradient component {cert['i']} contains 0"
        row = cert["row"]
        xc = [box_center(lo[a], hi[a]) for a in range(m)]
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
            val = val + rj * (xs[b] - xc[b])
        return bk.is_pos(val) | bk.is_neg(val), "mean-value form contains 0"
    if test == "saddle_inplane":
        return bk.is_neg(E.inplane_form(bk, chart, Qb, cert["v"], enc)), "in-plane Hessian form not < 0"
    if test == "saddle_normal":
        return bk.is_neg(E.normal_form(bk, chart, Qb, cert["c"], cert["e"], enc)), "normal-block form not < 0"
    # etf_convex
    contains = True
    for i in range(m):
        contains = contains & (np.asarray(lo[i]) <= 0.0) & (np.asarray(hi[i]) >= 0.0)
    Qm = cert["Q"]
    J = E.hessian(bk, chart, Qb)
    JQ = [[None] * m for _ in range(m)]
    for i in range(m):
        for k in range(m):
            acc = 0
            for a in range(m):
                if J[i][a] is not None:
                    acc = acc + J[i][a] * Qm[a][k]
            JQ[i][k] = acc
    ok, why = contains, "box does not contain the ETF slice point"
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
        pos = bk.is_pos(gers)
        if np.all(ok) and not np.all(pos):
            why = f"Gershgorin row {i} of Q^T H Q not positive"
        ok = ok & pos
    return (bool(ok) if np.ndim(ok) == 0 else ok), why


def check_leaf(bk, chart, enc, leaf, lo, hi, allow_normal, continuum_cache=None):
    """Re-evaluate one leaf's discard test on the box ``[lo, hi]``; ``(ok, why)``.

    ``continuum_cache`` (a dict) is given for a weak-form proof with ``continuum`` leaves
    (:func:`.continuum.check_continuum_leaf`); without it such a leaf fails.  The certificate
    data must pass :func:`parse_certificate`; the hypothesis is :func:`certificate_holds`.
    """
    test = leaf["test"]
    if test == SYM.LABEL:
        return SYM.check_leaf(bk, chart, leaf["data"] or {}, lo, hi)
    if test == "continuum":
        if continuum_cache is None:
            return False, "continuum leaves exist only in a weak-form proof (d = 2, K = 2, cross-entropy)"
        return C.check_continuum_leaf(chart, leaf["data"] or {}, lo, hi, continuum_cache)
    if test not in TESTS:
        return False, f"unknown test {test!r}"
    try:
        cert = parse_certificate(chart, leaf)
    except _BadLeafData as exc:
        return False, f"invalid certificate data: {exc}"
    ok, why = certificate_holds(bk, chart, enc, test, cert, lo, hi, allow_normal)
    return bool(ok), ("" if ok else why)


def _evaluated_by_tree(leaves) -> int:
    """Boxes a run evaluated, from its tree: every internal node and every leaf except those
    left unresolved because the box budget was spent (never evaluated)."""
    internal = {l["path"][:i] for l in leaves for i in range(len(l["path"]))}
    budget = sum(1 for l in leaves if l["test"] == "unresolved" and (l["data"] or {}).get("why") == "box budget spent")
    return len(internal) + len(leaves) - budget


def _fail(fails, why, test=None, index=None, path=None, **extra):
    fails.append(dict({"index": index, "path": path, "test": test, "why": why}, **extra))


def _holds_batched(chart, enc, key, items, allow_normal) -> np.ndarray:
    """:func:`certificate_holds` on a batch of leaves of one test (and one naive component), or
    Lemma 13's inequality ``i`` on a batch of ``symmetry`` leaves (``key = ("symmetry", "pair", i)``).

    ``items``: ``(index, certificate, lo, hi)`` per leaf (certificates from
    :func:`parse_certificate`, boxes as lists of floats); returns one bool per leaf.
    """
    test, mode, i = key
    lo = np.array([it[2] for it in items])
    hi = np.array([it[3] for it in items])
    certs = [it[1] for it in items]
    if test == SYM.LABEL:                # Lemma 13's inequality number i fails on the whole box
        x = [CHECKED_NUMPY.interval(lo[:, a], hi[:, a]) for a in range(3)]
        return np.broadcast_to(CHECKED_NUMPY.is_neg(SYM.pair_differences(CHECKED_NUMPY, x)[i]), (len(items),))
    if test == "gradient" and mode == "naive":
        cert = {"mode": "naive", "i": i}
    elif test == "gradient":
        cert = {"mode": "mv", "row": list(np.array([c["row"] for c in certs]).T)}
    elif test == "saddle_inplane":
        cert = {"v": list(np.array([c["v"] for c in certs]).T)}
    elif test == "saddle_normal":
        cert = {"c": list(np.array([c["c"] for c in certs]).T), "e": list(np.array([c["e"] for c in certs]).T)}
    else:
        Q = np.array([c["Q"] for c in certs])                                  # (B, m, m)
        cert = {"Q": [[Q[:, a, k] for k in range(Q.shape[2])] for a in range(Q.shape[1])]}
    ok, _ = certificate_holds(CHECKED_NUMPY, chart, enc, test, cert, list(lo.T), list(hi.T), allow_normal)
    return np.broadcast_to(np.asarray(ok, dtype=bool), (len(items),))


def check_landscape_proof(proof, *, max_failures=20, batched=True) -> ProofCheck:
    """Re-verify a proof from its file alone, with every transcendental value enclosed by arb.

    Parameters
    ----------
    proof : path or LandscapeProof
        A saved proof file, or a proof in memory (checked through its JSON form, as if saved).
    max_failures : int
        Stop re-evaluating leaves after this many failures.
    batched : bool
        ``True`` (default): the ``gradient``, ``saddle_*`` and ``etf_convex`` leaves are evaluated
        in batches of :data:`CHECK_BATCH` with :class:`~.intervals.CheckedNumpyBackend` (IEEE-754
        arithmetic rounded outwards, ``exp``/``log1p``/``cos``/``sin`` from arb balls), and a leaf
        that fails there is re-evaluated alone in python-flint balls (53 bits, then
        :data:`RETRY_PREC`), which decides; ``False``: every leaf in flint balls, one by one (the
        slower reference, no assumption on the hardware's rounding).  Both evaluate the same
        formulas (:func:`certificate_holds`; for ``symmetry`` leaves the inequalities of ``p_kl`` of
        Lemma 13 are batched too); ``continuum`` leaves and sample orderings are checked one by one.

    Returns
    -------
    ProofCheck
        ``valid`` and ``status``: ``"proved"`` when valid with no unresolved leaf, ``"not_proved"``
        when valid with unresolved leaves (or a stratum only), ``"invalid"`` when the proof fails:
        a leaf's test, the coverage, a stored box, the certificate data (non-finite entries
        included), the reductions' hypotheses, the recorded chart, reductions, counts, classes,
        unresolved list or status differing from what the checker rebuilds, or a "proof" without
        any ``etf_convex`` leaf (the global minimiser would lie in no box).

    Raises
    ------
    ProofFileError
        (a ``ValueError``) The file cannot be read as a proof: missing, unreadable, empty,
        truncated, not JSON, not a JSON object, another format, a key missing or mistyped, or a
        claim (``K``, ``n``, ``tau``, ``d``, loss) the prover does not support.
    """
    t0 = time.perf_counter()
    fails = []
    n_flint = [0]

    def done(status, msg, checked=0):
        return ProofCheck(status != "invalid", status, msg, fails, checked, time.perf_counter() - t0,
                          CHECK_METHODS[batched is True], n_flint[0])

    if isinstance(proof, LandscapeProof):
        source = "<proof in memory>"
        pr = LandscapeProof.from_json(json.loads(json.dumps(proof.to_json(), allow_nan=False)), source)
    elif isinstance(proof, (str, os.PathLike)):
        source = str(proof)
        pr = LandscapeProof.load(proof)
    else:
        raise TypeError(f"proof must be a path or a LandscapeProof, got {type(proof).__name__}")
    if not (isinstance(max_failures, int) and max_failures >= 1):
        raise ValueError(f"max_failures must be a positive integer, got {max_failures!r}")
    if not isinstance(batched, bool):
        raise TypeError(f"batched must be True or False, got {batched!r}")
    try:
        tau_exact = tuple(pr.tau_exact) if isinstance(pr.tau_exact, list) else pr.tau_exact
        st = _setup(pr.K, pr.n, tau_exact, pr.d, pr.loss, pr.stratum, pr.form)
    except (TypeError, ValueError) as exc:
        raise ProofFileError(f"{source}: not a claim the prover supports: {exc}") from None
    K, chart, enc = st.K, st.chart, st.enc
    if st.lemma3 and isinstance(enc, E.SoftmaxEnclosure) and enc.alpha:
        # Lemma 1's hypothesis with label smoothing, in flint (the float test is in _setup):
        # 1 / (1 + (K-1) e^{2 tau}) > alpha / K, i.e. tau < log((K - alpha) / (alpha (K - 1))) / 2
        fl = FlintBackend()
        a = fl.arb(enc.alpha)
        lim = ((K - a) / (a * (K - 1))).log() / 2
        if not bool(fl.arb(st.thi) < lim):
            _fail(fails, "tau too large for Lemma 1")
            return done("invalid", "invalid: tau too large for Lemma 1 with label smoothing")
    dlo, dhi = chart.domain()
    D = chart.dim
    dom_fail = _domain_failure(chart, dlo, dhi)
    if dom_fail:
        _fail(fails, dom_fail, test="domain")
        return done("invalid", f"invalid: {dom_fail}")
    leaves = pr.leaves
    try:
        cov = _cover_failures([l["path"] for l in leaves], D)
    except ValueError as exc:
        cov = [f"a path has a character that is no bisection step ({exc})"]
    for c in cov[:max_failures]:
        _fail(fails, c, test="coverage")
    bk = FlintBackend()
    ccache = {} if st.continuum else None
    checked = 0
    unresolved = 0
    leaf_fails = []                      # (index, failure), sorted by leaf at the end
    pending = {}                         # batch key -> [(index, certificate, lo, hi)]

    def check_scalar(idx, leaf, lo, hi):
        n_flint[0] += 1
        ok, why = check_leaf(bk, chart, enc, leaf, lo, hi, st.allow_normal, ccache)
        if not ok and not why.startswith("invalid certificate data"):
            # 53-bit balls can lose a margin the float layer kept (a naive gradient bound of 1.8e-16 on a
            # component of size 0.75, (2, 2) at d = 2 over tau in [0.5, 1.9]): one retry at RETRY_PREC bits
            from nc_verify.certify._flint import working_precision
            with working_precision(RETRY_PREC):
                ok, why = check_leaf(FlintBackend(), chart, enc, leaf, lo, hi, st.allow_normal, ccache)
        if not ok:
            leaf_fails.append((idx, dict(index=idx, path=leaf["path"], test=leaf["test"], why=why, lo=lo, hi=hi)))

    def flush(key):
        items = pending.pop(key)
        ok = _holds_batched(chart, enc, key, items, st.allow_normal)
        for (idx, _, lo, hi), good in zip(items, ok):
            if not good:                 # the scalar flint check decides (and says why)
                check_scalar(idx, leaves[idx], lo, hi)

    for idx, leaf in enumerate(leaves):
        if len(fails) + len(leaf_fails) >= max_failures:
            break
        try:
            lo, hi = _rebuild(dlo, dhi, leaf["path"], D)
        except ValueError as exc:
            leaf_fails.append((idx, dict(index=idx, path=leaf["path"], test=leaf["test"], why=str(exc))))
            continue
        stored = leaf["lo"] + leaf["hi"]
        if not all(isinstance(z, (int, float)) and not isinstance(z, bool) and math.isfinite(z) for z in stored):
            leaf_fails.append((idx, dict(index=idx, path=leaf["path"], test=leaf["test"],
                                         why="stored bounds are not finite numbers")))
        elif [float(z) for z in leaf["lo"]] != lo or [float(z) for z in leaf["hi"]] != hi:
            leaf_fails.append((idx, dict(index=idx, path=leaf["path"], test=leaf["test"],
                                         why="stored bounds differ from the box its path defines")))
        if leaf["test"] == "unresolved":
            unresolved += 1
            continue
        checked += 1
        cert = key = None
        if batched and leaf["test"] in BATCHED_TESTS and (leaf["test"] != "saddle_normal" or st.allow_normal):
            try:
                cert = parse_certificate(chart, leaf)
                key = (leaf["test"], cert.get("mode"), cert.get("i"))
            except _BadLeafData:
                pass
        elif batched and leaf["test"] == SYM.LABEL and SYM.applies(chart) and leaf["data"] in ({"pair": 0}, {"pair": 1}):
            if not isinstance(leaf["data"]["pair"], bool):
                cert, key = leaf["data"], (SYM.LABEL, "pair", leaf["data"]["pair"])
        if key is None:
            check_scalar(idx, leaf, lo, hi)
            continue
        pending.setdefault(key, []).append((idx, cert, lo, hi))
        if len(pending[key]) >= CHECK_BATCH:
            flush(key)
    for key in list(pending):
        flush(key)
    leaf_fails.sort(key=lambda t: t[0])
    fails.extend(f for _, f in leaf_fails[:max(0, max_failures - len(fails))])
    complete = len(fails) < max_failures or checked + unresolved == len(leaves)
    if not cov and complete:
        # what the file says about itself must be what its leaves and claim give
        try:
            meta = _metadata(st, leaves, _evaluated_by_tree(leaves))
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            meta = None
            _fail(fails, f"the description cannot be rebuilt from the leaves: {exc}", test="metadata")
        if meta is not None:
            recorded = {"status": pr.status, "chart": pr.chart, "reductions": pr.reductions, "counts": pr.counts,
                        "classes": pr.classes, "unresolved": pr.unresolved}
            rebuilt = json.loads(json.dumps(meta))
            for key in ("chart", "reductions", "counts", "classes", "unresolved"):
                if recorded[key] != rebuilt[key]:
                    _fail(fails, f"the file's {key} differs from the one rebuilt from its claim and leaves",
                          test="metadata")
            if pr.status != rebuilt["status"]:
                _fail(fails, f"file claims {pr.status!r} but has {unresolved} unresolved leaves"
                             + (f" and stratum {st.stratum!r}" if st.stratum != "all" else ""), test="metadata")
            as_list = lambda t: [float(z) for z in t] if isinstance(t, tuple) else [float(t)]
            if as_list(pr.tau) != as_list(st.tau):
                _fail(fails, "the file's tau is not the nearest float of its tau_exact", test="metadata")
        if unresolved == 0 and not any(l["test"] == "etf_convex" for l in leaves):
            # f has a global minimiser (compact manifold), a critical point with a PSD Hessian: it lies in
            # no gradient or saddle box, so a cover without any etf_convex box is contradictory (Lemma 5)
            _fail(fails, "no etf_convex leaf: the global minimiser (Lemma 5) lies in no box, so some discard "
                         "is false", test="etf_convex")
    if fails:
        f0 = fails[0]
        return done("invalid", f"invalid: {len(fails)} failure(s); first: leaf {f0['index']} "
                               f"(path {f0['path']!r}, test {f0['test']}): {f0['why']}", checked)
    if unresolved:
        return done("not_proved", f"valid, not proved: {checked} leaves verified, {unresolved} unresolved", checked)
    if st.stratum != "all":
        return done("not_proved", f"valid, not proved: {checked} leaves verified; they cover the "
                                  f"chart of {STRATA[st.stratum]} only (that stratum is proved; the rest is not "
                                  "covered)", checked)
    form = "" if st.form == C.STRICT else f" (form: {st.form})"
    return done("proved", f"valid{form}: {checked} leaves verified; the leaves cover the chart domain",
                checked)


def summary_lines(proof: LandscapeProof, check: ProofCheck = None, unchecked: str = None) -> list:
    """Lines for a CLI to print: what was proved, how, and what is left.

    Parameters
    ----------
    proof : LandscapeProof
    check : ProofCheck or None
        The flint re-check of ``proof`` (:func:`check_landscape_proof`); the statement is called
        proved only when it says so.
    unchecked : str or None
        Why there is no re-check (``check is None``), e.g. ``"python-flint missing"``.
    """
    c = proof.counts
    if check is None:
        why = unchecked or "not re-checked"
        lines = [f"status: {proof.status} by the numpy layer, unchecked ({why})"]
        if proof.status == "proved":
            lines.append("UNCHECKED: " + proof.statement + " -- the numpy layer assumes an error bound of libm's "
                         "exp/log1p/sin/cos; the flint checker (nc-verify prove --check FILE) makes it a proof")
        else:
            lines.append("NOT PROVED: " + proof.statement)
    elif not check.valid:
        lines = [f"status: invalid (the flint checker rejected the prover's {proof.status!r}: {check.message})",
                 "NOT PROVED: " + proof.statement]
    else:
        lines = [f"status: {check.status} (re-checked: {check.checked} leaves, {check.method}; "
                 f"{check.flint_leaves} in flint balls)"]
        if proof.stratum != "all" and c["unresolved"] == 0:
            lines.append("PROVED ON A STRATUM ONLY: " + proof.statement)
            lines.append("NOT PROVED: the dichotomy for all critical points (not covered: "
                         f"{NOT_COVERED[proof.stratum]})")
        else:
            lines.append(("PROVED: " if check.status == "proved" else "NOT PROVED: ") + proof.statement)
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
    lines.append(f"form: {proof.form}" + ("" if proof.form == C.STRICT else
                                           " (the weak form: strict saddle is false at d = 2, docs/continua.md)"))
    shown = [t for t in TESTS if t != "continuum" or proof.form == C.WEAK]
    lines.append(f"boxes: {c['evaluated']} evaluated; leaves: " +
                 ", ".join(f"{t} {c.get(t, 0)}" for t in shown + ([SYM.LABEL] if SYM.LABEL in c else []))
                 + f", unresolved {c['unresolved']}")
    if c["unresolved"]:
        vf = proof.volume_fractions()
        lines.append(f"proved: {100 * vf['resolved']:.4g} % of the chart's domain (coordinate measure), "
                     f"unresolved {100 * vf.get('unresolved', 0.0):.4g} %")
    lines.append(f"time: {proof.seconds:.1f} s" + ("" if check is None else f" (check {check.seconds:.1f} s)"))
    for r in proof.reductions:
        lines.append(f"uses {r['name']}")
    for u in proof.unresolved[:5]:
        ang = u["center_angles_deg"]
        lines.append("unresolved box near " + ", ".join(f"{key} = [" + ", ".join(f"{z:.2f}" for z in vals) + "]"
                                                         for key, vals in ang.items()) + " deg")
    if len(proof.unresolved) > 5:
        lines.append(f"... and {len(proof.unresolved) - 5} more unresolved boxes")
    return lines
