"""The style engine: one graph for a config's levels, and a generator of typed records per image.

:class:`Engine` builds, once, a TF1 graph holding the VGG weights as constants, a forward pass
for the targets, and for every coarse-to-fine level (``StyleConfig.levels``) its own image
Variable, :class:`~style_transfer.objective.evaluator.Evaluator`, optimiser ops and Saver. Then it runs
any number of content images through that graph: :meth:`Engine.run` loads the image's targets,
starts the optimiser's state afresh (or restores a checkpoint) and returns a :class:`StyleRun`
whose :meth:`~StyleRun.records` yields

* :class:`LevelStart` when a level begins (fresh, or resumed at a step);
* :class:`Progress` at each step the schedule picks (by default the 2019 tutorial's: steps
  1-5, every 10 up to 20, then every 20, and the last), and at a step where the run stops
  early: losses, evaluations, time, the image, and whether a checkpoint was written;
* :class:`LevelEnd` with the level's final image and losses (evaluated once when no record
  gave them, as for a level resumed at its end).

A level stops early when its loss changes by ``tolerance`` or less over ``tolerance_steps``
steps (``coarse_tolerance`` below the full size), when a coarse level has used
``coarse_evaluations``, when the full size's content+style loss reaches a run's ``target``
(a video's later frames: :mod:`~style_transfer.video.frames`), or when L-BFGS-B ends by itself; its
checkpoint then gets a note (``ended.json``) so that a resumed run ends that level there too.

The engine writes what only it can: Saver checkpoints (every ``checkpoint_every`` steps, at a
level's last step and where it stops early) and TensorBoard summaries. Printing, image files
and deciding to stop belong to the consumer: leaving the loop stops the optimisation, and
:meth:`StyleRun.save` then checkpoints where it stands (what Ctrl-C does).

    with Engine(layers, config) as engine:
        run = engine.run(content, [style], folders)     # folders: one RunDir per level
        for record in run.records():
            ...

Adam: one ``session.run`` a step applies the evaluator's gradient to the Variable; the losses
it reports are those of the image entering the step. L-BFGS: :class:`~style_transfer.optimise.lbfgs.LBFGS`
feeds trial images to the evaluator within the pixel bounds (the image plus the mean stays in
[0, 255]); each accepted iterate is assigned to the Variable, so checkpoints and resume work as
with Adam, except that L-BFGS's curvature history restarts on resume.

A level too large for one pass (``tiles``, from ``memory.plan``) is evaluated exactly in tiles
by a :class:`~style_transfer.objective.tiled.TiledEvaluator` through one window-sized network shared by
the tiled levels; its targets are computed tile by tile too, and Adam applies the gradient it
returns. Checkpoints are the same either way, so a run can resume with another budget.

A video engine (``config.video``) gives its full-size level a temporal term
(:class:`~style_transfer.objective.evaluator.TemporalTerm`): a frame after the first passes the
previous result warped to it, with the flow's consistency mask, to :meth:`Engine.run`, which
then optimises the full size only, from that start (:mod:`~style_transfer.video.frames`), with a
second style term on the pixels the mask frees (:class:`~style_transfer.objective.evaluator.FreedStyleTerm`,
unless ``freed_style_weight`` is 0); a first frame loads empty masks, and both add nothing.

The config's colour and spatial controls (:mod:`~style_transfer.control.controls`) change what the
levels hold, not the loop: under luminance control the Variable is one channel (``Pixels``),
and with a content mask the style term is a ``GuidedStyleTerm`` whose region masks and targets
are loaded per image, like the other targets.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from tf1cnn.common import files, images, runtime
from tf1cnn.common.errors import OutputError, UsageError

from ..config import StyleConfig
from ..control import colour, controls, masks
from ..network import vgg
from ..network.matconvnet import Layer
from ..objective import losses, memory, tiled
from ..objective.evaluator import (
    ContentTerm,
    Evaluator,
    FreedStyleTerm,
    GuidedStyleTerm,
    StyleTerm,
    TemporalTerm,
    TVTerm,
)
from . import lbfgs
from .summaries import SummaryWriter

log = logging.getLogger(__name__)
Schedule = Callable[[int, int], bool]
KEPT_STYLES = 16  # (style image, level) pairs whose Gram matrices the engine keeps
ENDED = "ended.json"  # in a level's checkpoint folder: the step where it stopped early, and why


@dataclasses.dataclass(frozen=True)
class LevelStart:
    level: int  # 0-based; the last level is the full size
    levels: int
    height: int
    width: int
    iterations: int
    resumed_at: int | None  # the checkpoint's step when resumed; None when started fresh
    ended: str = ""  # why the resumed level had already stopped early; it is not optimised


@dataclasses.dataclass(frozen=True)
class Progress:
    level: int
    levels: int
    height: int
    width: int
    step: int
    iterations: int
    evaluations: int  # loss-and-gradient evaluations of this level so far (Adam: one a step)
    losses: dict  # "total" (weighted) and each term unweighted: "content", "style", "tv"
    seconds: float  # wall time since the previous record of this level
    steps_timed: int  # optimisation steps in that time
    checkpointed: bool  # a checkpoint was written at this step
    stopped: str  # why the level ended before ``iterations``; empty if it did not
    image: np.ndarray  # [height, width, 3] float RGB after this step, mean added back

    @property
    def seconds_per_step(self) -> float:
        """The wall time of one step since the previous record of this level."""
        return self.seconds / max(self.steps_timed, 1)

    @property
    def pixel_sum(self) -> float:
        """Sum of the image after this step, before clipping: a fingerprint of the run."""
        return float(self.image.sum(dtype=np.float64))


@dataclasses.dataclass(frozen=True)
class LevelEnd:
    level: int
    levels: int
    step: int
    image: np.ndarray  # the level's final image, float RGB, mean added back
    losses: dict  # the last record's (Adam's: of the image entering the last step); else at
    # the final image, evaluated once (a level resumed at its end records no step)
    evaluations: int  # as in Progress, up to the final image


def is_logged(step: int, iterations: int) -> bool:
    """The tutorial's schedule: 1-5, then every 10 up to 20, then every 20; plus the last."""
    return step <= 5 or (step <= 20 and step % 10 == 0) or step % 20 == 0 or step == iterations


def initial_image(content: np.ndarray, config: StyleConfig,
                  picture: np.ndarray | None = None) -> np.ndarray:
    """The mean-subtracted start: ``picture`` (RGB of the content's size) when given, else
    uniform noise in (-noise_range, noise_range) blended with the content (``init="noise"``)."""
    if picture is not None:
        return (picture - np.asarray(config.mean_pixel)).astype(np.float32)
    rng = np.random.default_rng(config.seed)
    start = np.empty(content.shape, np.float32)
    # Row by row in bands of about 2^20 values, so that the float64 temporaries stay small
    # at 8K; the noise is the same stream as one draw of the whole image.
    rows = max(1, 2**20 // max(1, content[0].size))
    for top in range(0, content.shape[0], rows):
        band = content[top:top + rows]
        noise = rng.uniform(-config.noise_range, config.noise_range, band.shape)
        start[top:top + rows] = noise * config.noise_ratio + \
            (band - np.asarray(config.mean_pixel)) * (1.0 - config.noise_ratio)
    return start


class Pixels:
    """How the image Variable holds a picture: RGB less the mean pixel, or, under luminance
    control, one channel, the luminance Y less the mean of the mean pixel (the network then
    sees R = G = B = Y, less the mean pixel, and the picture gets its chroma back from the
    content)."""

    def __init__(self, config: StyleConfig):
        self.mean = np.asarray(config.mean_pixel, np.float32)
        self.luminance = config.colour_control == "luminance"
        self.channels = 1 if self.luminance else 3
        self.offset = np.float32(self.mean.mean()) if self.luminance else self.mean

    def to_network(self, image: tf.Tensor) -> tf.Tensor:
        """The network's input for the Variable's value (the identity for RGB)."""
        return image + (self.offset - self.mean) if self.luminance else image

    def from_picture(self, picture: np.ndarray) -> np.ndarray:
        """The Variable's value [H, W, channels] for float RGB ``picture``."""
        if self.luminance:
            return (colour.luminance(picture)[:, :, None] - self.offset).astype(np.float32)
        return (picture - self.mean).astype(np.float32)

    def to_picture(self, value: np.ndarray, chroma: np.ndarray) -> np.ndarray:
        """Float RGB for the Variable's ``value``; ``chroma`` is the content of that size."""
        if self.luminance:
            return colour.with_chroma(value[:, :, 0] + self.offset, chroma).astype(np.float32)
        return value + self.mean

    def bounds(self, shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Flat lower and upper bounds that keep every pixel value within [0, 255]."""
        low = np.broadcast_to(-self.offset, shape).ravel().astype(np.float64)
        return low, low + 255.0


def relative_change(before: float, after: float) -> float:
    """|before - after| / max(|before|, |after|, 1): SciPy's L-BFGS-B stopping measure."""
    return abs(before - after) / max(abs(before), abs(after), 1.0)


def converged(history: Sequence[float], tolerance: float, steps: int) -> str:
    """Why a level whose losses so far this session are ``history`` (one per step, the last
    the newest) stops: over the last ``steps`` steps the loss changed by ``tolerance`` > 0 or
    less, relatively. Empty if it goes on (always, before ``steps`` + 1 losses)."""
    if tolerance <= 0 or len(history) <= steps:
        return ""
    change = relative_change(history[-1 - steps], history[-1])
    over = "" if steps == 1 else f" over {steps} steps"
    return f"relative loss change {change:.3g}{over} <= tolerance {tolerance:g}" \
        if change <= tolerance else ""


def content_style(values: dict[str, float], config: StyleConfig) -> float:
    """The content and style part of the total loss, each weighted as in the total: what a
    picture's quality is judged by, without a video's temporal and freed pixels' terms."""
    return config.content_weight * values["content"] + config.style_weight * values["style"]


def target_reached(values: dict[str, float], config: StyleConfig, target: float | None) -> str:
    """Why a level stops at the losses ``values``: their content+style is at most ``target``.
    Empty if not, or with no target."""
    if target is None:
        return ""
    found = content_style(values, config)
    return f"content+style loss {found:.6g} <= target {target:.6g}" if found <= target else ""


def budget_used(evaluations: int, budget: int) -> str:
    """Why a level stops after ``evaluations``: it has used its ``budget`` > 0. Empty if not."""
    return f"evaluation budget {budget} used ({evaluations})" \
        if 0 < budget <= evaluations else ""


def ended_early(folder, resumed_at: int | None) -> str:
    """Why the level in ``folder`` (a RunDir), resumed at ``resumed_at``, had stopped early
    there, from the note its last checkpoint left; empty if it had not (or started fresh)."""
    if resumed_at is None:
        return ""
    try:
        with open(os.path.join(folder.checkpoints, ENDED)) as handle:
            note = json.load(handle)
    except (OSError, ValueError):
        return ""
    return str(note.get("reason", "")) if note.get("step") == resumed_at else ""


class _Level:
    """One level's part of the graph: image Variable, evaluator, optimiser ops and Saver.

    A tiled level (``tile``: the interior size of its tiles) evaluates through the engine's
    shared ``tile_network``; its targets are numpy arrays, and Adam applies a gradient fed in
    (``gradient_in``) rather than one computed in the same ``session.run``."""

    def __init__(self, index: int, network: vgg.VGG, config: StyleConfig, pixels: Pixels,
                 tile_network: tiled.TileNetwork | None = None, tile: int | None = None,
                 temporal: bool = False):
        self.index, self.config, self.tile = index, config, tile
        self.shape = (1, config.height, config.width, pixels.channels)
        if temporal and tile:
            raise ValueError("a level with a temporal term is evaluated in one pass, not tiled")
        self.temporal = self.freed = None
        scope = f"level{index}"
        with tf.compat.v1.variable_scope(scope):
            self.image = tf.compat.v1.get_variable(
                "input_image", self.shape, tf.float32,
                initializer=tf.compat.v1.zeros_initializer())
            counter = dict(dtype=tf.int64, initializer=tf.compat.v1.zeros_initializer(),
                           trainable=False)
            self.step = tf.compat.v1.get_variable("global_step", [], **counter)
            self.evaluations = tf.compat.v1.get_variable("evaluations", [], **counter)
            if tile:
                self.evaluator = tiled.TiledEvaluator(
                    tile_network, self.image, tile,
                    (config.content_weight, config.style_weight, config.tv_weight),
                    config.style_layer_weights, config.blend_weights())
                self.gradient_in = tf.compat.v1.placeholder(tf.float32, self.shape, "gradient")
                gradient = self.gradient_in
            else:
                self._untiled(network, config, pixels, temporal)
                gradient = self.evaluator.gradient
            state = [self.image, self.step, self.evaluations]
            if config.optimizer == "adam":
                adam = tf.compat.v1.train.AdamOptimizer(config.learning_rate)
                self.train = adam.apply_gradients([(gradient, self.image)],
                                                  global_step=self.step)
                state += adam.variables()
            self.accepted = [tf.compat.v1.placeholder(v.dtype.base_dtype, v.shape)
                             for v in (self.image, self.step, self.evaluations)]
            self.accept = tf.group(*(v.assign(p) for v, p in zip(
                (self.image, self.step, self.evaluations), self.accepted)))
            self.reset = tf.compat.v1.variables_initializer(state)
        # Checkpoints name the variables as if the level were alone, so that a checkpoint does
        # not depend on how many levels the graph holds.
        names = {v.op.name.replace(scope + "/", ""): v for v in state}
        self.saver = tf.compat.v1.train.Saver(names, max_to_keep=3)

    def _untiled(self, network: vgg.VGG, config: StyleConfig, pixels: Pixels,
                 temporal: bool) -> None:
        """The evaluator of the whole image in one pass, with its targets as graph Variables;
        with ``temporal``, a video's temporal term too, and its freed pixels' style term."""
        sizes = vgg.shapes(network.layers, config.height, config.width)
        self.content = ContentTerm(config.content_layer, sizes[config.content_layer],
                                   config.content_weight)
        if config.content_mask:
            self.style = GuidedStyleTerm(
                config.style_layers, [sizes[name] for name in config.style_layers],
                config.style_layer_weights,
                [style is not None for _, style in config.region_styles()],
                config.style_weight)
        else:
            self.style = StyleTerm(config.style_layers,
                                   [sizes[name][2] for name in config.style_layers],
                                   config.style_layer_weights, config.blend_weights(),
                                   config.style_weight)
        terms = [self.content, self.style, TVTerm(config.tv_weight)]
        if temporal:
            self.temporal = TemporalTerm(self.shape, config.temporal_weight)
            terms.append(self.temporal)
            if config.freed_style_weight > 0:
                self.freed = FreedStyleTerm(
                    config.style_layers, [sizes[name] for name in config.style_layers],
                    config.style_layer_weights, config.freed_style_weight * config.style_weight)
                terms.append(self.freed)
        self.evaluator = Evaluator(network, self.image, terms, pixels.to_network)

    def load(self, session: tf.compat.v1.Session, content_features: np.ndarray,
             style_targets: Sequence, layer_masks: Sequence[np.ndarray] | None = None) -> None:
        """The targets of one content image: its features on the content layer, and per style
        image its Gram matrices (or, with ``layer_masks``, per region its guided targets)."""
        if self.tile:
            self.evaluator.load(content_features, style_targets, layer_masks)
            return
        self.content.load(session, content_features)
        if layer_masks is None:
            self.style.load(session, style_targets)
        else:
            self.style.load(session, layer_masks, style_targets)

    def unload(self) -> None:
        """Drop a tiled level's numpy targets (1 GB at 8K) once its image is done."""
        if self.tile:
            self.evaluator.unload()

    def due(self, step: int, iterations: int) -> bool:
        return step % self.config.checkpoint_every == 0 or step == iterations


class Engine:
    """One graph and Session for the levels of ``config``; runs content images one by one."""

    def __init__(self, layers: Sequence[Layer], config: StyleConfig,
                 tiles: Sequence[int | None] | None = None):
        """``tiles[k]``: level k's tile size (interior pixels, a multiple of the network's
        stride; see ``memory.plan``), or None to evaluate that level in one pass."""
        self.config = config
        self.levels = config.levels()
        self.tiles = list(tiles or [None] * len(self.levels))
        if len(self.tiles) != len(self.levels):
            raise ValueError(f"{len(self.levels)} levels need as many tile sizes, "
                             f"got {len(self.tiles)}")
        self.mean = np.asarray(config.mean_pixel, np.float32)
        self.pixels = Pixels(config)
        self.graph = tf.Graph()
        with self.graph.as_default():
            network = vgg.VGG(layers, config.pooling)
            self._picture = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3],
                                                     "target_input")
            end_points = network(self._picture, scope="targets")
            self._content_features = end_points[config.content_layer]
            self._grams = [losses.gram_matrix(end_points[name]) for name in config.style_layers]
            # A style region's target on each layer: its guided Gram matrix per pixel.
            self._region_masks = [tf.compat.v1.placeholder(tf.float32, [None, None])
                                  for _ in config.style_layers]
            self._region_grams = [losses.guided_target(end_points[name], mask)
                                  for name, mask in zip(config.style_layers, self._region_masks)]
            self._tile_network = tiled.TileNetwork(
                network, config.content_layer, config.style_layers, self.pixels.channels,
                bool(config.content_mask), self.pixels.to_network) if any(self.tiles) else None
            # A video's frames after the first start at the full size from the previous
            # result: only there is the temporal term needed.
            self._levels = [_Level(k, network, level, self.pixels, self._tile_network, tile,
                                   temporal=bool(config.video) and k == len(self.levels) - 1)
                            for k, (level, tile) in enumerate(zip(self.levels, self.tiles))]
            self._initialize = tf.compat.v1.local_variables_initializer()
            self.graph.finalize()  # nothing may add ops while images are optimised
        session_config = runtime.session_config()
        # Grappler's rewrites cost 0.4-0.9 s at the first run of every new set of fetches (a
        # level's first step, each target; why, not profiled), and gave nothing per step
        # here: at 1000x1000 on VGG19, off, a 2-level run took 48 s against 54 s and peaked
        # at 3437 MiB against 4272 MiB, with the same image.
        session_config.graph_options.rewrite_options.disable_meta_optimizer = True
        self.session = runtime.new_session(self.graph, config=session_config)
        self.session.run(self._initialize)
        self._layers = network.layers
        self._style_grams: dict[tuple[str, int], list[np.ndarray]] = {}

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def run(self, content: np.ndarray, styles: Sequence[np.ndarray], folders: Sequence,
            init_picture: np.ndarray | None = None, resume: bool = False, *,
            coarse_styles: Sequence[np.ndarray] = (), content_mask: np.ndarray | None = None,
            style_masks: Sequence[np.ndarray | None] = (),
            temporal: tuple[np.ndarray, np.ndarray] | None = None,
            iterations: int | None = None, target: float | None = None) -> StyleRun:
        """A run of ``content`` (float RGB, any size) towards ``styles``, one folder per level
        (each with ``.checkpoints`` and ``.summaries`` paths). ``init_picture`` is the start
        for an ``init`` other than noise. With ``resume``, the finest level that has a
        checkpoint continues from it. The keywords are the config's scale and spatial
        controls' pictures (see :mod:`~style_transfer.control.controls`).

        A video's frame after the first gives ``temporal``: (the previous result warped to
        this frame, float RGB of the full size; the flow's consistency mask [H, W]). Its run
        optimises the full size only, from ``init_picture`` (the warped result, as a rule),
        for ``iterations`` when given instead of the config's; with a ``target``, the full size
        stops at the first step whose content+style loss is at most that."""
        prepared = controls.prepare(self.config, content, styles, coarse_styles, content_mask,
                                    style_masks)
        if temporal is not None and self._levels[-1].temporal is None:
            raise ValueError("a temporal target needs an engine built for video")
        return StyleRun(self, prepared, folders, init_picture, resume, temporal, iterations,
                        target)

    def style_grams(self, styles: Sequence[np.ndarray], level: int) -> list[list[np.ndarray]]:
        """Per style image, its Gram matrices at ``level``, rescaled to the result's pixel
        count; kept for the next content image of a batch, which has the same styles."""
        config = self.levels[level]
        size = memory.scaled(config.height, config.width, config.style_scale)
        result_sizes = vgg.shapes(self._layers, config.height, config.width)
        found = []
        for style in styles:
            key = (hashlib.sha256(np.ascontiguousarray(style).tobytes()).hexdigest(), level)
            if key not in self._style_grams:
                fitted = images.fit(style, *size)
                grams = self._forward(fitted, level, content=False)[1]
                style_sizes = vgg.shapes(self._layers, *size)
                # A style image of another size sums its Gram matrices over more or fewer
                # pixels; rescaled to the result's pixel count, the loss compares like with like.
                self._style_grams[key] = [
                    gram * np.float32(np.prod(result_sizes[name][:2])
                                      / np.prod(style_sizes[name][:2]))
                    for gram, name in zip(grams, config.style_layers)]
                if len(self._style_grams) > KEPT_STYLES:  # recoloured styles differ per image
                    del self._style_grams[next(iter(self._style_grams))]
            found.append(self._style_grams[key])
        return found

    def region_grams(self, prepared: controls.Controls, styles: Sequence[np.ndarray],
                     level: int) -> list[list[np.ndarray] | None]:
        """Per region, its style's per-pixel guided Gram matrix on each style layer at
        ``level`` (None for a region without style), from the style mask's matching region."""
        config = self.levels[level]
        size = memory.scaled(config.height, config.width, config.style_scale)
        found = []
        for region, (_, index) in enumerate(prepared.regions):
            if index is None:
                found.append(None)
                continue
            fitted = images.fit(styles[index], *size)
            weights = prepared.style_weights(index, styles[index], *size)[:, :, region:region + 1]
            layer = masks.layer_masks(weights, self._layers, *size, config.pooling,
                                      config.style_layers)
            layer = [layer[name] for name in config.style_layers]
            if self.tiles[level]:
                _, grams = self._forward(fitted, level, content=False, layer_masks=layer)
                found.append([np.divide(gram[0], np.square(mask).sum(dtype=np.float64))
                              if mask.any() else np.zeros_like(gram[0])
                              for gram, mask in zip(grams, layer)])
                continue
            feed = {self._picture: [fitted - self.mean]}
            feed.update({placeholder: mask[:, :, 0] for placeholder, mask in
                         zip(self._region_masks, layer)})
            found.append(self.session.run(self._region_grams, feed))
        return found

    def content_features(self, content: np.ndarray, level: int) -> np.ndarray:
        """The content layer's features [1, h, w, N] of ``content`` at ``level``'s size."""
        return self._forward(content, level, grams=False)[0]

    def _forward(self, picture: np.ndarray, level: int, content: bool = True,
                 grams: bool = True, layer_masks=None) -> tuple:
        """(content features, style Gram matrices) of an RGB picture: in one pass, or tile by
        tile for a tiled level (Gram matrices summed in float64; guided ones [R, N, N])."""
        centred = picture - self.mean
        if self.tiles[level]:
            features, found = self._tile_network.forward(self.session, centred,
                                                         self.tiles[level], content, grams,
                                                         layer_masks)
            if found is not None and layer_masks is None:
                found = [gram[0] for gram in found]
            return features, found
        fetches = [self._content_features if content else [],
                   self._grams if grams else []]
        return tuple(self.session.run(fetches, {self._picture: [centred]}))


class StyleRun:
    """One content image through the engine's levels; see :meth:`records`."""

    def __init__(self, engine: Engine, prepared: controls.Controls, folders, init_picture,
                 resume, temporal=None, iterations=None, target=None):
        if len(folders) != len(engine.levels):
            raise ValueError(f"{len(engine.levels)} levels need as many folders, "
                             f"got {len(folders)}")
        self.engine, self.controls = engine, prepared
        self.folders, self.init_picture = list(folders), init_picture
        self.temporal, self.iterations, self.target = temporal, iterations, target
        self.first = 0
        if temporal is not None:
            self.first = len(folders) - 1
        elif resume:
            self.first = next((k for k in reversed(range(len(folders)))
                               if runtime.latest_checkpoint(folders[k].checkpoints)), 0)
        self.resume = resume
        self._level: _Level | None = None  # the level being optimised
        self._chroma = None  # the content at that level's size: a luminance result's chroma

    @property
    def session(self) -> tf.compat.v1.Session:
        return self.engine.session

    def records(self, schedule: Schedule = is_logged
                ) -> Iterator[LevelStart | Progress | LevelEnd]:
        """Optimise every level from the first unfinished one, yielding records."""
        previous = None
        for index in range(self.first, len(self.engine.levels)):
            level = self.engine._levels[index]
            resumed = self._start(level, previous)
            previous = None
            config, folder = self.level_config(level), self.folders[index]
            ended = ended_early(folder, resumed)
            yield LevelStart(index, len(self.engine.levels), config.height, config.width,
                             config.iterations, resumed, ended)
            last = None  # the latest record's step, losses and evaluations
            if not ended:
                writer = SummaryWriter(folder.summaries)
                try:
                    optimise = self._lbfgs if config.optimizer == "lbfgs" else self._adam
                    for record in optimise(level, config, folder, schedule, writer):
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

    def level_config(self, level: _Level) -> StyleConfig:
        """``level``'s config, with this run's ``iterations`` at the full size when given."""
        if self.iterations is None or level.index < len(self.engine.levels) - 1:
            return level.config
        return dataclasses.replace(level.config, iterations=self.iterations)

    def _start(self, level: _Level, previous: np.ndarray | None) -> int | None:
        """Load ``level``'s targets and its start: the checkpoint's step when it resumes, else
        None and the image of the level before (``previous``), the init picture or the noise
        blend. The image-sized arrays made on the way are freed on return."""
        prepared, levels, index = self.controls, len(self.engine.levels), level.index
        config = level.config
        fitted = images.fit(prepared.content, config.height, config.width)
        features = self.engine.content_features(fitted, index)
        styles = prepared.styles_at(index, levels)
        if config.content_mask:
            weights = prepared.content_weights(config.height, config.width)
            layer = masks.layer_masks(weights, self.engine._layers, config.height,
                                      config.width, config.pooling, config.style_layers)
            level.load(self.session, features, self.engine.region_grams(prepared, styles, index),
                       [layer[name] for name in config.style_layers])
        else:
            grams = self.engine.style_grams(styles, index)
            level.load(self.session, features, grams)
        if level.temporal is not None:
            if self.temporal is not None:
                warped, mask = self.temporal
                freed = 1 - mask
            else:  # a first frame: empty masks make both terms zero
                warped, mask = fitted, np.zeros((config.height, config.width), np.float32)
                freed = mask
            level.temporal.load(self.session, [self.engine.pixels.from_picture(warped)], mask)
            if level.freed is not None:
                self._load_freed(level, freed, grams)  # a video has no content mask
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
        elif self.init_picture is not None:
            picture = images.fit(self.init_picture, config.height, config.width)
        else:
            picture = None
        start = initial_image(fitted, config, picture) + self.engine.mean
        self.session.run(level.accept, dict(zip(
            level.accepted, ([self.engine.pixels.from_picture(start)], 0, 0))))
        return None

    def _load_freed(self, level: _Level, freed: np.ndarray, grams: Sequence) -> None:
        """The freed pixels' weights [h, w] at each style layer, and the styles' blended
        per-pixel Gram matrices (``losses.guided_style_loss``'s target) into ``level.freed``."""
        config = level.config
        layer = masks.layer_masks(freed[:, :, None], self.engine._layers, config.height,
                                  config.width, config.pooling, config.style_layers)
        sizes = vgg.shapes(self.engine._layers, config.height, config.width)
        targets = [sum(share * found[k] for share, found in zip(config.blend_weights(), grams))
                   / np.float32(np.prod(sizes[name][:2]))
                   for k, name in enumerate(config.style_layers)]
        level.freed.load(self.session, [layer[name] for name in config.style_layers], [targets])

    def _restore(self, level: _Level, folder) -> int | None:
        latest = runtime.latest_checkpoint(folder.checkpoints)
        if latest is None:
            return None
        try:
            with self.engine.graph.as_default():
                level.saver.restore(self.session, latest)
        except (tf.errors.OpError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0][:200]
            raise UsageError(f"checkpoint {latest} cannot be restored ({reason}); move "
                             f"{folder.checkpoints} away to start over") from None
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

    def _target(self, level: _Level) -> float | None:
        """The content+style loss that stops ``level``: the run's target at the full size."""
        return self.target if level.index == len(self.engine.levels) - 1 else None

    def _budget(self, level: _Level) -> int:
        """The evaluations ``level`` may use: ``coarse_evaluations`` below the full size, else
        0 (no budget)."""
        return level.config.coarse_evaluations if level.index < len(self.engine.levels) - 1 \
            else 0

    def _save(self, level: _Level, folder, stopped: str = "") -> None:
        """A checkpoint of ``level``, and when the level ``stopped`` early, the note that makes
        a rerun end it there too (``ended_early``). OutputError when they cannot be written,
        the previous checkpoint still the latest (the Saver updates its index only after the
        data)."""
        step = self.step
        try:
            os.makedirs(folder.checkpoints, exist_ok=True)
            with self.engine.graph.as_default():  # Saver takes the default graph's mode
                # No .meta file: it would hold the VGG constants, and a resume rebuilds the
                # graph in code, restoring only the variables.
                level.saver.save(self.session, os.path.join(folder.checkpoints, "style"),
                                 global_step=step, write_meta_graph=False)
            if stopped:
                files.write_json(os.path.join(folder.checkpoints, ENDED),
                                 {"step": step, "reason": stopped})
        except (OSError, tf.errors.OpError, ValueError) as exc:
            cause = getattr(exc, "strerror", None) or getattr(exc, "message", None) or str(exc)
            raise OutputError(f"cannot write a checkpoint in {folder.checkpoints} "
                              f"({cause.strip().splitlines()[0][:200]})") from None

    def _record(self, level: _Level, config: StyleConfig, step: int, evaluations: int,
                values: dict, since: float, timed: int, checkpointed: bool, stopped: str,
                image: np.ndarray) -> Progress:
        return Progress(level.index, len(self.engine.levels), config.height, config.width,
                        step, config.iterations, evaluations, values,
                        time.perf_counter() - since, timed, checkpointed, stopped, image)

    def _adam(self, level: _Level, config: StyleConfig, folder, schedule: Schedule,
              writer: SummaryWriter) -> Iterator[Progress]:
        step = self.step
        since, timed = time.perf_counter(), 0
        fetches = None if level.tile else [level.train, level.evaluator.losses]
        budget, target = self._budget(level), self._target(level)
        history = collections.deque(maxlen=config.tolerance_steps + 1)
        while step < config.iterations:
            step += 1
            timed += 1
            logged = schedule(step, config.iterations)
            stopped = budget_used(step, budget)
            measured = logged or config.tolerance > 0 or target is not None or bool(stopped)
            if level.tile:  # the losses come with the gradient, tile by tile
                values, gradient = level.evaluator.evaluate(self.session)
                self.session.run(level.train, {level.gradient_in: gradient})
                del gradient  # one image-sized array fewer during the next evaluation
            elif measured:
                _, values = self.session.run(fetches)
                values = {name: float(v) for name, v in values.items()}
            else:
                self.session.run(level.train)
            if measured:
                history.append(values["total"])
                stopped = stopped or converged(history, config.tolerance,
                                               config.tolerance_steps) \
                    or target_reached(values, config, target)
            checkpointed = level.due(step, config.iterations) or bool(stopped)
            if checkpointed:
                self._save(level, folder, stopped)
            if logged or stopped:
                image = self.current_image()
                writer.write(step, values, image)
                yield self._record(level, config, step, step, values, since, timed,
                                   checkpointed, stopped, image)
                image = None  # not held through the next step: at 8K it is 400 MB
                since, timed = time.perf_counter(), 0
            if stopped:
                return

    def _lbfgs(self, level: _Level, config: StyleConfig, folder, schedule: Schedule,
               writer: SummaryWriter) -> Iterator[Progress]:
        pixels, session = self.engine.pixels, self.session
        start = step = self.step
        if start >= config.iterations:
            return
        counted = int(session.run(level.evaluations))
        last = {}  # the latest evaluation: x and its losses

        def objective(x: np.ndarray):
            values, gradient = level.evaluator.evaluate(session, x.reshape(level.shape))
            last.update(x=x.copy(), values=values)
            return values["total"], gradient

        problem = lbfgs.LBFGS(objective, session.run(level.image), *pixels.bounds(level.shape),
                              corrections=config.lbfgs_corrections,
                              max_iterations=config.iterations - start)
        since, timed, handed = time.perf_counter(), 0, start
        budget, target = self._budget(level), self._target(level)
        history = collections.deque(maxlen=config.tolerance_steps + 1)
        iterates = iter(problem)
        try:
            for iterate in iterates:
                step += 1
                timed += 1
                evaluations = counted + iterate.evaluations
                image = iterate.x.reshape(level.shape).astype(np.float32)
                session.run(level.accept, dict(zip(level.accepted, (image, step, evaluations))))
                history.append(iterate.loss)
                stopped = converged(history, config.tolerance, config.tolerance_steps) or \
                    budget_used(evaluations, budget)
                logged = schedule(step, config.iterations)
                if logged or stopped or target is not None:
                    # The iterate's losses: as a rule, the line search's last trial was it.
                    values = last["values"] if np.array_equal(last["x"], iterate.x) \
                        else level.evaluator.evaluate(session, image)[0]
                    stopped = stopped or target_reached(values, config, target)
                checkpointed = level.due(step, config.iterations) or bool(stopped)
                if checkpointed:
                    self._save(level, folder, stopped)
                if stopped or logged:
                    picture = pixels.to_picture(image[0], self._chroma)
                    writer.write(step, values, picture)
                    yield self._record(level, config, step, evaluations, values, since, timed,
                                       checkpointed, stopped, picture)
                    picture = None  # not held through the next iteration
                    since, timed, handed = time.perf_counter(), 0, step
                if stopped:
                    return
        finally:
            iterates.close()
        if step < config.iterations:  # SciPy stopped on its own, e.g. a failed line search
            if step == start or handed == step:
                log.warning("L-BFGS-B stopped at step %d: %s", step, problem.message)
                return
            stopped = f"L-BFGS-B: {problem.message}"
            self._save(level, folder, stopped)
            values, _ = level.evaluator.evaluate(session)
            picture = self.current_image()
            writer.write(step, values, picture)
            yield self._record(level, config, step, counted + problem.evaluations, values,
                               since, timed, True, stopped, picture)
