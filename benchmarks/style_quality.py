"""Time to quality: how long each option set takes to reach the seed configuration's quality.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/style_quality.py [--networks vgg16-hed vgg19]
        [--sizes 250x333 512x512] [--variants reference fast lbfgs coarse both fast-bf16]
        [--sweep]
        [--fast-runs 3] [--vgg16-hed /tmp/vgg16_hed.mat] [--vgg19 PATH]
        [--json benchmarks/style_quality.json] [--plot docs/images/style_quality.png]
        [--side-by-side docs/images/fast_side_by_side.jpg] [--largest 1500x2000 ...]

Networks: ``vgg16-hed`` is real pretrained VGG16 features (the HED edge detector's backbone,
made by ``hed_to_matconvnet.py``: a real loss landscape, so optimiser choices are judged on
it); ``vgg19`` is the full-size random-weight VGG19 file of ``machine.random_vgg19`` (the
right FLOPs; built and cached when missing). Content and style are the bundled samples.

For each network and size, in this order and each in its own subprocess (so that the peak
memory, VmHWM, is that run's own; it includes reading the .mat file):

* **reference**: the seed configuration (Adam, learning rate 2.0, 300 steps, ``--seed 0``).
  Its final losses define the seed's quality: a total loss at or below its final one, and a
  content loss at most ``CONTENT_SLACK`` (1.25) times its final one. Its wall time is the
  reference time;
* **fast** (``--fast-runs`` times): ``--fast``, the preset ``config.FAST``, which stops by
  itself: it is given no target, and the table says whether it ended at the seed's quality;
* **fast-bf16** (``--fast-runs`` times, only when named in ``--variants``): the same with
  ``--precision bfloat16``, for time to quality in both precisions side by side (its steps and
  evaluations against fast's give the evaluations per iteration);
* **lbfgs**, **coarse**, **both**: ``--optimizer lbfgs``; ``--scales 2 --coarse-iterations
  100`` with Adam; both together. Each stops at the first full-size step at or below the
  reference's final loss;
* with ``--sweep``, each candidate of ``sweep_candidates``: the preset with one choice changed
  (init, levels, coarse tolerance and budget, corrections, tolerance and its steps), each
  stopping by itself as ``--fast`` does. These are the measurements the preset was chosen by.

Each run is the library's ``Engine`` in a temporary folder, its records consumed with a
``Progress`` at every step; the wall time is counted from before the graph is built (after the
.mat file is read) to the run's end or the step that reached the target, and a run gives up at
the reference's wall time: the worker then leaves the loop, which closes the records'
generator and so stops the optimisation. Times include the step image written at each step,
in every variant alike. "others" is the number of cores other processes kept busy meanwhile
(``machine.Meter``): above ~0.1 the machine was contended and the times are disturbed. The
"full-size evals" column counts the work instead, whatever the load: each level's
loss-and-gradient evaluations (an Adam step is one) weighted by its share of the full size's
pixels.

``--largest HxW ...`` instead runs ``--optimizer lbfgs --scales 3`` at each size on the VGG19
file for a few steps per level (``--largest-steps``), reporting ms per full-size step, peak
memory and the memory estimate. Prints a table, writes the JSON after every run, plots loss
against time per network at the first size of ``--sizes`` (the first run of each variant;
not the sweep), and draws the reference's result beside the first ``--fast`` run's on
VGG16/HED, one row per size; ``--from-json`` does the table and plot again from the JSON files
of earlier (or interrupted) runs.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import machine
from style_quality_report import (
    FAST_VARIANTS,
    NAN,
    NETWORK_NAMES,
    OPT_IN,
    PICTURED,
    VARIANTS,
    plot,
    side_by_side,
    summaries,
    sweep_candidates,
)

from tf1cnn.style_transfer.config import FAST

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["vgg16-hed", "vgg19"],
                        choices=sorted(NETWORK_NAMES))
    parser.add_argument("--sizes", nargs="+", default=["512x512", "250x333"], help="HxW")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS),
                        default=[name for name in VARIANTS if name not in OPT_IN])
    parser.add_argument("--vgg16-hed", default="/tmp/vgg16_hed.mat")
    parser.add_argument("--vgg19", help="full-size VGG19 .mat; default: the cached random one")
    parser.add_argument("--cache", default=machine.CACHE)
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="divide the random VGG19's channel counts (smoke tests)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "style_quality.json"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "images" / "style_quality.png"))
    parser.add_argument("--side-by-side",
                        default=str(ROOT / "docs" / "images" / "fast_side_by_side.jpg"),
                        help="the reference's result beside --fast's, on VGG16/HED")
    parser.add_argument("--largest", nargs="+", help="HxW sizes for the largest-size check")
    parser.add_argument("--largest-steps", type=int, default=3)
    parser.add_argument("--fast-runs", type=int, default=3, help="runs of --fast, for a median")
    parser.add_argument("--sweep", action="store_true",
                        help="also run every candidate for --fast (sweep_candidates)")
    parser.add_argument("--from-json", nargs="+", metavar="JSON",
                        help="print the table and draw the plot from earlier runs' JSON files")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--vgg", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--target", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--fields", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One run of the engine: a time line of (seconds, size, step, loss, evaluations, content
    loss, style loss), a row per step."""
    from tf1cnn.common import images
    from tf1cnn.style_transfer.config import StyleConfig
    from tf1cnn.style_transfer.control import controls, inputs
    from tf1cnn.style_transfer.network import matconvnet, vgg
    from tf1cnn.style_transfer.objective import memory
    from tf1cnn.style_transfer.optimise import engine
    from tf1cnn.style_transfer.optimise.records import Progress
    from tf1cnn.style_transfer.shell import cli
    from tf1cnn.style_transfer.shell.rundir import RunDir

    height, width = (int(v) for v in args.size.split("x"))
    config = dataclasses.replace(StyleConfig(), height=height, width=width, seed=0,
                                 checkpoint_every=100000, **worker_fields(args))
    config.check()
    layers = vgg.trunk(matconvnet.read_layers(args.vgg),
                       (config.content_layer, *config.style_layers))
    load_peak = memory.peak_resident()
    content = images.read_rgb(cli.sample(cli.SAMPLE_CONTENT))
    style = images.read_rgb(cli.sample(cli.SAMPLE_STYLE))
    full = f"{height}x{width}"
    timeline: list[list] = []
    outcome, final = "finished", None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, engine.Engine(layers, config) as style_engine:
        out = RunDir(tmp)
        folders = [out.level(c.height, c.width) for c in config.levels()[:-1]] + [out]
        start = controls.start_picture(config.init, content, [style], None)
        run = style_engine.run(inputs.prepare(config, content, [style], start), folders)
        with contextlib.closing(run.records(schedule=lambda step, iterations: True)) as records:
            for record in records:
                if not isinstance(record, Progress):
                    continue
                images.write_png(folders[record.level].step_image(record.step), record.image)
                if record.level == record.levels - 1:
                    final = record.image  # written once timing is over (--save)
                now = time.perf_counter() - started
                size, loss = f"{record.height}x{record.width}", record.losses["total"]
                timeline.append([round(now, 3), size, record.step, loss, record.evaluations,
                                 record.losses["content"], record.losses["style"]])
                if size == full and args.target is not None and loss <= args.target:
                    outcome = "reached"
                    break
                if args.budget is not None and now > args.budget:
                    outcome = "gave up"
                    break
    if args.save and final is not None:
        images.write_png(args.save, final)
    return {"variant": args.worker, "size": full, "outcome": outcome,
            "precision": config.precision, **full_size(timeline, full),
            "peak_mb": memory.peak_resident() / 2**20, "load_peak_mb": load_peak / 2**20,
            "estimate_mb": memory.memory_estimate(
                layers, height, width, config.optimizer, config.style_scale,
                config.lbfgs_corrections, config.precision,
                (config.content_layer, *config.style_layers)) / 2**20,
            "timeline": timeline}


def worker_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The StyleConfig fields of the worker's variant, over the seed configuration."""
    if args.worker == "largest":
        return {"optimizer": "lbfgs", "scales": 3, "iterations": args.largest_steps,
                "coarse_iterations": args.largest_steps}
    return json.loads(args.fields) if args.fields else VARIANTS[args.worker]


def full_size(timeline: list[list], full: str) -> dict[str, Any]:
    """The time line's totals and its full size's final losses, steps and speed."""
    # A run that gives up on a coarse level has no full-size row: no loss, steps or speed.
    rows = [row for row in timeline if row[1] == full] or [[NAN, full, 0, NAN, 0, NAN, NAN]]
    return {"seconds": timeline[-1][0], "final_loss": rows[-1][3],
            "final_content": rows[-1][5], "steps": rows[-1][2], "evaluations": rows[-1][4],
            "ms_per_full_step": 1000 * (rows[-1][0] - rows[0][0])
            / max(1, rows[-1][2] - rows[0][2])}


def spawn(*extra: str) -> dict[str, Any]:
    return machine.spawn([sys.executable, os.path.abspath(__file__), *extra])


def save(path: str, results: list[dict]) -> None:
    with open(path, "w") as handle:
        json.dump({"results": results, "cpus": os.cpu_count(), "cpu": machine.cpu_name(),
                   "fast": FAST, "commit": machine.head_commit()}, handle)


def replot(args: argparse.Namespace) -> int:
    """The table and plot again from the JSON of earlier (or interrupted) runs."""
    results = []
    for path in args.from_json:
        with open(path) as handle:
            results += [r for r in json.load(handle)["results"] if r["variant"] != "largest"]
    print(summaries(results))
    plot(results, args.sizes[0], args.plot)
    return 0


def largest(args: argparse.Namespace, vgg19: str) -> int:
    """``--largest``: a few L-BFGS steps per level at each size on the VGG19 file."""
    results: list[dict] = []
    for size in args.largest:
        results.append(dict(spawn("--worker", "largest", "--size", size, "--vgg", vgg19,
                                  "--largest-steps", str(args.largest_steps)),
                            network="vgg19", variant="largest", size=size))
        save(args.json, results)
        print(json.dumps({k: v for k, v in results[-1].items() if k != "timeline"}), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        print(json.dumps(worker(args)), flush=True)
        return 0
    if args.from_json:
        return replot(args)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLI does; the workers inherit
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    vgg19 = args.vgg19 or machine.random_vgg19(args.cache, width_divisor=args.width_divisor)
    paths = {"vgg16-hed": args.vgg16_hed, "vgg19": vgg19}
    if args.largest:
        return largest(args, vgg19)
    results: list[dict] = []

    def measure(network: str, size: str, variant: str, fields: dict | None,
                reference: dict | None) -> dict:
        extra = [] if fields is None else ["--fields", json.dumps(fields)]
        if network == "vgg16-hed" and variant in PICTURED and (size, variant) not in pictures:
            pictures[size, variant] = os.path.join(folder, f"{size}_{variant}.png")
            extra += ["--save", pictures[size, variant]]
        if reference is not None:
            extra += ["--budget", str(reference["seconds"])]
            if variant in ("lbfgs", "coarse", "both"):  # these stop at the seed's loss
                extra += ["--target", str(reference["final_loss"])]
        result = dict(spawn("--worker", variant, "--size", size, "--vgg", paths[network],
                            *extra), network=network, variant=variant, size=size)
        results.append(result)
        save(args.json, results)
        print(f"{network} {size} {variant}: " + json.dumps(
            {k: v for k, v in result.items() if k != "timeline"}), file=sys.stderr, flush=True)
        return result

    pictures: dict[tuple[str, str], str] = {}  # (size, variant): the saved result
    folder = tempfile.mkdtemp(prefix="style_quality_")
    for network in args.networks:
        for size in args.sizes:
            reference = measure(network, size, "reference", None, None)
            for variant in args.variants:
                for _ in range(args.fast_runs if variant in FAST_VARIANTS else
                               0 if variant == "reference" else 1):
                    measure(network, size, variant, None, reference)
            if args.sweep:
                for name, fields in sweep_candidates().items():
                    measure(network, size, f"sweep: {name}", fields, reference)
    print(summaries(results))
    plot(results, args.sizes[0], args.plot)
    print(f"wrote {args.json} and {args.plot}")
    if {"reference", "fast"} <= {variant for _, variant in pictures}:
        side_by_side(results, pictures, args.side_by_side)
        print(f"wrote {args.side_by_side}")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
