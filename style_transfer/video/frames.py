"""A video stylised frame by frame, temporally consistent (Ruder, Dosovitskiy and Brox 2016,
"Artistic style transfer for videos"): the engine's records per frame, between typed frame
records.

For each frame after the first, :class:`ClipRun` estimates the optical flow between this
frame's content and the previous one's (:mod:`~style_transfer.video.flow`, both ways) and its
consistency mask. Under ``frame_init="warped"`` the previous result, warped to this frame
(``flow.carry``, a Lanczos warp that keeps the texture sharp), is the target of the evaluator's
temporal term, weighted by the mask (disoccluded pixels and motion boundaries count for
nothing), and the start of the optimisation where the mask holds it; the pixels the mask frees
start from the frame's content (``warm_start``) and get a style loss of their own
(``freed_style_weight``; at 0, they start from the carried picture too). With ``freed_frames``
N, a freed pixel is not held at once: its temporal weight rises over the next N frames
(``held``; the pixel's age, ``ages``, travels with the flow) and its freed style weight falls as
much, so that new picture is stylised over several frames' steps. With ``freed_edge_frames``
M, the pixels that entered at the frame's edge (``flow.entering``) in the last M frames are a
region of their own in the freed pixels' style term (``freed_regions``): their own Gram
matrices, apart from the background a moving object uncovers (which could otherwise meet the
style for both while the edge stays flat), at a weight falling over the M frames. Held by the
temporal term alone, the new picture fades to a flat grey within a few frames; the whole
frame's style loss barely pulls on a strip that small. The frame runs at the
full size only, for ``frame_iterations``; with ``frame_target`` R > 0 it stops as soon as its
content+style loss is at most R times the first frame's final one (the look of the first frame,
kept instead of optimised further frame after frame). The first frame, and every frame under
``frame_init="init"`` (frames stylised independently), start from ``init`` through all the
config's levels, with no temporal term.

:meth:`ClipRun.records` yields :class:`FrameStart`, the engine's ``LevelStart``, ``Progress``
and ``LevelEnd`` records for the frame, then :class:`FrameEnd` with the result as the written
frame will hold it (uint8) and its temporal warping error: the consistent pixels' mean
|out_t - warp(out_t-1)|, in grey levels. Each frame checkpoints in a folder of its own under
``checkpoints/``; once the consumer has taken a frame's ``FrameEnd`` (and written it), the
loop removes that folder. The previous result it warps is the one written, as uint8, so that a
resumed clip goes on exactly as the run would have; with ``freed_frames`` N (and
``freed_edge_frames`` M), a resume first takes the flows of the N (or M, the larger) frames
before it again for the ages. Files, lines and the MP4 belong to the consumer
(:mod:`~style_transfer.shell.video_job`).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import shutil
import time
from collections.abc import Iterator, Sequence

import numpy as np

from tf1cnn.common import images

from ..config import StyleConfig
from ..control import controls, inputs, masks
from ..network import vgg
from ..objective.evaluator import FreedStyleTerm, TemporalTerm
from ..optimise import engine
from ..optimise.levels import initial_image
from ..optimise.records import LevelEnd, LevelStart, Progress, Schedule, is_logged
from ..optimise.run import StyleRun, TermLoad
from ..optimise.stopping import StopRules, content_style
from . import flow
from .clips import Clip

CHECKPOINTS = "checkpoints"  # in the output folder: one folder per frame in progress
SUMMARIES = "summaries"


@dataclasses.dataclass(frozen=True)
class FrameStart:
    number: int  # 1-based, in the clip
    index: int  # 0-based, in the range being stylised
    count: int  # frames in the range
    warm: bool  # starts from the previous result, warped by the flow
    flow_seconds: float  # the optical flow's wall time, both ways, with the mask
    stops: StopRules  # the rules that stop its full size early (a warm frame's: with the
    # content+style target of frame_target)


@dataclasses.dataclass(frozen=True)
class FrameEnd:
    number: int
    index: int
    count: int
    image: np.ndarray  # uint8 RGB, as the frame is written
    losses: dict  # the frame's last logged losses ("total" weighted, the terms unweighted)
    steps: int  # optimisation steps at the full size
    evaluations: int  # loss-and-gradient evaluations at the full size
    seconds: float  # this session's wall time for the frame, the flow included
    flow_seconds: float
    warping_error: float  # mean |out_t - warp(out_t-1)| where consistent; nan on the first
    consistent: float  # the share of pixels the mask keeps; nan on the first frame


@dataclasses.dataclass(frozen=True)
class FrameFolder:
    """Where one frame's level checkpoints and summaries go (the engine's folder protocol)."""
    checkpoints: str
    summaries: str


def frame_folders(output_dir: str, number: int, levels: Sequence[StyleConfig]
                  ) -> list[FrameFolder]:
    """Frame ``number``'s folder for each level: ``checkpoints/frame_NNNNN`` (coarse levels in
    ``scales/HxW`` below it) and the same under ``summaries``."""
    stem = f"frame_{number:05d}"
    found = []
    for index, level in enumerate(levels):
        below = [] if index == len(levels) - 1 else ["scales", f"{level.height}x{level.width}"]
        found.append(FrameFolder(os.path.join(output_dir, CHECKPOINTS, stem, *below),
                                 os.path.join(output_dir, SUMMARIES, stem, *below)))
    return found


def warm_start(carried: np.ndarray, mask: np.ndarray, content: np.ndarray) -> np.ndarray:
    """A later frame's start: the ``carried`` previous result where the consistency ``mask``
    holds it, this frame's ``content`` where it frees the pixels (both float RGB [H, W, 3]).
    The carried picture there is a smear (the repeated border where new picture enters, the
    moving object behind itself) that no loss would redraw as what the frame shows."""
    weight = mask[:, :, None]
    return (weight * carried + (1 - weight) * content).astype(np.float32)


def ages(previous: np.ndarray | None, mask: np.ndarray, backward: np.ndarray,
         frames: int) -> np.ndarray:
    """float32 [H, W]: for each pixel of a later frame, the frames since the consistency
    ``mask`` last freed it, at most ``frames``: 0 where the mask frees it now, otherwise one more
    than the age of the pixel it comes from in the frame before, ``previous`` at p +
    ``backward``(p) rounded to the nearest pixel. ``previous`` None: the frame before was the
    clip's first, whose pixels are all ``frames`` old.

    Nearest, not interpolated: each pixel's age then follows one path back, which reaches
    ``frames`` within ``frames`` frames unless it was freed on the way, so that ages started
    from None ``frames`` frames before any frame come out exactly as they would have from the
    clip's first frame. That is how a resumed clip finds them."""
    if previous is None:
        return np.where(mask > 0, np.float32(frames), np.float32(0))
    height, width = mask.shape
    rows, cols = np.mgrid[0:height, 0:width]
    source_rows = np.clip(np.rint(rows + backward[..., 1]).astype(np.intp), 0, height - 1)
    source_cols = np.clip(np.rint(cols + backward[..., 0]).astype(np.intp), 0, width - 1)
    older = np.minimum(previous[source_rows, source_cols] + 1, frames)
    return np.where(mask > 0, older, 0).astype(np.float32)


def held(mask: np.ndarray, age: np.ndarray, frames: int) -> np.ndarray:
    """The temporal term's weights [H, W] under ``freed_frames`` = ``frames`` (at least 1):
    the consistency ``mask`` where a pixel is ``frames`` old (``ages``), ``age / frames`` of it
    before. Without ``freed_frames``, the weights are the mask (a freed pixel is held from the
    next frame)."""
    return (mask * np.minimum(age / np.float32(frames), 1)).astype(np.float32)


def freed_regions(weights: np.ndarray, edge_age: np.ndarray, frames: int) -> np.ndarray:
    """The freed pixels' style weights by region, float32 [H, W, 2], under
    ``freed_edge_frames`` = ``frames`` (at least 1). Region 0, new picture at the edge: 1 -
    ``edge_age`` / ``frames``, where ``edge_age`` (``ages`` of the pixels not entering, capped
    at ``frames``) counts the frames since a pixel entered at the edge. Region 1, the rest: the
    complement of the temporal term's ``weights`` (``held``), where region 0 is 0."""
    edge = 1 - np.minimum(edge_age / np.float32(frames), 1)
    rest = np.where(edge > 0, 0, 1 - weights)
    return np.stack([edge, rest], axis=-1).astype(np.float32)


def terms(config: StyleConfig, shape: Sequence[int], sizes: dict) -> list:
    """A video engine's terms at the full size (``Engine(..., terms=terms)``): the temporal
    term on the image Variable of ``shape``, and unless ``freed_style_weight`` is 0 the freed
    pixels' style term on the style layers (of ``sizes``, ``vgg.shapes``), with a region for
    the edge's new picture under ``freed_edge_frames``."""
    found = [TemporalTerm(shape, config.temporal_weight)]
    if config.freed_style_weight > 0:
        found.append(FreedStyleTerm(
            config.style_layers, [sizes[name] for name in config.style_layers],
            config.style_layer_weights, config.freed_style_weight * config.style_weight,
            regions=freed_region_count(config)))
    return found


def freed_region_count(config: StyleConfig) -> int:
    """The freed pixels' style term's regions: the edge's new picture apart from the rest
    under ``freed_edge_frames``, otherwise one."""
    return 2 if config.freed_edge_frames else 1


def load_terms(temporal: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
               context: TermLoad) -> None:
    """Load a frame into the terms of :func:`terms` (``Engine.run``'s ``load``):
    ``temporal`` is (the previous result warped to it, float RGB; the temporal term's weights
    [H, W], ``held``; the freed pixels' style weights [H, W, R], one channel per region of
    :func:`terms`); a first frame (None) loads empty masks, which make both terms zero."""
    config = context.config
    temporal_term, *freed_terms = context.terms
    if temporal is not None:
        warped, mask, freed = temporal
    else:
        warped, mask = context.content, np.zeros((config.height, config.width), np.float32)
        freed = np.zeros((config.height, config.width, freed_region_count(config)), np.float32)
    temporal_term.load(context.session, [context.pixels.from_picture(warped)], mask)
    for term in freed_terms:  # a video has no content mask: the plain Gram matrices are there
        term.load(context.session, *freed_targets(context, freed))


def freed_targets(context: TermLoad, freed: np.ndarray) -> tuple[list, list]:
    """The freed pixels' weights (``freed``: [H, W], one region, or [H, W, R]) at each style
    layer, and for each region the styles' blended per-pixel Gram matrices
    (``losses.guided_style_loss``'s target), as ``FreedStyleTerm.load`` takes them."""
    config = context.config
    regions = freed[:, :, None] if freed.ndim == 2 else freed
    layer = masks.layer_masks(regions, context.layers, config.height, config.width,
                              config.pooling, config.style_layers)
    sizes = vgg.shapes(context.layers, config.height, config.width)
    targets = [sum(share * found[k] for share, found in zip(config.blend_weights(),
                                                             context.grams))
               / np.float32(np.prod(sizes[name][:2]))
               for k, name in enumerate(config.style_layers)]
    return [layer[name] for name in config.style_layers], [targets] * regions.shape[-1]


class ClipRun:
    """The frames of ``clip`` through ``style_engine`` (built for ``config``, a video config,
    with ``terms``); see :meth:`records`. ``init_file``: the picture of an ``init`` path."""

    def __init__(self, style_engine: engine.Engine, config: StyleConfig, clip: Clip,
                 styles: Sequence[np.ndarray], init_file: np.ndarray | None = None):
        self.engine, self.config, self.clip = style_engine, config, clip
        self.styles, self.init_file = list(styles), init_file
        self._run: StyleRun | None = None
        self._number = 0
        self._target: float | None = None  # the warm frames' stop, set by the first frame
        self._ages: np.ndarray | None = None  # the last frame's ``ages``; None: all old
        self._edge_ages: np.ndarray | None = None  # the same since entering at the edge

    def records(self, start: int, previous: np.ndarray | None, resume: bool,
                schedule: Schedule = is_logged,
                first_losses: dict[str, float] | None = None
                ) -> Iterator[FrameStart | LevelStart | Progress | LevelEnd | FrameEnd]:
        """Stylise frames ``start`` to the clip's last; ``previous`` is frame ``start`` - 1's
        result as written (uint8 RGB), None when ``start`` is the clip's first. With
        ``resume``, frame ``start`` continues from its checkpoint if it has one.
        ``first_losses``: when ``start`` is after the clip's first frame, that frame's final
        losses, which set the later frames' stop under ``frame_target`` (without their
        content and style, later frames run all their steps)."""
        config, clip = self.config, self.clip
        if (previous is None) != (start == clip.first):
            raise ValueError("the frames after the first need the previous result")
        if start > clip.first:
            self._target = self._frame_target(first_losses or {})
            # Frame start - 1 was written, but may have stopped before its checkpoints went.
            shutil.rmtree(frame_folders(config.output_dir, start - 1, config.levels())[-1]
                          .checkpoints, ignore_errors=True)
        before = None  # the previous frame's content, fitted
        self._ages = self._edge_ages = None
        # The frames before start whose flows give frame start - 1's ages (see ``ages``).
        depth = max(config.freed_frames, config.freed_edge_frames) \
            if config.frame_init == "warped" else 0
        frames = clip.frames(max(clip.first, start - 1 - depth))
        try:
            for number, picture in frames:
                content = images.fit(picture, config.height, config.width)
                del picture
                if number < start:
                    if before is not None:
                        self._consistency(before, content)
                    before = content
                    continue
                previous = yield from self._frame(number, content, before, previous,
                                                  resume and number == start, schedule)
                before = content
        finally:
            frames.close()

    def _frame(self, number: int, content: np.ndarray, before: np.ndarray | None,
               previous: np.ndarray | None, resume: bool, schedule: Schedule
               ) -> Iterator:
        """One frame's records; returns its result as written."""
        config, clip = self.config, self.clip
        began = time.perf_counter()
        temporal, backward, mask, start = None, None, None, None
        if before is not None:
            backward, mask, weights, freed = self._consistency(before, content)
            if config.frame_init == "warped":
                carried = flow.carry(previous.astype(np.float32), backward)
                temporal = (carried, weights, freed)
                if config.freed_style_weight > 0:
                    start = warm_start(carried, mask, self._freed_start(content, number))
                else:  # without the freed pixels' style, the content would stay unstylised
                    start = carried
        prepared = self._inputs(content, start)
        flow_seconds = time.perf_counter() - began if before is not None else 0.0
        levels = config.levels()
        folders = frame_folders(config.output_dir, number, levels)
        later = number > clip.first
        stops = StopRules.of_level(levels, len(levels) - 1,
                                   self._target if temporal is not None else None)
        self._run = self.engine.run(prepared, folders, resume,
                                    load=functools.partial(load_terms, temporal),
                                    full_size_only=temporal is not None,
                                    iterations=config.later_frames() if later else None,
                                    stops=stops)
        self._number = number
        index = number - clip.first
        yield FrameStart(number, index, clip.count, temporal is not None, flow_seconds, stops)
        for record in self._run.records(schedule):
            if isinstance(record, LevelEnd):
                result, steps = record.image, record.step
                losses, evaluations = record.losses, record.evaluations
            yield record
            record = None
        self._run = None
        if config.preserve_colors:
            result = images.preserve_colors(content, result)
        written = images.to_uint8(result)
        error, kept = math.nan, math.nan
        if later:
            error = flow.warping_error(written.astype(np.float32), previous.astype(np.float32),
                                       backward, mask)
            kept = float(mask.mean())
        if not later:
            self._target = self._frame_target(losses)
        yield FrameEnd(number, index, clip.count, written, losses, steps, evaluations,
                       time.perf_counter() - began, flow_seconds, error, kept)
        # The consumer has written the frame: its checkpoints (all levels) are not needed now.
        shutil.rmtree(folders[-1].checkpoints, ignore_errors=True)
        return written

    def _consistency(self, before: np.ndarray, content: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(backward flow, consistency mask, the temporal term's weights, the freed pixels'
        style weights [H, W, R]; None for independent frames) of a later frame whose content
        follows ``before``'s; with ``freed_frames`` and ``freed_edge_frames``, their ages move
        on to it."""
        config = self.config
        backward, forward = flow.pair(before, content)
        mask = flow.consistency(backward, forward)
        if config.frame_init != "warped":
            return backward, mask, mask, None
        weights = mask
        if config.freed_frames:
            self._ages = ages(self._ages, mask, backward, config.freed_frames)
            weights = held(mask, self._ages, config.freed_frames)
        if not config.freed_edge_frames:
            return backward, mask, weights, 1 - weights[:, :, None]
        inside = (~flow.entering(backward)).astype(np.float32)
        self._edge_ages = ages(self._edge_ages, inside, backward, config.freed_edge_frames)
        return backward, mask, weights, freed_regions(weights, self._edge_ages,
                                                      config.freed_edge_frames)

    def _freed_start(self, content: np.ndarray, number: int) -> np.ndarray:
        """Where frame ``number``'s freed pixels start (``freed_start``): its ``content``, or
        the noise blend of a noise ``init`` (``levels.initial_image``) with a seed of the
        frame's own, so that the columns entering at an edge do not start from the same
        noise frame after frame."""
        config = self.config
        if config.freed_start == "content":
            return content
        seeded = dataclasses.replace(config, seed=None if config.seed is None
                                     else config.seed + number)
        return initial_image(content, seeded) + np.asarray(config.mean_pixel, np.float32)

    def _inputs(self, content: np.ndarray, start: np.ndarray | None) -> inputs.Inputs:
        """A frame's inputs: it starts from ``start``, or from ``init``'s picture (None)."""
        if start is None:
            config = self.config
            start = controls.start_picture(config.init, content, self.styles, self.init_file)
        return inputs.prepare(self.config, content, self.styles, start)

    def _frame_target(self, first_losses: dict[str, float]) -> float | None:
        """``frame_target`` times the content+style of the first frame's ``first_losses``;
        None when it is off or they are not known."""
        if not self.config.frame_target or not {"content", "style"} <= first_losses.keys():
            return None
        found = self.config.frame_target * content_style(first_losses, self.config)
        return found if math.isfinite(found) else None

    def save(self) -> tuple[int, int, np.ndarray] | None:
        """Checkpoint the frame being optimised where it stands: (frame, step, image); None
        when no frame's optimisation has started."""
        if self._run is None:
            return None
        saved = self._run.save()
        if saved is None:
            return None
        return (self._number, *saved)
