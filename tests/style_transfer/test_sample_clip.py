"""The synthetic clip: its shapes, its truth (pan against sprite, visibility, edges), its files,
and the script that writes them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common import images, samples
from tf1cnn.style_transfer.tools import sample_clip

REPO = Path(__file__).resolve().parents[2]
FRAMES, HEIGHT, WIDTH = 5, 60, 80


@pytest.fixture(scope="module")
def photo():
    return images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))


@pytest.fixture(scope="module")
def clip(photo):
    return sample_clip.make(photo, frames=FRAMES, height=HEIGHT, width=WIDTH)


def test_shapes_and_types(clip):
    assert clip.frames.shape == (FRAMES, HEIGHT, WIDTH, 3) and clip.frames.dtype == np.float32
    assert clip.backward.shape == (FRAMES, HEIGHT, WIDTH, 2)
    assert clip.backward.dtype == np.float32
    assert clip.visible.shape == clip.sprite.shape == (FRAMES, HEIGHT, WIDTH)
    assert clip.visible.dtype == clip.sprite.dtype == bool
    assert 0 <= clip.frames.min() and clip.frames.max() <= 255
    assert not clip.backward[0].any() and not clip.visible[0].any()
    assert all(clip.sprite[t].any() for t in range(FRAMES))


def test_the_sprite_moves_against_the_pan(clip):
    for t in range(1, FRAMES):
        on_sprite = clip.backward[t][clip.sprite[t]]
        behind = clip.backward[t][~clip.sprite[t]]
        # The background slides left and up, so its pixels were further right and down; the
        # sprite slides right and down. Sub-pixel steps: the truth is not on the pixel grid.
        assert (behind[:, 0] > 1).all() and (on_sprite[:, 0] < -3).all()
        assert np.ptp(on_sprite, axis=0).max() == 0  # the sprite moves rigidly
        assert not np.allclose(on_sprite, np.round(on_sprite))
    columns = [np.nonzero(clip.sprite[t].any(axis=0))[0].mean() for t in range(FRAMES)]
    assert np.all(np.diff(columns) > 0)


def test_visibility_follows_the_motion(clip):
    for t in range(1, FRAMES):
        hidden = ~clip.visible[t]
        assert hidden[:, -1].all() and hidden[-1].all()  # the pan goes right and down
        assert not hidden[:HEIGHT // 2, 0].any() and not hidden[0, :WIDTH // 2].any()
        uncovered = hidden & ~clip.sprite[t] & clip.sprite[t - 1]  # where the sprite was
        assert uncovered.any() and not (hidden & clip.sprite[t]).any()


def test_a_static_clip_repeats_its_first_frame(photo):
    still = sample_clip.make(photo, frames=3, height=HEIGHT, width=WIDTH, static=True)
    for t in (1, 2):
        np.testing.assert_array_equal(still.frames[t], still.frames[0])
        np.testing.assert_array_equal(still.sprite[t], still.sprite[0])
        assert still.visible[t].all()
    assert not still.backward.any()


def test_edges_cover_the_border_and_both_outlines(clip):
    near = sample_clip.edges(clip, 2, 3)
    assert near[:3].all() and near[-3:].all() and near[:, :3].all() and near[:, -3:].all()
    assert not near[3:-3, 3:-3].all()
    for shown in (clip.sprite[2], clip.sprite[1]):
        outline = shown & ~np.roll(shown, 1, axis=1)  # the left edge of the sprite
        assert near[outline].all()
    last = clip.sprite[-1] & ~np.roll(clip.sprite[-1], 1, axis=1)
    assert not sample_clip.edges(clip, 0, 2)[last].any()  # frame 0 has no frame before it


def test_a_photograph_too_small_is_refused(photo):
    with pytest.raises(ValueError, match="at most"):
        sample_clip.make(photo, frames=200)
    with pytest.raises(ValueError, match="smaller frame"):
        sample_clip.make(photo, height=700)


def test_write_folder_round_trip(clip, tmp_path):
    folder = tmp_path / "new" / "clip"
    paths = sample_clip.write_folder(clip, folder)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame_{n:05d}.png" for n in range(1, FRAMES + 1)] + ["truth.npz"]
    assert [Path(p).name for p in paths] == names
    for t in range(FRAMES):
        np.testing.assert_array_equal(iio.imread(folder / f"frame_{t + 1:05d}.png"),
                                      images.to_uint8(clip.frames[t]))
    with np.load(folder / "truth.npz") as truth:
        assert sorted(truth.files) == ["backward", "sprite", "visible"]
        for key in truth.files:
            np.testing.assert_array_equal(truth[key], getattr(clip, key))


def test_script_writes_the_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_sample_clip.py"), str(tmp_path / "out"),
         "--frames", "2", "--height", "40", "--width", "56"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "2 frames" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "frame_00001.png", "frame_00002.png", "truth.npz"]


def test_script_refuses_a_clip_that_does_not_fit(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_sample_clip.py"), str(tmp_path / "out"),
         "--frames", "500"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "at most" in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert not (tmp_path / "out").exists()
