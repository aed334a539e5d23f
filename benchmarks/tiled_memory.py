"""Peak memory and time per Adam step of large style runs, in one pass and in tiles.

    python benchmarks/tiled_memory.py [--budget 6G] [--steps 2] [--sizes 1000x1000 ...]
        [--untiled 1000x1000 2000x2000] [--from-json benchmarks/tiled_memory.json]

Each run is the command line itself (``cli.main``, so every array a user's run holds is
counted: step images, checkpoints, the result), with the bundled samples and the full-size
random-weight VGG19 of ``machine.random_vgg19``, ``--optimizer adam`` for ``--steps`` steps,
each in its own subprocess so that its peak resident memory (VmHWM) is its own:

* **baseline**: 64x64, the runtime's own peak (TensorFlow, the weights);
* **tiled** at each of ``--sizes`` with ``--max-memory BUDGET``: the tool tiles a level only
  when it does not fit, so a size that fits runs in one pass here too;
* **untiled** at each of ``--untiled`` with no budget given (what the machine has free).

A run passes when its peak is under the budget plus the baseline's peak. "s/step" is the last
step's wall time (step images included); at a size run both ways, tiled over untiled is the
cost of tiling (the median of the steps after the first; give ``--steps`` 4 or more for a
ratio: with 2 it is the second step's time alone). Writes the JSON after every run
(``--json``), and plots peak memory against pixels (``docs/images/tiled_memory.png``; not with
``--no-plot``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import sys
import tempfile
from collections.abc import Sequence

import machine
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
JSON = ROOT / "benchmarks" / "tiled_memory.json"
FIGURE = ROOT / "docs" / "images" / "tiled_memory.png"


def worker(height: int, width: int, steps: int, budget: str, vgg: str) -> dict:
    """One command-line run in this process; its measurements as a dict."""
    from tf1cnn.style_transfer.config import StyleConfig, parse_size
    from tf1cnn.style_transfer.network import weights
    from tf1cnn.style_transfer.objective import memory, tiles
    from tf1cnn.style_transfer.shell import cli
    from tf1cnn.style_transfer.shell.rundir import RunDir

    config = StyleConfig(height=height, width=width)
    layers = weights.load(vgg, (config.content_layer, *config.style_layers)).layers
    # The plan the run is about to make (the default budget reads the memory free now).
    plan = memory.plan(layers, [config], parse_size(budget) if budget else None)[0]
    estimate = memory.runtime_bytes(layers) + (
        memory.memory_estimate(layers, height, width) - memory.runtime_bytes(layers)
        if plan is None else memory.level_bytes(layers, config, plan))
    del layers  # the run loads its own
    with tempfile.TemporaryDirectory() as folder:
        args = ["--vgg", vgg, "--height", str(height), "--width", str(width), "--iterations",
                str(steps), "--optimizer", "adam", "--seed", "0", "--output-dir", folder]
        if budget:
            args += ["--max-memory", budget]
        with contextlib.redirect_stdout(sys.stderr):  # the JSON line alone goes to stdout
            status = cli.main(args)
        peak = memory.peak_resident()
        rows = RunDir(folder).history()
    # Every step is logged (steps 1-5 of the tutorial's schedule, then each one for --steps
    # up to 5): the median time of the steps after the first.
    seconds = [row["seconds"] for row in rows]
    steps = [b - a for a, b in zip(seconds[1:], seconds[2:])] or \
        [b - a for a, b in zip(seconds, seconds[1:])]
    return {"height": height, "width": width, "status": status, "budget": budget,
            "peak_bytes": peak, "tile": plan,
            "tiles": 0 if plan is None else tiles.count(height, width, plan),
            "step_seconds": float(np.median(steps)) if steps else None,
            "estimate_bytes": estimate}


def size_of(text: str) -> tuple[int, int]:
    height, width = text.lower().split("x")
    return int(height), int(width)


def table(results: list[dict], budget_bytes: int) -> str:
    baseline = next((r["peak_bytes"] for r in results if r["kind"] == "baseline"), None)
    lines = ["| size | run | tiles | peak GiB | estimate GiB | limit GiB | within | s/step |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        bounded = r["kind"] == "tiled" and baseline is not None
        limit = f"{(budget_bytes + baseline) / 2**30:.2f}" if bounded else ""
        within = ("yes" if r.get("peak_bytes", 0) <= budget_bytes + baseline else "**no**") \
            if bounded else ""
        tiles = f"{r['tiles']} of {r['tile']} px" if r.get("tile") else "one pass"
        step = f"{r['step_seconds']:.1f}" if r.get("step_seconds") else ""
        if r.get("failed"):
            lines.append(f"| {r['height']}x{r['width']} | {r['kind']} | failed "
                         f"({r['failed']}) | | | | | |")
            continue
        lines.append(f"| {r['height']}x{r['width']} | {r['kind']} | {tiles} | "
                     f"{r['peak_bytes'] / 2**30:.2f} | {r['estimate_bytes'] / 2**30:.2f} | "
                     f"{limit} | {within} | {step} |")
    return "\n".join(lines)


def plot(results: list[dict], budget_bytes: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.5, 4))
    for kind, marker in (("untiled", "o"), ("tiled", "s")):
        found = sorted((r["height"] * r["width"] / 1e6, r["peak_bytes"] / 2**30)
                       for r in results if r["kind"] == kind and not r.get("failed"))
        if found:
            axes.plot(*zip(*found), marker=marker,
                      label="one pass" if kind == "untiled" else
                      f"--max-memory {budget_bytes / 2**30:g}G (tiled where needed)")
    baseline = next((r["peak_bytes"] for r in results if r["kind"] == "baseline"), None)
    if baseline is not None:
        axes.axhline((budget_bytes + baseline) / 2**30, color="grey", linestyle="--",
                     label="budget + runtime baseline (64x64 peak)")
    axes.set_xscale("log")
    axes.set_xlabel("megapixels (1000x1000, 2000x2000, 4K UHD, 8K UHD)")
    axes.set_ylabel("peak resident memory, GiB")
    axes.set_title("Adam on a full-size VGG19 (random weights)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(FIGURE, dpi=110)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="6G")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--sizes", nargs="+", default=["1000x1000", "2000x2000", "2160x3840",
                                                       "4320x7680"])
    parser.add_argument("--untiled", nargs="*", default=["1000x1000", "2000x2000"])
    parser.add_argument("--from-json", help="only print the table and plot from this file")
    parser.add_argument("--json", default=str(JSON), help="where to write the results")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--worker", nargs=4, metavar=("HEIGHT", "WIDTH", "BUDGET", "VGG"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        height, width, budget, vgg = args.worker
        print(json.dumps(worker(int(height), int(width), args.steps,
                                "" if budget == "-" else budget, vgg)))
        return 0
    from tf1cnn.style_transfer.config import parse_size

    budget_bytes = parse_size(args.budget)
    if args.from_json:
        results = json.loads(pathlib.Path(args.from_json).read_text())["runs"]
    else:
        vgg = machine.random_vgg19()
        machine.warm_weights_cache(vgg)
        runs = [("baseline", (64, 64), "-")]
        runs += [("untiled", size_of(s), "-") for s in args.untiled]
        runs += [("tiled", size_of(s), args.budget) for s in args.sizes]
        results = []
        for kind, (height, width), budget in runs:
            print(f"{kind} {height}x{width} ...", file=sys.stderr, flush=True)
            found = machine.spawn([sys.executable, __file__, "--steps", str(args.steps),
                                   "--worker", str(height), str(width), budget, vgg],
                                  env=dict(os.environ))
            results.append(dict(found, kind=kind, height=height, width=width))
            summary = {"budget": args.budget, "steps": args.steps, "cpu": machine.cpu_name(),
                       "runs": results}
            pathlib.Path(args.json).write_text(json.dumps(summary, indent=1))
    print(table(results, budget_bytes))
    if not args.no_plot:
        plot(results, budget_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
