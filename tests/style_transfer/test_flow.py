"""Optical flow: estimates match the synthetic clip's true flow, warping is exact bilinear, the
consistency mask finds disocclusions, and the warping error is a plain masked mean."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tf1cnn.common import images, samples
from tf1cnn.style_transfer.tools import sample_clip
from tf1cnn.style_transfer.video import flow

PAIRS = (1, 5, 9, 12)  # frames t compared with t-1
MARGIN = 8  # pixels from the border and the sprite's outlines left out of accuracy checks
MAX_EPE = 0.5  # pixels; DIS measures about 0.03 here


@pytest.fixture(scope="module")
def clip():
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    return sample_clip.make(photo, frames=max(PAIRS) + 1)


@pytest.fixture(scope="module")
def written(clip):
    """The frames as they are written to disk: uint8."""
    return images.to_uint8(clip.frames).astype(np.float32)


@pytest.fixture(scope="module")
def estimated(written):
    """{t: (backward, forward)} estimated from the written frames."""
    pytest.importorskip("cv2")
    return {t: flow.pair(written[t - 1], written[t]) for t in PAIRS}


def trusted(clip, t):
    """Pixels whose true flow is defined and away from the border and the sprite's outlines."""
    return clip.visible[t] & ~sample_clip.edges(clip, t, MARGIN)


def test_estimate_matches_the_true_flow(clip, estimated):
    errors = {t: float(np.linalg.norm(estimated[t][0] - clip.backward[t], axis=-1)
                       [trusted(clip, t)].mean()) for t in PAIRS}
    print(f"endpoint error (px) {errors}, mean {np.mean(list(errors.values())):.4f}")
    assert max(errors.values()) <= MAX_EPE, errors


def test_pair_is_backward_then_forward(written, estimated):
    backward, forward = estimated[PAIRS[0]]
    previous, current = written[PAIRS[0] - 1], written[PAIRS[0]]
    assert backward.dtype == np.float32 and backward.shape == current.shape[:2] + (2,)
    np.testing.assert_array_equal(backward, flow.estimate(current, previous))
    np.testing.assert_array_equal(forward, flow.estimate(previous, current))


def test_estimate_rejects_pictures_of_two_sizes():
    with pytest.raises(ValueError, match="one size"):
        flow.estimate(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))


def loop_reference(image, flow_field):
    """Bilinear sampling at p + flow(p), one pixel at a time, with clamped neighbours."""
    height, width = image.shape[:2]
    out = np.zeros(image.shape, np.float64)
    for row in range(height):
        for col in range(width):
            x, y = col + flow_field[row, col, 0], row + flow_field[row, col, 1]
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            fx, fy = x - x0, y - y0
            for dy, wy in ((0, 1 - fy), (1, fy)):
                for dx, wx in ((0, 1 - fx), (1, fx)):
                    r = min(max(y0 + dy, 0), height - 1)
                    c = min(max(x0 + dx, 0), width - 1)
                    out[row, col] += wy * wx * image[r, c]
    return out


@pytest.mark.parametrize("channels", [None, 1, 3, 5])
def test_warp_is_bilinear_with_the_border_repeated(channels):
    rng = np.random.default_rng(channels or 0)
    shape = (7, 9) if channels is None else (7, 9, channels)
    image = rng.uniform(0, 255, shape).astype(np.float32)
    flow_field = rng.uniform(-4, 4, (7, 9, 2)).astype(np.float32)  # many points fall outside
    warped = flow.warp(image, flow_field)
    assert warped.dtype == np.float32 and warped.shape == image.shape
    np.testing.assert_allclose(warped, loop_reference(image, flow_field), atol=1e-3)


def test_warp_agrees_with_scipy_on_a_larger_picture():
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 255, (40, 56, 3)).astype(np.float32)
    flow_field = rng.normal(0, 3, (40, 56, 2)).astype(np.float32)
    rows, cols = np.mgrid[0:40, 0:56]
    where = [rows + flow_field[..., 1], cols + flow_field[..., 0]]
    expected = np.stack([ndimage.map_coordinates(image[..., c], where, order=1, mode="nearest")
                         for c in range(3)], axis=-1)
    np.testing.assert_allclose(flow.warp(image, flow_field), expected, atol=1e-3)


def test_an_integer_shift_moves_pixels_exactly():
    image = np.random.default_rng(2).uniform(0, 255, (12, 15, 3)).astype(np.float32)
    shift = np.broadcast_to(np.float32([3, -2]), (12, 15, 2))  # result(p) = image(p + (3, -2))
    warped = flow.warp(image, shift)
    np.testing.assert_array_equal(warped[2:, :-3], image[:-2, 3:])
    np.testing.assert_array_equal(warped[:2, :-3], np.broadcast_to(image[:1, 3:], (2, 12, 3)))
    np.testing.assert_array_equal(warped[2:, -3:], np.broadcast_to(image[:-2, -1:], (10, 3, 3)))


def test_far_outside_points_take_the_border_pixel():
    image = np.random.default_rng(3).uniform(0, 255, (6, 8)).astype(np.float32)
    left = np.broadcast_to(np.float32([-100, 0.5]), (6, 8, 2))
    expected = np.concatenate([(image[:-1, :1] + image[1:, :1]) / 2, image[-1:, :1]], axis=0)
    np.testing.assert_allclose(flow.warp(image, left), np.broadcast_to(expected, (6, 8)))


def test_warp_rejects_a_flow_of_another_size():
    with pytest.raises(ValueError, match=r"\[4, 5, 2\]"):
        flow.warp(np.zeros((4, 5, 3)), np.zeros((4, 6, 2)))


def test_the_true_flow_carries_the_previous_frame_onto_the_next(clip):
    for t in PAIRS:
        keep = trusted(clip, t)
        error = flow.warping_error(clip.frames[t], clip.frames[t - 1], clip.backward[t], keep)
        wrong_way = flow.warping_error(clip.frames[t], clip.frames[t - 1], -clip.backward[t],
                                       keep)
        print(f"t={t}: true flow {error:.3f} grey levels, reversed {wrong_way:.1f}")
        assert error < 1.5  # bilinear resampling twice costs about 0.6
        assert wrong_way > 10 * error and wrong_way > 10


def test_the_mask_removes_what_was_hidden_and_keeps_the_rest(clip, estimated):
    hidden_zero, kept_one = [], []
    for t in PAIRS:
        mask = flow.consistency(*estimated[t])
        assert mask.dtype == np.float32 and set(np.unique(mask)) <= {0.0, 1.0}
        hidden_zero.append(1 - mask[~clip.visible[t]].mean())
        kept_one.append(mask[trusted(clip, t)].mean())
    print(f"not visible and masked out {np.round(hidden_zero, 3)}, "
          f"visible and kept {np.round(kept_one, 4)}")
    assert min(hidden_zero) > 0.8 and np.mean(hidden_zero) > 0.9  # measured 0.95 to 1.0
    assert min(kept_one) > 0.99  # measured 0.9993 and more


def test_the_mask_of_a_pure_translation_is_one_inside():
    backward = np.broadcast_to(np.float32([1.5, -0.75]), (10, 12, 2)).copy()
    mask = flow.consistency(backward, -backward)
    expected = np.ones((10, 12), np.float32)
    expected[0, :] = 0  # y - 0.75 < 0: above the previous frame
    expected[:, -2:] = 0  # x + 1.5 > 11: right of it
    np.testing.assert_array_equal(mask, expected)


def test_flows_that_do_not_cancel_are_disocclusions():
    backward = np.broadcast_to(np.float32([1.0, 1.0]), (10, 12, 2)).copy()
    mask = flow.consistency(backward, backward)  # forward should have been -backward
    np.testing.assert_array_equal(mask, 0)
    nearly = flow.consistency(backward, -backward + np.float32([0.3, -0.3]))  # 0.18 < 0.52
    assert nearly[:-1, :-1].all()  # the last row and column point outside


def test_a_step_in_the_flow_is_a_motion_boundary():
    backward = np.zeros((10, 12, 2), np.float32)
    backward[:, 6:, 0] = -2.0  # the right part moved right by 2 ...
    forward = np.zeros((10, 12, 2), np.float32)
    forward[:, 4:, 0] = 2.0  # ... from columns 4 on, uncovering columns 4 and 5
    mask = flow.consistency(backward, forward)
    assert not mask[:, 4:6].any()  # disoccluded (and column 5 on the boundary too)
    assert not mask[:, 6].any()  # on the boundary only: central differences see the step
    assert mask[:, :4].all() and mask[:, 7:].all()


def test_warping_error_is_the_masked_mean_absolute_difference():
    current = np.float32([[[10, 20], [30, 40]], [[0, 0], [90, 90]]])  # 2 x 2, 2 channels
    previous = np.zeros((2, 2, 2), np.float32)
    previous[0, 1] = [5, 5]
    shift = np.zeros((2, 2, 2), np.float32)
    shift[0, 0] = [1, 0]  # pixel (0, 0) takes the previous frame's (0, 1)
    mask = np.float32([[1, 0.5], [1, 0]])
    # |10-5|, |20-5| -> 10; |30-5|, |40-5| -> 30; 0; the last pixel has weight 0.
    assert flow.warping_error(current, previous, shift, mask) == pytest.approx(
        (1 * 10 + 0.5 * 30 + 1 * 0) / 2.5)
    assert np.isnan(flow.warping_error(current, previous, shift, np.zeros((2, 2))))


@pytest.fixture(scope="module")
def still():
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    return sample_clip.make(photo, frames=3, height=60, width=80, static=True)


def test_a_static_clip_has_no_warping_error(still):
    for t in (1, 2):
        mask = still.visible[t].astype(np.float32)
        assert flow.warping_error(still.frames[t], still.frames[t - 1], still.backward[t],
                                  mask) == 0.0


def test_a_static_clip_has_no_estimated_motion(still):
    pytest.importorskip("cv2")
    backward, forward = flow.pair(still.frames[0], still.frames[1])
    assert np.abs(backward).max() < 0.01 and np.abs(forward).max() < 0.01
    mask = flow.consistency(backward, forward)
    assert mask[1:-1, 1:-1].all()
    assert flow.warping_error(still.frames[1], still.frames[0], backward, mask) < 0.05


def test_carry_moves_like_warp_and_keeps_the_texture_sharp():
    pytest.importorskip("cv2")
    rng = np.random.default_rng(4)
    texture = rng.uniform(0, 255, (40, 48, 3)).astype(np.float32)
    whole = np.broadcast_to(np.float32([2, -1]), (40, 48, 2)).copy()
    np.testing.assert_allclose(flow.carry(texture, whole), flow.warp(texture, whole), atol=1e-3)
    smooth = ndimage.gaussian_filter(texture, (3, 3, 0))
    field = rng.uniform(-2, 2, (1, 1, 2)) + np.zeros((40, 48, 2), np.float32)
    inside = (slice(4, -4), slice(4, -4))
    assert np.abs(flow.carry(smooth, field) - flow.warp(smooth, field))[inside].mean() < 0.5
    half = np.broadcast_to(np.float32([0.5, 0.5]), (40, 48, 2)).copy()
    assert flow.carry(texture, half)[inside].std() > 1.2 * flow.warp(texture, half)[inside].std()
    moved = flow.carry(texture, half)
    assert moved.dtype == np.float32 and moved.min() >= 0 and moved.max() <= 255
