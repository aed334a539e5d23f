"""Automatic masks (``--content-mask auto[:K]``): the default K, measured, and the picture in
docs/control.md.

    python benchmarks/auto_masks.py measure [--size 250x333] [--vgg PATH]
    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/auto_masks.py picture --vgg /tmp/hed/vgg16_hed.mat

Both write their part of ``benchmarks/auto_masks.json`` (``--json``), keeping the other's.

``measure``: each of PICTURES (the bundled photograph and style picture, and scikit-image's
colour photographs) fitted to ``--size`` and split by ``auto_masks.split`` into K = 1 to 8
regions. For each K: R², the share of the pixels' colour variance (CIELAB) that the regions'
mean colours explain, and its gain over K - 1, and the seconds a split takes. The default K
(``config.AUTO_REGIONS``) is the smallest K after which one more region gains less than
``GAIN`` of the variance, at the median over the pictures: past it, each region costs as much
as the ones before (a guided Gram matrix per style layer and step, and a smaller share of the
style picture to take its texture from) for less and less. With ``--vgg``, also the
milliseconds of one loss-and-gradient evaluation at ``--size`` without a mask and with K
regions (median of ``REPEATS``), with the load of other processes meanwhile.

``picture``: ``tf1cnn-style --fast --seed 0`` at ``--size`` on the bundled photograph and
style picture, once plain and once with ``--content-mask auto`` (in subprocesses, through the
entry script). Then, under one fixed objective (the default layers and weights), the guided Gram
loss of each region of both results, as saved, against each region of the style picture, read
from the masks the auto run wrote: the diagonal is what the auto run optimised, region i
against style region i. Writes ``docs/images/auto_masks.jpg``: the content, its mask and the
plain result above the style picture, its mask and the auto result.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONTENT = ROOT / "data" / "grace_hopper.jpg"
STYLE = ROOT / "data" / "style_waves.png"
# scikit-image's colour photographs (bundled with it, nothing downloads).
PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket")
MOST = 8  # len(config.AUTO_PALETTE)
GAIN = 0.10  # the share of the colour variance one more region must explain to pay
REPEATS = 15


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("measure", "picture"))
    parser.add_argument("--size", default="250x333", help="HxW")
    parser.add_argument("--vgg", help="measure: time evaluations on it; picture: required")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "auto_masks.json"))
    parser.add_argument("--picture", default=str(ROOT / "docs" / "images" / "auto_masks.jpg"))
    return parser.parse_args(argv)


def pictures() -> dict[str, np.ndarray]:
    """Float RGB of every picture measured, by name."""
    import skimage.data

    from tf1cnn.common import images

    found = {"grace_hopper": images.read_rgb(CONTENT), "style_waves": images.read_rgb(STYLE)}
    found.update({name: getattr(skimage.data, name)().astype(np.float32)
                  for name in PHOTOGRAPHS})
    return found


def explained(lab: np.ndarray, labels: np.ndarray, regions: int) -> float:
    """R²: 1 - the regions' within sum of squares over the total, of pixels ``lab`` [N, 3]."""
    total = np.square(lab - lab.mean(axis=0)).sum()
    within = sum(np.square(lab[labels == r] - lab[labels == r].mean(axis=0)).sum()
                 for r in range(regions) if (labels == r).any())
    return float(1.0 - within / total)


def measure_splits(height: int, width: int) -> dict:
    """R², its gain and the split's seconds per picture and K; the median gain per K; the
    default K by the rule of ``GAIN``."""
    import skimage.color

    from tf1cnn.common import images
    from tf1cnn.style_transfer.control import auto_masks

    found = {}
    for name, picture in pictures().items():
        fitted = images.fit(picture, height, width)
        lab = skimage.color.rgb2lab(fitted / 255.0).reshape(-1, 3)
        rows, previous = [], 0.0
        for regions in range(1, MOST + 1):
            start = time.perf_counter()
            labels = np.zeros(len(lab), int) if regions == 1 else \
                auto_masks.split(fitted, regions, height, width).ravel()
            seconds = time.perf_counter() - start
            r2 = explained(lab, labels, regions)
            rows.append({"regions": regions, "r2": r2, "gain": r2 - previous,
                         "seconds": seconds})
            previous = r2
        found[name] = rows
        print(name, " ".join(f"{r['r2']:.3f}" for r in rows), file=sys.stderr, flush=True)
    median = {k: statistics.median(rows[k - 1]["gain"] for rows in found.values())
              for k in range(2, MOST + 1)}
    chosen = next(k for k in range(2, MOST) if median[k + 1] < GAIN)
    return {"pictures": found, "median_gain": median, "gain_rule": GAIN, "chosen": chosen}


def evaluation_ms(vgg: str, height: int, width: int) -> dict:
    """Milliseconds of one evaluation of the loss and gradient without a mask ("0") and with K
    regions, the median of ``REPEATS`` after one warm-up, and the other processes' load."""
    import machine

    from tf1cnn.common import images, runtime

    runtime.import_tensorflow()  # quietly, before the engine's modules import it
    from tf1cnn.style_transfer.config import StyleConfig
    from tf1cnn.style_transfer.control import inputs
    from tf1cnn.style_transfer.network import weights
    from tf1cnn.style_transfer.optimise import engine
    from tf1cnn.style_transfer.shell.rundir import RunDir

    content, style = images.read_rgb(CONTENT), images.read_rgb(STYLE)
    base = StyleConfig(height=height, width=width, seed=0)
    layers = weights.load(vgg, (base.content_layer, *base.style_layers)).layers
    found = {}
    for regions in (0, 2, 3, 4, 6, 8):
        config = dataclasses.replace(base, content_mask=f"auto:{regions}" if regions else None)
        meter = machine.Meter()
        with tempfile.TemporaryDirectory() as folder, engine.Engine(layers, config) as timing:
            records = timing.run(inputs.prepare(config, content, [style]),
                                 [RunDir(folder)]).records()
            next(records)  # LevelStart: the targets are loaded
            evaluator = timing.level(-1).evaluator
            times = []
            for _ in range(REPEATS + 1):
                start = time.perf_counter()
                evaluator.evaluate(timing.session)
                times.append(1000 * (time.perf_counter() - start))
            records.close()
        found[str(regions)] = {"ms": statistics.median(times[1:]),
                               "other_cores": meter.other_cores()}
        print(f"regions={regions} {found[str(regions)]}", file=sys.stderr, flush=True)
    return found


def run(vgg: str, height: int, width: int, out: pathlib.Path, extra: Sequence[str]) -> dict:
    """One ``--fast`` run through the entry script into ``out``; its metrics.json."""
    command = [sys.executable, str(ROOT / "scripts" / "style_transfer.py"), "--vgg", vgg,
               "--content", str(CONTENT), "--style", str(STYLE), "--fast", "--seed", "0",
               "--height", str(height), "--width", str(width), "--output-dir", str(out),
               *extra]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(extra) or 'plain'}: status {done.returncode}\n"
                         f"{done.stderr[-2000:]}")
    found = json.loads((out / "metrics.json").read_text())
    print(f"{' '.join(extra) or 'plain'}: {found}", file=sys.stderr, flush=True)
    return found


def region_losses(vgg: str, height: int, width: int, results: dict, folder: pathlib.Path,
                  regions: int) -> dict:
    """For each result: [i][j], the guided Gram loss of its content region i against style
    region j, under the default objective, the regions read from the masks in ``folder``."""
    from tf1cnn.common import images, runtime

    runtime.import_tensorflow()  # quietly, before the engine's modules import it
    from control_quality import evaluate

    from tf1cnn.style_transfer.config import StyleConfig, auto_colours
    from tf1cnn.style_transfer.control import masks
    from tf1cnn.style_transfer.network import weights

    content, style = images.read_rgb(CONTENT), images.read_rgb(STYLE)
    content_mask = masks.read_mask(folder / "content_mask.png")
    style_mask = masks.read_mask(folder / "style_mask_1.png")
    colours = auto_colours(regions)
    config = StyleConfig(height=height, width=width, seed=0, content_mask="m",
                         style_mask=("s",), mask_blend=0.0)
    layers = weights.load(vgg, (config.content_layer, *config.style_layers)).layers
    labels = masks.regions(style_mask, colours).argmax(axis=2)
    found = {}
    for name, picture in results.items():
        matrix = []
        for i in range(regions):
            row = []
            for j in range(regions):
                # content region i against style region j: the style mask repainted with the
                # colours of i and j swapped
                swap = np.array(colours, dtype=object)
                swap[[i, j]] = swap[[j, i]]
                painted = np.stack([masks.parse_colour(c) for c in swap])[labels]
                measure = dataclasses.replace(config, region_style=tuple(
                    f"{c}={1 if k == i else 'none'}" for k, c in enumerate(colours)))
                row.append(evaluate(layers, measure, content, [style], picture,
                                    content_mask=content_mask,
                                    style_masks=[painted.astype(np.float32)])["style"])
            matrix.append(row)
        found[name] = matrix
        print(name, matrix, file=sys.stderr, flush=True)
    return found


def sheet(height: int, width: int, folder: pathlib.Path, results: dict) -> np.ndarray:
    """Two rows: content, its mask, the plain result; style, its mask, the auto result."""
    from tf1cnn.common import images
    from tf1cnn.style_transfer.control import masks

    def fitted(picture: np.ndarray, flat: bool = False) -> np.ndarray:
        if flat:  # nearest neighbour keeps a mask's colours flat
            return masks.fit_mask(picture, height, width, picture.shape)[0]
        return images.fit(picture, height, width)

    gap = np.full((height, 4, 3), 255.0, np.float32)
    rows = []
    for picture, mask, result in (
            (images.read_rgb(CONTENT), folder / "content_mask.png", results["plain"]),
            (images.read_rgb(STYLE), folder / "style_mask_1.png", results["auto"])):
        rows.append(np.concatenate([fitted(picture), gap, fitted(masks.read_mask(mask), True),
                                    gap, result], axis=1))
    return np.concatenate([rows[0], np.full((4, rows[0].shape[1], 3), 255.0), rows[1]])


def make_picture(args: argparse.Namespace, height: int, width: int) -> dict:
    from PIL import Image

    from tf1cnn.common import images
    from tf1cnn.style_transfer.config import AUTO_REGIONS

    if not args.vgg:
        raise SystemExit("error: picture needs --vgg (real features: VGG16/HED)")
    work = pathlib.Path(tempfile.mkdtemp(prefix="auto_masks_"))
    runs = {"plain": run(args.vgg, height, width, work / "plain", []),
            "auto": run(args.vgg, height, width, work / "auto", ["--content-mask", "auto"])}
    results = {name: images.read_rgb(work / name / "result.png") for name in runs}
    losses = region_losses(args.vgg, height, width, results, work / "auto", AUTO_REGIONS)
    Image.fromarray(images.to_uint8(sheet(height, width, work / "auto", results))).save(
        args.picture, quality=90)
    print(f"wrote {args.picture}", file=sys.stderr)
    return {"vgg": os.path.basename(args.vgg), "size": args.size, "regions": AUTO_REGIONS,
            "runs": runs, "region_losses": losses}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    import machine

    height, width = (int(v) for v in args.size.split("x"))
    path = pathlib.Path(args.json)
    data = json.loads(path.read_text()) if path.exists() else {}
    if args.what == "measure":
        data["measure"] = dict(measure_splits(height, width), size=args.size,
                               cpu=machine.cpu_name())
        if args.vgg:
            data["measure"]["evaluation"] = evaluation_ms(args.vgg, height, width)
            data["measure"].update(vgg=os.path.basename(args.vgg), repeats=REPEATS)
    else:
        data["picture"] = make_picture(args, height, width)
    data["commit"] = machine.head_commit()
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
