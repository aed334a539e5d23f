"""Prove that a change to the code left every style-transfer output bit-identical.

It runs one fixed set of small, seeded ``scripts/style_transfer.py`` runs (Adam, ``--fast``,
L-BFGS coarse-to-fine, a tiled level, luminance control, two masked regions, a 4-frame video
and a batch of 3) with the code of one source tree, then compares two such sets: the pixels of
every PNG (but the loss curve, whose x axis is wall time), every CSV cell and JSON value but
the wall-time ones, and the names of every file a run wrote. One command does it all, the
baseline coming from ``git archive`` of the old commit (never a checkout of this worktree)::

    .venv/bin/python benchmarks/outputs_unchanged.py both --old-commit 2d37bb6

It reuses the baseline in ``/tmp/outputs_unchanged/old`` when that was made from the same
files, runs this worktree into ``/tmp/outputs_unchanged/new``, prints one line per compared
item and ``N identical, M differ``, writes ``benchmarks/outputs_unchanged.json``, and exits 0
only when all is identical. ``run --tree DIR --out OUT`` makes one set and ``compare A B``
compares two. How a set is made, each tree installed apart and its runs checked to import
nothing else, is ``outputs_sets.py``; how two are compared, ``outputs_compare.py``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from outputs_compare import compare, report
from outputs_sets import ROOT, THREADS, run_set, tree_key

REPO = Path(__file__).resolve().parents[1]


def archive(commit: str, repo: Path) -> Path:
    """``git archive`` of ``commit`` unpacked under ROOT/commits (the worktree is not touched)."""
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", commit + "^{commit}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    folder, done = ROOT / "commits" / sha, ROOT / "commits" / f"{sha}.complete"
    if not done.exists():  # the mark lies beside the tree: it would change the tree's key
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        tar = subprocess.run(["git", "-C", str(repo), "archive", sha], capture_output=True,
                             check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=tar, check=True)
        done.write_text(sha + "\n")
    return folder


def baseline(tree: Path, out: Path, vgg: Path | None, say=print) -> dict:
    """The old set in ``out``: reused when it was made from a tree with these files."""
    saved = out / "run.json"
    if saved.exists():
        record = json.loads(saved.read_text())
        if record["key"] == tree_key(tree) and record["threads"] == THREADS \
                and not record["failed"]:
            say(f"reusing the baseline {out} (key {record['key']})")
            return record
        raise SystemExit(f"{out} holds a set of another tree or with failed runs; move it away")
    return run_set(tree, out, vgg, say=say)


def both(commit: str, new_tree: Path, out: Path, vgg: Path | None, summary: Path,
         say=print) -> int:
    old_tree = archive(commit, REPO)
    old = baseline(old_tree, out / "old", vgg, say)
    if (out / "new" / "run.json").exists():  # this tool's own earlier set
        shutil.rmtree(out / "new")
    new = run_set(new_tree, out / "new", Path(old["vgg"]), say=say)
    lines = []
    same, differ = report(compare(out / "old", out / "new"), say=lambda line: (
        say(line), lines.append(line)))
    failed = old["failed"] + new["failed"]
    result = {"old_commit": commit, "old_key": old["key"], "new_tree": str(new_tree),
              "new_key": new["key"], "identical": same, "differ": differ, "failed": failed,
              "seconds": {"old": old["seconds"], "new": new["seconds"]},
              "runs": {name: r["options"] for name, r in new["runs"].items()},
              "differences": [line.strip() for line in lines if line.startswith("    ")]}
    summary.write_text(json.dumps(result, indent=2) + "\n")
    say(f"summary: {summary}")
    return 0 if not differ and not failed and same else 1


# ------------------------------------------------------------------------------------ shell

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run", help="run the fixed set with a tree's code")
    one.add_argument("--tree", type=Path, required=True, help="source tree (pyproject.toml)")
    one.add_argument("--out", type=Path, required=True, help="folder for the run folders")
    one.add_argument("--vgg", type=Path, help=f"VGG .mat (default: built in {ROOT}/vgg)")
    one.add_argument("--threads", type=int, default=THREADS,
                     help="TensorFlow's intra-op threads; 0: its default, one per core")
    two = commands.add_parser("compare", help="compare two sets; exit 0 only if identical")
    two.add_argument("a", type=Path)
    two.add_argument("b", type=Path)
    full = commands.add_parser("both", help="run an old commit and a tree, then compare")
    full.add_argument("--old-commit", required=True)
    full.add_argument("--new-tree", type=Path, default=REPO)
    full.add_argument("--out", type=Path, default=ROOT, help="holds old/ (reused) and new/")
    full.add_argument("--vgg", type=Path)
    full.add_argument("--json", type=Path, default=Path(__file__).with_suffix(".json"))
    args = parser.parse_args(argv)
    if args.command == "run":
        return 1 if run_set(args.tree, args.out, args.vgg, args.threads)["failed"] else 0
    if args.command == "compare":
        same, differ = report(compare(args.a, args.b))
        return 0 if same and not differ else 1
    return both(args.old_commit, args.new_tree.resolve(), args.out.resolve(), args.vgg,
                args.json)


if __name__ == "__main__":
    sys.exit(main())
