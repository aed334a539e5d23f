"""A training worker's progress lines: what it prints every ``log_every`` global steps.

Plain Python, free of TensorFlow. The toy model's line is the tutorial's (step, local steps,
loss, time); a picture model's adds each loss term, the pictures per second that the whole
cluster trains on as this worker sees the global step move, and the time left to
``last_step`` at that rate.
"""
from __future__ import annotations

import time

from .config import TrainConfig


class Progress:
    """The worker's progress lines: one per ``log_every`` global steps that it completes. A
    picture model's lines add the pictures per second that the whole cluster trains on, seen
    from this worker, each loss term, and an estimate of the time left."""

    def __init__(self, who: str, config: TrainConfig, pictures: int, workers: int):
        self.who, self.config = who, config
        # A global step is one worker's batch, or in sync mode every worker's.
        self.per_step = pictures * (workers if config.sync else 1)
        self.started = time.monotonic()
        self.first: int | None = None
        self.logged: int | None = None

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def line(self, step: int, local_steps: int, loss: float, parts: dict) -> str | None:
        """The line for the global step ``step`` this worker's update made, or None."""
        self.first = step if self.first is None else self.first
        # In sync mode several local steps see the same global step.
        if not step or step % self.config.log_every or step == self.logged:
            return None
        self.logged = step
        seconds = self.seconds()
        text = (f"{self.who} global_step={step}/{self.config.last_step} "
                f"local_steps={local_steps} loss={loss:.6g}")
        if self.per_step:
            rate = (step - self.first) / seconds if seconds else 0.0
            eta = (self.config.last_step - step) / rate if rate else float("inf")
            text += "".join(f" {name}={value:.6g}" for name, value in parts.items())
            text += (f" pictures_per_s={rate * self.per_step:.2f} "
                     f"eta={_duration(eta)}")
        return text + f" time={seconds:.2f}s"


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
