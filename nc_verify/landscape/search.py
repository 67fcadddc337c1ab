"""Numerical search for the Riemannian critical points of problem (4) or any protocol problem.

Critical points are the zeros of the Riemannian gradient (eqs. (5)-(6)).  The
search minimises ``phi = 1/2 ||grad f||^2`` on the manifold by Levenberg-Marquardt
(on this manifold ``grad phi = Hess f[grad f]`` exactly, so the Gauss-Newton
model of ``grad f`` has Jacobian ``Hess f``), then polishes with pseudo-inverse
Newton steps (least squares: the Hessian is singular along the rotation orbit),
and re-checks ``||grad f||`` at the end -- a local minimum of ``phi`` with
``grad f != 0`` is reported as a failed start, never as a critical point.  For
problem (4) the starts run in batches (:mod:`nc_verify.landscape.batched`); other
protocol problems run start by start (:mod:`nc_verify.landscape.newton`).

Where the starts go (:data:`SOURCES`; the docs' search page, ``docs/search.md``,
has the argument and its proof):

* ``"small_r"`` -- uniform starts of the ``(r, K, n)`` problems, ``r = 2..min(K, d)``
  (``r < d``), embedded in ``R^d``: off the degenerate strata every critical point
  spans ``r <= K`` dimensions and is such an embedding
  (:mod:`nc_verify.landscape.embedding`); its full spectrum is the small one plus
  ``d - r`` copies of the normal block's.
* ``"collapsed"`` -- uniform starts of the ``(r, K, n')`` problems, ``n'`` a proper divisor
  of ``n``, lifted by ``h_{k,i} = v_{k, i mod n'}``: the cost is the ``(r, K, n')`` cost and
  the gradient ``1/(n / n')`` times its, so the lift of a critical point is critical (the
  fixed-point subspace of the within-class sample permutations with coinciding features).
  Points with collapsed classes are common and have small basins from uniform starts (at
  ``(6, 4, 2)``, ``tau = 2``, one at cost 3.0359 was reached by about one uniform-type
  start in 25 000).
* ``"subgroup"`` -- uniform starts in the fixed set of a random subgroup of the class and
  sample relabellings times ``O(r)`` (:mod:`nc_verify.landscape.sources`), in the
  ``(r, K, n)`` problems: the iteration is equivariant, so a start stays in its fixed set
  and reaches the points of that symmetry, whose basins among uniform starts are small.
* ``"symmetric"`` -- starts in fixed-point subspaces of class and sample
  permutations (the iteration is equivariant, so it stays there): features of a
  class tied up to sign, ``h_{k,i} = s_{k,i} v_k``, and classifiers tied in pairs.
* ``"coincident"`` -- random configurations in a 2- or 3-dimensional problem in which
  random pairs of classifiers are made equal or antipodal and random features equal
  or opposite to their classifier, then slightly perturbed (many critical points have
  such exact coincidences and small basins otherwise).
* ``"clustered"`` -- classifiers near a few random centres (up to sign), features
  near their classifier up to sign, in a problem of random ``r``.
* ``"strata"`` -- the exact family points (``known_critical_points``, first round
  only): for problem (4) the collinear points (``r = 1``) and the ``W = u 1^T``
  continua, the degenerate strata.
* ``"uniform"`` -- uniform starts in ``R^d`` (any stratum, including spans above ``K``).
* ``"subspace"`` -- starts inside a random subspace of random dimension (problems
  without the class structure of problem (4): the low-rank points).
* ``"family"`` -- perturbations of the exact family points, in ``R^d``.
* ``"explore"`` -- perturbations of the points found before the round (in round 0, of
  the exact family points), in the problem of their own span (critical points come in
  close pairs near bifurcations: at ``(6, 4, 1)``, ``tau = 2``, a saddle 1.1e-8 above
  the anti-aligned ETF's cost is reached by about one uniform-type start in 1350).
* ``"descent"`` -- a descent of ``f`` from a uniform start in ``R^d`` (a fraction
  ``descent_fraction`` of the starts; a batch of them opens each round, the others close
  it), ending at a minimum, polished: for problem (4) the batch runs at once
  (:func:`~nc_verify.landscape.batched.batched_descent`, shifted Newton on the stacked
  arrays), for other protocol problems pymanopt's trust regions start by start.

Starts are drawn in *rounds*: round ``i`` is a fixed list of batches, batch ``j``
drawing from ``default_rng([entropy, i, j])``; its explore batches perturb the points
known after round ``i - 1`` and are merged last, its other batches depend on nothing
found (so round ``i + 1``'s run while round ``i`` is merged).  The partition of the work
therefore does not depend on how the batches are executed: with ``workers`` or
``scheduler`` they run on dask.distributed and the result equals the serial run for the
same seed.  The results of a round are merged in batch order, start by start.

Saturation: the search is *saturated* when it has used at least
:data:`MIN_SATURATION_STARTS` starts, the last :data:`SATURATION_FRACTION` of them
found no new distinct point (with the default one half: doubling the starts found
nothing new), and the rarest distinct point was reached often enough that a point as
rare would have shown in those quiet starts: with ``k`` the fewest independent random
hits of a point, ``m`` the starts and ``q`` the starts since the last new point,
``q k / m >= SATURATION_RAREST_HITS`` (:data:`SATURATION_RAREST_HITS`, 3: such a point
stays unseen through them with probability ``exp(-q k / m) <= e^-3 ~ 0.05``, reported as
:attr:`CriticalPointSearch.rarest_miss_probability`; so every point found by random starts was
hit at least four times by them and the Good-Turing estimate below is zero).  Points of the exact enumeration
(``"strata"``) are known exactly and need no hit, and the ``"explore"`` starts, drawn
around the points already found, are not independent draws: their hits do not count.  With ``n_starts=None``
the search runs until it is saturated or reaches ``max_starts``.  Saturation is
evidence, not proof, that every critical point has been found: a point whose
basin catches a fraction ``p`` of the starts is missed by ``m`` starts with
probability ``(1 - p)^m``, and a point rarer than every point found is the one a
search misses.  The Good-Turing estimate of the chance that one more
start finds a new point (points reached by at most one independent random start /
converged independent random starts) is reported alongside.

Distinct points are kept modulo the symmetries of the problem, hashed by cost
(:class:`~nc_verify.landscape.points.PointIndex`).

Checkpoints: with ``checkpoint=PATH`` the merge state (distinct points, discovery curve,
descent costs, counters, the round snapshots and the number of batches merged) is written
to ``PATH`` after a merged batch at most every ``checkpoint_interval`` seconds, and when
the search ends, atomically (a temporary file renamed over the old one).  A search started
again with the same ``PATH`` and options skips the batches already merged: as every batch
is fixed by ``(entropy, round, batch)`` and the snapshots are restored, a search killed at
any moment resumes from its last checkpoint and ends with the result of the uninterrupted
run.  A finished search's checkpoint returns its result at once.
"""

from __future__ import annotations

import numbers
import os
import pickle
import sys
import time
from dataclasses import dataclass

import numpy as np

from nc_verify.landscape.batched import (
    batched_descent,
    batched_eigvalsh,
    batched_levenberg_marquardt,
    batched_newton_polish,
)
from nc_verify.landscape.embedding import embed, merge_spectra, normal_blocks_from, normal_norm_bound, reduce_to_span
from nc_verify.landscape.newton import gradient_tolerance, levenberg_marquardt, newton_polish
from nc_verify.landscape.points import PointIndex, describe_point, found_point, found_points
from nc_verify.landscape.rounding import gradient_rounding
from nc_verify.landscape.solvers import solve
from nc_verify.landscape.sources import subgroup_starts
from nc_verify.objective.oblique import normalize_columns
from nc_verify.objective.problem import UFMProblem, batched_costs, batched_loss_quantities
from nc_verify.objective.protocol import blocks, check_problem
from nc_verify.utils.progress import Progress
from nc_verify.utils.threads import blas_threads_for
from nc_verify.utils.validation import as_rng, check_choice, check_int

METHODS = ("lm", "newton", "descent")
#: Where the starts come from (module docstring).
SOURCES = ("strata", "small_r", "collapsed", "subgroup", "symmetric", "coincident", "clustered", "explore", "uniform",
           "subspace", "family", "descent")
#: Sources whose points are exact constructions: they need no second hit to count as saturated.
ENUMERATED_SOURCES = ("strata",)
#: Sources whose starts are drawn around the points already found (perturbations of them): their hits
#: are no independent draws, so they count neither as a point's second hit in the saturation rule
#: nor in the Good-Turing estimate (at (9, 5, 2), tau = 1.5, a point reached by one random start in
#: about 10^5 was then hit 8 times by "explore" starts, and a search missing another such point
#: declared itself saturated).
DEPENDENT_SOURCES = ("explore",)
#: A search is saturated when no new distinct point came in the last
#: ``SATURATION_FRACTION`` of its starts, and it used at least ``MIN_SATURATION_STARTS``.
SATURATION_FRACTION = 0.5
#: With 1500, one seed in three stopped before a point reached about once per 300 starts at
#: (6, 4, 1) and one per 150 at (5, 3, 2), tau = 2; with 3000 three seeds agree at every size measured.
MIN_SATURATION_STARTS = 3000
#: The rarest point's expected hits in the quiet starts (``q k / m``, module docstring) a saturated search
#: needs.  The rule before asked for two hits of every point and a quiet half, i.e. ``q k / m >= 1``: a point
#: as rare as the rarest found then stays unseen with probability up to ``e^-1``.  Replayed on the hit rates of
#: two 200 000-start searches at (9, 5, 2), tau = 1.5 (784 points, the rarest reached about once per 200 000
#: starts), a search stopped by that rule had missed a point in 29 % of 300 replays, median stop 375 000
#: starts; with 2, 12 % at 630 000; with 3, 8 % at 840 000.  Where every point is hit six times by the
#: quiet half the condition adds nothing.
SATURATION_RAREST_HITS = 3.0
#: Cap of the adaptive search (``n_starts=None``).  With the rule above (6, 4, 2, 2) stopped at 39 000-54 000
#: starts for seeds 0-2 (replays on measured hit rates: median 77 000, 90th percentile 110 000), (8, 6, 1, 1)
#: at a median of 65 000 in replays (90th percentile 87 000): the cap 60 000 of the rule before would have
#: left them undecided.  At (9, 5, 2), tau = 1.5 the replays stop at a median of 840 000 starts (about 20 CPU
#: minutes), but beyond 1 000 000 in about a quarter of them: those end undecided at the cap.  A cap, not a
#: budget: at sizes whose points are rarer a default search runs to it (``max_starts``, ``--max-starts``).
DEFAULT_MAX_STARTS = 1_000_000
#: Starts per batch: at (6, 4, 2), tau = 2, 6000 starts ran at 330, 710 and 816 starts per
#: second with batches of 32, 64 and 128 (the per-call overhead of the batched iteration is
#: shared by more starts); 256 gained nothing before the iteration cap was lowered.
DEFAULT_BATCH = 128
#: Levenberg-Marquardt iterations per start: at (r, 4, 2), r = 2 and 4, tau = 2, 512 uniform
#: starts converged as often with 30 as with 60 (444 and 469 of 512), 1.5-1.7x faster, as
#: the starts that use the last iterations are mostly those that never converge.
LM_ITERATIONS = 30
#: Starts that end the LM_ITERATIONS above the rounding level but with ``||grad f||`` at most this
#: fraction of the gradient's scale run LM_CRAWL_ITERATIONS more.  At (9, 5, 2), tau = 1.5, a saddle
#: with two nearly coinciding classifiers (cosine 0.99986), reached about once in 250 000 starts, is
#: one where LM crawls: of 128 starts 10^-1.5..10^-1 away from it, 40 converged within 30 iterations,
#: 122 within 120, and the 88 unconverged ones had relative gradients 4e-8..2e-6; of 1 536 uniform
#: starts (r = 2, 3, 5) the 200 unconverged after 30 iterations had 7e-6 (it then converged) to 4e-2,
#: lower quartiles 1.8e-3 and above: they stall far from any critical point (docs/search.md, "The
#: points LM crawls to").
LM_CRAWL_GRADIENT = 1e-5
LM_CRAWL_ITERATIONS = 90
#: Batches kept queued per worker of a distributed search (the cost of a stop: at most this many
#: batches per worker computed in vain; enough that the workers never wait for the merge).
WINDOW_PER_WORKER = 4
#: Descent runs per batch (part of the start partition; for protocol problems other than problem (4)
#: each is a trust-region run of its own, far dearer than a root-finder start).
DESCENT_BATCH = 4
#: Default seconds between checkpoint writes (``checkpoint=``); a write costs a pickle of the points.
CHECKPOINT_INTERVAL = 10.0
#: Format version of the checkpoint files.
CHECKPOINT_VERSION = 1
_DISTRIBUTED_HINT = 'a distributed search needs dask.distributed: pip install "nc-verify[sweep]"'


def _enumerated(point) -> bool:
    return any(point.sources.get(s, 0) for s in ENUMERATED_SOURCES)


def _random_hits(point) -> int:
    """Hits by independent random starts: neither the exact enumeration nor :data:`DEPENDENT_SOURCES`."""
    return point.hits - sum(point.sources.get(s, 0) for s in ENUMERATED_SOURCES + DEPENDENT_SOURCES)


def _rarest_hits(points) -> float:
    """The fewest independent random hits of a point not from the exact enumeration (inf when there is none)."""
    return min((_random_hits(p) for p in points if not _enumerated(p)), default=float("inf"))


@dataclass
class CriticalPointSearch:
    """Result of :func:`find_critical_points`.

    Attributes
    ----------
    points : list of FoundPoint
        Distinct critical points, in order of discovery (``sources``: hits per source,
        the first key the source that found it).
    n_starts, n_converged : int
        Starts used, and starts that ended at a critical point (gradient at rounding level).
    discovery : ndarray of int, shape (n_starts,)
        Distinct points known after each start (the saturation curve).
    descent_costs : ndarray
        Costs at the ends of the descent runs (Newton-polished), in start order.
    elapsed : float
        Seconds.
    n_enumerated : int
        Converged starts of the exact enumeration (``"strata"``), left out of the Good-Turing estimate.
    """

    points: list
    n_starts: int
    n_converged: int
    discovery: np.ndarray
    descent_costs: np.ndarray
    elapsed: float = 0.0
    n_enumerated: int = 0

    @property
    def saturated(self) -> bool:
        """At least :data:`MIN_SATURATION_STARTS` starts, none new in the last
        :data:`SATURATION_FRACTION` of them, and the rarest distinct point not from the exact
        enumeration reached often enough by independent random starts (the exact enumeration and
        :data:`DEPENDENT_SOURCES` left out) that ``q k / m >= SATURATION_RAREST_HITS`` (module docstring)."""
        return is_saturated(self.discovery, self.points)

    @property
    def rarest_miss_probability(self) -> float:
        """The chance that a point as rare as the rarest one found stays unseen through the quiet starts.

        ``exp(-q k / m)``: ``k`` the fewest independent random hits of a distinct point (exact
        enumeration and :data:`DEPENDENT_SOURCES` left out), ``m`` the starts, ``q`` the starts after
        the last new point; the rarest point's rate estimated as ``k / m``.  0.0 when every point is
        from the exact enumeration, NaN without a point.  At most ``exp(-SATURATION_RAREST_HITS)`` in
        a saturated search.  Evidence, not proof: a point rarer than every point found is missed
        more often.
        """
        if not self.points or self.n_starts == 0:
            return float("nan")
        k = _rarest_hits(self.points)
        if k == float("inf"):
            return 0.0
        quiet = self.n_starts - self.last_new_point_at
        return float(np.exp(-quiet * k / self.n_starts))

    @property
    def unseen_probability(self) -> float:
        """Good-Turing estimate of the chance that one more start finds a new point.

        ``(points reached by at most one independent random start) / (converged independent random
        starts)``, leaving out the exact enumeration and the starts of :data:`DEPENDENT_SOURCES`
        (a point found by those alone counts as unseen); NaN without a converged random start.
        """
        n = sum(_random_hits(p) for p in self.points if not _enumerated(p))
        if n <= 0:
            return float("nan")
        return sum(not _enumerated(p) and _random_hits(p) <= 1 for p in self.points) / n

    @property
    def last_new_point_at(self) -> int:
        """1-based index of the start that found the last new distinct point (0 if none)."""
        if not self.points:
            return 0
        return int(np.argmax(self.discovery == self.discovery[-1]) + 1)

    @property
    def contributions(self) -> dict:
        """Distinct points per source that found them first."""
        out = {}
        for p in self.points:
            first = next(iter(p.sources))
            out[first] = out.get(first, 0) + 1
        return out

    def as_dict(self) -> dict:
        return {
            "points": [p.as_dict() for p in self.points], "n_starts": self.n_starts,
            "n_converged": self.n_converged, "discovery": self.discovery,
            "saturated": self.saturated, "last_new_point_at": self.last_new_point_at,
            "unseen_probability": self.unseen_probability, "rarest_miss_probability": self.rarest_miss_probability,
            "descent_costs": self.descent_costs,
            "elapsed": self.elapsed, "contributions": self.contributions,
            "n_enumerated": self.n_enumerated,
        }


def saturation_projection(last_new: int, max_starts: int, rarest: float = float("inf"), starts: int = 0) -> int:
    """Starts at which an adaptive search would stop if no new point came any more (an estimate).

    The saturation rule's earliest stop: at least :data:`MIN_SATURATION_STARTS`, the
    last new point (at start ``last_new``) within the first ``1 - SATURATION_FRACTION``
    of the starts, i.e. ``ceil(last_new / (1 - SATURATION_FRACTION))``, and, when the rarest
    point has ``rarest`` random hits after ``starts`` starts (``0 < rarest < inf``), at its rate
    ``rarest / starts`` an expected :data:`SATURATION_RAREST_HITS` hits after ``last_new``:
    ``last_new + ceil(SATURATION_RAREST_HITS starts / rarest)``; at most ``max_starts``.  A new
    point moves it later: the progress bar labels it an estimate.
    """
    need = int(np.ceil(last_new / (1.0 - SATURATION_FRACTION)))
    if 0 < rarest < float("inf") and starts > 0:
        need = max(need, last_new + int(np.ceil(SATURATION_RAREST_HITS * starts / rarest)))
    return min(int(max_starts), max(MIN_SATURATION_STARTS, need))


def is_saturated(discovery, points) -> bool:
    """The saturation rule of :class:`CriticalPointSearch` (discovery curve and points so far)."""
    if not len(discovery) or not points:
        return False
    last_new = int(np.argmax(np.asarray(discovery) == discovery[-1])) + 1
    return _saturation_rule(len(discovery), last_new, _rarest_hits(points))


def _saturation_rule(m: int, last_new: int, rarest: float) -> bool:
    """The rule itself: ``m`` starts, the last new point at start ``last_new``, the rarest point's random hits."""
    quiet = m - last_new
    return (m >= MIN_SATURATION_STARTS and quiet >= SATURATION_FRACTION * m
            and (rarest == float("inf") or quiet * rarest >= SATURATION_RAREST_HITS * m))


class _RarestHits:
    """:func:`_rarest_hits` of the search's points, kept up to date as hits are merged (the rule runs after every start).

    ``update(point)`` after every merge into ``point``; ``value`` is the fewest random hits of a point
    not from the exact enumeration (inf when there is none).  The levels are counted, so a merge costs
    O(1) unless it empties the lowest level.
    """

    def __init__(self, points=()):
        self.level, self.count, self.value = {}, {}, float("inf")
        for p in points:
            self.update(p)

    def update(self, point) -> None:
        old = self.level.pop(id(point), None)
        if old is not None:
            self.count[old] -= 1
            if not self.count[old]:
                del self.count[old]
        new = float("inf")
        if not _enumerated(point):
            new = self.level[id(point)] = _random_hits(point)
            self.count[new] = self.count.get(new, 0) + 1
        if self.value not in self.count:                  # the lowest level emptied (or there was none)
            self.value = min(self.count, default=float("inf"))
        elif new < self.value:
            self.value = new


# ------------------------------------------------------------------- starts
def _perturb(point, rng, low, high):
    noise = 10.0 ** rng.uniform(low, high)
    return tuple(normalize_columns(x + noise * rng.standard_normal(x.shape)) for x in point)


def _symmetric_start(r, K, n, rng):
    """A point of a fixed-point subspace: ``h_{k,i} = s_{k,i} v_k`` and, at random, classifiers tied in pairs."""
    W = normalize_columns(rng.standard_normal((r, K)))
    if rng.random() < 0.5:
        for k in range(1, K, 2):
            W[:, k] = rng.choice([-1.0, 1.0]) * W[:, k - 1]
    V = W if rng.random() < 0.5 else normalize_columns(rng.standard_normal((r, K)))
    signs = rng.choice([-1.0, 1.0], (K, n)) if rng.random() < 0.5 else np.tile(rng.choice([-1.0, 1.0], n), (K, 1))
    return W, (V[:, :, None] * signs[None]).reshape(r, K * n)


def _coincident_start(r, K, n, rng):
    """Classifiers joined in random groups (equal or antipodal), features equal or opposite to their classifier."""
    W = normalize_columns(rng.standard_normal((r, K)))
    group = rng.integers(0, K, K)
    for k in range(1, K):                   # join class k to an earlier class of its group
        same = np.flatnonzero(group[:k] == group[k])
        if same.size and rng.random() < 0.5:
            W[:, k] = rng.choice([-1.0, 1.0]) * W[:, same[0]]
    H = normalize_columns(rng.standard_normal((r, K * n)))
    own = rng.random(K * n) < 0.5
    H[:, own] = W[:, np.arange(K * n)[own] // n] * rng.choice([-1.0, 1.0], int(own.sum()))
    return _perturb((W, H), rng, -3, -1)


def _clustered_start(r, K, n, rng):
    """Classifiers near a few random centres (up to sign), features near their classifier (up to sign)."""
    c = int(rng.integers(1, K + 1))
    centres = normalize_columns(rng.standard_normal((r, c)))
    noise = 10.0 ** rng.uniform(-3, -1)
    W = centres[:, rng.integers(0, c, K)] * rng.choice([-1.0, 1.0], K)
    W = normalize_columns(W + noise * rng.standard_normal((r, K)))
    own = np.repeat(W, n, axis=1) * rng.choice([-1.0, 1.0], K * n)
    return W, normalize_columns(own + noise * rng.standard_normal((r, K * n)))


def _subspace_start(p, rng):
    d = p.d
    r = int(rng.integers(1, min(d - 1, min(p.block_sizes)) + 1))
    U = np.linalg.qr(rng.standard_normal((d, r)))[0]
    return tuple(normalize_columns(U @ rng.standard_normal((r, m))) for m in p.block_sizes)


@dataclass(frozen=True)
class _Task:
    """One batch of starts: ``source``, the dimension ``r`` of the problem it is solved in, size, rng key."""

    source: str
    r: int
    size: int
    key: tuple


def _round_tasks(p, index: int, batch: int, fraction: float, root_finders: tuple) -> list:
    """The batches of round ``index`` (fixed by the problem, the round, the batch size and the options)."""
    d = p.d
    plan = []                                    # (source, r, starts)
    if root_finders:
        if index == 0:
            plan.append(("strata", d, 0))
        if isinstance(p, UFMProblem):
            top = min(p.K, d)
            # the small problems are cheap (tangent dimension (r - 1)(K + N)) and hold the rare
            # points (at (6, 4, 2), tau = 2, the points found late span r = 2 and 3, many planar
            # ones with small basins): min(4, 4^(top - r)) batches of starts for r
            plan += [("small_r", r, batch) for r in range(2, top + 1) if r < d for _ in range(min(4, 4 ** (top - r)))]
            # fixed-point subspaces of random subgroups (nc_verify.landscape.sources): at (9, 5, 2),
            # tau = 1.5, the rarest tenth of the points came 3-6x as often per second as from
            # small_r, most at r = 3, 4 (docs/search.md, "Where the points live")
            plan += [("subgroup", r, batch) for r in range(2, top + 1) if r < d for _ in range(2 if r == 2 else 4)]
            plan += [("collapsed", r, batch) for r in range(2, top + 1) if p.n > 1]
            # near-coincident starts: at (9, 5, 2), tau = 1.5, the points that some of three
            # 60 000-start runs missed or found late came 1.6-3.5x as often per start from these two as
            # from subgroup or small_r (docs/search.md, "The points found late"): 4 batches each
            plan += [("symmetric", 0, batch)] + [("coincident", 0, batch), ("clustered", 0, batch)] * 4
            tail = [("uniform", d, max(1, batch // 2)), ("family", d, max(1, batch // 2))]
        else:
            plan += [("uniform", d, batch), ("subspace", d, batch)]
            tail = [("family", d, max(1, batch // 2))]
        plan += [("explore", 0, batch), ("explore", 0, batch)]
        plan += tail
    others = sum(size for source, _, size in plan if source != "strata")
    n_descent = batch if fraction >= 1.0 or not plan else int(np.ceil(fraction * others / (1.0 - fraction)))
    descents = [("descent", d, min(DESCENT_BATCH, n_descent - i)) for i in range(0, n_descent, DESCENT_BATCH)]
    # one batch of descent runs opens the round, so that a short search has some; the rest close it
    return [_Task(s, r, size, (index, j)) for j, (s, r, size) in enumerate(descents[:1] + plan + descents[1:])]


def _task_starts(p, task: _Task, rng, family_points, pool):
    """The starts of a batch, each in the problem it is solved in: a list of ``(r, point)``."""
    d = p.d
    if task.source == "strata":
        return [(d, x) for x in family_points]
    if task.source in ("uniform", "descent") or (task.source == "family" and not family_points):
        return [(d, blocks(p.random_point(rng))) for _ in range(task.size)]
    if task.source == "subspace":
        return [(d, _subspace_start(p, rng)) for _ in range(task.size)]
    if task.source == "family":
        return [(d, _perturb(family_points[int(rng.integers(len(family_points)))], rng, -4, -1))
                for _ in range(task.size)]
    if task.source == "explore":
        pool = pool or family_points
        if not pool:
            return [(d, blocks(p.random_point(rng))) for _ in range(task.size)]
        return [_explore_start(p, pool[int(rng.integers(len(pool)))], rng) for _ in range(task.size)]
    K, n = p.K, p.n
    top = min(K, d)
    if task.source == "small_r":
        q = p.resized(task.r)
        return [(task.r, q.random_point(rng)) for _ in range(task.size)]
    if task.source == "collapsed":
        divisors = [m for m in range(1, n) if n % m == 0]
        q = p.resized(task.r, divisors[int(rng.integers(len(divisors)))])
        return [(task.r, q.random_point(rng)) for _ in range(task.size)]
    if task.source == "subgroup":
        return subgroup_starts(task.r, K, n, task.size, rng)
    out = []
    for _ in range(task.size):
        if task.source == "symmetric":
            r = int(rng.integers(2, top + 1))
            out.append((r, _perturb(_symmetric_start(r, K, n, rng), rng, -12, -10)))
        elif task.source == "coincident":
            r = int(rng.integers(2, min(top, 3) + 1))
            out.append((r, _coincident_start(r, K, n, rng)))
        else:                                # "clustered"
            r = int(rng.integers(2, top + 1))
            out.append((r, _clustered_start(r, K, n, rng)))
    return out


def _explore_start(p, point, rng):
    """A perturbation of a found point, in the problem of its own span (problem (4)) or in ``R^d``."""
    if isinstance(p, UFMProblem):
        w, h, _ = reduce_to_span(*point)
        r = max(2, w.shape[0])
        if r < p.d:
            return r, _perturb(embed(normalize_columns(w), normalize_columns(h), r), rng, -3, -1)
    return p.d, _perturb(point, rng, -3, -1)


def _run_task(p, task: _Task, entropy: int, family_points, pool, root_finders):
    """Run one batch: its distinct points, and per start the index of its point (or None) and descent cost.

    Returns ``(points, ends)``: ``points`` the distinct critical points the batch reached
    (modulo symmetry, in order of first arrival), ``ends`` one ``(index into points or
    None, descent cost or None)`` per start, in order.  Sending each distinct point once
    keeps what a worker returns small.  Small dense matrices throughout: BLAS on one thread
    (:func:`~nc_verify.utils.threads.blas_threads_for`).
    """
    with blas_threads_for(p):
        rng = np.random.default_rng([entropy, *task.key])
        starts = _task_starts(p, task, rng, family_points, pool)
        if task.source == "descent":
            out = _descent_batched(p, starts) if isinstance(p, UFMProblem) else [_descent(p, x) for _, x in starts]
        elif isinstance(p, UFMProblem):
            out = _run_batched(p, starts, root_finders[task.key[1] % len(root_finders)])
        else:
            out = [(_root(p, x, root_finders[task.key[1] % len(root_finders)]), None) for _, x in starts]
    local, position, ends = PointIndex(), {}, []
    for found, cost in out:
        if found is None:
            ends.append((None, cost))
            continue
        q, new = local.merge(found)
        if new:
            position[id(q)] = len(local.points) - 1
        ends.append((position[id(q)], cost))
    for q in local.points:                   # hits are counted where the batches are merged
        q.hits, q.sources = 1, {}
    return local.points, ends


def _converged(p, x, gnorm, eigenvalues):
    """The point record of ``x`` if ``||grad f||`` is at rounding level there, else None (one start at a time;
    :func:`_converged_batch` for the batched starts of problem (4))."""
    hessian_norm = float(np.max(np.abs(eigenvalues)))
    return found_point(p, x, gnorm, eigenvalues) if gnorm <= gradient_tolerance(p, *x, hessian_norm=hessian_norm) else None


def _descent(p, x0):
    """A descent run of a protocol problem other than problem (4): trust regions, one start at a time."""
    res = solve(p, "trust_regions", x0=x0, gradient_tol=1e-10)
    *x, _ = newton_polish(p, *res.point)
    found = describe_point(p, *x)
    return _converged(p, found.point, found.gradient_norm, found.invariants["hessian"]), p.cost(*x)


def _descent_batched(p: UFMProblem, starts):
    """The descent runs of a batch of problem (4) at once (:func:`~nc_verify.landscape.batched.batched_descent`)."""
    res = batched_descent(p, np.stack([x[0] for _, x in starts]), np.stack([x[1] for _, x in starts]))
    return list(zip(_converged_batch(p, p, res), batched_costs(p, res.W, res.H).tolist()))


def _converged_batch(p: UFMProblem, q: UFMProblem, res) -> list:
    """:func:`_converged` for a batch of end points of the ``(r, K, n)`` problem ``q``, embedded in ``R^d``.

    ``res``: a :class:`~nc_verify.landscape.batched.BatchedSolve` whose models hold the
    spectra of ``q``'s Hessians.  The full Hessian norm that the tolerance needs is
    ``max(||Hess_q||, ||normal block||)`` (:mod:`~nc_verify.landscape.embedding`); a start
    whose gradient exceeds the tolerance at an upper bound of it
    (:func:`~nc_verify.landscape.embedding.normal_norm_bound` for the normal block) fails the
    exact test too (the tolerance grows with the norm) and is dropped before any spectrum
    of its normal block is computed.  The survivors' normal blocks are decomposed in one
    batched call, and the records of the converged ones built together
    (:func:`~nc_verify.landscape.points.found_points`).  Returns one record or None per start.
    """
    m = res.models
    gn, scale = m.gradient_norm, m.scale
    hn = np.max(np.abs(m.eigenvalues), axis=-1)
    if q.d < p.d:
        G, row, col, _ = batched_loss_quantities(q, res.W, res.H, hessian_blocks=False)
        Q = normal_blocks_from(q.tau, G, row, col)
        cand = np.flatnonzero(gn <= gradient_rounding(p, scale, np.maximum(hn, normal_norm_bound(Q))))
        extra = batched_eigvalsh(Q[cand])
        full = np.maximum(hn[cand], np.max(np.abs(extra), axis=-1, initial=0.0))
        keep = gn[cand] <= gradient_rounding(p, scale[cand], full)
        conv = cand[keep]
        spectra = merge_spectra(m.eigenvalues[conv], extra[keep], p.d - q.d)
        W, H = embed(res.W[conv], res.H[conv], p.d)
    else:
        conv = np.flatnonzero(gn <= gradient_rounding(p, scale, hn))
        spectra, W, H = m.eigenvalues[conv], res.W[conv], res.H[conv]
    out = [None] * len(gn)
    costs = batched_costs(q, res.W[conv], res.H[conv])     # zero padding leaves the logits unchanged
    for b, found in zip(conv, found_points(p, (W, H), gn[conv], spectra, costs)):
        out[b] = found
    return out


def _root(p, x0, finder):
    *x, _ = levenberg_marquardt(p, *x0, max_iterations=LM_ITERATIONS) if finder == "lm" else newton_polish(p, *x0, steps=40)
    found = describe_point(p, *x)
    return _converged(p, found.point, found.gradient_norm, found.invariants["hessian"])


def _lift(H, K: int, n: int) -> np.ndarray:
    """Features of ``n'`` samples per class, shape (..., r, K n'), lifted to ``n``: ``h_{k,i} = v_{k, i mod n'}``."""
    m = H.shape[-1] // K
    j = np.arange(K * n)
    return H[..., (j // n) * m + (j % n) % m]


def _run_batched(p: UFMProblem, starts, finder):
    """Batched root-finding, each start in the problem of its own size ``(r, K, n')``; results in ``R^d``, ``n``."""
    out = [None] * len(starts)
    for r, m in sorted({(r, x[1].shape[-1]) for r, x in starts}):
        idx = [i for i, (s, x) in enumerate(starts) if s == r and x[1].shape[-1] == m]
        q = p.resized(r, m // p.K)
        W0 = np.stack([starts[i][1][0] for i in idx])
        H0 = np.stack([starts[i][1][1] for i in idx])
        if finder == "lm":
            res = _continue_crawling(q, batched_levenberg_marquardt(q, W0, H0, max_iterations=LM_ITERATIONS))
        else:
            res = batched_newton_polish(q, W0, H0, steps=40)
        if m < p.N:                              # lift, and take the spectrum in the (r, K, n) problem
            q = p.resized(r)
            res = batched_newton_polish(q, res.W, _lift(res.H, p.K, p.n), steps=2)
        for i, found in zip(idx, _converged_batch(p, q, res)):
            out[i] = (found, None)
    return out


def _continue_crawling(q: UFMProblem, res):
    """Levenberg-Marquardt again, :data:`LM_CRAWL_ITERATIONS` more iterations, for the starts of ``res`` that
    ended above the rounding level but with ``||grad f|| <= LM_CRAWL_GRADIENT * scale``: near a critical point
    whose Hessian is nearly singular the iteration crawls (module constant's note), while the starts that
    stall far from any critical point are left alone.  ``res`` is updated in place and returned."""
    crawl = np.flatnonzero(~res.converged & (res.gradient_norm <= LM_CRAWL_GRADIENT * res.models.scale))
    if crawl.size:
        more = batched_levenberg_marquardt(q, res.W[crawl], res.H[crawl], max_iterations=LM_CRAWL_ITERATIONS)
        res.W[crawl], res.H[crawl] = more.W, more.H
        res.models.put(crawl, more.models)
        res.converged[crawl] = more.converged
    return res


def _shared_value(value):
    """The identity: a task whose result is data every batch of a distributed search reads."""
    return value


def _is_client(obj) -> bool:
    """Whether ``obj`` is a ``distributed.Client`` (False where dask.distributed is not installed)."""
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(obj, distributed.Client)


def _wait(futures, return_when):
    from distributed import wait

    return wait(futures, return_when=return_when)


def _client(workers, scheduler):
    """A dask.distributed client and the LocalCluster it owns (None for a scheduler or a client given)."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(_DISTRIBUTED_HINT) from exc
    from nc_verify.utils.cluster import connect, local_cluster

    if isinstance(scheduler, distributed.Client):
        return scheduler, None
    if scheduler is not None:
        return connect(scheduler), None
    cluster = local_cluster(workers)
    return distributed.Client(cluster), cluster


def _read_checkpoint(path, fingerprint: dict):
    """The state saved at ``path`` (None if there is no file), checked against the search's options."""
    try:
        with open(path, "rb") as fh:
            state = pickle.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError) as exc:
        raise ValueError(f"checkpoint {os.fspath(path)!r} cannot be read: {exc}") from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"checkpoint {os.fspath(path)!r} is not a search checkpoint of format version "
                         f"{CHECKPOINT_VERSION}")
    saved = state["fingerprint"]
    differ = [k for k in fingerprint if k != "entropy" and saved.get(k) != fingerprint[k]]
    if fingerprint["entropy"] is not None and saved["entropy"] != fingerprint["entropy"]:
        differ.append("seed")
    if differ:
        raise ValueError(f"checkpoint {os.fspath(path)!r} belongs to another search (different "
                         + ", ".join(differ) + "); remove it or give another path")
    return state


def _write_checkpoint(path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically (a killed write leaves the previous checkpoint)."""
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def find_critical_points(problem, *, n_starts=None, seed=None,
                         methods=("lm", "descent"), descent_fraction: float = 0.02,
                         max_starts: int = DEFAULT_MAX_STARTS, progress=None,
                         batch_size: int = DEFAULT_BATCH, workers=None, scheduler=None,
                         checkpoint=None, checkpoint_interval: float = CHECKPOINT_INTERVAL) -> CriticalPointSearch:
    """Search for the critical points of a problem from many starts.

    Parameters
    ----------
    problem : ManifoldProblem
        Problem (4) (:class:`~nc_verify.objective.problem.UFMProblem`, batched, with the
        small-``r`` sources) or any problem of the problem protocol
        (:mod:`nc_verify.objective.protocol`; start by start); exact family points
        (``known_critical_points``) are the "strata" and "family" starts where the
        problem has them.  Dense Hessians are formed at every iterate: meant for small
        sizes (tangent dimension up to a few hundred).
    n_starts : int or None
        Number of starts (descent runs and the exact family points included).  None
        (default): run until the search is saturated (see
        :attr:`CriticalPointSearch.saturated`) or ``max_starts`` starts were used.
    seed : int, numpy Generator or None
    methods : iterable of {"lm", "newton", "descent"}
        "lm": Levenberg-Marquardt on ``1/2 ||grad f||^2`` then Newton polish;
        "newton": pseudo-inverse Newton alone; "descent": a descent to a minimum
        from a uniform random start, polished (a fraction ``descent_fraction`` of the
        starts; batched for problem (4), trust regions otherwise).  The root-finder
        starts come from the sources of :data:`SOURCES`.
    descent_fraction : float in [0, 1]
        Share of descent runs (for protocol problems other than problem (4) each costs
        tens of root-finder starts: their trust regions are not batched).
    max_starts : int
        Cap of the adaptive search (``n_starts=None``); ignored otherwise.
    progress : bool or None
        Progress bar on stderr (default: when stderr is a terminal).
    batch_size : int
        Starts per batch (module docstring); part of the start partition, so it
        changes the result for a given seed.
    workers : int, optional
        Run the batches on a dask ``LocalCluster`` of this many single-threaded
        worker processes (the ``sweep`` extra; :func:`nc_verify.utils.cluster.local_cluster`),
        started for this search and closed at its end.  Same result as the serial run.
    scheduler : str or distributed.Client, optional
        Address of a running dask scheduler (``"tcp://host:8786"``), or a connected
        ``distributed.Client``, kept open: a warm cluster used by several searches starts its
        workers and their imports once.  ``workers`` is then ignored.  Start its workers without
        dask's default ``MALLOC_TRIM_THRESHOLD_`` (config ``distributed.nanny.pre-spawn-environ``):
        it costs the search about a third more CPU time; and with the preload
        ``nc_verify.utils.cluster`` (pymanopt without the autodiff frameworks, 2 s less per worker).
    checkpoint : str or path-like, optional
        Save the search's state there (module docstring) and resume from it when it
        exists: the result is the uninterrupted run's.  With ``seed=None`` a resumed
        search takes the checkpoint's seed; other options must match the checkpoint's.
    checkpoint_interval : float
        Seconds between checkpoint writes (at batch boundaries; 0: after every batch).

    Returns
    -------
    CriticalPointSearch
    """
    t0 = time.perf_counter()
    p = check_problem(problem)
    adaptive = n_starts is None
    max_starts = check_int(max_starts, "max_starts", 1)
    n_starts = max_starts if adaptive else check_int(n_starts, "n_starts", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    if isinstance(methods, str):
        raise TypeError(f"methods must be a sequence of method names, got the string {methods!r}; "
                        f"e.g. ({methods!r},)")
    methods = tuple(methods)
    for m in methods:
        check_choice(m, "method", METHODS)
    if not methods:
        raise ValueError("methods must name at least one of " + ", ".join(map(repr, METHODS)))
    if isinstance(descent_fraction, (bool, np.bool_)) or not isinstance(descent_fraction, numbers.Real):
        raise TypeError(f"descent_fraction must be a real number, got {type(descent_fraction).__name__}")
    if not 0.0 <= descent_fraction <= 1.0:
        raise ValueError(f"descent_fraction must be in [0, 1], got {descent_fraction!r}")
    if workers is not None:
        workers = check_int(workers, "workers", 1)
    if scheduler is not None and not isinstance(scheduler, str) and not _is_client(scheduler):
        raise TypeError(f"scheduler must be an address string such as 'tcp://host:8786' or a "
                        f"distributed.Client, got {type(scheduler).__name__}")
    if isinstance(checkpoint_interval, (bool, np.bool_)) or not isinstance(checkpoint_interval, numbers.Real) \
            or not checkpoint_interval >= 0:
        raise ValueError(f"checkpoint_interval must be a number of seconds >= 0, got {checkpoint_interval!r}")
    entropy = int(as_rng(seed).integers(2**63))
    state = None
    if checkpoint is not None:
        checkpoint = os.fspath(checkpoint)
        fingerprint = {"problem": repr(p), "n_starts": None if adaptive else n_starts, "max_starts": max_starts,
                       "batch_size": batch_size, "methods": methods, "descent_fraction": float(descent_fraction),
                       "entropy": None if seed is None else entropy}
        state = _read_checkpoint(checkpoint, fingerprint)
        if state is not None:
            entropy = state["fingerprint"]["entropy"]
        fingerprint["entropy"] = entropy
        if state is not None and state["finished"]:
            return _search_result(state, 0.0)
    known = getattr(p, "known_critical_points", None)
    family_points = [blocks(x) for x in known().values()] if known is not None else []
    root_finders = tuple(m for m in methods if m != "descent")
    fraction = 1.0 if not root_finders else (descent_fraction if "descent" in methods else 0.0)

    client, cluster = _client(workers, scheduler) if workers is not None or scheduler is not None else (None, None)
    index = PointIndex(state["points"] if state is not None else ())
    discovery = state["discovery"] if state is not None else []
    descent_costs = state["descent_costs"] if state is not None else []
    n_converged, n_enumerated, last_new = state["counters"] if state is not None else (0, 0, 0)
    merged = state["merged"] if state is not None else 0         # batches merged (before a resume, too)
    spent = state["elapsed"] if state is not None else 0.0
    written = time.perf_counter()
    # The batches in merge order: round 0's others, round 0's explore batches, round 1's
    # others, ...  A round's explore batches perturb the points known after the round before
    # (a snapshot taken when that round is merged); the other batches depend on nothing found.
    # So on a cluster the next batches can run while earlier ones are merged: WINDOW_PER_WORKER
    # batches per worker are kept running or queued (an explore part waits for its snapshot),
    # at most twice as many not yet merged; a stop wastes at most those.
    window = 1 if client is None else WINDOW_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
    snapshots = state["snapshots"] if state is not None else {-1: []}   # round -> points known after it
    #                                                                   (round 0 explores the families)
    # "starts": the starts of the batches taken so far; a batch that begins at or after start
    # n_starts (the cap of an adaptive search) would never be merged: none is submitted ("end")
    part = {"next": (0, False), "tasks": [], "args": None, "closes": None, "skip": merged, "starts": 0,
            "end": False}
    inflight = []

    def shared(value):
        # on a cluster, data every batch of a part needs goes to each worker once, as the result of a
        # task that holds it: unlike scattered data, the scheduler can compute it again when the
        # worker holding it dies (a killed worker then costs only its batches)
        return value if client is None else client.submit(_shared_value, value, pure=False)

    p_shared, families_shared = shared(p), shared(family_points)

    def running():
        return sum(1 for _, f, _, _ in inflight if f is None or not f.done())

    def refill():
        while not part["end"] and running() < window and len(inflight) < 2 * window:
            if not part["tasks"]:
                j, explore = part["next"]
                if explore and j - 1 not in snapshots:
                    return                       # waits for the round before to be merged
                tasks = _round_tasks(p, j, batch_size, fraction, root_finders)
                others = [t for t in tasks if t.source != "explore"]
                explores = [t for t in tasks if t.source == "explore"]
                part["tasks"] = explores if explore else others
                part["args"] = (entropy, families_shared, shared(snapshots[j - 1]) if explore else [], root_finders)
                part["closes"] = j if explore or not explores else None     # this part ends round j
                part["next"] = (j + 1, False) if explore or not explores else (j, True)
                continue
            task = part["tasks"].pop(0)
            closes = part["closes"] if not part["tasks"] else None
            begins = part["starts"]
            part["starts"] += len(family_points) if task.source == "strata" else task.size
            if part["skip"]:                     # merged before a resume
                part["skip"] -= 1
                continue
            if begins >= n_starts:
                part["end"] = True
                return
            args = part["args"]
            future = None if client is None else client.submit(_run_task, p_shared, task, *args, pure=False)
            inflight.append((task, future, args, closes))

    label = "critical points (until saturated)" if adaptive else "critical points"
    try:
        # adaptive: the total shown is the saturation rule's projected end, an estimate
        rarest = _RarestHits(index.points)
        with Progress(saturation_projection(last_new, n_starts, rarest.value, len(discovery)) if adaptive
                      else n_starts, label,
                      enabled=progress, estimated=adaptive) as bar:
            if discovery:                        # resumed from a checkpoint
                bar.update(len(discovery), postfix=f"{len(index.points)} distinct (resumed)")
            done = False
            while not done:
                refill()
                while inflight[0][1] is not None and not inflight[0][1].done():
                    # keep the workers busy while the batch to merge next is still running
                    _wait([f for _, f, _, _ in inflight if not f.done()], return_when="FIRST_COMPLETED")
                    refill()
                task, future, args, closes = inflight.pop(0)
                found, ends = future.result() if future is not None else _run_task(p, task, *args)
                stored = {}                      # the batch's points -> the points of the search
                for i, cost in ends:
                    if cost is not None:
                        descent_costs.append(cost)
                    if i is not None:
                        n_converged += 1
                        n_enumerated += task.source in ENUMERATED_SOURCES
                        if i in stored:
                            stored[i].merge(1, {task.source: 1})
                        else:
                            stored[i], new = index.merge(found[i], task.source)
                            if new:
                                last_new = len(discovery) + 1
                        rarest.update(stored[i])
                    discovery.append(len(index.points))
                    m = len(discovery)
                    bar.update(postfix=f"{len(index.points)} distinct",
                               total=saturation_projection(last_new, n_starts, rarest.value, m) if adaptive else None)
                    # is_saturated, with the rarest point's hits kept as they come: it runs after every start
                    if m >= n_starts or (adaptive and index.points and _saturation_rule(m, last_new, rarest.value)):
                        done = True
                        break
                if closes is not None:
                    snapshots[closes] = [q.point for q in index.points]
                merged += 1
                now = time.perf_counter()
                if checkpoint is not None and (done or now - written >= checkpoint_interval):
                    _write_checkpoint(checkpoint, {
                        "version": CHECKPOINT_VERSION, "fingerprint": fingerprint, "finished": done,
                        "merged": merged, "points": index.points, "discovery": discovery,
                        "descent_costs": descent_costs, "counters": (n_converged, n_enumerated, last_new),
                        "snapshots": snapshots, "elapsed": spent + now - t0})
                    written = time.perf_counter()
    finally:
        if client is not None:
            # the batches not merged (a stop, an error, Ctrl-C): a client given stays connected
            client.cancel([f for _, f, _, _ in inflight if f is not None])
            if client is not scheduler:
                client.close()
        if cluster is not None:
            cluster.close()
    return _search_result({"points": index.points, "discovery": discovery, "descent_costs": descent_costs,
                           "counters": (n_converged, n_enumerated, last_new), "elapsed": spent},
                          time.perf_counter() - t0)


def _search_result(state: dict, extra: float) -> CriticalPointSearch:
    """The result from a search's merge state (the live one, or a finished checkpoint's); ``extra`` seconds
    are added to the state's elapsed time."""
    n_converged, n_enumerated, _ = state["counters"]
    return CriticalPointSearch(
        points=state["points"], n_starts=len(state["discovery"]), n_converged=n_converged,
        discovery=np.asarray(state["discovery"], dtype=int), descent_costs=np.asarray(state["descent_costs"]),
        elapsed=state["elapsed"] + extra, n_enumerated=n_enumerated,
    )
