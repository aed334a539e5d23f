"""The bundled sample images (shared: the style tool, the kernels demo and the benchmarks use
them when no image is given).

They live in ``data/`` beside the packages, which installs as ``tf1cnn.data``, so ``sample``
finds them from a clone and from an installed wheel alike::

    python -c "from tf1cnn.common.samples import *; print(sample(SAMPLE_CONTENT))"
"""
from __future__ import annotations

import pathlib

SAMPLE_CONTENT = "grace_hopper.jpg"  # the style tool's content photograph
SAMPLE_STYLE = "style_waves.png"  # its painting-like style pattern
SAMPLE_PHOTO = SAMPLE_CONTENT  # the photograph the kernels demo filters


def sample(name: str) -> str:
    """Path of the bundled sample image ``name``: data/ sits beside this package."""
    return str(pathlib.Path(__file__).resolve().parents[1] / "data" / name)
