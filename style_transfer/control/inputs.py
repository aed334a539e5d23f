"""The pictures of one run, read and checked once: what the engine consumes for a content image.

A run's inputs are its content, its style images, the controls made of them
(:mod:`~style_transfer.control.controls`: recoloured or grey styles, coarse styles, masks and
their regions) and the picture it starts from. :func:`prepare` builds them from pictures in
memory (a library caller, a video's frame); :func:`read` reads the files a config names, for
every content image of a batch: it checks them all before anything expensive, then reads each
content image once, when its run comes, so that a batch holds one content image at a time::

    batch = inputs.read(config, ["a.jpg", "b.jpg"])   # a UsageError on bad input
    for found in batch:
        run = style_engine.run(found, folders)

Bad input is a one-line ``UsageError``, in the order the files are read: the styles, the coarse
styles, the content mask, the style masks and their regions, then each content image's header
with the content mask's fit, and last the ``--init`` picture. A content image whose header reads
but whose pixels do not is reported when its turn comes, the images before it done.

Under ``--content-mask auto[:K]`` (:mod:`~style_transfer.control.auto_masks`) the style
picture is split once, when it is read, and each content image when its turn comes; the masks
made are then read as painted ones, and ``Inputs.masks`` holds them for the caller to write.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

from tf1cnn.common import images

from ..config import INITS, StyleConfig
from . import auto_masks, controls, masks


@dataclasses.dataclass(frozen=True)
class Inputs:
    content: np.ndarray  # float RGB as given: the contact sheet's, the metrics' and the colours'
    styles: tuple  # float RGB as given, one per style image
    controls: controls.Controls  # what the objective is made of, checked
    start: np.ndarray | None  # the picture the run starts from; None: the noise blend
    # --content-mask auto's masks as uint8 RGB, the content's then the style's, for the caller
    # to write next to the result; () for painted masks or none.
    masks: tuple = ()

    @property
    def notes(self) -> list:
        """What the checks adjusted (a mask resized, say), for the caller to print."""
        return self.controls.notes


def prepare(config: StyleConfig, content: np.ndarray, styles: Sequence[np.ndarray],
            start: np.ndarray | None = None, *, coarse_styles: Sequence[np.ndarray] = (),
            content_mask: np.ndarray | None = None,
            style_masks: Sequence[np.ndarray | None] = ()) -> Inputs:
    """The inputs of a run of ``content`` towards ``styles`` (float RGB, any size) from
    ``start`` (see ``controls.start_picture``), the controls checked: a UsageError when the
    masks do not fit the ``--region-style`` options. Under ``--content-mask auto`` without
    masks given, the masks are made here."""
    made = ()
    if config.auto_regions() and content_mask is None:
        style_masks = [split(config, style, "style picture") for style in styles]
        content_mask = split(config, content, "content")
        made = (content_mask, *style_masks)
    prepared = controls.prepare(config, content, styles, coarse_styles, content_mask,
                                style_masks)
    return Inputs(content, tuple(styles), prepared, start, made)


def split(config: StyleConfig, picture: np.ndarray, role: str) -> np.ndarray:
    """The mask of ``--content-mask auto[:K]`` for ``picture``, uint8 RGB of its size."""
    regions = config.auto_regions()
    return auto_masks.paint(auto_masks.split(picture, regions, config.height, config.width,
                                             role), regions)


def read(config: StyleConfig, contents: Sequence[str]) -> Iterator[Inputs]:
    """The inputs of each content image at ``contents``, from the files ``config`` names,
    each file read once. Every file is checked before this returns; each content image is
    read when the iterator reaches it."""
    styles = [images.read_rgb(path, "style") for path in config.style]
    coarse_styles = [images.read_rgb(path, "coarse style") for path in config.coarse_style]
    if config.auto_regions():  # the content's regions are found when it is read
        style_masks = [split(config, style, "style picture") for style in styles]
        found = None
    else:
        content_mask = masks.read_mask(config.content_mask, "content mask") \
            if config.content_mask else None
        style_masks = [masks.read_mask(path, "style mask") for path in config.style_mask]
        found = controls.read_regions(config, styles, content_mask, style_masks)
    for path in contents:
        shape = images.read_shape(path, "content")
        if found is None:
            auto_masks.check_size(shape, config.auto_regions(), config.height, config.width,
                                  "content")
        else:
            controls.content_note(found, shape)
    init_file = read_init(config)
    return _each(config, contents, styles, coarse_styles, found, style_masks, init_file)


def _each(config: StyleConfig, contents: Sequence[str], styles: list, coarse_styles: list,
          found: controls.Regions | None, style_masks: list, init_file: np.ndarray | None
          ) -> Iterator[Inputs]:
    """Each content's inputs; ``found`` None: its auto mask made, with ``style_masks``."""
    for path in contents:
        content = images.read_rgb(path, "content")
        made, regions = (), found
        if found is None:
            made = (split(config, content, "content"), *style_masks)
            regions = controls.read_regions(config, styles, made[0], style_masks)
        prepared = controls.prepare(config, content, styles, coarse_styles, found=regions)
        yield Inputs(content, tuple(styles), prepared,
                     controls.start_picture(config.init, content, styles, init_file), made)


def read_init(config: StyleConfig) -> np.ndarray | None:
    """The picture of an ``--init`` path; None for the named starts (noise, content, ...)."""
    return images.read_rgb(config.init, "initial") if config.init not in INITS else None
