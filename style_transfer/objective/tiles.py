"""Where the tiles of a tiled evaluation lie: interiors that cover the image once, and windows.

A tiled evaluation (:mod:`~style_transfer.objective.tiled`) runs the network on one *window* of
the image at a time and keeps, of each layer's features, only the positions of the window's
*interior*. For that to give exactly the untiled network's features:

* interiors start on the pooling grid of the deepest layer used (multiples of its stride S)
  and tile the image without overlap; the last row and column of tiles end at the image edge;
* a window is its interior widened by the halo (``vgg.halo``, a multiple of S) on every side,
  clipped at the image edge and never padded: a zero input pixel is not the zero padding of a
  feature map, and a window that ends at the image edge pools its partial last windows as the
  untiled network does;
* on a layer of stride s, the interior's positions are rows ``top // s`` up to
  ``ceil(bottom / s)``: of the whole image's feature map with the image's coordinates
  (``Tile.at``), and of the window's with the window's (``Tile.interior``, cropped in the
  graph), since the window starts on every layer's grid.

No TensorFlow in here: the geometry is plain integers, tested on its own.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator


@dataclasses.dataclass(frozen=True)
class Tile:
    top: int  # the interior, in image pixels: rows [top, bottom), columns [left, right)
    bottom: int
    left: int
    right: int
    window_top: int  # the window the network sees: rows [window_top, window_bottom), ...
    window_bottom: int
    window_left: int
    window_right: int

    @property
    def window(self) -> tuple[slice, slice]:
        """The window's rows and columns, to index an image [height, width, channels]."""
        return (slice(self.window_top, self.window_bottom),
                slice(self.window_left, self.window_right))

    @property
    def interior(self) -> tuple[int, int, int, int]:
        """The interior within the window: (top, bottom, left, right) in window pixels."""
        return (self.top - self.window_top, self.bottom - self.window_top,
                self.left - self.window_left, self.right - self.window_left)

    def at(self, stride: int) -> tuple[slice, slice]:
        """The interior's positions on a whole-image feature map of this total stride."""
        return (slice(self.top // stride, -(-self.bottom // stride)),
                slice(self.left // stride, -(-self.right // stride)))


def grid(height: int, width: int, size: int, halo: int, stride: int) -> Iterator[Tile]:
    """Tiles of interior ``size`` x ``size`` (a multiple of ``stride``; the last row and column
    of tiles smaller) covering a ``height`` x ``width`` image, row by row, with windows widened
    by ``halo`` (a multiple of ``stride``) and clipped at the image edge."""
    if size <= 0 or size % stride or halo % stride:
        raise ValueError(f"tile size {size} and halo {halo} must be positive multiples of the "
                         f"stride {stride}")
    for top in range(0, height, size):
        bottom = min(height, top + size)
        for left in range(0, width, size):
            right = min(width, left + size)
            yield Tile(top, bottom, left, right, max(0, top - halo), min(height, bottom + halo),
                       max(0, left - halo), min(width, right + halo))


def count(height: int, width: int, size: int) -> int:
    """How many tiles ``grid`` makes."""
    return -(-height // size) * -(-width // size)


def window_size(height: int, width: int, size: int, halo: int) -> tuple[int, int]:
    """The largest window of the grid: an interior tile's, clipped to the image."""
    return min(height, size + 2 * halo), min(width, size + 2 * halo)
