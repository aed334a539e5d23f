"""A level of the engine's graph: its part of the graph, how its image Variable holds a
picture, where it starts, and how the steppers step it in a Session.

:class:`Level` is one coarse-to-fine level's image Variable, evaluator, optimiser ops and Saver;
:class:`Pixels` maps pictures to the Variable and back (RGB less the mean pixel, or under
luminance control one channel); :func:`initial_image` is a level's start when it does not
resume; :class:`LevelSteps` is the engine's side of the steppers' protocols
(:class:`~style_transfer.optimise.steppers.AdamLevel`,
:class:`~style_transfer.optimise.steppers.LBFGSLevel`) for one level of the graph.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from ..config import StyleConfig
from ..control import colour
from ..network import vgg, vgg_graph
from ..objective import tiled
from ..objective.evaluator import ContentTerm, Evaluator, GuidedStyleTerm, StyleTerm, TVTerm

# A level's own terms, built into the full size's objective after the content, style and tv:
# (the level's config, its image Variable's shape, vgg.shapes at its size) -> terms.
Terms = Callable[[StyleConfig, Sequence[int], dict], Sequence]


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


class Level:
    """One level's part of the graph: image Variable, evaluator, optimiser ops and Saver.

    A tiled level (``tile``: the interior size of its tiles) evaluates through the engine's
    shared ``tile_network``; its targets are numpy arrays, and Adam applies a gradient fed in
    (``gradient_in``) rather than one computed in the same ``session.run``."""

    def __init__(self, index: int, network: vgg_graph.VGG, config: StyleConfig, pixels: Pixels,
                 tile_network: tiled.TileNetwork | None = None, tile: int | None = None,
                 terms: Terms | None = None):
        self.index, self.config, self.tile = index, config, tile
        self.shape = (1, config.height, config.width, pixels.channels)
        if terms is not None and tile:
            raise ValueError("a level with terms of its own is evaluated in one pass, not tiled")
        self.extras = []  # the terms that ``terms`` added, after the content, style and tv
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
                self._untiled(network, config, pixels, terms)
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

    def _untiled(self, network: vgg_graph.VGG, config: StyleConfig, pixels: Pixels,
                 terms: Terms | None) -> None:
        """The evaluator of the whole image in one pass, with its targets as graph Variables;
        with ``terms``, the terms it builds too (a video's: ``video.frames.terms``)."""
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
        if terms is not None:
            self.extras = list(terms(config, self.shape, sizes))
        self.evaluator = Evaluator(network, self.image, [
            self.content, self.style, TVTerm(config.tv_weight), *self.extras], pixels.to_network)

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


class LevelSteps:
    """One :class:`Level` of the engine's graph stepped in ``session``: what
    :class:`~style_transfer.optimise.steppers.AdamStepper` and
    :class:`~style_transfer.optimise.steppers.LBFGSStepper` ask of a level. ``chroma``: the
    content at the level's size, which a luminance result gets its colours from."""

    def __init__(self, session: tf.compat.v1.Session, level, pixels: Pixels,
                 chroma: np.ndarray | None):
        self.session, self.level, self.pixels, self.chroma = session, level, pixels, chroma

    def step(self, fetch_losses: bool) -> dict | None:
        """One Adam step. A tiled level evaluates its losses and gradient tile by tile and
        feeds the gradient in, so its losses come always."""
        level, session = self.level, self.session
        if level.tile:
            values, gradient = level.evaluator.evaluate(session)
            session.run(level.train, {level.gradient_in: gradient})
            del gradient  # one image-sized array fewer during the next evaluation
            return values
        if fetch_losses:
            _, values = session.run([level.train, level.evaluator.losses])
            return {name: float(v) for name, v in values.items()}
        session.run(level.train)
        return None

    def picture(self, image: np.ndarray | None = None) -> np.ndarray:
        """``image`` (the Variable's value, as ``accept`` returns it; None: read the Variable)
        as float RGB with the mean added back."""
        value = self.session.run(self.level.image) if image is None else image
        return self.pixels.to_picture(value[0], self.chroma)

    def start(self) -> np.ndarray:
        return self.session.run(self.level.image)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.pixels.bounds(self.level.shape)

    def evaluations(self) -> int:
        return int(self.session.run(self.level.evaluations))

    def evaluate(self, x: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
        """The losses and gradient at ``x`` (any array of the Variable's size), or at the
        Variable's value."""
        image = None if x is None else x.reshape(self.level.shape)
        return self.level.evaluator.evaluate(self.session, image)

    def accept(self, x: np.ndarray, step: int, evaluations: int) -> np.ndarray:
        """Assign ``x`` (an L-BFGS iterate) to the Variable, with the step and evaluations;
        returns the float32 value assigned."""
        level = self.level
        image = x.reshape(level.shape).astype(np.float32)
        self.session.run(level.accept, dict(zip(level.accepted, (image, step, evaluations))))
        return image
