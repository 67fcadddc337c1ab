"""Sweeps over grids of ``(d, K, n, tau, loss, seed)`` on dask.distributed.

A grid file (TOML) names a task and the values of each parameter; every cell of
the Cartesian product runs the task once::

    task = "probe"                 # "probe", "derivatives" or "theorem1"
    d = [3, 4]
    K = [3]
    n = [1]
    tau = [1.0, 4.0]
    loss = ["cross_entropy", "focal:2"]
    seed = [0]

    [options]                      # keyword arguments of the task (probe: n_starts, ...)
    n_starts = 4

Cells run on a dask.distributed cluster: a ``LocalCluster`` (one single-threaded
worker process per ``workers``, on 127.0.0.1) by default, or a running scheduler
given by its address (``tcp://host:8786``); ``workers=0`` runs the cells one after
another in this process, without dask.  Every finished cell is appended to a
JSON-lines file as one line, written with a single ``os.write`` on a file opened
with ``O_APPEND`` -- a crash never leaves a partial line behind a finished cell,
and a partial tail (a write cut short by the kernel) is dropped on resume.
``resume=True`` skips the cells already in the file, so a killed sweep loses at
most the cells in flight and never duplicates one.

dask is an optional dependency: ``pip install "nc-verify[sweep]"``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from dataclasses import dataclass

import numpy as np

from nc_verify.utils.progress import Progress
from nc_verify.utils.cluster import connect, workers_ignore_interrupt
from nc_verify.utils.serialization import dumps, strict
from nc_verify.utils.validation import check_int, check_positive_float

TASKS = ("probe", "derivatives", "theorem1", "theorem2")
PARAMETERS = ("d", "K", "n", "tau", "loss", "seed")
GRID_KEYS = ("task",) + PARAMETERS + ("options",)
#: Keyword options each task accepts from the grid's ``[options]`` table.
TASK_OPTIONS = {
    "probe": ("n_starts", "search_starts", "descent_tol", "max_iterations", "save_dir"),
    "derivatives": ("directions",),
    "theorem1": ("trials", "random_points"),
    "theorem2": ("n_starts",),
}
_INSTALL_HINT = 'sweeps need dask.distributed: pip install "nc-verify[sweep]"'


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from None
    return distributed


# --------------------------------------------------------------------- grid
@dataclass(frozen=True)
class Cell:
    """One grid cell: the task and its inputs."""

    task: str
    d: int
    K: int
    n: int
    tau: float
    loss: str
    seed: int
    options: tuple = ()

    @property
    def inputs(self) -> dict:
        return {"task": self.task, "d": self.d, "K": self.K, "n": self.n, "tau": self.tau,
                "loss": self.loss, "seed": self.seed, "options": dict(self.options)}

    @property
    def id(self) -> str:
        """Stable identifier: a hash of the canonical JSON of the inputs."""
        text = json.dumps(self.inputs, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass
class Grid:
    """A validated grid (see the module docstring); :meth:`cells` lists its cells."""

    task: str
    values: dict
    options: dict

    def cells(self) -> list:
        opts = tuple(sorted(self.options.items()))
        return [Cell(self.task, *combo, options=opts)
                for combo in itertools.product(*(self.values[k] for k in PARAMETERS))]


def _as_list(raw, key):
    vals = raw if isinstance(raw, list) else [raw]
    if not vals:
        raise ValueError(f"grid entry {key!r} is empty")
    return vals


def parse_grid(data: dict) -> Grid:
    """Validate a grid given as a dict (the parsed TOML); every error names the offending entry.

    Checked before anything runs: unknown keys, missing parameters, value types and
    ranges (``d >= 2``, ``K >= 2``, ``n >= 1`` -- ``n >= 2`` for "supcon" --,
    ``tau > 0``), loss specs, task options, and sizes the task cannot handle
    (a probe's dense Hessians: tangent dimension at most
    :data:`nc_verify.landscape.spectrum.DENSE_LIMIT`; Theorem 1: ``d >= K`` and cross-entropy).
    """
    from nc_verify.checks.probes import SUPCON
    from nc_verify.landscape.spectrum import DENSE_LIMIT
    from nc_verify.objective.losses import get_loss

    if not isinstance(data, dict):
        raise TypeError(f"grid must be a table, got {type(data).__name__}")
    unknown = sorted(set(data) - set(GRID_KEYS))
    if unknown:
        raise ValueError(f"unknown grid key(s) {', '.join(map(repr, unknown))}; valid: {', '.join(GRID_KEYS)}")
    task = data.get("task", "probe")
    if task not in TASKS:
        raise ValueError(f"grid entry 'task': unknown task {task!r}; valid: {', '.join(map(repr, TASKS))}")
    missing = [k for k in ("d", "K", "n", "tau") if k not in data]
    if missing:
        raise ValueError(f"grid is missing {', '.join(map(repr, missing))}")
    values = {}
    for key, minimum in (("d", 2), ("K", 2), ("n", 1), ("seed", 0)):
        vals = _as_list(data.get(key, 0 if key == "seed" else None), key)
        for i, v in enumerate(vals):
            try:
                check_int(v, key, minimum)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"grid entry {key!r}[{i}]: {exc}") from None
        values[key] = [int(v) for v in vals]
    taus = _as_list(data["tau"], "tau")
    for i, v in enumerate(taus):
        try:
            check_positive_float(v, "tau")
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"grid entry 'tau'[{i}]: {exc}") from None
    values["tau"] = [float(v) for v in taus]
    losses = _as_list(data.get("loss", "cross_entropy"), "loss")
    specs = []
    for i, v in enumerate(losses):
        if not isinstance(v, str):
            raise TypeError(f"grid entry 'loss'[{i}]: a loss spec string, got {type(v).__name__} {v!r}")
        if v.strip() == SUPCON:
            specs.append(SUPCON)
            continue
        try:
            specs.append(get_loss(v).spec)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"grid entry 'loss'[{i}]: {exc}") from None
    values["loss"] = specs
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise TypeError(f"grid entry 'options' must be a table, got {type(options).__name__}")
    bad = sorted(set(options) - set(TASK_OPTIONS[task]))
    if bad:
        raise ValueError(f"grid entry 'options': unknown option(s) {', '.join(map(repr, bad))} for task "
                         f"{task!r}; valid: {', '.join(TASK_OPTIONS[task])}")
    for combo in itertools.product(values["d"], values["K"], values["n"], values["loss"]):
        d, K, n, loss = combo
        where = f"cell d={d}, K={K}, n={n}, loss={loss!r}"
        if loss == SUPCON:
            if n < 2:
                raise ValueError(f"grid {where}: the supervised contrastive loss needs n >= 2")
            if task != "probe":
                raise ValueError(f"grid {where}: task {task!r} is not available for 'supcon' (probe only)")
            T = (d - 1) * K * n
        else:
            T = (d - 1) * (K + K * n)
        if task == "probe" and T > DENSE_LIMIT:
            raise ValueError(f"grid {where}: tangent dimension {T} exceeds the probe's dense limit {DENSE_LIMIT}")
        if task == "theorem1" and (d < K or loss != "cross_entropy"):
            raise ValueError(f"grid {where}: Theorem 1 needs d >= K and loss 'cross_entropy'")
        if task == "theorem2" and loss != "cross_entropy":
            raise ValueError(f"grid {where}: Theorem 2 is stated for loss 'cross_entropy' (use task 'probe')")
    return Grid(task, values, dict(options))


def load_grid(path) -> Grid:
    """Read and validate a TOML grid file (:func:`parse_grid`)."""
    try:
        import tomllib
    except ImportError:                                  # Python < 3.11
        try:
            import tomli as tomllib
        except ImportError:
            raise ImportError('reading TOML grids on Python < 3.11 needs tomli: pip install "nc-verify[sweep]"') from None
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"cannot read grid file {os.fspath(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"grid file {os.fspath(path)!r} is not valid TOML: {exc}") from None
    return parse_grid(data)


# --------------------------------------------------------------------- cells
def check_cell_budget(cell: Cell, processes: int = 1) -> None:
    """Refuse a cell whose estimated memory, times ``processes`` running at once, exceeds the budget.

    Theorem 2 cells: the batched search (:func:`~nc_verify.utils.budget.search_bytes`);
    probe cells: one dense spectrum (:func:`~nc_verify.utils.budget.dense_spectrum_bytes`)
    and, up to :data:`~nc_verify.checks.probes.POLISH_LIMIT`, the search; derivative and
    Theorem 1 cells form no dense Hessian.  Raises :class:`~nc_verify.utils.budget.BudgetError`.
    """
    from nc_verify.checks.probes import POLISH_LIMIT
    from nc_verify.landscape.search import DEFAULT_BATCH
    from nc_verify.utils.budget import check_memory, dense_spectrum_bytes, search_bytes

    T = (cell.d - 1) * cell.K * (1 + cell.n)
    if cell.task == "theorem2" or (cell.task == "probe" and T <= POLISH_LIMIT):
        need = search_bytes(T, DEFAULT_BATCH, processes)
    elif cell.task == "probe":
        need = processes * dense_spectrum_bytes(T)
    else:
        return
    check_memory(need, f"sweep cell {cell.id} ({cell.task}, tangent dimension {T}, {processes} at once)")


def run_cell(cell: Cell) -> dict:
    """Run one cell; returns its JSON record: the inputs, ``state`` and ``verdict`` (the report's own,
    :mod:`nc_verify.utils.reports`), ``figures`` and ``elapsed_s``."""
    t0 = time.perf_counter()
    opts = dict(cell.options)
    if cell.task == "probe":
        from nc_verify.checks.probes import probe

        opts.setdefault("save_dir", "counterexamples")
        rep = probe(cell.d, cell.K, cell.n, cell.tau, loss=cell.loss, seed=cell.seed, progress=False, **opts)
        figures = rep.figures()
    elif cell.task == "derivatives":
        from nc_verify.checks.derivatives import check_derivatives
        from nc_verify.objective.problem import UFMProblem

        rep = check_derivatives(UFMProblem(cell.d, cell.K, cell.n, cell.tau, loss=cell.loss), rng=cell.seed, **opts)
        figures = rep.as_dict()
    elif cell.task == "theorem1":
        from nc_verify.checks.theorem1 import verify_theorem1

        rep = verify_theorem1(cell.d, cell.K, cell.n, cell.tau, seed=cell.seed, **opts)
        figures = rep.as_dict()
    else:
        from nc_verify.checks.theorem2 import verify_theorem2

        rep = verify_theorem2(cell.d, cell.K, cell.n, cell.tau, seed=cell.seed, **opts)
        figures = rep.as_dict()
    figures = strict(figures)              # strict JSON: non-finite numbers as null with a note
    return {"cell": cell.id, **cell.inputs, "state": rep.state.value, "verdict": rep.verdict, "figures": figures,
            "elapsed_s": time.perf_counter() - t0}


# ------------------------------------------------------------------ results
def append_record(path, record: dict) -> None:
    """Append one JSON line with a single ``os.write`` on an ``O_APPEND`` descriptor."""
    line = (dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to {os.fspath(path)!r}: {written} of {len(line)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path, *, repair: bool = False) -> dict:
    """Finished cells of a results file: ``{cell id: record}``.

    A tail without its newline is an unfinished write: it is ignored, and removed
    from the file when ``repair`` is True (before appending to it).  A complete line
    that is not a JSON record is an error (the file is not a results file).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as fh:
        data = fh.read()
    end = data.rfind(b"\n") + 1
    if end < len(data) and repair:
        with open(path, "r+b") as fh:
            fh.truncate(end)
    records = {}
    for i, line in enumerate(data[:end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            records[rec["cell"]] = rec
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}: line {i} is not a sweep record") from None
    return records


@dataclass
class SweepSummary:
    """What :func:`run_sweep` did: cells in the grid, skipped (already done), run now, seconds, workers."""

    total: int
    skipped: int
    ran: int
    seconds: float
    workers: object
    records: dict

    @property
    def cells_per_minute(self) -> float:
        return 60.0 * self.ran / self.seconds if self.seconds > 0 else float("nan")

    def as_dict(self) -> dict:
        return {"total": self.total, "skipped": self.skipped, "ran": self.ran, "seconds": self.seconds,
                "workers": self.workers, "cells_per_minute": self.cells_per_minute}


def run_sweep(grid, out, *, resume: bool = False, workers: int = 1, scheduler=None,
              progress=None) -> SweepSummary:
    """Run every cell of ``grid`` not yet in ``out`` and append its record.

    Parameters
    ----------
    grid : Grid, dict or path
        A :class:`Grid`, a dict for :func:`parse_grid`, or a TOML file.
    out : path
        JSON-lines results file.  It must not hold results unless ``resume``.
    resume : bool
        Skip cells already in ``out``.
    workers : int
        Worker processes of the ``LocalCluster`` (single-threaded, on 127.0.0.1);
        0 runs the cells serially in this process without dask.
    scheduler : str, optional
        Address of a running dask scheduler (``"tcp://host:8786"``); the cluster's
        workers run the cells (they need nc-verify installed) and ``workers`` is ignored.
    progress : bool or None
        Progress bar on stderr (default: when stderr is a terminal).
    """
    if isinstance(grid, dict):
        grid = parse_grid(grid)
    elif not isinstance(grid, Grid):
        grid = load_grid(grid)
    workers = check_int(workers, "workers", 0)
    parent = os.path.dirname(os.path.abspath(os.fspath(out)))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ValueError(f"results file {os.fspath(out)!r}: its folder {parent!r} does not exist or is not writable")
    done = read_records(out, repair=resume)
    if done and not resume:
        raise ValueError(f"results file {os.fspath(out)!r} already holds {len(done)} cells; "
                         "pass resume=True (--resume) to continue it, or choose another file")
    cells = grid.cells()
    todo = [c for c in cells if c.id not in done]
    for c in todo:                              # the memory budget of every cell, before any runs
        check_cell_budget(c, workers if scheduler is None and workers > 0 else 1)
    records = dict(done)
    t0 = time.perf_counter()
    with Progress(len(todo), "sweep", enabled=progress) as bar:
        if workers == 0 and scheduler is None:
            for c in todo:
                rec = run_cell(c)
                append_record(out, rec)
                records[rec["cell"]] = rec
                bar.update(postfix=rec["verdict"])
        elif todo:
            distributed = _import_distributed()
            if scheduler is not None:
                client, cluster = connect(scheduler), None
            else:
                with workers_ignore_interrupt():
                    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None)
                client = distributed.Client(cluster)
            try:
                futures = client.map(run_cell, todo, pure=False)
                for fut in distributed.as_completed(futures):
                    rec = fut.result()
                    append_record(out, rec)
                    records[rec["cell"]] = rec
                    bar.update(postfix=rec["verdict"])
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    return SweepSummary(total=len(cells), skipped=len(cells) - len(todo), ran=len(todo),
                        seconds=time.perf_counter() - t0,
                        workers=scheduler if scheduler is not None else workers, records=records)


# ------------------------------------------------------------------ reports
def summary_rows(records: dict):
    """Table rows ``(d, K, n, tau, loss, seed, state, verdict, best, worst saddle, elapsed)`` sorted by inputs."""
    rows = []
    for r in sorted(records.values(), key=lambda r: (r["d"], r["K"], r["n"], r["tau"], r["loss"], r["seed"])):
        f = r["figures"]
        best = f.get("best_value")
        ws = f.get("worst_saddle_lambda")
        rows.append((r["d"], r["K"], r["n"], f"{r['tau']:g}", r["loss"], r["seed"], r["state"], r["verdict"],
                     "-" if best is None else f"{best:.8g}", "-" if ws is None else f"{ws:.3e}",
                     f"{r['elapsed_s']:.2f}s"))
    return rows


SUMMARY_HEADERS = ("d", "K", "n", "tau", "loss", "seed", "state", "verdict", "best value", "worst saddle", "time")
_STATE_ORDER = {"pass": 0, "undecided": 1, "FAIL": 2}


def heatmap(records: dict, path) -> str:
    """PNG of the grid: verdicts (worst over seeds) and worst-saddle curvature ``log10 |lambda|``.

    Columns are the temperatures, rows the ``(d, K, n, loss)`` combinations.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    recs = list(records.values())
    taus = sorted({r["tau"] for r in recs})
    rows = sorted({(r["d"], r["K"], r["n"], r["loss"]) for r in recs})
    V = np.full((len(rows), len(taus)), np.nan)
    C = np.full((len(rows), len(taus)), np.nan)
    for r in recs:
        i, j = rows.index((r["d"], r["K"], r["n"], r["loss"])), taus.index(r["tau"])
        v = _STATE_ORDER[r["state"]]
        V[i, j] = v if np.isnan(V[i, j]) else max(V[i, j], v)
        ws = r["figures"].get("worst_saddle_lambda")
        if ws is not None and ws < 0:
            c = np.log10(-ws)
            C[i, j] = c if np.isnan(C[i, j]) else min(C[i, j], c)
    labels = [f"d={d} K={K} n={n} {loss}" for d, K, n, loss in rows]
    colors = ["#4caf50", "#bdbdbd", "#e53935"]
    # constrained layout keeps the two short titles, the colour key and the colour bar apart
    fig, axes = plt.subplots(1, 2, figsize=(5 + 1.2 * len(taus), 2.2 + 0.45 * len(rows)), squeeze=False,
                             layout="constrained")
    ax = axes[0, 0]
    ax.imshow(V, cmap=ListedColormap(colors), vmin=-0.5, vmax=2.5, aspect="auto")
    ax.set_title("verdict (worst over seeds)", fontsize=9)
    im = axes[0, 1].imshow(C, cmap="viridis", aspect="auto")
    axes[0, 1].set_title("worst saddle (blank: none)", fontsize=9)
    fig.colorbar(im, ax=axes[0, 1], label="log10 |lambda_min|")
    for a in axes[0]:
        a.set_xticks(range(len(taus)), [f"{t:g}" for t in taus])
        a.set_xlabel("tau")
        a.set_yticks(range(len(rows)), labels if a is ax else [""] * len(rows), fontsize=7)
    keys = [Patch(color=c, label=t) for c, t in zip(colors, ("pass / none found", "undecided", "FAIL / counterexample"))]
    fig.legend(handles=keys, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return os.fspath(path)
