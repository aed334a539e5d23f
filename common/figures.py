"""Saving a matplotlib figure as a compact PNG, atomically (the kernels demo, the cluster's eval
and the style runs' pictures all write theirs here)."""
from __future__ import annotations

import io
import os
from collections.abc import Mapping

import numpy as np
from PIL import Image, PngImagePlugin

from . import files


def save_figure(figure, path: str | os.PathLike, dpi: int,
                metadata: Mapping[str, str] | None = None) -> None:
    """Write the matplotlib ``figure`` to ``path`` as PNG, atomically, with ``metadata`` as
    text chunks.

    matplotlib renders RGBA; a figure is opaque, so the PNG keeps RGB, or one grey channel when
    every pixel is grey, which makes it 2-4 times smaller.
    """
    rendered = io.BytesIO()
    figure.savefig(rendered, format="png", dpi=dpi)
    picture = Image.open(rendered).convert("RGB")
    pixels = np.asarray(picture)
    if (pixels == pixels[:, :, :1]).all():
        picture = picture.convert("L")
    info = PngImagePlugin.PngInfo()
    for key, value in (metadata or {}).items():
        info.add_text(key, value)
    with files.atomic_write(path, binary=True) as handle:
        picture.save(handle, format="PNG", optimize=True, pnginfo=info)
