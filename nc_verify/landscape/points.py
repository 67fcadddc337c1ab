"""Distinct critical points modulo the symmetries: the point records and deduplication.

Distinct points are kept modulo the symmetries of problem (4) (a common
rotation, class relabelling, reordering samples within a class) by comparing
invariants: the cost, the sorted spectra of the blocks' Gram matrices (``W^T W`` and
``H^T H`` for problem (4)), the singular values of the blocks' cross products
(``W^T H``) and the Hessian spectrum.  A point with more zero Hessian
eigenvalues than its rotation-orbit dimension lies on a continuum of critical
points (e.g. ``W = u 1^T``, ``H = v 1^T`` with the angle of ``u, v`` free): such
points are compared by the invariants that stay constant along a continuum
(cost and the Gram spectrum of the first block, ``W^T W``) and reported once.  Points whose
Hessian computes to exactly zero (the softmax saturated at large ``tau``: cost, gradient
and curvature all underflow) at the same cost are one point too: nothing computed tells
them apart.  The number of zero Hessian
eigenvalues is not one of them: it differs between strata of one continuum (e.g.
``W = u 1^T``, cost ``log K``, any ``H`` whose class means differ only along ``u``:
10 and 13 zero eigenvalues at two of its points at ``(6, 4, 1)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nc_verify.landscape.newton import local_quadratic_model
from nc_verify.landscape.rounding import eigenvalue_floor
from nc_verify.landscape.spectrum import (
    count_zero_eigenvalues,
)
from nc_verify.objective.protocol import PointBlocks, as_point, check_problem

#: Invariants of two points closer than this (relative to their size) are the same
#: point: polished points carry errors ~ (gradient at rounding level) / (smallest
#: non-zero curvature), far below it, while distinct critical points differ at O(1).
INVARIANT_RTOL = 1e-6


@dataclass
class FoundPoint(PointBlocks):
    """A critical point with its invariants: the one point record of the search, Theorem 2 and probes.

    Attributes
    ----------
    point : tuple of ndarray
        The point's blocks (``(W, H)`` of shapes (d, K), (d, N) for problem (4);
        ``W`` and ``H`` are also attributes then).
    cost, gradient_norm : float
    invariants : dict of str -> ndarray
        ``"gram_i"`` (spectrum of block ``i``'s Gram matrix), ``"cross_i_j"`` (singular
        values of ``X_i^T X_j``) and ``"hessian"`` (Hessian spectrum).
    n_zero, orbit_dimension : int
        Zero Hessian eigenvalues (largest-gap count at
        :func:`~nc_verify.landscape.rounding.eigenvalue_floor`) and the rotation-orbit dimension.
    hits : int
        Starts that converged to this point (or, for a continuum, to any point of it).
    sources : dict of str -> int
        Hits per start kind.
    continuum : bool
        ``n_zero > orbit_dimension``: the point lies on a set of critical points
        larger than its rotation orbit (or is degenerate); reported once per continuum.
    """

    point: tuple
    cost: float
    gradient_norm: float
    invariants: dict
    n_zero: int
    orbit_dimension: int
    hits: int = 1
    sources: dict = field(default_factory=dict)


    @property
    def continuum(self) -> bool:
        return self.n_zero > self.orbit_dimension

    def merge(self, hits: int, sources: dict) -> None:
        """Count ``hits`` more starts, with their ``sources``, as reaching this point."""
        self.hits += hits
        for k, v in sources.items():
            self.sources[k] = self.sources.get(k, 0) + v

    def as_dict(self) -> dict:
        return {
            "point": list(self.point), "cost": self.cost, "gradient_norm": self.gradient_norm,
            "hits": self.hits, "sources": dict(self.sources), "n_zero": self.n_zero,
            "orbit_dimension": self.orbit_dimension, "continuum": self.continuum,
            "invariants": dict(self.invariants),
        }


def point_invariants(point, eigenvalues) -> dict:
    """Rotation- and relabelling-invariant fingerprints of a point (tuple of blocks).

    Gram spectra of every block, singular values of every pair's cross product and
    the Hessian spectrum ``eigenvalues`` (see :class:`FoundPoint`).  Blocks may carry
    a leading batch axis (shapes (B, d, m_i), ``eigenvalues`` (B, T)): then every
    invariant does too.
    """
    def gram(x, y):
        return np.swapaxes(x, -1, -2) @ y

    out = {f"gram_{i}": np.linalg.eigvalsh(gram(x, x)) for i, x in enumerate(point)}
    for i in range(len(point)):
        for j in range(i + 1, len(point)):
            out[f"cross_{i}_{j}"] = np.linalg.svd(gram(point[i], point[j]), compute_uv=False)
    out["hessian"] = np.asarray(eigenvalues)
    return out


def _close(a, b) -> bool:
    scale = 1.0 + max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return a.shape == b.shape and bool(np.max(np.abs(a - b), initial=0.0) <= INVARIANT_RTOL * scale)


def _signature(p):
    """The invariants of ``p`` as one vector, for :func:`same_point` (cached while ``p.invariants`` is the same dict).

    ``(invariants, keys, shapes, vector, segment starts, max |entry| per segment)``, or
    None when an invariant is empty (then :func:`_close` compares key by key).
    """
    sig = p.__dict__.get("_signature")
    if sig is None or sig[0] is not p.invariants:
        sig = _signatures([p.invariants], {k: np.asarray(v)[None] for k, v in p.invariants.items()})[0]
        if sig is not None:
            p.__dict__["_signature"] = sig
    return sig


def _signatures(dicts: list, stacked: dict) -> list:
    """:func:`_signature` of ``B`` points at once: ``dicts`` their invariant dicts, ``stacked`` the
    same invariants stacked (key -> array of shape (B, ...)); one tuple (or None) per point."""
    keys = tuple(stacked)
    B = len(dicts)
    arrays = [np.asarray(stacked[k], dtype=np.float64).reshape(B, -1) for k in keys]
    if not arrays or any(a.shape[1] == 0 for a in arrays):
        return [None] * B
    sizes = np.array([a.shape[1] for a in arrays])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    vectors = np.concatenate(arrays, axis=1)
    peaks = np.stack([np.max(np.abs(a), axis=1) for a in arrays], axis=1)
    shapes = tuple(np.shape(stacked[k])[1:] for k in keys)
    return [(d, keys, shapes, vectors[b], starts, peaks[b]) for b, d in enumerate(dicts)]


def same_point(p: FoundPoint, q: FoundPoint) -> bool:
    """True when ``p`` and ``q`` are one critical point modulo the symmetries (module docstring).

    Every invariant must agree to ``INVARIANT_RTOL (1 + max |entry|)`` (of the two points'
    entries of that invariant); the invariants are compared as one vector, segment by segment.
    """
    if abs(p.cost - q.cost) > INVARIANT_RTOL * (abs(p.cost) + abs(q.cost) + 1e-300):
        return False
    hp, hq = p.invariants.get("hessian"), q.invariants.get("hessian")
    if hp is not None and hq is not None and not np.any(hp) and not np.any(hq):
        # both Hessians underflow to exactly zero (saturated softmax, large tau): at the same cost
        # the arithmetic holds nothing that tells the points apart, so they are reported once
        return True
    if p.continuum or q.continuum:
        # not n_zero: it changes from stratum to stratum of one continuum (at W = u 1^T,
        # cost log K, points with 10 and 13 zero eigenvalues at (6, 4, 1) lie on one connected set)
        return p.continuum and q.continuum and _close(p.invariants["gram_0"], q.invariants["gram_0"])
    if p.invariants.keys() != q.invariants.keys():
        return False
    sp, sq = _signature(p), _signature(q)
    if sp is None or sq is None or sp[1] != sq[1]:
        return all(_close(p.invariants[k], q.invariants[k]) for k in p.invariants)
    if sp[2] != sq[2]:
        return False
    worst = np.maximum.reduceat(np.abs(sp[3] - sq[3]), sp[4])
    return bool(np.all(worst <= INVARIANT_RTOL * (1.0 + np.maximum(sp[5], sq[5]))))


def describe_point(problem, *point) -> FoundPoint:
    """Invariants, zero count and orbit dimension of a critical point (dense Hessian).

    Zero eigenvalues are counted at :func:`~nc_verify.landscape.rounding.eigenvalue_floor`,
    the level the classification uses.
    """
    p = check_problem(problem)
    x = as_point(p, *point)
    loc = local_quadratic_model(p, *x)
    return found_point(p, x, loc.gradient_norm, loc.eigenvalues)


def found_point(problem, point: tuple, gradient_norm: float, eigenvalues) -> FoundPoint:
    """The :class:`FoundPoint` at ``point`` (a tuple of blocks) from its gradient norm and Hessian spectrum.

    The search computes the spectrum itself (batched, or from a small problem by
    :func:`~nc_verify.landscape.embedding.embedded_spectrum`); :func:`describe_point`
    computes it densely.
    """
    return found_points(problem, tuple(np.asarray(x)[None] for x in point), [gradient_norm],
                        np.asarray(eigenvalues, dtype=np.float64)[None])[0]


def found_points(problem, points: tuple, gradient_norms, eigenvalues, costs=None) -> list:
    """:func:`found_point` for ``B`` points at once: the invariants' eigenvalue and singular-value
    problems batched.

    Parameters
    ----------
    problem : ManifoldProblem
    points : tuple of ndarray
        The blocks stacked, shapes (B, d, m_i) (``(W, H)`` of shapes (B, d, K), (B, d, N)).
    gradient_norms : array_like, shape (B,)
    eigenvalues : array_like, shape (B, T)
        Hessian spectra.
    costs : array_like, shape (B,), optional
        The points' costs where the caller has them (batched:
        :func:`~nc_verify.objective.problem.batched_costs`); else ``problem.cost`` per point.

    Returns
    -------
    list of FoundPoint
    """
    eigenvalues = np.sort(np.asarray(eigenvalues, dtype=np.float64), axis=-1)
    if eigenvalues.shape[0] == 0:
        return []
    invariants = point_invariants(points, eigenvalues)
    hessian_norms = np.max(np.abs(eigenvalues), axis=-1)
    out = []
    for b in range(eigenvalues.shape[0]):
        point = tuple(x[b] for x in points)
        n_zero, _ = count_zero_eigenvalues(eigenvalues[b], eigenvalue_floor(problem, float(hessian_norms[b])))
        out.append(FoundPoint(
            point=point, cost=problem.cost(*point) if costs is None else float(costs[b]),
            gradient_norm=float(gradient_norms[b]), invariants={k: v[b].copy() for k, v in invariants.items()},
            n_zero=n_zero, orbit_dimension=problem.orbit_dimension(*point),
        ))
    # formed where the points are found (a search's worker), not where they are merged
    for found, sig in zip(out, _signatures([q.invariants for q in out], invariants)):
        if sig is not None:
            found.__dict__["_signature"] = sig
    return out


def _hits_of(point: FoundPoint, source: str | None):
    """What merging ``point`` counts: one hit from ``source``, or without it ``point``'s own hits and sources."""
    return (1, {source: 1}) if source is not None else (point.hits, dict(point.sources))


def add_distinct(points: list, new: FoundPoint, source: str | None = None) -> bool:
    """Merge ``new`` into ``points`` (modulo symmetry); returns True if it is a new distinct point.

    With ``source`` the merge counts one hit from that start kind; without it,
    ``new``'s own ``hits`` and ``sources`` are added.
    """
    hits, sources = _hits_of(new, source)
    for p in points:
        if same_point(p, new):
            p.merge(hits, sources)
            return False
    new.hits, new.sources = hits, sources
    points.append(new)
    return True


class PointIndex:
    """Distinct points modulo symmetry, hashed by cost: insertion cost set by near-equal costs, not by the count.

    A point goes into the bucket ``(continuum, sign(f), floor(log|f| / w))`` with
    ``w = 4 INVARIANT_RTOL``.  Two points that :func:`same_point` can merge have costs
    within ``INVARIANT_RTOL (|f_1| + |f_2|)``, so their ``log|f|`` differ by at most
    ``-log(1 - 2 INVARIANT_RTOL) < w`` and their buckets by at most one; a new point is
    compared, by the full :func:`same_point`, with the points of its bucket and its two
    neighbours only.  The result is the one the linear scan of :func:`add_distinct`
    gives (the same merges, in the same order) wherever :func:`same_point` is
    transitive on the points compared.

    Attributes
    ----------
    points : list of FoundPoint
        In order of insertion.
    """

    WIDTH = 4 * INVARIANT_RTOL

    def __init__(self, points=()):
        self.points = []
        self._buckets = {}
        self.comparisons = 0
        for p in points:
            self._insert(p)

    def _key(self, point: FoundPoint):
        f = point.cost
        if f == 0.0 or not np.isfinite(f):
            return point.continuum, 0, 0
        return point.continuum, 1 if f > 0 else -1, int(np.floor(np.log(abs(f)) / self.WIDTH))

    def find(self, point: FoundPoint):
        """The stored point that is ``point`` modulo symmetry, or None."""
        c, s, k = self._key(point)
        for kk in (k - 1, k, k + 1):
            for q in self._buckets.get((c, s, kk), ()):
                self.comparisons += 1
                if same_point(q, point):
                    return q
        return None

    def _insert(self, point: FoundPoint) -> None:
        self.points.append(point)
        self._buckets.setdefault(self._key(point), []).append(point)

    def add(self, point: FoundPoint, source: str | None = None) -> bool:
        """Merge ``point`` as :func:`add_distinct` does; returns True if it is a new distinct point."""
        return self.merge(point, source)[1]

    def merge(self, point: FoundPoint, source: str | None = None):
        """:meth:`add`, returning ``(the stored point, new)``: ``point`` itself when it is new."""
        hits, sources = _hits_of(point, source)
        q = self.find(point)
        if q is not None:
            q.merge(hits, sources)
            return q, False
        point.hits, point.sources = hits, sources
        self._insert(point)
        return point, True


# ------------------------------------------------------------------ the .npz point format
def save_point(path, W, H, *, direction=None, metadata=None) -> str:
    """Write a point in nc-verify's one ``.npz`` point format; returns the path (``.npz`` appended if missing).

    Arrays ``W`` (d, K) and ``H`` (d, N) as float64 (bit for bit), optionally a tangent
    direction ``dW``, ``dH``, and ``metadata`` (a dict) as a JSON string.  Read by
    :func:`load_point`, ``nc-verify certify --point`` and
    :func:`~nc_verify.checks.probes.recheck_counterexample`.  The parent folder is created.
    """
    import json
    import os

    from nc_verify.utils.serialization import json_default
    from nc_verify.utils.validation import check_real_array

    for name, x in (("W", W), ("H", H)) + ((("dW", direction[0]), ("dH", direction[1])) if direction else ()):
        check_real_array(x, name)
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = {"W": np.asarray(W, dtype=np.float64), "H": np.asarray(H, dtype=np.float64)}
    if direction is not None:
        arrays.update(dW=np.asarray(direction[0], dtype=np.float64), dH=np.asarray(direction[1], dtype=np.float64))
    if metadata is not None:
        arrays["metadata"] = np.array(json.dumps(metadata, default=json_default))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    np.savez(path, **arrays)
    return path


def load_point(path, *, exact: bool = False):
    """Read a point file of :func:`save_point`: ``(W, H, direction, metadata)``.

    ``direction`` is ``(dW, dH)`` or None, ``metadata`` a dict (empty without one).
    With ``exact``, integer pairs ``W_num``/``W_den`` (likewise ``H``, ``dW``, ``dH``) are
    accepted as exact rationals (arrays of ``Fraction``); float arrays are returned as
    they are (exact binary rationals).  A file that is not such an ``.npz``, or arrays
    of the wrong shapes, raise ``ValueError`` naming the file and the array.
    """
    import json
    import os
    import zipfile
    from fractions import Fraction

    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"point file {path!r} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        raise ValueError(f"point file {path!r} is not an .npz archive (numpy.savez) holding arrays W and H") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        # a file's content, not an argument's type: ValueError like every other bad file
        raise ValueError(  # noqa: TRY004
            f"point file {path!r} is a single .npy array, not an .npz archive holding arrays W and H")
    with data:
        def get(name):
            if name in data.files:
                return np.array(data[name])
            if exact and f"{name}_num" in data.files and f"{name}_den" in data.files:
                num, den = data[f"{name}_num"], data[f"{name}_den"]
                if num.shape != den.shape:
                    raise ValueError(f"point file {path!r}: {name}_num and {name}_den must have the same shape")
                return np.vectorize(lambda a, b: Fraction(int(a), int(b)), otypes=[object])(num, den)
            return None

        W, H, dW, dH = get("W"), get("H"), get("dW"), get("dH")
        meta = json.loads(str(data["metadata"])) if "metadata" in data.files else {}
    if W is None or H is None:
        need = "W and H (or W_num/W_den and H_num/H_den)" if exact else "W and H"
        raise ValueError(f"point file {path!r} must hold arrays {need}; it holds {', '.join(data.files) or 'nothing'}")
    if W.ndim != 2 or W.shape[1] < 2:
        raise ValueError(f"point file {path!r}: W must be a (d, K) array with K >= 2 classes, got shape {W.shape}")
    if H.ndim != 2 or H.shape[0] != W.shape[0] or H.shape[1] % W.shape[1]:
        raise ValueError(f"point file {path!r}: W has shape {W.shape} but H has shape {H.shape}: W must be (d, K) "
                         "and H (d, n K) with the same d")
    if (dW is None) != (dH is None):
        raise ValueError(f"point file {path!r}: a direction needs both dW and dH")
    if dW is not None and (dW.shape != W.shape or dH.shape != H.shape):
        raise ValueError(f"point file {path!r}: dW, dH must have the shapes of W, H ({W.shape}, {H.shape}), "
                         f"got {dW.shape}, {dH.shape}")
    return W, H, (None if dW is None else (dW, dH)), meta


@dataclass
class ClassifiedPoint:
    """A distinct critical point with its classification: the record of Theorem 2 checks and probes.

    Attributes
    ----------
    report : CriticalPointReport
        Its classification (:func:`~nc_verify.landscape.classify.classify_critical_point`).
    names : list of str
        Family names that reached it, or ``"found"``.
    hits : int
        Search starts that converged to it.
    sources : dict of str -> int
        Hits per start kind.
    kind : str or None
        The caller's word for it where it differs from ``report.kind`` (a probe's
        "at_best_value", "potential_counterexample", ...); None: ``report.kind``.
    reason : str or None
        Likewise for ``report.reason``.
    file : str or None
        Where the point was saved (a potential counterexample).
    """

    report: object
    names: list = field(default_factory=list)
    hits: int = 0
    sources: dict = field(default_factory=dict)
    kind: str | None = None
    reason: str | None = None
    file: str | None = None

    def __post_init__(self):
        self.kind = self.report.kind if self.kind is None else self.kind
        self.reason = self.report.reason if self.reason is None else self.reason

    def merge(self, hits: int, sources: dict) -> None:
        """Count ``hits`` more starts, with their ``sources``, as reaching this point."""
        self.hits += hits
        for k, v in sources.items():
            self.sources[k] = self.sources.get(k, 0) + v

    @property
    def name(self) -> str:
        if not self.names:
            return "found"
        return self.names[0] if len(self.names) == 1 else f"{self.names[0]} (+{len(self.names) - 1})"

    point = property(lambda self: self.report.point, doc="The (refined) point, a tuple of blocks.")
    cost = property(lambda self: float(self.report.cost), doc="``f`` at the point.")
    gap = property(lambda self: float(self.report.gap), doc="``f`` minus the reference value.")
    gradient_norm = property(lambda self: float(self.report.gradient_norm), doc="``||grad f||``.")
    lambda_min = property(lambda self: float(self.report.lambda_min), doc="Smallest Hessian eigenvalue.")
    resolution = property(lambda self: float(self.report.resolution), doc="Its resolution.")
    margin = property(lambda self: float(self.report.margin), doc="``|lambda_min| / resolution``.")
    n_zero = property(lambda self: self.report.n_zero, doc="Zero Hessian eigenvalues.")
    orbit_dimension = property(lambda self: int(self.report.orbit_dimension), doc="Rotation-orbit dimension.")

    def as_dict(self) -> dict:
        return {**self.report.as_dict(), "kind": self.kind, "reason": self.reason, "names": list(self.names),
                "hits": self.hits, "sources": dict(self.sources), "file": self.file}
