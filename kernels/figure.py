"""The demo's picture: the input and each feature map in one matplotlib gridspec figure.

Every panel is drawn on the same fixed scale, 0 black and 1 white, with values outside [0, 1]
clipped (matplotlib clips RGB floats that way anyway; grey maps get vmin=0, vmax=1 instead of
the tutorial's per-map stretch). So a blur with gain 9 shows as white, and negative responses
(the dark side of an edge) as black. Each title gives the map's true value range.

``draw`` fills any matplotlib Figure: a bare ``matplotlib.figure.Figure`` renders headless
through Agg for ``common.figures.save_figure``; the CLI passes a pyplot figure for
``--show``. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

PANEL_INCHES = 2.2  # width of one panel: 220 pixels at the default 100 dpi
TITLE_INCHES = 0.35  # height of a two-line title
COLUMNS = 3


def panels(image: np.ndarray, maps: Mapping[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """(title, pixels) for the input and then each map, titles naming size and value range."""
    def describe(pixels):
        return (f"{pixels.shape[1]}x{pixels.shape[0]}, "
                f"values {pixels.min():.3g} to {pixels.max():.3g}")
    out = [(f"input ({'rgb' if image.shape[2] == 3 else 'grey'})\n{describe(image)}", image)]
    out += [(f"{name}\n{describe(pixels)}", pixels) for name, pixels in maps.items()]
    return out


def draw(figure, tiles: Sequence[tuple[str, np.ndarray]], columns: int = COLUMNS):
    """Lay ``tiles`` out on a gridspec of ``columns`` columns, row by row; return ``figure``.

    The panels take the aspect ratio of the first tile (the input); constrained layout keeps
    the titles clear of each other.
    """
    columns = max(1, min(columns, len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    height, width = tiles[0][1].shape[:2]
    figure.set_layout_engine("constrained")
    figure.set_size_inches(PANEL_INCHES * columns,
                           rows * (PANEL_INCHES * height / width + TITLE_INCHES))
    grid = figure.add_gridspec(rows, columns)
    for index, (title, pixels) in enumerate(tiles):
        axes = figure.add_subplot(grid[index // columns, index % columns])
        if pixels.shape[2] == 1:
            axes.imshow(pixels[:, :, 0], cmap="gray", vmin=0.0, vmax=1.0)
        else:
            axes.imshow(np.clip(pixels, 0.0, 1.0))
        axes.set_title(title, fontsize=8)
        axes.axis("off")
    return figure


def new_figure() -> Figure:
    """A figure that belongs to no GUI: drawing and saving it works headless."""
    return Figure()
