"""Whether a change slowed the style step: two commits' ``style_speed.py``, alternated.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/speed_unchanged.py --old-commit 2d37bb6
        [--rounds 2] [--sizes 250x333 512x512] [--steps 5] [--repeats 3] [--warmup 2]
        [--json benchmarks/speed_unchanged.json]

Each commit runs its own ``benchmarks/style_speed.py`` from its own install, as
``outputs_unchanged.py`` runs its style transfers (``outputs_sets.install`` and its boot, so
that neither imports this worktree's editable package), on the same full-size random VGG19
file. The old commit comes from ``git archive``; the new one is this worktree as it stands.
style_speed.py measures in worker subprocesses, which find the install first on PYTHONPATH
(the venv's editable finder comes after it), so each commit's workers run that commit's code.
Old and new alternate, ``--rounds`` times, so that a change in the machine's load falls on
both; the table gives each size's median ms per step over the rounds, with the matmul-relative
ratio and the cores other processes kept busy, which style_speed.py itself reports.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import machine
import outputs_sets
import outputs_unchanged

ROOT = Path(__file__).resolve().parents[1]


def measure(label: str, tree: Path, vgg: Path, args: argparse.Namespace, round_: int) -> dict:
    """One run of ``tree``'s style_speed.py; its JSON line."""
    source, site, _ = outputs_sets.install(tree)
    work = outputs_sets.ROOT / "speed" / f"{label}_{round_}"
    work.mkdir(parents=True, exist_ok=True)
    env = outputs_sets.run_env(site, work / "cache", threads=0)
    log = work / "style_speed.log"
    options = ["--vgg", str(vgg), "--sizes", *args.sizes, "--steps", str(args.steps),
               "--repeats", str(args.repeats), "--warmup", str(args.warmup)]
    if (source / "benchmarks" / "style_speed.py").read_text().count('"--json"'):
        options += ["--json", str(work / "style_speed.json")]  # newer scripts write one
    code = outputs_sets.boot(source / "benchmarks" / "style_speed.py", options,
                             work / "audit.json", env, log, cwd=work)
    if code:
        raise SystemExit(f"{label} round {round_} failed:\n{outputs_sets.tail(log)}")
    return json.loads(log.read_text().strip().splitlines()[-1])


def summary(runs: dict[str, list[dict]]) -> dict:
    """Per label and size: the median ms per step, ratio and others over the rounds."""
    found = {}
    for label, results in runs.items():
        for size in results[0]["sizes"]:
            rows = [next(s for s in r["sizes"] if s["size"] == size["size"]) for r in results]
            found.setdefault(size["size"], {})[label] = {
                "ms": statistics.median(r["ms"] for r in rows),
                "ms_rounds": [r["ms"] for r in rows],
                "ratio": statistics.median(r["ratio"] for r in rows),
                "others": max(r["other_cores"] for r in rows)}
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-commit", default="2d37bb6")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sizes", nargs="+", default=["250x333", "512x512"])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "speed_unchanged.json"))
    args = parser.parse_args(argv)
    old = outputs_unchanged.archive(args.old_commit, ROOT)
    vgg = outputs_sets.make_vgg(old, outputs_sets.run_env(outputs_sets.install(old)[1],
                                                          outputs_sets.ROOT / "cache"))
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for round_ in range(1, args.rounds + 1):
        for label, tree in (("old", old), ("new", ROOT)):
            runs[label].append(measure(label, tree, vgg, args, round_))
            print(f"{label} round {round_}: " + ", ".join(
                f"{s['size']} {s['ms']:.0f} ms" for s in runs[label][-1]["sizes"]), flush=True)
    stored = {"old": args.old_commit, "commit": machine.head_commit(), "steps": args.steps,
              "repeats": args.repeats, "rounds": args.rounds, "cpu": machine.cpu_name(),
              "sizes": summary(runs)}
    Path(args.json).write_text(json.dumps(stored, indent=1) + "\n")
    print(json.dumps(stored))
    return 0


if __name__ == "__main__":
    sys.exit(main())
