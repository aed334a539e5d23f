"""The settings of the feed-forward style network that ``--model style-net`` trains.

Johnson, Alahi and Fei-Fei (2016) train an image transformation network once per style, with
the Gatys losses on a fixed VGG; stylising is then one forward pass. Its losses here are
``StyleConfig``'s own (content on relu4_2, Gram style on relu1_1..relu5_1 with their weights,
the tutorial's normalisation), the ones by which the network is judged against an optimised
picture (``style_eval.judge``), but for the content's weight: ``StyleConfig``'s 0.01 suits an
optimisation that starts from the photograph, while a network that learns from nothing keeps
no photograph at that weight, so training weighs the content by ``CONTENT_WEIGHT``, chosen by
measurement (docs/style-net.md). Johnson's relu2_2 content layer is one ``--content-layer``
away. Training crops are square, ``crop`` pixels a side, in batches of
``batch``; the style picture is fitted (centre-cropped and resized) to the crop's size, as a
style run fits it to the result's. Each field's metadata holds its command-line help, and
``check`` refuses an impossible value with one line, before any work.
"""
from __future__ import annotations

import dataclasses

from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import option
from tf1cnn.common.runtime import PRECISIONS
from tf1cnn.style_transfer.config import StyleConfig

# The content loss's weight in training: at 10 minutes of training on VGG16/HED the lowest of
# 0.01 ... 1e5 (by factors of 10 from 100) whose network keeps the photograph's shapes
# (benchmarks/style_net_quality.py; SSIM and pictures in docs/style-net.md).
CONTENT_WEIGHT = 1e5
RUN_SETTINGS = ("width", "crop", "batch", "content_layer", "style_layers",
                  "style_layer_weights", "content_weight", "style_weight", "tv_weight",
                  "mean_pixel", "pooling", "precision")


@dataclasses.dataclass(frozen=True)
class StyleNetConfig:
    style: str | None = option(
        None, "style picture for --model style-net; if omitted, the bundled pattern",
        metavar="PATH")
    images: str | None = option(
        None, "folder of training photographs (jpg, png; COCO for a real model); if omitted, "
              "the colour photographs that scikit-image installs and the bundled photograph",
        metavar="FOLDER")
    vgg: str | None = option(
        None, "the loss network, as tf1cnn-style's --vgg: a MatConvNet .mat or Keras .h5 file, "
              "or keras-vgg19; if omitted, MatConvNet's VGG19 is downloaded once",
        metavar="PATH")
    width: float = option(
        1.0, "channel width of the transformation network: 1 is Johnson et al.'s (32, 64, "
             "128), 0.5 a slimmer network for CPUs")
    crop: int = option(256, "side of the square training crops, in pixels")
    batch: int = option(4, "training pictures per step and worker")
    content_layer: str = option(StyleConfig.content_layer,
                                "VGG layer of the content loss (Johnson et al.: relu2_2)")
    style_layers: tuple[str, ...] = option(StyleConfig.style_layers,
                                           "VGG layers of the Gram style loss")
    style_layer_weights: tuple[float, ...] = option(StyleConfig.style_layer_weights,
                                                    "one weight per style layer")
    content_weight: float = option(
        CONTENT_WEIGHT, "weight of the content loss (chosen by measurement; the style tool's "
                        f"{StyleConfig.content_weight:g}, by which the network is judged, "
                        "trains a network that keeps no photograph)")
    style_weight: float = option(StyleConfig.style_weight, "weight of the style loss")
    tv_weight: float = option(StyleConfig.tv_weight, "weight of the total-variation loss")
    mean_pixel: tuple[float, ...] = option(StyleConfig.mean_pixel,
                                           "RGB mean subtracted before the VGG")
    pooling: str = option(StyleConfig.pooling, "pooling in the VGG: avg or max",
                          choices=("avg", "max"))
    precision: str = option(
        "float32", "arithmetic of the VGG after its first layer, as tf1cnn-style's "
                   "--precision (the transformation network stays float32)",
        choices=PRECISIONS)
    checkpoint_secs: float = option(
        120.0, "--model style-net: seconds between the chief's checkpoints")
    keep_checkpoints: int = option(
        5, "--model style-net: how many of the newest checkpoints the chief keeps; eval scores "
           "each, so keep more for a longer curve")

    def check(self) -> None:
        """Raise UsageError on a value no run could use."""
        for name in ("crop", "batch", "keep_checkpoints"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be a whole number, at least 1; "
                                 f"got {value!r}")
        if self.crop < 16:
            raise UsageError(f"--crop must be at least 16 pixels, so that relu5_1 still has a "
                             f"pixel; got {self.crop}")
        for name in ("width", "checkpoint_secs"):
            if not getattr(self, name) > 0:
                raise UsageError(f"--{name.replace('_', '-')} must be positive, got "
                                 f"{getattr(self, name)}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative, got "
                                 f"{getattr(self, name)}")
        if len(self.style_layer_weights) != len(self.style_layers):
            raise UsageError(f"--style-layer-weights has {len(self.style_layer_weights)} "
                             f"values for {len(self.style_layers)} style layers")
        if len(self.mean_pixel) != 3:
            raise UsageError(f"--mean-pixel takes 3 values (R G B), got {len(self.mean_pixel)}")

    @property
    def layers(self) -> tuple[str, ...]:
        """The VGG end points the losses read."""
        return (self.content_layer, *self.style_layers)

    def settings(self) -> dict:
        """What the network's checkpoints depend on; the caller adds the files' hashes."""
        return {name: _plain(getattr(self, name)) for name in RUN_SETTINGS}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
