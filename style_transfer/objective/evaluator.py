"""The objective of a style run: one object that gives the loss and its gradient for an image.

An :class:`Evaluator` is built from *terms*. Each term turns the network's end points (and the
image itself) into one unweighted scalar loss; the evaluator adds them up with their weights
and differentiates the total with respect to the image. Both optimisers use it: Adam applies
its gradient tensor to the image Variable inside the graph, L-BFGS feeds trial images through
:meth:`Evaluator.evaluate`. New kinds of objective (a temporal term for video, guided Gram
matrices for masks) are new terms here, not new optimisation loops; the tiled evaluation of
large images (:mod:`~style_transfer.objective.tiled`) is another evaluator with the same
``evaluate``.

The terms' targets (content features, style Gram matrices) are non-trainable Variables of the
graph, loaded with :meth:`ContentTerm.load` and :meth:`StyleTerm.load`: one graph then serves
any number of content images of its size, and the targets never enter a checkpoint. The engine
loads the content and style terms itself; terms it is given from outside (a video's
:class:`TemporalTerm` and :class:`FreedStyleTerm`, from ``video.frames.terms``) are loaded by
whoever gave them, through ``Engine.run``'s ``load``.

The loss functions themselves are the pure ones of :mod:`~style_transfer.objective.losses`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

from . import losses


def _target(name: str, shape) -> tuple[tf.Variable, tf.Tensor, tf.Operation]:
    """A float32 Variable outside every checkpoint, with a placeholder and an op that load it."""
    variable = tf.compat.v1.Variable(tf.zeros(shape), trainable=False, name=name,
                                     collections=[tf.compat.v1.GraphKeys.LOCAL_VARIABLES])
    value = tf.compat.v1.placeholder(tf.float32, shape, f"{name}_value")
    return variable, value, variable.assign(value)


class ContentTerm:
    """sum((F - P)^2) / (4 |P|) on one layer; P is loaded per content image."""

    name = "content"

    def __init__(self, layer: str, shape: Sequence[int], weight: float):
        self.layer, self.weight = layer, weight
        self.target, self._value, self._load = _target("content_target", [1, *shape])

    def loss(self, end_points: Mapping[str, tf.Tensor], image: tf.Tensor) -> tf.Tensor:
        return losses.content_loss(end_points[self.layer], self.target)

    def load(self, session: tf.compat.v1.Session, features: np.ndarray) -> None:
        session.run(self._load, {self._value: features})


class StyleTerm:
    """The Gram-matrix loss of several layers, blended over one or more style images."""

    name = "style"

    def __init__(self, layers: Sequence[str], channels: Sequence[int],
                 layer_weights: Sequence[float], blend: Sequence[float], weight: float):
        self.layers, self.layer_weights, self.blend = list(layers), layer_weights, blend
        self.weight = weight
        self.targets = [[_target(f"gram_{s}_{name}", [c, c])
                         for name, c in zip(layers, channels, strict=True)]
                        for s in range(len(blend))]

    def loss(self, end_points: Mapping[str, tf.Tensor], image: tf.Tensor) -> tf.Tensor:
        return losses.blended_style_loss(
            [end_points[name] for name in self.layers],
            [[variable for variable, _, _ in grams] for grams in self.targets],
            self.layer_weights, self.blend)

    def load(self, session: tf.compat.v1.Session, grams: Sequence[Sequence[np.ndarray]]) -> None:
        """``grams[s][l]``: style image s's Gram matrix on layer l, at the result's pixel count."""
        feed, ops = {}, []
        for targets, found in zip(self.targets, grams, strict=True):
            for (_, value, load), gram in zip(targets, found, strict=True):
                feed[value] = gram
                ops.append(load)
        session.run(ops, feed)


class GuidedStyleTerm:
    """Style by regions (Gatys et al. 2017): per layer, each region's guided Gram matrix
    against its own target; a region without a style adds nothing. The region masks of every
    layer and the per-region targets are loaded per content image."""

    name = "style"

    def __init__(self, layers: Sequence[str], sizes: Sequence[Sequence[int]],
                 layer_weights: Sequence[float], styled: Sequence[bool], weight: float):
        self.layers, self.layer_weights, self.weight = list(layers), layer_weights, weight
        regions = len(styled)
        self.masks = [_target(f"mask_{name}", [h, w, regions])
                      for name, (h, w, _) in zip(layers, sizes, strict=True)]
        self.targets = [[_target(f"region{r}_gram_{name}", [c, c]) if has else None
                         for name, (_, _, c) in zip(layers, sizes)]
                        for r, has in enumerate(styled)]

    def loss(self, end_points: Mapping[str, tf.Tensor], image: tf.Tensor) -> tf.Tensor:
        return tf.add_n([
            losses.guided_style_loss(
                end_points[name], mask,
                [None if region[index] is None else region[index][0]
                 for region in self.targets], weight)
            for index, (name, (mask, _, _), weight) in enumerate(
                zip(self.layers, self.masks, self.layer_weights))])

    def load(self, session: tf.compat.v1.Session, layer_masks: Sequence[np.ndarray],
             grams: Sequence[Sequence[np.ndarray] | None]) -> None:
        """``layer_masks[l]``: the regions at layer l, [h_l, w_l, R]; ``grams[r][l]``: region
        r's per-pixel target on layer l (``losses.guided_target``), or None without style."""
        feed, ops = {}, []
        for (_, value, load), mask in zip(self.masks, layer_masks, strict=True):
            feed[value] = mask
            ops.append(load)
        for targets, found in zip(self.targets, grams, strict=True):
            for target, gram in zip(targets, found or [None] * len(targets)):
                if target is not None:
                    _, value, load = target
                    feed[value] = gram
                    ops.append(load)
        session.run(ops, feed)


class FreedStyleTerm(GuidedStyleTerm):
    """Video: the style loss of the pixels a frame's consistency mask frees (weight 1 - c),
    as ``regions`` regions (1, or 2: new picture at the frame's edge apart from the rest),
    each against the style's per-pixel Gram matrix (several styles: their blend, by the blend
    weights). The whole frame's style loss hardly pulls on them: its Gram matrix is matched
    already by the carried pixels around them. Loaded per frame; a frame with nothing freed
    (or a first frame) loads empty regions, and the term is zero."""

    name = "freed_style"

    def __init__(self, layers: Sequence[str], sizes: Sequence[Sequence[int]],
                 layer_weights: Sequence[float], weight: float, regions: int = 1):
        super().__init__(layers, sizes, layer_weights, [True] * regions, weight)


class TVTerm:
    """Total variation of the image itself: smoothness, no network involved."""

    name = "tv"

    def __init__(self, weight: float):
        self.weight = weight

    def loss(self, end_points: Mapping[str, tf.Tensor], image: tf.Tensor) -> tf.Tensor:
        return losses.total_variation_loss(image)


class TemporalTerm:
    """Video (Ruder et al. 2016): the difference from the previous frame's result warped to
    this frame, where the optical flow is consistent. Both are loaded per frame; a first frame
    loads an empty mask, and the term is zero."""

    name = "temporal"

    def __init__(self, shape: Sequence[int], weight: float):
        """``shape``: the image Variable's [1, h, w, channels]."""
        self.weight = weight
        self.warped, self._warped, self._load_warped = _target("temporal_warped", shape)
        self.mask, self._mask, self._load_mask = _target("temporal_mask", shape[1:3])

    def loss(self, end_points: Mapping[str, tf.Tensor], image: tf.Tensor) -> tf.Tensor:
        return losses.temporal_loss(image, self.warped, self.mask)

    def load(self, session: tf.compat.v1.Session, warped: np.ndarray, mask: np.ndarray) -> None:
        """``warped``: shaped like the Variable's value; ``mask``: [h, w] in [0, 1]."""
        session.run([self._load_warped, self._load_mask],
                    {self._warped: warped, self._mask: mask})


class Evaluator:
    """The weighted sum of ``terms`` for the image Variable, or a trial image fed in its place.

    ``to_network`` maps the image to the network's mean-subtracted RGB input when the Variable
    holds something else (one luminance channel, say); the terms see the image itself too.
    ``losses`` maps "total" and each term's name to its scalar tensor (terms unweighted);
    ``gradient`` is d total / d image.
    """

    def __init__(self, network, image: tf.Variable, terms: Sequence, to_network=None):
        self.terms = list(terms)
        self.input = tf.compat.v1.placeholder_with_default(
            tf.convert_to_tensor(image), image.shape, "trial_image")
        end_points = network(self.input if to_network is None else to_network(self.input))
        with tf.compat.v1.name_scope("losses"):
            found = {term.name: term.loss(end_points, self.input) for term in self.terms}
            total = tf.add_n([term.weight * found[term.name] for term in self.terms],
                             name="total")
        self.losses = {"total": total, **found}
        self.gradient = tf.gradients(total, self.input)[0]

    def evaluate(self, session: tf.compat.v1.Session, image: np.ndarray | None = None
                 ) -> tuple[dict[str, float], np.ndarray]:
        """The losses and gradient at ``image`` (shaped like the Variable), or at the
        Variable's own value when ``image`` is None."""
        feed = {} if image is None else {self.input: image}
        values, gradient = session.run([self.losses, self.gradient], feed)
        return {name: float(v) for name, v in values.items()}, gradient
