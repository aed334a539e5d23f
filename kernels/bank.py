"""The filter bank: five named 3x3 kernels as plain numpy arrays, in the tutorial's form and fixed.

TensorFlow's ``conv2d`` takes a filter of shape [height, width, in_channels, out_channels] and
computes a cross-correlation (the kernel is not flipped), so row 0 of a kernel weighs the row
above the output pixel. ``top_sobel``, with +1 +2 +1 on top, is therefore positive where the
image is bright above and dark below.

Two families of 4-D filters are built from the 2-D kernels:

* ``seed_grey(name)`` (3x3x1x1) and ``seed_rgb(name)`` (3x3x3x3) hold exactly the 2019
  tutorial's values. Its RGB filters set ``a[i, j, :, :] = w``: every output channel sums all
  three input channels, so a pure-red image comes out grey (its edge filter alone is
  per-channel). Its grey blur is all ones, a sum of nine pixels with gain 9. The seed's module
  names (``BLUR_FILTER``, ``BLUR_FILTER_RGB``, ...) are read-only copies of these.
* ``grey(name)`` and ``per_channel(name)`` use the fixed 2-D kernels in ``BANK``: the blur is
  normalised (gain 1), and the RGB form is diagonal in channels, so red stays red.

``stack`` concatenates filters along the output axis, so one ``conv2d`` computes every map.
Nothing here imports TensorFlow. Try it with ``python -m tf1cnn.kernels.bank``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from tf1cnn.common.errors import UsageError

NAMES = ("blur", "sharpen", "edge", "top_sobel", "emboss")


def _frozen(rows) -> np.ndarray:
    array = np.array(rows, dtype=np.float32)
    array.setflags(write=False)
    return array


_GAUSS = np.outer([1, 2, 1], [1, 2, 1]) / 16.0  # binomial 3x3 blur, sums to 1
_SHARPEN = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]  # identity + 4-neighbour Laplacian, sums to 1
_LAPLACE4 = [[0, -1, 0], [-1, 4, -1], [0, -1, 0]]  # sums to 0
_LAPLACE8 = [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]  # sums to 0
_TOP_SOBEL = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]  # sums to 0; + for bright-top/dark-bottom
_EMBOSS = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]  # sums to 1

#: The fixed 2-D kernels the demo uses by default, in grey and per channel alike.
BANK: dict[str, np.ndarray] = {
    "blur": _frozen(_GAUSS),
    "sharpen": _frozen(_SHARPEN),
    "edge": _frozen(_LAPLACE4),
    "top_sobel": _frozen(_TOP_SOBEL),
    "emboss": _frozen(_EMBOSS),
}

# The tutorial's 2-D weights where they differ from BANK: its grey blur is nine ones, and its
# RGB blur and edge filters use the binomial blur and the 8-neighbour Laplacian.
_SEED_GREY_2D = dict(BANK, blur=_frozen(np.ones((3, 3))))
_SEED_RGB_2D = dict(BANK, edge=_frozen(_LAPLACE8))


def check_name(name: str) -> str:
    """Return ``name`` if the bank has it; raise UsageError listing the known names if not."""
    if name not in BANK:
        raise UsageError(f"unknown kernel {name!r}; choose from {', '.join(NAMES)}")
    return name


def seed_grey(name: str) -> np.ndarray:
    """The tutorial's grey filter ``name`` as float32 [3, 3, 1, 1], exactly its values."""
    return np.array(_SEED_GREY_2D[check_name(name)])[:, :, None, None]


def seed_rgb(name: str) -> np.ndarray:
    """The tutorial's RGB filter ``name`` as float32 [3, 3, 3, 3], exactly its values.

    Every (input, output) channel pair holds the 2-D kernel, so each output channel is the
    kernel applied to the sum of R, G and B; only ``edge`` is diagonal, as in the tutorial.
    """
    weights = _SEED_RGB_2D[check_name(name)]
    if name == "edge":
        return per_channel_of(weights, 3)
    return np.array(np.broadcast_to(weights[:, :, None, None], (3, 3, 3, 3)))


def grey(name: str) -> np.ndarray:
    """The fixed grey filter ``name`` as float32 [3, 3, 1, 1]."""
    return np.array(BANK[check_name(name)])[:, :, None, None]


def per_channel(name: str, channels: int = 3) -> np.ndarray:
    """The fixed filter ``name`` applied to each channel on its own: [3, 3, C, C], diagonal."""
    return per_channel_of(BANK[check_name(name)], channels)


def per_channel_of(weights: np.ndarray, channels: int) -> np.ndarray:
    """A 2-D kernel as a [k, k, C, C] filter whose output channel c sees only input channel c."""
    weights = np.asarray(weights, dtype=np.float32)
    out = np.zeros(weights.shape + (channels, channels), dtype=np.float32)
    for c in range(channels):
        out[:, :, c, c] = weights
    return out


def kernel(name: str, rgb: bool, seed: bool = False) -> np.ndarray:
    """The 4-D filter the demo uses for ``name``: grey or RGB, fixed or the tutorial's."""
    if seed:
        return seed_rgb(name) if rgb else seed_grey(name)
    return per_channel(name) if rgb else grey(name)


def stack(filters: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate 4-D filters along the output axis, for one ``conv2d`` over all of them.

    Output channels keep the order of ``filters``: filter i's maps are channels
    ``sum(out[:i])`` up to ``sum(out[:i + 1])``.
    """
    if not filters:
        raise ValueError("stack needs at least one filter")
    shapes = {tuple(f.shape[:3]) for f in filters}
    if len(shapes) != 1 or any(f.ndim != 4 for f in filters):
        raise ValueError(f"filters must share [height, width, in_channels]; got "
                         f"{[tuple(f.shape) for f in filters]}")
    return np.concatenate([np.asarray(f, dtype=np.float32) for f in filters], axis=3)


def gain(filter_: np.ndarray) -> np.ndarray:
    """Response of each output channel to a constant image of ones: the sum over all taps."""
    return filter_.sum(axis=(0, 1, 2))


# The tutorial's module-level names, as read-only numpy arrays (it made tf.constants at import).
BLUR_FILTER, SHARPEN_FILTER, EDGE_FILTER, TOP_SOBEL, EMBOSS_FILTER = (
    seed_grey(n) for n in NAMES)
BLUR_FILTER_RGB, SHARPEN_FILTER_RGB, EDGE_FILTER_RGB, TOP_SOBEL_RGB, EMBOSS_FILTER_RGB = (
    seed_rgb(n) for n in NAMES)
for _array in (BLUR_FILTER, SHARPEN_FILTER, EDGE_FILTER, TOP_SOBEL, EMBOSS_FILTER,
               BLUR_FILTER_RGB, SHARPEN_FILTER_RGB, EDGE_FILTER_RGB, TOP_SOBEL_RGB,
               EMBOSS_FILTER_RGB):
    _array.setflags(write=False)
del _array


if __name__ == "__main__":
    np.set_printoptions(precision=4, suppress=True)
    for name in NAMES:
        print(f"{name}: fixed 2-D kernel, gain {BANK[name].sum():g}\n{BANK[name]}")
        print(f"  seed grey gain {gain(seed_grey(name))[0]:g}, "
              f"seed RGB gain per output channel {gain(seed_rgb(name))}")
    print("BLUR_FILTER_RGB as the tutorial printed it:\n", BLUR_FILTER_RGB)
