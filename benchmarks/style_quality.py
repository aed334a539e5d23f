"""Time to quality: how long each option set takes to reach the seed configuration's loss.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/style_quality.py [--networks vgg16-hed vgg19]
        [--sizes 512x512 250x333] [--vgg16-hed /tmp/vgg16_hed.mat] [--vgg19 PATH]
        [--json benchmarks/style_quality.json] [--plot docs/images/style_quality.png]
        [--largest 1500x2000 ...]

Networks: ``vgg16-hed`` is real pretrained VGG16 features (the HED edge detector's backbone,
made by ``hed_to_matconvnet.py``: a real loss landscape, so optimiser choices are judged on
it); ``vgg19`` is the full-size random-weight VGG19 file of ``machine.random_vgg19`` (the
right FLOPs; built and cached when missing). Content and style are the bundled samples.

For each network and size, in this order and each in its own subprocess (so that the peak
memory, VmHWM, is that run's own; it includes reading the .mat file):

* **reference**: the seed configuration (Adam, learning rate 2.0, 300 steps, ``--seed 0``).
  Its loss at step 300 is the target, and its wall time the reference time;
* **lbfgs**: ``--optimizer lbfgs``;
* **coarse**: ``--scales 2 --coarse-iterations 100`` with Adam;
* **both**: ``--optimizer lbfgs --scales 2 --coarse-iterations 100``.

Each run is the library's ``Engine`` in a temporary folder, its records consumed with a
``Progress`` at every step; the wall time is counted from before the graph is built (after the
.mat file is read) to the first full-size step whose loss is at or below the target, and a run
gives up at the reference's wall time: the worker then leaves the loop, which closes the
records' generator and so stops the optimisation. Times include the step image written at
each step, in every variant alike. "others" is the number of cores other processes kept busy
meanwhile (``machine.Meter``): above ~0.1 the machine was contended and the times are
disturbed. The
"full-size evals" column counts the work instead, whatever the load: each level's
loss-and-gradient evaluations (an Adam step is one) weighted by its share of the full size's
pixels.

``--largest HxW ...`` instead runs ``--optimizer lbfgs --scales 3`` at each size on the VGG19
file for a few steps per level (``--largest-steps``), reporting ms per full-size step, peak
memory and the memory estimate. Prints a table, writes the JSON after every run, and plots
loss against time per network at the first size of ``--sizes``; ``--from-json`` does the
table and plot again from the JSON files of earlier (or interrupted) runs.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import machine

ROOT = pathlib.Path(__file__).resolve().parents[1]
VARIANTS = {  # StyleConfig fields over the seed configuration
    "reference": {},
    "lbfgs": {"optimizer": "lbfgs"},
    "coarse": {"scales": 2, "coarse_iterations": 100},
    "both": {"optimizer": "lbfgs", "scales": 2, "coarse_iterations": 100},
}
NETWORK_NAMES = {"vgg16-hed": "VGG16/HED (pretrained)", "vgg19": "VGG19 (random weights)"}
NAN = float("nan")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["vgg16-hed", "vgg19"],
                        choices=sorted(NETWORK_NAMES))
    parser.add_argument("--sizes", nargs="+", default=["512x512", "250x333"], help="HxW")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--vgg16-hed", default="/tmp/vgg16_hed.mat")
    parser.add_argument("--vgg19", help="full-size VGG19 .mat; default: the cached random one")
    parser.add_argument("--cache", default=machine.CACHE)
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="divide the random VGG19's channel counts (smoke tests)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "style_quality.json"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "images" / "style_quality.png"))
    parser.add_argument("--largest", nargs="+", help="HxW sizes for the largest-size check")
    parser.add_argument("--largest-steps", type=int, default=3)
    parser.add_argument("--from-json", nargs="+", metavar="JSON",
                        help="print the table and draw the plot from earlier runs' JSON files")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--vgg", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--target", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One run of the engine: a time line of (seconds, size, step, loss, evaluations)."""
    from tf1cnn.style_transfer import cli, engine, images, matconvnet, memory, vgg
    from tf1cnn.style_transfer.config import StyleConfig
    from tf1cnn.style_transfer.rundir import RunDir

    height, width = (int(v) for v in args.size.split("x"))
    if args.worker == "largest":
        fields = {"optimizer": "lbfgs", "scales": 3, "iterations": args.largest_steps,
                  "coarse_iterations": args.largest_steps}
    else:
        fields = VARIANTS[args.worker]
    config = dataclasses.replace(StyleConfig(), height=height, width=width, seed=0,
                                 checkpoint_every=100000, **fields)
    config.check()
    layers = vgg.trunk(matconvnet.read_layers(args.vgg),
                       (config.content_layer, *config.style_layers))
    load_peak = memory.peak_resident()
    content = images.read_rgb(cli.sample(cli.SAMPLE_CONTENT))
    style = images.read_rgb(cli.sample(cli.SAMPLE_STYLE))
    full = f"{height}x{width}"
    timeline: list[list] = []
    outcome = "finished"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, engine.Engine(layers, config) as style_engine:
        out = RunDir(tmp)
        folders = [out.level(c.height, c.width) for c in config.levels()[:-1]] + [out]
        run = style_engine.run(content, [style], folders)
        with contextlib.closing(run.records(schedule=lambda step, iterations: True)) as records:
            for record in records:
                if not isinstance(record, engine.Progress):
                    continue
                images.write_png(folders[record.level].step_image(record.step), record.image)
                now = time.perf_counter() - started
                size, loss = f"{record.height}x{record.width}", record.losses["total"]
                timeline.append([round(now, 3), size, record.step, loss, record.evaluations])
                if size == full and args.target is not None and loss <= args.target:
                    outcome = "reached"
                    break
                if args.budget is not None and now > args.budget:
                    outcome = "gave up"
                    break
    # A run that gives up on a coarse level has no full-size row: no loss, steps or speed.
    full_rows = [row for row in timeline if row[1] == full] or [[NAN, full, 0, NAN, 0]]
    return {"variant": args.worker, "size": full, "outcome": outcome,
            "seconds": timeline[-1][0], "final_loss": full_rows[-1][3],
            "steps": full_rows[-1][2], "evaluations": full_rows[-1][4],
            "ms_per_full_step": 1000 * (full_rows[-1][0] - full_rows[0][0])
            / max(1, full_rows[-1][2] - full_rows[0][2]),
            "peak_mb": memory.peak_resident() / 2**20, "load_peak_mb": load_peak / 2**20,
            "estimate_mb": memory.memory_estimate(
                layers, height, width, config.optimizer, config.style_scale,
                config.lbfgs_corrections) / 2**20,
            "timeline": timeline}


def spawn(*extra: str) -> dict[str, Any]:
    return machine.spawn([sys.executable, os.path.abspath(__file__), *extra])


def plot(results: list[dict], size: str, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    networks = [n for n in NETWORK_NAMES if any(r["network"] == n for r in results)]
    figure = Figure(figsize=(5.5 * len(networks), 4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for axes, network in zip(figure.subplots(1, len(networks), squeeze=False)[0], networks):
        runs = [r for r in results if r["network"] == network and r["size"] == size]
        for run in runs:
            rows = [row for row in run["timeline"] if row[1] == size]
            axes.plot([row[0] for row in rows], [row[3] for row in rows], label=run["variant"],
                      marker="o" if len(rows) < 3 else None)
        target = next((r["final_loss"] for r in runs if r["variant"] == "reference"), None)
        if target is not None:
            axes.axhline(target, color="grey", linestyle=":", label="reference's final loss")
        axes.set_yscale("log")
        axes.set_xlabel("wall time (s), graph building included")
        axes.set_ylabel(f"total loss at {size}")
        axes.set_title(f"{NETWORK_NAMES[network]}, {size}", fontsize=10)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.savefig(path)


def full_size_evaluations(result: dict) -> float:
    """Loss-and-gradient evaluations of the run, each level's counted at its share of the full
    size's pixels: the work done, whatever else the machine was doing meanwhile."""
    last = {}
    for _, size, _, _, evaluations in result["timeline"]:
        last[size] = evaluations
    full = _pixels(result["size"])
    return sum(count * _pixels(size) / full for size, count in last.items())


def _pixels(size: str) -> int:
    height, width = (int(v) for v in size.split("x"))
    return height * width


def table(results: list[dict]) -> str:
    header = ("network", "size", "variant", "outcome", "seconds", "÷ ref", "final loss",
              "steps", "evals", "full-size evals", "÷ ref", "ms/step", "peak MB", "est. MB",
              "others")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['network']} | {r['size']} | {r['variant']} | failed "
                         f"({r['failed']}) |" + " |" * (len(header) - 4))
            continue
        reference = next(x for x in results if x["network"] == r["network"]
                         and x["size"] == r["size"] and x["variant"] == "reference")
        reached = r["outcome"] != "gave up"
        ratio = r["seconds"] / reference["seconds"] if reached else float("nan")
        work = full_size_evaluations(r)
        work_ratio = work / full_size_evaluations(reference) if reached else float("nan")
        row = (r["network"], r["size"], r["variant"], r["outcome"], f"{r['seconds']:.0f}",
               f"{ratio:.2f}", f"{r['final_loss']:.4g}", r["steps"], r["evaluations"],
               f"{work:.0f}", f"{work_ratio:.2f}", f"{r['ms_per_full_step']:.0f}",
               f"{r['peak_mb']:.0f}", f"{r['estimate_mb']:.0f}", f"{r['other_cores']:.2f}")
        lines.append("| " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        print(json.dumps(worker(args)), flush=True)
        return 0
    if args.from_json:
        results = []
        for path in args.from_json:
            with open(path) as handle:
                results += [r for r in json.load(handle)["results"] if r["variant"] != "largest"]
        print(table(results))
        plot(results, args.sizes[0], args.plot)
        return 0
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLI does; the workers inherit
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    vgg19 = args.vgg19 or machine.random_vgg19(args.cache, width_divisor=args.width_divisor)
    paths = {"vgg16-hed": args.vgg16_hed, "vgg19": vgg19}
    results: list[dict] = []

    def save() -> None:
        with open(args.json, "w") as handle:
            json.dump({"results": results, "cpus": os.cpu_count()}, handle)

    if args.largest:
        for size in args.largest:
            result = dict(spawn("--worker", "largest", "--size", size, "--vgg", vgg19,
                                "--largest-steps", str(args.largest_steps)),
                          network="vgg19", variant="largest", size=size)
            results.append(result)
            save()
            print(json.dumps({k: v for k, v in result.items() if k != "timeline"}), flush=True)
        return 0
    for network in args.networks:
        for size in args.sizes:
            reference = None
            for variant in args.variants:
                extra = [] if reference is None else [
                    "--target", str(reference["final_loss"]),
                    "--budget", str(reference["seconds"])]
                result = dict(spawn("--worker", variant, "--size", size, "--vgg",
                                    paths[network], *extra),
                              network=network, variant=variant, size=size)
                if variant == "reference":
                    reference = result
                results.append(result)
                save()
                print(f"{network} {size} {variant}: " + json.dumps(
                    {k: v for k, v in result.items() if k != "timeline"}),
                    file=sys.stderr, flush=True)
    print(table(results))
    plot(results, args.sizes[0], args.plot)
    print(f"wrote {args.json} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
