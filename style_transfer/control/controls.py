"""Colour and spatial control of a run (Gatys et al. 2017): what the objective is made of for
one content image, prepared in numpy before the optimisation and checked before anything
expensive.

* ``colour_control="match"``: each style image gets the content's colour mean and covariance
  (``colour.match_colours``, Cholesky or eigen), clipped to pixels, before its Gram matrices
  are taken.
* ``colour_control="luminance"``: the network sees grey pictures: the content's luminance, and
  each style's luminance moved to the content's mean and spread (``colour.match_luminance``);
  the engine optimises one channel, Y, and puts the content's chroma back on it.
* masks: ``--content-mask`` paints regions in flat colours; ``--region-style COLOUR=STYLE``
  gives each colour a style image (or none), and ``--style-mask`` says which part of a style
  image a region takes its style from (the whole image without one). ``Controls`` gives the
  weights of the regions at any size, boundaries blended over ``mask_blend`` pixels of the
  full size (scaled with the level).
* ``coarse_style``: the style images of the coarse-to-fine levels below the full size.

``prepare`` raises a one-line UsageError for a mask of another aspect ratio, a mask colour no
``--region-style`` names, and a style named for a colour no mask has; a mask of the right
shape but another size is resized, with a note for the caller to print.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tf1cnn.common.errors import UsageError

from ..config import StyleConfig
from . import colour, masks


def grey(y: np.ndarray) -> np.ndarray:
    """A luminance [H, W] as the float32 RGB picture with R = G = B = Y."""
    return np.repeat(np.asarray(y, np.float32)[:, :, None], 3, axis=2)


@dataclasses.dataclass(frozen=True)
class Controls:
    config: StyleConfig
    content: np.ndarray  # the content as the network sees it (grey under luminance control)
    original: np.ndarray  # the content as given: the chroma of a luminance-only result
    styles: list  # the style images as the objective uses them
    coarse_styles: list  # the same for the levels below the full size
    content_mask: np.ndarray | None  # RGB, as read
    style_masks: list  # RGB or None, one per style image
    regions: list  # (colour, index of its style or None), one per region
    notes: list  # what was adjusted, for the caller to print

    @property
    def luminance(self) -> bool:
        return self.config.colour_control == "luminance"

    def styles_at(self, level: int, levels: int) -> list:
        """The style images of level ``level`` of ``levels``."""
        return self.coarse_styles if level < levels - 1 else self.styles

    def content_weights(self, height: int, width: int) -> np.ndarray:
        """The regions of the content mask at this size, [height, width, R], blended over
        ``mask_blend`` full-size pixels."""
        fitted, _ = masks.fit_mask(self.content_mask, height, width, self.original.shape)
        weights = masks.regions(fitted, [c for c, _ in self.regions],
                                self.config.mask_tolerance, "--content-mask")
        return masks.blend(weights, self.config.mask_blend * width / self.config.width)

    def style_weights(self, index: int, style: np.ndarray, height: int, width: int
                      ) -> np.ndarray:
        """Where style image ``index`` (of shape ``style``) holds each region's style, at
        height x width: [height, width, R] from its mask, or ones for a style without one."""
        mask = self.style_masks[index]
        if mask is None:
            return np.ones((height, width, len(self.regions)), np.float32)
        fitted, _ = masks.fit_mask(mask, height, width, style.shape)
        return masks.regions(fitted, [c for c, _ in self.regions],
                             self.config.mask_tolerance, f"--style-mask {index + 1}")


def prepare(config: StyleConfig, content: np.ndarray, styles: Sequence[np.ndarray],
            coarse_styles: Sequence[np.ndarray] = (), content_mask: np.ndarray | None = None,
            style_masks: Sequence[np.ndarray | None] = ()) -> Controls:
    """The controls of ``config`` for one content image (float RGB), checked."""
    styles, coarse = list(styles), list(coarse_styles) or list(styles)
    notes = []
    regions = config.region_styles()
    style_masks = list(style_masks) or [None] * len(styles)
    if content_mask is not None:
        colours = [c for c, _ in regions]
        fitted, note = masks.fit_mask(content_mask, *content.shape[:2], content.shape,
                                      "--content-mask")
        notes += [note] if note else []
        found = masks.regions(fitted, colours, config.mask_tolerance, "--content-mask")
        for colour_name in masks.absent(found, colours):
            raise UsageError(f"--region-style names {colour_name}, which --content-mask does "
                             f"not have; paint it or drop that --region-style")
        for index, (mask, style) in enumerate(zip(style_masks, styles)):
            if mask is None:
                continue
            role = f"--style-mask {index + 1}"
            fitted, note = masks.fit_mask(mask, *style.shape[:2], style.shape, role)
            notes += [note] if note else []
            have = masks.regions(fitted, colours, config.mask_tolerance, role)
            wanted = [c for c, s in regions if s == index]
            for colour_name in masks.absent(have[:, :, [colours.index(c) for c in wanted]],
                                            wanted):
                raise UsageError(f"{role} has no {colour_name} region, yet --region-style "
                                 f"gives {colour_name} style {index + 1}")
    original = content
    if config.colour_control == "match":
        styles, coarse = ([colour.clip_pixels(colour.match_colours(s, content,
                                                                     config.colour_match))
                           for s in group] for group in (styles, coarse))
    elif config.colour_control == "luminance":
        content_y = colour.luminance(content)
        styles, coarse = ([grey(np.clip(colour.match_luminance(colour.luminance(s), content_y),
                                        0, 255)) for s in group] for group in (styles, coarse))
        content = grey(content_y)
    return Controls(config, content, original, styles, coarse, content_mask, style_masks,
                    regions, notes)


def start_picture(init: str, content: np.ndarray, styles: Sequence[np.ndarray],
                  init_file: np.ndarray | None) -> np.ndarray | None:
    """The picture ``init`` names (None for the noise blend, which the engine draws): the
    content, the first style, the content given the first style's colour mean and covariance
    (``style-colours``), or ``init_file``, the picture read from the path ``init``."""
    if init == "noise":
        return None
    if init == "content":
        return content
    if init == "style":
        return styles[0]
    if init == "style-colours":
        return colour.clip_pixels(colour.match_colours(content, styles[0]))
    return init_file
