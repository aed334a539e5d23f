"""A scipy reference for TensorFlow's ``conv2d``: the yardstick of the tests and the benchmark.

``conv2d`` is a cross-correlation, so the reference is ``scipy.ndimage.correlate`` (no kernel
flip), summed over input channels. Strides and padding follow TensorFlow exactly:

* ``VALID`` pads nothing; the output has ceil((n - k + 1) / s) pixels along an axis of n.
* ``SAME`` gives ceil(n / s) pixels and pads max((ceil(n / s) - 1) * s + k - n, 0) zeros in all,
  half of them (rounded down) before and the rest after: the odd pixel goes to the bottom or
  the right.

The reference zero-pads the image that way, correlates it at full resolution, and keeps the
pixels under TensorFlow's window centres, (k // 2) + i * s. Filter slices that are all zero are
skipped, so a diagonal (per-channel) filter costs one correlation per channel. Pure numpy in,
numpy out; run ``python -m tf1cnn.kernels.reference`` for a tiny worked example.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

PADDINGS = ("SAME", "VALID")


def output_size(n: int, k: int, stride: int, padding: str) -> int:
    """Pixels along an axis of ``n`` after a ``k``-tap window moved by ``stride``."""
    if padding == "SAME":
        return math.ceil(n / stride)
    if padding == "VALID":
        return max(math.ceil((n - k + 1) / stride), 0)
    raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")


def pads(n: int, k: int, stride: int, padding: str) -> tuple[int, int]:
    """Zeros TensorFlow adds (before, after) along an axis of ``n``; the odd one goes after."""
    if padding == "VALID":
        return 0, 0
    total = max((output_size(n, k, stride, padding) - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def conv2d(image: np.ndarray, filter_: np.ndarray, stride: int = 1, padding: str = "SAME",
           dtype=np.float64) -> np.ndarray:
    """What ``tf.nn.conv2d(image[None], filter_, [1, s, s, 1], padding)[0]`` computes.

    ``image`` is [height, width, in_channels]; ``filter_`` is [kh, kw, in_channels, out] with
    odd kh and kw. The result is [out_height, out_width, out] of ``dtype``, which is also the
    type the image is padded in (ndimage itself sums in float64).
    """
    image = np.asarray(image, dtype=dtype)
    filter_ = np.asarray(filter_, dtype=np.float64)
    kh, kw, cin, cout = filter_.shape
    if image.ndim != 3 or image.shape[2] != cin:
        raise ValueError(f"image {image.shape} does not match filter {filter_.shape}")
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"filter height and width must be odd, got {kh}x{kw}")
    height, width = image.shape[:2]
    rows = output_size(height, kh, stride, padding)
    cols = output_size(width, kw, stride, padding)
    padded = np.pad(image, (pads(height, kh, stride, padding),
                            pads(width, kw, stride, padding), (0, 0)))
    # ndimage centres a window of size k at k // 2, so full-resolution pixel k // 2 + i * s is
    # the window whose top-left corner TensorFlow places at i * s.
    keep = (slice(kh // 2, kh // 2 + (rows - 1) * stride + 1, stride),
            slice(kw // 2, kw // 2 + (cols - 1) * stride + 1, stride))
    out = np.zeros((cout, rows, cols), dtype=dtype)
    if rows == 0 or cols == 0:
        return np.moveaxis(out, 0, 2)
    planes = np.ascontiguousarray(np.moveaxis(padded, 2, 0))  # ndimage is fastest on these
    for o in range(cout):
        for i in range(cin):
            weights = filter_[:, :, i, o]
            if weights.any():
                out[o] += ndimage.correlate(planes[i], weights, mode="constant",
                                            cval=0.0)[keep]
    return np.moveaxis(out, 0, 2)


if __name__ == "__main__":
    picture = np.arange(20, dtype=np.float64).reshape(4, 5, 1)
    top = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float64)[:, :, None, None]
    print("image:\n", picture[:, :, 0])
    for s in (1, 2, 3):
        print(f"stride {s}: pads rows {pads(4, 3, s, 'SAME')}, cols {pads(5, 3, s, 'SAME')}\n",
              conv2d(picture, top, s)[:, :, 0])
