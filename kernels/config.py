"""The settings of one feature-map demo, with the 2019 tutorial's values as defaults.

The tutorial convolved a grey image with strides [1, 3, 3, 1] and SAME padding; those stay the
defaults. What it got wrong is fixed by default and kept behind ``seed_kernels``: with it the
demo uses the tutorial's exact filters (unnormalised grey blur, RGB filters that mix channels)
and its edge clip at 255. ``DemoConfig`` is frozen: derive a variant with
``dataclasses.replace``. ``check`` rejects impossible values with one line, before any work.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from tf1cnn.style_transfer.errors import UsageError

from .bank import NAMES, check_name
from .reference import PADDINGS

COLOURS = ("grey", "rgb")


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    image: Optional[str] = None  # JPEG or PNG of any mode; None uses the bundled photograph
    output: str = "kernels_demo.png"  # the figure, written as PNG unless show is set
    show: bool = False  # open a window instead of writing output
    colour: str = "grey"  # the tutorial converted to grey before filtering
    stride: int = 3  # the tutorial's strides=[1, 3, 3, 1]
    padding: str = "SAME"
    kernels: tuple[str, ...] = NAMES
    seed_kernels: bool = False  # the tutorial's exact filters and edge clip, faults included
    dpi: int = 100  # of the saved figure; each map is drawn at its own resolution or less

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
