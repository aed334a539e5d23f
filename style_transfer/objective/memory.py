"""How much memory a style-transfer run needs, and how much this machine has: estimate, plan
and probe.

The estimate is a model fitted to measured peaks, not a promise: peak resident memory is about
``FIXED_BYTES + weights x WEIGHT_COPIES + activations x ACTIVATION_COPIES``, plus L-BFGS's
history, where *activations* are the outputs of every layer of the trunk for one image
(``vgg.activation_bytes``): 4 bytes a value in float32; in bfloat16, 2 past ``conv1_1``, plus
the float32 copies the losses read at the content and style layers. The first two terms are
the *runtime* (``runtime_bytes``); the rest, what the optimisation itself needs, is what a
*budget* (``--max-memory``) bounds.

``plan`` picks, for each coarse-to-fine level, one pass when it fits the budget, and otherwise
the largest tiles that do (:mod:`~style_transfer.objective.tiled`): a tiled level needs the
activations of one tile's window, and what grows with the whole image (``level_bytes``). A level
that cannot fit even in the smallest tiles is refused with the budget it would need, before any
graph is built.

The two ``/proc`` probes live here too (shared with the benchmarks): ``available_memory``
(MemAvailable) and ``peak_resident`` (this process's VmHWM).

    python -m tf1cnn.style_transfer.objective.memory 4320 7680 [bfloat16]  # VGG19's plans here
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence

import numpy as np

from tf1cnn.common import options, runtime
from tf1cnn.common.errors import UsageError

from ..network import vgg
from ..network.matconvnet import Layer
from . import tiles

# The constants are set from measured peaks (VmHWM); see docs/tiles.md.
# TensorFlow's runtime and the weights read from the cache (weights.py).
FIXED_BYTES = 1592 * 2**20
WEIGHT_COPIES = 3
ACTIVATION_COPIES = 1.5
# SciPy's L-BFGS-B keeps 2 x m correction vectors and about 12 more of the image's size in
# float64 (m = 10 corrections: 32 values), plus float32 copies of the image and its gradient.
LBFGS_VECTORS_FIXED = 12
# In tiles, where activations no longer dwarf them, SciPy's float64 arrays of the image's size
# count too: the bounds (2), the iterate, the last evaluated point, the gradient handed back.
LBFGS_TILED_COPIES = 6
# A tiled level's float32 RGB arrays of the whole image: the Variable, the image fetched for an
# evaluation, its gradient, a progress record's picture and its copies on the way to a PNG.
IMAGE_COPIES = 6
ADAM_COPIES = 2  # Adam's two moments
MARGIN = 2**30  # kept free of the default budget


def lbfgs_bytes_per_value(corrections: int = 10) -> int:
    """Bytes SciPy's L-BFGS-B holds per optimised value with ``corrections`` pairs."""
    return 8 * (2 * corrections + LBFGS_VECTORS_FIXED)


def scaled(height: int, width: int, scale: float) -> tuple[int, int]:
    """A size times ``scale``, rounded, at least one pixel."""
    return max(1, round(height * scale)), max(1, round(width * scale))


def memory_estimate(layers: Sequence[Layer], height: int, width: int, optimizer: str = "adam",
                    style_scale: float = 1.0, corrections: int = 10,
                    precision: str = "float32", outputs: Sequence[str] = ()) -> int:
    """Bytes of peak memory expected for an optimisation through ``layers`` at this size: the
    larger of the optimisation and the one forward pass of a style image at ``style_scale``.
    ``precision`` the trunk's; in bfloat16, ``outputs`` are the layers the losses read."""
    optimise = ACTIVATION_COPIES * vgg.activation_bytes(layers, height, width, precision,
                                                        outputs)
    if optimizer == "lbfgs":
        optimise += lbfgs_bytes_per_value(corrections) * height * width * 3
    style = vgg.activation_bytes(layers, *scaled(height, width, style_scale), precision,
                                 outputs)
    return int(FIXED_BYTES + WEIGHT_COPIES * vgg.weight_bytes(layers) + max(optimise, style))


def runtime_bytes(layers: Sequence[Layer]) -> int:
    """The part of the estimate that a budget does not cover: TensorFlow and the weights."""
    return int(FIXED_BYTES + WEIGHT_COPIES * vgg.weight_bytes(layers))


def level_bytes(layers: Sequence[Layer], level, size: int, precision: str = "float32") -> int:
    """Bytes beyond the runtime for a level (a ``StyleConfig``) evaluated in tiles of ``size``
    interior pixels in this ``precision``: one window's activations, and the whole image's
    arrays, optimiser state, content target and style picture."""
    height, width = level.height, level.width
    channels = 1 if level.colour_control == "luminance" else 3
    window = tiles.window_size(height, width, size, vgg.halo(layers))
    image = 4 * height * width * 3
    state = (IMAGE_COPIES + (channels == 1)) * image  # luminance keeps the content's chroma
    if level.optimizer == "lbfgs":
        state += (lbfgs_bytes_per_value(level.lbfgs_corrections) + 8 * LBFGS_TILED_COPIES) * \
            height * width * channels
    else:
        state += ADAM_COPIES * 4 * height * width * channels
    rows, cols, depth = vgg.shapes(layers, height, width)[level.content_layer]
    style = 4 * 3 * int(np.prod(scaled(height, width, level.style_scale)))
    window_bytes = vgg.activation_bytes(layers, *window, precision, _outputs(level))
    return int(ACTIVATION_COPIES * window_bytes + state
               + 4 * rows * cols * depth + style)


def _outputs(level) -> tuple[str, ...]:
    """The end points a level's losses read: its content and style layers."""
    return (level.content_layer, *level.style_layers)


def gib(size: int) -> str:
    """Bytes as GiB to one decimal, rounded up: a budget that says enough is enough."""
    return f"{math.ceil(size / 2**30 * 10) / 10:.1f}"


def amount(size: int) -> str:
    """Bytes for a person: GiB from 0.1 GiB, else MiB from 1 MiB, else bytes."""
    if size >= 2**30 / 10:
        return f"{size / 2**30:.1f} GiB"
    return f"{size / 2**20:.0f} MiB" if size >= 2**20 else f"{size} bytes"


def default_budget(layers: Sequence[Layer]) -> int:
    """What this machine has free, less the runtime and a margin."""
    return available_memory() - runtime_bytes(layers) - MARGIN


def plan(layers: Sequence[Layer], levels: Sequence, budget: int | None = None,
         precision: str = "float32") -> list[int | None]:
    """Per level config (``StyleConfig.levels``), None to evaluate it in one pass, or the
    largest tile size (a multiple of the trunk's stride) whose estimate fits ``budget`` bytes
    beyond the runtime (None: ``default_budget``), for a trunk in ``precision``. UsageError,
    giving the budget it would need, when a level fits not even in the smallest tiles (the
    largest such level, so that the budget named is enough for them all)."""
    given = budget is not None
    budget = default_budget(layers) if budget is None else budget
    stride = vgg.strides(layers)[layers[-1].name]
    found: list[int | None] = [None] * len(levels)
    for index in sorted(range(len(levels)), key=lambda k: -levels[k].height * levels[k].width):
        level = levels[index]
        height, width = level.height, level.width
        whole = memory_estimate(layers, height, width, level.optimizer, level.style_scale,
                                level.lbfgs_corrections, precision, _outputs(level)) - \
            runtime_bytes(layers)
        sizes = range(-(-max(height, width) // stride) * stride, 0, -stride)
        size = None if whole <= budget else \
            next((s for s in sizes if level_bytes(layers, level, s, precision) <= budget), 0)
        if size == 0:
            least = level_bytes(layers, level, stride, precision)
            if given:
                have = (f"the budget is {amount(budget)} (--max-memory); give --max-memory "
                        f"{gib(least)}G or more, or use")
            else:
                have = (f"{available_memory() / 2**30:.1f} GiB is available, of which "
                        f"{MARGIN / 2**30:.0f} GiB is kept free; use")
            raise UsageError(
                f"{height}x{width} needs about {gib(least + runtime_bytes(layers))} GiB of "
                f"memory even in the smallest tiles ({stride}x{stride} pixels), "
                f"{runtime_bytes(layers) / 2**30:.1f} GiB of it for the runtime, and {have} "
                f"a smaller --height/--width"
                + (" or --style-scale" if level.style_scale > 1 else "")
                + (", --optimizer adam or fewer --lbfgs-corrections"
                   if level.optimizer == "lbfgs" else ""))
        found[index] = size
    return found


def describe(layers: Sequence[Layer], level, size: int, precision: str = "float32") -> str:
    """How a tiled level is evaluated, for the log."""
    count = tiles.count(level.height, level.width, size)
    need = level_bytes(layers, level, size, precision)
    return (f"{level.height}x{level.width} in {count} tiles of up to {size}x{size} pixels "
            f"with a {vgg.halo(layers)}-pixel halo; about {need / 2**30:.1f} GiB beyond the "
            f"runtime's {runtime_bytes(layers) / 2**30:.1f}")


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


def main(argv: Sequence[str] | None = None) -> int:
    """Print VGG19's plan for Adam and for L-BFGS at a size, on this machine. Bad arguments
    are one ``error:`` line and exit 2, as in the tools."""
    parser = options.UsageParser(prog="python -m tf1cnn.style_transfer.objective.memory",
                                 description="VGG19's memory plan for Adam and L-BFGS at "
                                             "HEIGHT x WIDTH on this machine.")
    parser.add_argument("height", type=int)
    parser.add_argument("width", type=int)
    parser.add_argument("precision", nargs="?", default="float32", choices=runtime.PRECISIONS)
    return options.guarded(lambda: _show_plans(**vars(parser.parse_args(argv))))


def _show_plans(height: int, width: int, precision: str) -> int:
    from ..config import StyleConfig

    StyleConfig(height=height, width=width).check()  # a size the tool itself would take
    precision = runtime.resolve_precision(precision)
    trunk = vgg.trunk(vgg.random_layers(19), ["relu4_2", "relu5_1"])
    print(f"{available_memory() / 2**30:.1f} GiB available; the runtime takes "
          f"{runtime_bytes(trunk) / 2**30:.1f} GiB of it")
    for name in ("adam", "lbfgs"):
        config = StyleConfig(height=height, width=width, optimizer=name)
        try:
            (size,) = plan(trunk, [config], precision=precision)
        except UsageError as refused:
            print(f"{name}: {refused}")
            continue
        one = memory_estimate(trunk, height, width, name, precision=precision,
                              outputs=_outputs(config)) / 2**30
        print(f"{name}: " + (f"one pass, about {one:.1f} GiB" if size is None else
                             describe(trunk, config, size, precision)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
