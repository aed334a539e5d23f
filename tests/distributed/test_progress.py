"""The workers' progress lines, with the clock stepped by hand."""
import dataclasses

import pytest

from tf1cnn.distributed import progress
from tf1cnn.distributed.config import TrainConfig


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    return now


def test_the_toy_line_is_the_tutorials(clock):
    lines = progress.Progress("job=worker task=0 pid=1", TrainConfig().settled(), 0, 3)
    assert lines.line(1, 1, 0.5, {}) is None
    clock[0] += 2.5
    assert lines.line(500, 300, 0.25, {}) == ("job=worker task=0 pid=1 global_step=500/100000 "
                                              "local_steps=300 loss=0.25 time=2.50s")
    assert lines.line(500, 301, 0.25, {}) is None  # sync: the same global step again


@pytest.mark.parametrize("sync, pictures_per_s", [(False, 8.0), (True, 16.0)])
def test_a_picture_models_line_adds_the_terms_the_rate_and_the_time_left(clock, sync,
                                                                         pictures_per_s):
    config = dataclasses.replace(TrainConfig(model="style-net", sync=sync).settled(),
                                 last_step=1010)
    lines = progress.Progress("w", config, 4, 2)
    lines.line(1, 1, 9.0, {})
    clock[0] += 4.5  # 9 global steps in 4.5 s: 2 a second
    line = lines.line(10, 5, 3.0, {"content": 1.0, "style": 2.0})
    assert line == (f"w global_step=10/1010 local_steps=5 loss=3 content=1 style=2 "
                    f"pictures_per_s={pictures_per_s:.2f} eta=8m20s time=4.50s")


def test_durations_read_as_minutes_or_hours():
    assert progress._duration(59.6) == "1m00s"
    assert progress._duration(2 * 3600 + 125) == "2h02m"
    assert progress._duration(float("inf")) == "unknown"
