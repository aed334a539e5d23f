"""Command line for the feature-map demo: ``tf1cnn-kernels [--image PATH] [options]``.

Every ``DemoConfig`` field is an option, with the tutorial's value as its default where it was
right (grey, stride 3, SAME padding). With no image it filters the bundled photograph. It reads
the image as float in [0, 1) (pixels / 256, as the tutorial did), applies the chosen kernels in
one ``conv2d`` in a TF1 graph, and writes the input and the maps as one PNG figure, or opens a
window with ``--show``. ``--seed-kernels`` uses the tutorial's exact filters instead of the
fixed ones. Bad input gets one line on stderr and exit status 2, before TensorFlow is loaded.

    tf1cnn-kernels --image photo.jpg --colour rgb --stride 1 --output maps.png
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing
from typing import Sequence

import numpy as np

from tf1cnn.style_transfer.cli import DefaultsFormatter, UsageParser, sample
from tf1cnn.style_transfer import exits, runtime
from tf1cnn.style_transfer.errors import UsageError

from . import figure
from .bank import NAMES
from .config import COLOURS, DemoConfig
from .reference import PADDINGS

HELP = {
    "image": "JPEG or PNG image, any mode; if omitted, the bundled photograph",
    "output": "where to write the figure (PNG)",
    "show": "open the figure in a window instead of writing --output",
    "colour": "filter one grey channel (as the tutorial) or R, G and B",
    "stride": "step of the filter window in pixels, both directions",
    "padding": "SAME keeps ceil(size / stride) pixels; VALID drops the border",
    "kernels": f"kernels to apply, from: {' '.join(NAMES)}",
    "seed_kernels": "use the tutorial's exact filters, faults included: unnormalised grey "
                    "blur, RGB filters that mix channels, edge clip at 255",
    "dpi": "resolution of the written figure",
}
CHOICES = {"colour": COLOURS, "padding": PADDINGS}
SAMPLE_IMAGE = "grace_hopper.jpg"


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of pixels, at least 1; got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(prog="tf1cnn-kernels", formatter_class=DefaultsFormatter,
                         allow_abbrev=False,
                         description="Hand-made 3x3 kernels applied to an image with one TF1 "
                                     "conv2d; writes the input and the feature maps as a "
                                     "figure.")
    hints = typing.get_type_hints(DemoConfig)
    for field in dataclasses.fields(DemoConfig):
        hint = hints[field.name]
        option = "--" + field.name.replace("_", "-")
        if hint is bool:
            parser.add_argument(option, action="store_true", help=HELP[field.name])
        elif typing.get_origin(hint) is tuple:
            parser.add_argument(option, nargs="+", default=field.default, metavar="NAME",
                                help=HELP[field.name])
        elif field.name == "stride":
            parser.add_argument(option, type=_whole_number, default=field.default,
                                help=HELP[field.name])
        else:
            kind = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
            parser.add_argument(option, type=str.upper if field.name == "padding" else kind,
                                default=field.default, choices=CHOICES.get(field.name),
                                metavar="PATH" if field.name in ("image", "output") else None,
                                help=HELP[field.name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        config = DemoConfig(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in vars(args).items()})
        return run(config)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.USAGE


def read_image(path: str) -> np.ndarray:
    """The image at ``path`` as float32 RGB [height, width, 3] in [0, 1): 8-bit pixels / 256."""
    from tf1cnn.style_transfer.images import read_rgb

    return read_rgb(path, "input") / np.float32(256.0)


def run(config: DemoConfig) -> int:
    """Check everything, then filter the image and write or show the figure."""
    config.check()
    config = dataclasses.replace(config, image=config.image or sample(SAMPLE_IMAGE))
    if not config.show:
        figure.check_writable(config.output)
    pixels = read_image(config.image)
    print("config: " + json.dumps(dataclasses.asdict(config)), flush=True)
    runtime.configure_environment()
    from . import convolve

    result = convolve.feature_maps(pixels, config.kernels, rgb=config.rgb,
                                   seed=config.seed_kernels, stride=config.stride,
                                   padding=config.padding)
    for name, values in result.maps.items():
        print(f"map={name} shape={'x'.join(map(str, values.shape))} "
              f"min={values.min():.4g} max={values.max():.4g}", flush=True)
    tiles = figure.panels(result.input, result.maps)
    if config.show:
        from matplotlib import pyplot

        figure.draw(pyplot.figure(), tiles)
        pyplot.show()
        return 0
    figure.save(figure.draw(figure.new_figure(), tiles), config.output, config.dpi,
                {"Software": "tf1cnn-kernels", "Description": json.dumps(
                    dataclasses.asdict(config))})
    print(f"saved: {config.output}", flush=True)
    return 0
