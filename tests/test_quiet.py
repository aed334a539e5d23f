"""Quiet everywhere: no way of starting our code prints TensorFlow's start-up notices, and a
refusal is one ``error:`` line on stderr.

Every case runs a command as a user types it, in a fresh process, with ``TF_CPP_MIN_LOG_LEVEL``
taken out of the environment. CI sets it to 2, which hides some notices (``cpu_feature_guard``)
and would hide an ``import tensorflow`` that skips ``runtime.import_tensorflow``'s quiet start
too. oneDNN is on, as the tools turn it on by default, so that a bare import is loud: the first
test proves that here, so the silence of the others means something.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common import runtime
from tf1cnn.style_transfer.network import matconvnet, vgg

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Lines TensorFlow's C++ core writes: absl's preamble, a log line "I0000 00:00:... name.cc:N]",
# and the CPU-feature notice, whose second line has no prefix.
NOTICE = re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\)"
                    r"|^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \w+\.cc:\d+\]"
                    r"|cpu_feature_guard|cudart_stub|rebuild TensorFlow with the appropriate")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A folder with a tiny random VGG19 (tiny.mat), a small picture and a text file."""
    folder = tmp_path_factory.mktemp("inputs")
    matconvnet.write_layers(folder / "tiny.mat", vgg.random_layers(19, width_divisor=16, seed=0))
    rng = np.random.default_rng(0)
    iio.imwrite(folder / "photo.png", rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    (folder / "notes.png").write_text("not a picture")
    return folder


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``command`` in ``cwd``, with no log level set, notices not asked for, oneDNN on and a
    weights cache of its own."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", runtime.SHOW_NOTICES)}
    env.update(TF_ENABLE_ONEDNN_OPTS="1", TF1CNN_CACHE=str(cwd / "cache"))
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240, check=False)


def notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if NOTICE.search(line)]


def test_a_bare_tensorflow_import_is_loud_here(tmp_path):
    """The control: without the quiet start, these runs would show notices that NOTICE finds."""
    done = run([sys.executable, "-c", "import tensorflow"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert notices(done.stderr), done.stderr


# Commands that load TensorFlow before they refuse: {name: (argv, pattern of the error line)}.
# "{inputs}" is the inputs fixture's folder.
LOADING_REFUSALS = {
    "style budget": (
        ["tf1cnn-style", "--vgg", "{inputs}/tiny.mat", "--max-memory", "1", "--height", "1001",
         "--width", "1333"],
        (r"^error: 1001x1333 needs about [\d.]+ GiB of memory even in the smallest tiles .*"
         r"the budget is 1 bytes \(--max-memory\)")),
    "cluster style-net weights": (
        ["tf1cnn-cluster", "train", "--model", "style-net", "--vgg", "{inputs}/missing.mat"],
        r"^error: VGG file not found: .*missing\.mat"),
}
# Refusals before TensorFlow loads: quiet as long as nothing on the way imports it.
EARLY_REFUSALS = {
    "kernels picture": (["tf1cnn-kernels", "--image", "{inputs}/notes.png"],
                        r"^error: .*notes\.png.* not a readable image file"),
    "memory module arguments": ([sys.executable, "-m", "tf1cnn.style_transfer.objective.memory",
                                 "1001"], r"^error: the following arguments are required: width$"),
    "weights module file": ([sys.executable, "-m", "tf1cnn.style_transfer.network.weights",
                             "{inputs}/missing.mat"], r"^error: VGG file not found: "),
    "faults module option": ([sys.executable, "-m", "tf1cnn.kernels.faults", "--bogus"],
                             r"^error: unrecognized arguments: --bogus$"),
    "sample clip script": ([sys.executable, str(REPO / "scripts" / "make_sample_clip.py"), "clip",
                            "--frames", "0"],
                           r"^error: argument --frames: must be at least 1, found 0$"),
}


def command_line(argv: list[str], inputs: Path) -> list[str]:
    """``argv`` with the fixture folder filled in and a console script's full path."""
    argv = [word.format(inputs=inputs) for word in argv]
    return [str(BIN / argv[0]) if argv[0].startswith("tf1cnn-") else argv[0], *argv[1:]]


@pytest.mark.parametrize("case", [*LOADING_REFUSALS, *EARLY_REFUSALS])
def test_a_refusal_is_one_error_line_and_no_notice(case, inputs, tmp_path):
    argv, pattern = {**LOADING_REFUSALS, **EARLY_REFUSALS}[case]
    done = run(command_line(argv, inputs), tmp_path)
    assert notices(done.stderr) == [], done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and re.search(pattern, done.stderr), done.stderr


def test_the_memory_module_prints_its_plans_and_nothing_on_stderr(tmp_path):
    done = run([sys.executable, "-m", "tf1cnn.style_transfer.objective.memory", "1001", "1333"],
               tmp_path)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and "GiB available" in lines[0], done.stdout
    assert lines[1].startswith("adam: ") and lines[2].startswith("lbfgs: "), done.stdout


def test_a_run_with_a_memory_budget_starts_quietly(inputs, tmp_path):
    """The issue's first symptom: any run given --max-memory printed the notices twice."""
    done = run(command_line(["tf1cnn-style", "--vgg", "{inputs}/tiny.mat", "--content",
                             "{inputs}/photo.png", "--style", "{inputs}/photo.png",
                             "--height", "24", "--width", "32", "--iterations", "1",
                             "--max-memory", "4G", "--output-dir", "out"], inputs), tmp_path)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("config: "), done.stdout
    assert (tmp_path / "out" / "result.png").is_file()
