"""`nc-verify verify` wall time: default BLAS threads vs OPENBLAS_NUM_THREADS=1, idle and beside a busy process.

Runs the command line as a subprocess four times (ratios from one run; asserts nothing):
default threads / one thread, each on an idle machine and with one CPU-bound process
(a pure-Python loop) beside it.  The library limits BLAS to one thread for small
problems (nc_verify.utils.threads), so the default-thread run should stay within 1.2x
of the one-thread run even beside the busy process.

    python benchmarks/bench_verify_threads.py [extra nc-verify verify options]
"""

import os
import subprocess
import sys
import time

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_verify(one_thread: bool, extra) -> float:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if one_thread:
        env["OPENBLAS_NUM_THREADS"] = "1"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nc_verify", "verify", *extra], env=env, check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"  (nc-verify verify exited {proc.returncode})")
    return elapsed


def main(extra):
    print(f"nc-verify verify {' '.join(extra) or '(defaults)'}; {os.cpu_count()} CPUs")
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            time.sleep(0.5 if busy else 0.0)
            default = run_verify(False, extra)
            time.sleep(1.0)                    # BLAS threads keep spinning briefly after a run
            single = run_verify(True, extra)
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
        where = "with one busy process" if busy else "idle"
        print(f"{where:>22}: default threads {default:6.1f} s, OPENBLAS_NUM_THREADS=1 {single:6.1f} s, "
              f"ratio {default / single:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
