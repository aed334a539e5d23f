"""TF1 conv2d against the scipy reference: every kernel, grey and RGB, strides, odd/even sizes."""
from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common import runtime
from tf1cnn.kernels import bank, convolve, reference

# Sizes where SAME padding is symmetric, absent and asymmetric (the odd zero at the bottom or
# the right): e.g. at stride 3, 8 pads (0, 1), 9 pads nothing, 10 pads (1, 1), 14 pads (0, 1).
SIZES = ((8, 11), (9, 10), (13, 14))


def all_filters(rgb: bool):
    for name in bank.NAMES:
        for seed in (False, True):
            yield name, seed, bank.kernel(name, rgb, seed)


@pytest.mark.parametrize("padding", reference.PADDINGS)
@pytest.mark.parametrize("stride", (1, 2, 3))
@pytest.mark.parametrize("rgb", (False, True), ids=("grey", "rgb"))
def test_conv_equals_scipy_correlate_with_tensorflows_padding(tf_conv, rgb, stride, padding):
    rng = np.random.default_rng(stride)
    for height, width in SIZES:
        image = rng.random((height, width, 3 if rgb else 1), dtype=np.float32)
        for name, seed, filter_ in all_filters(rgb):
            got = tf_conv(image, filter_, stride, padding)
            want = reference.conv2d(image, filter_, stride, padding)
            assert got.shape == want.shape, (name, seed, height, width)
            np.testing.assert_allclose(got, want, atol=1e-5, rtol=0,
                                       err_msg=f"{name} seed={seed} {height}x{width}")


@pytest.mark.parametrize("n, stride, expected", [
    (8, 3, (0, 1)), (9, 3, (0, 0)), (10, 3, (1, 1)), (14, 3, (0, 1)), (7, 1, (1, 1)),
    (8, 2, (0, 1)), (2, 3, (0, 1)), (1, 3, (1, 1))])
def test_same_padding_puts_the_odd_zero_after(n, stride, expected):
    assert reference.pads(n, 3, stride, "SAME") == expected
    total = max((math.ceil(n / stride) - 1) * stride + 3 - n, 0)
    assert sum(expected) == total


def test_an_impulse_lands_where_tensorflow_samples(tf_conv):
    """At stride 3 on 8 rows TF pads (0, 1): output row 0 sees input rows 0-2, so an impulse
    in row 0 reaches the top-row tap of the kernel, not the centre."""
    image = np.zeros((8, 8, 1), np.float32)
    image[0, 0] = 1.0
    probe = np.arange(1, 10, dtype=np.float32).reshape(3, 3, 1, 1)
    got = tf_conv(image, probe, 3, "SAME")
    assert got[0, 0, 0] == 1.0  # tap (0, 0): the window starts at the image corner
    np.testing.assert_allclose(got, reference.conv2d(image, probe, 3, "SAME"))


def test_top_sobel_is_positive_on_a_bright_top_dark_bottom_edge(tf_conv):
    """conv2d correlates (no flip): the +1 +2 +1 row weighs the pixels above."""
    image = np.zeros((6, 5, 1), np.float32)
    image[:3] = 1.0
    got = tf_conv(image, bank.grey("top_sobel"), 1, "VALID")[:, :, 0]
    # Output row r sees input rows r..r+2: rows 1 and 2 straddle the edge.
    np.testing.assert_array_equal(got, [[0] * 3, [4] * 3, [4] * 3, [0] * 3])
    assert tf_conv(image[::-1].copy(), bank.grey("top_sobel"), 1, "VALID").max() == 0.0


def run_graph(pixels, **kwargs):
    with tf.Graph().as_default() as graph:
        image = tf.compat.v1.placeholder(tf.float32, [None, None, 3])
        seen, maps = convolve.build_maps(image, bank.NAMES, **kwargs)
        with tf.compat.v1.Session(config=runtime.session_config()) as session:
            values = session.run((seen, maps), {image: pixels})
    return graph, values


@pytest.mark.parametrize("rgb", (False, True), ids=("grey", "rgb"))
@pytest.mark.parametrize("seed", (False, True), ids=("fixed", "seed"))
def test_one_stacked_conv2d_gives_every_map(rgb, seed):
    pixels = np.random.default_rng(1).random((11, 13, 3), dtype=np.float32)
    graph, (seen, maps) = run_graph(pixels, rgb=rgb, seed=seed, stride=3, padding="SAME")
    assert [op.type for op in graph.get_operations()].count("Conv2D") == 1
    grey = pixels @ np.array([0.2989, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(seen, pixels if rgb else grey[:, :, None], atol=1e-6)
    assert list(maps) == list(bank.NAMES)
    for name, values in maps.items():
        want = reference.conv2d(seen, bank.kernel(name, rgb, seed), 3, "SAME")
        if name == "edge":
            want = np.clip(want, 0.0, 255.0 if seed else 1.0)
        np.testing.assert_allclose(values, want, atol=1e-5, err_msg=name)


def test_edge_clip_bites_on_unit_data_only_in_the_fixed_form():
    pixels = np.zeros((9, 9, 3), np.float32)
    pixels[4, 4] = 255 / 256  # a bright dot: the Laplacian gives 4 x 0.996 at its centre
    fixed = convolve.feature_maps(pixels, ("edge",), stride=1).maps["edge"]
    seed = convolve.feature_maps(pixels, ("edge",), seed=True, stride=1).maps["edge"]
    assert fixed.max() == 1.0 and fixed.min() == 0.0
    # 4 x the grey dot (the luma weights sum to 0.9999): far below the tutorial's 255.
    np.testing.assert_allclose(seed.max(), 4 * 255 / 256, rtol=1e-3)
    assert seed.min() == 0.0


def test_red_stays_red_per_channel_and_goes_grey_with_the_seed_filter():
    from tf1cnn.kernels.faults import test_card

    card = test_card(24, 24)
    fixed = convolve.feature_maps(card, ("blur",), rgb=True, stride=1).maps["blur"]
    seed = convolve.feature_maps(card, ("blur",), rgb=True, seed=True, stride=1).maps["blur"]
    red = card[:, :, 0] > 0
    assert red.any()
    np.testing.assert_allclose(fixed[red][:, 1:], 0.0, atol=1e-6)  # no green or blue appears
    np.testing.assert_allclose(seed[:, :, 0], seed[:, :, 1], atol=1e-6)  # R = G = B
    np.testing.assert_allclose(seed[:, :, 1], seed[:, :, 2], atol=1e-6)
