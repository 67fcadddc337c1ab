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


# -------------------------------------------------------------------- certify
def _load_point(path):
    """``W``, ``H`` (and a direction ``dW``, ``dH`` if present) from an ``.npz`` file.

    Arrays are exact: integer or float arrays (floats taken as the binary rationals
    they are), or integer pairs ``W_num``/``W_den`` (likewise ``H``, ``dW``, ``dH``).
    """
    from fractions import Fraction

    import numpy as np

    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read --point file {path!r}: {exc}") from None

    def get(name):
        if name in data:
            return data[name]
        if f"{name}_num" in data and f"{name}_den" in data:
            num, den = data[f"{name}_num"], data[f"{name}_den"]
            if num.shape != den.shape:
                raise ValueError(f"{name}_num and {name}_den must have the same shape")
            return np.vectorize(lambda a, b: Fraction(int(a), int(b)), otypes=[object])(num, den)
        return None

    W, H = get("W"), get("H")
    if W is None or H is None:
        raise ValueError(f"--point file {path!r} must hold W and H (or W_num/W_den and H_num/H_den)")
    dW, dH = get("dW"), get("dH")
    return W, H, (None if dW is None or dH is None else (dW, dH))


def _cmd_certify(args) -> int:
    from .certify import certify_minimum, certify_strict_saddle, exact_point
    from .families import critical_point_families
    from .problem import UFMProblem

    if (args.family is None) == (args.point is None):
        raise ValueError("give exactly one of --family NAME and --point FILE.npz")
    problem = UFMProblem(args.d, args.K, args.n, args.tau)
    jobs = []
    if args.point is not None:
        W, H, direction = _load_point(args.point)
        point = exact_point(W, H, source=f"point {args.point}")
        problem = UFMProblem(point.d, point.K, point.n, args.tau)
        jobs.append(("minimum" if args.minimum else "saddle", point, direction))
    elif args.family == "all":
        for name in critical_point_families(problem):
            jobs.append(("minimum" if name == "global_etf" else "saddle", name, None))
    else:
        jobs.append(("minimum" if args.minimum or args.family == "global_etf" else "saddle", args.family, None))
    print(f"nc-verify certify: d={problem.d} K={problem.K} n={problem.n} tau={args.tau} "
          f"prec={args.prec} max_prec={args.max_prec}")
    certs, rows = [], []
    for kind, point, direction in jobs:
        if kind == "minimum":
            cert = certify_minimum(problem, point, prec=args.prec, max_prec=args.max_prec)
            value = cert.mu.text if cert.mu is not None else "-"
        else:
            cert = certify_strict_saddle(problem, point, direction=direction, prec=args.prec,
                                         max_prec=args.max_prec, all_tau=args.all_tau)
            value = cert.rayleigh_quotient.text if cert.rayleigh_quotient is not None else "-"
        all_tau = "-" if cert.all_tau is None else ("proved" if cert.all_tau.proved else "no")
        rows.append((cert.point.removeprefix("family "), cert.kind, cert.status, cert.criticality.status,
                     value, all_tau, cert.precision, f"{cert.time_s * 1e3:.1f}"))
        certs.append(cert)
    _print_table(rows, ["point", "claim", "status", "criticality", "Rayleigh quotient / mu", "all tau",
                        "bits", "ms"])
    print()
    for cert in certs:
        print(cert.summary())
        print()
    _write_json(args.json, {"certificates": [c.as_dict() for c in certs]})
    ok = all(c.status == "certified" for c in certs)
    return 0 if ok else 1


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

    p = sub.add_parser("certify", help="certified (ball-arithmetic) verdicts at exact points (extra 'certify')")
    p.add_argument("--family", default=None, help="a family name of critical_point_families, or 'all'")
    p.add_argument("--point", metavar="FILE.npz", default=None,
                   help="an exact point: arrays W, H (or W_num/W_den, H_num/H_den), optional dW, dH")
    p.add_argument("--d", type=int, default=6)
    p.add_argument("--K", type=int, default=4)
    p.add_argument("--n", type=int, default=2)
    p.add_argument("--tau", type=float, default=1.0)
    p.add_argument("--minimum", action="store_true", help="certify a minimum up to symmetry instead of a saddle")
    p.add_argument("--all-tau", action="store_true", help="also prove the saddle for every tau > 0 where possible")
    p.add_argument("--prec", type=int, default=53, help="starting precision in bits")
    p.add_argument("--max-prec", type=int, default=4096, help="largest precision tried")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the certificates as JSON")
    p.set_defaults(func=_cmd_certify)
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
