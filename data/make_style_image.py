"""Draw the bundled style image, data/style_waves.png: swirling bands of strong colour.

Run from the repository root::

    python data/make_style_image.py                      # data/style_waves.png, 512x384
    python data/make_style_image.py --size 3840x2160 --output waves_4k.png

Deterministic, so the file in the repository can always be remade (with no options, byte for
byte); the picture is ours, released with the project's licence.

**The pattern scales with the size.** ``--size`` draws the same picture at more (or fewer)
pixels: the waves keep their place and their number, and each spans more pixels, as if the
512x384 picture had been painted on a larger canvas. A style picture is fitted to the result
before its Gram matrices are taken, so the bundled one is scaled up 7.5x for 3840x2160 and its
strokes blur; drawn at 3840x2160, the same waves need no scaling, but they are then far wider
than the network's view, and a 4K result takes the fine grain, not the waves (measured:
docs/tiles.md). Another aspect ratio gets the centre of the pattern, as
``images.fit`` would crop the 512x384 picture: 3840x2160 holds its middle 512x288. Only the
canvas grain (sigma 6 per pixel) does not scale: it stays one pixel fine at every size.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tf1cnn.common import options
from tf1cnn.common.errors import UsageError

HEIGHT, WIDTH = 384, 512  # the bundled picture; the pattern's own coordinates are its pixels
# Deep blue, teal, ochre, cream, rust: a palette with strong contrasts for the Gram losses.
PALETTE = np.array([[18, 38, 92], [30, 120, 140], [222, 170, 60], [245, 230, 190],
                    [180, 70, 40]], dtype=np.float64)
OUTPUT = Path(__file__).resolve().parent / "style_waves.png"


def coordinates(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) of each pixel's centre in the 512x384 picture's pixels, [height, width] each:
    the centre of the pattern at ``scale`` pixels per pixel of the bundled picture, where
    ``scale`` makes the drawing cover as much of it as its aspect ratio allows. At 512x384
    they are the whole pixel numbers exactly, so the bundled file is unchanged."""
    scale = max(width / WIDTH, height / HEIGHT)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    y = (rows + 0.5) / scale - 0.5 + (HEIGHT - height / scale) / 2
    x = (cols + 0.5) / scale - 0.5 + (WIDTH - width / scale) / 2
    return y, x


def draw(height: int = HEIGHT, width: int = WIDTH, seed: int = 7) -> np.ndarray:
    """The pattern as uint8 RGB [height, width, 3]."""
    rng = np.random.default_rng(seed)
    y, x = (values / 64.0 for values in coordinates(height, width))
    # Domain warping: bend the coordinates with a few random sinusoids, then draw bands.
    warp_x = sum(np.sin(y * f + p) / f for f, p in zip(rng.uniform(0.5, 3, 4),
                                                        rng.uniform(0, 6.3, 4)))
    warp_y = sum(np.cos(x * f + p) / f for f, p in zip(rng.uniform(0.5, 3, 4),
                                                        rng.uniform(0, 6.3, 4)))
    bands = np.sin(2.5 * (x + 1.5 * warp_x) + 1.8 * (y + 1.5 * warp_y))
    # Short brush strokes: fine ripples at an angle to the bands.
    strokes = 0.15 * np.sin(40 * (x * 0.8 + y * 0.6 + 0.3 * warp_y))
    level = np.clip((bands + strokes + 1.15) / 2.3, 0, 0.999) * (len(PALETTE) - 1)
    low = np.floor(level).astype(int)
    mix = (level - low)[..., None]
    rgb = PALETTE[low] * (1 - mix) + PALETTE[low + 1] * mix
    rgb += rng.normal(0, 6, rgb.shape)  # canvas grain
    return np.clip(rgb, 0, 255).astype(np.uint8)


def parse_size(text: str) -> tuple[int, int]:
    """(height, width) of a WIDTHxHEIGHT size, as the result's are usually written."""
    found = re.fullmatch(r"([1-9]\d*)x([1-9]\d*)", text)
    if not found:
        raise UsageError(f"--size wants WIDTHxHEIGHT such as 3840x2160, got {text}")
    return int(found.group(2)), int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = options.UsageParser(description="Draw the bundled style pattern.")
    parser.add_argument("--size", default=f"{WIDTH}x{HEIGHT}", metavar="WxH",
                        help="the picture's size; the pattern scales with it (default: "
                             "%(default)s, the bundled picture)")
    parser.add_argument("--output", default=str(OUTPUT), metavar="PATH",
                        help="the PNG to write (default: data/style_waves.png)")
    return options.guarded(lambda: write(parser.parse_args(argv)))


def write(args) -> int:
    """Draw the pattern at the size the options give and save it; a bad size is refused
    first."""
    height, width = parse_size(args.size)
    Image.fromarray(draw(height, width)).save(args.output, optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
