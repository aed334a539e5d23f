"""The settings of one training run, with the 2019 tutorial's values as defaults.

The tutorial trained 1 → 10 ReLU → 1 on 100 points of y = x² + N(0, 0.1²) with gradient descent
at learning rate 0.001, on 1 ps and 3 workers, until global step 100000, logging every 500
steps and checkpointing into ./tmp. ``TrainConfig`` is frozen: derive variants with
``dataclasses.replace``. ``check`` rejects impossible values with one line, before any work.
"""
from __future__ import annotations

import dataclasses

from tf1cnn.style_transfer.errors import UsageError


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    checkpoint_dir: str = "cluster_output"  # the tutorial used ./tmp and deleted it first
    last_step: int = 100_000  # StopAtStepHook(last_step=100000)
    workers: int = 3
    ps: int = 1
    points: int = 100
    noise: float = 0.1
    seed: int = 0  # the tutorial drew fresh noise; every task must draw the same
    hidden: int = 10
    learning_rate: float = 0.001
    sync: bool = False  # the tutorial trained asynchronously
    log_every: int = 500  # global steps between progress lines
    checkpoint_every: int = 1000  # global steps between the chief's checkpoints
    timeout: float = 30.0  # seconds a task waits for the others before giving up
    allow_remote: bool = False  # a non-loopback cluster must be asked for

    def check(self) -> None:
        """Raise UsageError on a value no run could use."""
        for name in ("last_step", "workers", "ps", "points", "hidden", "log_every",
                     "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be a whole number, at least "
                                 f"1; got {value!r}")
        if not self.learning_rate > 0:
            raise UsageError(f"--learning-rate must be positive, got {self.learning_rate}")
        if not self.noise >= 0:
            raise UsageError(f"--noise must be at least 0, got {self.noise}")
        if not self.timeout > 0:
            raise UsageError(f"--timeout must be positive, got {self.timeout}")
        if not 0 <= self.seed < 2 ** 32:
            raise UsageError(f"--seed must be within [0, 2**32), got {self.seed}")

    def run_settings(self) -> dict:
        """What a checkpoint depends on: resuming under other values would train another
        problem."""
        return {name: getattr(self, name)
                for name in ("points", "noise", "seed", "hidden", "learning_rate", "sync")}
