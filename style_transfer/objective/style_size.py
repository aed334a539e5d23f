"""How much a run scales its style pictures up, and what would keep that within ``LIMIT``.

A style picture is fitted to each level the way the engine's ``style_grams`` and
``region_grams`` fit it: ``images.fit`` centre-crops it to the aspect ratio of the level's
size times ``--style-scale`` (``memory.scaled``), then resizes the crop to that size. A resize
up adds no detail: scaled up 7.5x (the bundled 512x384 picture for a 3840x2160 result), a
stroke a few pixels wide becomes a soft band, and the Gram matrices describe that blur rather
than the texture the user chose. The shell warns above ``LIMIT``.

The factor of a picture at a level is the larger of its two axes' scale-ups, fitted size over
cropped size, computed with the engine's own crop and size rules, so the number is the one the
run applies. Coarse-to-fine levels below the full size use ``--coarse-style`` pictures when
given (``Controls.styles_at``), the full size the ``--style`` ones::

    line = warning(config.levels(), [("waves.png", (384, 512))])  # None within LIMIT
    if line:
        print(line, file=sys.stderr)

Plain integers and shapes in, no pixels: the shell asks from the files' headers, before the
long part.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from tf1cnn.common import images

from ..config import StyleConfig
from . import memory

LIMIT = 2.0  # a larger scale-up than this is warned about
Picture = tuple[str, tuple[int, int]]  # a style picture's name and (height, width)


@dataclasses.dataclass(frozen=True)
class Upscale:
    name: str  # the picture's name (its path, for the shell)
    shape: tuple[int, int]  # its (height, width)
    fitted: tuple[int, int]  # the (height, width) it is fitted to at that level
    level: int  # the level's index, coarsest first
    factor: float  # fitted size over cropped size, the larger of the two axes


def crop_shape(shape: tuple[int, int], height: int, width: int) -> tuple[int, int]:
    """The (rows, columns) of a picture of ``shape`` that ``images.fit`` keeps for a fit to
    height x width: ``images.centre_crop`` itself, run on a view that holds no pixels."""
    return images.centre_crop(np.broadcast_to(np.uint8(0), tuple(shape)), height, width).shape


def upscale(shape: tuple[int, int], height: int, width: int) -> float:
    """The scale-up of a picture of ``shape`` fitted to height x width: the larger of rows and
    columns, fitted over cropped; below 1 when it is scaled down."""
    rows, cols = crop_shape(shape, height, width)
    return max(height / rows, width / cols)


def largest_upscale(levels: Sequence[StyleConfig], styles: Sequence[Picture],
                    coarse_styles: Sequence[Picture] = ()) -> Upscale | None:
    """The largest scale-up of any style picture at any of ``levels`` (``config.levels()``,
    each with its size and ``style_scale``); the first found on a tie, and None without
    pictures. ``coarse_styles``: the pictures of the levels below the full size, if any."""
    found = None
    for index, level in enumerate(levels):
        pictures = coarse_styles if coarse_styles and index < len(levels) - 1 else styles
        fitted = memory.scaled(level.height, level.width, level.style_scale)
        for name, shape in pictures:
            factor = upscale(shape, *fitted)
            if found is None or factor > found.factor:
                found = Upscale(name, tuple(shape), fitted, index, factor)
    return found


def style_scale_within(levels: Sequence[StyleConfig], styles: Sequence[Picture],
                       coarse_styles: Sequence[Picture] = (), limit: float = LIMIT) -> float:
    """A ``--style-scale``, to two significant digits and rounded down, at which no picture is
    scaled up by more than ``limit``: the first such value counting down from the one that
    the proportion gives (rounding to whole pixels can make that one fall just short)."""
    found = largest_upscale(levels, styles, coarse_styles)
    scale = levels[-1].style_scale
    if found is None or found.factor <= limit:
        return scale
    ideal = scale * limit / found.factor
    unit = 10.0 ** (math.floor(math.log10(ideal)) - 1)  # the second significant digit
    steps = math.floor(ideal / unit + 1e-9)
    while True:  # ends: at a small enough scale every fitted size is one pixel
        candidate = round(steps * unit, 12)
        changed = [dataclasses.replace(level, style_scale=candidate) for level in levels]
        if largest_upscale(changed, styles, coarse_styles).factor <= limit:
            return candidate
        steps -= 1
        if steps < 10:  # 0.10 is followed by 0.099: two significant digits still
            steps, unit = 99, unit / 10


def smallest_picture(fitted: tuple[int, int], limit: float = LIMIT) -> tuple[int, int]:
    """The (height, width) of the smallest picture with the aspect ratio of ``fitted`` that
    is scaled up by no more than ``limit`` when fitted to it."""
    height, width = (math.ceil(side / limit) for side in fitted)
    while upscale((height, width), *fitted) > limit:  # a rounded crop can lose a row
        height, width = height + 1, width + 1
    return height, width


def warning(levels: Sequence[StyleConfig], styles: Sequence[Picture],
            coarse_styles: Sequence[Picture] = (), limit: float = LIMIT) -> str | None:
    """The one line that says the most scaled-up style picture is scaled up by more than
    ``limit``, with the two ways out; None when none is."""
    found = largest_upscale(levels, styles, coarse_styles)
    if found is None or found.factor <= limit:
        return None
    height, width = found.shape
    fitted_h, fitted_w = found.fitted
    need_h, need_w = smallest_picture(found.fitted, limit)
    scale = style_scale_within(levels, styles, coarse_styles, limit)
    return (f"warning: style picture {found.name} ({width}x{height}) is scaled up "
            f"{found.factor:.1f}x to {fitted_w}x{fitted_h}, which blurs its texture away; give "
            f"a style picture of at least {need_w}x{need_h}, or --style-scale {scale:g} or less "
            f"to keep the scale-up within {limit:g}x")
