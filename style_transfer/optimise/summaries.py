"""TensorBoard summaries of a style run: the losses and a picture of the image at logged steps.

One way for both optimisers: the values come from the records the engine already fetched, so
writing them costs no extra ``session.run``. The picture is shrunk to at most ``PICTURE_SIDE``
pixels on its long side (the 2019 tutorial's users watched the image form in TensorBoard), and
stored PNG-encoded, as ``tf.summary.image`` would.

    tensorboard --logdir style_output/summaries
"""
from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import tensorflow as tf
from PIL import Image

from tf1cnn.common import images

PICTURE_SIDE = 512


def picture(image: np.ndarray, side: int = PICTURE_SIDE) -> tf.compat.v1.Summary.Image:
    """The float RGB ``image`` as a PNG summary, at most ``side`` pixels on its long side."""
    height, width = image.shape[:2]
    shrink = min(1.0, side / max(height, width))
    pixels = Image.fromarray(images.to_uint8(image))
    if shrink < 1.0:
        pixels = pixels.resize((max(1, round(width * shrink)), max(1, round(height * shrink))),
                               Image.Resampling.LANCZOS)
    encoded = io.BytesIO()
    pixels.save(encoded, format="PNG")
    return tf.compat.v1.Summary.Image(height=pixels.height, width=pixels.width, colorspace=3,
                                      encoded_image_string=encoded.getvalue())


class SummaryWriter:
    """An event file in ``folder``, opened on first use so that a failed resume writes none."""

    def __init__(self, folder: str):
        self.folder = folder
        self._writer = None

    def write(self, step: int, losses: Mapping[str, float], image: np.ndarray) -> None:
        if self._writer is None:
            with tf.Graph().as_default():  # FileWriter refuses to open in eager mode
                self._writer = tf.compat.v1.summary.FileWriter(self.folder)
        values = [tf.compat.v1.Summary.Value(tag=f"losses/{name}", simple_value=value)
                  for name, value in losses.items()]
        values.append(tf.compat.v1.Summary.Value(tag="image", image=picture(image)))
        self._writer.add_summary(tf.compat.v1.Summary(value=values), step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
