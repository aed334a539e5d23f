"""A finished high-resolution stylisation on real features, timed and pictured.

    python benchmarks/large_run.py /tmp/vgg16_hed.mat [--height 2160 --width 3840]
        [--coarse-iterations 20 --iterations 10] [--precision float32] [--style PATH]
        [--out DIR] [--json PATH] [--picture PATH] [--compare PATH [--compare-with JPG]]
        [--picture-only]

Runs the command line in a subprocess: the bundled content, the bundled style or ``--style``,
``--optimizer lbfgs --scales 2`` (the coarse level at half the size, then the full size, tiled
when it does not fit the memory this machine has free), ``--seed 0``. Reports its wall time and
peak resident memory (the child's ru_maxrss, from ``os.wait4``), the seconds per full-size
L-BFGS iteration (from ``losses.csv``), the run's ``metrics.json``, its tiling (``memory:``
lines), the style picture's name and size, and whether the run warned that the style picture
is scaled up too far (a ``warning: style picture`` line on stderr: the child's output is
echoed as it comes and kept). It writes them to ``--json``, by default
``benchmarks/large_run.json`` (float32) or ``benchmarks/large_run_bfloat16.json``.

Then the pictures. ``--picture`` (the whole result scaled down, beside a 1:1 crop of it) goes
by default to ``docs/images/large_run.jpg``, for a float32 run with the bundled style only:
that picture belongs to that run. ``--compare PATH`` sets the run's result against that
older run: the 1:1 crops from the same place side by side, the older one cut back out of the
right panel of ``large_run.jpg`` (or of ``--compare-with``, another such picture), and under
each its whole result scaled down. The VGG file is real pretrained VGG16
features (``hed_to_matconvnet.py``). Not part of the test run: at 3840x2160 it takes most of an
hour on two cores. ``--picture-only`` makes the pictures from the run folder without a run.

The bundled 512x384 style is scaled up 7.5x for 3840x2160, and the style tool warns; the same
waves drawn at the result's size (``data/make_style_image.py --size 3840x2160``, then
``--style``) are not scaled up.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import machine
import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
JSON = {"float32": ROOT / "benchmarks" / "large_run.json",
        "bfloat16": ROOT / "benchmarks" / "large_run_bfloat16.json"}
PICTURE = ROOT / "docs" / "images" / "large_run.jpg"
PANEL = 640  # the height of both panels of the picture
GAP = 16  # white pixels between panels
STYLE_WARNING = "warning: style picture"  # style_size.warning's opening


def tee(stream, echo, kept: list[str]) -> None:
    """Copy the child's ``stream`` line by line to ``echo`` as it comes, keeping each line."""
    for line in stream:
        echo.write(line)
        echo.flush()
        kept.append(line.rstrip("\n"))


def run(vgg: str, height: int, width: int, coarse: int, iterations: int, precision: str,
        style: str | None, out: str) -> dict:
    command = [sys.executable, str(ROOT / "scripts" / "style_transfer.py"), "--vgg", vgg,
               "--height", str(height), "--width", str(width), "--optimizer", "lbfgs",
               "--scales", "2", "--coarse-iterations", str(coarse), "--iterations",
               str(iterations), "--precision", precision, "--seed", "0", "--output-dir", out]
    if style:  # without it the command is the one the older JSON records
        command[4:4] = ["--style", style]
    meter, start = machine.Meter(), time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             bufsize=1)
    said, errors = [], []
    readers = [threading.Thread(target=tee, args=(child.stdout, sys.stdout, said)),
               threading.Thread(target=tee, args=(child.stderr, sys.stderr, errors))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    for reader in readers:
        reader.join()
    from tf1cnn.style_transfer.shell.rundir import RunDir

    rows = [row for row in RunDir(out).history() if row["size"] == f"{height}x{width}"]
    full = [(b["seconds"] - a["seconds"]) / (b["step"] - a["step"])
            for a, b in itertools.pairwise(rows)]
    metrics = pathlib.Path(out) / "metrics.json"
    return {"command": command, "exit": os.waitstatus_to_exitcode(status),
            "wall_seconds": seconds, "peak_bytes": usage.ru_maxrss * 1024,
            "other_cores": meter.other_cores(), "cpu": machine.cpu_name(),
            "commit": machine.head_commit(), "precision": precision,
            "full_size_seconds_per_iteration": float(np.median(full)) if full else None,
            "full_size_iterations": len(rows), "last": rows[-1] if rows else None,
            "metrics": json.loads(metrics.read_text()) if metrics.exists() else None,
            "tiling": [line for line in said if line.startswith("memory: ")],
            "warnings": [line for line in errors if line.startswith("warning: ")],
            "style_warning": any(line.startswith(STYLE_WARNING) for line in errors)}


def style_record(style: str) -> dict:
    """The style picture's file name and its size as WxH, from its header."""
    from tf1cnn.common import images

    height, width = images.read_shape(style, "style")
    return {"style": os.path.basename(style), "style_size": f"{width}x{height}"}


def crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The PANEL-pixel square of a width x height result that the pictures show at 1:1: from
    the middle of its upper half (the face, in the bundled photograph)."""
    left = (width - PANEL) // 2
    top = max(0, height // 3 - PANEL // 2)
    return left, top, left + PANEL, top + PANEL


def scaled_to(image: Image.Image, height: int) -> Image.Image:
    return image.resize((round(image.width * height / image.height), height),
                        Image.Resampling.LANCZOS)


def picture(out: str, path: pathlib.Path) -> None:
    """The result scaled to PANEL pixels high, a gap, and its 1:1 crop (``crop_box``)."""
    result = Image.open(pathlib.Path(out) / "result.png").convert("RGB")
    scaled = scaled_to(result, PANEL)
    sheet = Image.new("RGB", (scaled.width + GAP + PANEL, PANEL), "white")
    sheet.paste(scaled, (0, 0))
    sheet.paste(result.crop(crop_box(result.width, result.height)), (scaled.width + GAP, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88, optimize=True)


def compare(out: str, before: pathlib.Path, path: pathlib.Path) -> None:
    """The older run's 1:1 crop and this run's from the same place, side by side; under each,
    its whole result scaled to the crop's width. The older run's panels are cut back out of
    ``before``, a ``picture`` sheet: its whole result on the left, its crop on the right."""
    sheet_before = Image.open(before).convert("RGB")
    split = sheet_before.width - GAP - PANEL  # the scaled whole result's width
    old_whole = sheet_before.crop((0, 0, split, PANEL))
    old_crop = sheet_before.crop((split + GAP, 0, sheet_before.width, PANEL))
    result = Image.open(pathlib.Path(out) / "result.png").convert("RGB")
    new_crop = result.crop(crop_box(result.width, result.height))
    wholes = [whole.resize((PANEL, round(PANEL * whole.height / whole.width)),
                           Image.Resampling.LANCZOS) for whole in (old_whole, result)]
    sheet = Image.new("RGB", (2 * PANEL + GAP, PANEL + GAP + wholes[0].height), "white")
    for column, (crop, whole) in enumerate(zip((old_crop, new_crop), wholes)):
        sheet.paste(crop, (column * (PANEL + GAP), 0))
        sheet.paste(whole, (column * (PANEL + GAP), PANEL + GAP))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=85, optimize=True)


def check(args) -> str | None:
    """The first reason the options cannot work, found before the long run; None if none."""
    if args.style and not os.path.isfile(args.style):
        return f"--style {args.style}: no such file"
    if args.compare and not args.compare_with.is_file():
        return (f"--compare needs the older run's picture {args.compare_with}: "
                "make it with a float32 run on the bundled style")
    result = pathlib.Path(args.out) / "result.png"
    if args.picture_only and not result.is_file():
        return f"--picture-only: no {result}; run without --picture-only first"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vgg")
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--coarse-iterations", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--precision", choices=sorted(JSON), default="float32")
    parser.add_argument("--style", default=None,
                        help="style picture (default: the bundled data/style_waves.png)")
    parser.add_argument("--out", default="/tmp/tf1cnn_large_run")
    parser.add_argument("--json", type=pathlib.Path, default=None,
                        help="where the record goes (default: by --precision, "
                             "benchmarks/large_run[_bfloat16].json)")
    parser.add_argument("--picture", type=pathlib.Path, default=None,
                        help="the result and its crop (default: docs/images/large_run.jpg for "
                             "a float32 run on the bundled style, else none)")
    parser.add_argument("--compare", type=pathlib.Path, default=None,
                        help="the result's crop and whole beside the older run's")
    parser.add_argument("--compare-with", type=pathlib.Path, default=PICTURE,
                        help="the older run's picture (default: %(default)s)")
    parser.add_argument("--picture-only", action="store_true")
    args = parser.parse_args(argv)
    problem = check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if not args.picture_only:
        from tf1cnn.common import samples

        found = run(args.vgg, args.height, args.width, args.coarse_iterations, args.iterations,
                    args.precision, args.style, args.out)
        found.update(style_record(args.style or samples.sample(samples.SAMPLE_STYLE)))
        (args.json or JSON[args.precision]).write_text(json.dumps(found, indent=1))
        print(json.dumps(found, indent=1))
        if found["exit"]:
            return found["exit"]
    target = args.picture
    if target is None and args.precision == "float32" and not args.style:
        target = PICTURE
    if target:
        picture(args.out, target)
    if args.compare:
        compare(args.out, args.compare_with, args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
