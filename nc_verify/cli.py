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


# ------------------------------------------------------------------ reproduce
def _cmd_reproduce(args) -> int:
    import os

    from .experiments import ARTEFACTS, reproduce

    names = ARTEFACTS if args.artefact == "all" else (args.artefact,)
    if args.trials is not None and args.trials < 1:
        raise ValueError(f"--trials must be a positive integer, got {args.trials}")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create --out directory {args.out!r}: {exc}") from None
    if not os.access(args.out, os.W_OK):
        raise ValueError(f"--out directory {args.out!r} is not writable")
    options = {}
    if args.lambda_ is not None:
        options["lambda_"] = args.lambda_
    for name in names:
        opts = dict(options)
        if name == "figure5" and args.d is not None:
            opts["d"] = args.d
        if name == "figure3":
            opts.pop("lambda_", None)
        mode = "quick" if args.quick else "paper-size"
        print(f"\n== {name} ({mode}, seed={args.seed}) ==")
        _, files, rows = reproduce(name, args.out, trials=args.trials, seed=args.seed, quick=args.quick, **opts)
        _print_table(rows, ["quantity", "nc-verify", "paper"])
        print("wrote: " + ", ".join(files))
    return 0


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

    p = sub.add_parser("reproduce", help="regenerate Table 1 and Figures 1, 3, 5 beside the paper's numbers")
    p.add_argument("artefact", choices=("table1", "figure1", "figure3", "figure5", "all"))
    p.add_argument("--out", default=".", metavar="DIR", help="directory for CSV/JSON/PNG files (created)")
    p.add_argument("--trials", type=int, default=None,
                   help="trials (Table 1, Figure 5) or random starts per grid point (Figure 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small grids and few trials (seconds per artefact)")
    p.add_argument("--lambda", dest="lambda_", type=float, default=None,
                   help="weight decay lambda_W = lambda_H of the regularised runs (default 3e-5)")
    p.add_argument("--d", type=int, default=None, help="feature dimension of Figure 5 (default K + 1 = 101)")
    p.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        parser.exit(2, f"nc-verify {args.command}: error: {exc}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
