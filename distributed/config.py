"""The settings of one training run, with the 2019 tutorial's values as defaults.

The tutorial trained 1 → 10 ReLU → 1 on 100 points of y = x² + N(0, 0.1²) with gradient descent
at learning rate 0.001, on 1 ps and 3 workers, until global step 100000, logging every 500
steps and checkpointing into ./tmp. ``TrainConfig`` is frozen: derive variants with
``dataclasses.replace``. ``check`` rejects impossible values with one line, before any work.
Each field's metadata holds its command-line help (see ``common.options``).
"""
from __future__ import annotations

import dataclasses

from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import option


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    checkpoint_dir: str = option(  # the tutorial used ./tmp and deleted it first
        "cluster_output",
        "folder for checkpoints, summaries and run.json; a rerun resumes from it")
    last_step: int = option(  # StopAtStepHook(last_step=100000)
        100_000, "train until the global step reaches this (StopAtStepHook)")
    workers: int = option(
        3, "workers in the local cluster (ignored for one task of a multi-host cluster)")
    ps: int = option(1, "parameter servers in the local cluster (ignored likewise)")
    points: int = option(100, "data points, evenly spaced on [-1, 1]")
    noise: float = option(0.1, "standard deviation of the Gaussian noise on y = x^2")
    seed: int = option(  # the tutorial drew fresh noise; every task must draw the same
        0, "seed of the noise; every task must use the same")
    hidden: int = option(10, "units in the hidden ReLU layer")
    learning_rate: float = option(0.001, "gradient-descent learning rate")
    sync: bool = option(  # the tutorial trained asynchronously
        False, "synchronous training (SyncReplicasOptimizer) instead of the tutorial's "
               "asynchronous updates")
    log_every: int = option(500, "global steps between progress lines")
    checkpoint_every: int = option(1000, "global steps between the chief's checkpoints")
    timeout: float = option(
        30.0, "seconds a task waits for the others (startup, each step, shutdown) before "
              "exiting with an error")
    allow_remote: bool = option(  # a non-loopback cluster must be asked for
        False, "allow a cluster with non-loopback addresses; its gRPC servers accept "
               "unauthenticated graphs from anyone who can reach them")

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
