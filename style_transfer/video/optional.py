"""The optional extras' imports (shared: the video reader and writer and the optical flow use
it). ``tf1cnn[video]`` adds OpenCV and imageio-ffmpeg; without them, asking for a video is a
usage error that says what to install, not an ImportError from deep inside."""
from __future__ import annotations

import importlib

from tf1cnn.common.errors import UsageError

VIDEO = "pip install 'tf1cnn[video]'"  # what installs both of the video extra's packages


def video_module(name: str):
    """The module ``name`` (``cv2`` or ``imageio_ffmpeg``) of the video extra."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise UsageError(f"video needs {name} ({exc}): {VIDEO}") from None
