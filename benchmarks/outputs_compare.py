"""The comparison of two sets of ``outputs_unchanged.py``, item by item.

Every run folder of one set against the other's: the names of the files it wrote, then the
pixels of every PNG (but the loss curve, whose x axis is wall time), every CSV cell and JSON
value but the wall-time ones. ``compare`` lists the items and ``report`` prints them.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import imageio.v3 as iio
import numpy as np

# Columns and keys that hold wall time: losses.csv, frames.csv and a video's metrics.json.
WALL_TIME = {"seconds", "flow_seconds", "seconds_per_frame", "flow_share"}
# The loss curve's second panel is drawn against wall time, and the MP4 is ffmpeg's encoding of
# the frames compared: their names alone are compared, as are TensorFlow's binaries.
NAMES_ONLY = ("loss_curve.png", "video.mp4")


@dataclasses.dataclass(frozen=True)
class Item:
    """One compared thing: a file, or a run's set of file names; ``notes`` say how it differs."""
    path: str
    notes: tuple[str, ...] = ()

    @property
    def same(self) -> bool:
        return not self.notes


def run_files(folder: Path) -> list[str]:
    """Every file under a run folder, relative, with event files' time and host dropped."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        found.append(name.split("events.out.tfevents.")[0] + "events.out.tfevents.*"
                     if "events.out.tfevents." in name else name)
    return found


def relative(a, b) -> str:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return ""
    return f" (relative difference {abs(a - b) / max(abs(a), abs(b), 1e-300):.3g})"


def equal(a, b) -> bool:
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return both_nan or (a == b and type(a) is type(b))


def compare_json(a, b, where: str = "") -> Iterator[str]:
    """Where two JSON values differ, wall-time keys left out."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in WALL_TIME:
                continue
            if key not in a or key not in b:
                yield f"{where}{key}: only in {'A' if key in a else 'B'}"
            else:
                yield from compare_json(a[key], b[key], f"{where}{key}.")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b)):
            yield from compare_json(x, y, f"{where}[{index}].")
    elif not equal(a, b):
        yield f"{where.rstrip('.')}: {a!r} vs {b!r}{relative(a, b)}"


def compare_csv(a: Path, b: Path) -> Iterator[str]:
    """Where two CSV files differ, cell by cell, wall-time columns left out."""
    rows = [list(csv.reader(path.open(newline=""))) for path in (a, b)]
    if not rows[0] or not rows[1] or rows[0][0] != rows[1][0]:
        yield f"columns differ: {rows[0][:1]} vs {rows[1][:1]}"
        return
    header = rows[0][0]
    if len(rows[0]) != len(rows[1]):
        yield f"{len(rows[0]) - 1} rows vs {len(rows[1]) - 1}"
    for number, (x, y) in enumerate(zip(rows[0][1:], rows[1][1:]), start=1):
        for column, u, v in zip(header, x, y):
            if column not in WALL_TIME and u != v:
                yield f"row {number} column {column}: {u} vs {v}{relative(u, v)}"


def compare_png(a: Path, b: Path) -> Iterator[str]:
    x, y = iio.imread(a), iio.imread(b)
    if x.shape != y.shape or x.dtype != y.dtype:
        yield f"shape {x.shape} {x.dtype} vs {y.shape} {y.dtype}"
    elif not np.array_equal(x, y):
        gap = np.abs(x.astype(np.int64) - y.astype(np.int64))
        yield f"{np.count_nonzero(gap)} of {gap.size} values differ, by up to {gap.max()}"


def normalised(value, root: str):
    """A JSON value with the set's folder written as <out>, so that output paths compare."""
    if isinstance(value, str):
        return value.replace(root, "<out>")
    if isinstance(value, dict):
        return {k: normalised(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, root) for v in value]
    return value


def compare_file(a: Path, b: Path, roots: tuple[str, str]) -> Iterator[str]:
    if a.suffix == ".png":
        yield from compare_png(a, b)
    elif a.suffix == ".csv":
        yield from compare_csv(a, b)
    elif a.suffix == ".json":
        yield from compare_json(*(normalised(json.loads(p.read_text()), root)
                                  for p, root in zip((a, b), roots)))


def compared(name: str) -> bool:
    """Whether a file's contents are compared (else only its name): the pictures, tables and
    JSON (a checkpoint folder's ended.json too), not TensorFlow's binaries."""
    return Path(name).suffix in (".png", ".csv", ".json") and Path(name).name not in NAMES_ONLY


def saved_record(root: Path) -> dict | None:
    """A set's run.json, None when it has none."""
    path = root / "run.json"
    return json.loads(path.read_text()) if path.exists() else None


def record_notes(records: Sequence[dict | None]) -> Iterator[str]:
    """What the sets' run.json say against comparing them: failed runs, other thread counts."""
    for label, record in zip("AB", records):
        if record is None:
            yield f"{label} has no run.json"
        elif record["failed"]:
            yield f"runs that failed in {label}: {', '.join(record['failed'])}"
    if None not in records and records[0]["threads"] != records[1]["threads"]:
        yield (f"intra-op threads {records[0]['threads']} vs {records[1]['threads']}: results "
               f"may differ by that alone")


def compare(a: Path, b: Path) -> list[Item]:
    """Every run folder of set ``a`` against ``b``: its file names, then each file compared."""
    a, b = a.resolve(), b.resolve()
    records = [saved_record(root) for root in (a, b)]
    items = [Item("run.json (threads, failed runs)", tuple(record_notes(records)))]
    # The folder a set was made in, which its config.json files name, even if moved since.
    roots = tuple(r["out"] if r and "out" in r else str(root) for r, root in zip(records, (a, b)))
    folders = [sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[0] != ".")
               for root in (a, b)]
    if not folders[0] and not folders[1]:
        items.append(Item("run folders", ("neither set has any",)))
    for name in sorted(set(folders[0]) | set(folders[1])):
        if name not in folders[0] or name not in folders[1]:
            items.append(Item(name, (f"only in {'A' if name in folders[0] else 'B'}",)))
            continue
        names = [run_files(root / name) for root in (a, b)]
        gone, new = sorted(set(names[0]) - set(names[1])), sorted(set(names[1]) - set(names[0]))
        items.append(Item(f"{name}/ (file names)",
                          tuple(f"only in A: {n}" for n in gone) +
                          tuple(f"only in B: {n}" for n in new)))
        for file in sorted(set(names[0]) & set(names[1])):
            if compared(file):
                notes = compare_file(a / name / file, b / name / file, roots)
                items.append(Item(f"{name}/{file}", tuple(notes)))
    return items


def report(items: Sequence[Item], say=print, most: int = 20) -> tuple[int, int]:
    """One line per item (at most ``most`` notes under a differing one), then the summary."""
    for item in items:
        say(f"{'identical' if item.same else 'DIFFERS  '}  {item.path}")
        for note in item.notes[:most]:
            say(f"    {item.path}: {note}")
        if len(item.notes) > most:
            say(f"    ... and {len(item.notes) - most} more")
    differ = sum(not item.same for item in items)
    say(f"{len(items) - differ} identical, {differ} differ")
    return len(items) - differ, differ
