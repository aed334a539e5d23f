"""A run's inputs, read and checked once: every file is read once, in the order its errors are
reported, a batch holds one content image at a time, and a batch through the command line
prepares each content image once; automatic masks are made once a picture."""
from __future__ import annotations

import collections

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common import images
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.control import auto_masks, controls, inputs, masks
from tf1cnn.style_transfer.shell import cli


@pytest.fixture
def counted(monkeypatch):
    """The files ``images.read_rgb`` reads, by role, and how often ``controls.prepare`` runs."""
    found = {"read": collections.Counter(), "prepare": 0}
    read, prepare = images.read_rgb, controls.prepare

    def counting_read(path, role="image"):
        found["read"][role, str(path)] += 1
        return read(path, role)

    def counting_prepare(*args, **kwargs):
        found["prepare"] += 1
        return prepare(*args, **kwargs)

    monkeypatch.setattr(images, "read_rgb", counting_read)
    monkeypatch.setattr(controls, "prepare", counting_prepare)
    return found


@pytest.fixture
def batch(tmp_path, synthetic_image):
    """Two content images and a style image in a folder of their own."""
    folder = tmp_path / "contents"
    folder.mkdir()
    for seed in (1, 3):
        iio.imwrite(folder / f"c{seed}.png", synthetic_image(seed))
    style = tmp_path / "style.png"
    iio.imwrite(style, synthetic_image(2))
    return sorted(str(p) for p in folder.iterdir()), str(style)


@pytest.mark.parametrize("init", ["noise", "content", "style", "style-colours", "file"])
def test_each_file_is_read_once_and_the_start_is_the_inits_picture(batch, counted, init):
    contents, style = batch
    init = style if init == "file" else init
    config = StyleConfig(style=(style,), init=init, colour_control="match")
    found = list(inputs.read(config, contents))
    assert set(counted["read"].values()) == {1}
    assert counted["prepare"] == len(contents)
    style_picture = images.read_rgb(style)
    for item, path in zip(found, contents):
        np.testing.assert_array_equal(item.content, images.read_rgb(path))
        np.testing.assert_array_equal(item.styles[0], style_picture)
        assert item.controls.original is item.content
        expected = controls.start_picture(init, item.content, [style_picture],
                                          style_picture if init == style else None)
        if expected is None:
            assert item.start is None
        else:
            np.testing.assert_array_equal(item.start, expected)


def test_the_init_picture_is_read_after_every_content_is_checked(batch, tmp_path):
    """A missing content image is reported before a missing init picture, as before."""
    contents, style = batch
    config = StyleConfig(style=(style,), init=str(tmp_path / "no_init.png"))
    with pytest.raises(UsageError, match="content image not found"):
        inputs.read(config, [*contents, str(tmp_path / "missing.png")])
    with pytest.raises(UsageError, match="initial image not found"):
        inputs.read(config, contents)


def test_a_mask_error_comes_before_any_content_is_read(batch, tmp_path, counted):
    contents, style = batch
    mask = tmp_path / "mask.png"
    red = np.zeros((40, 56, 3), np.uint8)
    red[..., 0] = 255
    iio.imwrite(mask, red)
    config = StyleConfig(style=(style,), content_mask=str(mask),
                         region_style=("red=1", "blue=1"))
    with pytest.raises(UsageError, match="--region-style names blue"):
        inputs.read(config, contents)
    assert not [role for role, _ in counted["read"] if role == "content"]


def test_a_batch_through_the_command_line_reads_and_prepares_each_content_once(
        batch, tiny_vgg, tmp_path, counted, capsys):
    contents, style = batch
    code = cli.main(["--vgg", tiny_vgg, "--content-dir", str(tmp_path / "contents"),
                     "--style", style, "--output-dir", str(tmp_path / "out"),
                     "--iterations", "1", "--height", "24", "--width", "32"])
    assert code == 0, capsys.readouterr().err
    assert [counted["read"]["content", path] for path in contents] == [1, 1]
    assert counted["read"]["style", style] == 1
    assert counted["prepare"] == len(contents)


def test_a_batch_reads_each_content_when_its_turn_comes(batch, counted):
    contents, style = batch
    found = inputs.read(StyleConfig(style=(style,)), contents)
    assert not [role for role, _ in counted["read"] if role == "content"]
    next(found)
    assert [counted["read"]["content", path] for path in contents] == [1, 0]


def test_a_content_that_is_no_image_is_refused_before_any_is_read(batch, tmp_path, counted):
    contents, style = batch
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(UsageError, match="cannot read content image .*not a readable image"):
        inputs.read(StyleConfig(style=(style,)), [*contents, str(broken)])
    assert not [role for role, _ in counted["read"] if role == "content"]


def test_auto_masks_split_the_style_once_and_each_content_when_its_turn_comes(
        batch, counted, monkeypatch):
    contents, style = batch
    split, calls = auto_masks.split, []

    def counting_split(picture, regions, height, width, role="picture"):
        calls.append(role)
        return split(picture, regions, height, width, role)

    monkeypatch.setattr(auto_masks, "split", counting_split)
    found = inputs.read(StyleConfig(style=(style,), content_mask="auto:2"), contents)
    assert calls == ["style picture"]
    assert not [role for role, _ in counted["read"] if role == "content"]
    first = next(found)
    assert calls == ["style picture", "content"]
    second = next(found)
    assert calls == ["style picture", "content", "content"]
    for item, path in zip((first, second), contents):
        content_mask, style_mask = item.masks
        assert content_mask.shape[:2] == images.read_rgb(path).shape[:2]
        np.testing.assert_array_equal(style_mask, first.masks[1])
        np.testing.assert_array_equal(item.controls.content_regions,
                                      masks.regions(content_mask, ["black", "white"]))
    assert not np.array_equal(first.masks[0], second.masks[0])
