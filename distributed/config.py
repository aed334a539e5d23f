"""The settings of one training run, with the 2019 tutorial's values as defaults.

The tutorial trained 1 → 10 ReLU → 1 on 100 points of y = x² + N(0, 0.1²) with gradient descent
at learning rate 0.001, on 1 ps and 3 workers, until global step 100000, logging every 500
steps and checkpointing into ./tmp. That toy model stays the default; ``--model style-net``
trains a feed-forward style network on the same cluster instead (its own settings are
``StyleNetConfig``'s), with Adam at the same learning rate (Johnson et al.'s), and defaults of
its own where the toy's make no sense: ``MODEL_DEFAULTS`` fills the fields left as None
(``settled``). ``TrainConfig`` is frozen: derive variants with ``dataclasses.replace``.
``check`` rejects impossible values with one line, before any work. Each field's metadata holds
its command-line help (see ``common.options``).
"""
from __future__ import annotations

import dataclasses

from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import option

MODELS = ("toy", "style-net")
# Johnson et al. trained 40000 steps of 4 pictures; a style network's step takes seconds, so it
# logs every 10, and its two workers take one core each here.
MODEL_DEFAULTS = {"toy": {"last_step": 100_000, "workers": 3, "log_every": 500},
                  "style-net": {"last_step": 40_000, "workers": 2, "log_every": 10}}
TOY_FIELDS = ("points", "noise", "hidden", "checkpoint_every")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    model: str = option(
        "toy", "toy: the tutorial's y = x^2 regression; style-net: a feed-forward style "
               "network (Johnson et al. 2016) trained with the style tool's VGG losses",
        choices=MODELS)
    checkpoint_dir: str = option(  # the tutorial used ./tmp and deleted it first
        "cluster_output",
        "folder for checkpoints, summaries and run.json; a rerun resumes from it")
    last_step: int | None = option(  # StopAtStepHook(last_step=100000)
        None, "train until the global step reaches this (StopAtStepHook); if omitted, 100000 "
              "(toy) or 40000 (style-net)")
    workers: int | None = option(
        None, "workers in the local cluster (ignored for one task of a multi-host cluster); "
              "if omitted, 3 (toy) or 2 (style-net)")
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
    log_every: int | None = option(
        None, "global steps between progress lines and summaries; if omitted, 500 (toy) or "
              "10 (style-net)")
    checkpoint_every: int = option(
        1000, "toy: global steps between the chief's checkpoints (style-net: "
              "--checkpoint-secs)")
    timeout: float = option(
        30.0, "seconds a task waits for the others (startup, each step, shutdown) before "
              "exiting with an error")
    allow_remote: bool = option(  # a non-loopback cluster must be asked for
        False, "allow a cluster with non-loopback addresses; its gRPC servers accept "
               "unauthenticated graphs from anyone who can reach them")

    def settled(self) -> TrainConfig:
        """This config with the fields left as None given their model's defaults."""
        defaults = MODEL_DEFAULTS[self.model]
        return dataclasses.replace(self, **{name: value for name, value in defaults.items()
                                            if getattr(self, name) is None})

    def check(self) -> None:
        """Raise UsageError on a value no run could use (of a settled config)."""
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

    def toy_options_given(self) -> list[str]:
        """The toy model's own options set away from their defaults, as --names."""
        return ["--" + name.replace("_", "-") for name in TOY_FIELDS
                if getattr(self, name) != getattr(TrainConfig, name)]

    def run_settings(self) -> dict:
        """What a checkpoint depends on: resuming under other values would train another
        problem. A style network's adds its own (``StyleNetConfig.settings``)."""
        if self.model == "style-net":
            return {"model": self.model, "learning_rate": self.learning_rate,
                    "sync": self.sync}
        return {name: getattr(self, name)
                for name in ("points", "noise", "seed", "hidden", "learning_rate", "sync")}
