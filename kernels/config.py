"""The settings of one feature-map demo, with the 2019 tutorial's values as defaults.

The tutorial convolved a grey image with strides [1, 3, 3, 1] and SAME padding; those stay the
defaults. What it got wrong is fixed by default and kept behind ``seed_kernels``: with it the
demo uses the tutorial's exact filters (unnormalised grey blur, RGB filters that mix channels)
and its edge clip at 255. ``DemoConfig`` is frozen: derive a variant with
``dataclasses.replace``. ``check`` rejects impossible values with one line, before any work.
Each field's metadata holds its command-line help and parser (see ``common.options``).
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Optional

from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import option

from .bank import NAMES, check_name
from .reference import PADDINGS

COLOURS = ("grey", "rgb")


def whole_number(text: str) -> int:
    """Parse ``--stride``: say "whole number of pixels" where argparse would say "invalid int"."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of pixels, at least 1; got {text!r}") from None


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    image: Optional[str] = option(  # None uses the bundled photograph
        None, "JPEG or PNG image, any mode; if omitted, the bundled photograph", metavar="PATH")
    output: str = option("kernels_demo.png", "where to write the figure (PNG)", metavar="PATH")
    show: bool = option(False, "open the figure in a window instead of writing --output")
    colour: str = option(  # the tutorial converted to grey before filtering
        "grey", "filter one grey channel (as the tutorial) or R, G and B", choices=COLOURS)
    stride: int = option(  # the tutorial's strides=[1, 3, 3, 1]
        3, "step of the filter window in pixels, both directions", type=whole_number)
    padding: str = option("SAME", "SAME keeps ceil(size / stride) pixels; VALID drops the border",
                          choices=PADDINGS, type=str.upper)
    kernels: tuple[str, ...] = option(NAMES, f"kernels to apply, from: {' '.join(NAMES)}",
                                      metavar="NAME")
    seed_kernels: bool = option(
        False, "use the tutorial's exact filters, faults included: unnormalised grey blur, RGB "
               "filters that mix channels, edge clip at 255")
    dpi: int = option(  # each map is drawn at its own resolution or less
        100, "resolution of the written figure")

    def check(self) -> None:
        """Raise UsageError on a value no run could use."""
        if isinstance(self.stride, bool) or not isinstance(self.stride, int) or self.stride < 1:
            raise UsageError(f"--stride must be a whole number of pixels, at least 1; "
                             f"got {self.stride!r}")
        if self.padding not in PADDINGS:
            raise UsageError(f"--padding must be one of {', '.join(PADDINGS)}, "
                             f"got {self.padding!r}")
        if self.colour not in COLOURS:
            raise UsageError(f"--colour must be one of {', '.join(COLOURS)}, got {self.colour!r}")
        if not self.kernels:
            raise UsageError("--kernels needs at least one kernel name")
        for name in self.kernels:
            check_name(name)
        if len(set(self.kernels)) != len(self.kernels):
            raise UsageError(f"--kernels names a kernel twice: {' '.join(self.kernels)}")
        if not 10 <= self.dpi <= 1000:
            raise UsageError(f"--dpi must be within [10, 1000], got {self.dpi}")

    @property
    def rgb(self) -> bool:
        return self.colour == "rgb"
