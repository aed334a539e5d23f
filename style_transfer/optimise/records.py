"""The typed records a style run yields, and the schedule that picks the logged steps.

:meth:`~style_transfer.optimise.run.StyleRun.records` yields, per level,

* :class:`LevelStart` when the level begins (fresh, or resumed at a step);
* :class:`Progress` at each step the schedule picks (by default the 2019 tutorial's: steps
  1-5, every 10 up to 20, then every 20, and the last), and at a step where the level stops
  early: losses, evaluations, time, the image, whether a checkpoint was written, and the
  stop rules the level runs under (what a progress line's ETA bound reads);
* :class:`LevelEnd` with the level's final image and losses.

The records hold numbers and arrays only: printing, files and plots belong to their consumer
(:mod:`~style_transfer.shell.job`, :mod:`~style_transfer.shell.video_job`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .stopping import StopRules

Schedule = Callable[[int, int], bool]  # (step, iterations) -> whether that step is recorded


@dataclasses.dataclass(frozen=True)
class LevelStart:
    level: int  # 0-based; the last level is the full size
    levels: int
    height: int
    width: int
    iterations: int
    resumed_at: int | None  # the checkpoint's step when resumed; None when started fresh
    ended: str = ""  # why the resumed level had already stopped early; it is not optimised


@dataclasses.dataclass(frozen=True)
class Progress:
    level: int
    levels: int
    height: int
    width: int
    step: int
    iterations: int
    evaluations: int  # loss-and-gradient evaluations of this level so far (Adam: one a step)
    losses: dict  # "total" (weighted) and each term unweighted: "content", "style", "tv"
    seconds: float  # wall time since the previous record of this level
    steps_timed: int  # optimisation steps in that time
    checkpointed: bool  # a checkpoint was written at this step
    stopped: str  # why the level ended before ``iterations``; empty if it did not
    image: np.ndarray  # [height, width, 3] float RGB after this step, mean added back
    stops: StopRules = dataclasses.field(default_factory=StopRules)  # the level's (default:
    # none), which a progress line's ETA bound reads

    @property
    def seconds_per_step(self) -> float:
        """The wall time of one step since the previous record of this level."""
        return self.seconds / max(self.steps_timed, 1)

    @property
    def pixel_sum(self) -> float:
        """Sum of the image after this step, before clipping: a fingerprint of the run."""
        return float(self.image.sum(dtype=np.float64))


@dataclasses.dataclass(frozen=True)
class LevelEnd:
    level: int
    levels: int
    step: int
    image: np.ndarray  # the level's final image, float RGB, mean added back
    losses: dict  # the last record's (Adam's: of the image entering the last step); else at
    # the final image, evaluated once (a level resumed at its end records no step)
    evaluations: int  # as in Progress, up to the final image


def is_logged(step: int, iterations: int) -> bool:
    """The tutorial's schedule: 1-5, then every 10 up to 20, then every 20; plus the last."""
    return step <= 5 or (step <= 20 and step % 10 == 0) or step % 20 == 0 or step == iterations
