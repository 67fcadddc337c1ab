"""The command-line interface: verdict table, JSON output, exit codes, clean errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nc_verify
from nc_verify.cli import main


def test_verify_small(tmp_path, capsys):
    out = tmp_path / "new" / "v.json"                 # the parent folder is created
    code = main(["verify", "--d", "5", "--K", "3", "--n", "1", "--tau", "1.0", "--wide", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert text.startswith("nc-verify verify: d=5 K=3 n=1 tau=1 seed=0")   # header first
    assert "verdict: all checks passed" in text
    assert "Thm 1: simplex ETF attains the bound" in text and "Theorem 2: search saturated" in text
    data = json.loads(out.read_text())
    assert data["state"] == "pass" and data["theorem1"]["holds"] is True
    assert {r["state"] for r in data["rows"]} == {"pass"}
    assert data["theorem2"]["rows"][-1]["name"] == "Theorem 2: search saturated"


def test_verify_at_d_equal_K_labels_probe_rows(capsys):
    code = main(["verify", "--d", "3", "--K", "3", "--n", "1", "--tau", "1.0", "--starts", "20", "--wide"])
    text = capsys.readouterr().out
    assert "PROBE of the paper's conjecture" in text.splitlines()[0]
    assert "Theorem 2 probe: search saturated" in text and "Theorem 2: " not in text
    assert "Theorem 2 rows are a probe" in text
    assert code == 3                                   # 20 starts do not saturate: undecided


def test_tiny_tau_is_undecided_not_failed(capsys):
    code = main(["verify", "--d", "4", "--K", "3", "--n", "1", "--tau", "1e-8", "--starts", "20", "--wide"])
    text = capsys.readouterr().out
    assert code == 3 and "FAIL" not in text


def test_huge_tau_never_blames_the_user(capsys):
    code = main(["verify", "--d", "4", "--K", "3", "--n", "1", "--tau", "1e4", "--starts", "20", "--wide"])
    out, err = capsys.readouterr()
    assert "NaN" not in err and "RuntimeWarning" not in err and "W has" not in out + err
    assert code in (1, 3)


def test_bad_argument_is_a_clean_error(capsys):
    assert main(["verify", "--tau", "-1"]) == 2
    assert "tau must be finite and > 0" in capsys.readouterr().err


def test_unwritable_json_is_refused_before_computing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--json", str(blocker / "x.json")])        # parent is a file
    assert exc.value.code == 2 and "cannot create the folder" in capsys.readouterr().err


def test_version_and_defaults_in_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"nc-verify {nc_verify.__version__}"
    with pytest.raises(SystemExit):
        main(["theorem2", "--help"])
    text = capsys.readouterr().out
    text = text[text.index("options:"):]
    for option in ("--d D", "--K K", "--n N", "--tau TAU", "--starts STARTS", "--seed SEED"):
        entry = text[text.index(option):].split("\n  -")[0]      # the option's help, up to the next option
        assert "(default:" in " ".join(entry.split()), entry


def test_certify_point_errors(tmp_path, capsys):
    bad = tmp_path / "p.txt"
    bad.write_text("not a point")
    code = main(["certify", "--point", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "is not an .npz archive" in err and "pickle" not in err
    wrong = tmp_path / "w.npz"
    np.savez(wrong, W=np.ones((3, 4)), H=np.ones((2, 4)))
    assert main(["certify", "--point", str(wrong)]) == 2
    assert "W has shape (3, 4) but H has shape (2, 4)" in capsys.readouterr().err


@pytest.mark.parametrize("state, code", [("pass", 0), ("FAIL", 1), ("undecided", 3)])
def test_exit_code_per_state(monkeypatch, capsys, state, code):
    import nc_verify.checks.verify as V
    from nc_verify.utils.reports import Report, Row

    class Fake(Report):
        theorem2 = type("T2", (), {"elapsed": 0.0, "mode": "check", "verdict": "holds"})()

        def rows(self):
            return [Row("claim", state, "because")]

        def as_dict(self, arrays=False):
            return {}

    monkeypatch.setattr(V, "verify_all", lambda *a, **k: Fake())
    assert main(["verify"]) == code


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "nc_verify", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "verify" in proc.stdout and "exit status" in proc.stdout


def test_prove_and_check(tmp_path, capsys):
    """nc-verify prove: (2, 1) at tau = 1 is proved for every d > 2 (exit 0), its file re-checks (exit 0);
    at d = 2 the degenerate member W = u 1^T, H = v 1^T leaves boxes unresolved in the strict-saddle form
    (exit 3, undecided), and the weak form (no spurious local minimum, the d = 2 default) is proved."""
    from nc_verify.cli import main

    out = tmp_path / "proof.json"
    assert main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--out", str(out)]) == 0
    assert "status: proved" in capsys.readouterr().out
    assert main(["prove", "--check", str(out)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--d", "2", "--form", "strict-saddle"]) == 3
    assert "unresolved box" in capsys.readouterr().out
    assert main(["prove", "--K", "2", "--n", "1", "--tau", "1", "--d", "2"]) == 0
    assert "form: no spurious local minimum" in capsys.readouterr().out
    assert main(["prove", "--K", "2", "--n", "1"]) == 2
    assert "exactly one of --tau and --tau-range" in capsys.readouterr().err


def test_theorem2_workers_and_scheduler_options(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["theorem2", "--workers", "0"])
    assert exc.value.code == 2 and "expected a positive integer" in capsys.readouterr().err
    seen = {}
    import nc_verify.checks.theorem2 as T2

    real = T2.verify_theorem2

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **{**kwargs, "workers": None, "scheduler": None})

    monkeypatch.setattr(T2, "verify_theorem2", spy)
    main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--starts", "20", "--workers", "2",
          "--scheduler", "tcp://127.0.0.1:8786"])
    assert seen["workers"] == 2 and seen["scheduler"] == "tcp://127.0.0.1:8786"
    monkeypatch.setattr(T2, "verify_theorem2", real)
    capsys.readouterr()
    # both at once: refused before any work (it used to run the families, then fail 31 s later)
    assert main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--workers", "2",
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "not both" in err and "families" not in err


def test_theorem2_max_starts_caps_an_auto_search(capsys, tmp_path):
    """``--max-starts 300`` stops an 'auto' search at exactly 300 starts, undecided (exit 3, "not saturated"
    with the chance of a miss); ``--max-starts 0`` is refused with exit 2 before any work."""
    for command in ("theorem2", "verify", "probe"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--max-starts", "0"])
        assert exc.value.code == 2 and "--max-starts" in capsys.readouterr().err
    from nc_verify.checks.probes import probe
    with pytest.raises(ValueError, match="max_starts"):
        probe(3, 3, 1, 1.0, max_starts=0)
    out = tmp_path / "t2.json"
    code = main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--tau", "1", "--max-starts", "300", "--json", str(out)])
    text = capsys.readouterr().out
    data = json.load(open(out))
    assert code == 3 and data["n_starts"] == 300 and data["saturated"] is False
    assert "search not saturated" in text and "would stay unseen after it with probability" in text
    assert 0.0 < data["rarest_miss_probability"] < 1.0


# ------------------------------------------------------- the exit-status contract
def _default_sigint():
    """In the child before exec: SIGINT back to its default, as in a terminal (a test suite started
    as a background job of a non-interactive shell has SIGINT ignored, which a child would inherit,
    and an interpreter started with SIGINT ignored never raises KeyboardInterrupt)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _nc_verify(*args, **kwargs):
    """Popen of the command line in a fresh interpreter (stdout and stderr pipes, never a terminal)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("NC_VERIFY_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "nc_verify", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_default_sigint, **kwargs)


def test_piped_tables_print_every_number_whole(tmp_path):
    """Piped, rich cut the tables to 80 columns with an ellipsis ('strict_sa…', '-1.3341e…')."""
    out = tmp_path / "t2.json"
    proc = _nc_verify("theorem2", "--d", "4", "--K", "3", "--n", "2", "--tau", "1.5", "--starts", "30",
                      "--json", str(out))
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode in (0, 3), stderr
    assert "\u2026" not in stdout and max(map(len, stdout.splitlines())) > 80
    points = json.loads(out.read_text())["critical_points"]
    assert points
    for r in points:
        assert f"{r['lambda_min']:+.4e}" in stdout and r["kind"] in stdout and f"{r['cost']:.10g}" in stdout
    assert all(line == line.rstrip() for line in stdout.splitlines())    # no padding at the ends


def test_closed_pipe_exits_141_without_traceback():
    """`nc-verify ... | head -1`: rich turned the broken pipe into status 1 ('a claim resolved false')."""
    proc = _nc_verify("theorem2", "--d", "4", "--K", "3", "--n", "1", "--starts", "30")
    first = proc.stdout.readline()
    assert first.startswith("nc-verify theorem2:")
    proc.stdout.close()                           # the reader goes away; the table comes later
    stderr = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "BrokenPipe" not in stderr


def _interrupt_when(proc, marker, group=False, limit=120):
    """Send SIGINT once ``marker`` appears on stderr; the rest of stderr."""
    import signal
    import time

    t0, seen = time.perf_counter(), []
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            break
        assert time.perf_counter() - t0 < limit
    (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
    rest = proc.stderr.read()
    return "".join(seen) + rest


def test_interrupt_exits_130_with_one_line():
    """Ctrl-C gave a raw KeyboardInterrupt traceback (status -2: killed by SIGINT)."""
    proc = _nc_verify("theorem2", "--d", "5", "--K", "3", "--n", "2", "--starts", "100000")
    err = _interrupt_when(proc, "families:")
    assert proc.wait(timeout=60) == 130
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "nc-verify theorem2: error: interrupted"


def test_interrupt_with_a_local_cluster_gives_one_message():
    """With --workers 2 a terminal's Ctrl-C (to the whole process group) gave five tracebacks."""
    pytest.importorskip("distributed")
    proc = _nc_verify("theorem2", "--d", "5", "--K", "3", "--n", "2", "--starts", "100000", "--workers", "2",
                      start_new_session=True)
    err = _interrupt_when(proc, "critical points", group=True, limit=180)
    assert proc.wait(timeout=90) == 130
    assert "Traceback" not in err and "WARNING" not in err and "KeyboardInterrupt" not in err
    assert err.count("error: interrupted") == 1


def test_debug_shows_the_traceback(monkeypatch, capsys):
    import nc_verify.checks.verify as V

    def crash(*a, **k):
        raise RuntimeError("deliberate")

    monkeypatch.setattr(V, "verify_all", crash)
    monkeypatch.delenv("NC_VERIFY_DEBUG", raising=False)
    assert main(["verify"]) == 4
    err = capsys.readouterr().err
    assert err == "nc-verify verify: error: internal failure (RuntimeError): deliberate\n"
    assert main(["verify", "--debug"]) == 4
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("NC_VERIFY_DEBUG", "1")
    assert main(["verify"]) == 4
    assert "Traceback" in capsys.readouterr().err


def test_memory_error_is_an_internal_failure(monkeypatch, capsys):
    """An out-of-memory crash ended with numpy's traceback and status 1 ('a claim resolved false')."""
    import nc_verify.checks.theorem2 as T2

    def oom(*a, **k):
        raise MemoryError("Unable to allocate 734. GiB for an array with shape (313950, 313950)")

    monkeypatch.setattr(T2, "verify_theorem2", oom)
    assert main(["theorem2"]) == 4
    err = capsys.readouterr().err
    assert "out of memory" in err and "734. GiB" in err and "Traceback" not in err


def test_budget_refusal_is_an_input_error_with_the_figures(capsys):
    assert main(["theorem2", "--d", "200", "--K", "50", "--n", "10"]) == 2
    err = capsys.readouterr().err
    assert "tangent dimension 109450" in err and "GiB" in err and "--max-memory" in err
    # (5, 4, 3): the search needs 1/64 GiB; at exactly that budget it is allowed, just below refused
    assert main(["theorem2", "--d", "5", "--K", "4", "--n", "3", "--max-memory", str(1 / 64 - 1e-9)]) == 2
    assert "over the budget" in capsys.readouterr().err
    from nc_verify.utils.budget import max_memory_gib

    seen = []
    import nc_verify.checks.theorem2 as T2

    real = T2.check_theorem2_budget

    def spy(*a, **k):
        seen.append((max_memory_gib(), real(*a, **k)))
        raise KeyboardInterrupt                   # stop before the work
    T2.check_theorem2_budget, saved = spy, real
    try:
        assert main(["theorem2", "--d", "5", "--K", "4", "--n", "3", "--max-memory", "0.015625"]) == 130
    finally:
        T2.check_theorem2_budget = saved
    assert seen == [(0.015625, 2**24)]
    with pytest.raises(SystemExit) as exc:
        main(["theorem2", "--max-memory", "0"])
    assert exc.value.code == 2


def test_output_not_written_is_an_internal_failure(monkeypatch, tmp_path, capsys):
    """The --json path is proved writable first; if it goes away during the run, status 4 (not 1), one line."""
    import shutil

    import nc_verify.checks.verify as V
    from nc_verify.utils.reports import Report, Row

    folder = tmp_path / "out"
    target = folder / "r.json"

    class Fake(Report):
        theorem2 = type("T2", (), {"elapsed": 0.0, "mode": "check", "verdict": "holds"})()

        def rows(self):
            return [Row("claim", "pass", "because")]

        def as_dict(self, arrays=False):
            return {"x": 1}

    def run(*a, **k):
        shutil.rmtree(folder)
        folder.write_text("now a file")
        return Fake()

    monkeypatch.setattr(V, "verify_all", run)
    assert main(["verify", "--json", str(target)]) == 4
    err = capsys.readouterr().err
    assert "internal failure" in err and "Traceback" not in err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_unwritable_output_under_proc_is_refused_before_the_work(capsys):
    """As root os.access passes /proc and /sys; the file was found unwritable only after the whole run."""
    for args in (["theorem2", "--json", "/proc/nc_verify.json"], ["probe", "--d", "3", "--K", "3", "--n", "1",
                                                                  "--tau", "1", "--json", "/proc/x.json"]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "cannot be written" in err and "families" not in err


def test_sweep_out_is_checked_without_truncation_or_stray_files(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text('task = "theorem1"\nd = [3]\nK = [2]\nn = [1]\ntau = [1.0]\n')
    results = tmp_path / "results.jsonl"
    results.write_text('{"partial": true}\n')
    with pytest.raises(SystemExit):              # a bad heatmap path: refused before the work
        main(["sweep", str(grid), "--out", str(results), "--heatmap", "/proc/h.png"])
    assert results.read_text() == '{"partial": true}\n'
    fresh = tmp_path / "new.jsonl"
    with pytest.raises(SystemExit):
        main(["sweep", str(grid), "--out", str(fresh), "--heatmap", "/proc/h.png"])
    assert not fresh.exists()


def test_unreadable_or_malformed_inputs_are_input_errors(tmp_path, monkeypatch, capsys):
    import errno

    with pytest.raises(SystemExit) as exc:       # missing grid file: argparse, before anything
        main(["sweep", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o.jsonl")])
    assert exc.value.code == 2 and "cannot read input file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("task = [unclosed\n")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["certify", "--point", str(tmp_path / "none.npz")])
    assert exc.value.code == 2
    capsys.readouterr()
    # prove --check: the library raises for a file it cannot read (OSError) or parse (ValueError)
    import nc_verify.certify.prover as PR

    proof = tmp_path / "proof.json"

    def unreadable(path, **options):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    monkeypatch.setattr(PR, "check_landscape_proof", unreadable)
    assert main(["prove", "--check", str(proof)]) == 2
    assert "cannot read input file" in capsys.readouterr().err

    def malformed(path, **options):
        raise ValueError(f"{path}: not a proof file (truncated JSON)")

    monkeypatch.setattr(PR, "check_landscape_proof", malformed)
    assert main(["prove", "--check", str(proof)]) == 2
    assert "truncated JSON" in capsys.readouterr().err


def test_unreachable_scheduler_fails_fast(monkeypatch, capsys):
    """An unreachable --scheduler took dask's 30 s, then an OSError traceback and status 1."""
    pytest.importorskip("distributed")
    import time

    import nc_verify.utils.cluster as C

    assert C.SCHEDULER_TIMEOUT_S == 10
    monkeypatch.setattr(C, "SCHEDULER_TIMEOUT_S", 2)      # the same path, faster
    t0 = time.perf_counter()
    assert main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--scheduler", "tcp://127.0.0.1:1",
                 "--starts", "10"]) == 4
    assert time.perf_counter() - t0 < 20
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("nc-verify theorem2: error: internal failure") and "127.0.0.1:1" in err[-1]


def test_negative_seed_is_refused_up_front(capsys):
    """--seed -1 gave numpy's unnamed 'expected non-negative integer' after the families stage."""
    with pytest.raises(SystemExit) as exc:
        main(["theorem2", "--seed", "-1"])
    assert exc.value.code == 2 and "--seed" in capsys.readouterr().err
    from nc_verify.checks.probes import probe
    from nc_verify.checks.theorem2 import verify_theorem2
    from nc_verify.checks.verify import verify_all

    for call in (lambda: verify_theorem2(4, 3, 1, 1.0, seed=-1, progress=True),
                 lambda: verify_all(4, 3, 1, 1.0, seed=-1, progress=True),
                 lambda: probe(3, 3, 1, 1.0, seed=-1, save_dir=None, progress=True)):
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            call()
    assert capsys.readouterr().err == ""          # refused before the first stage


def test_json_output_is_strict(tmp_path):
    """A theorem2 --json file held bare NaN tokens (69 in one file), which strict parsers reject."""
    out = tmp_path / "t2.json"
    assert main(["theorem2", "--d", "4", "--K", "3", "--n", "1", "--tau", "1e4", "--json", str(out)]) == 3

    def refuse(token):
        raise ValueError(f"bare {token}")

    data = json.loads(out.read_text(), parse_constant=refuse)
    assert data["unseen_probability"] is None and data["unseen_probability_note"].startswith("nan")


def test_verify_evidence_lists_every_optimiser_run(tmp_path, capsys):
    """The Theorem 1 row said "tr 6 it, tr 6 it": two of its six optimiser runs, both trust regions."""
    out = tmp_path / "v.json"
    main(["verify", "--d", "4", "--K", "3", "--n", "2", "--tau", "1.5", "--starts", "20", "--json", str(out)])
    capsys.readouterr()
    data = json.loads(out.read_text())
    row = next(r for r in data["rows"] if r["name"] == "Thm 1: optimisers reach the bound")
    runs = data["theorem1"]["optimised"]
    for name in ("trust_regions", "steepest_descent"):
        its = [r["iterations"] for r in runs if r["optimizer"] == name]
        assert len(its) == 3
        span = f"{min(its)}-{max(its)}" if min(its) < max(its) else f"{its[0]}"
        assert f"{name} 3 runs, {span} it" in row["reason"]
