"""The Keras VGG19 .h5 reader, on small files written in the real 2016 layout."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common.errors import ModelFileError
from tf1cnn.style_transfer.network import keras_h5, matconvnet, vgg, vgg_graph


@pytest.fixture(scope="module")
def rgb_layers():
    """Tiny VGG19 whose first kernel has three clearly different input-channel slices."""
    layers = vgg.random_layers(19, width_divisor=16, seed=4)
    first = layers[0].weights.copy()
    for channel in range(3):
        first[:, :, channel, :] = channel + 1.0  # R = 1, G = 2, B = 3
    layers[0] = matconvnet.Layer("conv1_1", "conv", first, layers[0].bias)
    return layers


def test_names_shapes_and_rgb_order(tmp_path, rgb_layers, write_h5):
    path = tmp_path / "vgg19.h5"
    write_h5(path, rgb_layers)
    with h5py.File(path) as f:  # the fixture really is stored BGR
        assert f["block1_conv1"]["block1_conv1_W_1:0"][0, 0, :, 0].tolist() == [3.0, 2.0, 1.0]
    layers = keras_h5.read_layers(path)
    assert [layer.name for layer in layers] == [layer.name for layer in rgb_layers]
    assert [layer.kind for layer in layers] == [layer.kind for layer in rgb_layers]
    assert layers[0].weights[0, 0, :, 0].tolist() == [1.0, 2.0, 3.0]
    for mine, theirs in zip(layers, rgb_layers):
        if mine.kind == "conv":
            assert mine.weights.dtype == np.float32 and mine.weights.flags.c_contiguous
            np.testing.assert_array_equal(mine.weights, theirs.weights)
            np.testing.assert_array_equal(mine.bias, theirs.bias)
    assert "relu4_2" in [layer.name for layer in layers]


def test_classifier_head_is_ignored(tmp_path, rgb_layers, write_h5):
    path = tmp_path / "with-top.h5"
    write_h5(path, rgb_layers, extra=("flatten", "fc1", "fc2", "predictions"))
    assert keras_h5.read_layers(path)[-1].name == "pool5"


def test_same_end_points_as_the_mat_file(tmp_path, rgb_layers, write_h5):
    write_h5(tmp_path / "vgg.h5", rgb_layers)
    matconvnet.write_layers(tmp_path / "vgg.mat", rgb_layers)
    image = np.random.default_rng(0).uniform(-100, 100, (1, 20, 24, 3)).astype(np.float32)
    results = []
    for layers in (keras_h5.read_layers(tmp_path / "vgg.h5"),
                   matconvnet.read_layers(tmp_path / "vgg.mat")):
        with tf.Graph().as_default(), tf.compat.v1.Session() as session:
            results.append(session.run(vgg_graph.VGG(layers)(tf.constant(image))))
    assert results[0].keys() == results[1].keys()
    for name in results[0]:
        np.testing.assert_allclose(results[0][name], results[1][name], rtol=1e-5, atol=1e-4)


def _dense_after_input(f):
    f.create_group("dense_1").attrs["weight_names"] = []
    f.attrs["layer_names"] = [b"input_1", b"dense_1"]


def _rewrite(path, edit):
    with h5py.File(path, "r+") as f:
        edit(f)


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.attrs.__delitem__("layer_names"),
     "expected a 'layer_names' attribute, found backend, keras_version"),
    (lambda f: f["block2_conv1"].attrs.__delitem__("weight_names"),
     "layer block2_conv1: expected a 'weight_names' attribute, found no attributes"),
    (lambda f: f.__delitem__("block1_conv2"),
     "layer block1_conv2: listed in layer_names, but"),
    (lambda f: f["block1_conv2"].__delitem__("block1_conv2_b_1:0"),
     "layer block1_conv2: expected a dataset 'block1_conv2_b_1:0', found block1_conv2_W_1:0"),
    (lambda f: f["block1_conv2"].attrs.__setitem__("weight_names", [b"block1_conv2_W_1:0"]),
     "layer block1_conv2: expected 2 weights (kernel, bias), found 1: block1_conv2_W_1:0"),
    (lambda f: f.attrs.__setitem__("layer_names", [b"input_1", b"block1_conv2"]),
     "layer block1_conv2: expected block1_conv1 next, found block1_conv2"),
    (_dense_after_input,
     "layer dense_1: expected blockB_convI or blockB_pool, found dense_1 with 0 weight(s)"),
    (lambda f: f.attrs.__setitem__("layer_names", [b"input_1"]),
     "expected convolution layers, found none"),
])
def test_odd_layouts_fail_with_one_line(tmp_path, rgb_layers, write_h5, edit, message):
    path = tmp_path / "odd.h5"
    write_h5(path, rgb_layers)
    _rewrite(path, edit)
    with pytest.raises(ModelFileError) as caught:
        keras_h5.read_layers(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_wrong_channels_and_shapes(tmp_path, rgb_layers, write_h5):
    path = tmp_path / "odd.h5"
    write_h5(path, rgb_layers)

    def widen(f):
        del f["block1_conv2"]["block1_conv2_W_1:0"]
        f["block1_conv2"]["block1_conv2_W_1:0"] = np.zeros((3, 3, 5, 4), np.float32)

    _rewrite(path, widen)
    with pytest.raises(ModelFileError, match=r"layer block1_conv2: expected 4 input channels, "
                                             r"found 5 \(filter shape \(3, 3, 5, 4\)\)"):
        keras_h5.read_layers(path)


def test_missing_and_not_hdf5(tmp_path):
    with pytest.raises(ModelFileError, match="VGG file not found"):
        keras_h5.read_layers(tmp_path / "nothing.h5")
    (tmp_path / "text.h5").write_text("not HDF5")
    with pytest.raises(ModelFileError, match="truncated or not an HDF5 file"):
        keras_h5.read_layers(tmp_path / "text.h5")
