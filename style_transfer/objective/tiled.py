"""The Gatys objective evaluated tile by tile: exact, for images whose network pass won't fit.

Every term of the objective is a sum over positions, or a function of such sums:

* content: sum((F - P)^2) / (4 |P|) sums over the content layer's positions;
* style: a layer's Gram matrix G = sum over positions of f f^T (a guided one weights each
  position by its region's mask squared), and the loss is a function of G. Its gradient with
  respect to one position's features is 2 (dL/dG) f, which needs G of the whole image but
  nothing else from outside the position;
* total variation sums over neighbouring pixel pairs.

So :class:`TiledEvaluator` makes two passes over the tiles of
:mod:`~style_transfer.objective.tiles`, each tile's features cropped to its interior so that
every position counts once:

1. forward only: add up each style layer's Gram matrix (in float64), the content error and
   the variation; then the losses, and dL/dG of each layer, follow in numpy with the whole
   image's N, M and |P|;
2. forward and backward: each tile's *surrogate*, sum(dL/dG * G_tile) plus the content and
   variation sums scaled by their weights, has the exact gradient of the total with respect to
   the tile's window, with dL/dG held constant; the windows' gradients add up (overlap-add)
   into the image's.

:class:`TileNetwork` is that graph for one window of any size, built once per engine and
shared by its tiled levels. Targets are computed tile by tile too (``TileNetwork.forward``):
at 8K the untiled forward pass of a content image alone would need about 17 GB.

Exact means to the arithmetic's rounding: float64 tiles match to 1e-9, float32 to 1e-5. With a
bfloat16 trunk (``vgg_graph.VGG(..., precision="bfloat16")``) the features still agree to float32's
rounding, but each window's gradient is rounded to bfloat16 before the windows are added up,
so the gradient differs from the untiled bfloat16 one by about bfloat16's 2^-8: the tolerance
is stated and tested in tests/style_transfer/test_precision.py.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from ..network import vgg, vgg_graph
from . import losses, tiles


class TileNetwork:
    """The network on one window, its interior's content error, Gram matrices and variation,
    and the gradient of the interior's surrogate (``TiledEvaluator._feed`` and ``evaluate``
    show what each needs fed).

    ``guided``: the Gram matrices are guided ones, [R, N, N] per layer, for the masks fed for
    the window's interior; otherwise [1, N, N]. ``to_network`` maps the optimised image (its
    ``channels``) to the network's mean-subtracted RGB, as ``Evaluator``'s does. The trunk runs
    in ``network``'s precision; its end points, and so everything here, are in the layers'
    dtype (``dtype``) either way.
    """

    def __init__(self, network: vgg_graph.VGG, content_layer: str, style_layers: Sequence[str],
                 channels: int, guided: bool = False,
                 to_network: Callable[[tf.Tensor], tf.Tensor] | None = None):
        layers = network.layers
        self.content_layer, self.style_layers = content_layer, list(style_layers)
        self.strides = vgg.strides(layers)
        self.halo = vgg.halo(layers)
        self.stride = self.strides[layers[-1].name]
        self.guided = guided
        self.dtype = tf.as_dtype(next(layer.weights.dtype for layer in layers
                                      if layer.kind == "conv"))
        dtype = self.dtype
        with tf.compat.v1.name_scope("tile"):
            self.window = tf.compat.v1.placeholder(dtype, [1, None, None, channels], "window")
            self.rgb = tf.compat.v1.placeholder_with_default(
                self.window if to_network is None else to_network(self.window),
                [1, None, None, 3], "window_rgb")
            self.interior = tf.compat.v1.placeholder(tf.int32, [4], "interior")
            end_points = network(self.rgb, scope="tile_vgg")
            self.features = self._crop(end_points[content_layer], self.strides[content_layer])
            self.target = tf.compat.v1.placeholder(dtype, self.features.shape, "content_target")
            self.content_error = tf.reduce_sum(tf.square(self.features - self.target))
            self.masks = [tf.compat.v1.placeholder(dtype, [None, None, None], f"mask_{name}")
                          for name in self.style_layers] if guided else []
            self.grams = []
            for index, name in enumerate(self.style_layers):
                cropped = self._crop(end_points[name], self.strides[name])
                self.grams.append(losses.guided_gram_matrices(cropped, self.masks[index])
                                  if guided else losses.gram_matrix(cropped)[None])
            self.variation = self._variation()
            # The surrogate's constants: d total / d (content error, each Gram, each variation
            # sum), from the whole image.
            self.content_scale = tf.compat.v1.placeholder(dtype, [], "content_scale")
            self.gram_scales = [tf.compat.v1.placeholder(dtype, gram.shape, f"d_{name}")
                                for gram, name in zip(self.grams, self.style_layers)]
            self.variation_scales = tf.compat.v1.placeholder(dtype, [2], "variation_scales")
            surrogate = tf.add_n(
                [self.content_scale * self.content_error,
                 tf.reduce_sum(self.variation_scales * self.variation)]
                + [tf.reduce_sum(scale * gram)
                   for scale, gram in zip(self.gram_scales, self.grams)])
            self.gradient = tf.gradients(surrogate, self.window)[0]

    def _crop(self, features: tf.Tensor, stride: int) -> tf.Tensor:
        """The interior's positions of a layer with this total stride (``Tile.at``)."""
        top, bottom, left, right = (self.interior[k] for k in range(4))
        return features[:, top // stride:(bottom + stride - 1) // stride,
                        left // stride:(right + stride - 1) // stride, :]

    def _variation(self) -> tf.Tensor:
        """Sums of squared differences of the pairs (down, right) whose first pixel is in the
        interior; the second may lie in the halo, and at the image edge there is none."""
        top, bottom, left, right = (self.interior[k] for k in range(4))
        shape = tf.shape(self.window)
        rows = self.window[:, top:tf.minimum(bottom + 1, shape[1]), left:right, :]
        cols = self.window[:, top:bottom, left:tf.minimum(right + 1, shape[2]), :]
        return tf.stack([tf.reduce_sum(tf.square(rows[:, 1:] - rows[:, :-1])),
                         tf.reduce_sum(tf.square(cols[:, :, 1:] - cols[:, :, :-1]))])

    def grid(self, height: int, width: int, size: int) -> list[tiles.Tile]:
        return list(tiles.grid(height, width, size, self.halo, self.stride))

    def masks_feed(self, tile: tiles.Tile, layer_masks: Sequence[np.ndarray]) -> dict:
        """The interior's part of each style layer's whole-image masks [h_l, w_l, R]."""
        return {placeholder: masks[tile.at(self.strides[name])]
                for placeholder, masks, name in zip(self.masks, layer_masks, self.style_layers)}

    def forward(self, session: tf.compat.v1.Session, picture: np.ndarray, size: int,
                content: bool = True, grams: bool = True,
                layer_masks: Sequence[np.ndarray] | None = None
                ) -> tuple[np.ndarray | None, list[np.ndarray] | None]:
        """The content layer's features [1, h, w, N] and the style layers' Gram matrices
        (float64 sums over the tiles) of a mean-subtracted RGB ``picture`` [H, W, 3], tile by
        tile with interiors of ``size``; guided Gram matrices for ``layer_masks``."""
        height, width = picture.shape[:2]
        stride = self.strides[self.content_layer]
        fetches, found, sums = {}, None, None
        if content:
            fetches["features"] = self.features
            found = np.zeros((1, -(-height // stride), -(-width // stride),
                              self.features.shape[3]), self.dtype.as_numpy_dtype)
        if grams:
            fetches["grams"] = self.grams
        for tile in self.grid(height, width, size):
            feed = {self.rgb: picture[tile.window][None], self.interior: tile.interior}
            if grams and self.guided:
                feed.update(self.masks_feed(tile, layer_masks))
            values = session.run(fetches, feed)
            if content:
                rows, cols = tile.at(stride)
                found[0, rows, cols] = values["features"][0]
            if grams:
                sums = _add(sums, values["grams"])
        return found, sums


class TiledEvaluator:
    """``Evaluator``'s ``evaluate`` for one level's image Variable, tile by tile (see the module
    docstring); its targets are numpy arrays given to ``load``, not graph Variables.

    ``weights``: (content, style, tv) weights; ``layer_weights`` per style layer; ``blend`` per
    style image (plain style only).
    """

    def __init__(self, tile_network: TileNetwork, image: tf.Variable, size: int,
                 weights: tuple[float, float, float], layer_weights: Sequence[float],
                 blend: Sequence[float] = (1.0,)):
        self.net, self.image, self.size = tile_network, image, size
        _, self.height, self.width, self.channels = image.shape.as_list()
        self.content_weight, self.style_weight, self.tv_weight = weights
        self.layer_weights, self.blend = list(layer_weights), list(blend)
        self.tiles = tile_network.grid(self.height, self.width, size)
        # The whole image's position count M on each style layer.
        self.positions = [-(-self.height // s) * -(-self.width // s) for s in
                          (tile_network.strides[name] for name in tile_network.style_layers)]
        self.unload()

    def load(self, content_features: np.ndarray, style_targets: Sequence,
             layer_masks: Sequence[np.ndarray] | None = None) -> None:
        """The content's features [1, h, w, N]; plain style: ``style_targets[s][l]``, style
        image s's Gram matrix on layer l at the result's pixel count; guided
        (``layer_masks[l]`` the regions at layer l, [h_l, w_l, R]): ``style_targets[r][l]``,
        region r's per-pixel target T_r (``losses.guided_target``), or None."""
        if self.net.guided and layer_masks is not None and \
                any(m.shape[-1] != len(style_targets) for m in layer_masks):
            raise ValueError(f"{len(style_targets)} region targets for masks of "
                             f"{layer_masks[0].shape[-1]} regions")
        self._content = np.asarray(content_features, self.net.dtype.as_numpy_dtype)
        self._targets = [None if targets is None else
                         [np.asarray(t, np.float64) for t in targets]
                         for targets in style_targets]
        self._layer_masks = [np.asarray(m, self.net.dtype.as_numpy_dtype)
                             for m in layer_masks or []]
        self._masses = [np.square(m, dtype=np.float64).sum(axis=(0, 1))
                        for m in self._layer_masks]

    def unload(self) -> None:
        """Forget the targets; ``load`` must come before the next ``evaluate``."""
        self._content, self._targets, self._layer_masks, self._masses = None, [], [], []

    @property
    def tile_count(self) -> int:
        return len(self.tiles)

    def _feed(self, image: np.ndarray, tile: tiles.Tile) -> dict:
        net = self.net
        rows, cols = tile.at(net.strides[net.content_layer])
        feed = {net.window: image[0][tile.window][None], net.interior: tile.interior,
                net.target: self._content[:, rows, cols]}
        if net.guided:
            feed.update(net.masks_feed(tile, self._layer_masks))
        return feed

    def evaluate(self, session: tf.compat.v1.Session, image: np.ndarray | None = None
                 ) -> tuple[dict[str, float], np.ndarray]:
        """The losses ("total" weighted, each term unweighted) and the gradient at ``image``
        [1, H, W, channels], or at the Variable's value when ``image`` is None."""
        net = self.net
        if image is None:
            image = session.run(self.image)
        image = np.asarray(image, net.dtype.as_numpy_dtype)
        content_error, variation, grams = 0.0, np.zeros(2), None
        for tile in self.tiles:
            error, parts, found = session.run(
                [net.content_error, net.variation, net.grams], self._feed(image, tile))
            content_error += float(error)
            variation += parts
            grams = _add(grams, found)
        style, scales = self._style(grams)
        size = self._content.size
        pairs = np.array([max(1, (self.height - 1) * self.width * self.channels),
                          max(1, self.height * (self.width - 1) * self.channels)], np.float64)
        found = {"content": content_error / (4.0 * size), "style": style,
                 "tv": float((variation / pairs).sum())}
        total = (self.content_weight * found["content"] + self.style_weight * style
                 + self.tv_weight * found["tv"])
        dtype = net.dtype.as_numpy_dtype
        constants = {net.content_scale: self.content_weight / (4.0 * size),
                     net.variation_scales: (self.tv_weight / pairs).astype(dtype)}
        constants.update({placeholder: (self.style_weight * scale).astype(dtype)
                          for placeholder, scale in zip(net.gram_scales, scales)})
        gradient = np.zeros_like(image)
        for tile in self.tiles:
            feed = self._feed(image, tile)
            feed.update(constants)
            gradient[0][tile.window] += session.run(net.gradient, feed)[0]
        return {"total": float(total), **found}, gradient

    def _style(self, grams: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """The style loss (``losses.blended_style_loss`` or summed ``guided_style_loss``) of
        the whole image's Gram matrices, and its derivative with respect to each of them."""
        loss, scales = 0.0, []
        for index, (gram, weight) in enumerate(zip(grams, self.layer_weights, strict=True)):
            channels, positions = gram.shape[-1], self.positions[index]
            scale = np.zeros_like(gram)
            if self.net.guided:
                for region, targets in enumerate(self._targets):
                    mass = self._masses[index][region]
                    if targets is None or mass == 0:
                        continue
                    difference = gram[region] - mass * targets[index]
                    norm = (2.0 * channels) ** 2 * positions * mass
                    loss += weight * np.square(difference).sum() / norm
                    scale[region] = weight * 2.0 * difference / norm
            else:
                norm = (2.0 * channels * positions) ** 2
                for targets, share in zip(self._targets, self.blend, strict=True):
                    difference = gram[0] - targets[index]
                    loss += weight * share * np.square(difference).sum() / norm
                    scale[0] += weight * share * 2.0 * difference / norm
            scales.append(scale)
        return float(loss), scales


def _add(sums: list[np.ndarray] | None, grams: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Running float64 sums of one tile's Gram matrices after another's."""
    if sums is None:
        return [gram.astype(np.float64) for gram in grams]
    return [total + gram for total, gram in zip(sums, grams, strict=True)]
