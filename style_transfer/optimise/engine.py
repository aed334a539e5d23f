"""The style engine: one graph for a config's levels, and a generator of typed records per image.

:class:`Engine` builds, once, a TF1 graph holding the VGG weights as constants (in the config's
``precision``, which the shell resolves from "auto"), a forward pass for the targets, and for
every coarse-to-fine level (``StyleConfig.levels``) its own image Variable,
:class:`~style_transfer.objective.evaluator.Evaluator`, optimiser ops and Saver. Then it runs
any number of content images through that graph: :meth:`Engine.run` loads the image's targets,
starts the optimiser's state afresh (or restores a checkpoint) and returns a :class:`StyleRun`
whose :meth:`~StyleRun.records` yields the typed records of :mod:`~style_transfer.optimise.records`
per level: ``LevelStart``, ``Progress`` at the logged steps and where a level stops early, and
``LevelEnd`` (its losses evaluated once when no record gave them, as for a level resumed at its
end).

Each level is optimised by one loop (:mod:`~style_transfer.optimise.loop`) for both optimisers,
stepped by :mod:`~style_transfer.optimise.steppers` (``AdamStepper``, ``LBFGSStepper``) through
:class:`~style_transfer.optimise.levels.LevelSteps`, and stopped early by its
:class:`~style_transfer.optimise.stopping.StopRules` (``StopRules.of_level``: a tolerance, the
coarse levels' evaluation budget, a run's target at the full size, given to :meth:`Engine.run`
as ``stops``), or when L-BFGS-B ends by itself. The loop writes what only the engine can: Saver
checkpoints (:mod:`~style_transfer.optimise.checkpoints`: every ``checkpoint_every`` steps, at a
level's last step, and where it stops early, with a note that makes a resumed run end that
level there too) and TensorBoard summaries. Printing, image files and deciding to stop belong
to the consumer: leaving the loop stops the optimisation, and :meth:`StyleRun.save` then
checkpoints where it stands (what Ctrl-C does).

    with Engine(layers, config) as engine:
        run = engine.run(inputs.prepare(config, content, [style]), folders)  # a RunDir a level
        for record in run.records():
            ...

A level too large for one pass (``tiles``, from ``memory.plan``) is evaluated exactly in tiles
by a :class:`~style_transfer.objective.tiled.TiledEvaluator` through one window-sized network
shared by the tiled levels; its targets are computed tile by tile too, and Adam applies the
gradient it returns. Checkpoints are the same either way, so a run can resume with another budget.

An engine built with ``terms`` adds them to its full-size level's objective, after the content,
style and tv terms, and each run loads them through its ``load`` (a :class:`TermLoad`: the
level's content and style Gram matrices, the network's layers), without knowing what they
are. A video's are its temporal term and the freed pixels' style term
(:mod:`~style_transfer.video.frames`); a later frame runs the full size only
(``full_size_only``), from the start its inputs give.

The config's colour and spatial controls (:mod:`~style_transfer.control.controls`) change what the
levels hold, not the loop: under luminance control the Variable is one channel (``Pixels``),
and with a content mask the style term is a ``GuidedStyleTerm`` whose region masks and targets
are loaded per image, like the other targets.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from tf1cnn.common import images, runtime

from ..config import StyleConfig
from ..control import controls, masks
from ..control.inputs import Inputs
from ..network import vgg, vgg_graph
from ..network.matconvnet import Layer
from ..objective import losses, memory, tiled
from .levels import Level, Pixels, Terms
from .run import StyleRun, TermLoad
from .stopping import StopRules

KEPT_STYLES = 16  # (style image, level) pairs whose Gram matrices the engine keeps


class Engine:
    """One graph and Session for the levels of ``config``; runs content images one by one."""

    def __init__(self, layers: Sequence[Layer], config: StyleConfig,
                 tiles: Sequence[int | None] | None = None, terms: Terms | None = None):
        """``tiles[k]``: level k's tile size (interior pixels, a multiple of the network's
        stride; see ``memory.plan``), or None to evaluate that level in one pass. ``terms``
        adds terms of the caller's to the full size's objective (a video's: see
        ``video.frames.terms``), which each run then loads (``run``'s ``load``). The network
        runs in ``config.precision``, which must be resolved: ValueError for "auto"."""
        if config.precision not in vgg.PRECISIONS:
            raise ValueError(f"precision {config.precision!r}: an engine needs one of "
                             f"{', '.join(vgg.PRECISIONS)} (resolve 'auto' first: "
                             f"job.settle_precision or runtime.resolve_precision)")
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
            network = vgg_graph.VGG(layers, config.pooling, config.precision)
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
            # result: only there are its terms needed.
            self._levels = [Level(k, network, level, self.pixels, self._tile_network, tile,
                                   terms if k == len(self.levels) - 1 else None)
                            for k, (level, tile) in enumerate(zip(self.levels, self.tiles))]
            self._initialize = tf.compat.v1.local_variables_initializer()
            self.graph.finalize()  # nothing may add ops while images are optimised
        session_config = runtime.session_config()
        # Grappler's rewrites slow the first run of every new set of fetches and gain nothing
        # per step here.
        session_config.graph_options.rewrite_options.disable_meta_optimizer = True
        self.session = runtime.new_session(self.graph, config=session_config)
        self.session.run(self._initialize)
        self._layers, self._terms = network.layers, terms
        self._style_grams: dict[tuple[str, int], list[np.ndarray]] = {}

    @property
    def layers(self) -> list[Layer]:
        """The network's layers, as ``vgg.shapes`` and ``masks.layer_masks`` take them."""
        return self._layers

    def level(self, index: int) -> Level:
        """Level ``index``'s part of the graph (0 the coarsest, the last the full size)."""
        return self._levels[index]

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def run(self, inputs: Inputs, folders: Sequence, resume: bool = False, *,
            load: Callable[[TermLoad], None] | None = None, full_size_only: bool = False,
            iterations: int | None = None, stops: StopRules | None = None) -> StyleRun:
        """A run of ``inputs`` (:func:`~style_transfer.control.inputs.prepare`: the content,
        styles and controls, and the start, ``inputs.start``, or the noise blend), one folder
        per level (each with ``.checkpoints`` and ``.summaries`` paths). With ``resume``, the
        finest level that has a checkpoint continues from it.

        An engine built with ``terms`` needs ``load``, which the full size's start calls with
        a :class:`TermLoad` to load them. With ``full_size_only`` (a video's later frame) the
        run optimises the full size only, from ``inputs.start``, for ``iterations`` when given
        instead of the config's. ``stops``: the full size's stop rules, in place of the
        config's (a video's later frame adds its target)."""
        if (load is None) != (self._terms is None):
            raise ValueError("an engine built with terms needs their load, and only such an "
                             "engine takes one")
        return StyleRun(self, inputs, folders, resume, load=load, full_size_only=full_size_only,
                        iterations=iterations, stops=stops)

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
