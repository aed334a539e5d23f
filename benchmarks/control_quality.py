"""Colour and spatial control measured on real features: do the controls do what they say?

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/control_quality.py [--vgg /tmp/vgg16_hed.mat]
        [--size 250x333] [--iterations 50] [--json benchmarks/control_quality.json]
        [--picture docs/images/control_sheet.png]

Runs ``tf1cnn-style`` (the bundled photograph and style image, ``--optimizer lbfgs --seed 0``)
in subprocesses, one output folder each: ``plain``; ``luminance`` (``--colour-control
luminance``); ``match`` (``--colour-control match``, Cholesky); and ``regions``, a content mask
split down the middle, the left half (red) taking the bundled style and the right half (blue) a
second style drawn here (``second_style``: tiles of saturated reds and greens, nothing like the
waves). ``preserve`` is the plain result with today's post-hoc ``--preserve-colors`` applied
(the option only rewrites result.png, so it needs no run of its own).

For every result it reports, from the ``metrics.json`` each run writes: the Hellinger distance
between its RGB histogram (16 bins a channel) and the content's, and SSIM of luminance; and it
evaluates every result picture, as saved, under one fixed objective: the plain content and style
losses against the content and the bundled style (``style_loss``), for ``match`` also against
the recoloured style the run used (``style_loss_matched``). For ``regions``, each half's guided
Gram loss against each style. ``--vgg`` is meant to be real features: VGG16/HED, made by
``hed_to_matconvnet.py`` (random weights give no meaningful style). Prints a table and writes
the JSON and a picture: content | plain | preserve | luminance | match | regions.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Sequence

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONTENT = ROOT / "data" / "grace_hopper.jpg"
STYLE = ROOT / "data" / "style_waves.png"
VARIANTS = {
    "plain": [],
    "luminance": ["--colour-control", "luminance"],
    "match": ["--colour-control", "match"],
    "regions": ["--content-mask", "{mask}", "--style", str(STYLE), "{second}",
                "--region-style", "red=1", "blue=2"],
}
SHEET = ("plain", "preserve", "luminance", "match", "regions")  # the table's and picture's order


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vgg", default="/tmp/vgg16_hed.mat")
    parser.add_argument("--size", default="250x333", help="HxW")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "control_quality.json"))
    parser.add_argument("--picture", default=str(ROOT / "docs" / "images" / "control_sheet.png"))
    return parser.parse_args(argv)


def second_style(height: int = 384, width: int = 512, seed: int = 2) -> np.ndarray:
    """A second style image: random 24-pixel tiles of saturated reds and greens, with grain."""
    rng = np.random.default_rng(seed)
    palette = np.array([[200, 30, 40], [240, 120, 30], [40, 150, 60], [20, 80, 30]], float)
    tiles = palette[rng.integers(0, len(palette), (height // 24 + 1, width // 24 + 1))]
    rgb = np.repeat(np.repeat(tiles, 24, axis=0), 24, axis=1)[:height, :width]
    return np.clip(rgb + rng.normal(0, 10, rgb.shape), 0, 255).astype(np.uint8)


def evaluate(layers, config, content, styles, picture, **pictures) -> dict:
    """The losses of ``picture`` (float RGB of the config's size) under ``config``."""
    from tf1cnn.style_transfer.control import inputs
    from tf1cnn.style_transfer.optimise import engine
    from tf1cnn.style_transfer.shell.rundir import RunDir

    with tempfile.TemporaryDirectory() as folder, engine.Engine(layers, config) as measure:
        prepared = inputs.prepare(config, content, styles, picture, **pictures)
        records = measure.run(prepared, [RunDir(folder)]).records()
        next(records)  # LevelStart: the targets and ``picture`` are loaded
        values, _ = measure.level(-1).evaluator.evaluate(measure.session)
        records.close()
    return values


def make_inputs(work: pathlib.Path, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The content fitted to ``height``x``width`` and the regions' mask (red left, blue right),
    written to ``work`` with the second style."""
    import imageio.v3 as iio

    from tf1cnn.common import images

    content = images.fit(images.read_rgb(CONTENT), height, width)
    mask = np.zeros((height, width, 3), np.uint8)
    mask[:, : width // 2] = (255, 0, 0)
    mask[:, width // 2:] = (0, 0, 255)
    iio.imwrite(work / "content.png", images.to_uint8(content))  # the mask fits it exactly
    iio.imwrite(work / "mask.png", mask)
    iio.imwrite(work / "second.png", second_style())
    return content, mask


def run_variants(args: argparse.Namespace, work: pathlib.Path, height: int,
                 width: int) -> tuple[dict, dict]:
    """Each of VARIANTS through the entry script in a subprocess: the result pictures and the
    ``metrics.json`` of each, by name."""
    from tf1cnn.common import images

    common = ["--vgg", args.vgg, "--content", str(work / "content.png"), "--height",
              str(height), "--width", str(width), "--optimizer", "lbfgs", "--iterations",
              str(args.iterations), "--seed", "0"]
    results, found = {}, {}
    for name, extra in VARIANTS.items():
        extra = [e.format(mask=work / "mask.png", second=work / "second.png") for e in extra]
        out = work / name
        done = subprocess.run([sys.executable, str(ROOT / "scripts" / "style_transfer.py"), *common,
                               "--output-dir", str(out), *extra], capture_output=True,
                              text=True)
        if done.returncode:
            raise SystemExit(f"{name}: status {done.returncode}\n{done.stderr[-2000:]}")
        results[name] = images.read_rgb(out / "result.png")
        found[name] = json.loads((out / "metrics.json").read_text())
        print(f"{name}: {found[name]}", file=sys.stderr, flush=True)
    return results, found


def region_losses(layers, config, content, styles, picture, mask) -> dict:
    """Each half's guided Gram loss against each style (the other half set to no style)."""
    row = {}
    regional = dataclasses.replace(config, content_mask="mask", style=("a", "b"))
    for region, rest in (("red", "blue"), ("blue", "red")):
        for index, label in ((1, "waves"), (2, "tiles")):
            measure = dataclasses.replace(
                regional, region_style=(f"{region}={index}", f"{rest}=none"))
            row[f"{region}_vs_{label}"] = evaluate(
                layers, measure, content, styles, picture,
                content_mask=mask.astype(np.float32))["style"]
    return row


def fixed_objective(vgg: str, content: np.ndarray, mask: np.ndarray, results: dict,
                    work: pathlib.Path) -> dict:
    """Every result of SHEET, as saved, under the plain objective, with its colour metrics; for
    ``match`` also against the recoloured style, for ``regions`` each half against each style."""
    from tf1cnn.common import images
    from tf1cnn.style_transfer.config import StyleConfig
    from tf1cnn.style_transfer.control import colour
    from tf1cnn.style_transfer.network import weights
    from tf1cnn.style_transfer.shell import metrics

    height, width = content.shape[:2]
    style, second = images.read_rgb(STYLE), images.read_rgb(work / "second.png")
    config = StyleConfig(height=height, width=width, seed=0)
    layers = weights.load(vgg, (config.content_layer, *config.style_layers)).layers
    table = {}
    for name in SHEET:
        picture = images.to_uint8(results[name]).astype(np.float32)
        plain = evaluate(layers, config, content, [style], picture)
        row = {"content_loss": plain["content"], "style_loss": plain["style"],
               "colour_distance_content": metrics.colour_distance(picture, content),
               "ssim_luminance": metrics.ssim_luminance(picture, content)}
        if name == "match":
            recoloured = colour.clip_pixels(colour.match_colours(style, content))
            row["style_loss_matched"] = evaluate(layers, config, content, [recoloured],
                                                 picture)["style"]
        if name == "regions":
            row.update(region_losses(layers, config, content, [style, second], picture, mask))
        table[name] = row
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    from tf1cnn.common import images
    from tf1cnn.style_transfer.shell import report

    height, width = (int(v) for v in args.size.split("x"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="control_quality_"))
    content, mask = make_inputs(work, height, width)
    results, found = run_variants(args, work, height, width)
    results["preserve"] = images.preserve_colors(content, results["plain"])
    table = fixed_objective(args.vgg, content, mask, results, work)
    for name, row in table.items():
        print(f"{name:10}" + " ".join(f"{k}={v:.4g}" for k, v in row.items()))
    summary = {"vgg": args.vgg, "size": args.size, "iterations": args.iterations,
               "runs": found, "fixed_objective": table}
    pathlib.Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    sheet = report.contact_sheet([content] + [results[n] for n in SHEET], height)
    images.write_png(args.picture, sheet)
    print(f"wrote {args.json} and {args.picture}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
