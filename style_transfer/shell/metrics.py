"""Objective measures of a result, so that options can be compared by numbers as well as by eye.

* ``ssim_luminance``: how much of the content's structure survives: SSIM of the result's
  luminance to the content's (1 for identical images), by scikit-image's
  ``structural_similarity``, the field's well-kept implementation, with data_range 255.
* ``colour_distance``: how far apart two images' colours are, whatever their layout: the
  Hellinger distance between their 3-D RGB histograms (16 bins per channel by default).
  H(p, q) = sqrt(1 - sum sqrt(p q)) = ||sqrt p - sqrt q|| / sqrt 2: 0 for the same
  histogram, 1 for histograms with no bin in common, and symmetric.

Every measure works on a copy of at most ``MAX_PIXELS`` (one megapixel), downscaled with the
aspect ratio kept, so that a very large result stays within its memory budget. ``measures``
gathers them for one run; the caller adds the losses and writes ``metrics.json``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from skimage.metrics import structural_similarity

from tf1cnn.common import images

from ..control.colour import luminance

MAX_PIXELS = 1_000_000
BINS = 16  # per channel: 4096 bins, coarse enough that a 1 MP image fills them meaningfully
SSIM_WINDOW = 7  # scikit-image's default; smaller images get the largest odd window that fits


def capped_size(height: int, width: int, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The largest size of the same aspect ratio (to a pixel) with at most ``max_pixels``."""
    if height * width <= max_pixels:
        return height, width
    scale = math.sqrt(max_pixels / (height * width))
    rows = max(1, math.floor(height * scale))
    return rows, min(max(1, math.floor(width * scale)), max_pixels // rows)


def capped(image: np.ndarray, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """``image`` itself if it has at most ``max_pixels``, else a Lanczos-downscaled copy."""
    height, width = capped_size(*image.shape[:2], max_pixels)
    return images.resize(np.asarray(image, np.float32), height, width)


def ssim_luminance(result: np.ndarray, content: np.ndarray) -> float:
    """SSIM of the luminance of two float RGB images of one size, in [0, 255]."""
    if result.shape != content.shape:
        raise ValueError(f"SSIM needs images of one shape, found {result.shape} and "
                         f"{content.shape}")
    result_y, content_y = luminance(capped(result)), luminance(capped(content))
    window = min(SSIM_WINDOW, *result_y.shape)
    window -= 1 - window % 2  # odd
    if window < 3:
        raise ValueError(f"SSIM needs images of 3x3 pixels at least, found {result_y.shape}")
    return float(structural_similarity(result_y, content_y, data_range=255.0, win_size=window))


def colour_histogram(rgb: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The share of pixels in each of bins^3 equal RGB cells over [0, 256): sums to 1."""
    pixels = np.clip(np.asarray(capped(rgb), np.float64).reshape(-1, 3), 0.0, 255.0)
    counts, _ = np.histogramdd(pixels, bins=bins, range=[(0.0, 256.0)] * 3)
    return counts / counts.sum()


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    """Hellinger distance of two histograms of one shape (each normalised here to sum 1)."""
    p = np.asarray(p, np.float64)
    q = np.asarray(q, np.float64)
    if p.shape != q.shape:
        raise ValueError(f"histograms of different shapes: {p.shape} and {q.shape}")
    root_p, root_q = np.sqrt(p / p.sum()), np.sqrt(q / q.sum())
    return float(min(1.0, np.linalg.norm(root_p - root_q) / math.sqrt(2.0)))


def colour_distance(a: np.ndarray, b: np.ndarray, bins: int = BINS) -> float:
    """Hellinger distance between the RGB histograms of two images (any sizes)."""
    return hellinger(colour_histogram(a, bins), colour_histogram(b, bins))


def measures(result: np.ndarray, content: np.ndarray,
             styles: Sequence[np.ndarray]) -> dict[str, float | list[float]]:
    """The measures of one run: SSIM of luminance to the content, and the colour distance to
    the content and to each style image, in the order given."""
    result, content = capped(result), capped(content)
    histogram = colour_histogram(result)
    return {
        "ssim_luminance": ssim_luminance(result, content),
        "colour_distance_content": hellinger(histogram, colour_histogram(content)),
        "colour_distance_styles": [hellinger(histogram, colour_histogram(style))
                                   for style in styles],
    }
