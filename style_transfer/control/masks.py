"""Region masks for spatial control (Gatys et al. 2017): which style goes where.

A mask is an ordinary image painted in a few colours, one per region, flat or blended where
regions meet, the same shape as the content (or as a style image). The steps, in order:

1. ``read_mask`` reads it as float RGB, in any mode a user's paint program may save;
2. ``regions`` turns colours into weights [H, W, R], one channel per listed colour, at the
   size the mask was painted, so that blends are read as they were painted. A pixel
   within a tolerance of a listed colour goes to the nearest one, so JPEG noise is absorbed.
   A pixel between regions, as anti-aliasing, a soft brush or JPEG ringing paint it, is read
   as the nearest blend of two listed colours painted near it and split between their
   regions: the guided Gram matrices take such soft weights as they are. A colour that is
   neither, one nobody listed, is an error rather than a silent guess;
3. ``fit_mask`` brings the weights to each working size with the crop ``images.fit`` gives
   the image they belong to, by nearest neighbour, so that a pixel's weights stay its own;
4. ``blend`` softens the boundaries over a few pixels, keeping a sum of 1 per pixel;
5. ``layer_masks`` averages the weights down to each layer's resolution on the network's
   own pooling grid, ready for ``losses.guided_style_loss`` and ``losses.guided_target``.
"""
from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence

import numpy as np
import scipy.ndimage
from matplotlib import colors as mpl_colors

from tf1cnn.common import images
from tf1cnn.common.errors import UsageError

from ..network.matconvnet import Layer

# Euclidean RGB distance (0-255 per channel) within which a pixel still counts as a listed
# colour: JPEG noise and anti-aliasing stay well inside it, while the nearest two distinct
# primaries (e.g. red and yellow, 255 apart) stay far outside.
TOLERANCE = 40.0
# A pixel may be a blend of two listed colours if both are painted within this many pixels of
# it (Chebyshev distance). A soft brush of sigma s paints blends up to ~3.2 s pixels from the
# farther colour: 16 takes sigma 4 with a margin, and sigma 5 (benchmarks/soft_masks.py).
REACH = 16
# Where three regions meet, anti-aliasing blends three colours, which no blend of two explains:
# within this many pixels of a boundary such a pixel goes wholly to its nearest colour.
EDGE = 2
# Width in pixels over which a region boundary fades from one style to the other. A few
# pixels hide the seam; the pooled masks of the deeper layers are soft over 16 pixels anyway.
BLEND_WIDTH = 4
# A mask may differ from the content's aspect ratio by this share, or by one pixel of rounding.
ASPECT_TOLERANCE = 0.01


def read_mask(path: str | os.PathLike, role: str = "mask") -> np.ndarray:
    """The mask at ``path`` as float32 RGB [H, W, 3] in [0, 255]; ``role`` (e.g. "content
    mask") names it in the one-line UsageError for a missing or unreadable file."""
    return images.read_rgb(path, role)


def parse_colour(text: str) -> np.ndarray:
    """RGB in [0, 255] of "#rrggbb", "rrggbb" or a colour name such as "red"."""
    spec = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{6}", spec):
        spec = "#" + spec
    try:
        return np.array(mpl_colors.to_rgb(spec)) * 255.0
    except ValueError:
        raise UsageError(f"unknown region colour {text!r}: use #rrggbb, rrggbb or a name "
                         f"such as red") from None


def regions(mask_rgb: np.ndarray, colours: Sequence[str], tolerance: float = TOLERANCE,
            role: str = "mask", reach: int = REACH) -> np.ndarray:
    """Float32 weights [H, W, len(colours)] summing to 1 per pixel: what each region owns.

    A pixel within ``tolerance`` of a listed colour goes wholly to the nearest one. Any other
    pixel is read as the nearest blend of two listed colours that both occur (a pixel of
    theirs within ``tolerance``) within ``reach`` pixels of it in x and y, and split between
    them by its position on the line from one colour to the other; a pixel farther than
    ``tolerance`` from every such blend goes wholly to its nearest colour if within ``EDGE``
    pixels of a boundary, and is otherwise a UsageError naming the commonest such colour
    and its pixel count."""
    listed = np.stack([parse_colour(colour) for colour in colours])
    pixels = np.asarray(mask_rgb, np.float32)
    distance = np.stack([np.linalg.norm(pixels - colour.astype(np.float32), axis=2)
                         for colour in listed], axis=2)  # [H, W, R], one colour at a time
    nearest = np.argmin(distance, axis=2)
    stray = np.take_along_axis(distance, nearest[:, :, None], axis=2)[:, :, 0] > tolerance
    del distance
    weights = np.eye(len(colours), dtype=np.float32)[nearest]
    if not stray.any():
        return weights
    window = 2 * reach + 1
    near = np.stack([scipy.ndimage.maximum_filter(~stray & (nearest == index), window,
                                                  mode="constant")[stray]
                     for index in range(len(colours))], axis=1)  # [K, R]
    first, second, share, close = _nearest_blends(pixels[stray], listed, near, tolerance)
    rows, cols = (axis[close] for axis in np.nonzero(stray))
    weights[rows, cols] = 0.0
    weights[rows, cols, first[close]] = 1.0 - share[close]
    weights[rows, cols, second[close]] = share[close]
    stray[rows, cols] = False
    if stray.any():  # the filters cost seconds on a 4K mask: only for pixels still unexplained
        window = 2 * EDGE + 1
        stray &= (scipy.ndimage.maximum_filter(nearest, window, mode="nearest")
                  == scipy.ndimage.minimum_filter(nearest, window, mode="nearest"))
    if stray.any():
        _refuse(pixels[stray], colours, tolerance, reach, role)
    return weights


def _nearest_blends(pixels: np.ndarray, listed: np.ndarray, near: np.ndarray,
                    tolerance: float) -> tuple[np.ndarray, ...]:
    """For pixels [K, 3] and which listed colours occur near each ``near`` [K, R]: the
    nearest blend's two colours (indices [K] each), the share t [K] of the second, and
    whether it lies within ``tolerance`` [K]. A blend (1 - t) c_i + t c_j, t in [0, 1], is
    the pixel projected onto the segment c_i c_j."""
    count = len(pixels)
    gap = np.full(count, np.inf, np.float32)
    first, second = np.zeros(count, int), np.zeros(count, int)
    share = np.zeros(count, np.float32)
    for i, j in itertools.combinations(range(len(listed)), 2):
        start = listed[i].astype(np.float32)
        step = (listed[j] - listed[i]).astype(np.float32)
        if not step.any():  # one colour listed twice: no blend between them
            continue
        t = np.clip((pixels - start) @ step / (step @ step), 0.0, 1.0)
        found = np.linalg.norm(pixels - start - t[:, None] * step, axis=1)
        better = (found < gap) & near[:, i] & near[:, j]
        gap[better], share[better] = found[better], t[better]
        first[better], second[better] = i, j
    return first, second, share, gap <= tolerance


def _refuse(pixels: np.ndarray, colours: Sequence[str], tolerance: float, reach: int,
            role: str) -> None:
    """Raise the UsageError for ``pixels`` [K, 3] that no colour or blend explains."""
    found, counts = np.unique(images.to_uint8(pixels), axis=0, return_counts=True)
    top = found[np.argmax(counts)]
    others = f" (and {len(pixels) - counts.max()} pixels of other colours)" \
        if len(found) > 1 else ""
    raise UsageError(f"{role} has {counts.max()} pixels of colour #{bytes(top).hex()}"
                     f"{others} farther than {tolerance:g} from every colour listed "
                     f"({', '.join(colours)}) and every blend of two of them painted within "
                     f"{reach} pixels; give it a style with --region-style")


def absent(weights: np.ndarray, colours: Sequence[str]) -> list[str]:
    """The colours whose regions have no pixel in ``weights`` [H, W, R]."""
    present = np.asarray(weights).reshape(-1, len(colours)).max(axis=0) > 0
    return [colour for colour, found in zip(colours, present) if not found]


def fit_mask(mask: np.ndarray, height: int, width: int, content_shape: Sequence[int],
             role: str = "mask") -> tuple[np.ndarray, str | None]:
    """The mask cropped and resized (nearest neighbour) to height x width, as ``images.fit``
    fits the image of shape ``content_shape`` it belongs to, and a note for the caller to
    print when the mask's size differed from that image's (None when it did not).

    A mask whose aspect ratio differs from the image's is a UsageError: stretching it would
    put regions where they were not painted."""
    note = size_note(mask.shape, content_shape, role)
    cropped = images.centre_crop(mask, height, width)
    return nearest(cropped, height, width), note


def size_note(shape: Sequence[int], content_shape: Sequence[int], role: str) -> str | None:
    """The note on a mask of ``shape`` fitted to its image's, None if the sizes agree; a
    UsageError if the aspect ratios differ."""
    rows, cols = shape[:2]
    image_rows, image_cols = content_shape[:2]
    expected_cols = rows * image_cols / image_rows
    if abs(cols - expected_cols) > max(1.0, ASPECT_TOLERANCE * expected_cols):
        raise UsageError(f"{role} is {cols}x{rows} but its image is {image_cols}x{image_rows}: "
                         f"the aspect ratios differ; paint the mask at the image's shape")
    if (rows, cols) == (image_rows, image_cols):
        return None
    return (f"{role} is {cols}x{rows}, its image {image_cols}x{image_rows}: "
            f"resized to match (nearest neighbour)")


def blend(weights: np.ndarray, width_px: float = BLEND_WIDTH) -> np.ndarray:
    """Soften region boundaries over about ``width_px`` pixels; 0 leaves them hard.

    Each region's channel is blurred by a Gaussian of sigma = width_px / 4, which turns a
    hard edge into a ramp that rises from 2% to 98% over width_px. Image borders are extended
    (not padded with zeros), and the channels are renormalised to sum to 1 at every pixel."""
    weights = np.asarray(weights, np.float32)
    if width_px <= 0:
        return weights.copy()
    sigma = width_px / 4.0
    soft = scipy.ndimage.gaussian_filter(weights.astype(np.float64), (sigma, sigma, 0),
                                         mode="nearest")
    return (soft / soft.sum(axis=2, keepdims=True)).astype(np.float32)


def layer_masks(weights: np.ndarray, layers: Sequence[Layer], height: int, width: int,
                pooling: str = "avg", names: Sequence[str] | None = None
                ) -> dict[str, np.ndarray]:
    """The weights [height, width, R] at every layer's resolution: {name: [h_l, w_l, R]}, or
    only at the layers ``names``.

    Each pooling layer averages the mask over its window with SAME padding, as TensorFlow's
    average pooling does: the last row or column of an odd size is a window of its own,
    averaged over the pixels it has. So the grid matches ``vgg.shapes``, each layer position
    weighs a region by the share of the position's footprint it paints, and the weights still
    sum to 1. The mask is averaged under max pooling too (``pooling`` "max"): a max would let
    every region claim a whole boundary position."""
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be avg or max, got {pooling!r}")
    mask = np.asarray(weights, np.float64)
    if mask.shape[:2] != (height, width):
        raise ValueError(f"weights are {mask.shape[1]}x{mask.shape[0]}, "
                         f"expected {width}x{height}")
    result = {}
    for layer in layers:
        if layer.kind == "pool":
            mask = _average_pool(mask, *layer.pool_size)
        if names is None or layer.name in names:
            result[layer.name] = mask.astype(np.float32)
    return result


def nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of an [H, W, ...] array: each output pixel takes the input
    pixel under its centre."""
    rows = np.minimum((np.arange(height) + 0.5) * image.shape[0] / height, image.shape[0] - 1)
    cols = np.minimum((np.arange(width) + 0.5) * image.shape[1] / width, image.shape[1] - 1)
    return np.ascontiguousarray(image[rows.astype(int)][:, cols.astype(int)])


def _average_pool(mask: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean over rows x cols windows at stride rows x cols; a window cut off by the border
    is averaged over the pixels it has."""
    height, width, channels = mask.shape
    out_h, out_w = -(-height // rows), -(-width // cols)
    padded = np.zeros((out_h * rows, out_w * cols, channels))
    padded[:height, :width] = mask
    count = np.zeros((out_h * rows, out_w * cols, 1))
    count[:height, :width] = 1.0
    total = padded.reshape(out_h, rows, out_w, cols, channels).sum(axis=(1, 3))
    return total / count.reshape(out_h, rows, out_w, cols, 1).sum(axis=(1, 3))
