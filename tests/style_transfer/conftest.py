"""Fixtures for the style-transfer tests: tiny random-weight VGG files and image inputs made
from the shared ``synthetic_image`` (tests/conftest.py)."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import imageio.v3 as iio  # noqa: E402
import pytest  # noqa: E402

from tf1cnn.style_transfer import images, matconvnet, vgg  # noqa: E402
from tf1cnn.style_transfer.config import StyleConfig  # noqa: E402

HEIGHT, WIDTH = 24, 32  # small enough for a whole run in about a second


@pytest.fixture(scope="session")
def tiny_layers():
    """VGG19-shaped layers with 1/16 of the channels (4 to 32) and random weights."""
    return vgg.random_layers(19, width_divisor=16, seed=0)


@pytest.fixture(scope="session")
def tiny_vgg(tmp_path_factory, tiny_layers) -> str:
    path = tmp_path_factory.mktemp("vgg") / "tiny-vgg19.mat"
    matconvnet.write_layers(path, tiny_layers)
    return str(path)


@pytest.fixture
def image_files(tmp_path, synthetic_image):
    """(content, style) PNG paths in their own folder."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    content, style = folder / "content.png", folder / "style.png"
    iio.imwrite(content, synthetic_image(1))
    iio.imwrite(style, synthetic_image(2))
    return str(content), str(style)


@pytest.fixture
def tiny_config() -> StyleConfig:
    return StyleConfig(height=HEIGHT, width=WIDTH, iterations=30, seed=3, checkpoint_every=5)


@pytest.fixture
def pictures(synthetic_image):
    """(content, style) as fitted float RGB arrays of the tiny config's size."""
    return tuple(images.fit(images.to_rgb(synthetic_image(seed)), HEIGHT, WIDTH)
                 for seed in (1, 2))
