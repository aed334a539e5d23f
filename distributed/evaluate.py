"""The eval step: restore the latest checkpoint into a fresh graph, predict, and plot the fit.

``fit`` rebuilds the network with the names training used, restores its weights, and predicts
on the training x, redrawn from the run's saved settings. ``draw`` plots the data as a scatter,
the fit as a line and x² dashed, on any matplotlib Figure: a bare Figure renders headless for
saving, a pyplot one can be shown.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from tf1cnn.common import runtime
from tf1cnn.common.errors import UsageError

from .data import make_data
from .rundir import read_settings


@dataclasses.dataclass(frozen=True)
class Fit:
    x: np.ndarray
    y: np.ndarray
    prediction: np.ndarray
    global_step: int
    checkpoint: str

    @property
    def mse(self) -> float:
        """Against the noisy targets, as training measured it."""
        return float(np.mean((self.prediction - self.y) ** 2))

    @property
    def mse_to_truth(self) -> float:
        """Against x² itself, without the noise."""
        return float(np.mean((self.prediction - self.x ** 2) ** 2))


def latest_checkpoint(folder: str) -> str:
    path = runtime.latest_checkpoint(folder)
    if path is None:
        raise UsageError(f"no checkpoint in {folder}: train first (tf1cnn-cluster train "
                         f"--checkpoint-dir {folder})")
    return path


def fit(folder: str) -> Fit:
    """Restore the latest checkpoint in folder and predict on the run's data."""
    tf = runtime.import_tensorflow()  # first: model imports TensorFlow too
    from . import model

    v1 = tf.compat.v1
    settings = read_settings(folder)
    path = latest_checkpoint(folder)
    x, y = make_data(settings["points"], settings["noise"], settings["seed"])
    with tf.Graph().as_default():
        inputs = v1.placeholder(tf.float32, [None, 1])
        output = model.predict(inputs, settings["hidden"])
        global_step = v1.train.get_or_create_global_step()
        saver = v1.train.Saver()
        with runtime.new_session() as session:
            try:
                saver.restore(session, path)
            except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
                    tf.errors.DataLossError) as exc:
                raise UsageError(f"cannot restore {path}: {exc.message.splitlines()[0]}") \
                    from None
            prediction, step = session.run([output, global_step], {inputs: x})
    return Fit(x, y, prediction, int(step), path)


def draw(figure, result: Fit):
    axes = figure.add_subplot()
    axes.scatter(result.x.ravel(), result.y.ravel(), s=12, c="tab:blue", label="data")
    axes.plot(result.x.ravel(), result.x.ravel() ** 2, "--", c="grey", label="x²")
    axes.plot(result.x.ravel(), result.prediction.ravel(), c="tab:red", lw=2,
              label=f"fit at global step {result.global_step}")
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_title(f"MSE {result.mse:.4g} (to x²: {result.mse_to_truth:.4g})")
    axes.legend()
    return figure
