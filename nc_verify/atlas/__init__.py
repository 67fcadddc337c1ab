"""The atlas: every distinct critical point of problem (4) at the sizes where the default search saturates.

Each entry is one size ``(d, K, n, tau)`` of cross-entropy problem (4): the distinct critical
points (modulo rotations and relabellings) that :func:`~nc_verify.verify_theorem2` found with
its default, saturating search, each with its classification (kind, cost, ``lambda_min``,
margin), the exact family that reaches it (or ``"new"``), its orbit type under class and
sample relabellings (:mod:`nc_verify.atlas.symmetry`) and the dimension of its span.  The
data ship with the package (``nc_verify/atlas/data/*.npz``, format version
:data:`ATLAS_VERSION`), so a researcher testing another method can ask whether their search
found every point in one call::

    from nc_verify import atlas
    entry = atlas.load(6, 4, 2, 2.0)
    result = atlas.compare(entry, my_points)       # [(W, H), ...] at (6, 4, 2, 2.0)
    print(result.summary())                        # found 251/260; 9 missing; 0 not in the atlas

Saturation is evidence, not proof: an entry lists what a saturated search found (its
search record says how many starts, and the Good-Turing estimate of a new point per start);
a point a user finds that :func:`compare` cannot match is reported, never silently dropped.
"""

from __future__ import annotations

import json
import math
import pathlib
from dataclasses import dataclass, field

import numpy as np

from nc_verify.atlas.symmetry import OrbitType, orbit_type, span_dimension
from nc_verify.landscape.newton import gradient_tolerance, local_quadratic_model
from nc_verify.landscape.points import found_point, same_point
from nc_verify.objective.problem import UFMProblem
from nc_verify.objective.protocol import as_point

#: Version of the data format; :func:`load` refuses files of a newer version.
ATLAS_VERSION = 1
#: Where the shipped entries live.
DATA_DIR = pathlib.Path(__file__).with_name("data")

_COLUMNS = ("kind", "cost", "lambda_min", "margin", "family", "stabilizer_order", "class_stabilizer_order",
            "span_dimension", "n_zero", "orbit_dimension", "hits", "sources")


@dataclass
class AtlasPoint:
    """One distinct critical point of an atlas entry.

    Attributes
    ----------
    W : ndarray, shape (d, K)
    H : ndarray, shape (d, N)
    kind : str
        Its classification (:data:`~nc_verify.landscape.classify.KINDS`).
    cost, lambda_min, margin : float
        ``f``, the smallest Riemannian Hessian eigenvalue (eqs. (7)-(8)) and
        ``|lambda_min| / resolution``.  For a point of a continuum (``n_zero > orbit_dimension``)
        the continuum's, as it was classified (:func:`~nc_verify.landscape.degenerate.classify_point`):
        at its worst member found, or the bound that every member's ``lambda_min`` satisfies
        (``W = u 1^T``, ``d >= 3``; ``docs/continua.md``); at ``W, H`` the smallest eigenvalue is
        then at most ``lambda_min``.
    family : str
        The exact families that reach it (``"+"``-joined), or ``"new"`` when only the
        numerical search found it.
    orbit : OrbitType
        Its stabiliser under class and sample relabellings.
    span_dimension : int
        ``dim span[W, H]``.
    n_zero, orbit_dimension : int
        Zero Hessian eigenvalues and the dimension of the rotation orbit.
    hits : int
        Search starts that reached it.
    sources : dict of str -> int
        Those hits per start kind (:mod:`nc_verify.landscape.search`'s sources).
    """

    W: np.ndarray
    H: np.ndarray
    kind: str
    cost: float
    lambda_min: float
    margin: float
    family: str
    orbit: OrbitType
    span_dimension: int
    n_zero: int
    orbit_dimension: int
    hits: int
    sources: dict = field(default_factory=dict)

    def row(self) -> dict:
        """The point's table row (every column but the coordinates)."""
        return {"kind": self.kind, "cost": self.cost, "lambda_min": self.lambda_min,
                "margin": self.margin if math.isfinite(self.margin) else None, "family": self.family,
                "stabilizer_order": self.orbit.stabilizer_order,
                "class_stabilizer_order": self.orbit.class_stabilizer_order,
                "span_dimension": self.span_dimension, "n_zero": self.n_zero,
                "orbit_dimension": self.orbit_dimension, "hits": self.hits, "sources": dict(self.sources)}


@dataclass
class Atlas:
    """One atlas entry: the distinct critical points at one size, and how they were found.

    Attributes
    ----------
    d, K, n : int
    tau : float
    points : list of AtlasPoint
        In increasing cost.
    search : dict
        The search that produced it: ``seed``, ``n_starts``, ``saturated``,
        ``last_new_point_at``, ``unseen_probability`` (Good-Turing), ``rarest_miss_probability``
        (the chance that a point as rare as the rarest found stays unseen after the last new one;
        absent from entries built before it was recorded), ``elapsed`` (s),
        ``contributions`` (points found first per source), ``verdict``.
    version : int
        Data format version.
    """

    d: int
    K: int
    n: int
    tau: float
    points: list
    search: dict = field(default_factory=dict)
    version: int = ATLAS_VERSION

    @property
    def key(self) -> tuple:
        return (self.d, self.K, self.n, self.tau)

    @property
    def problem(self) -> UFMProblem:
        return UFMProblem(self.d, self.K, self.n, self.tau)

    def counts(self) -> dict:
        """Distinct points per kind."""
        out: dict = {}
        for p in self.points:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    def table(self) -> list:
        """One row (dict) per point (:meth:`AtlasPoint.row`)."""
        return [p.row() for p in self.points]

    def save(self, path) -> str:
        """Write the entry as ``.npz`` (coordinates as arrays, the table and search record as JSON)."""
        meta = {"version": self.version, "d": self.d, "K": self.K, "n": self.n, "tau": self.tau,
                "search": self.search, "columns": list(_COLUMNS),
                "rows": [[p.row()[c] for c in _COLUMNS] for p in self.points]}
        path = str(path)
        np.savez_compressed(path, W=np.stack([p.W for p in self.points]), H=np.stack([p.H for p in self.points]),
                            meta=np.array(json.dumps(meta, allow_nan=False)))
        return path if path.endswith(".npz") else path + ".npz"


def file_name(d: int, K: int, n: int, tau: float) -> str:
    """File name of the entry ``(d, K, n, tau)``: ``d6_K4_n2_tau2.npz``."""
    return f"d{d}_K{K}_n{n}_tau{tau:g}.npz"


def read(path) -> Atlas:
    """Read an atlas entry written by :meth:`Atlas.save`.

    Raises
    ------
    ValueError
        The file is not an atlas entry, or its format version is newer than :data:`ATLAS_VERSION`.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            Ws, Hs = z["W"], z["H"]
    except (KeyError, ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(path)!r} is not an nc-verify atlas entry: {exc}") from None
    if meta.get("version", 0) > ATLAS_VERSION:
        raise ValueError(f"{str(path)!r} has atlas format version {meta['version']}; this nc-verify reads "
                         f"up to {ATLAS_VERSION}: upgrade nc-verify")
    n = int(meta["n"])
    points = []
    for W, H, row in zip(Ws, Hs, meta["rows"]):
        r = dict(zip(meta["columns"], row))
        order = math.factorial(int(meta["K"])) * math.factorial(n) ** int(meta["K"])
        points.append(AtlasPoint(
            W=W, H=H, kind=r["kind"], cost=r["cost"], lambda_min=r["lambda_min"],
            margin=math.inf if r["margin"] is None else r["margin"], family=r["family"],
            orbit=OrbitType(order, r["stabilizer_order"], r["class_stabilizer_order"]),
            span_dimension=r["span_dimension"], n_zero=r["n_zero"], orbit_dimension=r["orbit_dimension"],
            hits=r["hits"], sources=r["sources"]))
    return Atlas(d=int(meta["d"]), K=int(meta["K"]), n=n, tau=float(meta["tau"]), points=points,
                 search=meta["search"], version=int(meta["version"]))


def available() -> list:
    """The shipped entries' sizes ``(d, K, n, tau)``, sorted."""
    keys = []
    for f in DATA_DIR.glob("*.npz"):
        with np.load(f, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
        keys.append((int(meta["d"]), int(meta["K"]), int(meta["n"]), float(meta["tau"])))
    return sorted(keys)


def load(d: int, K: int, n: int, tau: float) -> Atlas:
    """The shipped entry at ``(d, K, n, tau)``.

    Raises
    ------
    ValueError
        No entry at that size (the message lists :func:`available`).
    """
    path = DATA_DIR / file_name(d, K, n, float(tau))
    if not path.is_file():
        sizes = ", ".join(f"({a}, {b}, {c}, {t:g})" for a, b, c, t in available())
        raise ValueError(f"the atlas has no entry at (d, K, n, tau) = ({d}, {K}, {n}, {tau:g}); entries: {sizes}")
    return read(path)


def from_report(report, *, seed) -> Atlas:
    """An atlas entry from a :class:`~nc_verify.checks.theorem2.Theorem2Report` of problem (4).

    Parameters
    ----------
    report : Theorem2Report
        Of a saturated search (an unsaturated one is refused: the atlas lists complete
        evidence only).
    seed : int
        The seed the report was made with (recorded).
    """
    if not report.saturated:
        raise ValueError("the report's search did not saturate: an atlas entry needs a saturated search "
                         f"({report.n_starts} starts, last new point at {report.last_new_point_at})")
    points = []
    for c in sorted(report.critical_points, key=lambda c: c.report.cost):
        W, H = c.report.point
        families = [name for name in c.names if name != "found"]
        points.append(AtlasPoint(
            W=np.array(W), H=np.array(H), kind=c.report.kind, cost=float(c.report.cost),
            lambda_min=float(c.report.lambda_min), margin=float(c.report.margin),
            family="+".join(families) if families else "new", orbit=orbit_type(W, H, report.n),
            span_dimension=span_dimension(W, H), n_zero=int(c.report.n_zero),
            orbit_dimension=int(c.report.orbit_dimension), hits=int(c.hits),
            sources={k: int(v) for k, v in c.sources.items()}))
    search = {"seed": seed, "n_starts": report.n_starts, "saturated": report.saturated,
              "last_new_point_at": report.last_new_point_at,
              "unseen_probability": float(report.unseen_probability),
              "rarest_miss_probability": float(report.rarest_miss_probability),
              "elapsed": round(report.search_elapsed, 1),
              "verdict": str(report.verdict)}
    return Atlas(d=report.d, K=report.K, n=report.n, tau=report.tau, points=points, search=search)


@dataclass
class AtlasComparison:
    """Outcome of :func:`compare`.

    Attributes
    ----------
    atlas : Atlas
    matched : dict of int -> list of int
        Atlas point index -> indices of the user's points that are that point modulo symmetry.
    missing : list of int
        Atlas points none of the user's points matched.
    unknown : list of int
        The user's critical points that match no atlas point (a point the atlas's search missed,
        or a continuum member compared by other invariants: check it with
        :func:`~nc_verify.classify_critical_point`).
    not_critical : list of int
        The user's points whose gradient norm is above float64's rounding level (not compared).
    """

    atlas: Atlas
    matched: dict
    missing: list
    unknown: list
    not_critical: list

    @property
    def complete(self) -> bool:
        """Every atlas point was found."""
        return not self.missing

    def summary(self) -> str:
        total = len(self.atlas.points)
        return (f"found {total - len(self.missing)}/{total} atlas points at (d, K, n, tau) = "
                f"({self.atlas.d}, {self.atlas.K}, {self.atlas.n}, {self.atlas.tau:g}); {len(self.missing)} missing; "
                f"{len(self.unknown)} critical points not in the atlas; {len(self.not_critical)} not critical")


def _points_of(points):
    items = getattr(points, "critical_points", None) or getattr(points, "points", None)
    items = points if items is None else items
    out = []
    for p in items:
        out.append(tuple(p) if isinstance(p, (tuple, list)) else tuple(p.point))
    return out


def compare(atlas: Atlas, points) -> AtlasComparison:
    """Match a user's critical points against an atlas entry, modulo rotations and relabellings.

    Parameters
    ----------
    atlas : Atlas
    points : iterable of (W, H), or a CriticalPointSearch / Theorem2Report
        Points of the entry's problem (shapes (d, K), (d, N), unit columns).

    Returns
    -------
    AtlasComparison
        Points are the same when every invariant agrees
        (:func:`~nc_verify.landscape.points.same_point`: cost, Gram spectra, cross singular
        values, Hessian spectrum); a user's point is compared only when its gradient norm is
        within the float64 rounding level (:func:`~nc_verify.landscape.newton.gradient_tolerance`).
    """
    if not isinstance(atlas, Atlas):
        raise TypeError(f"atlas must be an Atlas (nc_verify.atlas.load), got {type(atlas).__name__}")
    problem = atlas.problem
    user = [as_point(problem, *x) for x in _points_of(points)]

    def described(x):
        loc = local_quadratic_model(problem, *x)
        return found_point(problem, x, loc.gradient_norm, loc.eigenvalues), loc

    reference = [described((p.W, p.H))[0] for p in atlas.points]
    matched: dict = {}
    unknown, not_critical = [], []
    for j, x in enumerate(user):
        found, loc = described(x)
        if loc.gradient_norm > gradient_tolerance(problem, *x, hessian_norm=loc.hessian_norm):
            not_critical.append(j)
            continue
        i = next((i for i, r in enumerate(reference) if same_point(r, found)), None)
        if i is None:
            unknown.append(j)
        else:
            matched.setdefault(i, []).append(j)
    missing = [i for i in range(len(atlas.points)) if i not in matched]
    return AtlasComparison(atlas=atlas, matched=matched, missing=missing, unknown=unknown, not_critical=not_critical)


def plot(entries, path, *, columns: int = 3) -> str:
    """Cost against ``lambda_min`` of every point of each entry, coloured by kind, marked by family (PNG).

    Parameters
    ----------
    entries : list of Atlas
    path : str
        Output PNG.
    columns : int
        Panels per row.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = list(entries)
    rows = -(-len(entries) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.2 * rows + 0.6), squeeze=False,
                             constrained_layout=True)
    colours = {"global_minimizer": "tab:green", "strict_saddle": "tab:blue", "degenerate_saddle": "tab:red",
               "undecided": "tab:orange", "spurious_local_minimizer": "black", "local_minimizer": "tab:purple"}
    handles = {}
    for ax, e in zip(axes.flat, entries):
        bound = e.problem.bound
        for kind, colour in colours.items():
            for new, marker in ((False, "o"), (True, "x")):
                pts = [p for p in e.points if p.kind == kind and (p.family == "new") == new]
                if pts:
                    label = kind.replace("_", " ") + (" (in no exact family)" if new else " (exact family)")
                    handles[label] = ax.scatter([p.lambda_min for p in pts], [p.cost - bound for p in pts],
                                                c=colour, marker=marker, s=14, linewidths=0.8)
        ax.set_xscale("symlog", linthresh=1e-2)
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.axvline(0.0, color="grey", lw=0.5)
        ax.set_xlabel(r"$\lambda_{\min}$")
        ax.set_ylabel(r"$f$ minus Theorem 1's bound")
        ax.set_title(f"$(d, K, n, \\tau) = ({e.d}, {e.K}, {e.n}, {e.tau:g})$: {len(e.points)} points", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(entries):]:
        ax.set_visible(False)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=min(4, len(handles)),
               fontsize=8, frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


__all__ = ["ATLAS_VERSION", "Atlas", "AtlasComparison", "AtlasPoint", "OrbitType", "available", "compare",
           "file_name", "from_report", "load", "orbit_type", "plot", "read", "span_dimension"]
