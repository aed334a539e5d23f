"""The pictures people look at after a style run: the loss curves and a contact sheet.

``loss_curve`` draws the total, content, style and total-variation losses (log scale) against
the step and against wall time from the rows of a run's ``losses.csv``; coarse-to-fine levels
are marked where they begin. ``contact_sheet`` lays images side by side at one height:
content | style(s) | result. Both return uint8 RGB arrays; writing them is the caller's
business (``images.write_png``). Matplotlib is used through its object API with the Agg
canvas, so no global backend state is touched.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from tf1cnn.common import images

GAP = 6  # white pixels between the panels of a sheet
CURVES = (("total", "total (weighted)"), ("content", "content"), ("style", "style"),
          ("tv", "total variation"))


def loss_curve(rows: Sequence[dict], title: str = "") -> np.ndarray:
    """Two panels, losses against step and against seconds; rows as ``RunDir.history()``."""
    figure = Figure(figsize=(11, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for axes, x_key, label in zip(figure.subplots(1, 2), ("global_step", "seconds"),
                                  ("step (all levels)", "wall time of the optimisation (s)")):
        x = [row[x_key] for row in rows]
        for key, name in CURVES:
            y = [row[key] for row in rows]
            if any(value > 0 for value in y):
                axes.plot(x, y, label=name, marker="." if len(rows) < 60 else None)
        for previous, row in itertools.pairwise(rows):
            if row["size"] != previous["size"]:
                axes.axvline(row[x_key], color="grey", linestyle=":", linewidth=1)
                axes.annotate(row["size"], (row[x_key], 1), xycoords=("data", "axes fraction"),
                              fontsize=8, color="grey", va="top", rotation=90)
        axes.set_yscale("log")
        axes.set_xlabel(label)
        axes.set_ylabel("loss")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy()


def contact_sheet(pictures: Sequence[np.ndarray], height: int) -> np.ndarray:
    """The pictures (float or uint8 RGB) side by side, each Lanczos-resized to ``height``
    keeping its aspect ratio, with white gaps."""
    panels = []
    for picture in pictures:
        image = Image.fromarray(picture if picture.dtype == np.uint8 else
                                images.to_uint8(picture))
        width = max(1, round(image.width * height / image.height))
        panels.append(np.asarray(image.resize((width, height), Image.Resampling.LANCZOS)))
    gap = np.full((height, GAP, 3), 255, np.uint8)
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    return np.concatenate(row, axis=1)
