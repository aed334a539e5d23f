"""The feed-forward style network: its pieces against numpy, any input size, its variables and
their count, and a checkpoint round trip."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common import runtime
from tf1cnn.style_transfer.network import transform

v1 = tf.compat.v1
WIDTH = 0.125  # channels (4, 8, 16): a whole forward pass in milliseconds


def set_variables(session, rng) -> dict[str, np.ndarray]:
    """Every global variable set to random values (scales near 1); the values by name."""
    values = {}
    for variable in v1.global_variables():
        shape = variable.shape.as_list()
        if variable.name.endswith("scale:0"):
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        values[variable.name] = value
        session.run(variable.assign(value.astype(np.float32)))
    return values


def numpy_instance_norm(x, scale, offset, epsilon=1e-5):
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * scale + offset


def numpy_conv(x, kernel):
    """Stride-1 cross-correlation after reflection padding of k // 2, as the network's."""
    pad = kernel.shape[0] // 2
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel)


def test_instance_norm_equals_numpy():
    rng = np.random.default_rng(0)
    x = (rng.normal(0, 3, (3, 5, 7, 4)) + rng.normal(0, 10, (3, 1, 1, 4))).astype(np.float32)
    with tf.Graph().as_default() as graph:
        y = transform.instance_norm(tf.constant(x), "norm")
        with runtime.new_session(graph) as session:
            values = set_variables(session, rng)
            found = session.run(y)
    assert sorted(values) == ["norm/offset:0", "norm/scale:0"]
    expected = numpy_instance_norm(x.astype(np.float64), values["norm/scale:0"],
                                   values["norm/offset:0"])
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-4)


def test_residual_block_equals_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (2, 6, 7, 4)).astype(np.float32)
    with tf.Graph().as_default() as graph:
        y = transform.residual_block(tf.constant(x), "block")
        with runtime.new_session(graph) as session:
            w = set_variables(session, rng)
            found = session.run(y)
    assert sorted(w) == [f"block/{name}:0" for name in (
        "conv_a/kernel", "conv_b/kernel", "norm_a/offset", "norm_a/scale", "norm_b/offset",
        "norm_b/scale")]
    h = numpy_conv(x.astype(np.float64), w["block/conv_a/kernel:0"])
    h = np.maximum(numpy_instance_norm(h, w["block/norm_a/scale:0"],
                                       w["block/norm_a/offset:0"]), 0)
    h = numpy_instance_norm(numpy_conv(h, w["block/conv_b/kernel:0"]),
                            w["block/norm_b/scale:0"], w["block/norm_b/offset:0"])
    expected = x + h
    assert (expected < 0).any()  # no ReLU after the sum
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-4)


def test_any_size_comes_back_the_same_size_in_pixel_range():
    sizes = [(1, 1, 1), (1, 3, 5), (1, 17, 31), (2, 64, 64)]
    rng = np.random.default_rng(2)
    with tf.Graph().as_default() as graph:
        v1.set_random_seed(0)
        images = v1.placeholder(tf.float32, [None, None, None, 3])
        out = transform.stylise(images, WIDTH)
        fixed = transform.stylise(tf.zeros([1, 3, 5, 3]), WIDTH)
        assert out.shape.as_list() == [None, None, None, 3]
        assert fixed.shape.as_list() == [1, 3, 5, 3]
        with runtime.new_session(graph) as session:
            session.run(v1.global_variables_initializer())
            for size in sizes:
                picture = rng.uniform(0, 255, (*size, 3)).astype(np.float32)
                found = session.run(out, {images: picture})
                assert found.shape == picture.shape
                assert found.dtype == np.float32
                assert np.isfinite(found).all()
                assert found.min() >= 0 and found.max() <= 255
            assert session.run(fixed).shape == (1, 3, 5, 3)


@pytest.mark.parametrize("rows, cols", [(1, 1), (3, 5), (6, 9), (17, 31), (64, 64)])
def test_padding_reflects_then_repeats_the_edge_and_keeps_the_picture(rows, cols):
    """Sides become max(8, a multiple of 4) with the picture at (top, left), where the crop
    takes it back; reflection as np.pad's where the side has the pixels, the edge beyond."""
    picture = np.arange(rows * cols * 3, dtype=np.float32).reshape(1, rows, cols, 3)
    with tf.Graph().as_default() as graph:
        padded, corner = transform._pad_to_fit(v1.placeholder_with_default(
            picture, [None, None, None, 3]))
        with runtime.new_session(graph) as session:
            found, (top, left) = session.run([padded, corner])
    side = [max(8, -(-n // 4) * 4) for n in (rows, cols)]
    assert found.shape == (1, *side, 3)
    assert (top, left) == ((side[0] - rows) // 2, (side[1] - cols) // 2)
    np.testing.assert_array_equal(found[:, top:top + rows, left:left + cols], picture)
    pads = [(top, side[0] - rows - top), (left, side[1] - cols - left)]
    if all(max(pad) < n for pad, n in zip(pads, (rows, cols))):
        expected = np.pad(picture, ((0, 0), *pads, (0, 0)), mode="reflect")
        np.testing.assert_array_equal(found, expected)
    else:  # past one reflection every value is still one of the picture's own
        assert set(found.ravel()) <= set(picture.ravel())


@pytest.mark.parametrize("width", [WIDTH, 0.5])
def test_parameter_count_equals_the_variables(width):
    with tf.Graph().as_default():
        transform.stylise(v1.placeholder(tf.float32, [None, None, None, 3]), width)
        found = sum(variable.shape.num_elements() for variable in v1.global_variables())
    assert transform.parameter_count(width) == found


def test_parameter_count_by_hand_and_widths():
    assert transform.channels(1.0) == transform.CHANNELS
    assert transform.channels(0.5) == (16, 32, 64)
    assert transform.channels(0.001) == (1, 1, 1)
    # conv1, conv2, conv3, 5 blocks of two 3x3 convs, up1, up2 (each with IN), output + bias
    by_hand = (81 * 3 * 32 + 64 + 9 * 32 * 64 + 128 + 9 * 64 * 128 + 256
               + 10 * (9 * 128 * 128 + 256) + 9 * 128 * 64 + 128 + 9 * 64 * 32 + 64
               + 81 * 32 * 3 + 3)
    assert transform.parameter_count() == by_hand == 1_677_635
    with pytest.raises(ValueError, match="width must be a positive factor"):
        transform.channels(0)


def test_two_calls_share_variables_under_the_scope():
    picture = np.random.default_rng(3).uniform(0, 255, (1, 9, 10, 3)).astype(np.float32)
    with tf.Graph().as_default() as graph:
        first = transform.stylise(tf.constant(picture), WIDTH)
        names = [variable.name for variable in v1.global_variables()]
        second = transform.stylise(tf.constant(picture), WIDTH)
        assert [variable.name for variable in v1.global_variables()] == names
        assert all(name.startswith(f"{transform.SCOPE}/") for name in names)
        assert "transform/residual5/norm_b/scale:0" in names
        with runtime.new_session(graph) as session:
            session.run(v1.global_variables_initializer())
            a, b = session.run([first, second])
    np.testing.assert_array_equal(a, b)


def build(seed: int):
    """A graph with the network on a placeholder, its variables initialised from ``seed``."""
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        images = v1.placeholder(tf.float32, [None, None, None, 3])
        out = transform.stylise(images, WIDTH)
        saver = v1.train.Saver()
        session = runtime.new_session(graph)
        session.run(v1.global_variables_initializer())
    return session, images, out, saver


def test_checkpoint_restores_into_a_fresh_graph_bit_for_bit(tmp_path):
    picture = np.random.default_rng(4).uniform(0, 255, (2, 13, 11, 3)).astype(np.float32)
    session, images, out, saver = build(seed=1)
    with session:
        saved = session.run(out, {images: picture})
        path = saver.save(session, str(tmp_path / "transform"))
    session, images, out, saver = build(seed=2)
    with session:
        fresh = session.run(out, {images: picture})
        saver.restore(session, path)
        restored = session.run(out, {images: picture})
    assert not np.array_equal(fresh, saved)
    np.testing.assert_array_equal(restored, saved)


def test_initial_values_follow_the_graph_seed():
    picture = np.random.default_rng(5).uniform(0, 255, (1, 8, 8, 3)).astype(np.float32)
    runs = []
    for _ in range(2):
        session, images, out, _ = build(seed=7)
        with session:
            runs.append(session.run(out, {images: picture}))
    np.testing.assert_array_equal(*runs)
