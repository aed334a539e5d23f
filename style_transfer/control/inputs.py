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
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

from tf1cnn.common import images

from ..config import INITS, StyleConfig
from . import controls, masks


@dataclasses.dataclass(frozen=True)
class Inputs:
    content: np.ndarray  # float RGB as given: the contact sheet's, the metrics' and the colours'
    styles: tuple  # float RGB as given, one per style image
    controls: controls.Controls  # what the objective is made of, checked
    start: np.ndarray | None  # the picture the run starts from; None: the noise blend

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
    masks do not fit the ``--region-style`` options."""
    prepared = controls.prepare(config, content, styles, coarse_styles, content_mask,
                                style_masks)
    return Inputs(content, tuple(styles), prepared, start)


def read(config: StyleConfig, contents: Sequence[str]) -> Iterator[Inputs]:
    """The inputs of each content image at ``contents``, from the files ``config`` names,
    each file read once. Every file is checked before this returns; each content image is
    read when the iterator reaches it."""
    styles = [images.read_rgb(path, "style") for path in config.style]
    coarse_styles = [images.read_rgb(path, "coarse style") for path in config.coarse_style]
    content_mask = masks.read_mask(config.content_mask, "content mask") \
        if config.content_mask else None
    style_masks = [masks.read_mask(path, "style mask") for path in config.style_mask]
    found = controls.read_regions(config, styles, content_mask, style_masks)
    for path in contents:
        controls.content_note(found, images.read_shape(path, "content"))
    init_file = read_init(config)
    return _each(config, contents, styles, coarse_styles, found, init_file)


def _each(config: StyleConfig, contents: Sequence[str], styles: list, coarse_styles: list,
          found: controls.Regions, init_file: np.ndarray | None) -> Iterator[Inputs]:
    for path in contents:
        content = images.read_rgb(path, "content")
        prepared = controls.prepare(config, content, styles, coarse_styles, found=found)
        yield Inputs(content, tuple(styles), prepared,
                     controls.start_picture(config.init, content, styles, init_file))


def read_init(config: StyleConfig) -> np.ndarray | None:
    """The picture of an ``--init`` path; None for the named starts (noise, content, ...)."""
    return images.read_rgb(config.init, "initial") if config.init not in INITS else None
