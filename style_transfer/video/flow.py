"""Optical flow for video style transfer: estimate it, warp pictures with it, and find where it
can be trusted (Ruder, Dosovitskiy and Brox, "Artistic style transfer for videos", GCPR 2016).

A flow is float32 [H, W, 2] of (dx, dy) in pixels, with pixel centres at integer coordinates.
``flow_ab[p]`` takes pixel p of picture a to ``p + flow_ab[p]`` in picture b, so that
``a(p) ~ b(p + flow_ab(p))`` and ``warp(b, flow_ab) ~ a``. For frame t of a video, ``backward``
is the flow from t to t-1 and ``forward`` the flow from t-1 to t: ``warp(previous, backward)``
brings the previous frame (or its stylised version) onto frame t, and ``consistency`` marks the
pixels where that is meaningful. ``carry`` does what ``warp`` does with a sharper filter, for
the stylised result that starts the next frame: bilinear sampling at fractional positions blurs
it, and its style loss with it (measured on VGG16/HED at 250 x 333: 221 for a frame's result,
1921 after one bilinear warp by the flow to the next frame, 4217 after a half-pixel shift, and
391 with ``carry``, near the 395 of the same result moved by whole pixels). A demo on the
synthetic clip, whose true flow is known::

    python -c "from tf1cnn.style_transfer import flow, images, samples, sample_clip as s
    clip = s.make(images.read_rgb(samples.sample(samples.SAMPLE_CONTENT)), frames=2)
    w = flow.estimate(clip.frames[1], clip.frames[0])
    print(abs(w - clip.backward[1])[clip.visible[1]].mean())"

``estimate`` uses OpenCV's DIS flow (Kroeger et al., ECCV 2016), from the video extra.
"""
from __future__ import annotations

import numpy as np

from . import optional

# DIS settings: OpenCV's MEDIUM preset (patch 8, stride 3, 25 gradient-descent steps, 5
# variational-refinement steps), carried down to the finest scale, full resolution, where the
# preset stops at half resolution. On the synthetic clip at 250 x 333 (sample_clip.py) this cuts
# the mean endpoint error from 0.065 to 0.024 pixels for about 25 ms instead of 8 per flow;
# Farneback's method, at 0.4 pixels, is far worse.
DIS_PATCH_SIZE = 8
DIS_PATCH_STRIDE = 3
DIS_GRADIENT_STEPS = 25
DIS_REFINEMENT_STEPS = 5
DIS_FINEST_SCALE = 0

# Ruder et al.'s thresholds (section 3.2). A pixel is disoccluded where the forward and
# backward flows do not cancel: |w^ + w~|^2 > DISOCCLUSION_SCALE (|w^|^2 + |w~|^2) +
# DISOCCLUSION_OFFSET; on a motion boundary where |grad w~x|^2 + |grad w~y|^2 >
# BOUNDARY_SCALE |w~|^2 + BOUNDARY_OFFSET.
DISOCCLUSION_SCALE = 0.01
DISOCCLUSION_OFFSET = 0.5  # squared pixels
BOUNDARY_SCALE = 0.01
BOUNDARY_OFFSET = 0.002


def estimate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The flow from picture ``a`` to picture ``b`` (float32 [H, W, 2]) so that
    ``a(p) ~ b(p + flow(p))``, from float RGB [H, W, 3] or grey [H, W] in [0, 255]."""
    if a.shape != b.shape:
        raise ValueError(f"flow needs two pictures of one size, found {a.shape} and {b.shape}")
    cv2 = optional.video_module("cv2")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    dis.setPatchSize(DIS_PATCH_SIZE)
    dis.setPatchStride(DIS_PATCH_STRIDE)
    dis.setGradientDescentIterations(DIS_GRADIENT_STEPS)
    dis.setVariationalRefinementIterations(DIS_REFINEMENT_STEPS)
    dis.setFinestScale(DIS_FINEST_SCALE)
    return dis.calc(_grey(cv2, a), _grey(cv2, b), None).astype(np.float32)


def pair(previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(backward, forward) for frame t: the flow from ``current`` to ``previous`` and back."""
    return estimate(current, previous), estimate(previous, current)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """float32 ``image`` [H, W] or [H, W, C] sampled at ``p + flow(p)``: exact bilinear
    interpolation, with the border pixels repeated outward."""
    height, width = _sampling_size(image, flow)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    # Clamping the point is the same as repeating the border: outside, both neighbours are equal.
    x = np.clip(cols + flow[..., 0], 0, width - 1)
    y = np.clip(rows + flow[..., 1], 0, height - 1)
    # The last column (row) interpolates from the one before it with weight 1.
    left = np.minimum(np.floor(x).astype(np.intp), max(width - 2, 0))
    top = np.minimum(np.floor(y).astype(np.intp), max(height - 2, 0))
    fx, fy = x - left, y - top
    image = np.asarray(image, np.float32)
    if image.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    right, bottom = np.minimum(left + 1, width - 1), np.minimum(top + 1, height - 1)
    upper = image[top, left] * (1 - fx) + image[top, right] * fx
    lower = image[bottom, left] * (1 - fx) + image[bottom, right] * fx
    return (upper * (1 - fy) + lower * fy).astype(np.float32)


def carry(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """float32 RGB ``image`` [H, W, 3] in [0, 255] sampled at ``p + flow(p)`` with OpenCV's
    8 x 8 Lanczos filter (positions to 1/32 pixel), border pixels repeated, clipped to
    [0, 255]: ``warp`` without the blur, for a stylised picture whose texture must survive."""
    height, width = _sampling_size(image, flow)
    cv2 = optional.video_module("cv2")
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    x = (cols + flow[..., 0]).astype(np.float32)
    y = (rows + flow[..., 1]).astype(np.float32)
    moved = cv2.remap(np.asarray(image, np.float32), x, y, cv2.INTER_LANCZOS4,
                      borderMode=cv2.BORDER_REPLICATE)
    return np.clip(moved, 0.0, 255.0)


def consistency(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """float32 [H, W] in {0, 1} for frame t: 0 where the previous frame cannot be carried over.

    ``backward`` is the flow w~ from frame t to t-1, ``forward`` the flow from t-1 to t. As in
    Ruder et al. (2016), section 3.2, with w^ = warp(forward, backward), the forward flow
    brought to frame t, a pixel p is masked out (0) where

    - it was disoccluded: |w^ + w~|^2 > 0.01 (|w^|^2 + |w~|^2) + 0.5, the two flows not
      cancelling;
    - it lies on a motion boundary: |grad w~x|^2 + |grad w~y|^2 > 0.01 |w~|^2 + 0.002, with
      central differences (one-sided at the border);
    - p + w~(p) falls outside the previous frame, [0, W-1] x [0, H-1] (``entering``).
    """
    if forward.shape != backward.shape:
        raise ValueError(f"backward and forward flows differ in shape: {backward.shape} and "
                         f"{forward.shape}")
    carried = warp(forward, backward)
    length = np.sum(backward ** 2, axis=-1)
    disoccluded = (np.sum((carried + backward) ** 2, axis=-1)
                   > DISOCCLUSION_SCALE * (np.sum(carried ** 2, axis=-1) + length)
                   + DISOCCLUSION_OFFSET)
    steepness = sum(np.square(d) for c in (0, 1)
                    for d in np.gradient(backward[..., c], axis=(0, 1)))
    boundary = steepness > BOUNDARY_SCALE * length + BOUNDARY_OFFSET
    return (~(disoccluded | boundary | entering(backward))).astype(np.float32)


def entering(backward: np.ndarray) -> np.ndarray:
    """bool [H, W]: where frame t shows new picture at its edge, the pixels p that the
    ``backward`` flow (t to t-1) takes outside the previous frame: p + w~(p) beyond
    [0, W-1] x [0, H-1]."""
    height, width = backward.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width]
    x, y = cols + backward[..., 0], rows + backward[..., 1]
    return (x < 0) | (x > width - 1) | (y < 0) | (y > height - 1)


def warping_error(current: np.ndarray, previous: np.ndarray, backward: np.ndarray,
                  mask: np.ndarray) -> float:
    """Mean |current - warp(previous, backward)| over pixels and channels, weighted by
    ``mask`` [H, W], in the pictures' units; NaN where the mask is empty (all zero), since
    then nothing was compared."""
    difference = np.abs(np.asarray(current, np.float64) - warp(previous, backward))
    if difference.ndim == 3:
        difference = difference.mean(axis=2)
    weight = np.asarray(mask, np.float64)
    total = weight.sum()
    if total == 0:
        return float("nan")
    return float((difference * weight).sum() / total)


def _sampling_size(image: np.ndarray, flow: np.ndarray) -> tuple[int, int]:
    """``image``'s (height, width); ValueError unless ``flow`` is [height, width, 2]."""
    height, width = image.shape[:2]
    if flow.shape != (height, width, 2):
        raise ValueError(f"a flow for a {height} x {width} image is [{height}, {width}, 2], "
                         f"found {list(flow.shape)}")
    return height, width


def _grey(cv2, picture: np.ndarray) -> np.ndarray:
    """uint8 grey [H, W] from float RGB [H, W, 3] or grey [H, W] in [0, 255]."""
    pixels = np.clip(np.rint(picture), 0, 255).astype(np.uint8)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return pixels
