"""A video stylised into one output folder: the shell around
:class:`~style_transfer.video.frames.ClipRun`.

``stylise_clip`` decides between resuming and starting fresh (``RunDir.prepare`` against the
run's identity: a changed setting moves the earlier run to ``archive/``), finds the first
frame not yet written, consumes the records and does everything a person sees:

* a line per frame as it starts and as it ends (with the clip's ETA), and the engine's
  progress line per logged step, prefixed with the frame (``eta_clip=`` the whole clip);
* ``frames/frame_NNNNN.png`` per frame, ``frames.csv`` (per frame: wall and flow seconds,
  steps, evaluations, losses, the temporal warping error and the share of consistent pixels);
* at the end, ``video.mp4`` at the clip's frame rate (or ``fps``) and ``metrics.json`` with the
  means, printed as a summary.

After SIGINT or SIGTERM the frame in progress is checkpointed and it returns 130 or 143; a
rerun continues at that frame, from that step.
"""
from __future__ import annotations

import csv
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from tf1cnn.common import exits, files, images, stops
from tf1cnn.common.errors import OutputError

from ..config import StyleConfig, complete_settings
from ..optimise import engine
from ..optimise.records import LevelStart, Progress, Schedule, is_logged
from ..video import clips
from ..video import frames as video
from . import job
from .rundir import FRAME_HISTORY, FRAMES, VIDEO, RunDir

COLUMNS = ("frame", "seconds", "flow_seconds", "steps", "evaluations", "total", "content",
           "style", "tv", "temporal", "freed_style", "warping_error", "consistent")
COUNTS = ("frame", "steps", "evaluations")  # the columns that hold whole numbers


def frame_path(output_dir: str, number: int) -> str:
    return os.path.join(output_dir, FRAMES, clips.frame_name(number))


def written_frames(output_dir: str, clip: clips.Clip) -> int:
    """How many of the clip's frames, from its first on, are written already."""
    done = 0
    while clip.first + done <= clip.last and os.path.exists(
            frame_path(output_dir, clip.first + done)):
        done += 1
    return done


def read_rows(output_dir: str, before: int) -> list[dict]:
    """The rows of frames.csv for the frames before ``before``; [] when there is none."""
    try:
        with open(os.path.join(output_dir, FRAME_HISTORY), newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        return []
    return [{k: int(v) if k in COUNTS else float(v) if v else math.nan for k, v in row.items()}
            for row in rows if int(row["frame"]) < before]


def write_rows(output_dir: str, rows: Sequence[dict]) -> None:
    with files.atomic_write(os.path.join(output_dir, FRAME_HISTORY)) as handle:
        writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def row(record: video.FrameEnd) -> dict:
    found = {"frame": record.number, "seconds": round(record.seconds, 3),
             "flow_seconds": round(record.flow_seconds, 3), "steps": record.steps,
             "evaluations": record.evaluations, "warping_error": record.warping_error,
             "consistent": record.consistent}
    found.update({k: v for k, v in record.losses.items() if k in COLUMNS})
    return found


def summary(rows: Sequence[dict]) -> dict:
    """``metrics.json``: the frames' count and means; the warping error and the temporal loss
    over the frames after the first; the flow's share of the wall time."""
    def mean(name, later=False):
        values = [float(r[name]) for r in rows[1 if later else 0:]
                  if r.get(name) not in (None, "") and not math.isnan(float(r[name]))]
        return float(np.mean(values)) if values else math.nan
    seconds = sum(float(r["seconds"]) for r in rows)
    flow_seconds = sum(float(r["flow_seconds"]) for r in rows)
    return {"frames": len(rows), "mean_warping_error": mean("warping_error", later=True),
            "mean_style_loss": mean("style"), "mean_content_loss": mean("content"),
            "mean_temporal_loss": mean("temporal", later=True),
            "seconds_per_frame": seconds / len(rows) if rows else math.nan,
            "flow_share": flow_seconds / seconds if seconds else math.nan}


def stylise_clip(style_engine: engine.Engine, config: StyleConfig, clip: clips.Clip,
                 styles: Sequence[np.ndarray], init_file: np.ndarray | None, identity: dict,
                 say: Callable[[str], None] = print,
                 schedule: Schedule = is_logged) -> int:
    """Stylise ``clip`` into ``config.output_dir``; 0, or 130/143 after SIGINT or SIGTERM (the
    frame in progress checkpointed). OutputError when a file cannot be written; every file
    written before stays whole."""
    try:
        return _stylise_clip(style_engine, config, clip, styles, init_file, identity, say,
                             schedule)
    except OSError as exc:
        folder = os.path.dirname(exc.filename) if exc.filename else config.output_dir
        raise OutputError(f"cannot write to {folder or '.'} ({exc.strerror or exc}); the frames "
                          f"and checkpoint written before are kept: make room or fix the "
                          f"folder, then rerun to resume") from None


def _stylise_clip(style_engine, config, clip, styles, init_file, identity, say,
                  schedule) -> int:
    out = RunDir(config.output_dir)
    out.check_writable()
    resume, reason = out.prepare(identity, complete_settings)
    # A resumed clip keeps the frame target it was made with unless one is given.
    config = config.settled(out.saved_config() if resume else None)
    done = written_frames(out.path, clip) if resume else 0
    start = clip.first + done
    rows = read_rows(out.path, start) if resume else []
    say(f"video: {clip.source}, frames {clip.first}-{clip.last} ({clip.count}) at "
        f"{clip.height}x{clip.width}, {clip.fps:g} fps -> {config.height}x{config.width}")
    if start <= clip.last:
        state = "resuming" if resume else "starting fresh"
        say(f"{state} at frame {start} ({done} of {clip.count} written; {reason})")
        os.makedirs(os.path.join(out.path, FRAMES), exist_ok=True)
        out.save_settings(dataclasses.asdict(config), identity)
        previous = images.to_uint8(images.read_rgb(frame_path(out.path, start - 1))) \
            if start > clip.first else None
        status = _frames(style_engine, config, clip, styles, init_file, out, start, previous,
                         resume, rows, say, schedule)
        if status:
            return status
    else:
        say(f"all {clip.count} frames are written already ({reason})")
        rows = read_rows(out.path, clip.last + 1)
    fps = config.fps or clip.fps
    notes = clips.write_mp4(os.path.join(out.path, VIDEO),
                            (images.read_rgb(frame_path(out.path, n))
                             for n in range(clip.first, clip.last + 1)), fps)
    for note in notes:
        say(f"note: {note}")
    found = summary(rows)
    files.write_json(out.metrics, found)
    say("summary: " + " ".join(f"{k}={v:.6g}" for k, v in found.items()))
    say(f"done: {os.path.join(out.path, VIDEO)} ({clip.count} frames at {fps:g} fps)")
    return exits.OK


def _frames(style_engine, config, clip, styles, init_file, out, start, previous, resume, rows,
            say, schedule) -> int:
    runner = video.ClipRun(style_engine, config, clip, styles, init_file)
    # A later frame's levels: a warm one runs the last only, for frame_iterations.
    later = [*config.levels()[:-1],
             dataclasses.replace(config, iterations=config.later_frames())]
    levels, frame, timed = config.levels(), None, []
    first = rows[0] if rows and rows[0]["frame"] == clip.first else None
    try:
        for record in runner.records(start, previous, resume, schedule, first):
            if isinstance(record, video.FrameStart):
                frame = record
                levels = config.levels() if record.index == 0 else later
                start_of = "the previous result, warped" if record.warm else \
                    f"--init {config.init}"
                say(f"frame {record.number} ({record.index + 1}/{record.count}): from "
                    f"{start_of}" + (f"; flow {record.flow_seconds:.2f}s" if record.index
                                     else "")
                    + (f"; stops at content+style {record.stops.target:.6g}"
                       if record.stops.target is not None else ""))
            elif isinstance(record, LevelStart):
                if record.resumed_at is not None:
                    say(f"frame {frame.number}: " + job.start_line(record, "checkpoint",
                                                                   first=True))
            elif isinstance(record, Progress):
                eta, bound = job.remaining(record, levels)  # bound: it may stop early
                eta += _per_frame(timed, record, config) * (frame.count - frame.index - 1)
                say(f"frame={frame.number}/{clip.last} "
                    + job.progress_line(record, levels)
                    + f" eta_clip{'_max' if bound else ''}="
                    + time.strftime('%H:%M:%S', time.gmtime(eta)))
            elif isinstance(record, video.FrameEnd):
                images.write_png(frame_path(out.path, record.number), record.image)
                rows.append(row(record))
                write_rows(out.path, rows)
                if record.index > 0:
                    timed.append(record.seconds)
                left = (frame.count - record.index - 1) * (np.median(timed) if timed else
                                                           record.seconds)
                say(f"frame {record.number} done in {record.seconds:.1f}s: steps={record.steps} "
                    f"evals={record.evaluations} "
                    + " ".join(f"{k}={v:.6g}" for k, v in record.losses.items()
                               if k != "tv" or config.tv_weight > 0)
                    + (f" warping_error={record.warping_error:.3f} "
                       f"consistent={record.consistent:.3f}" if record.index else "")
                    + f" eta_clip={time.strftime('%H:%M:%S', time.gmtime(left))}")
            record = None
    except KeyboardInterrupt as stop:
        return _interrupted(runner, out, rows, stop)
    return exits.OK


def _interrupted(runner: video.ClipRun, out: RunDir, rows: list[dict],
                 stop: KeyboardInterrupt) -> int:
    """After SIGINT or SIGTERM: the frame in progress checkpointed, frames.csv written."""
    saved = runner.save()
    write_rows(out.path, rows)
    if saved is None:
        print("interrupted before the frame's first step; the frames written are kept; "
              "rerun to resume", file=sys.stderr, flush=True)
        return stops.exit_code(stop)
    number, step, _ = saved
    print(f"interrupted at frame {number}, step {step}: checkpoint saved; rerun to resume",
          file=sys.stderr, flush=True)
    return stops.exit_code(stop)


def _per_frame(timed: Sequence[float], record: Progress, config: StyleConfig) -> float:
    """The seconds a later frame takes: the median of those done this session, else the
    record's time per step times a later frame's steps."""
    if timed:
        return float(np.median(timed))
    return record.seconds_per_step * config.later_frames()
