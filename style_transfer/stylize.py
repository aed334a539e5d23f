"""The Gatys optimisation in a TF1 graph: the image is a Variable, Adam minimises the loss.

``Stylizer`` owns one graph and one Session. It computes the content features and style Gram
matrices once, builds the losses against them as constants, and exposes the optimisation as a
generator of ``Progress`` records, one per logged step: steps 1-5, then every 10 up to 20, then
every 20, and the last step, as in the 2019 tutorial. It writes a Saver checkpoint every
``checkpoint_every`` steps and at the end, and TensorBoard summaries at logged steps.

    with Stylizer(layers, content, style, config, "ckpt", "summaries") as run:
        run.start(initial_image(content, config))   # or resume from "ckpt"
        for record in run.steps():
            ...

Printing and image files are the caller's business.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from typing import Iterator, Sequence

import numpy as np
import tensorflow as tf

from . import losses, vgg
from .config import StyleConfig
from .errors import UsageError
from .matconvnet import Layer

log = logging.getLogger(__name__)

# Peak resident memory ~= FIXED_BYTES + weights x WEIGHT_COPIES + activations x ACTIVATION_COPIES.
# FIXED_BYTES covers the TensorFlow runtime and reading a full 535 MB VGG19 file. Set from the
# peaks benchmarks/style_speed.py and a 300-step run measured (1.8-2.1 GB at 250x333, 2.2-2.3 GB
# at 512x512, +-200 MB between identical runs): it estimates 2.3 and 3.1 GB there.
FIXED_BYTES = 1792 * 2**20
WEIGHT_COPIES = 3
ACTIVATION_COPIES = 2


@dataclasses.dataclass(frozen=True)
class Progress:
    step: int
    iterations: int
    total_loss: float
    content_loss: float
    style_loss: float
    pixel_sum: float  # sum of the image after this step, mean added back, before clipping
    seconds: float  # wall time since the previous record
    steps_timed: int  # optimisation steps in that time
    image: np.ndarray  # [height, width, 3] float RGB after this step, mean added back


def session_config() -> tf.compat.v1.ConfigProto:
    """One op at a time, each using every core: the network is a chain of large convolutions,
    and running two at once only makes them fight over the cores (11 % slower on 2 cores)."""
    return tf.compat.v1.ConfigProto(inter_op_parallelism_threads=1)


def is_logged(step: int, iterations: int) -> bool:
    """The tutorial's schedule: 1-5, then every 10 up to 20, then every 20; plus the last."""
    return step <= 5 or (step <= 20 and step % 10 == 0) or step % 20 == 0 or step == iterations


def initial_image(content: np.ndarray, config: StyleConfig) -> np.ndarray:
    """Uniform noise in (-noise_range, noise_range) blended with the mean-subtracted content."""
    rng = np.random.default_rng(config.seed)
    noise = rng.uniform(-config.noise_range, config.noise_range, content.shape)
    centred = content - np.asarray(config.mean_pixel)
    return (noise * config.noise_ratio + centred * (1.0 - config.noise_ratio)).astype(np.float32)


def memory_estimate(layers: Sequence[Layer], height: int, width: int) -> int:
    """Bytes of peak memory expected for an optimisation through ``layers`` at this size."""
    return int(FIXED_BYTES + WEIGHT_COPIES * vgg.weight_bytes(layers)
               + ACTIVATION_COPIES * vgg.activation_bytes(layers, height, width))


def available_memory() -> int:
    """Bytes the system can still hand out (MemAvailable), or physical memory as a fallback."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(layers: Sequence[Layer], height: int, width: int) -> None:
    """UsageError, with the estimate, when an optimisation at this size would not fit."""
    need = memory_estimate(layers, height, width)
    have = available_memory()
    if need > have:
        raise UsageError(f"{height}x{width} needs about {need / 2**30:.1f} GiB of memory, and "
                         f"{have / 2**30:.1f} GiB is available; use a smaller --height/--width")


class Stylizer:
    """One style-transfer optimisation: graph, session, checkpoints and summaries."""

    def __init__(self, layers: Sequence[Layer], content: np.ndarray, style: np.ndarray,
                 config: StyleConfig, checkpoint_dir: str, summary_dir: str):
        self.config = config
        self.checkpoint_dir = checkpoint_dir
        self.summary_dir = summary_dir
        self.writer = None  # opened by steps(), so a failed resume writes nothing
        self.mean = np.asarray(config.mean_pixel, np.float32)
        self.graph = tf.Graph()
        with self.graph.as_default():
            network = vgg.VGG(layers, config.pooling)
            self.session = tf.compat.v1.Session(graph=self.graph, config=session_config())
            content_target, style_targets = self._targets(network, content, style)
            self._build(network, content_target, style_targets)
            self.graph.finalize()  # nothing may add ops inside the loop

    def _targets(self, network: vgg.VGG, content: np.ndarray, style: np.ndarray):
        """Content features and style Gram matrices, computed once."""
        config = self.config
        picture = tf.compat.v1.placeholder(tf.float32, [1, *content.shape], "target_input")
        end_points = network(picture, scope="targets")
        content_target = self.session.run(
            end_points[config.content_layer], {picture: [content - self.mean]})
        grams = [losses.gram_matrix(end_points[name]) for name in config.style_layers]
        style_targets = self.session.run(grams, {picture: [style - self.mean]})
        return content_target, style_targets

    def _build(self, network: vgg.VGG, content_target, style_targets) -> None:
        config = self.config
        self.image = tf.compat.v1.get_variable(
            "input_image", [1, *self._shape], tf.float32,
            initializer=tf.compat.v1.zeros_initializer())
        end_points = network(self.image)
        with tf.compat.v1.name_scope("losses"):
            self.content_loss = losses.content_loss(
                end_points[config.content_layer], content_target)
            self.style_loss = losses.style_loss(
                [end_points[name] for name in config.style_layers], style_targets,
                config.style_layer_weights)
            self.total_loss = losses.total_loss(
                self.content_loss, self.style_loss, config.content_weight, config.style_weight)
        self.global_step = tf.compat.v1.train.get_or_create_global_step()
        self.train_op = tf.compat.v1.train.AdamOptimizer(config.learning_rate).minimize(
            self.total_loss, global_step=self.global_step, var_list=[self.image])
        with tf.compat.v1.name_scope("summaries"):
            for name, tensor in (("content_loss", self.content_loss),
                                 ("style_loss", self.style_loss),
                                 ("total_loss", self.total_loss)):
                tf.compat.v1.summary.scalar(name, tensor)
                tf.compat.v1.summary.histogram(name + "_histogram", tensor)
            self.summary = tf.compat.v1.summary.merge_all()
        self.initial = tf.compat.v1.placeholder(tf.float32, [1, *self._shape], "initial_image")
        self.assign_initial = self.image.assign(self.initial)
        self.initialize = tf.compat.v1.global_variables_initializer()
        self.saver = tf.compat.v1.train.Saver(max_to_keep=3)

    @property
    def _shape(self) -> tuple[int, int, int]:
        return (self.config.height, self.config.width, 3)

    def __enter__(self) -> "Stylizer":
        return self

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.close()
        self.session.close()

    def start(self, initial: np.ndarray) -> None:
        """Begin a fresh optimisation from ``initial`` (mean-subtracted, [height, width, 3])."""
        self.session.run(self.initialize)
        self.session.run(self.assign_initial, {self.initial: [initial]})

    def resume(self) -> int | None:
        """Restore the latest checkpoint; return its step, or None when there is none."""
        try:
            latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        except Exception as exc:  # a damaged 'checkpoint' index file
            raise UsageError(f"the checkpoint index in {self.checkpoint_dir} is unreadable "
                             f"({type(exc).__name__}); move that folder away to start over") \
                from None
        if latest is None:
            return None
        try:
            with self.graph.as_default():
                self.saver.restore(self.session, latest)
        except (tf.errors.OpError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0][:200]
            raise UsageError(f"checkpoint {latest} cannot be restored ({reason}); move "
                             f"{self.checkpoint_dir} away to start over") from None
        return self.step

    @property
    def step(self) -> int:
        return int(self.session.run(self.global_step))

    def current_image(self) -> np.ndarray:
        """The image now being optimised, [height, width, 3] RGB with the mean added back."""
        return self.session.run(self.image)[0] + self.mean

    def save_checkpoint(self) -> str:
        with self.graph.as_default():  # Saver takes the default graph's mode, not the session's
            # No .meta file: it would hold the VGG constants (55 MB a save), and resume()
            # rebuilds the graph in code, restoring only the variables.
            return self.saver.save(self.session, os.path.join(self.checkpoint_dir, "style"),
                                   global_step=self.step, write_meta_graph=False)

    def steps(self) -> Iterator[Progress]:
        """Optimise up to ``config.iterations``, yielding a record at each logged step.

        Losses are those of the image entering the step (computed in the same pass as its
        gradient); the image and pixel sum are after the step's update.
        """
        config = self.config
        if self.writer is None:
            with self.graph.as_default():  # FileWriter refuses to open in eager mode
                self.writer = tf.compat.v1.summary.FileWriter(self.summary_dir)
        step = self.step
        since, timed = time.perf_counter(), 0
        fetches = [self.train_op, self.total_loss, self.content_loss, self.style_loss,
                   self.summary]
        while step < config.iterations:
            step += 1
            timed += 1
            logged = is_logged(step, config.iterations)
            if logged:
                _, total, content, style, summary = self.session.run(fetches)
                self.writer.add_summary(summary, step)
            else:
                self.session.run(self.train_op)
            if step % config.checkpoint_every == 0 or step == config.iterations:
                self.save_checkpoint()
            if logged:
                image = self.current_image()
                now = time.perf_counter()
                yield Progress(step, config.iterations, float(total), float(content),
                               float(style), float(image.sum()), now - since, timed, image)
                since, timed = time.perf_counter(), 0
        self.writer.flush()
