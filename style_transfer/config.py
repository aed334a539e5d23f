"""The settings of one style-transfer run, with the 2019 tutorial's values as defaults.

``StyleConfig`` is frozen: derive a variant with ``dataclasses.replace``. ``check`` rejects
impossible values with a one-line message before anything expensive happens, and
``run_settings`` lists the fields that define a run, so that a rerun resumes only a run that
used the same ones.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from .errors import UsageError

# The seed's "convX_Y" features were taken after the ReLU; MatConvNet names those reluX_Y.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
POOLING = ("avg", "max")


@dataclasses.dataclass(frozen=True)
class StyleConfig:
    content: Optional[str] = None  # content image; None uses the bundled sample
    style: Optional[str] = None  # style image; None uses the bundled sample
    output_dir: str = "style_output"
    vgg: Optional[str] = None  # local VGG .mat; None uses the cache, downloading once
    height: int = 250
    width: int = 333
    iterations: int = 300
    learning_rate: float = 2.0  # Adam
    content_weight: float = 0.01
    style_weight: float = 1.0
    content_layer: str = "relu4_2"
    style_layers: tuple[str, ...] = STYLE_LAYERS
    style_layer_weights: tuple[float, ...] = (0.5, 1.0, 1.5, 3.0, 4.0)  # deeper layers weigh more
    noise_ratio: float = 0.6  # share of noise in the initial image; the rest is the content
    noise_range: float = 20.0  # noise is uniform in (-noise_range, noise_range)
    mean_pixel: tuple[float, ...] = (123.68, 116.779, 103.939)  # ImageNet RGB mean
    pooling: str = "avg"
    seed: Optional[int] = None  # seeds the initial noise; None draws a fresh one
    checkpoint_every: int = 20

    def check(self) -> None:
        """Raise UsageError on a value no run could use."""
        for name in ("height", "width", "iterations", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1, "
                                 f"got {getattr(self, name)}")
        for name in ("learning_rate", "noise_range"):
            if not getattr(self, name) > 0:
                raise UsageError(f"--{name.replace('_', '-')} must be positive, "
                                 f"got {getattr(self, name)}")
        for name in ("content_weight", "style_weight"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative, "
                                 f"got {getattr(self, name)}")
        if not 0.0 <= self.noise_ratio <= 1.0:
            raise UsageError(f"--noise-ratio must be within [0, 1], got {self.noise_ratio}")
        if not self.style_layers:
            raise UsageError("--style-layers needs at least one layer")
        if len(self.style_layer_weights) != len(self.style_layers):
            raise UsageError(f"--style-layer-weights has {len(self.style_layer_weights)} values "
                             f"for {len(self.style_layers)} style layers")
        if len(self.mean_pixel) != 3:
            raise UsageError(f"--mean-pixel needs 3 values (R G B), got {len(self.mean_pixel)}")
        if self.pooling not in POOLING:
            raise UsageError(f"--pooling must be one of {', '.join(POOLING)}, "
                             f"got {self.pooling!r}")

    def run_settings(self) -> dict:
        """The fields that define the optimisation: a checkpoint is resumed only if they match.

        Paths are left out (the caller adds the inputs' content hashes), and so are
        ``iterations`` and ``checkpoint_every``, so a finished run can be extended.
        """
        skip = {"content", "style", "output_dir", "vgg", "iterations", "checkpoint_every"}
        return {f.name: _plain(getattr(self, f.name))
                for f in dataclasses.fields(self) if f.name not in skip}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
