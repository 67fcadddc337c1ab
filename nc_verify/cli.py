"""Command-line interface: a thin shell over the public API (argument parsing and printing only).

Every default and policy lives in the library; each subcommand is one ``_cmd_*``
function registered in :func:`build_parser`.  Exit status, the same rule for every
command (:data:`nc_verify.utils.reports.EXIT_STATUSES`, :func:`~nc_verify.utils.reports.failure_status`):
0 every claim holds, 1 a claim resolved false (a counterexample found) and nothing
else, 2 a usage or input error (unreadable or malformed input file, output path that
cannot be opened, size over the memory budget), 3 undecided, 4 the program itself
failed (crash, out of memory, unreachable scheduler, output not written), 130
interrupted (Ctrl-C), 141 stdout closed (broken pipe).  Failures print one line on
stderr; ``--debug`` or ``NC_VERIFY_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from nc_verify.utils.reports import (
    EXIT_BROKEN_PIPE,
    EXIT_STATUSES,
    FAIL,
    PASS,
    UNDECIDED,
    combine,
    exit_status,
    failure_status,
)
from nc_verify.utils.serialization import dumps, writable_file, writable_folder

#: Environment variable: any value but "", "0" shows the traceback of a failure (like ``--debug``).
DEBUG_ENV = "NC_VERIFY_DEBUG"
#: Attributes of the parsed arguments that name input files (an OSError on one is an input error).
_INPUT_ARGS = ("grid", "point", "check")

_STYLE = {PASS: "green", FAIL: "bold red", UNDECIDED: "yellow"}
_console = None


def _out():
    """The stdout console of this invocation (rich; ``--wide``: no wrapping, any width)."""
    if _console is None:
        _configure(wide=False)
    return _console


def _configure(wide: bool) -> None:
    global _console
    from rich.console import Console

    # off a terminal (a pipe, a log) rich would cut lines to 80 columns with an ellipsis:
    # print every line whole instead
    full = wide or not sys.stdout.isatty()
    _console = Console(width=100_000, soft_wrap=True) if full else Console(soft_wrap=False)
    _console.on_broken_pipe = _broken_pipe      # rich's own handler exits with status 1


def _broken_pipe() -> None:
    raise BrokenPipeError("stdout closed by the reader")


def _say(text: str = "") -> None:
    _out().print(text, markup=False, highlight=False)


def _print_table(rows, headers) -> None:
    """A table that fits the terminal (cells wrap, never cut); off a terminal or with ``--wide`` every row is one line."""
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for h in headers:
        table.add_column(str(h), overflow="fold")       # cells wrap, never an ellipsis
    for r in rows:
        table.add_row(*[c if hasattr(c, "__rich__") else str(c) for c in r])
    console = _out()
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as captured:          # a log: whole lines, without the padding at their ends
        console.print(table)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _state_cell(state):
    from rich.text import Text

    return Text(str(state), style=_STYLE[state])


def _print_rows(rows) -> None:
    """Verdict rows of a report: check, state, evidence."""
    _print_table([(r.name, _state_cell(r.state), r.reason) for r in rows], ["check", "state", "evidence"])


def _print_verdict(report, elapsed=None) -> None:
    tail = "" if elapsed is None else f" ({elapsed:.1f} s)"
    _say(f"\nverdict: {report.verdict}{tail}")


# ---------------------------------------------------------------- files
def _out_file(text: str) -> str:
    """An output file, proved writable by opening it before any work (never truncated, no file left)."""
    try:
        writable_file(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _out_dir(text: str) -> str:
    """An output folder, created and proved writable before any work."""
    try:
        return writable_folder(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _in_file(text: str) -> str:
    """An input file that exists and can be opened for reading (checked before any work)."""
    try:
        with open(text, "rb"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read input file {text!r}: {exc.strerror or exc}") from None
    return text


def _write_json(path, payload) -> None:
    """``payload`` as strict JSON (:func:`nc_verify.utils.serialization.dumps`: no NaN tokens)."""
    if path is None:
        return
    text = dumps(payload, indent=2) + "\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


# --------------------------------------------------------------------- verify
def _regime_text(d, K, tau) -> str:
    from nc_verify.objective.closed_forms import (
        theorem2_assumptions_hold,
        theorem2_tau_limit,
    )

    if theorem2_assumptions_hold(d, K, tau):
        return "Theorem 2 rows: check of the theorem"
    return (f"Theorem 2 rows: PROBE of the paper's conjecture (outside Theorem 2's assumptions d > K, "
            f"tau < {theorem2_tau_limit(d, K):g})")


def _cmd_verify(args) -> int:
    from nc_verify.checks.verify import verify_all

    _say(f"nc-verify verify: d={args.d} K={args.K} n={args.n} tau={args.tau:g} seed={args.seed}; "
         + _regime_text(args.d, args.K, args.tau))
    rep = verify_all(args.d, args.K, args.n, args.tau, seed=args.seed, n_starts=args.starts, progress=True,
                     max_starts=args.max_starts)
    _print_rows(rep.rows())
    _print_verdict(rep, rep.theorem2.elapsed)
    _write_json(args.json, rep.as_dict())
    return rep.exit_status


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
    _say(
        f"nc-verify deepnet {args.figure}: {data.name} N={data.size} K={data.num_classes} "
        f"images {data.images.shape[1:]} epochs={epochs} device={args.device}"
    )
    if args.figure == "figure4":
        result = figure4(data, widths=args.widths, config=config, tau=args.tau, device=args.device, out=args.out)
    else:
        result = figure6(data, archs=args.archs.split(","), width=args.width, config=config, tau=args.tau, device=args.device, out=args.out)
    _print_table(result.summary_rows(), result.SUMMARY_HEADERS)
    for kind, path in result.files.items():
        _say(f"{kind}: {path}")
    return 0


# ------------------------------------------------------------------- theorem2
def _int_from(minimum: int, expected: str):
    """An argparse type: an integer ``>= minimum``, else the message "expected <expected>"."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


_positive_int = _int_from(1, "a positive integer")
_seed = _int_from(0, "an integer >= 0 (numpy's seeds are non-negative)")


def _gib(text: str) -> float:
    from nc_verify.utils.budget import check_gib

    try:
        return check_gib(text, "--max-memory")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _starts(text: str):
    if text == "auto":
        return None
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None


def _cmd_theorem2(args) -> int:
    from nc_verify.checks.theorem2 import verify_theorem2

    starts = "auto (until saturated)" if args.starts is None else args.starts
    _say(f"nc-verify theorem2: d={args.d} K={args.K} n={args.n} tau={args.tau:g} starts={starts} seed={args.seed}; "
         + _regime_text(args.d, args.K, args.tau).replace("Theorem 2 rows: ", ""))
    rep = verify_theorem2(args.d, args.K, args.n, args.tau, n_starts=args.starts, seed=args.seed, progress=True,
                          workers=args.workers, scheduler=args.scheduler, checkpoint=args.checkpoint,
                          max_starts=args.max_starts)
    rows = []
    for c in sorted(rep.critical_points, key=lambda c: c.report.cost):
        r = c.report
        rows.append((c.name, f"{r.cost:.10g}", f"{r.gap:.3e}", f"{r.gradient_norm:.1e}",
                     f"{r.lambda_min:+.4e}", r.n_negative, f"{r.n_zero}/{r.orbit_dimension}", r.kind))
    _print_table(rows, ["point", "cost", "gap", "|grad|", "lambda_min", "neg", "zeros/orbit", "kind"])
    _say()
    _print_rows(rep.rows())
    _print_verdict(rep, rep.elapsed)
    _write_json(args.json, rep.as_dict())
    return rep.exit_status


# ---------------------------------------------------------------------- probe
def _search_starts(text: str):
    if text == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer or 'auto', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer or 'auto', got {text!r}")
    return value


def _cmd_probe(args) -> int:
    from nc_verify.checks.probes import probe

    _say(f"nc-verify probe: d={args.d} K={args.K} n={args.n} tau={args.tau:g} loss={args.loss} seed={args.seed} "
         "(a probe is evidence, not a proof)")
    rep = probe(args.d, args.K, args.n, args.tau, loss=args.loss, n_starts=args.starts,
                search_starts=args.search_starts, seed=args.seed, save_dir=args.save_dir, progress=True,
                max_starts=args.max_starts)
    regime = "inside Theorem 2's assumptions" if rep.theorem2_regime else "outside Theorem 2's assumptions"
    _say(f"{regime}; {len(rep.points)} distinct critical points")
    _print_table(rep.point_rows(), ["kind", "cost", "cost - best", "lambda_min", "margin", "hits"])
    _say()
    _print_rows(rep.rows())
    for p in rep.counterexamples:
        _say(f"potential counterexample ({p.kind}) saved to {p.file}")
    _print_verdict(rep)
    _write_json(args.json, rep.as_dict())
    return rep.exit_status


# ---------------------------------------------------------------------- sweep
def _cmd_sweep(args) -> int:
    from nc_verify.runs.sweep import (
        SUMMARY_HEADERS,
        heatmap,
        load_grid,
        run_sweep,
        summary_rows,
    )

    png = args.heatmap if args.heatmap is not None else str(args.out) + ".png"
    writable_file(png)                           # the default heatmap path too, before the work
    grid = load_grid(args.grid)
    _say(f"nc-verify sweep: {args.grid}: task {grid.task}, {len(grid.cells())} cells -> {args.out}")
    summary = run_sweep(grid, args.out, resume=args.resume, workers=args.workers, scheduler=args.scheduler,
                        progress=True)
    _print_table(summary_rows(summary.records), SUMMARY_HEADERS)
    _say(f"\n{summary.ran} cells run, {summary.skipped} already done, {summary.total} in the grid; "
         f"{summary.seconds:.1f} s ({summary.cells_per_minute:.1f} cells/min) on "
         + (f"scheduler {args.scheduler}" if args.scheduler else f"{args.workers} worker(s)"))
    if summary.records:
        _say(f"heatmap: {heatmap(summary.records, png)}")
    state = combine(r["state"] for r in summary.records.values())
    _say(f"verdict: {state} (worst cell)")
    return exit_status(state)


# ------------------------------------------------------------------ reproduce
def _cmd_reproduce(args) -> int:
    from nc_verify.runs.experiments import ARTEFACTS, reproduce

    names = ARTEFACTS if args.artefact == "all" else (args.artefact,)
    if args.trials is not None and args.trials < 1:
        raise ValueError(f"--trials must be a positive integer, got {args.trials}")
    options = {}
    if args.lambda_ is not None:
        options["lambda_"] = args.lambda_
    states = []
    for name in names:
        opts = dict(options)
        if name == "figure5" and args.d is not None:
            opts["d"] = args.d
        if name == "figure3":
            opts.pop("lambda_", None)
        mode = "quick" if args.quick else "paper-size"
        _say(f"\n== {name} ({mode}, seed={args.seed}) ==")
        result, files, rows = reproduce(name, args.out, trials=args.trials, seed=args.seed, quick=args.quick, **opts)
        _print_table(rows, ["quantity", "nc-verify", "paper"])
        _say("wrote: " + ", ".join(files))
        if name == "figure3":                    # the one artefact with a claim per run: the bound is reached
            states.append(result.state())
            _say(f"figure3 verdict: {states[-1]}")
    return exit_status(combine(states)) if states else 0

# -------------------------------------------------------------------- certify
def _cmd_certify(args) -> int:
    from nc_verify.certify import certify_minimum, certify_strict_saddle, exact_point
    from nc_verify.certify.policy import certificate_state, certification_plan
    from nc_verify.landscape.points import load_point
    from nc_verify.objective.problem import UFMProblem
    from nc_verify.utils.progress import Progress

    problem = UFMProblem(args.d, args.K, args.n, args.tau)
    direction = point = None
    if args.point is not None:
        W, H, direction, _ = load_point(args.point, exact=True)
        point = exact_point(W, H, source=f"point {args.point}")
        problem = UFMProblem(point.d, point.K, point.n, args.tau)
    with Progress(0, "certify: exact family points", enabled=True):
        plan = certification_plan(problem, family=args.family, point=point, minimum=args.minimum)
    _say(f"nc-verify certify: d={problem.d} K={problem.K} n={problem.n} tau={args.tau:g} "
         f"prec={args.prec} max_prec={args.max_prec}")
    certs, rows = [], []
    with Progress(len(plan), f"certify (tangent dimension {problem.tangent_dimension})", enabled=True) as bar:
        for claim, target in plan:
            bar.update(0, postfix=f"{claim}: {target if isinstance(target, str) else 'point'}")
            if claim == "minimum":
                cert = certify_minimum(problem, target, prec=args.prec, max_prec=args.max_prec)
                value = cert.mu.text if cert.mu is not None else "-"
            else:
                cert = certify_strict_saddle(problem, target, direction=direction, prec=args.prec,
                                             max_prec=args.max_prec, all_tau=args.all_tau)
                value = cert.rayleigh_quotient.text if cert.rayleigh_quotient is not None else "-"
            all_tau = "-" if cert.all_tau is None else ("proved" if cert.all_tau.proved else "no")
            rows.append((cert.point.removeprefix("family "), cert.kind, _state_cell(certificate_state(cert)), cert.status,
                         cert.criticality.status, value, all_tau, cert.precision, f"{cert.time_s * 1e3:.1f}"))
            certs.append(cert)
            bar.update()
    _print_table(rows, ["point", "claim", "state", "status", "criticality", "Rayleigh quotient / mu", "all tau",
                        "bits", "ms"])
    _say()
    for cert in certs:
        _say(cert.summary())
        _say()
    state = combine(certificate_state(c) for c in certs)
    _say(f"verdict: {state}")
    _write_json(args.json, {"state": state.value, "certificates": [
        {**c.as_dict(), "state": certificate_state(c).value} for c in certs]})
    return exit_status(state)


def _cmd_prove(args) -> int:
    from nc_verify.certify.prover import check_landscape_proof, check_prove_arguments, prove_landscape, summary_lines
    from nc_verify.utils.progress import Progress

    if args.check is not None:
        _say("nc-verify prove --check " + " ".join(args.check))
        if len(args.check) == 1:
            # ProofFileError (a ValueError) for a non-proof: exit 2
            result = check_landscape_proof(args.check[0], batched=not args.flint_only)
        else:                                                # temperature pieces, re-checked and assembled
            from nc_verify.certify.prover import check_tau_pieces

            result = check_tau_pieces(args.check, workers=args.workers, batched=not args.flint_only)
            for path, piece in zip(args.check, result.pieces):
                _say(f"  {path}: {piece.message}")
        _say(str(result))
        state = FAIL if not result.valid else (PASS if result.status == "proved" else UNDECIDED)
        _say(f"verdict: {state}")
        return exit_status(state)
    if args.K is None or args.n is None:
        raise ValueError("--K and --n are required (or give --check FILE)")
    if (args.tau is None) == (args.tau_range is None):
        raise ValueError("give exactly one of --tau and --tau-range")
    tau = args.tau if args.tau_range is None else tuple(args.tau_range)
    kw = dict(d=args.d, loss=args.loss, max_boxes=args.max_boxes, workers=args.workers, order=args.order,
              symmetry=args.symmetry, split=args.split,
              form=None if args.form is None else args.form.replace("-", " "))
    check_prove_arguments(args.K, args.n, tau, **kw)     # every argument, before any work or output
    unchecked = "--no-check" if args.no_check else None
    if unchecked is None:
        try:
            import flint  # noqa: F401
        except ImportError:
            unchecked = "python-flint missing"
    where = "every d > K" if args.d is None else f"d = {args.d}"
    _say(f"nc-verify prove: K={args.K} n={args.n} tau={tau} ({where}) loss={args.loss} max_boxes={args.max_boxes}")
    with Progress(0, "prove: boxes", enabled=True) as bar:
        proof = prove_landscape(args.K, args.n, tau, **kw,
                                progress=lambda left, rate: bar.update(
                                    0, postfix=f"{left} boxes left, {rate:.0f} boxes/s"))
    if args.out is not None:
        proof.save(args.out)
    check = None if unchecked else check_landscape_proof(args.out if args.out is not None else proof,
                                                         batched=not args.flint_only)
    for line in summary_lines(proof, check, unchecked):
        _say(line)
    if args.out is not None:
        _say(f"proof written to {args.out} (re-check: nc-verify prove --check {args.out})")
    if check is None:
        state = UNDECIDED              # the numpy layer alone is no proof (it assumes libm's error bound)
    else:
        state = FAIL if not check.valid else (PASS if check.status == "proved" else UNDECIDED)
    _say(f"verdict: {state}" + (f" (unchecked: {unchecked})" if check is None else ""))
    return exit_status(state)


# --------------------------------------------------------------------- parser
class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows every option's default."""


def _size_options(p, defaults, tau_help="temperature tau of the normalised logits") -> None:
    d, K, n, tau = defaults
    p.add_argument("--d", type=int, default=d, required=d is None, help="feature dimension d")
    p.add_argument("--K", type=int, default=K, required=K is None, help="number of classes K")
    p.add_argument("--n", type=int, default=n, required=n is None, help="samples per class n")
    p.add_argument("--tau", type=float, default=tau, required=tau is None, help=tau_help)


def build_parser() -> argparse.ArgumentParser:
    from nc_verify import __version__
    from nc_verify.certify.policy import DEFAULT_SIZE
    from nc_verify.checks.probes import DEFAULT_DESCENTS
    from nc_verify.checks.verify import VERIFY_SIZE, VERIFY_STARTS
    from nc_verify.landscape.search import DEFAULT_MAX_STARTS

    from nc_verify.utils.budget import DEFAULT_FRACTION, ENV_VAR

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--wide", action="store_true",
                        help="print every table cell on one line, whatever the terminal width (always so when "
                             "stdout is not a terminal)")
    common.add_argument("--max-memory", metavar="GIB", type=_gib, default=None,
                        help=f"memory budget in GiB: sizes estimated above it are refused before any work "
                             f"(default: ${ENV_VAR}, else {DEFAULT_FRACTION:g} x physical memory)")
    common.add_argument("--debug", action="store_true",
                        help=f"on a failure print the traceback too (also: {DEBUG_ENV}=1)")
    parser = argparse.ArgumentParser(prog="nc-verify", description=textwrap.fill(__doc__.splitlines()[0], 78),
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="exit status:\n" + "\n".join(
                                         textwrap.fill(text, 78, initial_indent=f"  {code:>3}  ",
                                                       subsequent_indent=" " * 7)
                                         for code, text in EXIT_STATUSES.items())
                                     + f"\nfailures print one line; --debug or {DEBUG_ENV}=1 adds the traceback")
    parser.add_argument("--version", action="version", version=f"nc-verify {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("verify", parents=[common], formatter_class=_Formatter,
                       help="derivative checks and theorem checks at one size")
    _size_options(p, VERIFY_SIZE)
    p.add_argument("--starts", type=_starts, default=VERIFY_STARTS,
                   help="Theorem 2 search starts, or 'auto' (None): until saturated, at most --max-starts")
    p.add_argument("--max-starts", type=_positive_int, default=DEFAULT_MAX_STARTS,
                   help="cap of an 'auto' search: it stops there, undecided, if not saturated before")
    p.add_argument("--seed", type=_seed, default=0, help="seed of every random choice (an integer >= 0)")
    p.add_argument("--json", metavar="FILE", type=_out_file, default=None, help="also write the results as JSON")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser(
        "deepnet", parents=[common], formatter_class=_Formatter,
        help="ResNet experiments of Figures 4 and 6 (needs the torch extra)",
        description="Train ResNets with normalised / regularised heads and record accuracy and NC1-NC3 "
        'per epoch. Needs pip install "nc-verify[torch]". Never downloads data.',
    )
    p.add_argument("figure", choices=("figure4", "figure6"), help="figure4: width sweep; figure6: normalised vs regularised")
    p.add_argument("--dataset", choices=("cifar", "digits", "synthetic"), default="cifar",
                   help="cifar: CIFAR-10 (figure4) / CIFAR-100 (figure6) from --data; digits: scikit-learn's bundled "
                   "8x8 digits; synthetic: Gaussian noise images (default: cifar)")
    p.add_argument("--data", metavar="DIR", default=None, help="folder with the CIFAR python-pickle batches (for --dataset cifar)")
    p.add_argument("--out", metavar="DIR", required=True, type=_out_dir, help="folder for the CSV, PNG, JSON and summary files")
    p.add_argument("--epochs", type=int, default=None, help="default: 200 (figure4), 100 (figure6)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    p.add_argument("--per-class", type=int, default=None,
                   help="images per class (default cifar 200/30, digits 100/30, synthetic 50/30 for figure4/figure6)")
    p.add_argument("--image-size", type=int, default=32, help="side of the digits / synthetic images (default 32)")
    p.add_argument("--widths", type=_int_list, default=[4, 8, 16, 32, 64], help="figure4: ResNet-18 widths k (default 4,8,16,32,64)")
    p.add_argument("--archs", default="resnet18,resnet50", help="figure6: architectures (default resnet18,resnet50)")
    p.add_argument("--width", type=int, default=64, help="figure6: width k of both networks (default 64)")
    p.add_argument("--tau", type=float, default=1.0, help="temperature of the normalised features (default 1)")
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate")
    p.add_argument("--batch-size", type=int, default=128, help="SGD batch size")
    p.add_argument("--lr-decay-period", type=int, default=40, help="epochs between x0.1 step decays (default 40)")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="regularised head's penalty weight (default 1e-4)")
    p.add_argument("--record-every", type=int, default=1, help="measure accuracy and NC1-NC3 every this many epochs (default 1)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of every random choice (an integer >= 0)")
    p.set_defaults(func=_cmd_deepnet)

    p = sub.add_parser("theorem2", parents=[common], formatter_class=_Formatter,
                       help="enumerate and classify critical points (Theorem 2)")
    _size_options(p, VERIFY_SIZE)
    p.add_argument("--starts", type=_starts, default=VERIFY_STARTS,
                   help="search starts, or 'auto' (None): search until saturated (at most --max-starts)")
    p.add_argument("--max-starts", type=_positive_int, default=DEFAULT_MAX_STARTS,
                   help="cap of an 'auto' search: it stops there, undecided, if not saturated before")
    p.add_argument("--seed", type=_seed, default=0, help="seed of every random choice (an integer >= 0)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="run the search on a local dask cluster of this many processes (sweep extra); "
                        "same result as serial")
    p.add_argument("--scheduler", metavar="ADDR", default=None,
                   help="run the search on a running dask scheduler, e.g. tcp://host:8786 (sweep extra)")
    p.add_argument("--checkpoint", metavar="FILE", type=_out_file, default=None,
                   help="save the search's state there while it runs; run the same command again to resume "
                        "(the result is the uninterrupted run's)")
    p.add_argument("--json", metavar="FILE", type=_out_file, default=None, help="also write the report as JSON")
    p.set_defaults(func=_cmd_theorem2)

    p = sub.add_parser("probe", parents=[common], formatter_class=_Formatter,
                       help="probe a conjecture: distinct critical points, counterexamples, worst saddle")
    _size_options(p, (None, None, None, None))
    p.add_argument("--loss", default="cross_entropy",
                   help="cross_entropy, label_smoothing:ALPHA, focal:GAMMA, mse or supcon")
    p.add_argument("--starts", type=int, default=DEFAULT_DESCENTS, help="descent starts")
    p.add_argument("--search-starts", type=_search_starts, default=None,
                   help="critical-point search starts, or 'auto' (until saturated); None: auto up to tangent "
                        "dimension 300, none above")
    p.add_argument("--max-starts", type=_positive_int, default=DEFAULT_MAX_STARTS,
                   help="cap of an 'auto' search: it stops there, undecided, if not saturated before")
    p.add_argument("--seed", type=_seed, default=0, help="seed of every random choice (an integer >= 0)")
    p.add_argument("--save-dir", type=_out_dir, default="counterexamples",
                   help="where potential counterexamples are saved")
    p.add_argument("--json", metavar="FILE", type=_out_file, default=None, help="also write the results as JSON")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser("sweep", parents=[common], formatter_class=_Formatter,
                       help="run a grid of probes or checks on dask.distributed")
    p.add_argument("grid", type=_in_file, help="grid file (TOML)")
    p.add_argument("--out", required=True, type=_out_file, help="results file (JSON lines, appended)")
    p.add_argument("--resume", action="store_true", help="skip cells already in --out")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=1, help="LocalCluster worker processes (0: serial, no dask)")
    where.add_argument("--scheduler", default=None, help="address of a running dask scheduler")
    p.add_argument("--heatmap", type=_out_file, default=None, help="PNG path (None: OUT.png)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("reproduce", parents=[common], formatter_class=_Formatter, help="regenerate Table 1 and Figures 1, 3, 5 beside the paper's numbers")
    p.add_argument("artefact", choices=("table1", "figure1", "figure3", "figure5", "all"))
    p.add_argument("--out", default=".", metavar="DIR", type=_out_dir, help="directory for CSV/JSON/PNG files (created)")
    p.add_argument("--trials", type=int, default=None,
                   help="trials (Table 1, Figure 5) or random starts per grid point (Figure 3)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of every random choice (an integer >= 0)")
    p.add_argument("--quick", action="store_true", help="small grids and few trials (seconds per artefact)")
    p.add_argument("--lambda", dest="lambda_", type=float, default=None,
                   help="weight decay lambda_W = lambda_H of the regularised runs (default 3e-5)")
    p.add_argument("--d", type=int, default=None, help="feature dimension of Figure 5 (default K + 1 = 101)")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("certify", parents=[common], formatter_class=_Formatter,
                       help="certified (ball-arithmetic) verdicts at exact points (extra 'certify')")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--family", default=None, help="a family name of critical_point_families, or 'all'")
    target.add_argument("--point", metavar="FILE.npz", type=_in_file, default=None,
                        help="an exact point: arrays W, H (or W_num/W_den, H_num/H_den), optional dW, dH")
    _size_options(p, DEFAULT_SIZE)
    p.add_argument("--minimum", action="store_true", help="certify a minimum up to symmetry instead of a saddle")
    p.add_argument("--all-tau", action="store_true", help="also prove the saddle for every tau > 0 where possible")
    p.add_argument("--prec", type=int, default=53, help="starting precision in bits")
    p.add_argument("--max-prec", type=int, default=4096, help="largest precision tried")
    p.add_argument("--json", metavar="FILE", type=_out_file, default=None, help="also write the certificates as JSON")
    p.set_defaults(func=_cmd_certify)

    from nc_verify.certify.prover import DEFAULT_MAX_BOXES

    p = sub.add_parser("prove", parents=[common], formatter_class=_Formatter,
                       help="prove Theorem 2's landscape at small sizes by interval branch and bound")
    p.add_argument("--K", type=int, default=None, help="number of classes K (required unless --check)")
    p.add_argument("--n", type=int, default=None, help="samples per class n (required unless --check)")
    p.add_argument("--tau", default=None,
                   help="temperature tau, a decimal read exactly (1.9 is 19/10, enclosed outward; or give --tau-range)")
    p.add_argument("--tau-range", nargs=2, metavar=("LO", "HI"), default=None,
                   help="prove for every tau in [LO, HI] (decimals read exactly; tau becomes a box coordinate)")
    p.add_argument("--d", type=int, default=None, help="feature dimension; default: every d > K at once")
    p.add_argument("--loss", default="cross_entropy", help="loss spec (cross_entropy, label_smoothing:A, focal:G)")
    p.add_argument("--form", choices=("strict-saddle", "no-spurious-local-minimum"), default=None,
                   help="what to prove; default: no-spurious-local-minimum at d = 2 with cross-entropy (strict "
                        "saddle is false there), strict-saddle otherwise")
    p.add_argument("--max-boxes", type=int, default=DEFAULT_MAX_BOXES, help="box budget")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes for the box batches (with --check FILE...: pieces re-checked at once)")
    p.add_argument("--order", choices=("depth", "breadth"), default="depth",
                   help="search order; breadth: a run that stops says which fraction of the domain it proved")
    p.add_argument("--symmetry", action="store_true",
                   help="K = 3: quotient by relabelling classes and samples (with --order breadth)")
    p.add_argument("--split", choices=("widest", "smear"), default="widest",
                   help="bisection coordinate: the widest, or the largest smear of the gradient (with --order breadth)")
    p.add_argument("--out", metavar="FILE.json", type=_out_file, default=None, help="write the proof as JSON")
    p.add_argument("--check", metavar="FILE.json", nargs="+", default=None,
                   help="re-verify a saved proof (arb-enclosed functions; extra 'certify') instead of proving; "
                        "several files: temperature pieces of one problem, re-checked and assembled")
    p.add_argument("--flint-only", action="store_true",
                   help="re-check every leaf one by one in flint balls (slower; assumes nothing of the "
                        "hardware's rounding) instead of in batches of IEEE arithmetic with arb function values")
    p.add_argument("--no-check", action="store_true",
                   help="skip the flint re-check that follows a proof by default (the verdict is then "
                        "'undecided: unchecked', exit 3)")
    p.set_defaults(func=_cmd_prove)
    return parser


def _debug(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def main(argv=None) -> int:
    """Run the command line; returns the exit status (:data:`~nc_verify.utils.reports.EXIT_STATUSES`)."""
    from nc_verify.utils.budget import memory_budget

    parser = build_parser()
    args = parser.parse_args(argv)
    _configure(wide=getattr(args, "wide", False))
    if not _debug(args):
        # a cluster closed by Ctrl-C or a failure logs warnings and errors from every worker (a worker
        # that loses its scheduler while closing logs a traceback): one line is enough, and any failure
        # that matters reaches this process as an exception.  dask reads this when it is imported,
        # here and in the worker processes (which inherit it).
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    try:
        with memory_budget(getattr(args, "max_memory", None)):
            status = args.func(args)
        sys.stdout.flush()
        return status
    except BaseException as exc:                 # noqa: BLE001 -- every failure gets its status and one line
        if isinstance(exc, SystemExit):
            raise
        inputs = [getattr(args, a, None) for a in _INPUT_ARGS]
        inputs = [p for v in inputs for p in (v if isinstance(v, (list, tuple)) else [v])]
        status, message = failure_status(exc, inputs=inputs)
        if status == EXIT_BROKEN_PIPE:
            # the reader is gone: send what is left to /dev/null so that Python's flush at exit is silent
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return status                        # the reader stopped reading: nothing more to say
        try:
            if _debug(args):
                import traceback

                traceback.print_exception(exc, file=sys.stderr)
            print(f"nc-verify {args.command}: error: {message}", file=sys.stderr)
        except OSError:
            pass
        return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
