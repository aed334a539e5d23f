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
* ``--content-mask auto[:K]``: the masks are made from the pictures
  (:mod:`~style_transfer.control.auto_masks`), painted in ``config.auto_colours`` with one
  style picture for every region (``config.region_styles``), and then read as painted masks.
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
    content_regions: np.ndarray | None  # the content mask's weights [H, W, R] as painted
    style_regions: list  # the same of each style image's mask, or None
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
        weights, _ = masks.fit_mask(self.content_regions, height, width, self.original.shape)
        return masks.blend(weights, self.config.mask_blend * width / self.config.width)

    def style_weights(self, index: int, style: np.ndarray, height: int, width: int
                      ) -> np.ndarray:
        """Where style image ``index`` (of shape ``style``) holds each region's style, at
        height x width: [height, width, R] from its mask, or ones for a style without one."""
        weights = self.style_regions[index]
        if weights is None:
            return np.ones((height, width, len(self.regions)), np.float32)
        return masks.fit_mask(weights, height, width, style.shape)[0]


@dataclasses.dataclass(frozen=True)
class Regions:
    """The masks' region weights, read once at the size they were painted: one content
    mask's serves every content image of a batch."""
    content: np.ndarray | None  # [H, W, R] of the content mask; None without masks
    styles: list  # the same of each style image's mask, or None
    notes: list  # the style masks' size notes


def read_regions(config: StyleConfig, styles: Sequence[np.ndarray],
                 content_mask: np.ndarray | None = None,
                 style_masks: Sequence[np.ndarray | None] = ()) -> Regions:
    """The regions of the masks (RGB, as read), checked against ``--region-style``: a
    UsageError for a colour not listed, a region no mask has, or a style mask of another
    aspect ratio than its style image."""
    style_regions, notes = [None] * len(styles), []
    if content_mask is None:
        return Regions(None, style_regions, notes)
    regions = config.region_styles()
    colours = [c for c, _ in regions]
    content_regions = masks.regions(content_mask, colours, config.mask_tolerance,
                                    "--content-mask")
    for colour_name in masks.absent(content_regions, colours):
        raise UsageError(f"--region-style names {colour_name}, which --content-mask does "
                         f"not have; paint it or drop that --region-style")
    for index, (mask, style) in enumerate(zip(list(style_masks) or [None] * len(styles),
                                              styles)):
        if mask is None:
            continue
        role = f"--style-mask {index + 1}"
        note = masks.size_note(mask.shape, style.shape, role)
        notes += [note] if note else []
        have = style_regions[index] = masks.regions(mask, colours, config.mask_tolerance, role)
        wanted = [c for c, s in regions if s == index]
        for colour_name in masks.absent(have[:, :, [colours.index(c) for c in wanted]],
                                        wanted):
            raise UsageError(f"{role} has no {colour_name} region, yet --region-style "
                             f"gives {colour_name} style {index + 1}")
    return Regions(content_regions, style_regions, notes)


def content_note(found: Regions, content_shape: Sequence[int]) -> list[str]:
    """The note on a content mask resized to the content image, if it was (a UsageError if
    their aspect ratios differ)."""
    if found.content is None:
        return []
    note = masks.size_note(found.content.shape, content_shape, "--content-mask")
    return [note] if note else []


def prepare(config: StyleConfig, content: np.ndarray, styles: Sequence[np.ndarray],
            coarse_styles: Sequence[np.ndarray] = (), content_mask: np.ndarray | None = None,
            style_masks: Sequence[np.ndarray | None] = (), *,
            found: Regions | None = None) -> Controls:
    """The controls of ``config`` for one content image (float RGB), checked; ``found``:
    the masks' regions when already read (``read_regions``), else they are read here."""
    if found is None:
        found = read_regions(config, styles, content_mask, style_masks)
    styles, coarse = list(styles), list(coarse_styles) or list(styles)
    notes = content_note(found, content.shape) + found.notes
    regions = config.region_styles()
    content_regions, style_regions = found.content, found.styles
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
    return Controls(config, content, original, styles, coarse, content_regions, style_regions,
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
