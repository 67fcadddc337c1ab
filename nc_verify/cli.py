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
    from .theorem2 import verify_theorem2

    problem = UFMProblem(args.d, args.K, args.n, args.tau)
    print(f"nc-verify verify: d={args.d} K={args.K} n={args.n} tau={args.tau} seed={args.seed}")
    deriv = check_derivatives(problem, rng=args.seed)
    thm1 = verify_theorem1(args.d, args.K, args.n, args.tau, seed=args.seed)
    thm2 = verify_theorem2(args.d, args.K, args.n, args.tau, n_starts=VERIFY_THEOREM2_STARTS, seed=args.seed)
    rows = [(name, "pass" if ok else "FAIL", detail)
            for name, ok, detail in deriv.rows() + thm1.rows() + thm2.rows()]
    _print_table(rows, ["check", "verdict", "evidence"])
    ok = deriv.passed and thm1.holds and thm2.holds
    print(f"\nverdict: {'all checks passed' if ok else 'SOME CHECKS FAILED'}")
    _write_json(args.json, {"derivatives": deriv.as_dict(), "theorem1": thm1.as_dict(),
                            "theorem2": thm2.as_dict(), "passed": ok})
    return 0 if ok else 1


#: Search starts of the Theorem 2 check inside ``nc-verify verify`` (a few seconds at (8, 4, 2)).
VERIFY_THEOREM2_STARTS = 60


# ------------------------------------------------------------------- theorem2
def _cmd_theorem2(args) -> int:
    from .theorem2 import verify_theorem2

    rep = verify_theorem2(args.d, args.K, args.n, args.tau, n_starts=args.starts, seed=args.seed)
    mode = "check of Theorem 2" if rep.mode == "check" else (
        "PROBE of the paper's conjecture (outside Theorem 2's assumptions d > K, tau < "
        f"{rep.tau_limit:g})")
    print(f"nc-verify theorem2: d={rep.d} K={rep.K} n={rep.n} tau={rep.tau:g} starts={rep.n_starts} "
          f"seed={args.seed}: {mode}")
    rows = []
    for c in sorted(rep.critical_points, key=lambda c: c.report.cost):
        r = c.report
        rows.append((c.name, f"{r.cost:.10g}", f"{r.gap:.3e}", f"{r.gradient_norm:.1e}",
                     f"{r.lambda_min:+.4e}", r.n_negative, f"{r.n_zero}/{r.orbit_dimension}", r.kind))
    _print_table(rows, ["point", "cost", "gap", "|grad|", "lambda_min", "neg", "zeros/orbit", "kind"])
    print()
    _print_table([(n, "pass" if ok else "FAIL", e) for n, ok, e in rep.rows()], ["check", "verdict", "evidence"])
    print(f"\nverdict: {rep.verdict} ({rep.elapsed:.1f} s)")
    _write_json(args.json, rep.as_dict())
    return 0 if rep.holds else 1


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

    p = sub.add_parser("theorem2", help="enumerate and classify critical points (Theorem 2)")
    p.add_argument("--d", type=int, default=8)
    p.add_argument("--K", type=int, default=4)
    p.add_argument("--n", type=int, default=2)
    p.add_argument("--tau", type=float, default=2.0)
    p.add_argument("--starts", type=int, default=200, help="search starts (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", default=None, help="also write the report as JSON")
    p.set_defaults(func=_cmd_theorem2)
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
