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

import dataclasses
import json
from typing import Sequence

import numpy as np

from tf1cnn.common import figures, files, options, runtime
from tf1cnn.common.samples import SAMPLE_PHOTO, sample

from . import figure
from .bank import NAMES  # noqa: F401  (the kernel names, for callers of the CLI)
from .config import DemoConfig


def main(argv: Sequence[str] | None = None) -> int:
    parser = options.ConfigParser(
        DemoConfig, prog="tf1cnn-kernels",
        description="Hand-made 3x3 kernels applied to an image with one TF1 conv2d; writes the "
                    "input and the feature maps as a figure.")
    return options.guarded(lambda: run(parser.parse_config(argv)))


def read_image(path: str) -> np.ndarray:
    """The image at ``path`` as float32 RGB [height, width, 3] in [0, 1): 8-bit pixels / 256."""
    from tf1cnn.common.images import read_rgb

    return read_rgb(path, "input") / np.float32(256.0)


def run(config: DemoConfig) -> int:
    """Check everything, then filter the image and write or show the figure."""
    config.check()
    config = dataclasses.replace(config, image=config.image or sample(SAMPLE_PHOTO))
    if not config.show:
        files.check_output_file(config.output)
    pixels = read_image(config.image)
    print("config: " + json.dumps(dataclasses.asdict(config)), flush=True)
    runtime.import_tensorflow()
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
    figures.save_figure(figure.draw(figure.new_figure(), tiles), config.output, config.dpi,
                       {"Software": "tf1cnn-kernels",
                        "Description": json.dumps(dataclasses.asdict(config))})
    print(f"saved: {config.output}", flush=True)
    return 0
