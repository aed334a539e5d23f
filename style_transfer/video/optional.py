"""The optional extras' imports (shared: the video reader and writer and the optical flow use
it). The ``video`` extra adds OpenCV and imageio-ffmpeg; without them, asking for a video is a
usage error that says what to install, not an ImportError from deep inside."""
from __future__ import annotations

import importlib

from tf1cnn.common.errors import UsageError

# The package is installed from a clone, not from an index, so the extra is named by path; the
# packages' own names work from anywhere.
VIDEO = ("pip install '.[video]' in the clone of tf1cnn, "
         "or pip install imageio-ffmpeg opencv-python-headless")


def video_module(name: str):
    """The module ``name`` (``cv2`` or ``imageio_ffmpeg``) of the video extra."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise UsageError(f"video needs {name} ({exc}): {VIDEO}") from None
