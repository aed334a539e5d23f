"""Batch overhead: what each further image of ``--content-dir`` costs beyond its own steps.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/batch_overhead.py [--base 35ccdd2]
        [--sizes 250x333 64x80] [--images 4] [--repeats 3] [--vgg PATH] [--cache DIR]
        [--json benchmarks/batch_overhead.json]
    # smoke test: --sizes 32x40 --images 2 --repeats 1 --width-divisor 8 --json /tmp/x.json

For each size, each repeat and each version of the code, it runs the real CLI twice in
subprocesses, each into a fresh output folder with ``--iterations 1 --seed 0`` and the bundled
style: ``tf1cnn-style --content-dir DIR`` on a folder of N (``--images``) copies of the bundled
photograph, and ``tf1cnn-style --content`` on the first of them. Both read the same full-size
random VGG19 with its fc head (``machine.random_vgg19``; or ``--vgg``). Every run must exit 0
and write every output file of every image (``OUTPUTS``). The fixed cost per further image is

    overhead = ((T(N) - S(N)) - (T(1) - S(1))) / (N - 1)

where T is the process's wall time and S the optimisation steps' own time: for each image, the
``seconds`` column of the last row of its ``losses.csv``, which sums the times of the run's
progress records. An Adam record's time runs from the level's start to its logged step, so it
holds the step's ``session.run`` and that step's checkpoint, summary and image fetch (in both
versions alike); the image's other work (reading it, the targets' forward passes, building or
reusing the graph, the output files) is the overhead. Taking ``(T - S)`` of both runs also
cancels the process's start, the TensorFlow import and the .mat read (the "after" code's
weights cache is built once before the first timed run, as a user's first run builds it).

"before" is ``--base`` (default 35ccdd2, the commit before the style engine), checked out with
``git worktree add --detach`` under ``--cache`` and installed with ``pip install --no-deps -e``
into its own venv there, which sees this interpreter's packages through a ``.pth`` file: both
versions run on the same TensorFlow. Both are built once and reused. "after" is this tree, run
through the ``tf1cnn-style`` beside this interpreter. The versions alternate (before-after,
then after-before) within each repeat; the table gives the median over ``--repeats``, and
"others", the most cores other processes kept busy during any one run (``machine.Meter``;
above ~0.1 the figures are disturbed). Prints the table and one JSON line, and writes the
JSON, with every run's figures, to ``--json``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from typing import Any

import machine

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONTENT = ROOT / "data" / "grace_hopper.jpg"
STYLE = ROOT / "data" / "style_waves.png"
OUTPUTS = ("config.json", "result.png", "losses.csv", "loss_curve.png", "contact_sheet.png")
TARGETS = {"250x333": 1.0, "64x80": 0.5}  # seconds per further image, at most (issue 9)
VERSIONS = ("before", "after")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--base", default="35ccdd2", help="git revision of the 'before' code")
    parser.add_argument("--sizes", nargs="+", default=list(TARGETS), help="HxW")
    parser.add_argument("--images", type=int, default=4, help="N: images of the batch run")
    parser.add_argument("--repeats", type=int, default=3, help="k: the median is over these")
    parser.add_argument("--vgg", help="VGG19 .mat; default: the cached random one, with fc head")
    parser.add_argument("--cache", default=machine.CACHE,
                        help="random VGG19, base worktree and its venv")
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="divide the random VGG19's channel counts (smoke tests)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "batch_overhead.json"))
    args = parser.parse_args(argv)
    if args.images < 2:
        parser.error("--images must be at least 2")
    return args


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def base_cli(revision: str, cache: str) -> tuple[str, list[str]]:
    """The commit of ``revision`` and the command of its ``tf1cnn-style``: a worktree of it
    and a venv with it installed (both built once), which uses this interpreter's packages."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    tree = pathlib.Path(cache) / f"base-{commit[:12]}"
    venv = pathlib.Path(cache) / f"base-{commit[:12]}-venv"
    python, script = venv / "bin" / "python", venv / "bin" / "tf1cnn-style"
    if not (tree / ".git").exists():
        print(f"checking out {commit[:12]} into {tree} (once)", file=sys.stderr, flush=True)
        # --force: a worktree of this path that was deleted (say, with /tmp) is still listed
        git("worktree", "add", "--force", "--detach", str(tree), commit)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True,
                          check=True).stdout.strip()
    # Written on every run, so that the base runs on whatever TensorFlow this interpreter has.
    # Paths listed in a .pth file join sys.path, but their own .pth files are not run: so this
    # tree's editable install stays out, and the base's own is the only tf1cnn.
    ours = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    pathlib.Path(site, "tf1cnn_bench_dependencies.pth").write_text("\n".join(ours) + "\n")
    if not script.exists():
        print(f"installing it into {venv} (once)", file=sys.stderr, flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(tree)],
                       check=True)
    return commit, [str(script)]


def after_cli() -> list[str]:
    script = pathlib.Path(sys.executable).parent / "tf1cnn-style"
    if not script.exists():
        raise SystemExit(f"no {script}: install this tree into the interpreter's venv "
                         f"(pip install -e .) and run the benchmark with its python")
    return [str(script)]


def steps_seconds(folders: Sequence[pathlib.Path]) -> float:
    """The optimisation steps' own time: each folder's last ``seconds`` in losses.csv."""
    total = 0.0
    for folder in folders:
        with open(folder / "losses.csv", newline="") as handle:
            total += float(list(csv.DictReader(handle))[-1]["seconds"])
    return total


def run_cli(cli: list[str], size: str, inputs: pathlib.Path, images: int, vgg: str,
            env: dict) -> dict[str, Any]:
    """One CLI run on ``images`` images (1: ``--content``; more: ``--content-dir``)."""
    height, width = size.split("x")
    with tempfile.TemporaryDirectory(prefix="batch_overhead_") as out:
        source = ["--content-dir", str(inputs)] if images > 1 else [
            "--content", str(inputs / "image_0.jpg")]
        done = machine.timed([*cli, *source, "--style", str(STYLE), "--vgg", vgg,
                              "--height", height, "--width", width, "--iterations", "1",
                              "--seed", "0", "--output-dir", out], env=env)
        if done.returncode:
            raise SystemExit(f"status {done.returncode}: {' '.join(done.command)}\n"
                             f"{done.stderr[-2000:]}")
        folders = [pathlib.Path(out, f"image_{k}") for k in range(images)] if images > 1 \
            else [pathlib.Path(out)]
        missing = [str(f / name) for f in folders for name in OUTPUTS if not (f / name).exists()]
        if missing:
            raise SystemExit(f"{' '.join(done.command)} did not write {', '.join(missing)}")
        steps = steps_seconds(folders)
    return {"images": images, "seconds": done.seconds, "steps_seconds": steps,
            "other_cores": done.other_cores}


def overhead(batch: dict, single: dict) -> float:
    fixed = (batch["seconds"] - batch["steps_seconds"]) - (
        single["seconds"] - single["steps_seconds"])
    return fixed / (batch["images"] - 1)


def measure(args: argparse.Namespace, clis: dict[str, list[str]], vgg: str,
            inputs: pathlib.Path) -> list[dict]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLI does, so both versions alike
    results = {size: {version: [] for version in VERSIONS} for size in args.sizes}
    for repeat in range(args.repeats):
        for size in args.sizes:
            for version in VERSIONS if repeat % 2 == 0 else VERSIONS[::-1]:
                batch = run_cli(clis[version], size, inputs, args.images, vgg, env)
                single = run_cli(clis[version], size, inputs, 1, vgg, env)
                runs = {"batch": batch, "single": single, "overhead": overhead(batch, single)}
                results[size][version].append(runs)
                print(f"repeat {repeat + 1}/{args.repeats} {size} {version}: "
                      f"{runs['overhead']:.2f} s/image (T(N)={batch['seconds']:.1f} s, "
                      f"T(1)={single['seconds']:.1f} s)", file=sys.stderr, flush=True)
    rows = []
    for size in args.sizes:
        row = {"size": size, "target": TARGETS.get(size)}
        for version in VERSIONS:
            runs = results[size][version]
            row[version] = statistics.median(r["overhead"] for r in runs)
            row[version + "_runs"] = runs
        row["others"] = max(r[kind]["other_cores"] for version in VERSIONS
                            for r in results[size][version] for kind in ("batch", "single"))
        rows.append(row)
    return rows


def table(rows: list[dict], base: str, images: int) -> str:
    lines = [f"| size | before ({base[:7]}), s/image | after, s/image | target | met | others |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        target = "" if r["target"] is None else f"≤ {r['target']:.1f}"
        met = "" if r["target"] is None else ("yes" if r["after"] <= r["target"] else "no")
        lines.append(f"| {r['size']} | {r['before']:.2f} | {r['after']:.2f} | {target} | {met} "
                     f"| {r['others']:.2f} |")
    lines.append(f"(N = {images} images; median over repeats)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    vgg = args.vgg or machine.random_vgg19(args.cache, head=True,
                                           width_divisor=args.width_divisor)
    base, before = base_cli(args.base, args.cache)
    clis = {"before": before, "after": after_cli()}
    machine.warm_weights_cache(vgg)  # the cache's own figures: benchmarks/weights_load.py
    with tempfile.TemporaryDirectory(prefix="batch_overhead_inputs_") as folder:
        inputs = pathlib.Path(folder)
        for k in range(args.images):
            shutil.copyfile(CONTENT, inputs / f"image_{k}.jpg")
        rows = measure(args, clis, vgg, inputs)
    print(table(rows, base, args.images))
    summary = {"base": base, "head": git("rev-parse", "HEAD"), "images": args.images,
               "repeats": args.repeats, "vgg": vgg, "cpus": os.cpu_count(),
               "sizes": [{k: v for k, v in r.items() if not k.endswith("_runs")} for r in rows]}
    print(json.dumps(summary))
    with open(args.json, "w") as handle:
        json.dump(dict(summary, sizes=rows), handle, indent=1)
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
