"""Automatic masks (``--content-mask auto[:K]``): a picture split into K regions by colour and
position, numbered from darkest to brightest, so that a content and a style picture split the
same way pair region by region: the i-th darkest region of the content takes its style from the
i-th darkest region of the style picture::

    labels = auto_masks.split(picture, 3, height, width)    # [H, W] in 0..2, 0 the darkest
    mask = auto_masks.paint(labels, 3)                      # RGB in config.auto_colours(3)

The painted mask is an ordinary mask in the colours ``config.auto_colours`` lists, so the run
reads it through ``masks.regions`` as it would read a painted one, and the masks written next to
the result, passed back with ``--content-mask``, ``--style-mask`` and ``--region-style``, give
the same weights bit for bit. The steps of ``split``, and why:

1. Only the crop the run sees is split: ``images.fit`` centre-crops every picture to the
   result's shape, and a style region lying wholly in the cropped-away border would give its
   content region nothing to match. The border then joins the region whose mean colour and
   place are nearest, so that the mask still covers the whole picture.
2. On a copy of at most ``MAX_PIXELS``: the regions are coarse, and a 4K picture then splits in
   the time of a small one; the labels are enlarged back by nearest neighbour.
3. SLIC superpixels (scikit-image), in CIELAB: about ``SUPERPIXELS`` compact patches that
   follow colour edges. Not smoothed first: with smoothing (sigma 1), patches of a picture of
   flat blocks straddled the blocks' edges, which no merging can undo.
4. Ward's agglomeration of the superpixels on (L*, a*, b*, ``POSITION`` x row, ``POSITION`` x
   column), rows and columns in units of the crop's longer side: the two groups whose union
   adds least to the sum of squared distances from the group means, counted per pixel, merge
   until K remain. There is no random start, so a picture always splits the same way. Merging
   is not limited to neighbours: a colour that another cuts in two (sky on both sides of a
   tower) can stay one region. Colour decides: a whole picture side weighs as much as a colour
   difference of ``POSITION`` (ΔE), so place tells regions apart only where colour does not,
   as in a flat picture, which splits into K compact parts of the same colour.
5. The regions are numbered by mean luminance (BT.601 Y) over the crop, darkest first; equal
   ones by their first pixel in reading order, so that pairing never depends on chance.

Exactly K regions come out whenever the crop has K pixels: a crop that SLIC cuts into fewer
than K superpixels is cut into a grid instead, and one with fewer pixels than K is a one-line
``UsageError``. So a style picture never has fewer regions than the content it is paired
with.
"""
from __future__ import annotations

import numpy as np
import skimage.color
import skimage.segmentation

from tf1cnn.common import images
from tf1cnn.common.errors import UsageError

from ..config import auto_colours
from . import masks

# Pixels of the working copy, 512 x 512: the regions are coarse (a few per picture), and SLIC
# takes well under a second at this size whatever the picture's.
MAX_PIXELS = 2 ** 18
# Superpixels asked of SLIC: many more than the at most 8 regions, few enough that Ward's
# merging (quadratic in them per merge) costs milliseconds.
SUPERPIXELS = 256
# SLIC's balance of colour against place in CIELAB; 10 is scikit-image's suggestion for Lab.
COMPACTNESS = 10.0
# ΔE that a whole picture side weighs in the merging: a visible colour difference, so that
# colour decides, and place breaks ties and keeps a low-contrast picture's regions coherent.
POSITION = 20.0
# BT.601 luminance of linear-in-code RGB, as colour.luminance: the regions' order.
LUMA = np.array([0.299, 0.587, 0.114])


def split(picture: np.ndarray, regions: int, height: int, width: int,
          role: str = "picture") -> np.ndarray:
    """Labels [H, W] (int, 0 the darkest region) of float RGB ``picture`` [H, W, 3] split into
    ``regions`` by colour and position, as the run sees it centre-cropped to height:width (the
    module's docstring gives the steps). A UsageError naming ``role`` when the crop has fewer
    pixels than ``regions``."""
    rows, cols = picture.shape[:2]
    check_size(picture.shape, regions, height, width, role)
    crop = images.centre_crop(picture, height, width)
    shrink = min(1.0, np.sqrt(MAX_PIXELS / (crop.shape[0] * crop.shape[1])))
    small_rows, small_cols = max(1, round(rows * shrink)), max(1, round(cols * shrink))
    small = images.resize(picture, small_rows, small_cols) / 255.0
    top, left, inner = _crop_window(small.shape, crop.shape, picture.shape)
    features = _features(small, top, left, max(inner))
    inside = features[top:top + inner[0], left:left + inner[1]]
    superpixels = _superpixels(small[top:top + inner[0], left:left + inner[1]], regions)
    count = superpixels.max() + 1
    sizes = np.bincount(superpixels.ravel(), minlength=count).astype(np.float64)
    means = np.stack([np.bincount(superpixels.ravel(), channel.ravel(), count)
                      for channel in np.moveaxis(inside, 2, 0)], axis=1) / sizes[:, None]
    group = _ward(means, sizes, regions)[superpixels]
    centres = np.stack([inside[group == index].mean(axis=0) for index in range(regions)])
    labels = np.argmin(np.stack([np.square(features - centre).sum(axis=2)
                                 for centre in centres]), axis=0)
    labels[top:top + inner[0], left:left + inner[1]] = group
    order = _by_luminance(small[top:top + inner[0], left:left + inner[1]], group, regions)
    return masks.nearest(np.argsort(order)[labels], rows, cols)


def check_size(shape: tuple, regions: int, height: int, width: int, role: str) -> None:
    """A UsageError naming ``role`` when a picture of ``shape``, centre-cropped to
    height:width, has fewer pixels than ``regions``."""
    crop = images.centre_crop(np.broadcast_to(np.float32(0), tuple(shape[:2])), height, width)
    if crop.size < regions:
        raise UsageError(f"{role} is {shape[1]}x{shape[0]}: too few pixels for {regions} "
                         f"regions; give a larger picture or fewer (--content-mask auto:K)")


def paint(labels: np.ndarray, regions: int) -> np.ndarray:
    """The mask of ``labels`` as uint8 RGB: region i in ``config.auto_colours(regions)[i]``."""
    palette = np.stack([masks.parse_colour(name) for name in auto_colours(regions)])
    return np.rint(palette).astype(np.uint8)[labels]


def _crop_window(small: tuple, crop: tuple, full: tuple) -> tuple[int, int, tuple[int, int]]:
    """(top, left, (rows, cols)) of the centre crop within the working copy of shape
    ``small``, the crop being ``crop`` of the picture's ``full`` shape."""
    inner = (max(1, min(small[0], round(crop[0] * small[0] / full[0]))),
             max(1, min(small[1], round(crop[1] * small[1] / full[1]))))
    return (small[0] - inner[0]) // 2, (small[1] - inner[1]) // 2, inner


def _features(rgb: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
    """[H, W, 5]: each pixel's L*, a*, b* and its row and column from the crop's corner, in
    crop sides times ``POSITION``."""
    rows, cols = np.mgrid[:rgb.shape[0], :rgb.shape[1]].astype(np.float64)
    place = POSITION / side
    return np.concatenate([skimage.color.rgb2lab(rgb), ((rows - top) * place)[:, :, None],
                           ((cols - left) * place)[:, :, None]], axis=2)


def _superpixels(rgb: np.ndarray, regions: int) -> np.ndarray:
    """SLIC labels 0..n-1 of ``rgb`` in [0, 1]; where SLIC gives fewer than ``regions`` (a
    picture of a few pixels), a grid of at most 16 x 16 cells, which has at least ``regions``
    cells when the picture has that many pixels (``regions`` is at most 8)."""
    found = skimage.segmentation.slic(rgb, n_segments=SUPERPIXELS, compactness=COMPACTNESS,
                                      start_label=0, channel_axis=-1)
    _, found = np.unique(found, return_inverse=True)  # numbered without gaps
    if found.max() + 1 >= regions:
        return found.reshape(rgb.shape[:2])
    rows, cols = rgb.shape[:2]
    cells = min(rows, 16), min(cols, 16)
    return (np.arange(rows)[:, None] * cells[0] // rows * cells[1]
            + np.arange(cols)[None] * cells[1] // cols)


def _ward(means: np.ndarray, sizes: np.ndarray, regions: int) -> np.ndarray:
    """Group 0..regions-1 of each of n points ``means`` [n, d] of weights ``sizes`` [n]:
    Ward's agglomeration, merging the pair of least cost a b / (a + b) |m_a - m_b|^2 (a, b
    the weights) until ``regions`` groups remain; ties go to the lowest indices."""
    means, sizes = means.astype(np.float64).copy(), sizes.astype(np.float64).copy()
    owner = np.arange(len(means))
    alive = np.ones(len(means), bool)
    cost = _merge_cost(means, sizes, means, sizes)
    np.fill_diagonal(cost, np.inf)
    for _ in range(len(means) - regions):
        first, second = sorted(np.unravel_index(np.argmin(cost), cost.shape))
        total = sizes[first] + sizes[second]
        means[first] = (sizes[first] * means[first] + sizes[second] * means[second]) / total
        sizes[first], alive[second] = total, False
        owner[owner == second] = first
        row = _merge_cost(means[first][None], sizes[first][None], means, sizes)[0]
        row[~alive], row[first] = np.inf, np.inf
        cost[first], cost[:, first] = row, row
        cost[second], cost[:, second] = np.inf, np.inf
    _, group = np.unique(owner, return_inverse=True)
    return group


def _merge_cost(means_a, sizes_a, means_b, sizes_b) -> np.ndarray:
    """[len(a), len(b)]: the rise in the sum of squares when group a and group b merge."""
    distance = np.square(means_a[:, None] - means_b[None]).sum(axis=2)
    return sizes_a[:, None] * sizes_b[None] / (sizes_a[:, None] + sizes_b[None]) * distance


def _by_luminance(rgb: np.ndarray, group: np.ndarray, regions: int) -> np.ndarray:
    """The groups 0..regions-1 from darkest to brightest by mean luminance; equal ones (to
    1e-6 of a code value: sums of many equal pixels round differently) by their first pixel
    in reading order."""
    luma = np.bincount(group.ravel(), rgb.reshape(-1, 3) @ LUMA, regions) \
        / np.bincount(group.ravel(), minlength=regions)
    first = np.array([np.flatnonzero(group.ravel() == index)[0] for index in range(regions)])
    return np.lexsort((first, np.round(luma * 255, 6)))
