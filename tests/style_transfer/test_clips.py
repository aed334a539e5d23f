"""Videos and frame folders in, MP4s out: exact counts and rates, frames in order within codec
error, every bad input a one-line UsageError naming the file, and writes that are all or nothing.

Every clip is made here: a few frames of 48x64 whose gradient moves and whose blue level steps
from frame to frame, so a frame out of order is easy to tell from codec noise.
"""
from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from PIL import Image

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from tf1cnn.common.errors import UsageError  # noqa: E402
from tf1cnn.style_transfer.video import clips  # noqa: E402

HEIGHT, WIDTH, COUNT, FPS = 48, 64, 8, 12.0
CODEC_ERROR = 3.0  # mean absolute difference in grey levels allowed after an H.264 round trip


def picture(number: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Frame ``number`` (1-based) of the synthetic clip: uint8 RGB, smooth within a frame."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([cols * 2 + 8 * number, rows * 3 + 4 * number,
                     np.full_like(cols, 20 + 25 * number)], axis=2).astype(np.uint8)


def encode(path, frames, fps=FPS) -> str:
    """Write ``frames`` with imageio-ffmpeg itself, not with the code under test."""
    height, width = frames[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, quality=9,
                                         macro_block_size=1, ffmpeg_log_level="error")
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return str(path)


def ffmpeg(*arguments) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", *arguments],
                   check=True, capture_output=True)


def error(source, **options) -> str:
    with pytest.raises(UsageError) as caught:
        clips.open_clip(str(source), **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.fixture(scope="module")
def written():
    return [picture(number) for number in range(1, COUNT + 1)]


@pytest.fixture(scope="module")
def video(tmp_path_factory, written) -> str:
    return encode(tmp_path_factory.mktemp("video") / "clip.mp4", written)


@pytest.fixture
def folder(tmp_path, written) -> str:
    path = tmp_path / "frames"
    path.mkdir()
    for number, pixels in enumerate(written, start=1):
        Image.fromarray(pixels).save(path / f"f{number:03d}.png")
    return str(path)


@pytest.fixture
def reads(monkeypatch):
    """Record each ffmpeg reader's frames and whether it was closed."""
    log = []
    real = imageio_ffmpeg.read_frames

    def tracked(*args, **kwargs):
        entry = {"frames": -1, "closed": False}  # the metadata comes first
        log.append(entry)
        try:
            for item in real(*args, **kwargs):
                entry["frames"] += 1
                yield item
        finally:
            entry["closed"] = True

    monkeypatch.setattr(imageio_ffmpeg, "read_frames", tracked)
    return log


def test_video_count_rate_size_and_frames_in_order(video, written):
    clip = clips.open_clip(video)
    assert (clip.count, clip.first, clip.last, clip.fps) == (COUNT, 1, COUNT, FPS)
    assert (clip.height, clip.width, clip.is_folder, clip.paths) == (HEIGHT, WIDTH, False, ())
    frames = list(clip.frames())
    assert [number for number, _ in frames] == list(range(1, COUNT + 1))
    for number, pixels in frames:
        assert pixels.dtype == np.float32 and pixels.shape == (HEIGHT, WIDTH, 3)
        errors = [difference(pixels, other) for other in written]
        assert errors[number - 1] < CODEC_ERROR
        assert int(np.argmin(errors)) == number - 1


def test_video_range_and_start(video, written, reads):
    clip = clips.open_clip(video, first=3, last=6)
    assert (clip.first, clip.last, clip.count) == (3, 6, 4)
    frames = list(clip.frames())
    assert [number for number, _ in frames] == [3, 4, 5, 6]
    assert all(difference(pixels, written[number - 1]) < CODEC_ERROR
               for number, pixels in frames)
    assert reads[-1] == {"frames": 6, "closed": True}  # stopped at the last frame used
    later = list(clip.frames(start=5))
    assert [number for number, _ in later] == [5, 6]
    assert difference(later[0][1], written[4]) < CODEC_ERROR
    for start in (2, 7):
        with pytest.raises(ValueError, match="outside"):
            clip.frames(start=start)


def test_closing_the_generator_early_closes_the_reader(video, reads):
    frames = clips.open_clip(video).frames()
    number, _ = next(frames)
    assert number == 1 and not reads[-1]["closed"]
    frames.close()
    assert reads[-1]["closed"] and reads[-1]["frames"] == 1


def test_folder_frames_in_name_order(tmp_path, written):
    folder = tmp_path / "frames"
    folder.mkdir()
    names = ["c.png", "a.bmp", "b.PNG"]
    for name, pixels in zip(names, written):
        Image.fromarray(pixels).save(folder / name)
    (folder / "notes.txt").write_text("not a frame")
    clip = clips.open_clip(str(folder))
    order = ["a.bmp", "b.PNG", "c.png"]
    assert clip.paths == tuple(os.path.join(str(folder), name) for name in order)
    assert (clip.count, clip.fps, clip.is_folder, clip.height, clip.width) == (
        3, clips.DEFAULT_FPS, True, HEIGHT, WIDTH)
    for number, pixels in clip.frames():
        expected = written[names.index(order[number - 1])]
        np.testing.assert_array_equal(pixels, expected.astype(np.float32))
    assert clips.open_clip(str(folder), fps=7.5).fps == 7.5
    assert clips.DEFAULT_FPS == 24.0


def test_folder_range_and_start(folder, written):
    clip = clips.open_clip(folder, first=2, last=0)
    assert (clip.first, clip.last, len(clip.paths)) == (2, COUNT, COUNT)
    numbers = [number for number, _ in clip.frames(start=4)]
    assert numbers == list(range(4, COUNT + 1))


def test_grey_and_rgba_frames_become_rgb(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    grey = np.tile(np.arange(WIDTH, dtype=np.uint8) * 4, (HEIGHT, 1))
    Image.fromarray(grey, "L").save(folder / "1.png")
    rgba = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, : WIDTH // 2, 3] = 255  # the right half is transparent
    Image.fromarray(rgba, "RGBA").save(folder / "2.png")
    (first, grey_rgb), (_, rgba_rgb) = list(clips.open_clip(str(folder)).frames())
    assert grey_rgb.shape == rgba_rgb.shape == (HEIGHT, WIDTH, 3)
    assert grey_rgb.dtype == rgba_rgb.dtype == np.float32
    np.testing.assert_array_equal(grey_rgb, np.repeat(grey[..., None], 3, axis=2))
    np.testing.assert_array_equal(rgba_rgb[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(rgba_rgb[0, -1], [255, 255, 255])  # over white


def test_missing_source(tmp_path):
    path = tmp_path / "gone.mp4"
    message = error(path)
    assert "not found" in message and str(path) in message


@pytest.mark.parametrize("content", [b"hello, not a video\n", b"", os.urandom(3000)],
                         ids=["text", "empty", "garbage"])
def test_a_file_that_is_not_a_video(tmp_path, content):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    message = error(path)
    assert "not a video" in message and str(path) in message


def test_a_truncated_video(tmp_path, video):
    data = open(video, "rb").read()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])  # imageio-ffmpeg puts the index at the end
    message = error(path)
    assert "not a video" in message and str(path) in message


@pytest.mark.parametrize("name, made, expected", [
    ("sound.m4a", ["-f", "lavfi", "-i", "sine=duration=0.2", "-c:a", "aac"], "no video stream"),
    # AVI keeps an empty video stream's header; MP4 drops the empty track.
    ("empty.avi", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=12", "-frames:v", "0"],
     "no frames"),
    ("empty.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=12", "-frames:v", "0"],
     "no video stream"),
])
def test_a_file_with_no_video_frames(tmp_path, name, made, expected):
    path = tmp_path / name
    ffmpeg(*made, str(path))
    message = error(path)
    assert expected in message and str(path) in message


def test_a_folder_without_frames(tmp_path):
    (tmp_path / "readme.txt").write_text("frames go here")
    (tmp_path / "sub.png").mkdir()
    message = error(tmp_path)
    assert "no frame files" in message and str(tmp_path) in message


@pytest.mark.parametrize("kind", ["truncated", "text"])
def test_an_unreadable_frame_is_named(folder, kind):
    bad = os.path.join(folder, "f005.png")
    if kind == "truncated":
        data = open(bad, "rb").read()
        open(bad, "wb").write(data[: len(data) // 2])
    else:
        open(bad, "w").write("not a picture")
    message = error(folder)
    assert bad in message and "cannot read" in message


def test_frames_of_another_size_are_named(folder):
    odd = os.path.join(folder, "f004.png")
    Image.fromarray(picture(4, 30, 40)).save(odd)
    message = error(folder)
    assert odd in message and "40x30" in message and f"{WIDTH}x{HEIGHT}" in message
    assert "f001.png" in message


def test_numbers_that_sort_wrongly_by_name_are_refused(tmp_path, written):
    for number in (1, 2, 10):
        Image.fromarray(written[0]).save(tmp_path / f"frame{number}.png")
    message = error(tmp_path)
    assert "zero-pad" in message and "frame10.png" in message


@pytest.mark.parametrize("first, last", [(0, 0), (1, COUNT + 1), (5, 4), (COUNT + 1, 0),
                                         (2, -1)])
@pytest.mark.parametrize("kind", ["video", "folder"])
def test_a_range_outside_the_clip(video, folder, kind, first, last):
    source = video if kind == "video" else folder
    message = error(source, first=first, last=last)
    assert f"has {COUNT} frames" in message and source in message


@pytest.mark.parametrize("fps", [-1.0, float("nan"), float("inf")])
def test_a_bad_frame_rate(video, fps):
    message = error(video, fps=fps)
    assert "frame rate" in message and video in message


def test_a_given_rate_overrides_the_video(video):
    assert clips.open_clip(video, fps=30.0).fps == 30.0


def test_write_mp4_round_trip(tmp_path, written):
    path = str(tmp_path / "out.mp4")
    floats = [pixels.astype(np.float32) for pixels in written]
    assert clips.write_mp4(path, iter(floats), FPS) == []
    assert os.listdir(tmp_path) == ["out.mp4"]
    clip = clips.open_clip(path)
    assert (clip.count, clip.fps, clip.height, clip.width) == (COUNT, FPS, HEIGHT, WIDTH)
    for number, pixels in clip.frames():
        assert difference(pixels, written[number - 1]) < CODEC_ERROR


def test_write_mp4_pads_an_odd_size_by_one(tmp_path):
    frames = [picture(number, 47, 63) for number in (1, 2, 3)]
    path = str(tmp_path / "odd.mp4")
    notes = clips.write_mp4(path, frames, FPS)
    assert notes == ["the MP4 is padded from 63x47 to 64x48 (width x height): H.264 (yuv420p) "
                     "needs even sides; the PNG frames keep the exact size"]
    clip = clips.open_clip(path)
    assert (clip.height, clip.width, clip.count) == (48, 64, 3)
    for number, pixels in clip.frames():
        original = frames[number - 1]
        assert difference(pixels[:47, :63], original) < CODEC_ERROR
        assert difference(pixels[47, :63], original[46]) < CODEC_ERROR  # edge, not black
        assert difference(pixels[:47, 63], original[:, 62]) < CODEC_ERROR


def test_write_mp4_refuses_a_frame_of_another_size_and_leaves_nothing(tmp_path, written):
    path = tmp_path / "out.mp4"
    frames = [written[0], written[1], picture(3, 40, 40), written[3]]
    with pytest.raises(ValueError, match="frame 3"):
        clips.write_mp4(str(path), frames, FPS)
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"an older video")
    with pytest.raises(ValueError):
        clips.write_mp4(str(path), frames, FPS)
    assert os.listdir(tmp_path) == ["out.mp4"] and path.read_bytes() == b"an older video"


def test_sha256_follows_the_pixels(tmp_path, folder, written):
    before = clips.open_clip(folder).sha256()
    assert clips.open_clip(folder).sha256() == before and len(before) == 64
    changed = written[2].copy()
    changed[0, 0] = 0
    Image.fromarray(changed).save(os.path.join(folder, "f003.png"))
    assert clips.open_clip(folder).sha256() != before
    first = clips.open_clip(encode(tmp_path / "a.mp4", written)).sha256()
    assert clips.open_clip(encode(tmp_path / "b.mp4", written)).sha256() == first
    again = written[:2] + [changed] + written[3:]
    assert clips.open_clip(encode(tmp_path / "c.mp4", again)).sha256() != first


def test_frame_name():
    assert clips.frame_name(1) == "frame_00001.png"
    assert clips.frame_name(1234) == "frame_01234.png"
    with pytest.raises(ValueError):
        clips.frame_name(0)
