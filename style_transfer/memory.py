"""How much memory a style-transfer run needs, and how much this machine has: estimate and probe.

The estimate is a model fitted to measured peaks, not a promise: peak resident memory is about
``FIXED_BYTES + weights x WEIGHT_COPIES + activations x ACTIVATION_COPIES``, plus L-BFGS's
history, where *activations* are the float32 outputs of every layer of the trunk for one image
(``vgg.activation_bytes``). ``check_memory`` refuses a size whose estimate exceeds what the
system can still hand out, before any graph is built.

The two ``/proc`` probes live here too (shared with the benchmarks): ``available_memory``
(MemAvailable) and ``peak_resident`` (this process's VmHWM).

    python -m tf1cnn.style_transfer.memory 1000 1000 lbfgs   # the estimate for VGG19 to relu5_1
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from . import vgg
from .errors import UsageError
from .matconvnet import Layer

# FIXED_BYTES covers the TensorFlow runtime and the weights read from the cache (weights.py).
# Set from measured peaks (VmHWM, benchmarks/style_speed.py, Adam, full-size random VGG19):
# 1833 MB at 250x333 and 2359 MB at 512x512, estimated 2033 and 2655 MB, 200 MB and more above
# (peaks vary by about that between identical runs). Before the cache, reading the whole
# 535 MB .mat file on every run cost about 250 MB more (2075 and 2519 MB, old code, same run).
# Large sizes, measured with the .mat read, for L-BFGS with --scales 3
# (benchmarks/style_quality.py --largest): 11.3 GiB at 1500x2000 (6.8 GiB of activations) and
# 15.9 GiB at 2000x2000 (9.1 GiB), estimated 14.1 and 18.2 GiB now.
FIXED_BYTES = 1592 * 2**20
WEIGHT_COPIES = 3
ACTIVATION_COPIES = 1.5
# SciPy's L-BFGS-B keeps 2 x m correction vectors and about 12 more of the image's size in
# float64 (m = 10 corrections: 32 values), plus float32 copies of the image and its gradient.
LBFGS_VECTORS_FIXED = 12


def lbfgs_bytes_per_value(corrections: int = 10) -> int:
    """Bytes SciPy's L-BFGS-B holds per optimised value with ``corrections`` pairs."""
    return 8 * (2 * corrections + LBFGS_VECTORS_FIXED)


def scaled(height: int, width: int, scale: float) -> tuple[int, int]:
    """A size times ``scale``, rounded, at least one pixel."""
    return max(1, round(height * scale)), max(1, round(width * scale))


def memory_estimate(layers: Sequence[Layer], height: int, width: int, optimizer: str = "adam",
                    style_scale: float = 1.0, corrections: int = 10) -> int:
    """Bytes of peak memory expected for an optimisation through ``layers`` at this size: the
    larger of the optimisation and the one forward pass of a style image at ``style_scale``."""
    optimise = ACTIVATION_COPIES * vgg.activation_bytes(layers, height, width)
    if optimizer == "lbfgs":
        optimise += lbfgs_bytes_per_value(corrections) * height * width * 3
    style = vgg.activation_bytes(layers, *scaled(height, width, style_scale))
    return int(FIXED_BYTES + WEIGHT_COPIES * vgg.weight_bytes(layers) + max(optimise, style))


def _proc_kib(path: str, key: str) -> int | None:
    """The value of a ``key:  N kB`` line of a /proc file, in bytes; None if it is not there."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_memory() -> int:
    """Bytes the system can still hand out (MemAvailable), or physical memory as a fallback."""
    found = _proc_kib("/proc/meminfo", "MemAvailable")
    return found if found is not None else os.sysconf("SC_PAGE_SIZE") * os.sysconf(
        "SC_PHYS_PAGES")


def peak_resident() -> int:
    """Peak resident bytes of this process so far (VmHWM); 0 where /proc does not say."""
    return _proc_kib("/proc/self/status", "VmHWM") or 0


def check_memory(layers: Sequence[Layer], height: int, width: int, optimizer: str = "adam",
                 style_scale: float = 1.0, corrections: int = 10) -> None:
    """UsageError, with the estimate, when an optimisation at this size would not fit."""
    need = memory_estimate(layers, height, width, optimizer, style_scale, corrections)
    have = available_memory()
    if need > have:
        raise UsageError(f"{height}x{width} needs about {need / 2**30:.1f} GiB of memory, and "
                         f"{have / 2**30:.1f} GiB is available; use a smaller --height/--width"
                         f"{' or --style-scale' if style_scale > 1 else ''}")


if __name__ == "__main__":
    rows, cols = int(sys.argv[1]), int(sys.argv[2])
    trunk = vgg.trunk(vgg.random_layers(19), ["relu5_1"])
    need = memory_estimate(trunk, rows, cols, *sys.argv[3:4])
    print(f"{rows}x{cols}: about {need / 2**30:.2f} GiB; {available_memory() / 2**30:.1f} GiB "
          f"available")
