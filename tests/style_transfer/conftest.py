"""Fixtures for the style-transfer tests: tiny random-weight VGG files and image inputs made
from the shared ``synthetic_image`` (tests/conftest.py)."""
from __future__ import annotations

import os
import select
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import imageio.v3 as iio  # noqa: E402
import pytest  # noqa: E402

from tf1cnn.common import images  # noqa: E402
from tf1cnn.style_transfer.config import StyleConfig  # noqa: E402
from tf1cnn.style_transfer.network import matconvnet, vgg  # noqa: E402

HEIGHT, WIDTH = 24, 32  # small enough for a whole run in about a second


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory):
    """Every run of these tests, in process or in a subprocess, caches weights in a folder of
    its own, never in the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("TF1CNN_CACHE")
    os.environ["TF1CNN_CACHE"] = str(folder)
    yield folder
    if previous is None:
        del os.environ["TF1CNN_CACHE"]
    else:
        os.environ["TF1CNN_CACHE"] = previous


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


def write_keras_h5(path, layers, extra=()) -> None:
    """Write RGB MatConvNet-named layers as Keras 1 saved VGG19 in 2016: root ``layer_names``,
    one group per layer with ``weight_names``, flat ``blockB_convI_W_1:0`` names, HWIO kernels,
    pooling layers, no ReLU layers, and the first kernel's input channels in BGR order."""
    import h5py

    names, first = [b"input_1"], True
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"1.1.0"
        f.create_group("input_1").attrs["weight_names"] = []
        for layer in layers:
            if layer.kind == "relu":
                continue
            block, _, index = layer.name[4:].partition("_")
            name = f"block{block}_conv{index}" if layer.kind == "conv" else f"block{block}_pool"
            group = f.create_group(name)
            names.append(name.encode())
            if layer.kind == "pool":
                group.attrs["weight_names"] = []
                continue
            kernel = layer.weights[:, :, ::-1, :] if first else layer.weights
            first = False
            weight_names = [f"{name}_W_1:0".encode(), f"{name}_b_1:0".encode()]
            group.attrs["weight_names"] = weight_names
            group.create_dataset(weight_names[0].decode(), data=kernel)
            group.create_dataset(weight_names[1].decode(), data=layer.bias)
        for name in extra:  # e.g. a classifier head: groups listed after the trunk
            f.create_group(name).attrs["weight_names"] = []
            names.append(name.encode())
        f.attrs["layer_names"] = names


@pytest.fixture
def write_h5():
    """The writer above, as a fixture: ``write_h5(path, layers, extra=())``."""
    return write_keras_h5


@pytest.fixture
def read_until():
    """``read_until(process, prefix, seconds=120)``: read a subprocess's stdout until a line
    starts with ``prefix``, bounded in time; that line, or "" when none came."""
    def read(process, prefix: str, seconds: float = 120) -> str:
        deadline, line = time.monotonic() + seconds, ""
        while not line.startswith(prefix) and time.monotonic() < deadline:
            if select.select([process.stdout], [], [], 1.0)[0]:
                line = process.stdout.readline()
        return line if line.startswith(prefix) else ""
    return read
