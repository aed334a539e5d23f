"""The pure parts of ``benchmarks/video_quality.py``: the age of each pixel along the true
flow, Lai et al.'s warping error, the freed region's style loss, the summary's ratios, the kept
runs and the refusals before any work.

The benchmark is a script in ``benchmarks/``, imported here as ``test_docs.py`` imports
``render_docs``: with its folder first on ``sys.path`` (it imports ``machine`` plainly).
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import pathlib
import sys

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common import images, runtime, samples
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.network import vgg, vgg_graph
from tf1cnn.style_transfer.objective import losses
from tf1cnn.style_transfer.tools import sample_clip

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def vq():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("video_quality")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_ages_of_a_pan_count_the_frames_since_a_column_entered(vq):
    count, height, width = 6, 3, 10
    backward = np.zeros((count, height, width, 2), np.float32)
    backward[1:, ..., 0] = 1.0  # each pixel was one to the right: new picture enters at x = 9
    visible = np.zeros((count, height, width), bool)
    visible[1:, :, :width - 1] = True
    ages = vq.entered_ages(backward, visible)
    old = np.iinfo(np.int32).max
    assert (ages[0] == old).all()
    for t in range(1, count):
        since = width - 1 - np.arange(width)  # frames since column x entered, if in the clip
        expected = np.where(since < t, since, old)
        assert (ages[t] == expected[None, :]).all(), t


def test_a_still_clip_has_no_entered_pixels(vq):
    visible = np.ones((4, 5, 6), bool)
    visible[0] = False
    ages = vq.entered_ages(np.zeros((4, 5, 6, 2), np.float32), visible)
    assert (ages >= 4).all()


@pytest.fixture(scope="module")
def clip():
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    return sample_clip.make(photo, frames=8, height=60, width=80)


def test_the_sample_clips_region_is_the_right_edge_and_the_sprites_trail(vq, clip):
    """And region_masks splits it in two: what entered at the edge (the right and bottom
    edges, where the pan brings new picture in), and the rest (the trail)."""
    ages = vq.entered_ages(clip.backward, clip.visible)
    count = 4  # frames: the trail stays apart from the edges in this small clip
    regions = vq.region_masks(clip, count)
    assert list(regions) == list(vq.REGIONS)
    for t in range(1, len(clip.frames)):
        edge, rest = regions["edge_style"][t], regions["uncovered_style"][t]
        assert (regions["fresh_style"][t] == (ages[t] < count)).all()
        assert not (edge & rest).any() and ((edge | rest) == (ages[t] < count)).all()
        assert edge[:, -2:].all() and not edge[:-4 * count, :-4 * count].any()
        assert ((ages[t] == 0) == ~clip.visible[t]).all()
        region = ages[t] < count
        assert region[:, -2:].all()  # the pan brings new picture in at the right
        # Away from the frame's edges, only where the sprite was in the last frames.
        inner = region.copy()
        inner[:, -4 * count:] = inner[-2 * count:] = False
        trail = clip.sprite[max(t - count, 0):t].any(axis=0)
        near = np.zeros_like(trail)
        for dy in range(-10, 3):  # where the background it uncovered has moved since
            for dx in range(-16, 1):  # (left and up, ~3 and ~1.5 px a frame)
                near |= np.roll(trail, (dy, dx), axis=(0, 1))
        assert near.mean() < 0.5
        assert inner.any() and not (inner & ~near).any(), t
        assert rest.any() and not (rest & ~near).any(), t


def test_lai_warping_error_is_the_mean_square_over_visible_pixels_and_channels(vq):
    rng = np.random.default_rng(0)
    current, previous = (rng.uniform(0, 255, (7, 9, 3)).astype(np.float32) for _ in range(2))
    visible = rng.uniform(size=(7, 9)) < 0.6
    found = vq.lai_warping_error(current, previous, np.zeros((7, 9, 2), np.float32), visible)
    expected = np.mean(((current[visible] - previous[visible]) / 255.0) ** 2)
    assert found == pytest.approx(expected, rel=1e-6)
    shifted = np.roll(previous, -1, axis=1)  # pixel x shows what was at x + 1
    flow = np.zeros((7, 9, 2), np.float32)
    flow[..., 0] = 1
    inside = np.ones((7, 9), bool)
    inside[:, -1] = False
    assert vq.lai_warping_error(shifted, previous, flow, inside) == pytest.approx(0, abs=1e-12)
    assert math.isnan(vq.lai_warping_error(current, previous, flow, np.zeros((7, 9), bool)))


@pytest.fixture(scope="module")
def tiny():
    """(layers, config, style, frame): a random VGG16 and two pictures of the config's size."""
    config = StyleConfig(height=32, width=48)
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE))
    return (vgg.random_layers(16, width_divisor=16, seed=0), config,
            images.fit(style, 32, 48), images.fit(photo, 32, 48))


def plain_style_loss(layers, config: StyleConfig, style: np.ndarray, frame: np.ndarray):
    """The whole frame's style loss (``losses.style_loss``), computed on its own."""
    mean = np.asarray(config.mean_pixel, np.float32)
    with tf.Graph().as_default() as graph:
        picture = tf.compat.v1.placeholder(tf.float32, [1, 32, 48, 3])
        network = vgg_graph.VGG(layers)
        points = network(picture)
        grams = [losses.gram_matrix(points[name]) for name in config.style_layers]
        with runtime.new_session(graph) as session:
            targets = session.run(grams, {picture: [style - mean]})
            loss = losses.style_loss([points[name] for name in config.style_layers], targets,
                                     config.style_layer_weights)
            return float(session.run(loss, {picture: [frame - mean]}))


def test_region_style_over_the_whole_frame_is_the_plain_style_loss(vq, tiny):
    layers, config, style, frame = tiny
    region_style = vq.RegionStyle(layers, config, style)
    try:
        whole = np.ones((32, 48), np.float32)
        found = region_style(frame, whole)
        assert found == pytest.approx(plain_style_loss(layers, config, style, frame), rel=1e-4)
        assert found > 0
        assert region_style(style, whole) == pytest.approx(0, abs=1e-6 * found)
        assert region_style(frame, np.zeros((32, 48), np.float32)) == 0
        right = np.zeros((32, 48), np.float32)
        right[:, -8:] = 1
        assert region_style(frame, right) > 0
    finally:
        region_style.close()


def fake_run(vq, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    frames = [{"frame": k + 1, "seconds": 2.0, "flow_seconds": 0.1,
               "losses": {"style": float(rng.uniform(1, 2)), "content": 1.0},
               "curve": [3.0, 2.0, 1.0], "true_warping_error": float(rng.uniform(1, 2)),
               "lai_warping_error": float(rng.uniform(0, 1e-3)),
               **{figure: float(rng.uniform(1, 2)) for figure in vq.REGIONS}} for k in range(4)]
    return {"frames": frames, "seconds": 8.0, "others": 0.0,
            "written": [np.full((2, 3, 3), k, np.uint8) for k in range(4)]}


def test_a_run_against_a_copy_of_itself_has_every_ratio_1(vq):
    independent = fake_run(vq, 0)
    found = vq.summary("same", fake_run(vq, 0), independent, iterations=3)
    for ratio in ("warping_ratio", "style_ratio", "content_ratio", "lai_warping_ratio",
                  *(f"{figure}_{kind}" for figure in vq.REGIONS
                    for kind in ("ratio", "max_ratio"))):
        assert found[ratio] == pytest.approx(1), ratio
    for figure in vq.REGIONS:
        assert found[f"{figure}_ratios"] == pytest.approx([1, 1, 1])
    assert found["fresh"] and found["steps_to_independent_loss"] == [3, 3, 3]
    other = vq.summary("other", fake_run(vq, 1), independent, iterations=3)
    for figure in vq.REGIONS:
        assert other[f"{figure}_max_ratio"] == max(other[f"{figure}_ratios"])
    assert other["fresh"] == (other["fresh_style_ratio"] <= vq.FRESH)


def test_a_kept_run_is_reused_only_for_the_same_key(vq, tmp_path):
    config = StyleConfig(height=2, width=3, output_dir=str(tmp_path / "a"), video="clip")
    key = vq.run_key(config, "net", "clip", "style")
    same = vq.run_key(dataclasses.replace(config, output_dir="elsewhere", video="other"),
                      "net", "clip", "style")
    assert same == key
    result = fake_run(vq, 0)
    folder = str(tmp_path / "kept")
    assert vq.kept_run(folder, key) is None
    vq.keep_run(folder, key, result)
    found, same_code = vq.kept_run(folder, key)
    assert same_code
    assert [frame.tolist() for frame in found["written"]] == \
        [frame.tolist() for frame in result["written"]]
    assert {k: v for k, v in found.items() if k != "written"} == \
        {k: v for k, v in result.items() if k != "written"}
    for other in (vq.run_key(dataclasses.replace(config, freed_frames=2), "net", "clip",
                             "style"),
                  vq.run_key(config, "other net", "clip", "style"),
                  vq.run_key(config, "net", "other clip", "style")):
        assert vq.kept_run(folder, other) is None


def test_a_run_kept_before_a_setting_existed_is_reused_at_the_settings_old_value(vq, tmp_path):
    """And independent frames, which use no warm start, whatever the warm start's settings."""
    config = StyleConfig(height=2, width=3, output_dir=str(tmp_path / "a"), video="clip",
                         freed_edge_frames=0)
    key = vq.run_key(config, "net", "clip", "style")
    del key["config"]["freed_edge_frames"]  # as a run kept before it existed stored it
    vq.keep_run(str(tmp_path / "kept"), key, fake_run(vq, 0))
    assert vq.kept_run(str(tmp_path / "kept"), vq.run_key(config, "net", "clip", "style"))
    assert vq.kept_run(str(tmp_path / "kept"), vq.run_key(
        dataclasses.replace(config, freed_edge_frames=12), "net", "clip", "style")) is None
    independent = dataclasses.replace(config, frame_init="init")
    vq.keep_run(str(tmp_path / "independent"), vq.run_key(independent, "net", "clip", "style"),
                fake_run(vq, 0))
    others = {"temporal_weight": 5.0, "freed_style_weight": 0.5, "freed_frames": 1,
              "freed_edge_frames": 6, "freed_start": "noise", "frame_target": 0.5}
    assert set(others) == set(vq.WARM_ONLY)
    for name, value in others.items():
        changed = dataclasses.replace(independent, **{name: value})
        assert vq.kept_run(str(tmp_path / "independent"),
                           vq.run_key(changed, "net", "clip", "style")), name
    assert vq.kept_run(str(tmp_path / "independent"), vq.run_key(
        dataclasses.replace(independent, seed=7), "net", "clip", "style")) is None


@pytest.mark.parametrize("option, message", [
    (["--entered-frames", "0"], "error: --entered-frames must be at least 1"),
    (["--freed-frames", "0", "-1"], "error: --freed-frames"),
    (["--size", "48by64"], "error: --size takes HxW")])
def test_bad_options_are_refused_before_any_work(vq, tmp_path, capsys, option, message):
    output = tmp_path / "out.json"
    status = vq.main(["--vgg", str(tmp_path / "missing.mat"), "--json", str(output), *option])
    assert status == 2
    assert capsys.readouterr().err.startswith(message)
    assert not output.exists()
