"""Data, network and config: pure functions checked against numpy."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common.errors import UsageError
from tf1cnn.distributed import model
from tf1cnn.distributed.config import TrainConfig
from tf1cnn.distributed.data import make_data

v1 = tf.compat.v1


def test_data_is_the_tutorials_and_reproducible():
    x, y = make_data(seed=7)
    assert x.shape == y.shape == (100, 1) and x.dtype == y.dtype == np.float32
    np.testing.assert_allclose(x.ravel(), np.linspace(-1, 1, 100), atol=1e-7)
    noise = y - x ** 2
    assert abs(noise.mean()) < 0.03 and 0.08 < noise.std() < 0.12
    np.testing.assert_array_equal(y, make_data(seed=7)[1])
    assert not np.array_equal(y, make_data(seed=8)[1])
    np.testing.assert_allclose(make_data(noise=0.0)[1], x ** 2)


def _run(build, feed_value):
    with tf.Graph().as_default():
        inputs = v1.placeholder(tf.float32, [None, 1])
        output = build(inputs)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            values = {v.op.name: session.run(v) for v in v1.global_variables()}
            return session.run(output, {inputs: feed_value}), values


def test_predict_is_relu_dense_then_dense_as_numpy():
    x = np.linspace(-1, 1, 7, dtype=np.float32)[:, None]
    out, w = _run(lambda t: model.predict(t, hidden=10), x)
    assert sorted(w) == ["hidden/bias", "hidden/kernel", "output/bias", "output/kernel"]
    assert w["hidden/kernel"].shape == (1, 10) and w["output/kernel"].shape == (10, 1)
    hidden = np.maximum(x @ w["hidden/kernel"] + w["hidden/bias"], 0)
    # The weights are random each run and the output sums terms of both signs, so a value
    # near zero carries float32 rounding of the terms' size (~1e-8), not of its own.
    np.testing.assert_allclose(out, hidden @ w["output/kernel"] + w["output/bias"],
                               rtol=1e-6, atol=1e-6)
    limit = np.sqrt(6 / 11)  # Glorot uniform for fan-in 1, fan-out 10
    assert np.abs(w["hidden/kernel"]).max() <= limit
    assert not w["hidden/bias"].any()


def test_mse_matches_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    with tf.Graph().as_default(), v1.Session() as session:
        value = session.run(model.mse(tf.constant(a), tf.constant(b)))
    assert value == pytest.approx(np.mean((a - b) ** 2))


def test_defaults_are_the_tutorials():
    c = TrainConfig().settled()
    assert (c.last_step, c.workers, c.ps, c.points, c.noise, c.hidden, c.learning_rate,
            c.log_every, c.sync) == (100_000, 3, 1, 100, 0.1, 10, 0.001, 500, False)
    c.check()


@pytest.mark.parametrize("change, message", [
    ({"last_step": 0}, "--last-step"), ({"workers": 0}, "--workers"), ({"ps": 1.5}, "--ps"),
    ({"hidden": True}, "--hidden"), ({"learning_rate": 0.0}, "--learning-rate"),
    ({"noise": -1.0}, "--noise"), ({"timeout": 0.0}, "--timeout"), ({"seed": -1}, "--seed"),
    ({"log_every": 0}, "--log-every")])
def test_check_rejects_impossible_values(change, message):
    with pytest.raises(UsageError, match=message):
        dataclasses.replace(TrainConfig().settled(), **change).check()


def test_run_settings_leave_out_what_a_resume_may_change():
    settings = TrainConfig().run_settings()
    assert "seed" in settings and "hidden" in settings
    assert not {"last_step", "workers", "checkpoint_dir", "timeout"} & set(settings)
