"""Command line for style transfer: ``tf1cnn-style --content PATH --style PATH [options]``.

Every ``StyleConfig`` field is an option, with the 2019 tutorial's value as its default. With no
paths it stylises the bundled sample images. Bad input gets one line on stderr and exit status
2; Ctrl-C saves a checkpoint and the current image, then exits with 130. Rerunning the same
command resumes from the last checkpoint.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time
import typing
from typing import Sequence

from .config import POOLING, StyleConfig
from .errors import UsageError

HELP = {
    "content": "content image; if omitted, the bundled photograph",
    "style": "style image; if omitted, the bundled painting-like pattern",
    "output_dir": "folder for images, checkpoints, summaries and config.json",
    "vgg": "local MatConvNet VGG .mat file; if omitted, VGG19 is downloaded once to a cache",
    "height": "height of the result; content and style are centre-cropped and resized to it",
    "width": "width of the result",
    "iterations": "total optimisation steps; a rerun with more steps extends a finished run",
    "learning_rate": "Adam learning rate",
    "content_weight": "weight of the content loss in the total",
    "style_weight": "weight of the style loss in the total",
    "content_layer": "layer whose features define the content (reluX_Y is after the ReLU)",
    "style_layers": "layers whose Gram matrices define the style",
    "style_layer_weights": "one weight per style layer",
    "noise_ratio": "share of uniform noise in the initial image; the rest is the content",
    "noise_range": "the initial noise is uniform in (-range, range)",
    "mean_pixel": "RGB mean subtracted before the network and added back after",
    "pooling": "pooling in the network: avg (as the tutorial) or max (as VGG was trained)",
    "seed": "seed of the initial noise, for reproducible runs; if omitted, a fresh draw",
    "checkpoint_every": "steps between checkpoints",
}
SAMPLE_CONTENT = "grace_hopper.jpg"
SAMPLE_STYLE = "style_waves.png"


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except the None of options whose help says what omitting them does,
    and the False of flags."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action, argparse._StoreTrueAction):
            return action.help
        return super()._get_help_string(action)


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
                                help=HELP[field.name])
        else:
            kind = next((a for a in args if a is not type(None)), hint)
            parser.add_argument(option, type=kind, default=field.default, help=HELP[field.name],
                                metavar="PATH" if kind is str and field.default is None else None,
                                choices=POOLING if field.name == "pooling" else None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = StyleConfig(**{k: tuple(v) if isinstance(v, list) else v
                            for k, v in vars(args).items()})
    try:
        return run(config)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def sample(name: str) -> str:
    """Path of a bundled sample image: data/ sits beside this package, installed or not."""
    return str(pathlib.Path(__file__).resolve().parents[1] / "data" / name)


def run(config: StyleConfig) -> int:
    """Check everything, then optimise, printing one line per logged step."""
    config.check()
    config = dataclasses.replace(config, content=config.content or sample(SAMPLE_CONTENT),
                                 style=config.style or sample(SAMPLE_STYLE))
    # Both are read when TensorFlow loads. oneDNN's kernels make a step about 1.4x faster on
    # the 2-core AMD machines this was measured on, where TensorFlow leaves them off by default.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    from . import download, images, matconvnet, stylize, vgg
    from .rundir import RunDir

    out = RunDir(config.output_dir)
    out.check_writable()
    content_pixels = images.read_rgb(config.content, "content")
    style_pixels = images.read_rgb(config.style, "style")
    vgg_path = config.vgg or str(download.vgg19_path())
    layers = vgg.trunk(matconvnet.read_layers(vgg_path),
                       (config.content_layer, *config.style_layers))
    stylize.check_memory(layers, config.height, config.width)
    content = images.fit(content_pixels, config.height, config.width)
    style = images.fit(style_pixels, config.height, config.width)

    settings = dict(config.run_settings(),
                    content_sha256=download.file_sha256(config.content),
                    style_sha256=download.file_sha256(config.style),
                    weights_sha256=vgg.weights_sha256(layers))
    resolved = dict(dataclasses.asdict(config), vgg=vgg_path)
    print("config: " + json.dumps(resolved), flush=True)

    resume, reason = out.prepare(settings)
    with stylize.Stylizer(layers, content, style, config, out.checkpoints,
                          out.summaries) as run_:
        step = run_.resume() if resume else None
        if step is None:
            print(f"starting fresh ({reason})", flush=True)
            run_.start(stylize.initial_image(content, config))
        else:
            print(f"resuming at step {step} ({reason})", flush=True)
        out.save_settings(resolved, settings)
        try:
            for record in run_.steps():
                print(progress_line(record), flush=True)
                images.write_png(out.step_image(record.step), record.image)
        except KeyboardInterrupt:
            run_.save_checkpoint()
            step = run_.step
            images.write_png(out.step_image(step), run_.current_image())
            print(f"interrupted at step {step}: checkpoint and image saved; rerun to resume",
                  file=sys.stderr, flush=True)
            return 130
        images.write_png(out.result, run_.current_image())
    print(f"done: {out.result}", flush=True)
    return 0


def progress_line(record) -> str:
    per_step = record.seconds / max(record.steps_timed, 1)
    eta = per_step * (record.iterations - record.step)
    return (f"step={record.step}/{record.iterations} pixel_sum={record.pixel_sum:.1f} "
            f"loss={record.total_loss:.6g} content={record.content_loss:.6g} "
            f"style={record.style_loss:.6g} time={record.seconds:.2f}s "
            f"ms_per_step={1000 * per_step:.0f} eta={time.strftime('%H:%M:%S', time.gmtime(eta))}")
