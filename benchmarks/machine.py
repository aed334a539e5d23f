"""The machine a benchmark measures on, and the stand-in network it measures with.

Shared by the scripts of this folder, which import it plainly (``import machine``: a script's
own folder is first on ``sys.path`` when it runs as ``python benchmarks/NAME.py``). It owns:

* **the load of other processes.** ``Meter`` counts, from its creation to ``other_cores()``,
  the cores that *other* processes kept busy: the machine's busy CPU seconds (``/proc/stat``,
  neither idle nor iowait) minus this process's and its waited-for children's, over the wall
  time. Above ~0.1 a measurement was disturbed: the machine has few cores, shared with others;
* **a full-size random VGG19.** ``random_vgg19`` writes once, into a cache folder, a
  MatConvNet file with VGG19's real shapes and random weights (the same FLOPs and memory as the
  real network; about 575 MB with the fc6-fc8 head, which the style tool reads and drops, as it
  does the real file's). ``width_divisor`` divides every channel count, for smoke tests;
* **the sample clip.** ``clip_options`` adds the options of a benchmark that runs ``--video``
  on the synthetic clip, and ``write_sample_clip`` writes that clip as PNG frames;
* **workers in subprocesses.** ``timed`` runs a command and measures its wall time and the
  other processes' load meanwhile; ``spawn`` runs a worker that prints its result as one JSON
  line last, and returns that result with the measurements added.

    python benchmarks/machine.py [--cache DIR] [--width-divisor N]   # build the VGG19 file
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

CACHE = os.path.join(tempfile.gettempdir(), "tf1cnn_bench")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def head_commit() -> str:
    """The checked-out commit, short, so that the docs' table can name it."""
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return done.stdout.strip()


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, to label a benchmark's results."""
    with open("/proc/cpuinfo") as info:
        return next((line.split(":", 1)[1].strip() for line in info
                     if line.startswith("model name")), "unknown")


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle or iowait), from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Meter:
    """From its creation: wall seconds, and the cores other processes kept busy."""

    def __init__(self):
        self.start = (time.perf_counter(), busy_seconds(), own_seconds())

    def seconds(self) -> float:
        return time.perf_counter() - self.start[0]

    def other_cores(self) -> float:
        wall = self.seconds()
        others = (busy_seconds() - self.start[1]) - (own_seconds() - self.start[2])
        return max(0.0, others) / wall


def random_vgg19(cache: str = CACHE, head: bool = True, width_divisor: int = 1) -> str:
    """Path of a random-weight VGG19 .mat of the real shapes (channels divided by
    ``width_divisor``), with the fc6-fc8 head unless ``head`` is False; built once."""
    name = f"vgg19-random{'-head' if head else ''}" + (
        f"-w{width_divisor}" if width_divisor > 1 else "")
    path = os.path.join(cache, name + ".mat")
    if os.path.exists(path):
        return path
    import numpy as np

    from tf1cnn.style_transfer.network import matconvnet, vgg

    os.makedirs(cache, exist_ok=True)
    rng = np.random.default_rng(1)
    d = width_divisor  # VGG19's head as MatConvNet stores it: convolutions over pool5's 7x7
    shapes = {"fc6": (7, 7, 512 // d, 4096 // d), "fc7": (1, 1, 4096 // d, 4096 // d),
              "fc8": (1, 1, 4096 // d, 1000)} if head else {}
    fc = [(layer, rng.standard_normal(shape, dtype=np.float32) * 0.01,
           np.zeros(shape[3], np.float32)) for layer, shape in shapes.items()]
    print(f"building {path} (once)", file=sys.stderr, flush=True)
    matconvnet.write_layers(path + ".part", vgg.random_layers(19, width_divisor), layout="new",
                            head=fc)
    os.replace(path + ".part", path)
    return path


def warm_weights_cache(vgg: str) -> None:
    """Build the style tool's weights cache of ``vgg`` now, untimed, so that every measured
    run reads the cache, as a user's every run but the first does."""
    subprocess.run([sys.executable, "-m", "tf1cnn.style_transfer.network.weights", vgg], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclasses.dataclass(frozen=True)
class Finished:
    """A command that ran to its end: its exit status, output and measurements."""
    command: Sequence[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # wall time from start to exit
    other_cores: float  # cores other processes kept busy meanwhile
    load_before: float  # one-minute load average at the start and at the end
    load_after: float


def timed(command: Sequence[str], **options) -> Finished:
    """Run ``command`` (``subprocess.run`` options allowed), capturing its output as text."""
    load, meter = os.getloadavg()[0], Meter()
    done = subprocess.run(list(command), capture_output=True, text=True, check=False, **options)
    seconds, others = meter.seconds(), meter.other_cores()
    return Finished(list(command), done.returncode, done.stdout, done.stderr, seconds, others,
                    load, os.getloadavg()[0])


def spawn(command: Sequence[str], **options) -> dict[str, Any]:
    """Run a worker whose last line of output is a JSON object; return that object with
    ``other_cores`` and the load averages added, or ``{"failed": status, ...}``. The worker's
    stderr passes through, so that its progress and errors are seen as they come."""
    load, meter = os.getloadavg()[0], Meter()
    done = subprocess.run(list(command), stdout=subprocess.PIPE, text=True, check=False,
                          **options)
    others = meter.other_cores()
    if done.returncode:
        return {"failed": done.returncode, "command": list(command)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return dict(result, other_cores=others, load_before=load, load_after=os.getloadavg()[0])


def clip_options(parser: argparse.ArgumentParser) -> None:
    """--vgg, --frames, --size and --iterations of a benchmark on the sample clip."""
    parser.add_argument("--vgg", default=None, help="default: the random full-size VGG19")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--size", default="250x333")
    parser.add_argument("--iterations", type=int, default=20)


def write_sample_clip(folder: str, frames: int, height: int, width: int) -> None:
    """The synthetic clip (``sample_clip``) of the bundled photograph, as PNG frames."""
    from tf1cnn.common import images, samples
    from tf1cnn.style_transfer.tools import sample_clip

    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    sample_clip.write_folder(sample_clip.make(photo, frames=frames, height=height,
                                              width=width), folder)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=CACHE)
    parser.add_argument("--no-head", dest="head", action="store_false")
    parser.add_argument("--width-divisor", type=int, default=1)
    args = parser.parse_args(argv)
    print(random_vgg19(args.cache, args.head, args.width_divisor))
    return 0


if __name__ == "__main__":
    sys.exit(main())

