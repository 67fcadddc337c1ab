"""Command-line interface: a thin shell over the public API.

Each subcommand lives in its own ``_cmd_*`` function registered in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import json
import sys

from nc_verify.utils.serialization import json_default


def _write_json(path, payload) -> None:
    if path is None:
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, default=json_default)
            fh.write("\n")
    except OSError as exc:
        raise SystemExit(f"nc-verify: cannot write --json file {path!r}: {exc}") from None


def _print_table(rows, headers) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for i, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


# --------------------------------------------------------------------- verify
#: Search starts of the Theorem 2 check inside ``nc-verify verify`` (about 6 s at (8, 4, 2) on 2 cores).
VERIFY_THEOREM2_STARTS = 200


def _cmd_verify(args) -> int:
    from nc_verify.checks.derivatives import check_derivatives
    from nc_verify.checks.theorem1 import verify_theorem1
    from nc_verify.checks.theorem2 import verify_theorem2
    from nc_verify.objective.problem import UFMProblem

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


# -------------------------------------------------------------------- deepnet
def _int_list(text: str) -> list:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _cmd_deepnet(args) -> int:
    try:
        from nc_verify.deepnet.figures import figure4, figure6, load_dataset
        from nc_verify.deepnet.records import TrainConfig
    except ImportError as exc:
        print(f"nc-verify deepnet: error: {exc}", file=sys.stderr)
        return 2
    epochs = args.epochs if args.epochs is not None else (200 if args.figure == "figure4" else 100)
    config = TrainConfig(
        epochs=epochs, lr=args.lr, batch_size=args.batch_size, lr_decay_period=args.lr_decay_period,
        weight_decay=args.weight_decay, seed=args.seed, record_every=args.record_every,
    )
    try:
        data = load_dataset(
            args.dataset, args.figure, directory=args.data, per_class=args.per_class, size=args.image_size, seed=args.seed
        )
    except (FileNotFoundError, ImportError) as exc:
        print(f"nc-verify deepnet: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"nc-verify deepnet {args.figure}: {data.name} N={data.size} K={data.num_classes} "
        f"images {data.images.shape[1:]} epochs={epochs} device={args.device}"
    )
    if args.figure == "figure4":
        result = figure4(data, widths=args.widths, config=config, tau=args.tau, device=args.device, out=args.out)
    else:
        result = figure6(data, archs=args.archs.split(","), width=args.width, config=config, tau=args.tau, device=args.device, out=args.out)
    _print_table(result.summary_rows(), result.SUMMARY_HEADERS)
    for kind, path in result.files.items():
        print(f"{kind}: {path}")
    return 0


# ------------------------------------------------------------------- theorem2
def _starts(text: str):
    if text == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def _cmd_theorem2(args) -> int:
    from nc_verify.checks.theorem2 import verify_theorem2

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

# ---------------------------------------------------------------------- probe
def _cmd_probe(args) -> int:
    from nc_verify.checks.probes import probe

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
    from nc_verify.runs.sweep import (
        SUMMARY_HEADERS,
        heatmap,
        load_grid,
        run_sweep,
        summary_rows,
    )

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



# ------------------------------------------------------------------ reproduce
def _cmd_reproduce(args) -> int:
    import os

    from nc_verify.runs.experiments import ARTEFACTS, reproduce

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
    from nc_verify.certify import certify_minimum, certify_strict_saddle, exact_point
    from nc_verify.objective.families import critical_point_families
    from nc_verify.objective.problem import UFMProblem

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

    p = sub.add_parser(
        "deepnet",
        help="ResNet experiments of Figures 4 and 6 (needs the torch extra)",
        description="Train ResNets with normalised / regularised heads and record accuracy and NC1-NC3 "
        'per epoch. Needs pip install "nc-verify[torch]". Never downloads data.',
    )
    p.add_argument("figure", choices=("figure4", "figure6"), help="figure4: width sweep; figure6: normalised vs regularised")
    p.add_argument("--dataset", choices=("cifar", "digits", "synthetic"), default="cifar",
                   help="cifar: CIFAR-10 (figure4) / CIFAR-100 (figure6) from --data; digits: scikit-learn's bundled "
                   "8x8 digits; synthetic: Gaussian noise images (default: cifar)")
    p.add_argument("--data", metavar="DIR", default=None, help="folder with the CIFAR python-pickle batches (for --dataset cifar)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the CSV, PNG, JSON and summary files")
    p.add_argument("--epochs", type=int, default=None, help="default: 200 (figure4), 100 (figure6)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    p.add_argument("--per-class", type=int, default=None,
                   help="images per class (default cifar 200/30, digits 100/30, synthetic 50/30 for figure4/figure6)")
    p.add_argument("--image-size", type=int, default=32, help="side of the digits / synthetic images (default 32)")
    p.add_argument("--widths", type=_int_list, default=[4, 8, 16, 32, 64], help="figure4: ResNet-18 widths k (default 4,8,16,32,64)")
    p.add_argument("--archs", default="resnet18,resnet50", help="figure6: architectures (default resnet18,resnet50)")
    p.add_argument("--width", type=int, default=64, help="figure6: width k of both networks (default 64)")
    p.add_argument("--tau", type=float, default=1.0, help="temperature of the normalised features (default 1)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr-decay-period", type=int, default=40, help="epochs between x0.1 step decays (default 40)")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="regularised head's penalty weight (default 1e-4)")
    p.add_argument("--record-every", type=int, default=1, help="measure accuracy and NC1-NC3 every this many epochs (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_deepnet)

    p = sub.add_parser("theorem2", help="enumerate and classify critical points (Theorem 2)")
    p.add_argument("--d", type=int, default=8)
    p.add_argument("--K", type=int, default=4)
    p.add_argument("--n", type=int, default=2)
    p.add_argument("--tau", type=float, default=2.0)
    p.add_argument("--starts", type=_starts, default=200,
                   help="search starts (default 200), or 'auto': search until saturated (at most 4000 starts)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", default=None, help="also write the report as JSON")
    p.set_defaults(func=_cmd_theorem2)

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
    except (ValueError, TypeError, ImportError) as exc:
        parser.exit(2, f"nc-verify {args.command}: error: {exc}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
