"""Reading and writing MatConvNet files: both layouts, VGG16 and VGG19, and every error path."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from tf1cnn.common.errors import ModelFileError
from tf1cnn.style_transfer.network import matconvnet, vgg
from tf1cnn.style_transfer.network.matconvnet import Layer


@pytest.mark.parametrize("layout", ["old", "new"])
@pytest.mark.parametrize("depth", [16, 19])
def test_round_trip_keeps_every_layer(tmp_path, layout, depth):
    layers = vgg.random_layers(depth, width_divisor=16, seed=depth)
    path = tmp_path / "net.mat"
    matconvnet.write_layers(path, layers, layout)
    found = matconvnet.read_layers(path)
    assert [(l.name, l.kind) for l in found] == [(l.name, l.kind) for l in layers]
    assert sum(l.kind == "conv" for l in found) == depth - 3
    for mine, theirs in zip(layers, found):
        if mine.kind == "conv":
            np.testing.assert_array_equal(mine.weights, theirs.weights)
            np.testing.assert_array_equal(mine.bias, theirs.bias)
    keys = set(scipy.io.loadmat(path))
    assert ({"classes", "normalization"} <= keys) if layout == "old" else ("meta" in keys)


def _raw_file(path, records, **extra):
    cells = np.empty((1, len(records)), dtype=object)
    for i, record in enumerate(records):
        cells[0, i] = record
    scipy.io.savemat(path, {"layers": cells, **extra})


def _conv(name, kernel, bias):
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = kernel, bias
    return {"name": name, "type": "conv", "weights": cell}


def test_filters_are_transposed_from_width_height_to_height_width(tmp_path):
    stored = np.arange(3 * 5 * 3 * 2, dtype=np.float32).reshape(3, 5, 3, 2)  # [W, H, in, out]
    _raw_file(tmp_path / "t.mat", [_conv("conv1_1", stored, np.zeros((1, 2), np.float32))])
    (layer,) = matconvnet.read_layers(tmp_path / "t.mat")
    assert layer.weights.shape == (5, 3, 3, 2)
    np.testing.assert_array_equal(layer.weights[4, 2], stored[2, 4])


def test_oldest_layout_with_filters_and_biases_fields(tmp_path):
    kernel = np.ones((3, 3, 3, 4), np.float32)
    record = {"name": "conv1_1", "type": "conv", "filters": kernel,
              "biases": np.arange(4, dtype=np.float32).reshape(1, 4)}
    _raw_file(tmp_path / "t.mat", [record, {"name": "relu1_1", "type": "relu"}])
    layers = matconvnet.read_layers(tmp_path / "t.mat")
    assert [l.name for l in layers] == ["conv1_1", "relu1_1"]
    np.testing.assert_array_equal(layers[0].bias, [0, 1, 2, 3])


def test_matlab_squeezed_single_channel_filters_are_restored(tmp_path):
    grey = np.ones((3, 3), np.float32)  # MATLAB drops the trailing 1x1 of a 3x3x1x1 filter
    records = [_conv("conv1_1", np.ones((3, 3, 3, 1), np.float32), np.zeros((1, 1), np.float32)),
               _conv("conv1_2", grey, np.zeros((1, 1), np.float32))]
    _raw_file(tmp_path / "t.mat", records)
    assert matconvnet.read_layers(tmp_path / "t.mat")[1].weights.shape == (3, 3, 1, 1)


def test_fully_connected_head_is_dropped(tmp_path):
    layers = vgg.random_layers(16, width_divisor=32)
    head = [("fc6", np.zeros((7, 7, 16, 8), np.float32), np.zeros(8, np.float32)),
            ("fc7", np.zeros((1, 1, 8, 8), np.float32), np.zeros(8, np.float32))]
    matconvnet.write_layers(tmp_path / "t.mat", layers, head=head)
    found = matconvnet.read_layers(tmp_path / "t.mat")
    assert found[-1].name == "pool5" and not any(l.name.startswith("fc") for l in found)


def test_wrong_input_channels_name_layer_expected_and_found(tmp_path):
    layers = vgg.random_layers(19, width_divisor=16)
    broken = list(layers)
    index = [l.name for l in layers].index("conv2_1")
    bad = np.zeros((3, 3, 5, 8), np.float32)
    broken[index] = Layer("conv2_1", "conv", bad, np.zeros(8, np.float32))
    matconvnet.write_layers(tmp_path / "t.mat", broken)
    with pytest.raises(ModelFileError, match=r"layer conv2_1: expected 4 input channels, found 5"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_bias_count_mismatch(tmp_path):
    kernel = np.ones((3, 3, 3, 4), np.float32)
    _raw_file(tmp_path / "t.mat", [_conv("conv1_1", kernel, np.zeros((1, 3), np.float32))])
    with pytest.raises(ModelFileError, match=r"layer conv1_1: expected 4 biases, found 3"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_non_finite_weights(tmp_path):
    kernel = np.ones((3, 3, 3, 4), np.float32)
    kernel[0, 0, 0, 0] = np.nan
    _raw_file(tmp_path / "t.mat", [_conv("conv1_1", kernel, np.zeros((1, 4), np.float32))])
    with pytest.raises(ModelFileError, match=r"layer conv1_1: expected finite weights"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_conv_without_weights(tmp_path):
    _raw_file(tmp_path / "t.mat", [{"name": "conv1_1", "type": "conv", "size": 3}])
    with pytest.raises(ModelFileError, match=r"layer conv1_1: expected a 'weights' field"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_weights_cell_of_wrong_length(tmp_path):
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = np.ones((3, 3, 3, 4), np.float32)
    _raw_file(tmp_path / "t.mat", [{"name": "conv1_1", "type": "conv", "weights": cell}])
    with pytest.raises(ModelFileError, match=r"layer conv1_1: expected weights .* found 1"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_layer_without_a_name(tmp_path):
    _raw_file(tmp_path / "t.mat", [{"type": "relu"}])
    with pytest.raises(ModelFileError, match=r"layer #1: expected a 'name' field, found type"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_file_without_layers(tmp_path):
    scipy.io.savemat(tmp_path / "t.mat", {"net": np.zeros(3)})
    with pytest.raises(ModelFileError, match=r"expected a MatConvNet model .* found keys: net"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_file_without_convolutions(tmp_path):
    _raw_file(tmp_path / "t.mat", [{"name": "relu1_1", "type": "relu"}])
    with pytest.raises(ModelFileError, match=r"expected convolution layers, found none"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_truncated_file(tmp_path, tiny_vgg):
    data = open(tiny_vgg, "rb").read()
    (tmp_path / "t.mat").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"cannot read VGG file .*t\.mat: truncated"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_not_a_mat_file(tmp_path):
    (tmp_path / "t.mat").write_text("<html>404 Not Found</html>")
    with pytest.raises(ModelFileError, match=r"cannot read VGG file"):
        matconvnet.read_layers(tmp_path / "t.mat")


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=r"VGG file not found: .*nope\.mat"):
        matconvnet.read_layers(tmp_path / "nope.mat")
