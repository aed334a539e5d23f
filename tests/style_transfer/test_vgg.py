"""The VGG trunk as a graph: end points, shapes, orientation of the filters, pooling and cost."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.network import vgg, vgg_graph

STYLE_OUTPUTS = ("relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def run_trunk(layers, image, pooling="avg"):
    with tf.Graph().as_default():
        end_points = vgg_graph.VGG(layers, pooling)(tf.constant(image))
        with tf.compat.v1.Session() as session:
            return session.run(end_points)


def test_end_points_have_the_files_names_and_expected_shapes(tiny_layers):
    layers = vgg.trunk(tiny_layers, STYLE_OUTPUTS)
    assert layers[-1].name == "relu5_1"
    image = np.random.default_rng(0).uniform(-100, 100, (1, 23, 30, 3)).astype(np.float32)
    found = run_trunk(layers, image)
    assert list(found) == [layer.name for layer in layers]
    expected = vgg.shapes(layers, 23, 30)
    assert {name: value.shape[1:] for name, value in found.items()} == expected
    assert expected["relu1_1"] == (23, 30, 4)
    assert expected["pool1"] == (12, 15, 4)  # SAME pooling rounds up
    assert expected["relu5_1"] == (2, 2, 32)
    assert (found["relu3_1"] >= 0).all() and (found["conv3_1"] < 0).any()


def test_first_convolution_equals_scipy_correlation(tiny_layers):
    """conv2d is cross-correlation over [height, width, in, out] filters with zero padding."""
    layers = vgg.trunk(tiny_layers, ["conv1_1"])
    image = np.random.default_rng(1).uniform(-1, 1, (1, 9, 11, 3)).astype(np.float32)
    found = run_trunk(layers, image)["conv1_1"][0]
    kernel, bias = layers[0].weights, layers[0].bias
    for out in range(kernel.shape[3]):
        expected = sum(scipy.ndimage.correlate(image[0, :, :, c], kernel[:, :, c, out],
                                               mode="constant") for c in range(3)) + bias[out]
        np.testing.assert_allclose(found[:, :, out], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pooling, reduce", [("avg", np.mean), ("max", np.max)])
def test_pooling_choice(tiny_layers, pooling, reduce):
    layers = vgg.trunk(tiny_layers, ["pool1"])
    image = np.random.default_rng(2).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
    found = run_trunk(layers, image, pooling)
    relu = found["relu1_2"][0]
    expected = reduce(relu.reshape(4, 2, 4, 2, -1), axis=(1, 3))
    np.testing.assert_allclose(found["pool1"][0], expected, rtol=1e-5, atol=1e-6)


def test_trunk_rejects_unknown_layers_and_lists_the_known_ones(tiny_layers):
    with pytest.raises(UsageError, match=r"unknown layer name\(s\) conv9_9; this network has "
                                         r"conv1_1, relu1_1"):
        vgg.trunk(tiny_layers, ["relu1_1", "conv9_9"])


def test_flops_of_full_vgg19_trunk_match_a_hand_count():
    layers = vgg.trunk(vgg.random_layers(19), STYLE_OUTPUTS)
    # (side, in, out, count) of conv1_1 ... conv5_1 at 224x224
    table = [(224, 3, 64, 1), (224, 64, 64, 1), (112, 64, 128, 1), (112, 128, 128, 1),
             (56, 128, 256, 1), (56, 256, 256, 3), (28, 256, 512, 1), (28, 512, 512, 3),
             (14, 512, 512, 1)]
    macs = sum(side * side * 9 * cin * cout * count for side, cin, cout, count in table)
    assert macs == pytest.approx(18.12e9, rel=1e-3)
    assert vgg.flops(layers, 224, 224, backward=False) == 2 * macs
    assert vgg.flops(layers, 224, 224) == 4 * macs


def test_random_layers_are_he_scaled():
    layers = vgg.random_layers(16)
    conv = [l for l in layers if l.kind == "conv"]  # conv[5] is conv3_2: 256 inputs
    assert [l.weights.shape[3] for l in conv] == [64] * 2 + [128] * 2 + [256] * 3 + [512] * 6
    assert conv[5].weights.std() == pytest.approx(np.sqrt(2 / (9 * 256)), rel=0.02)


def test_receptive_radius_counts_convolutions_at_their_stride_and_the_footprint():
    layers = vgg.random_layers(19, width_divisor=16)
    assert vgg.receptive_radius(layers, "conv1_1") == 1
    assert vgg.receptive_radius(layers, "pool1") == 2 + 1
    assert vgg.receptive_radius(layers, "relu5_1") == 70 + 15
    assert vgg.receptive_radius(vgg.random_layers(16, 16), "relu5_1") == 2 + 4 + 12 + 24 + 16 + 15
    with pytest.raises(UsageError, match="unknown layer name conv9_9"):
        vgg.receptive_radius(layers, "conv9_9")


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_local_weights_give_the_constants_results_and_keep_the_graph_small(tiny_layers,
                                                                          precision):
    """VGG(local=True) holds the weights in local variables set from placeholders: the same
    end points, nothing for a Saver of the global variables, and no weights in the GraphDef."""
    layers = vgg.trunk(tiny_layers, STYLE_OUTPUTS)
    image = np.random.default_rng(4).uniform(-100, 100, (1, 20, 24, 3)).astype(np.float32)
    with tf.Graph().as_default():
        expected = tf.compat.v1.Session().run(
            vgg_graph.VGG(layers, precision=precision)(tf.constant(image)))
    with tf.Graph().as_default() as graph:
        network = vgg_graph.VGG(layers, precision=precision, local=True)
        end_points = network(tf.constant(image))
        assert not tf.compat.v1.global_variables()
        assert len(tf.compat.v1.local_variables()) == len(network.feed)
        assert graph.as_graph_def().ByteSize() < vgg.weight_bytes(layers) / 4
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.local_variables_initializer(), network.feed)
            found = session.run(end_points)
    # In bfloat16 a graph of constants runs other kernels than one of variables: values round
    # otherwise and the differences add up along the trunk, so compare each layer as a whole
    # (at most 0.0071 of its norm was measured on this network).
    for name in expected:
        if precision == "float32":
            np.testing.assert_array_equal(found[name], expected[name], err_msg=name)
        else:
            error = np.linalg.norm(found[name] - expected[name])
            assert error <= 0.02 * np.linalg.norm(expected[name]), name
