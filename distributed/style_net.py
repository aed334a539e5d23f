"""The feed-forward style network's losses and training graph, for the cluster's workers.

The transformation network (``style_transfer.network.transform``) turns a batch of training
crops into stylised pictures; the VGG trunk (``style_transfer.network.vgg_graph``) and the Gatys
losses (``style_transfer.objective.losses``) score them, shared with the style tool, not copied.
Each picture's loss is the style tool's total for one image: content against the crop itself,
style against the Gram matrices of the style picture fitted to the crop's size, total
variation; the batch's loss is their mean.

Placement: the transformation network's variables and Adam's slots go to the ps tasks through
``replica_device_setter`` (the caller's ``setter``). The VGG weights stay on each worker as
local variables, set from placeholders when the session starts (``VGG(local=True)``): they
never reach a ps, a checkpoint or a written graph. The style picture's Gram matrices are
computed once per worker in a graph of their own, and enter the training graph the same way,
with a held-out picture whose stylised version the summaries show.
"""
from __future__ import annotations

import typing

import numpy as np
import tensorflow as tf

from tf1cnn.common import images, runtime
from tf1cnn.style_transfer.network import transform, vgg_graph
from tf1cnn.style_transfer.objective import losses

from .style_config import StyleNetConfig

v1 = tf.compat.v1


class Losses(typing.NamedTuple):
    total: tf.Tensor
    content: tf.Tensor
    style: tf.Tensor
    tv: tf.Tensor


class StyleGraph(typing.NamedTuple):
    pictures: tf.Tensor  # placeholder [batch, crop, crop, 3], pixels in [0, 255]
    styled: tf.Tensor
    losses: Losses
    local_feed: dict  # for the local variables' initialiser: VGG weights, targets, held out


def style_grams(layers, config: StyleNetConfig, style: np.ndarray) -> list[np.ndarray]:
    """Gram matrices of ``style`` fitted to the crop's size, on the style layers."""
    fitted = images.fit(style, config.crop, config.crop) - np.float32(config.mean_pixel)
    with tf.Graph().as_default() as graph:
        network = vgg_graph.VGG(layers, config.pooling, config.precision)
        end_points = network(tf.constant(fitted[None]))
        grams = [losses.gram_matrix(end_points[name]) for name in config.style_layers]
        with runtime.new_session(graph) as session:
            return session.run(grams)


def objective(network: vgg_graph.VGG, styled, pictures, grams, config: StyleNetConfig) -> Losses:
    """The mean over the batch of each styled picture's loss against its own picture."""
    mean = np.asarray(config.mean_pixel, np.float32)
    ours = network(styled - mean, scope="styled")
    theirs = network(pictures - mean, scope="pictures")
    batch = styled.shape[0]
    content, style, tv = [], [], []
    for k in range(batch):
        one = slice(k, k + 1)
        content.append(losses.content_loss(ours[config.content_layer][one],
                                           tf.stop_gradient(theirs[config.content_layer][one])))
        style.append(losses.style_loss([ours[name][one] for name in config.style_layers],
                                       grams, config.style_layer_weights))
        tv.append(losses.total_variation_loss(styled[one]))
    content, style, tv = (tf.add_n(terms) / batch for terms in (content, style, tv))
    total = losses.total_loss(content, style, tv, config.content_weight, config.style_weight,
                              config.tv_weight)
    return Losses(total, content, style, tv)


def build(config: StyleNetConfig, layers, style: np.ndarray, held_out: np.ndarray,
          worker_device: str, setter) -> StyleGraph:
    """The training graph's model part, in the current graph: the VGG and the targets on
    ``worker_device``, the transformation network under ``setter``."""
    grams = style_grams(layers, config, style)
    feed: dict = {}
    with v1.device(worker_device):
        network = vgg_graph.VGG(layers, config.pooling, config.precision, local=True)
        feed.update(network.feed)
        grams = [vgg_graph.local_constant(gram, f"style_gram_{k}", feed)
                 for k, gram in enumerate(grams)]
        shown = vgg_graph.local_constant(images.to_uint8(held_out), "held_out", feed)
    with v1.device(setter):
        pictures = v1.placeholder(tf.float32, [config.batch, config.crop, config.crop, 3],
                                  "pictures")
        styled = transform.stylise(pictures, config.width)
        scored = objective(network, styled, pictures, grams, config)
        for name, value in scored._asdict().items():
            v1.summary.scalar(f"loss/{name}", value)
        sample = transform.stylise(tf.cast(shown[None], tf.float32), config.width)
        v1.summary.image("held_out", tf.cast(tf.round(sample), tf.uint8))
    return StyleGraph(pictures, styled, scored, feed)
