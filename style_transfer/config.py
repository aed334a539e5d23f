"""The settings of one style-transfer run, with the 2019 tutorial's values as defaults.

``StyleConfig`` is frozen: derive a variant with ``dataclasses.replace``. ``check`` rejects
impossible values with a one-line message before anything expensive happens, and
``run_settings`` lists the fields that define a run, so that a rerun resumes only a run that
used the same ones.
"""
from __future__ import annotations

import dataclasses

from .errors import UsageError

# The seed's "convX_Y" features were taken after the ReLU; MatConvNet names those reluX_Y.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
POOLING = ("avg", "max")
OPTIMIZERS = ("adam", "lbfgs")
INITS = ("noise", "content", "style")  # or the path of an image file
CHOICES = {"pooling": POOLING, "optimizer": OPTIMIZERS}
MIN_LEVEL_SIDE = 8  # the coarsest coarse-to-fine level; relu5_1 then still has a pixel


@dataclasses.dataclass(frozen=True)
class StyleConfig:
    content: str | None = None  # content image; None uses the bundled sample
    content_dir: str | None = None  # batch mode: every image in this folder instead
    style: tuple[str, ...] = ()  # style images; none uses the bundled sample
    style_blend_weights: tuple[float, ...] = ()  # one per style, normalised; none: equal
    style_scale: float = 1.0  # style image size relative to the result's
    output_dir: str = "style_output"
    vgg: str | None = None  # local VGG .mat; None uses the cache, downloading once
    height: int = 250
    width: int = 333
    iterations: int = 300  # at the full size
    optimizer: str = "adam"
    learning_rate: float = 2.0  # Adam
    lbfgs_corrections: int = 10  # L-BFGS-B's m, SciPy's default: 2 m float64 vectors a value
    tolerance: float = 0.0  # stop when the relative loss change falls to this; 0: never
    scales: int = 1  # coarse-to-fine levels, each half the size of the next
    coarse_iterations: int = 100  # steps at each level below the full size
    content_weight: float = 0.01
    style_weight: float = 1.0
    tv_weight: float = 0.0  # total-variation smoothing, off in the tutorial
    content_layer: str = "relu4_2"
    style_layers: tuple[str, ...] = STYLE_LAYERS
    style_layer_weights: tuple[float, ...] = (0.5, 1.0, 1.5, 3.0, 4.0)  # deeper layers weigh more
    init: str = "noise"  # noise (blended with the content), content, style or an image path
    noise_ratio: float = 0.6  # share of noise in the initial image; the rest is the content
    noise_range: float = 20.0  # noise is uniform in (-noise_range, noise_range)
    mean_pixel: tuple[float, ...] = (123.68, 116.779, 103.939)  # ImageNet RGB mean
    pooling: str = "avg"
    seed: int | None = None  # seeds the initial noise; None draws a fresh one
    checkpoint_every: int = 20
    preserve_colors: bool = False  # keep the content's colours: the result's luminance only

    def check(self) -> None:
        """Raise UsageError on a value no run could use."""
        for name in ("height", "width", "iterations", "checkpoint_every", "scales",
                     "coarse_iterations", "lbfgs_corrections"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1, "
                                 f"got {getattr(self, name)}")
        for name in ("learning_rate", "noise_range", "style_scale"):
            if not getattr(self, name) > 0:
                raise UsageError(f"--{name.replace('_', '-')} must be positive, "
                                 f"got {getattr(self, name)}")
        for name in ("content_weight", "style_weight", "tv_weight", "tolerance"):
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
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise UsageError(f"--{name} must be one of {', '.join(choices)}, "
                                 f"got {getattr(self, name)!r}")
        if self.content and self.content_dir:
            raise UsageError("give --content or --content-dir, not both")
        smallest = min(self.levels()[0].height, self.levels()[0].width)
        if smallest < MIN_LEVEL_SIDE:
            raise UsageError(f"--scales {self.scales} makes the coarsest level {smallest} "
                             f"pixels on a side; use fewer scales ({MIN_LEVEL_SIDE} at least)")
        self.blend_weights()

    def blend_weights(self) -> tuple[float, ...]:
        """One weight per style image, summing to 1; equal weights when none are given."""
        count = max(len(self.style), 1)
        if not self.style_blend_weights:
            return (1.0 / count,) * count
        weights = self.style_blend_weights
        if len(weights) != count:
            raise UsageError(f"--style-blend-weights has {len(weights)} values for {count} "
                             f"style image{'s' if count > 1 else ''}")
        if min(weights) < 0 or not sum(weights) > 0:
            raise UsageError(f"--style-blend-weights must be non-negative and not all zero, "
                             f"got {' '.join(map(str, weights))}")
        return tuple(w / sum(weights) for w in weights)

    def levels(self) -> list[StyleConfig]:
        """The coarse-to-fine levels, coarsest first: each halves the next one's size and runs
        ``coarse_iterations``; the last is this config itself."""
        return [dataclasses.replace(self, height=max(1, round(self.height / 2**k)),
                                    width=max(1, round(self.width / 2**k)),
                                    iterations=self.coarse_iterations)
                for k in range(self.scales - 1, 0, -1)] + [self]

    def run_settings(self) -> dict:
        """The fields that define the optimisation: a checkpoint is resumed only if they match.

        Paths are left out (the caller adds the inputs' content hashes; ``init`` is kept when
        it is a keyword), and so are ``iterations`` and ``checkpoint_every``, so a finished run
        can be extended, and ``preserve_colors``, which only changes how the result is written.
        """
        skip = {"content", "content_dir", "style", "output_dir", "vgg", "iterations",
                "checkpoint_every", "preserve_colors"}
        if self.init not in INITS:
            skip.add("init")
        return {f.name: _plain(getattr(self, f.name))
                for f in dataclasses.fields(self) if f.name not in skip}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
