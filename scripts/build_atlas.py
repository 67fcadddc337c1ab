"""Rebuild the atlas shipped in nc_verify/atlas/data and its figure docs/figures/atlas.png.

Runs ``verify_theorem2`` with the default (saturating) search at each size, seed 0, and
writes one entry per saturated size (an unsaturated search is reported and not written).
Usage: ``python scripts/build_atlas.py [--sizes d,K,n,tau ...] [--checkpoints DIR]``; about 25 minutes on
one core for the default sizes, (9, 5, 2, 1.5) 20 of them (``--sizes 8,6,1,1`` rebuilds one entry; the figure always shows every shipped entry).  With
``--checkpoints DIR`` each search keeps its state in ``DIR/d{d}_K{K}_n{n}_tau{tau}_seed{seed}.ckpt``: a
search that ``nc-verify theorem2 --seed S --checkpoint`` that file ran to its end is not run again.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from nc_verify import atlas, verify_theorem2

ROOT = pathlib.Path(__file__).resolve().parents[1]
SIZES = ["5,3,1,1", "5,3,1,2", "6,4,1,2", "5,3,2,2", "6,4,2,2", "8,4,2,2", "8,6,1,1", "9,5,2,1.5"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=SIZES, help="d,K,n,tau of each entry")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoints", default=None, metavar="DIR",
                        help="keep (and reuse) each search's checkpoint in this folder")
    args = parser.parse_args(argv)
    entries = []
    for text in args.sizes:
        d, K, n, tau = text.split(",")
        t0 = time.perf_counter()
        checkpoint = None
        if args.checkpoints:
            checkpoint = pathlib.Path(args.checkpoints) / f"d{d}_K{K}_n{n}_tau{float(tau):g}_seed{args.seed}.ckpt"
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
        rep = verify_theorem2(int(d), int(K), int(n), float(tau), seed=args.seed, progress=False, checkpoint=checkpoint)
        if not rep.saturated:
            print(f"({text}): not saturated after {rep.n_starts} starts, not written", file=sys.stderr)
            continue
        entry = atlas.from_report(rep, seed=args.seed)
        path = entry.save(atlas.DATA_DIR / atlas.file_name(entry.d, entry.K, entry.n, entry.tau))
        new = sum(p.family == "new" for p in entry.points)
        print(f"({text}): {len(entry.points)} points ({new} in no family), {entry.counts()}, verdict {rep.verdict}, "
              f"{rep.n_starts} starts, {time.perf_counter() - t0:.1f} s -> {path}")
        entries.append(entry)
    if entries:                      # the figure shows every shipped entry, rebuilt or not
        shipped = [atlas.load(*size) for size in atlas.available()]
        print(atlas.plot(shipped, ROOT / "docs" / "figures" / "atlas.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
