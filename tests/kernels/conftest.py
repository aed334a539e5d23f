"""Fixtures for the kernel tests: a reusable TF1 conv2d runner and a small photo file made from
the shared ``synthetic_image`` (tests/conftest.py)."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import imageio.v3 as iio  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tf_conv():
    """``run(image [H, W, C], filter [3, 3, C, O], stride, padding) -> [h, w, O]`` through
    ``convolve.conv`` in graph mode. One graph and Session per (C, O, stride, padding), with the
    image and the filter fed through placeholders, so many cases cost one Session each."""
    import tensorflow as tf

    from tf1cnn.common import runtime
    from tf1cnn.kernels import convolve

    cache = {}

    def run(image, filter_, stride, padding):
        key = (image.shape[2], filter_.shape[3], stride, padding)
        if key not in cache:
            graph = tf.Graph()
            with graph.as_default():
                images = tf.compat.v1.placeholder(tf.float32, [1, None, None, key[0]])
                weights = tf.compat.v1.placeholder(tf.float32, [3, 3, key[0], key[1]])
                out = convolve.conv(images, weights, stride, padding)
            cache[key] = (tf.compat.v1.Session(graph=graph, config=runtime.session_config()),
                          images, weights, out)
        session, images, weights, out = cache[key]
        return session.run(out, {images: image[None], weights: filter_})[0]

    yield run
    for session, *_ in cache.values():
        session.close()


@pytest.fixture
def photo_file(tmp_path, synthetic_image):
    """A small RGB PNG in its own folder."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    path = folder / "photo.png"
    iio.imwrite(path, synthetic_image(0, height=30, width=24))
    return path
