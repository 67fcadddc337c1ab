"""Command-line interface: a thin shell over the public API.

Each subcommand lives in its own ``_cmd_*`` function registered in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import json
import sys


def _write_json(path, payload) -> None:
    if path is None:
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, default=_json_default)
            fh.write("\n")
    except OSError as exc:
        raise SystemExit(f"nc-verify: cannot write --json file {path!r}: {exc}") from None


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _print_table(rows, headers) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for i, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


# --------------------------------------------------------------------- verify
def _cmd_verify(args) -> int:
    from .derivatives import check_derivatives
    from .problem import UFMProblem
    from .theorem1 import verify_theorem1

    problem = UFMProblem(args.d, args.K, args.n, args.tau)
    print(f"nc-verify verify: d={args.d} K={args.K} n={args.n} tau={args.tau} seed={args.seed}")
    deriv = check_derivatives(problem, rng=args.seed)
    thm1 = verify_theorem1(args.d, args.K, args.n, args.tau, seed=args.seed)
    rows = [(name, "pass" if ok else "FAIL", detail) for name, ok, detail in deriv.rows() + thm1.rows()]
    _print_table(rows, ["check", "verdict", "evidence"])
    ok = deriv.passed and thm1.holds
    print(f"\nverdict: {'all checks passed' if ok else 'SOME CHECKS FAILED'}")
    _write_json(args.json, {"derivatives": deriv.as_dict(), "theorem1": thm1.as_dict(), "passed": ok})
    return 0 if ok else 1


# ---------------------------------------------------------------------- probe
def _cmd_probe(args) -> int:
    from .probes import probe

    rep = probe(args.d, args.K, args.n, args.tau, loss=args.loss, n_starts=args.starts,
                search_starts=args.search_starts, seed=args.seed, save_dir=args.save_dir)
    regime = "inside Theorem 2's assumptions" if rep.theorem2_regime else "outside Theorem 2's assumptions"
    print(f"nc-verify probe: d={rep.d} K={rep.K} n={rep.n} tau={rep.tau} loss={rep.loss} seed={rep.seed} "
          f"({regime}; a probe is evidence, not a proof)")
    _print_table(rep.rows(), ["kind", "cost", "cost - best", "lambda_min", "margin", "hits"])
    f = rep.figures()
    print(f"\nbest value found: {rep.best_value:.12g}"
          + ("" if rep.theorem1_bound is None else f" (Theorem 1 bound {rep.theorem1_bound:.12g})"))
    if f["worst_saddle_lambda"] is not None:
        print(f"worst saddle: lambda_min = {f['worst_saddle_lambda']:.3e}, margin {f['worst_saddle_margin']:.3g}")
    for p in rep.counterexamples:
        print(f"potential counterexample saved to {p.file}")
    print(f"verdict: {rep.verdict}")
    _write_json(args.json, rep.as_dict())
    return 1 if rep.counterexamples else 0


# ---------------------------------------------------------------------- sweep
def _cmd_sweep(args) -> int:
    from .sweep import SUMMARY_HEADERS, heatmap, load_grid, run_sweep, summary_rows

    grid = load_grid(args.grid)
    summary = run_sweep(grid, args.out, resume=args.resume, workers=args.workers, scheduler=args.scheduler)
    _print_table(summary_rows(summary.records), SUMMARY_HEADERS)
    print(f"\n{summary.ran} cells run, {summary.skipped} already done, {summary.total} in the grid; "
          f"{summary.seconds:.1f} s ({summary.cells_per_minute:.1f} cells/min) on "
          + (f"scheduler {args.scheduler}" if args.scheduler else f"{args.workers} worker(s)"))
    png = args.heatmap if args.heatmap is not None else str(args.out) + ".png"
    if summary.records:
        print(f"heatmap: {heatmap(summary.records, png)}")
    bad = [r for r in summary.records.values() if r["verdict"] in ("potential counterexample", "FAIL")]
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nc-verify", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("verify", help="derivative checks and theorem checks at one size")
    p.add_argument("--d", type=int, default=8)
    p.add_argument("--K", type=int, default=4)
    p.add_argument("--n", type=int, default=2)
    p.add_argument("--tau", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", default=None, help="also write the results as JSON")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("probe", help="probe a conjecture: distinct critical points, counterexamples, worst saddle")
    p.add_argument("--d", type=int, required=True)
    p.add_argument("--K", type=int, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--tau", type=float, required=True)
    p.add_argument("--loss", default="cross_entropy",
                   help="cross_entropy, label_smoothing:ALPHA, focal:GAMMA, mse or supcon")
    p.add_argument("--starts", type=int, default=10, help="descent starts")
    p.add_argument("--search-starts", type=int, default=None, help="critical-point search starts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-dir", default="counterexamples", help="where potential counterexamples are saved")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the results as JSON")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser("sweep", help="run a grid of probes or checks on dask.distributed")
    p.add_argument("grid", help="grid file (TOML)")
    p.add_argument("--out", required=True, help="results file (JSON lines, appended)")
    p.add_argument("--resume", action="store_true", help="skip cells already in --out")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=1, help="LocalCluster worker processes (0: serial, no dask)")
    where.add_argument("--scheduler", default=None, help="address of a running dask scheduler")
    p.add_argument("--heatmap", default=None, help="PNG path (default: OUT.png)")
    p.set_defaults(func=_cmd_sweep)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, ImportError) as exc:
        parser.exit(2, f"nc-verify {args.command}: error: {exc}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
