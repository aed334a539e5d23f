"""One content image stylised into one output folder: the shell around the engine's records.

``stylise`` decides between resuming and starting fresh (``RunDir.prepare`` against the run's
identity), consumes the :mod:`~style_transfer.optimise.engine`'s records, and does everything a
person sees: one progress line per logged step, the step images, ``losses.csv``, the loss curve (at
every checkpoint and at the end), ``result.png`` (with the content's colours under
``preserve_colors``), the contact sheet and ``metrics.json``; under ``--content-mask auto``, the
masks it made, when the run starts. After SIGINT or SIGTERM it has the engine checkpoint where
it stands and returns 130 or 143 (``stops``); a file that cannot be written is an
``OutputError``. ``identity`` builds what must match for a rerun to resume; the
CLI calls ``stylise`` once per content image with one engine for all.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from tf1cnn.common import exits, files, images, runtime, stops
from tf1cnn.common.errors import OutputError

from ..config import INITS, StyleConfig, complete_settings
from ..control.inputs import Inputs
from ..network import download, vgg
from ..optimise import engine
from ..optimise.records import LevelStart, Progress, Schedule, is_logged
from ..optimise.stopping import StopRules
from . import metrics, report
from .rundir import RunDir


@dataclasses.dataclass(frozen=True)
class Job:
    config: StyleConfig  # with this image's content path and output folder
    inputs: Inputs  # the content, styles, controls and start, read and checked
    identity: dict  # what must match for a rerun to resume: see ``identity``


def identity(config: StyleConfig, weights_sha256: str) -> dict:
    """The settings that define a run, with the contents of its input files by hash."""
    found = dict(config.run_settings(),
                 style_sha256=[download.file_sha256(path) for path in config.style],
                 weights_sha256=weights_sha256)
    if config.content:
        found["content_sha256"] = download.file_sha256(config.content)
    if config.init not in INITS:
        found["init_sha256"] = download.file_sha256(config.init)
    if config.auto_regions():  # made from the pictures hashed above, by a fixed rule
        found["content_mask"] = f"auto:{config.auto_regions()}"
    for name in ("content_mask", "style_mask", "coarse_style"):
        paths = getattr(config, name)
        if paths and not (name == "content_mask" and config.auto_regions()):
            found[name + "_sha256"] = download.file_sha256(paths) if isinstance(paths, str) \
                else [download.file_sha256(path) for path in paths]
    return found


def settle_precision(config: StyleConfig, identity: dict, out: RunDir
                     ) -> tuple[StyleConfig, dict]:
    """``config`` and its ``identity`` with a concrete precision. "auto" takes the precision
    of the run saved in ``out`` where that run would resume with it (a resumed run keeps its
    own, even on another processor), else ``runtime.resolve_precision``'s answer for this
    processor; a precision given as such stays, and a saved run in the other one is archived
    as any changed setting is."""
    if config.precision != "auto":
        return config, identity
    kept = [precision for precision in vgg.PRECISIONS
            if out.matches(dict(identity, precision=precision), complete_settings)]
    precision = kept[0] if kept else runtime.resolve_precision("auto")
    return dataclasses.replace(config, precision=precision), dict(identity, precision=precision)


def stylise(style_engine: engine.Engine, job: Job, say: Callable[[str], None] = print,
            schedule: Schedule = is_logged) -> int:
    """Optimise ``job`` into ``job.config.output_dir``; return 0, or 130/143 after SIGINT or
    SIGTERM (checkpoint and current image saved). ``schedule(step, iterations)`` picks the
    steps that get a progress line and an image. OutputError when a file cannot be written;
    every file written before stays whole (the writes are atomic)."""
    try:
        return _stylise(style_engine, job, say, schedule)
    except OSError as exc:
        folder = os.path.dirname(exc.filename) if exc.filename else job.config.output_dir
        raise OutputError(f"cannot write to {folder or '.'} ({exc.strerror or exc}); the files "
                          f"and checkpoint written before are kept: make room or fix the "
                          f"folder, then rerun to resume") from None


def _stylise(style_engine: engine.Engine, job: Job, say: Callable[[str], None],
             schedule: Schedule) -> int:
    config = job.config
    out = RunDir(config.output_dir)
    levels = config.levels()
    folders = [out.level(c.height, c.width) for c in levels[:-1]] + [out]
    resume, reason = out.prepare(job.identity, complete_settings)
    history = out.history() if resume else []
    run = style_engine.run(job.inputs, folders, resume)
    for note in job.inputs.notes:
        say(f"note: {note}")
    result, seconds, started, last_losses = None, 0.0, False, None
    try:
        for record in run.records(schedule):
            if isinstance(record, LevelStart):
                folders[record.level].check_writable()
                say(start_line(record, reason, first=not started))
                if not started:  # only now: a failed resume must leave the folder as it was
                    out.save_settings(dataclasses.asdict(config), job.identity)
                    if job.inputs.masks:
                        say(write_masks(job.inputs.masks, config, out))
                    started = True
                history = trim(history, levels, record.level, record.resumed_at or 0)
                seconds = history[-1]["seconds"] if history else 0.0
            elif isinstance(record, Progress):
                seconds += record.seconds
                history.append(row(levels, record, seconds))
                say(progress_line(record, levels))
                images.write_png(folders[record.level].step_image(record.step), record.image)
                last = record.level == record.levels - 1 and (
                    record.step >= record.iterations or record.stopped)
                if record.checkpointed and not last:  # the end draws it anyway
                    out.save_history(history)
                    images.write_png(out.loss_curve, report.loss_curve(history))
                if record.stopped:
                    say(f"stopped at step {record.step}: {record.stopped}")
            else:
                result, last_losses = record.image, record.losses
            record = None  # its image is not held through the next step (400 MB at 8K)
    except KeyboardInterrupt as stop:  # Ctrl-C, or a signal through stops.graceful
        saved = run.save()
        if saved is None:
            print("interrupted before the first step; nothing to save", file=sys.stderr,
                  flush=True)
            return stops.exit_code(stop)
        step, image = saved
        images.write_png(folders[run.level].step_image(step), image)
        out.save_history(history)
        print(f"interrupted at step {step}: checkpoint and image saved; rerun to resume",
              file=sys.stderr, flush=True)
        return stops.exit_code(stop)
    return _finish(job, out, result, last_losses, history, say)


def write_masks(made: Sequence[np.ndarray], config: StyleConfig, out: RunDir) -> str:
    """Write the masks of ``--content-mask auto`` (the content's, then each style picture's)
    into ``out``; the line that says how to edit and pass them back."""
    images.write_png(out.content_mask, made[0])
    for index, mask in enumerate(made[1:]):
        images.write_png(out.style_mask(index), mask)
    regions = " ".join(f"{colour}={index + 1}" for colour, index in config.region_styles())
    styles = " ".join(map(out.style_mask, range(len(made) - 1)))
    return (f"masks: {out.content_mask} {styles}; to edit them and pass them back instead of "
            f"auto (a later auto run here rewrites them): --content-mask {out.content_mask} "
            f"--style-mask {styles} --region-style {regions}")


def _finish(job: Job, out: RunDir, result: np.ndarray, last_losses: dict,
            history: list[dict], say: Callable[[str], None]) -> int:
    """The files of a run that ended: the result, losses.csv, the loss curve, the contact
    sheet and metrics.json."""
    config, content = job.config, job.inputs.content
    if config.preserve_colors:
        result = images.preserve_colors(images.fit(content, config.height, config.width),
                                        result)
    pixels = images.to_uint8(result)  # once, for the file and the sheet
    images.write_png(out.result, pixels)
    out.save_history(history)
    if history:
        images.write_png(out.loss_curve, report.loss_curve(history))
    images.write_png(out.contact_sheet, report.contact_sheet(
        [content, *job.inputs.styles, pixels], min(config.height, 512)))
    del pixels
    found = measure(job, result, last_losses)
    files.write_json(out.metrics, found)
    say("metrics: " + " ".join(f"{k}={v:.6g}" if isinstance(v, float) else
                               f"{k}={','.join(f'{x:.4g}' for x in v)}"
                               for k, v in found.items()))
    say(f"done: {out.result}")
    return exits.OK


def measure(job: Job, result: np.ndarray, losses: dict) -> dict:
    """``metrics.json``: ``losses``, those of the run's last step, then ``metrics.measures``
    of the result against the content and the style images as given, fitted to the result's
    size capped at ``metrics.MAX_PIXELS`` (where the measures are taken)."""
    config = job.config
    size = metrics.capped_size(config.height, config.width)
    fitted = [images.fit(picture, *size)
              for picture in (job.inputs.content, *job.inputs.styles)]
    found = {f"{name}_loss": float(value) for name, value in losses.items()}
    found.update(metrics.measures(metrics.capped(result), fitted[0], fitted[1:]))
    return found


def size(config: StyleConfig) -> str:
    return f"{config.height}x{config.width}"


def start_line(record: LevelStart, reason: str, first: bool) -> str:
    where = f" of level {record.level + 1}/{record.levels} ({record.height}x{record.width})" \
        if record.levels > 1 else ""
    if record.resumed_at is not None and record.ended:
        return (f"resuming at step {record.resumed_at}{where} ({reason}); the level had "
                f"stopped there ({record.ended})")
    if record.resumed_at is not None:
        return f"resuming at step {record.resumed_at}{where} ({reason})"
    if first:
        return f"starting fresh{where} ({reason})"
    return f"starting level {record.level + 1}/{record.levels} ({record.height}x{record.width})"


def trim(history: list[dict], levels: Sequence[StyleConfig], index: int, step: int) -> list[dict]:
    """The rows before ``levels[index]`` and of it up to ``step``: what a resumed run keeps."""
    earlier = {size(c) for c in levels[:index]}
    return [r for r in history
            if r["size"] in earlier or (r["size"] == size(levels[index]) and r["step"] <= step)]


def row(levels: Sequence[StyleConfig], record: Progress, seconds: float) -> dict:
    offset = sum(c.iterations for c in levels[:record.level])
    return {"size": f"{record.height}x{record.width}", "step": record.step,
            "global_step": offset + record.step, "evaluations": record.evaluations,
            "seconds": round(seconds, 3), **record.losses}


def progress_line(record: Progress, levels: Sequence[StyleConfig]) -> str:
    """``step=N/M pixel_sum= loss= content= style= time= ms_per_step= eta=``, then ``tv=``
    when it is weighted, ``temporal=`` for a video's frames, ``evals=`` for L-BFGS and
    ``size=`` with coarse-to-fine levels. The ETA (``remaining``) is ``eta_max=`` where a level
    may stop early."""
    level = levels[record.level]
    per_step = record.seconds_per_step
    eta, bound = remaining(record, levels)
    losses = record.losses
    line = (f"step={record.step}/{record.iterations} pixel_sum={record.pixel_sum:.1f} "
            f"loss={losses['total']:.6g} content={losses['content']:.6g} "
            f"style={losses['style']:.6g} time={record.seconds:.2f}s "
            f"ms_per_step={1000 * per_step:.0f} eta{'_max' if bound else ''}="
            f"{time.strftime('%H:%M:%S', time.gmtime(eta))}")
    if level.tv_weight > 0:
        line += f" tv={losses['tv']:.6g}"
    if "temporal" in losses:
        line += f" temporal={losses['temporal']:.6g}"
    if level.optimizer == "lbfgs":
        line += f" evals={record.evaluations}"
    if len(levels) > 1:
        line += f" size={record.height}x{record.width}"
    return line


def remaining(record: Progress, levels: Sequence[StyleConfig]) -> tuple[float, bool]:
    """(seconds, bound): the time left after ``record``, counting the later levels' steps at
    its speed scaled by their pixel counts; ``bound`` when the record's stop rules or a later
    level's (``StopRules.of_level``) may stop a level early, the time then being at most
    that."""
    per_step = record.seconds_per_step
    pixels = record.height * record.width
    eta = per_step * max(0, most_steps(levels, record.level) - record.step) + sum(
        per_step * most_steps(levels, k) * c.height * c.width / pixels
        for k, c in enumerate(levels) if k > record.level)
    bound = record.stops.may_end_early or any(
        StopRules.of_level(levels, k).may_end_early for k in range(record.level, len(levels)))
    return eta, bound


def most_steps(levels: Sequence[StyleConfig], index: int) -> int:
    """The most steps ``levels[index]`` takes: its iterations, and no more than its evaluation
    budget (a step is at least one evaluation), which only the levels below the full size have."""
    iterations, budget = levels[index].iterations, StopRules.of_level(levels, index).budget
    return min(iterations, budget) if budget > 0 else iterations
