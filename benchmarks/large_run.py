"""A finished high-resolution stylisation on real features, timed and pictured.

    python benchmarks/large_run.py /tmp/vgg16_hed.mat [--height 2160 --width 3840]
        [--coarse-iterations 20 --iterations 10] [--precision float32] [--out DIR]
        [--picture-only]

Runs the command line in a subprocess: the bundled content and style, ``--optimizer lbfgs
--scales 2`` (the coarse level at half the size, then the full size, tiled when it does not
fit the memory this machine has free), ``--seed 0``. Reports its wall time and peak resident
memory (the child's ru_maxrss, from ``os.wait4``), the seconds per full-size L-BFGS iteration
(from ``losses.csv``), and writes them to ``benchmarks/large_run.json`` (float32) or
``benchmarks/large_run_bfloat16.json``. Then makes ``docs/images/large_run.jpg`` (float32 only):
the whole result scaled down, beside a 1:1 crop of it. The VGG
file is real pretrained VGG16 features (``hed_to_matconvnet.py``). Not part of the test run:
at 3840x2160 it takes most of an hour on two cores. ``--picture-only`` remakes the picture
from the run folder.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import machine
import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
JSON = {"float32": ROOT / "benchmarks" / "large_run.json",
        "bfloat16": ROOT / "benchmarks" / "large_run_bfloat16.json"}
PICTURE = ROOT / "docs" / "images" / "large_run.jpg"
PANEL = 640  # the height of both panels of the picture


def run(vgg: str, height: int, width: int, coarse: int, iterations: int, precision: str,
        out: str) -> dict:
    command = [sys.executable, str(ROOT / "scripts" / "style_transfer.py"), "--vgg", vgg,
               "--height", str(height), "--width", str(width), "--optimizer", "lbfgs",
               "--scales", "2", "--coarse-iterations", str(coarse), "--iterations",
               str(iterations), "--precision", precision, "--seed", "0", "--output-dir", out]
    meter, start = machine.Meter(), time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    from tf1cnn.style_transfer.shell.rundir import RunDir

    rows = [row for row in RunDir(out).history() if row["size"] == f"{height}x{width}"]
    full = [(b["seconds"] - a["seconds"]) / (b["step"] - a["step"])
            for a, b in zip(rows, rows[1:])]
    return {"command": command, "exit": os.waitstatus_to_exitcode(status),
            "wall_seconds": seconds, "peak_bytes": usage.ru_maxrss * 1024,
            "other_cores": meter.other_cores(), "cpu": machine.cpu_name(),
            "commit": machine.head_commit(), "precision": precision,
            "full_size_seconds_per_iteration": float(np.median(full)) if full else None,
            "full_size_iterations": len(rows), "last": rows[-1] if rows else None}


def picture(out: str) -> None:
    """The result scaled to PANEL pixels high, a gap, and a 1:1 crop PANEL pixels square from
    the middle of its upper half (the face, in the bundled photograph)."""
    result = Image.open(pathlib.Path(out) / "result.png").convert("RGB")
    scaled = result.resize((round(result.width * PANEL / result.height), PANEL),
                           Image.Resampling.LANCZOS)
    left = (result.width - PANEL) // 2
    top = max(0, result.height // 3 - PANEL // 2)
    crop = result.crop((left, top, left + PANEL, top + PANEL))
    sheet = Image.new("RGB", (scaled.width + 16 + PANEL, PANEL), "white")
    sheet.paste(scaled, (0, 0))
    sheet.paste(crop, (scaled.width + 16, 0))
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(PICTURE, quality=88, optimize=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vgg")
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--coarse-iterations", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--precision", choices=sorted(JSON), default="float32")
    parser.add_argument("--out", default="/tmp/tf1cnn_large_run")
    parser.add_argument("--picture-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.picture_only:
        found = run(args.vgg, args.height, args.width, args.coarse_iterations, args.iterations,
                    args.precision, args.out)
        JSON[args.precision].write_text(json.dumps(found, indent=1))
        print(json.dumps(found, indent=1))
        if found["exit"]:
            return found["exit"]
    if args.precision == "float32":
        picture(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
