"""One content image through an engine's levels: :class:`StyleRun`, which
:meth:`Engine.run <style_transfer.optimise.engine.Engine.run>` returns.

:meth:`StyleRun.records` starts each level from the first unfinished one (its targets loaded,
the image from the level before, the inputs' start or the noise blend, or a checkpoint),
optimises it through the one loop (:mod:`~style_transfer.optimise.loop`) with the level's
stepper and stop rules, and yields its records. :class:`TermLoad` is what the terms an engine
was built with are loaded from, at the full size's start.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from tf1cnn.common import images, runtime

from ..config import StyleConfig
from ..control import masks
from ..control.inputs import Inputs
from ..network.matconvnet import Layer
from . import checkpoints, loop
from .levels import Level, LevelSteps, Pixels, initial_image
from .records import LevelEnd, LevelStart, Progress, Schedule, is_logged
from .steppers import AdamStepper, LBFGSStepper
from .stopping import StopRules
from .summaries import SummaryWriter


@dataclasses.dataclass(frozen=True)
class TermLoad:
    """What the terms an engine was built with (``Engine(terms=...)``) are loaded from, at the
    start of the full size: ``Engine.run``'s ``load`` takes it."""
    session: tf.compat.v1.Session
    config: StyleConfig  # the level's
    terms: list  # the level's own terms, as ``terms`` built them
    content: np.ndarray  # the content at the level's size, as the network sees it
    grams: list | None  # per style image, its Gram matrices (``Engine.style_grams``); None
    # with a content mask
    layers: list[Layer]  # the network's, for ``vgg.shapes`` and ``masks.layer_masks``
    pixels: Pixels  # how the image Variable holds a picture



class StyleRun:
    """One content image through the engine's levels (``engine``, the
    :class:`~style_transfer.optimise.engine.Engine` that made it); see :meth:`records`."""

    def __init__(self, engine, inputs: Inputs, folders, resume, *, load=None,
                 full_size_only=False, iterations=None, stops=None):
        if len(folders) != len(engine.levels):
            raise ValueError(f"{len(engine.levels)} levels need as many folders, "
                             f"got {len(folders)}")
        self.engine, self.inputs, self.controls = engine, inputs, inputs.controls
        self.folders, self.load = list(folders), load
        self.iterations, self.stops = iterations, stops
        self.first = 0
        if full_size_only:
            self.first = len(folders) - 1
        elif resume:
            self.first = next((k for k in reversed(range(len(folders)))
                               if runtime.latest_checkpoint(folders[k].checkpoints)), 0)
        self.resume = resume
        self._level: Level | None = None  # the level being optimised
        self._chroma = None  # the content at that level's size: a luminance result's chroma

    @property
    def session(self) -> tf.compat.v1.Session:
        return self.engine.session

    def records(self, schedule: Schedule = is_logged
                ) -> Iterator[LevelStart | Progress | LevelEnd]:
        """Optimise every level from the first unfinished one, yielding records."""
        previous = None
        for index in range(self.first, len(self.engine.levels)):
            level = self.engine.level(index)
            resumed = self._start(level, previous)
            previous = None
            config, folder = self.level_config(level), self.folders[index]
            ended = checkpoints.ended_early(folder.checkpoints, resumed)
            head = LevelStart(index, len(self.engine.levels), config.height, config.width,
                              config.iterations, resumed, ended)
            yield head
            last = None  # the latest record's step, losses and evaluations
            if not ended:
                writer = SummaryWriter(folder.summaries)
                try:
                    for record in self._optimise(level, head, schedule, writer):
                        last = record.step, record.losses, record.evaluations
                        yield record
                        record = None  # its image is not held through the next step
                finally:
                    writer.close()
            step = self.step
            if last is None or last[0] != step:  # resumed at its end, or an unrecorded end
                evaluations = step if config.optimizer == "adam" else \
                    int(self.session.run(level.evaluations))
                last = step, level.evaluator.evaluate(self.session)[0], evaluations
            level.unload()
            previous = self.current_image()
            yield LevelEnd(index, len(self.engine.levels), step, previous, *last[1:])

    def level_config(self, level: Level) -> StyleConfig:
        """``level``'s config, with this run's ``iterations`` at the full size when given."""
        if self.iterations is None or level.index < len(self.engine.levels) - 1:
            return level.config
        return dataclasses.replace(level.config, iterations=self.iterations)

    def _start(self, level: Level, previous: np.ndarray | None) -> int | None:
        """Load ``level``'s targets (its own terms through the run's ``load``) and its start:
        the checkpoint's step when it resumes, else None and the image of the level before
        (``previous``), the inputs' start or the noise blend. The image-sized arrays made on
        the way are freed on return."""
        prepared, levels, index = self.controls, len(self.engine.levels), level.index
        config = level.config
        fitted = images.fit(prepared.content, config.height, config.width)
        features = self.engine.content_features(fitted, index)
        styles = prepared.styles_at(index, levels)
        grams = None
        if config.content_mask:
            weights = prepared.content_weights(config.height, config.width)
            layer = masks.layer_masks(weights, self.engine.layers, config.height,
                                      config.width, config.pooling, config.style_layers)
            level.load(self.session, features, self.engine.region_grams(prepared, styles, index),
                       [layer[name] for name in config.style_layers])
        else:
            grams = self.engine.style_grams(styles, index)
            level.load(self.session, features, grams)
        if level.extras:
            self.load(TermLoad(self.session, config, level.extras, fitted, grams,
                               self.engine.layers, self.engine.pixels))
        self.session.run(level.reset)
        self._level = level
        self._chroma = images.fit(prepared.original, config.height, config.width) \
            if self.engine.pixels.luminance else None
        if self.resume and index == self.first:
            resumed = self._restore(level, self.folders[index])
            if resumed is not None:
                return resumed
        if previous is not None:
            picture = images.resize(previous, config.height, config.width)
        elif self.inputs.start is not None:
            picture = images.fit(self.inputs.start, config.height, config.width)
        else:
            picture = None
        start = initial_image(fitted, config, picture) + self.engine.mean
        self.session.run(level.accept, dict(zip(
            level.accepted, ([self.engine.pixels.from_picture(start)], 0, 0))))
        return None

    def _restore(self, level: Level, folder) -> int | None:
        """Restore ``level`` from the latest checkpoint in ``folder``: its step; None when
        there is none."""
        if not checkpoints.restore(level.saver, self.session, self.engine.graph,
                                   folder.checkpoints):
            return None
        return self.step

    @property
    def step(self) -> int:
        """The step of the level being optimised."""
        return int(self.session.run(self._level.step))

    def current_image(self) -> np.ndarray:
        """The image now being optimised, [height, width, 3] RGB with the mean added back."""
        return self.engine.pixels.to_picture(self.session.run(self._level.image)[0],
                                             self._chroma)

    @property
    def level(self) -> int | None:
        """The index of the level being optimised; None before the first one starts."""
        return None if self._level is None else self._level.index

    @property
    def adam_step(self) -> tf.Operation:
        """One bare Adam step of the level being optimised, as a Session target, for
        benchmarks (``benchmarks/style_speed.py``): ``session.run(run.adam_step)`` is the
        optimisation step alone, without the loss fetches, images, summaries and checkpoints
        that :meth:`records` adds at logged steps. Use it while :meth:`records` waits at the
        level's :class:`LevelStart` (the targets and the start image are loaded by then)."""
        if self._level is None or self._level.config.optimizer != "adam" or self._level.tile:
            raise ValueError("adam_step needs an untiled Adam level that records() has "
                             "started")
        return self._level.train

    def save(self) -> tuple[int, np.ndarray] | None:
        """Checkpoint the level being optimised where it stands and return (step, image);
        None when no level has started yet."""
        if self._level is None:
            return None
        self._save(self._level, self.folders[self._level.index])
        return self.step, self.current_image()

    def _stops(self, level: Level) -> StopRules:
        """The rules that stop ``level`` early: the run's ``stops`` at the full size when
        given, else the config's (``StopRules.of_level``)."""
        levels = self.engine.levels
        if self.stops is not None and level.index == len(levels) - 1:
            return self.stops
        return StopRules.of_level(levels, level.index)

    def _save(self, level: Level, folder, stopped: str = "") -> None:
        """A checkpoint of ``level`` at its step; when it ``stopped`` early, with the note
        that makes a rerun end it there too (``checkpoints.save``)."""
        checkpoints.save(level.saver, self.session, self.engine.graph, folder.checkpoints,
                         self.step, stopped)

    def _optimise(self, level: Level, head: LevelStart, schedule: Schedule,
                  writer: SummaryWriter) -> Iterator[Progress]:
        """The loop over ``level``'s steps (``head`` announced it), by its optimiser."""
        steps = LevelSteps(self.session, level, self.engine.pixels, self._chroma)
        config = level.config
        stepper = LBFGSStepper(steps, config.lbfgs_corrections) \
            if config.optimizer == "lbfgs" else AdamStepper(steps)
        folder = self.folders[level.index]
        return loop.optimise(stepper, head, self.step, self._stops(level), schedule=schedule,
                             checkpoint_every=config.checkpoint_every,
                             checkpoint=lambda stopped: self._save(level, folder, stopped),
                             writer=writer)
