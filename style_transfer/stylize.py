"""The Gatys optimisation in a TF1 graph: the image is a Variable, Adam or L-BFGS minimises it.

``Stylizer`` owns one graph and one Session for one image size. It computes the content
features and the style Gram matrices (of one or more style images) once, builds the losses
against them as constants, and exposes the optimisation as a generator of ``Progress`` records,
one per logged step: steps 1-5, then every 10 up to 20, then every 20, and the last step, as in
the 2019 tutorial. It writes a Saver checkpoint every ``checkpoint_every`` steps and at the end,
and TensorBoard summaries at logged steps.

    with Stylizer(layers, content, [style], config, "ckpt", "summaries") as run:
        run.start(initial_image(content, config))   # or resume from "ckpt"
        for record in run.steps():
            ...

With ``optimizer="lbfgs"`` SciPy's L-BFGS-B drives the graph: each function evaluation is one
``session.run`` of the loss and its gradient for an image fed in place of the Variable, within
pixel bounds (the image plus the mean stays in [0, 255]). A step is one L-BFGS iteration; its
accepted image is assigned to the Variable, so checkpoints and resume work as with Adam, except
that L-BFGS's curvature history is not saved and restarts on resume. SciPy's loop runs in a
helper thread that hands each iteration over and waits, so only one thread uses the Session.

Printing and image files are the caller's business.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import scipy.optimize
import tensorflow as tf

from . import losses, runtime, vgg
from .config import StyleConfig
from .errors import UsageError
from .matconvnet import Layer

log = logging.getLogger(__name__)

# Peak resident memory ~= FIXED_BYTES + weights x WEIGHT_COPIES + activations x ACTIVATION_COPIES
# (+ L-BFGS's history). FIXED_BYTES covers the TensorFlow runtime and reading a full 535 MB VGG19
# file. Set from measured peaks: 1.8-2.1 GB at 250x333 and 2.2-2.3 GB at 512x512 with Adam
# (benchmarks/style_speed.py and 300-step runs, +-200 MB between identical runs), estimated
# 2.2 and 2.8 GiB; and, for L-BFGS with --scales 3 (benchmarks/style_quality.py --largest),
# 11.3 GiB at 1500x2000 (6.8 GiB of activations) and 15.9 GiB at 2000x2000 (9.1 GiB),
# estimated 14.3 and 18.4 GiB.
FIXED_BYTES = 1792 * 2**20
WEIGHT_COPIES = 3
ACTIVATION_COPIES = 1.5
# SciPy's L-BFGS-B keeps 2 x 10 correction vectors and about 10 more of the image's size in
# float64, plus float32 copies of the image and its gradient per evaluation.
LBFGS_BYTES_PER_VALUE = 8 * 32


@dataclasses.dataclass(frozen=True)
class Progress:
    step: int
    iterations: int
    total_loss: float
    content_loss: float
    style_loss: float
    tv_loss: float
    pixel_sum: float  # sum of the image after this step, mean added back, before clipping
    seconds: float  # wall time since the previous record
    steps_timed: int  # optimisation steps in that time
    evaluations: int  # loss-and-gradient evaluations so far (Adam: one per step)
    checkpointed: bool  # a checkpoint was written at this step
    stopped: str  # why the run ended before ``iterations``; empty if it did not
    image: np.ndarray  # [height, width, 3] float RGB after this step, mean added back


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
    noise = rng.uniform(-config.noise_range, config.noise_range, content.shape)
    centred = content - np.asarray(config.mean_pixel)
    return (noise * config.noise_ratio + centred * (1.0 - config.noise_ratio)).astype(np.float32)


def memory_estimate(layers: Sequence[Layer], height: int, width: int, optimizer: str = "adam",
                    style_scale: float = 1.0) -> int:
    """Bytes of peak memory expected for an optimisation through ``layers`` at this size: the
    larger of the optimisation and the one forward pass of a style image at ``style_scale``."""
    optimise = ACTIVATION_COPIES * vgg.activation_bytes(layers, height, width)
    if optimizer == "lbfgs":
        optimise += LBFGS_BYTES_PER_VALUE * height * width * 3
    style = vgg.activation_bytes(layers, *scaled(height, width, style_scale))
    return int(FIXED_BYTES + WEIGHT_COPIES * vgg.weight_bytes(layers) + max(optimise, style))


def scaled(height: int, width: int, scale: float) -> tuple[int, int]:
    """A size times ``scale``, rounded, at least one pixel."""
    return max(1, round(height * scale)), max(1, round(width * scale))


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


def check_memory(layers: Sequence[Layer], height: int, width: int, optimizer: str = "adam",
                 style_scale: float = 1.0) -> None:
    """UsageError, with the estimate, when an optimisation at this size would not fit."""
    need = memory_estimate(layers, height, width, optimizer, style_scale)
    have = available_memory()
    if need > have:
        raise UsageError(f"{height}x{width} needs about {need / 2**30:.1f} GiB of memory, and "
                         f"{have / 2**30:.1f} GiB is available; use a smaller --height/--width"
                         f"{' or --style-scale' if style_scale > 1 else ''}")


def relative_change(before: float, after: float) -> float:
    """|before - after| / max(|before|, |after|, 1): SciPy's L-BFGS-B stopping measure."""
    return abs(before - after) / max(abs(before), abs(after), 1.0)


class _Stop(Exception):
    """Ends the SciPy loop early when the consumer of ``steps()`` goes away."""


class Stylizer:
    """One style-transfer optimisation: graph, session, checkpoints and summaries."""

    def __init__(self, layers: Sequence[Layer], content: np.ndarray,
                 styles: Sequence[np.ndarray], config: StyleConfig, checkpoint_dir: str,
                 summary_dir: str):
        self.config = config
        self.checkpoint_dir = checkpoint_dir
        self.summary_dir = summary_dir
        self.writer = None  # opened by steps(), so a failed resume writes nothing
        self.mean = np.asarray(config.mean_pixel, np.float32)
        self.graph = tf.Graph()
        with self.graph.as_default():
            network = vgg.VGG(layers, config.pooling)
            self.session = tf.compat.v1.Session(graph=self.graph, config=runtime.session_config())
            content_target, style_targets = self._targets(network, content, styles)
            self._build(network, content_target, style_targets)
            self.graph.finalize()  # nothing may add ops inside the loop

    def _targets(self, network: vgg.VGG, content: np.ndarray, styles: Sequence[np.ndarray]):
        """Content features and, per style image, its Gram matrices, computed once.

        A style image of another size than the result (``style_scale``) has Gram matrices
        summed over more or fewer pixels; they are rescaled to the result's pixel count per
        layer, so that the style loss compares like with like.
        """
        config = self.config
        picture = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], "target_input")
        end_points = network(picture, scope="targets")
        content_target = self.session.run(
            end_points[config.content_layer], {picture: [content - self.mean]})
        grams = [losses.gram_matrix(end_points[name]) for name in config.style_layers]
        result_sizes = vgg.shapes(network.layers, config.height, config.width)
        style_targets = []
        for style in styles:
            style_sizes = vgg.shapes(network.layers, *style.shape[:2])
            found = self.session.run(grams, {picture: [style - self.mean]})
            style_targets.append([
                gram * np.float32(np.prod(result_sizes[name][:2]) / np.prod(style_sizes[name][:2]))
                for gram, name in zip(found, config.style_layers)])
        return content_target, style_targets

    def _build(self, network: vgg.VGG, content_target, style_targets) -> None:
        config = self.config
        self.image = tf.compat.v1.get_variable(
            "input_image", [1, *self._shape], tf.float32,
            initializer=tf.compat.v1.zeros_initializer())
        self.global_step = tf.compat.v1.train.get_or_create_global_step()
        lbfgs = config.optimizer == "lbfgs"
        # L-BFGS feeds each trial image here; Adam reads the Variable.
        net_input = tf.compat.v1.placeholder_with_default(
            tf.convert_to_tensor(self.image), [1, *self._shape], "trial_image") \
            if lbfgs else self.image
        end_points = network(net_input)
        with tf.compat.v1.name_scope("losses"):
            self.content_loss = losses.content_loss(
                end_points[config.content_layer], content_target)
            self.style_loss = losses.blended_style_loss(
                [end_points[name] for name in config.style_layers], style_targets,
                config.style_layer_weights, config.blend_weights())
            self.tv_loss = losses.total_variation_loss(net_input)
            self.total_loss = losses.total_loss(
                self.content_loss, self.style_loss, self.tv_loss, config.content_weight,
                config.style_weight, config.tv_weight)
        self.losses = [self.total_loss, self.content_loss, self.style_loss, self.tv_loss]
        if lbfgs:
            self.trial = net_input
            self.gradient = tf.gradients(self.total_loss, net_input)[0]
            self.evaluations = tf.compat.v1.get_variable(
                "evaluations", [], tf.int64, initializer=tf.compat.v1.zeros_initializer(),
                trainable=False)
            self.accepted = {name: tf.compat.v1.placeholder(dtype, shape, f"accepted_{name}")
                             for name, dtype, shape in (("image", tf.float32, [1, *self._shape]),
                                                        ("step", tf.int64, []),
                                                        ("evaluations", tf.int64, []))}
            self.accept = tf.group(self.image.assign(self.accepted["image"]),
                                   self.global_step.assign(self.accepted["step"]),
                                   self.evaluations.assign(self.accepted["evaluations"]))
        else:
            self.train_op = tf.compat.v1.train.AdamOptimizer(config.learning_rate).minimize(
                self.total_loss, global_step=self.global_step, var_list=[self.image])
            with tf.compat.v1.name_scope("summaries"):
                for name, tensor in zip(LOSS_NAMES, self.losses):
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

    def __enter__(self) -> Stylizer:
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
        latest = runtime.latest_checkpoint(self.checkpoint_dir)
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

    def _open_writer(self) -> None:
        if self.writer is None:
            with self.graph.as_default():  # FileWriter refuses to open in eager mode
                self.writer = tf.compat.v1.summary.FileWriter(self.summary_dir)

    def _due(self, step: int) -> bool:
        return step % self.config.checkpoint_every == 0 or step == self.config.iterations

    def steps(self, schedule: Callable[[int, int], bool] = is_logged) -> Iterator[Progress]:
        """Optimise up to ``config.iterations``, yielding a record at each step that
        ``schedule(step, iterations)`` picks, and at a step where ``tolerance`` stops the run.

        Adam's losses are those of the image entering the step (computed in the same pass as
        its gradient); L-BFGS's are those of the image it accepts. The image and pixel sum are
        after the step's update.
        """
        self._open_writer()
        if self.config.optimizer == "lbfgs":
            yield from self._lbfgs_steps(schedule)
        else:
            yield from self._adam_steps(schedule)
        self.writer.flush()

    def _adam_steps(self, schedule) -> Iterator[Progress]:
        config = self.config
        step = self.step
        since, timed = time.perf_counter(), 0
        fetches = [self.train_op, *self.losses, self.summary]
        previous = None
        while step < config.iterations:
            step += 1
            timed += 1
            logged = schedule(step, config.iterations)
            stopped = ""
            if logged or config.tolerance > 0:
                _, *values, summary = self.session.run(fetches)
                if previous is not None and \
                        relative_change(previous, values[0]) <= config.tolerance:
                    stopped = (f"relative loss change {relative_change(previous, values[0]):.3g}"
                               f" <= tolerance {config.tolerance:g}")
                previous = values[0]
            else:
                self.session.run(self.train_op)
            if logged or stopped:
                self.writer.add_summary(summary, step)
            checkpointed = self._due(step) or bool(stopped)
            if checkpointed:
                self.save_checkpoint()
            if logged or stopped:
                image = self.current_image()
                now = time.perf_counter()
                yield Progress(step, config.iterations, *map(float, values), float(image.sum()),
                               now - since, timed, step, checkpointed, stopped, image)
                since, timed = time.perf_counter(), 0
            if stopped:
                return

    def _evaluate(self, x: np.ndarray) -> tuple[list[float], np.ndarray]:
        *values, gradient = self.session.run(
            [*self.losses, self.gradient], {self.trial: x.reshape(1, *self._shape)})
        return [float(v) for v in values], gradient

    def _lbfgs_steps(self, schedule) -> Iterator[Progress]:
        """Run SciPy's loop in a thread; hand each logged iteration to this generator."""
        config = self.config
        start = self.step
        if start >= config.iterations:
            return
        x0 = self.session.run(self.image).ravel().astype(np.float64)
        low = np.broadcast_to(-self.mean, self._shape).ravel()
        bounds = scipy.optimize.Bounds(low, low + 255.0)
        state = {"step": start, "evaluations": int(self.session.run(self.evaluations)),
                 "x": None, "values": None, "since": time.perf_counter(), "timed": 0,
                 "loss": None, "handed": None}
        handed, resume, quit_ = queue.Queue(), threading.Semaphore(0), threading.Event()

        def function(x):
            if quit_.is_set():  # the consumer left between two logged steps
                raise _Stop
            values, gradient = self._evaluate(x)
            state.update(evaluations=state["evaluations"] + 1, x=x.copy(), values=values)
            return values[0], gradient.ravel().astype(np.float64)

        def record(x, stopped: str) -> Progress:
            values = state["values"] if np.array_equal(state["x"], x) else self._evaluate(x)[0]
            image = x.reshape(self._shape).astype(np.float32) + self.mean
            now = time.perf_counter()
            progress = Progress(state["step"], config.iterations, *values, float(image.sum()),
                                now - state["since"], state["timed"], state["evaluations"],
                                state["checkpointed"], stopped, image)
            state.update(since=time.perf_counter(), timed=0)
            self.writer.add_summary(tf.compat.v1.Summary(value=[
                tf.compat.v1.Summary.Value(tag=f"losses/{name}", simple_value=value)
                for name, value in zip(LOSS_NAMES, values)]), state["step"])
            return progress

        def hand_over(progress: Progress) -> None:
            handed.put(("record", progress))
            resume.acquire()
            if quit_.is_set():
                raise _Stop

        def callback(intermediate_result) -> None:
            x, loss = intermediate_result.x, float(intermediate_result.fun)
            state.update(step=state["step"] + 1, timed=state["timed"] + 1)
            self.session.run(self.accept, {
                self.accepted["image"]: x.reshape(1, *self._shape),
                self.accepted["step"]: state["step"],
                self.accepted["evaluations"]: state["evaluations"]})
            stopped = ""
            if config.tolerance > 0 and state["loss"] is not None and \
                    relative_change(state["loss"], loss) <= config.tolerance:
                stopped = (f"relative loss change {relative_change(state['loss'], loss):.3g}"
                           f" <= tolerance {config.tolerance:g}")
            state["loss"] = loss
            state["checkpointed"] = self._due(state["step"]) or bool(stopped)
            if state["checkpointed"]:
                self.save_checkpoint()
            if stopped or schedule(state["step"], config.iterations):
                state["handed"] = state["step"]
                hand_over(record(x, stopped))
            if stopped:
                raise StopIteration  # SciPy ends the minimisation cleanly

        def work() -> None:
            try:
                result = scipy.optimize.minimize(
                    function, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                    callback=callback,
                    options={"maxiter": config.iterations - start, "ftol": 0.0, "gtol": 0.0,
                             "maxfun": 50 * (config.iterations - start)})
                if start < state["step"] < config.iterations and state["handed"] != state["step"]:
                    # SciPy stopped on its own (a failed line search): say so, at that step.
                    if not state["checkpointed"]:
                        self.save_checkpoint()
                        state["checkpointed"] = True
                    hand_over(record(self.session.run(self.image).ravel(),
                                     f"L-BFGS-B: {result.message}"))
                elif state["step"] < config.iterations and "StopIteration" not in result.message:
                    log.warning("L-BFGS-B stopped at step %d: %s", state["step"], result.message)
                handed.put(("done", None))
            except _Stop:
                handed.put(("done", None))
            except BaseException as exc:  # re-raised in the consumer's thread
                handed.put(("error", exc))

        state["checkpointed"] = False
        thread = threading.Thread(target=work, name="lbfgs", daemon=True)
        thread.start()
        try:
            while True:
                kind, value = handed.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
                resume.release()
        finally:
            quit_.set()
            resume.release()
            thread.join()


LOSS_NAMES = ("total_loss", "content_loss", "style_loss", "tv_loss")
