"""Image files in and out: read any mode as RGB float, fit to a size, write clipped uint8 PNG.

``read_rgb`` accepts grey, grey+alpha, RGB, RGBA, palette, CMYK, bilevel and 16-bit files, and
the first frame of animations, and returns float32 RGB in [0, 255]. Transparent pixels are
composited over white. ``fit`` centre-crops to the target aspect ratio and resizes with
Pillow's Lanczos filter, channel by channel in float so 16-bit detail survives; ``resize``
does the same without the crop. ``preserve_colors`` keeps the luminance of one image and the
colours of another. ``write_png`` writes through ``files.atomic_write``, so an interrupted
write never leaves a broken image, and the file gets the user's usual mode.
"""
from __future__ import annotations

import os

import imageio.v3 as iio
import numpy as np
from PIL import Image

from . import files
from .errors import UsageError

# The file names taken as images (shared: a --content-dir's contents, a video's frame folder).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_rgb(path: str | os.PathLike, role: str = "image") -> np.ndarray:
    """Return the image at ``path`` as float32 [height, width, 3] in [0, 255]."""
    path = os.fspath(path)
    return to_rgb(_read(path, role, _decode), f"{role} image {path}")


def read_shape(path: str | os.PathLike, role: str = "image") -> tuple[int, int]:
    """(height, width) of the image at ``path``, from its header: the checks of ``read_rgb``
    that need no pixels, with its messages, for a batch checked before it is read."""
    path = os.fspath(path)
    shape = _read(path, role, lambda found: iio.improps(found, index=0).shape)
    if len(shape) not in (2, 3) or 0 in shape[:2]:
        raise UsageError(f"{role} image {path}: expected a 2-D grey or colour image, found "
                         f"array shape {shape}")
    return int(shape[0]), int(shape[1])


def _decode(path: str) -> np.ndarray:
    pixels = iio.imread(path, index=0)
    if pixels.ndim == 3 and pixels.shape[2] == 4 and iio.immeta(path).get("mode") == "CMYK":
        pixels = iio.imread(path, index=0, mode="RGB")
    return pixels


def _read(path: str, role: str, read):
    """``read(path)``, with a one-line UsageError naming ``role`` for a missing, unreadable or
    non-image file."""
    if not os.path.exists(path):
        raise UsageError(f"{role} image not found: {path}")
    if os.path.isdir(path):
        raise UsageError(f"{role} image is a directory, not a file: {path}")
    try:
        return read(path)
    except PermissionError:
        raise UsageError(f"cannot read {role} image {path}: permission denied") from None
    except Exception as exc:  # imageio raises many types for non-images
        raise UsageError(f"cannot read {role} image {path}: not a readable image file "
                         f"({type(exc).__name__})") from None


def to_rgb(pixels: np.ndarray, what: str = "image") -> np.ndarray:
    """Convert a decoded array of any common layout and dtype to float32 RGB in [0, 255]."""
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise UsageError(f"{what}: expected a 2-D grey or colour image, found array shape "
                         f"{pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise UsageError(f"{what}: the image is empty ({pixels.shape[0]}x{pixels.shape[1]})")
    if pixels.dtype == bool:
        values = pixels.astype(np.float32) * 255.0
    elif pixels.dtype.kind in "ui":
        top = 255.0 if pixels.dtype.itemsize == 1 else float(np.iinfo(pixels.dtype).max)
        values = pixels.astype(np.float32) * np.float32(255.0 / top)
    elif pixels.dtype.kind == "f":
        values = np.clip(pixels.astype(np.float32), 0.0, 1.0) * 255.0
    else:
        raise UsageError(f"{what}: unsupported pixel type {pixels.dtype}")
    channels = values.shape[2]
    if channels in (2, 4):  # composite the alpha channel over white
        alpha = values[:, :, -1:] / 255.0
        values = values[:, :, :-1] * alpha + 255.0 * (1.0 - alpha)
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return np.ascontiguousarray(values, dtype=np.float32)


def fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop ``image`` to the aspect ratio of height:width, then Lanczos-resize to it."""
    return resize(centre_crop(image, height, width), height, width)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Lanczos-resize float RGB ``image`` to height x width, clipped to [0, 255]."""
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image, dtype=np.float32)
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c], np.float32))
                           .resize((width, height), Image.Resampling.LANCZOS))
                for c in range(image.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0.0, 255.0).astype(np.float32)


# Full-range BT.601 (JPEG) RGB -> Y, Cb, Cr, each row giving one of them; offsets 0, 128, 128.
RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                         [-0.168736, -0.331264, 0.5],
                         [0.5, -0.418688, -0.081312]])


def preserve_colors(content: np.ndarray, styled: np.ndarray) -> np.ndarray:
    """The luminance (Y) of ``styled`` with the chroma (Cb, Cr) of ``content``: float RGB of
    the same size in, float RGB in [0, 255] out."""
    luma = styled.astype(np.float64) @ RGB_TO_YCBCR[0]
    ycbcr = content.astype(np.float64) @ RGB_TO_YCBCR.T
    ycbcr[..., 0] = luma
    return np.clip(ycbcr @ np.linalg.inv(RGB_TO_YCBCR).T, 0.0, 255.0).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Round and clip float pixels in [0, 255] to uint8 (one float temporary, in place)."""
    rounded = np.rint(image)
    return np.clip(rounded, 0, 255, out=rounded).astype(np.uint8)


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write float or uint8 RGB pixels as a PNG, atomically."""
    pixels = image if image.dtype == np.uint8 else to_uint8(image)
    files.write_bytes(path, iio.imwrite("<bytes>", pixels, extension=".png"))


def centre_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The central part of ``image`` with the aspect ratio height:width: the crop ``fit``
    makes before it resizes (a view, not a copy)."""
    rows, cols = image.shape[:2]
    if rows * width > cols * height:  # too tall: crop rows
        keep = max(1, round(cols * height / width))
        top = (rows - keep) // 2
        return image[top:top + keep]
    keep = max(1, round(rows * width / height))
    left = (cols - keep) // 2
    return image[:, left:left + keep]
