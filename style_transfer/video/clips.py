"""The two ends of a video style-transfer run: a video file or a folder of frames in, PNG frames
and an H.264 MP4 out.

``open_clip`` checks a source completely before anything expensive starts and returns a
:class:`Clip`, which says which frames to use (numbers are 1-based and ``last`` is inclusive),
their rate and size, and decodes them on demand as float32 RGB in [0, 255]::

    clip = open_clip("walk.mp4", first=10, last=0)   # frame 10 to the end
    for number, pixels in clip.frames():
        images.write_png(os.path.join(out, frame_name(number)), stylize(pixels))
    notes = write_mp4(os.path.join(out, "walk.mp4"), styled_frames, clip.fps)

Videos are read through imageio-ffmpeg's ``read_frames`` (the ``video`` extra), which
streams raw RGB out of a bundled ffmpeg: one process per pass, decoded in order, stopped as soon
as the generator is closed. The frame count is exact: ``count_frames_and_secs`` decodes the
whole video once, the same way ``read_frames`` does, rather than trusting the container's
duration times its rate. The frame rate comes from the video's metadata; a folder of frames has
no rate of its own, so it plays at ``DEFAULT_FPS`` (24) unless one is given.

A folder's frames are its image files (``FRAME_SUFFIXES``) in name order, so numbers in the
names must be zero-padded; names that would sort differently by number are refused rather than
played out of order. Every frame used is decoded during the check, so a broken file or one of
another size is reported by name before the first frame is stylized.

``write_mp4`` encodes with libx264 at CRF 18 (visually lossless for most material) in yuv420p,
the one pixel format every player takes. yuv420p needs even sides, so an odd width or height is
padded by one edge-replicated row or column, never rescaled, and the caller gets a note to
print. The file is written beside its target under a temporary name and renamed into place
only after the result has been read back and found to hold every frame.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator

import numpy as np

from tf1cnn.common import files, images
from tf1cnn.common.errors import OutputError, UsageError

from . import optional

DEFAULT_FPS = 24.0  # the rate of a folder of frames when none is given: the film standard
# A GIF is left out: one file may be a clip of its own, of which a frame folder takes one frame.
FRAME_SUFFIXES = tuple(s for s in images.IMAGE_SUFFIXES if s != ".gif")
CRF = 18  # libx264's constant rate factor: 0 is lossless, 23 its default, 18 visually lossless
NTSC_RATES = tuple(base * 1000 / 1001 for base in (24, 30, 48, 60, 120))  # ffmpeg rounds these


@dataclasses.dataclass(frozen=True)
class Clip:
    """A checked video or folder of frames, and the range of frames to use."""

    source: str
    is_folder: bool
    first: int  # 1-based number of the first frame used
    last: int  # 1-based number of the last frame used, inclusive
    fps: float
    height: int
    width: int
    paths: tuple[str, ...] = ()  # a folder's frame files in name order, all of them

    @property
    def count(self) -> int:
        """The number of frames in the range."""
        return self.last - self.first + 1

    def frames(self, start: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame number, float32 RGB [height, width, 3] in [0, 255]) for frames
        ``start`` (default ``first``) to ``last`` in order. Closing the generator early stops
        the decoder. A start outside the range raises ValueError at once."""
        start = self.first if start is None else start
        if not self.first <= start <= self.last:
            raise ValueError(f"start frame {start} is outside frames {self.first}-{self.last}")
        return self._folder_frames(start) if self.is_folder else self._video_frames(start)

    def _folder_frames(self, start: int) -> Iterator[tuple[int, np.ndarray]]:
        for number in range(start, self.last + 1):
            path = self.paths[number - 1]
            pixels = images.read_rgb(path, "frame")
            if pixels.shape[:2] != (self.height, self.width):
                raise UsageError(f"frame {path} changed to {size_text(pixels)} during the "
                                 f"run; it was {self.width}x{self.height}")
            yield number, pixels

    def _video_frames(self, start: int) -> Iterator[tuple[int, np.ndarray]]:
        ffmpeg = optional.video_module("imageio_ffmpeg")
        reader = ffmpeg.read_frames(self.source)
        number = 0
        try:
            next(reader)  # the metadata, checked by open_clip
            for number, data in enumerate(reader, start=1):
                if number >= start:
                    pixels = np.frombuffer(data, np.uint8).reshape(self.height, self.width, 3)
                    yield number, images.to_rgb(pixels, f"frame {number} of {self.source}")
                if number >= self.last:
                    return
        except (OSError, RuntimeError) as exc:
            raise UsageError(f"cannot decode frame {number + 1} of video {self.source} "
                             f"({last_line(exc)})") from None
        finally:
            reader.close()
        raise UsageError(f"video {self.source} ended after {number} frames, but it had "
                         f"{self.last} or more when it was checked; was it changed?")

    def sha256(self) -> str:
        """The SHA-256 of the input's bytes: the video file, or every frame file of the folder
        (name and contents) in order. A run's identity; the frame range is not part of it."""
        digest = hashlib.sha256()
        for path in self.paths if self.is_folder else (self.source,):
            if self.is_folder:
                name = os.path.basename(path).encode("utf-8", "surrogateescape")
                digest.update(len(name).to_bytes(8, "big") + name)
                digest.update(os.path.getsize(path).to_bytes(8, "big"))
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()


def open_clip(source: str, first: int = 1, last: int = 0, fps: float = 0.0) -> Clip:
    """Check the video or frame folder ``source`` and return it as a :class:`Clip`.

    ``last=0`` means to the end; ``fps=0`` means the video's own rate (for a folder,
    ``DEFAULT_FPS``). Every problem is a one-line ``UsageError`` naming the path and the fix.
    """
    source = os.fspath(source)
    if not math.isfinite(fps) or fps < 0:
        raise UsageError(f"frame rate {fps} for {source} is not valid; give a number above 0, "
                         "or 0 for the input's own rate")
    if not os.path.exists(source):
        raise UsageError(f"video or frame folder not found: {source}")
    if os.path.isdir(source):
        return _open_folder(source, first, last, fps)
    return _open_video(source, first, last, fps)


def _open_folder(folder: str, first: int, last: int, fps: float) -> Clip:
    names = sorted(name for name in os.listdir(folder)
                   if name.lower().endswith(FRAME_SUFFIXES)
                   and os.path.isfile(os.path.join(folder, name)))
    if not names:
        raise UsageError(f"frame folder {folder} has no frame files "
                         f"({', '.join(FRAME_SUFFIXES)}); put the frames there or give a video")
    by_number = sorted(names, key=number_order)
    for name, numbered in zip(names, by_number):
        if name != numbered:
            raise UsageError(f"frame folder {folder}: {name} sorts before {numbered} by name but "
                             "not by number; zero-pad the numbers (frame_00002.png)")
    first, last = check_range(folder, "frame folder", first, last, len(names))
    paths = tuple(os.path.join(folder, name) for name in names)
    reference = None
    for path in paths[first - 1:last]:
        pixels = images.read_rgb(path, "frame")
        if reference is None:
            reference = path, pixels.shape
        elif pixels.shape != reference[1]:
            raise UsageError(f"frame {path} is {size_text(pixels)} (width x height) but "
                             f"{os.path.basename(reference[0])} is "
                             f"{reference[1][1]}x{reference[1][0]}; all frames must be one size")
    height, width = reference[1][:2]
    return Clip(folder, True, first, last, float(fps or DEFAULT_FPS), height, width,
                paths)


def _open_video(path: str, first: int, last: int, fps: float) -> Clip:
    ffmpeg = optional.video_module("imageio_ffmpeg")
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise UsageError(f"cannot read video {path}: {exc.strerror or exc}") from None
    reader = ffmpeg.read_frames(path)
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise unreadable(path, str(exc)) from None
    finally:
        reader.close()
    try:
        count, seconds = ffmpeg.count_frames_and_secs(path)
    except (OSError, RuntimeError) as exc:
        raise unreadable(path, str(exc)) from None
    if not count:
        raise no_frames(path)
    first, last = check_range(path, "video", first, last, count)
    if not fps:
        fps = own_rate(meta.get("fps") or 0.0, count, seconds)
        if not fps:
            raise UsageError(f"cannot tell the frame rate of video {path}; give one explicitly")
    width, height = meta["size"]
    return Clip(path, False, first, last, float(fps), int(height), int(width))


def own_rate(stated: float, count: int, seconds: float | None) -> float:
    """The video's rate from ffmpeg's header (printed to two decimals, so 23.98 is taken for
    24000/1001), or failing that frames per second of duration; 0 if neither is known."""
    for rate in NTSC_RATES:
        if abs(stated - rate) < 0.005:
            return rate
    if stated > 0:
        return stated
    return count / seconds if seconds else 0.0


def unreadable(path: str, ffmpeg_text: str) -> UsageError:
    """The UsageError for a file ffmpeg refused, told apart by what ffmpeg's log shows: it
    opened the container and saw a video stream, or some other stream, or nothing at all."""
    opened = "Input #0" in ffmpeg_text
    video = re.search(r"Stream #\d+:\d+.*: Video:", ffmpeg_text) is not None
    if opened and video:
        return no_frames(path)
    if opened:
        return UsageError(f"video {path} has no video stream (audio only or empty?); give a file "
                          "with a video track")
    return UsageError(f"{path} is not a video ffmpeg can read (truncated, or another kind of "
                      "file?); give a video file or a folder of frames")


def no_frames(path: str) -> UsageError:
    return UsageError(f"video {path} has no frames that can be decoded; give a video with at "
                      "least one frame")


def check_range(path: str, role: str, first: int, last: int, count: int) -> tuple[int, int]:
    """The range first..last (``last=0``: to the end) checked against a clip of ``count``."""
    end = count if last == 0 else last
    if first < 1 or end < first or end > count or last < 0:
        raise UsageError(f"frames {first} to {last or 'the end'} are outside {role} {path}, "
                         f"which has {count} frames (numbered 1 to {count}); choose frames "
                         "inside it")
    return first, end


def number_order(name: str) -> str:
    """A sort key that reads runs of digits as numbers (frame_2 before frame_10) and otherwise
    agrees with name order: each run is zero-padded to 20 digits."""
    return re.sub(r"\d+", lambda digits: digits.group().zfill(20), name)


def size_text(pixels: np.ndarray) -> str:
    return f"{pixels.shape[1]}x{pixels.shape[0]}"


def last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def frame_name(number: int) -> str:
    """The PNG name of output frame ``number`` (1-based): frame_00001.png."""
    if number < 1:
        raise ValueError(f"frame numbers start at 1, got {number}")
    return f"frame_{number:05d}.png"


def write_mp4(path: str, frames: Iterable[np.ndarray], fps: float) -> list[str]:
    """Encode RGB frames (uint8, or float in [0, 255]) of one size as an H.264 MP4 at ``fps``.

    Returns notes for the caller to print (the padding of an odd size), or an empty list. The
    file appears only when complete; on any failure the temporary is removed and an older file
    at ``path`` is kept.
    """
    path = os.fspath(path)
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"the MP4 frame rate must be above 0, got {fps}")
    ffmpeg = optional.video_module("imageio_ffmpeg")
    frames = iter(frames)
    pixels = next(frames, None)
    if pixels is None:
        raise ValueError(f"no frames to write to {path}")
    shape = check_frame(pixels, None, 1)
    height, width = shape[0], shape[1]
    padding = (0, height % 2), (0, width % 2), (0, 0)
    notes = []
    if height % 2 or width % 2:
        notes.append(f"the MP4 is padded from {width}x{height} to {width + width % 2}x"
                     f"{height + height % 2} (width x height): H.264 (yuv420p) needs even "
                     "sides; the PNG frames keep the exact size")
    params = ["-crf", str(CRF), "-movflags", "+faststart",  # the index first: plays at once
              "-f", "mp4"]  # the temporary's name does not end in .mp4
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                                 suffix=".tmp", dir=os.path.dirname(path) or ".")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(descriptor)
    try:
        written = 0
        writer = ffmpeg.write_frames(temporary, (width + width % 2, height + height % 2),
                                     fps=float(fps), codec="libx264", pix_fmt_out="yuv420p",
                                     quality=None, macro_block_size=1,  # never rescale
                                     ffmpeg_log_level="error", output_params=params)
        writer.send(None)
        try:
            while pixels is not None:
                check_frame(pixels, shape, written + 1)
                if pixels.dtype != np.uint8:
                    pixels = images.to_uint8(pixels)
                writer.send(np.ascontiguousarray(np.pad(pixels, padding, mode="edge")))
                written += 1
                pixels = next(frames, None)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: ffmpeg stopped ({last_line(exc)})") from None
        finally:
            writer.close()
        check_written(ffmpeg, path, temporary, written)
        os.chmod(temporary, files.file_mode())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return notes


def check_frame(pixels: np.ndarray, shape: tuple | None, number: int) -> tuple:
    """The shape of frame ``number``, which must be RGB and, given ``shape``, that shape."""
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"MP4 frame {number} must be an RGB array [height, width, 3], got "
                         f"{getattr(pixels, 'shape', type(pixels).__name__)}")
    if shape is not None and pixels.shape != shape:
        raise ValueError(f"MP4 frame {number} is {size_text(pixels)} but frame 1 is "
                         f"{shape[1]}x{shape[0]}; all frames must be one size")
    return pixels.shape


def check_written(ffmpeg, path: str, temporary: str, written: int) -> None:
    """Read the new file back: write_frames does not report ffmpeg's exit status, so a full
    disk or a failed encoder would otherwise go unnoticed."""
    try:
        count = ffmpeg.count_frames_and_secs(temporary)[0]
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"cannot write {path}: ffmpeg made no readable MP4 "
                          f"({last_line(exc)})") from None
    if count != written:
        raise OutputError(f"cannot write {path}: the MP4 holds {count} of {written} frames "
                          "(is the disk full?)")
