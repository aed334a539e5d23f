"""What the cluster trains is what ``tf1cnn-style --network`` applies: a checkpoint of the
training graph (``style_net.build`` as a worker builds it, Adam's slots and the global step
included) restored into the apply graph gives the training graph's ``styled`` pictures."""
from __future__ import annotations

import contextlib
import json

import numpy as np
import tensorflow as tf

from tf1cnn.distributed import style_net
from tf1cnn.distributed.style_config import StyleNetConfig
from tf1cnn.style_transfer.network import vgg
from tf1cnn.style_transfer.shell import forward

v1 = tf.compat.v1


def test_the_applied_network_gives_the_training_graphs_styled_pictures(tmp_path):
    # One picture per batch, as apply runs it: a batch of two convolves both at once and may
    # round the last float32 bit differently.
    config = StyleNetConfig(width=0.125, crop=24, batch=1)
    rng = np.random.default_rng(0)
    pictures = rng.integers(0, 256, (config.batch, config.crop, config.crop, 3)).astype(
        np.float32)
    style, held_out = (rng.uniform(0, 255, (40, 56, 3)).astype(np.float32) for _ in range(2))
    layers = vgg.random_layers(19, width_divisor=16)
    with tf.Graph().as_default():
        v1.set_random_seed(0)
        built = style_net.build(config, layers, style, held_out, "/cpu:0", "/cpu:0")
        step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.01).minimize(built.losses.total, global_step=step)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            session.run(v1.local_variables_initializer(), built.local_feed)
            for _ in range(2):  # the weights move off their initial values
                session.run(train, {built.pictures: pictures})
            styled = session.run(built.styled, {built.pictures: pictures})
            v1.train.Saver().save(session, str(tmp_path / "model.ckpt"), global_step=step)
    (tmp_path / "run.json").write_text(json.dumps({"model": "style-net", **config.settings()}))
    with contextlib.closing(forward.Network(forward.locate(str(tmp_path)))) as network:
        assert network.step == 2
        applied = network(pictures[0])
    np.testing.assert_allclose(applied, styled[0], atol=1e-5)
