"""One set of ``outputs_unchanged.py``: the fixed runs of one source tree, made in isolation.

A tree is copied and installed, not editable, into ``/tmp/outputs_unchanged/trees/<hash of its
files>/`` (reused while its files are unchanged), and its runs import ``tf1cnn`` from there
alone: this process never imports it, because module paths differ between trees. The runs start
through a small boot (``BOOT``) that drops the editable finder of this venv
(``__editable___tf1cnn_*_finder``), which would otherwise add this worktree's folders to the
``tf1cnn.data`` namespace and supply any package the install lacks, and every run's loaded
``tf1cnn`` modules are checked to come from the install. All runs of a set share the inputs and
the random-weight VGG19 file in ``/tmp/outputs_unchanged/`` (made once, the file by the tree's
own ``benchmarks/machine.py``, the clip by its ``make_sample_clip.py``). Each run uses two
intra-op threads, whatever the machine: see ``run_env`` for why. ``run_set`` makes a set.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

ROOT = Path(tempfile.gettempdir()) / "outputs_unchanged"
ENTRY = "scripts/style_transfer.py"
SIZE = ("--height", "64", "--width", "85")
THREADS = 2  # what TensorFlow picks on the 2-core machine the baseline was made on
# What the tree's packaging ignores (.gitignore), so that build leftovers are never installed.
JUNK = ("__pycache__", "*.egg-info", "build", "dist", ".venv", ".git", "style_output",
        "cluster_output", "*.mat", "*.pyc")


@dataclasses.dataclass(frozen=True)
class Run:
    name: str
    options: tuple[str, ...]  # beyond --vgg, --output-dir and, unless given, SIZE/content/style


def runs(inputs: Path) -> tuple[Run, ...]:
    """The fixed set, seeded and small (64x85, 2-20 steps): about 2 minutes on 2 cores. The
    tiled level is larger, as a tile's window is its interior and an 80-pixel halo."""
    i = {name: str(inputs / name) for name in ("content.png", "style.png", "style2.png",
                                               "content_mask.png", "style_mask.png",
                                               "style2_mask.png", "clip", "batch")}
    seed = ("--seed", "0")
    return (
        Run("adam", ("--iterations", "20", *seed)),
        Run("fast", ("--fast", *seed)),
        Run("lbfgs_scales2", ("--optimizer", "lbfgs", "--scales", "2", "--iterations", "15",
                              "--coarse-iterations", "10", *seed)),
        # 192x256 does not fit 177e6 bytes in one pass (179.9e6 estimated) but does in 12
        # tiles of 80 pixels (175.5e6): style_transfer/objective/memory.py's plan.
        Run("tiled", ("--height", "192", "--width", "256", "--max-memory", "177000000",
                      "--iterations", "2", *seed)),
        Run("luminance", ("--colour-control", "luminance", "--iterations", "20", *seed)),
        Run("masked", ("--style", i["style.png"], i["style2.png"],
                       "--content-mask", i["content_mask.png"],
                       "--style-mask", i["style_mask.png"], i["style2_mask.png"],
                       "--region-style", "red=1", "blue=2", "--iterations", "20", *seed)),
        Run("video", ("--video", i["clip"], "--optimizer", "lbfgs", "--iterations", "10",
                      "--frame-iterations", "5", "--frame-target", "0", *seed)),
        Run("batch", ("--content-dir", i["batch"], "--iterations", "10", *seed)),
    )


def command(run: Run, inputs: Path, vgg: Path, out: Path) -> list[str]:
    """The entry script's options for ``run``, writing into ``out/<name>``."""
    given = set(run.options)
    found = [] if "--height" in given else list(SIZE)
    if not given & {"--video", "--content-dir"}:
        found += ["--content", str(inputs / "content.png")]
    if "--style" not in given:
        found += ["--style", str(inputs / "style.png")]
    return [*run.options, *found, "--vgg", str(vgg), "--output-dir", str(out / run.name)]


# ---------------------------------------------------------------- the trees and their installs

def ignored(name: str) -> bool:
    return any(Path(name).match(pattern) for pattern in JUNK)


def tree_key(tree: Path) -> str:
    """SHA-256 (16 hex digits) of the tree's files, paths included, junk left out."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if not ignored(d))
        for name in sorted(f for f in files if not ignored(f)):
            path = Path(folder, name)
            digest.update(str(path.relative_to(tree)).encode() + b"\0")
            digest.update(path.read_bytes() if not path.is_symlink() else b"->")
    return digest.hexdigest()[:16]


def install(tree: Path) -> tuple[Path, Path, str]:
    """(the tree's snapshot, its install, its key): a copy of the tree built there, since pip
    builds in the source folder (build/, *.egg-info); reused while the tree's files match."""
    key = tree_key(tree)
    home = ROOT / "trees" / key
    source, site = home / "src", home / "site"
    if (site / ".installed").exists():
        return source, site, key
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(tree, source, symlinks=True,
                    ignore=lambda _, names: [n for n in names if ignored(n)])
    # Build isolation: the build needs setuptools>=68 (PEP 639 license), newer than the venv's.
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(site), str(source)],
                          check=False, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"pip could not install {tree}:\n{done.stderr[-3000:]}")
    (site / ".installed").write_text(f"{tree}\n")
    return source, site, key


# A run starts through this boot: it drops the venv's editable finder, path hook and
# namespace placeholder, runs the script as ``python SCRIPT ARGS`` would, and at exit writes
# where each loaded tf1cnn module came from to AUDIT.
BOOT = """\
import atexit, json, os, runpy, sys
script, audit, *args = sys.argv[1:]
editable = lambda f: getattr(f, "__module__", "").startswith("__editable__")
sys.meta_path[:] = [f for f in sys.meta_path if not editable(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if not editable(h)]
sys.path[:] = [os.path.dirname(script)] + [p for p in sys.path[1:] if "__editable__" not in p]
sys.path_importer_cache.clear()
sys.argv = [script, *args]
def where():
    found = {name: [getattr(m, "__file__", None), list(getattr(m, "__path__", []))]
             for name, m in list(sys.modules.items()) if name.split(".")[0] == "tf1cnn"}
    with open(audit, "w") as handle:
        json.dump(found, handle, indent=1)
atexit.register(where)
runpy.run_path(script, run_name="__main__")
"""


def run_env(site: Path, cache: Path, threads: int = THREADS) -> dict[str, str]:
    """The environment of a run: the install alone on PYTHONPATH, its own weights cache, and
    ``threads`` intra-op threads (0: TensorFlow's default, one per core; inter-op is 1 already,
    common/runtime.py). At 2d37bb6 a set was bit-identical run to run, and with 1 thread as
    with 2, but 4 changed L-BFGS losses by 1e-7 and a video frame's pixel by 1: the thread
    count is part of what a set is, so it is fixed, not taken from the machine."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "TF1CNN_", "TF_NUM_", "OMP_"))}
    pool = {"TF_NUM_INTRAOP_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)} \
        if threads else {}
    return dict(env, PYTHONPATH=str(site), PYTHONNOUSERSITE="1", PYTHONHASHSEED="0",
                TF1CNN_CACHE=str(cache), TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg", **pool)


def boot(script: Path, args: Sequence[str], audit: Path, env: dict, log: Path,
         cwd: Path) -> int:
    """Run ``script`` through BOOT with its output in ``log``; its exit status."""
    with open(log, "w") as handle:
        done = subprocess.run([sys.executable, "-c", BOOT, str(script), str(audit), *args],
                              check=False, env=env, cwd=cwd, stdout=handle,
                              stderr=subprocess.STDOUT)
    return done.returncode


def strays(audit: Path, site: Path) -> list[str]:
    """The tf1cnn modules a run loaded from anywhere but ``site``, as "name: path"."""
    if not audit.exists():
        return [f"no {audit.name}: the run died before its exit"]
    loaded = json.loads(audit.read_text())
    inside = str(site.resolve()) + os.sep
    return [f"{name}: {path}" for name, (file, paths) in sorted(loaded.items())
            for path in ([file] if file else []) + paths
            if not str(Path(path).resolve()).startswith(inside)] or \
        ([] if loaded else ["no tf1cnn module was loaded"])


def tail(log: Path, lines: int = 15) -> str:
    return "".join(log.read_text(errors="replace").splitlines(keepends=True)[-lines:])


# -------------------------------------------------------------------------------- the inputs

def picture(seed: int, height: int, width: int) -> np.ndarray:
    """uint8 RGB: colour gradients, a few discs and noise, so every layer has something."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([x, y, (x + y) / 2], axis=2) * 180
    for _ in range(5):
        cy, cx, r = rng.uniform(0, 1, 3) * (height / max(height, width), 1, 0.3)
        base[(y - cy) ** 2 + (x - cx) ** 2 < r ** 2] = rng.uniform(0, 200, 3)
    return np.clip(base + rng.uniform(0, 55, base.shape), 0, 255).astype(np.uint8)


def two_colours(height: int, width: int, vertical: bool) -> np.ndarray:
    """A mask: red left (or top) half, blue the rest."""
    mask = np.zeros((height, width, 3), np.uint8)
    mask[..., 2] = 255
    half = (slice(None), slice(0, width // 2)) if vertical else (slice(0, height // 2),)
    mask[half] = (255, 0, 0)
    return mask


def make_inputs(folder: Path, source: Path, env: dict) -> None:
    """The pictures, masks and batch (numpy), and the 4-frame clip by the tree's own script."""
    if (folder / ".complete").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "batch").mkdir(parents=True)
    iio.imwrite(folder / "content.png", picture(1, 192, 256))
    iio.imwrite(folder / "style.png", picture(2, 128, 128))
    iio.imwrite(folder / "style2.png", picture(3, 96, 160))
    iio.imwrite(folder / "content_mask.png", two_colours(192, 256, vertical=True))
    iio.imwrite(folder / "style_mask.png", two_colours(128, 128, vertical=False))
    iio.imwrite(folder / "style2_mask.png", two_colours(96, 160, vertical=True))
    for seed, name in zip((4, 5, 6), "abc"):
        iio.imwrite(folder / "batch" / f"{name}.png", picture(seed, 96, 128))
    status = boot(source / "scripts" / "make_sample_clip.py",
                  [str(folder / "clip"), "--frames", "4", "--height", "64", "--width", "85"],
                  folder / "clip.modules.json", env, folder / "clip.log", folder)
    if status:
        raise SystemExit(f"make_sample_clip.py failed; see {folder / 'clip.log'}")
    (folder / ".complete").write_text("")


def make_vgg(source: Path, env: dict) -> Path:
    """The full-size random VGG19 .mat, built once by the tree's benchmarks/machine.py."""
    path = ROOT / "vgg" / "vgg19-random-head.mat"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        status = boot(source / "benchmarks" / "machine.py", ["--cache", str(path.parent)],
                      path.parent / "modules.json", env, path.parent / "build.log", path.parent)
        if status or not path.exists():
            raise SystemExit(f"benchmarks/machine.py did not build {path}")
    return path


# ------------------------------------------------------------------------------------ run

def run_set(tree: Path, out: Path, vgg: Path | None = None, threads: int = THREADS,
            say=print) -> dict:
    """Run the fixed set with ``tree``'s code into ``out``; the record also saved as
    ``out/run.json`` (its ``failed`` lists runs that did not exit 0 or loaded a stray module)."""
    tree, out = tree.resolve(), out.resolve()
    names = [run.name for run in runs(ROOT / "inputs")]
    taken = [name for name in names if (out / name).exists()]
    if taken:  # a rerun into a run folder would resume it, not repeat it
        raise SystemExit(f"{out} already holds {', '.join(taken)}: remove it or pick another "
                         f"--out")
    started = time.perf_counter()
    source, site, key = install(tree)
    logs = out / ".logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = run_env(site, out / ".cache", threads)
    probe = logs / "probe.modules.json"
    if boot(source / ENTRY, ["--help"], probe, env, logs / "probe.log", out):
        raise SystemExit(f"{ENTRY} --help failed:\n{tail(logs / 'probe.log')}")
    if strays(probe, site):
        raise SystemExit("tf1cnn is not imported from the install alone:\n  "
                         + "\n  ".join(strays(probe, site)))
    loaded = json.loads(probe.read_text())
    say(f"{tree} (key {key}): tf1cnn from {loaded['tf1cnn'][1]}")
    make_inputs(ROOT / "inputs", source, env)
    vgg = vgg or make_vgg(source, env)
    record = {"tree": str(tree), "key": key, "out": str(out), "site": str(site), "vgg": str(vgg),
              "threads": threads, "python": sys.executable, "runs": {}, "failed": []}
    for run in runs(ROOT / "inputs"):
        args = command(run, ROOT / "inputs", vgg, out)
        begun = time.perf_counter()
        status = boot(source / ENTRY, args, logs / f"{run.name}.modules.json", env,
                      logs / f"{run.name}.log", out)
        seconds = time.perf_counter() - begun
        bad = strays(logs / f"{run.name}.modules.json", site)
        record["runs"][run.name] = {"options": list(args), "status": status,
                                    "seconds": round(seconds, 1), "stray_modules": bad}
        if status or bad:
            record["failed"].append(run.name)
        say(f"{run.name}: exit {status} in {seconds:.1f}s" + (f"; stray: {bad}" if bad else ""))
        if status:
            say(tail(logs / f"{run.name}.log"))
    record["seconds"] = round(time.perf_counter() - started, 1)
    (out / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    return record
