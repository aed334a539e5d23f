"""The objective of a style run: one object that gives the loss and its gradient for an image.

An :class:`Evaluator` is built from *terms*. Each term turns the network's end points (and the
image itself) into one unweighted scalar loss; the evaluator adds them up with their weights
and differentiates the total with respect to the image. Both optimisers use it: Adam applies
its gradient tensor to the image Variable inside the graph, L-BFGS feeds trial images through
:meth:`Evaluator.evaluate`. New kinds of objective (a temporal term for video, guided Gram
matrices for masks, a tiled evaluation for large images) are new terms or evaluators here, not
new optimisation loops.

The terms' targets (content features, style Gram matrices) are non-trainable Variables of the
graph, loaded with :meth:`ContentTerm.load` and :meth:`StyleTerm.load`: one graph then serves
any number of content images of its size, and the targets never enter a checkpoint.

The loss functions themselves are the pure ones of :mod:`~style_transfer.losses`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

from . import losses


def _target(name: str, shape) -> tuple[tf.Variable, tf.Tensor, tf.Operation]:
    """A float32 Variable outside every checkpoint, with a placeholder and an op that load it."""
    variable = tf.compat.v1.Variable(np.zeros(shape, np.float32), trainable=False, name=name,
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


class TVTerm:
    """Total variation of the image itself: smoothness, no network involved."""

    name = "tv"

    def __init__(self, weight: float):
        self.weight = weight

    def loss(self, end_points: Mapping[str, tf.Tensor], image: tf.Tensor) -> tf.Tensor:
        return losses.total_variation_loss(image)


class Evaluator:
    """The weighted sum of ``terms`` for the image Variable, or a trial image fed in its place.

    ``losses`` maps "total" and each term's name to its scalar tensor (terms unweighted);
    ``gradient`` is d total / d image.
    """

    def __init__(self, network, image: tf.Variable, terms: Sequence):
        self.terms = list(terms)
        self.input = tf.compat.v1.placeholder_with_default(
            tf.convert_to_tensor(image), image.shape, "trial_image")
        end_points = network(self.input)
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
