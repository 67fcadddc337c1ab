"""Scaled-down Figures 4 and 6 on one GPU, with no network and no CIFAR: scikit-learn's digits.

    PYTHONPATH=. python scripts/gpu_deepnet_figures.py --out DIR        (or $OUT)
    PYTHONPATH=. python scripts/gpu_deepnet_figures.py --smoke --out DIR   (seconds on a CPU)

Figure 4 (scaled): ResNet-18 of widths 4, 8, 16, 32, 64 with normalised features
(tau = 1) memorise the digits enlarged to 32x32 with random labels, 100 per class
(N = 1000; the paper: CIFAR-10, N = 2000), 100 epochs (paper: 200), step decay
every 40 epochs. Figure 6 (scaled): ResNet-18 and ResNet-50 (width 64) with the
normalised and the regularised head on the digits with their true labels, 30 per
class (N = 300; the paper: CIFAR-100, N = 3000), 100 epochs. Other settings are
the authors' (SGD lr 0.05, momentum 0.9, batch 128, wd 1e-4, seed 0).

Writes figure4.{csv,png,json}, figure4_summary.txt, the same for figure6, and
summary.md (environment, settings, tables, wall times) into the output folder.
Runs are skipped, and the skip is recorded, once ``--budget-s`` seconds have passed.
Needs torch, numpy, scipy, matplotlib and scikit-learn; not pymanopt.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from nc_verify.deepnet import TrainConfig, load_digits
from nc_verify.deepnet.figures import FigureResult, figure4, figure6, save_figure


def settings(smoke: bool) -> dict:
    if smoke:
        return {
            "size": 8,
            "fig4": {"per_class": 5, "widths": (2, 4), "config": TrainConfig(epochs=2, record_every=1)},
            "fig6": {"per_class": 5, "archs": ("resnet18", "resnet50"), "width": 2, "config": TrainConfig(epochs=2, record_every=1)},
        }
    return {
        "size": 32,
        "fig4": {"per_class": 100, "widths": (4, 8, 16, 32, 64), "config": TrainConfig(epochs=100, record_every=2)},
        "fig6": {"per_class": 30, "archs": ("resnet18", "resnet50"), "width": 64, "config": TrainConfig(epochs=100, record_every=5)},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT"), help="output folder (default: $OUT)")
    parser.add_argument("--smoke", action="store_true", help="tiny settings that finish in seconds on a CPU")
    parser.add_argument("--device", default=None, help="default: cuda when available")
    parser.add_argument("--budget-s", type=float, default=420.0, help="start no new run after this many seconds")
    args = parser.parse_args(argv)
    if not args.out:
        parser.error("give --out DIR or set $OUT")
    os.makedirs(args.out, exist_ok=True)

    import torch

    torch.backends.cudnn.benchmark = True
    start = time.perf_counter()
    cfg = settings(args.smoke)
    lines = ["# Scaled-down Figures 4 and 6 (digits stand-in)", ""]
    dev = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    gpu = torch.cuda.get_device_name(0) if dev.startswith("cuda") else "none"
    lines += [
        f"- python {platform.python_version()}, torch {torch.__version__}, device {dev} ({gpu})",
        f"- mode: {'smoke' if args.smoke else 'full'}, budget {args.budget_s:.0f} s",
        "",
    ]
    skipped = []

    def within_budget(what):
        if time.perf_counter() - start > args.budget_s:
            skipped.append(what)
            return False
        return True

    f4 = cfg["fig4"]
    data4 = load_digits(f4["per_class"], size=cfg["size"])
    res4 = FigureResult("figure4", [])
    for k in f4["widths"]:
        if not within_budget(f"figure4 width {k}"):
            continue
        res4.runs += figure4(data4, widths=[k], config=f4["config"], device=dev).runs
        save_figure(res4, args.out)
        print(f"figure4 k={k}: {res4.runs[-1].final.seconds:.1f} s, final acc {res4.runs[-1].final.accuracy:.4f}", flush=True)

    f6 = cfg["fig6"]
    data6 = load_digits(f6["per_class"], size=cfg["size"])
    res6 = FigureResult("figure6", [])
    for arch in f6["archs"]:
        for head in ("normalized", "regularized"):
            if not within_budget(f"figure6 {arch} {head}"):
                continue
            res6.runs += figure6(data6, archs=[arch], heads=[head], width=f6["width"], config=f6["config"], device=dev).runs
            save_figure(res6, args.out)
            print(f"figure6 {arch} {head}: {res6.runs[-1].final.seconds:.1f} s, final acc {res6.runs[-1].final.accuracy:.4f}", flush=True)

    for name, res, f, data in (("Figure 4", res4, f4, data4), ("Figure 6", res6, f6, data6)):
        c = f["config"]
        lines += [
            f"## {name}: {data.name} {data.images.shape[1:]}, N={data.size}, K={data.num_classes}",
            "",
            f"epochs {c.epochs}, lr {c.lr}, momentum {c.momentum}, decay x{c.lr_decay} every {c.lr_decay_period}, "
            f"batch {c.batch_size}, wd {c.weight_decay}, measured every {c.record_every} epochs",
            "",
            "```",
            res.summary_text().rstrip(),
            "```",
            "",
        ]
    lines.append(f"total wall time {time.perf_counter() - start:.1f} s")
    if skipped:
        lines.append(f"skipped for lack of time: {', '.join(skipped)}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as fh:
        fh.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
