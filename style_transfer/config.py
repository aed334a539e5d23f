"""The settings of one style-transfer run, with the 2019 tutorial's values as defaults.

``StyleConfig`` is frozen: derive a variant with ``dataclasses.replace``. ``check`` rejects
impossible values with a one-line message before anything expensive happens, and
``run_settings`` lists the fields that define a run, so that a rerun resumes only a run that
used the same ones. Each field's metadata holds its command-line help (see ``options``).
"""
from __future__ import annotations

import dataclasses

from .errors import UsageError
from .options import option

# The seed's "convX_Y" features were taken after the ReLU; MatConvNet names those reluX_Y.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
POOLING = ("avg", "max")
OPTIMIZERS = ("adam", "lbfgs")
INITS = ("noise", "content", "style")  # or the path of an image file
CHOICES = {"pooling": POOLING, "optimizer": OPTIMIZERS}
MIN_LEVEL_SIDE = 8  # the coarsest coarse-to-fine level; relu5_1 then still has a pixel


@dataclasses.dataclass(frozen=True)
class StyleConfig:
    content: str | None = option(None, "content image; if omitted, the bundled photograph",
                                 metavar="PATH")
    content_dir: str | None = option(
        None, "batch mode: stylise every image in this folder (png, jpg, ...), each into its own "
              "subfolder of --output-dir named after it, loading the network once",
        metavar="PATH")
    style: tuple[str, ...] = option(
        (), "one or more style images; if omitted, the bundled painting-like pattern",
        metavar="PATH")
    style_blend_weights: tuple[float, ...] = option(
        (), "one weight per style image, normalised to sum to 1; if omitted, every style weighs "
            "the same")
    style_scale: float = option(
        1.0, "size of the style images relative to the result (2 = twice as large)")
    output_dir: str = option("style_output",
                             "folder for images, checkpoints, summaries and config.json")
    vgg: str | None = option(
        None, "local MatConvNet VGG .mat or Keras .h5 file, or keras-vgg19 (Keras' ImageNet "
              "weights, downloaded once); if omitted, MatConvNet's VGG19 is downloaded once",
        metavar="PATH")
    height: int = option(
        250, "height of the result; content and style are centre-cropped and resized to it")
    width: int = option(333, "width of the result")
    iterations: int = option(
        300, "optimisation steps at the full size (L-BFGS: iterations); a rerun with more steps "
             "extends a finished run")
    optimizer: str = option(
        "adam", "adam (as the tutorial) or lbfgs (SciPy's L-BFGS-B, within pixel bounds)",
        choices=OPTIMIZERS)
    learning_rate: float = option(2.0, "Adam learning rate")
    lbfgs_corrections: int = option(  # SciPy's default
        10, "L-BFGS: curvature pairs kept (memory: 16 bytes per pixel value and pair)")
    tolerance: float = option(
        0.0, "stop when the relative change of the loss from one step to the next falls to this "
             "(adam and lbfgs); 0 never stops early")
    scales: int = option(
        1, "coarse-to-fine: optimise first at 1/2^(N-1) of the size, then at each doubling")
    coarse_iterations: int = option(
        100, "steps at each coarse-to-fine level below the full size")
    content_weight: float = option(0.01, "weight of the content loss in the total")
    style_weight: float = option(1.0, "weight of the style loss in the total")
    tv_weight: float = option(  # off in the tutorial
        0.0, "weight of the total-variation loss (mean squared difference of neighbouring "
             "pixels), which smooths the result")
    content_layer: str = option(
        "relu4_2", "layer whose features define the content (reluX_Y is after the ReLU)")
    style_layers: tuple[str, ...] = option(
        STYLE_LAYERS, "layers whose Gram matrices define the style")
    style_layer_weights: tuple[float, ...] = option(  # deeper layers weigh more
        (0.5, 1.0, 1.5, 3.0, 4.0), "one weight per style layer")
    init: str = option(
        "noise", "initial image: noise (the tutorial's noise blended with the content), "
                 "content, style (the first style image) or the path of an image file")
    noise_ratio: float = option(
        0.6, "share of uniform noise in the initial image; the rest is the content")
    noise_range: float = option(20.0, "the initial noise is uniform in (-range, range)")
    mean_pixel: tuple[float, ...] = option(  # the ImageNet RGB mean
        (123.68, 116.779, 103.939), "RGB mean subtracted before the network and added back after")
    pooling: str = option(
        "avg", "pooling in the network: avg (as the tutorial) or max (as VGG was trained)",
        choices=POOLING)
    seed: int | None = option(
        None, "seed of the initial noise, for reproducible runs; if omitted, a fresh draw")
    checkpoint_every: int = option(20, "steps between checkpoints")
    preserve_colors: bool = option(
        False, "keep the content's colours: the result's luminance (Y) with the content's "
               "chroma (Cb, Cr), applied after the optimisation")

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
