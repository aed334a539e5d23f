"""The tutorial's filter faults side by side with the fixed filters: the README's comparison.

    python -m tf1cnn.kernels.faults [--image PATH] [--output docs/images/kernels_seed_faults.png]

Row 1 filters a test card of pure red, green and blue discs with the blur in RGB. The
tutorial's filter sets every (input, output) channel pair, so each output channel sums R, G and
B: all three discs come out the same grey-white. The per-channel (diagonal) filter keeps the
colours. Row 2 filters the grey photograph with the tutorial's grey blur, nine ones (gain 9,
so nearly everything is above 1 and shows white), and with the normalised blur (gain 1). Both
use the demo's stride 3 and SAME padding, and the demo's fixed [0, 1] display scale.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

import numpy as np

from tf1cnn.common import figures, files, options, runtime
from tf1cnn.common.samples import SAMPLE_PHOTO, sample

from . import figure

SHADE = 255 / 256  # the brightest 8-bit value read as pixels / 256


def test_card(height: int, width: int) -> np.ndarray:
    """Pure red, green and blue discs on black, float32 RGB [height, width, 3] in [0, 1)."""
    y, x = np.mgrid[0:height, 0:width]
    card = np.zeros((height, width, 3), dtype=np.float32)
    radius = 0.2 * min(height, width)
    centres = ((0.3, 0.3), (0.3, 0.7), (0.72, 0.5))  # (row, column) as fractions
    for channel, (row, col) in enumerate(centres):
        inside = (y - row * height) ** 2 + (x - col * width) ** 2 <= radius ** 2
        card[inside, channel] = SHADE
    return card


def comparison(photo: np.ndarray, stride: int = 3) -> list[tuple[str, np.ndarray]]:
    """(title, pixels) tiles: card, seed RGB blur, per-channel blur; grey photo, seed and fixed
    grey blur. ``photo`` is RGB in [0, 1)."""
    from .convolve import feature_maps

    card = test_card(*photo.shape[:2])
    seed_rgb = feature_maps(card, ("blur",), rgb=True, seed=True, stride=stride)
    fixed_rgb = feature_maps(card, ("blur",), rgb=True, stride=stride)
    seed_grey = feature_maps(photo, ("blur",), seed=True, stride=stride)
    fixed_grey = feature_maps(photo, ("blur",), stride=stride)

    def span(pixels):
        return f"values {pixels.min():.3g} to {pixels.max():.3g}"
    return [
        ("test card: pure R, G, B", card),
        (f"tutorial RGB blur: mixes channels\n{span(seed_rgb.maps['blur'])}",
         seed_rgb.maps["blur"]),
        (f"per-channel RGB blur\n{span(fixed_rgb.maps['blur'])}", fixed_rgb.maps["blur"]),
        ("grey input", seed_grey.input),
        (f"tutorial grey blur: sum of 9, gain 9\n{span(seed_grey.maps['blur'])}",
         seed_grey.maps["blur"]),
        (f"normalised blur, gain 1\n{span(fixed_grey.maps['blur'])}", fixed_grey.maps["blur"]),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    # A UsageParser, parsed inside guarded: a bad option is one error line, as in the tools.
    parser = options.UsageParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--image", help="photograph for row 2; default: the bundled one")
    parser.add_argument("--output", default=os.path.join("docs", "images",
                                                         "kernels_seed_faults.png"))
    parser.add_argument("--dpi", type=int, default=100)
    return options.guarded(lambda: draw_comparison(**vars(parser.parse_args(argv))))


def draw_comparison(image: str | None, output: str, dpi: int) -> int:
    """Check the output, read the photograph, then draw and save the comparison."""
    from .cli import read_image

    files.check_output_file(output)
    photo = read_image(image or sample(SAMPLE_PHOTO))
    runtime.import_tensorflow()
    figures.save_figure(figure.draw(figure.new_figure(), comparison(photo)), output, dpi,
                       {"Software": "tf1cnn.kernels.faults"})
    print(f"saved: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
