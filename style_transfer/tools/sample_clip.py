"""A synthetic video clip with known motion, for testing optical flow and temporal consistency.

A window of ``height`` x ``width`` pixels pans right and down across a photograph while it
zooms in, and an opaque rectangular sprite, a patch cut from another part of the photograph,
slides across the frame the other way. Every frame is rendered by exact bilinear sampling of
the photograph, so the true flow is known at every pixel, with its occlusions and motion
boundaries::

    python scripts/make_sample_clip.py /tmp/clip      # frame_00001.png ... and truth.npz

Coordinates are pixel centres: column x and row y of a frame are integers, and frame pixel q
shows the photograph at ``centre + scale * (q - middle)`` where ``middle`` is the frame's
centre, ``((width - 1) / 2, (height - 1) / 2)``. A flow is float32 [H, W, 2] of (dx, dy):
``backward[t][q]`` takes pixel q of frame t to where the same point was in frame t-1. The truth
is geometric, so rounding the frames to uint8 when they are written does not change it.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
from scipy import ndimage

from tf1cnn.common import images

# The camera: the window's centre moves by PAN photo pixels a frame (plus a gentle vertical
# wobble, so the motion is not the same every frame) and its scale, photo pixels per frame
# pixel, shrinks by ZOOM a frame. The frame starts MARGIN photo pixels from the top-left corner.
PAN = (2.8, 0.9)  # (x, y) photo pixels per frame
WOBBLE = (1.5, 0.35)  # amplitude (photo pixels) and angular rate (radians per frame) in y
ZOOM = 0.995  # scale factor per frame: 0.5 % zoom-in
MARGIN = 4.0
# The photograph is smoothed first, as a lens would, by a Gaussian of BLUR pixels: the frames are
# then nearly band-limited, and resampling frame t-1 bilinearly with the true flow reproduces
# frame t to about 0.6 grey levels instead of 2 (the sharp JPEG aliases).
BLUR = 1.0

# The sprite, in frame pixels: a SPRITE_SIZE fraction of the frame (50 x 60 at 250 x 333),
# starting at SPRITE_START (fractions of the frame) and moving SPRITE_STEP pixels a frame,
# against the background, which appears to move left and up. Its texture is the photograph's
# patch whose top-left corner is at SPRITE_SOURCE (fractions of the photograph).
SPRITE_SIZE = (0.2, 0.18)  # (height, width) fractions of the frame
SPRITE_START = (0.1, 0.4)  # (x, y) fractions of the frame
SPRITE_STEP = (4.6, 1.3)  # (x, y) frame pixels per frame
SPRITE_SOURCE = (0.66, 0.8)  # (x, y) fractions of the photograph


@dataclasses.dataclass(frozen=True)
class SyntheticClip:
    """A clip of T frames of H x W and its true motion.

    frames: float32 [T, H, W, 3] in [0, 255].
    backward: float32 [T, H, W, 2]; backward[t] is the true flow from frame t to frame t-1,
        (dx, dy) in pixels; backward[0] is zero.
    visible: bool [T, H, W]; True where frame t's pixel was visible in frame t-1: inside it,
        and not hidden behind the sprite. visible[0] is all False.
    sprite: bool [T, H, W]; True where the sprite covers frame t.
    """

    frames: np.ndarray
    backward: np.ndarray
    visible: np.ndarray
    sprite: np.ndarray


def make(photo: np.ndarray, frames: int = 24, height: int = 250, width: int = 333,
         static: bool = False) -> SyntheticClip:
    """Render ``frames`` frames of ``height`` x ``width`` from float RGB ``photo`` [h, w, 3].

    ``static=True`` repeats the first frame: zero flow, everything visible from frame 1 on.
    Raises ValueError when the window would leave the photograph.
    """
    if frames < 1 or height < 2 or width < 2:
        raise ValueError(f"a clip needs at least 1 frame of 2 x 2 pixels, asked for {frames} "
                         f"of {height} x {width}")
    photo = ndimage.gaussian_filter(np.asarray(photo, dtype=np.float32), (BLUR, BLUR, 0))
    times = np.zeros(frames) if static else np.arange(frames, dtype=np.float64)
    centres, scales = _camera(times, height, width)
    corners = _sprite_corners(times, height, width)
    sprite_shape = _sprite_shape(height, width)
    source = np.array(SPRITE_SOURCE) * [photo.shape[1], photo.shape[0]]
    _check_inside(photo, centres, scales, height, width, source, sprite_shape)

    grid = _pixel_grid(height, width)
    middle = np.array([(width - 1) / 2, (height - 1) / 2])
    rendered = np.empty((frames, height, width, 3), np.float32)
    backward = np.zeros((frames, height, width, 2), np.float32)
    visible = np.zeros((frames, height, width), bool)
    sprite = np.zeros((frames, height, width), bool)
    for t in range(frames):
        sprite[t] = _covers(grid, corners[t], sprite_shape)
        points = centres[t] + scales[t] * (grid - middle)  # photo points the frame shows
        points[sprite[t]] = source + grid[sprite[t]] - corners[t]
        rendered[t] = _sample(photo, points)
        if t == 0:
            continue
        flow = middle + (points - centres[t - 1]) / scales[t - 1] - grid  # the background's
        flow[sprite[t]] = corners[t - 1] - corners[t]
        backward[t] = flow
        before = grid + flow
        inside = ((before[..., 0] >= 0) & (before[..., 0] <= width - 1)
                  & (before[..., 1] >= 0) & (before[..., 1] <= height - 1))
        hidden = _covers(before, corners[t - 1], sprite_shape) & ~sprite[t]
        visible[t] = inside & ~hidden
    return SyntheticClip(rendered, backward, visible, sprite)


def edges(clip: SyntheticClip, t: int, margin: float) -> np.ndarray:
    """bool [H, W]: True within ``margin`` pixels of the frame's border or of the sprite's
    outline in frame t or t-1, where flow is hardest to estimate and compare."""
    height, width = clip.frames.shape[1:3]
    rows, cols = np.mgrid[0:height, 0:width]
    near = ((rows < margin) | (rows > height - 1 - margin)
            | (cols < margin) | (cols > width - 1 - margin))
    for shown in (clip.sprite[t], clip.sprite[t - 1] if t >= 1 else None):
        if shown is None or not shown.any() or shown.all():
            continue
        near |= shown & (ndimage.distance_transform_edt(shown) <= margin)
        near |= ~shown & (ndimage.distance_transform_edt(~shown) <= margin)
    return near


def write_folder(clip: SyntheticClip, folder: str | os.PathLike) -> list[str]:
    """Write the frames as ``frame_00001.png``... (uint8) and the truth as ``truth.npz``
    (backward, visible, sprite) into ``folder``, creating it; return the paths written."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for number, frame in enumerate(clip.frames, start=1):
        paths.append(os.path.join(folder, f"frame_{number:05d}.png"))
        images.write_png(paths[-1], frame)
    paths.append(os.path.join(folder, "truth.npz"))
    np.savez_compressed(paths[-1], backward=clip.backward, visible=clip.visible,
                        sprite=clip.sprite)
    return paths


def _camera(times: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The window's centre in the photograph, [T, 2] (x, y), and its scale [T]."""
    start = MARGIN + np.array([(width - 1) / 2, (height - 1) / 2])
    x = start[0] + PAN[0] * times
    y = start[1] + PAN[1] * times + WOBBLE[0] * np.sin(WOBBLE[1] * times)
    return np.stack([x, y], axis=1), ZOOM ** times


def _sprite_corners(times: np.ndarray, height: int, width: int) -> np.ndarray:
    """The sprite's top-left corner in each frame, [T, 2] (x, y) in frame pixels."""
    start = np.array(SPRITE_START) * [width, height]
    return start + np.outer(times, SPRITE_STEP)


def _sprite_shape(height: int, width: int) -> np.ndarray:
    """The sprite's (width, height) in pixels."""
    return np.array([max(2, round(SPRITE_SIZE[1] * width)), max(2, round(SPRITE_SIZE[0] * height))],
                    dtype=np.float64)


def _pixel_grid(height: int, width: int) -> np.ndarray:
    """float64 [H, W, 2]: each pixel's own (x, y)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.stack([cols, rows], axis=2)


def _covers(points: np.ndarray, corner: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """bool: which (x, y) ``points`` fall on a sprite with top-left ``corner`` and (width,
    height) ``shape``; the left and top edges belong to it, the right and bottom do not."""
    local = points - corner
    return np.all((local >= 0) & (local < shape), axis=-1)


def _sample(photo: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``photo`` at (x, y) ``points`` [H, W, 2]: float32 [H, W, 3]."""
    where = [points[..., 1], points[..., 0]]
    return np.stack([ndimage.map_coordinates(photo[..., c], where, order=1, mode="nearest")
                     for c in range(photo.shape[2])], axis=-1).astype(np.float32)


def _check_inside(photo, centres, scales, height, width, source, sprite_shape) -> None:
    """Raise ValueError if a frame's window or the sprite's patch leaves the photograph."""
    rows, cols = photo.shape[:2]
    half = np.outer(scales, [(width - 1) / 2, (height - 1) / 2])
    low, high = centres - half, centres + half
    out = np.flatnonzero((low < 0).any(axis=1) | (high[:, 0] > cols - 1)
                         | (high[:, 1] > rows - 1))
    if out.size and out[0] == 0:
        raise ValueError(f"a frame of {height} x {width} (height x width) does not fit in the "
                         f"{rows} x {cols} photograph; ask for a smaller frame")
    if out.size:
        raise ValueError(f"the window leaves the {rows} x {cols} (height x width) photograph at "
                         f"frame {out[0]}; ask for at most {out[0]} frames of {height} x {width}")
    if (source + sprite_shape > [cols - 1, rows - 1]).any():
        raise ValueError(f"the {rows} x {cols} photograph is too small for the sprite's "
                         f"{sprite_shape[1]:.0f} x {sprite_shape[0]:.0f} patch at x, y = "
                         f"{source[0]:.0f}, {source[1]:.0f}")
