"""Command line for style transfer: ``tf1cnn-style --content PATH --style PATH [options]``.

Every ``StyleConfig`` field is an option, with the 2019 tutorial's value as its default. With no
paths it stylises the bundled sample images; ``--content-dir`` stylises a folder of images.
Bad input gets one line on stderr and exit status 2; Ctrl-C saves a checkpoint and the current
image, then exits with 130. Rerunning the same command resumes from the last checkpoint.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import typing
from collections.abc import Sequence

from . import exits, runtime, stops
from .config import CHOICES, INITS, StyleConfig
from .errors import OutputError, UsageError

HELP = {
    "content": "content image; if omitted, the bundled photograph",
    "content_dir": "batch mode: stylise every image in this folder (png, jpg, ...), each into "
                   "its own subfolder of --output-dir named after it, loading the network once",
    "style": "one or more style images; if omitted, the bundled painting-like pattern",
    "style_blend_weights": "one weight per style image, normalised to sum to 1; if omitted, "
                           "every style weighs the same",
    "style_scale": "size of the style images relative to the result (2 = twice as large)",
    "output_dir": "folder for images, checkpoints, summaries and config.json",
    "vgg": "local MatConvNet VGG .mat or Keras .h5 file, or keras-vgg19 (Keras' ImageNet "
           "weights, downloaded once); if omitted, MatConvNet's VGG19 is downloaded once",
    "height": "height of the result; content and style are centre-cropped and resized to it",
    "width": "width of the result",
    "iterations": "optimisation steps at the full size (L-BFGS: iterations); a rerun with more "
                  "steps extends a finished run",
    "optimizer": "adam (as the tutorial) or lbfgs (SciPy's L-BFGS-B, within pixel bounds)",
    "learning_rate": "Adam learning rate",
    "lbfgs_corrections": "L-BFGS: curvature pairs kept (memory: 16 bytes per value and pair)",
    "tolerance": "stop when the relative change of the loss from one step to the next falls to "
                 "this (adam and lbfgs); 0 never stops early",
    "scales": "coarse-to-fine: optimise first at 1/2^(N-1) of the size, then at each doubling",
    "coarse_iterations": "steps at each coarse-to-fine level below the full size",
    "content_weight": "weight of the content loss in the total",
    "style_weight": "weight of the style loss in the total",
    "tv_weight": "weight of the total-variation loss (mean squared difference of neighbouring "
                 "pixels), which smooths the result",
    "content_layer": "layer whose features define the content (reluX_Y is after the ReLU)",
    "style_layers": "layers whose Gram matrices define the style",
    "style_layer_weights": "one weight per style layer",
    "init": "initial image: noise (the tutorial's noise blended with the content), content, "
            "style (the first style image) or the path of an image file",
    "noise_ratio": "share of uniform noise in the initial image; the rest is the content",
    "noise_range": "the initial noise is uniform in (-range, range)",
    "mean_pixel": "RGB mean subtracted before the network and added back after",
    "pooling": "pooling in the network: avg (as the tutorial) or max (as VGG was trained)",
    "seed": "seed of the initial noise, for reproducible runs; if omitted, a fresh draw",
    "checkpoint_every": "steps between checkpoints",
    "preserve_colors": "keep the content's colours: the result's luminance (Y) with the "
                       "content's chroma (Cb, Cr), applied after the optimisation",
}
SAMPLE_CONTENT = "grace_hopper.jpg"
SAMPLE_STYLE = "style_waves.png"


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except the None of options whose help says what omitting them does,
    and the False of flags."""

    def _get_help_string(self, action):
        if action.default in (None, ()) or isinstance(action, argparse._StoreTrueAction):
            return action.help
        return super()._get_help_string(action)


class UsageParser(argparse.ArgumentParser):
    """Report a bad option as a UsageError, so it gets the same one-line message and exit 2
    as every other bad input."""

    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tf1cnn-style", formatter_class=DefaultsFormatter, allow_abbrev=False,
        description="Gatys neural style transfer in TF1 graph mode, as in the 2019 tutorial. "
                    "Rerun the same command to resume from the last checkpoint.")
    hints = typing.get_type_hints(StyleConfig)
    for field in dataclasses.fields(StyleConfig):
        hint = hints[field.name]
        option = "--" + field.name.replace("_", "-")
        args = typing.get_args(hint)
        if typing.get_origin(hint) is tuple:
            parser.add_argument(option, type=args[0], nargs="+", default=field.default,
                                help=HELP[field.name],
                                metavar="PATH" if args[0] is str and not field.default else None)
        elif hint is bool:
            parser.add_argument(option, action="store_true", help=HELP[field.name])
        else:
            kind = next((a for a in args if a is not type(None)), hint)
            parser.add_argument(option, type=kind, default=field.default, help=HELP[field.name],
                                metavar="PATH" if kind is str and field.default is None else None,
                                choices=CHOICES.get(field.name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = StyleConfig(**{k: tuple(v) if isinstance(v, list) else v
                            for k, v in vars(args).items()})
    try:
        return run(config)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.USAGE
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.WRITE_FAILED


def sample(name: str) -> str:
    """Path of a bundled sample image: data/ sits beside this package, installed or not."""
    return str(pathlib.Path(__file__).resolve().parents[1] / "data" / name)


def run(config: StyleConfig) -> int:
    """Check everything, then optimise each content image, printing one line per logged step.
    SIGINT and SIGTERM stop it gracefully, whatever the parent process left them as."""
    try:
        with stops.graceful():
            return _run(config)
    except KeyboardInterrupt as stop:  # before a run began: there is nothing to save yet
        print("interrupted before the optimisation began; nothing to save", file=sys.stderr,
              flush=True)
        return stops.exit_code(stop)


def _run(config: StyleConfig) -> int:
    config.check()
    config = dataclasses.replace(config, style=config.style or (sample(SAMPLE_STYLE),))
    contents = content_files(config)
    runtime.configure_environment()
    from . import engine, images, job, memory, weights
    from .rundir import RunDir

    outs = [config.output_dir if not config.content_dir else
            os.path.join(config.output_dir, pathlib.Path(path).stem) for path in contents]
    for out in outs:
        RunDir(out).check_writable()
    for path in contents:  # every input is checked before the long part
        images.read_rgb(path, "content")
    styles = [images.read_rgb(path, "style") for path in config.style]
    init_file = images.read_rgb(config.init, "initial") if config.init not in INITS else None
    network = weights.load(config.vgg, (config.content_layer, *config.style_layers))
    layers = network.layers
    memory.check_memory(layers, config.height, config.width, config.optimizer,
                        config.style_scale, config.lbfgs_corrections)
    with engine.Engine(layers, config) as style_engine:
        for index, (path, out) in enumerate(zip(contents, outs)):
            if len(contents) > 1:
                print(f"content {index + 1}/{len(contents)}: {path} -> {out}", flush=True)
            item = dataclasses.replace(config, content=path, output_dir=out, vgg=network.source)
            print("config: " + json.dumps(dataclasses.asdict(item)), flush=True)
            content = images.read_rgb(path, "content")
            start = {"noise": None, "content": content, "style": styles[0]}.get(config.init,
                                                                                 init_file)
            status = job.stylise(style_engine, job.Job(item, content, styles, start,
                                                       job.identity(item, network.sha256)),
                                 say=lambda line: print(line, flush=True))
            if status:
                return status
    return exits.OK


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def content_files(config: StyleConfig) -> list[str]:
    """The content image, or the images of ``content_dir`` sorted by name (batch mode)."""
    if not config.content_dir:
        return [config.content or sample(SAMPLE_CONTENT)]
    folder = pathlib.Path(config.content_dir)
    if not folder.is_dir():
        raise UsageError(f"--content-dir {folder} is not a folder")
    found = sorted(str(p) for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise UsageError(f"--content-dir {folder} holds no image files "
                         f"({', '.join(IMAGE_SUFFIXES)})")
    stems = [pathlib.Path(p).stem for p in found]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise UsageError(f"--content-dir {folder} has several images named "
                         f"{', '.join(clashes)}: each needs its own output folder; rename them")
    return found
