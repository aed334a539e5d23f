"""Soft masks: the reach ``masks.REACH`` that the issue's painted masks need, and the cost.

    python benchmarks/soft_masks.py [--reaches 0-16] [--output benchmarks/soft_masks.json]

Three two-region masks of 300 x 433 pixels (about 130,000), red with a blue right half behind
a wavy boundary, a blue disc on the red side and a red disc on the blue side, as a paint
program stores them:

* ``aa``: anti-aliased, the hard regions blurred by a Gaussian of sigma 1 px, saved as PNG;
* ``jpeg``: the same saved as JPEG at quality 70;
* ``brush``: painted with a soft brush, a Gaussian of sigma 4 px (``brush_5``: sigma 5);

and ``junction`` (``junction_brush``), the ``aa`` (``brush``) mask under a green band, so that
three regions meet at two points.

For each mask and reach r, ``masks.regions`` at the default tolerance counts the pixels it
refuses, with ``EDGE`` as it is and with ``EDGE`` = 0 (what the blends alone explain). Then,
at ``masks.REACH``, the pixels each mask splits between two regions, and the time and peak
numpy memory (tracemalloc) of ``regions`` on the brush mask scaled to 3840 x 2160 against a
mask of pure colours of that size, with the cores other processes kept busy meanwhile (above
~0.1 the seconds were disturbed). Prints a table and writes the JSON.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import tracemalloc
from collections.abc import Sequence

import machine
import numpy as np
import scipy.ndimage
from PIL import Image

from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.control import masks

COLOURS = ["red", "blue"]
RED, BLUE, GREEN = np.array([255.0, 0, 0]), np.array([0, 0, 255.0]), np.array([0, 255.0, 0])


def labels(height: int = 300, width: int = 433) -> np.ndarray:
    """Region of each pixel [height, width]: 0 red, 1 blue."""
    rows, cols = np.mgrid[:height, :width].astype(np.float64)
    found = cols > width / 2 + 0.05 * width * np.sin(2 * np.pi * rows / (height / 3))
    found |= np.hypot(rows - height * 0.3, cols - width * 0.22) < 0.13 * height
    found &= np.hypot(rows - height * 0.7, cols - width * 0.8) >= 0.13 * height
    return found.astype(int)


def painted(label: np.ndarray, palette: Sequence[np.ndarray], sigma: float) -> np.ndarray:
    """uint8 RGB of regions ``label`` in ``palette``, each region's share blurred by sigma."""
    shares = np.stack([scipy.ndimage.gaussian_filter((label == index).astype(np.float64),
                                                     sigma) for index in range(len(palette))],
                      axis=2)
    return np.round(shares @ np.stack(palette)).clip(0, 255).astype(np.uint8)


def jpeg(rgb: np.ndarray, quality: int = 70) -> np.ndarray:
    """``rgb`` after a JPEG round trip at ``quality``."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def mask_set() -> dict[str, tuple[np.ndarray, list[str]]]:
    """The four masks and the colours they list."""
    label = labels()
    aa = painted(label, [RED, BLUE], 1.0)
    three = label.copy()
    three[: label.shape[0] // 5] = 2  # a green band on top: two T-junctions
    return {"aa": (aa, COLOURS), "jpeg": (jpeg(aa), COLOURS),
            "brush": (painted(label, [RED, BLUE], 4.0), COLOURS),
            "brush_5": (painted(label, [RED, BLUE], 5.0), COLOURS),
            "junction": (painted(three, [RED, BLUE, GREEN], 1.0), COLOURS + ["lime"]),
            "junction_brush": (painted(three, [RED, BLUE, GREEN], 4.0), COLOURS + ["lime"])}


def refused(mask: np.ndarray, colours: list[str], reach: int, edge: int) -> int:
    """How many pixels ``regions`` refuses at ``reach``, with ``masks.EDGE`` = ``edge``."""
    kept, masks.EDGE = masks.EDGE, edge  # a module constant: set for this call only
    try:
        masks.regions(mask.astype(np.float32), colours, reach=reach)
        return 0
    except UsageError as error:
        counts = re.findall(r"(?:has|and) (\d+) pixels", str(error))
        return sum(int(count) for count in counts)
    finally:
        masks.EDGE = kept


def soft_pixels(mask: np.ndarray, colours: list[str]) -> int | None:
    """How many pixels ``regions`` splits between regions (None: it refuses the mask)."""
    try:
        weights = masks.regions(mask.astype(np.float32), colours)
    except UsageError:
        return None
    return int((weights.max(axis=2) < 1).sum())


def cost(mask: np.ndarray, colours: list[str]) -> dict:
    """Seconds and peak traced MB of one ``regions`` call on ``mask``, and the cores other
    processes kept busy meanwhile."""
    pixels = mask.astype(np.float32)
    tracemalloc.start()
    meter = machine.Meter()
    masks.regions(pixels, colours)
    seconds, others = meter.seconds(), meter.other_cores()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": round(seconds, 2), "peak_mb": round(peak / 2**20, 1),
            "other_cores": round(others, 2)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reaches", default="0-16", help="first-last reach to try")
    parser.add_argument("--output", default="benchmarks/soft_masks.json")
    args = parser.parse_args(argv)
    first, last = (int(part) for part in args.reaches.split("-"))
    found = {"reach": masks.REACH, "edge": masks.EDGE, "tolerance": masks.TOLERANCE,
             "refused": {}, "refused_without_edge": {}, "soft_pixels": {}}
    for name, (mask, colours) in mask_set().items():
        found["refused"][name] = [refused(mask, colours, r, masks.EDGE)
                                  for r in range(first, last + 1)]
        found["refused_without_edge"][name] = [refused(mask, colours, r, 0)
                                               for r in range(first, last + 1)]
        found["soft_pixels"][name] = soft_pixels(mask, colours)
        found["pixels"] = int(mask.shape[0] * mask.shape[1])
    found["reaches"] = list(range(first, last + 1))
    found["reach_needed"] = {name: next((r for r, n in zip(found["reaches"], counts) if n == 0),
                                        None) for name, counts in found["refused"].items()}
    big = labels(2160, 3840)
    found["cost_4k"] = {"brush": cost(painted(big, [RED, BLUE], 4.0), COLOURS),
                        "pure": cost(painted(big, [RED, BLUE], 0.0), COLOURS)}
    print("refused pixels by reach (with EDGE / blends alone):")
    print(f"{'reach':14} " + " ".join(f"{r:>9}" for r in found["reaches"]))
    for name in found["refused"]:
        print(f"{name:14} " + " ".join(f"{a:>4}/{b:<4}" for a, b in
                                     zip(found["refused"][name],
                                         found["refused_without_edge"][name])))
    print("smallest reach that refuses nothing:", found["reach_needed"])
    print("soft pixels at reach", masks.REACH, found["soft_pixels"])
    print("3840x2160:", found["cost_4k"])
    with open(args.output, "w") as out:
        json.dump(found, out, indent=1)
        out.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
