"""Start-up cost of the VGG weights: the full .mat read against the weight cache of weights.load.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/weights_load.py [--vgg PATH] [--repeats 3]

Without ``--vgg`` it builds once, cached under ``--cache`` (``machine.random_vgg19``, shared
with the other benchmarks), a VGG19 MatConvNet file of the real shapes with random weights,
fc6-fc8 head included (~575 MB). Each measurement runs in a fresh subprocess and times one
call, after the imports (timed apart):

* ``mat read``: ``matconvnet.read_layers`` on the file;
* ``first load``: ``weights.load`` with an empty cache folder (reads the file, hashes it,
  writes the cache);
* ``cache hit``: ``weights.load`` once the cache exists.

The file and the cache are in the page cache after the first run, so these are warm-disk
times. Reports the median of ``--repeats`` runs of each, the 1-minute load average before and
after (on a 2-core machine above ~0.5, other work shares the CPU), a table and one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Sequence

import machine

OUTPUTS = ("relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vgg", help="MatConvNet VGG19 .mat; default: a cached random one")
    parser.add_argument("--cache", default=machine.CACHE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=os.path.join(machine.ROOT, "benchmarks",
                                                       "weights_load.json"),
                        help="where to write the figures")
    parser.add_argument("--worker", choices=("mat", "load"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker(kind: str, path: str) -> None:
    """In a fresh process: time the imports, then one read; print one JSON line."""
    start = time.perf_counter()
    from tf1cnn.style_transfer.network import matconvnet, weights
    imported = time.perf_counter()
    if kind == "mat":
        layers = matconvnet.read_layers(path)
    else:
        layers = weights.load(path, OUTPUTS, progress=False).layers
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "seconds": done - imported,
                      "convs": sum(layer.kind == "conv" for layer in layers)}))


def spawn(kind: str, path: str, cache: str) -> dict:
    env = dict(os.environ, TF1CNN_CACHE=cache, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", kind,
                           "--vgg", path], env=env, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        worker(args.worker, args.vgg)
        return 0
    path = args.vgg or machine.random_vgg19(args.cache)
    cache = tempfile.mkdtemp(prefix="tf1cnn_weight_cache_")
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {"mat read": [], "first load": [], "cache hit": []}
    try:
        for _ in range(args.repeats):
            runs["mat read"].append(spawn("mat", path, cache))
            shutil.rmtree(os.path.join(cache, "weights"), ignore_errors=True)
            runs["first load"].append(spawn("load", path, cache))
        for _ in range(args.repeats):
            runs["cache hit"].append(spawn("load", path, cache))
        cache_bytes = sum(f.stat().st_size for f in os.scandir(os.path.join(cache, "weights")))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    load_after = os.getloadavg()[0]

    summary = {name: {"median_s": round(statistics.median(r["seconds"] for r in results), 3),
                      "runs_s": [round(r["seconds"], 3) for r in results],
                      "import_s": round(statistics.median(r["import_s"] for r in results), 2)}
               for name, results in runs.items()}
    print(f"file {path}: {os.path.getsize(path) / 1e6:.0f} MB; cache {cache_bytes / 1e6:.0f} MB; "
          f"load average {load_before:.2f} -> {load_after:.2f}")
    print(f"{'step':>12}{'median s':>10}{'import s':>10}  runs s")
    for name, row in summary.items():
        print(f"{name:>12}{row['median_s']:>10.3f}{row['import_s']:>10.2f}  "
              f"{', '.join(f'{s:.3f}' for s in row['runs_s'])}")
    stored = {"commit": machine.head_commit(), "file_bytes": os.path.getsize(path),
              "cache_bytes": cache_bytes, "loadavg": [load_before, load_after], **summary}
    print(json.dumps(stored))
    with open(args.json, "w") as handle:
        json.dump(stored, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
