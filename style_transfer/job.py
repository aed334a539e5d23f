"""One content image stylised into one output folder: levels, resume, files and progress lines.

``stylise`` is the imperative shell around :class:`~style_transfer.stylize.Stylizer`. It
decides between resuming and starting fresh (``RunDir.prepare``), runs the coarse-to-fine
levels (``StyleConfig.levels``: each starts from the previous one's image, Lanczos-upsampled;
a rerun resumes the finest level that has a checkpoint), and writes the step images,
``losses.csv``, the loss curve (at every checkpoint and at the end), ``result.png`` (with the
content's colours under ``preserve_colors``) and the contact sheet. It reports through ``say``,
one line per logged step. The CLI calls it once per content image, with the network's layers
read once.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from . import exits, images, report, runtime, stylize
from .config import StyleConfig
from .matconvnet import Layer
from .rundir import RunDir

def stylise(layers: Sequence[Layer], content: np.ndarray, styles: Sequence[np.ndarray],
            config: StyleConfig, out: RunDir, settings: dict, resolved: dict,
            init_picture: np.ndarray | None = None, say: Callable[[str], None] = print,
            schedule: Callable[[int, int], bool] = stylize.is_logged) -> int:
    """Optimise ``content`` (float RGB, any size) towards ``styles`` into ``out``; return 0,
    or 130 after Ctrl-C (checkpoint and current image saved). ``init_picture`` is the
    starting picture for ``init`` other than noise; ``resolved`` is saved as the config;
    ``schedule(step, iterations)`` picks the steps that get a progress line and image."""
    levels = config.levels()
    folders = [out.level(c.height, c.width) for c in levels[:-1]] + [out]
    resume, reason = out.prepare(settings)
    first = 0
    if resume:
        first = next((k for k in reversed(range(len(levels)))
                      if runtime.latest_checkpoint(folders[k].checkpoints)), 0)
    history = [row for row in out.history() if resume]
    previous = None
    for index in range(first, len(levels)):
        level, folder = levels[index], folders[index]
        if folder is not out:
            folder.check_writable()
        fitted = images.fit(content, level.height, level.width)
        style_size = stylize.scaled(level.height, level.width, config.style_scale)
        with stylize.Stylizer(layers, fitted, [images.fit(s, *style_size) for s in styles],
                              level, folder.checkpoints, folder.summaries) as run:
            step = run.resume() if resume and index == first else None
            where = f" of level {index + 1}/{len(levels)} ({size(level)})" \
                if len(levels) > 1 else ""
            if step is None:
                say(f"starting fresh{where} ({reason})" if index == first
                    else f"starting level {index + 1}/{len(levels)} ({size(level)})")
                if previous is not None:
                    picture = images.resize(previous, level.height, level.width)
                elif init_picture is not None:
                    picture = images.fit(init_picture, level.height, level.width)
                else:
                    picture = None
                run.start(stylize.initial_image(fitted, level, picture))
                step = 0
            else:
                say(f"resuming at step {step}{where} ({reason})")
            if index == first:  # only now: a failed resume must leave the folder as it was
                out.save_settings(resolved, settings)
            history = trim(history, levels, index, step)
            offset = sum(c.iterations for c in levels[:index])
            seconds = history[-1]["seconds"] if history else 0.0
            try:
                for record in run.steps(schedule):
                    seconds += record.seconds
                    history.append(row(level, record, offset, seconds))
                    say(progress_line(record, levels, index))
                    images.write_png(folder.step_image(record.step), record.image)
                    if record.checkpointed:
                        out.save_history(history)
                        images.write_png(out.loss_curve, report.loss_curve(history))
                    if record.stopped:
                        say(f"stopped at step {record.step}: {record.stopped}")
            except KeyboardInterrupt:
                run.save_checkpoint()
                step = run.step
                images.write_png(folder.step_image(step), run.current_image())
                out.save_history(history)
                print(f"interrupted at step {step}: checkpoint and image saved; rerun to resume",
                      file=sys.stderr, flush=True)
                return exits.INTERRUPTED
            previous = run.current_image()
    result = images.preserve_colors(images.fit(content, config.height, config.width), previous) \
        if config.preserve_colors else previous
    images.write_png(out.result, result)
    out.save_history(history)
    if history:
        images.write_png(out.loss_curve, report.loss_curve(history))
    images.write_png(out.contact_sheet, report.contact_sheet(
        [content, *styles, result], min(config.height, 512)))
    say(f"done: {out.result}")
    return 0


def size(config: StyleConfig) -> str:
    return f"{config.height}x{config.width}"


def trim(history: list[dict], levels: Sequence[StyleConfig], index: int, step: int) -> list[dict]:
    """The rows before ``levels[index]`` and of it up to ``step``: what a resumed run keeps."""
    earlier = {size(c) for c in levels[:index]}
    return [r for r in history
            if r["size"] in earlier or (r["size"] == size(levels[index]) and r["step"] <= step)]


def row(level: StyleConfig, record: stylize.Progress, offset: int, seconds: float) -> dict:
    return {"size": size(level), "step": record.step, "global_step": offset + record.step,
            "evaluations": record.evaluations, "seconds": round(seconds, 3),
            "total": record.total_loss, "content": record.content_loss,
            "style": record.style_loss, "tv": record.tv_loss}


def progress_line(record: stylize.Progress, levels: Sequence[StyleConfig] = (),
                  index: int = 0) -> str:
    """``step=N/M pixel_sum= loss= content= style= time= ms_per_step= eta=``, then ``tv=``
    when it is weighted, ``evals=`` for L-BFGS and ``size=`` with coarse-to-fine levels. The
    ETA counts the later levels' steps at this one's speed scaled by their pixel counts."""
    per_step = record.seconds / max(record.steps_timed, 1)
    eta = per_step * (record.iterations - record.step)
    if levels:
        pixels = levels[index].height * levels[index].width
        eta += sum(per_step * c.iterations * c.height * c.width / pixels
                   for c in levels[index + 1:])
    line = (f"step={record.step}/{record.iterations} pixel_sum={record.pixel_sum:.1f} "
            f"loss={record.total_loss:.6g} content={record.content_loss:.6g} "
            f"style={record.style_loss:.6g} time={record.seconds:.2f}s "
            f"ms_per_step={1000 * per_step:.0f} eta={time.strftime('%H:%M:%S', time.gmtime(eta))}")
    if levels and levels[index].tv_weight > 0:
        line += f" tv={record.tv_loss:.6g}"
    if levels and levels[index].optimizer == "lbfgs":
        line += f" evals={record.evaluations}"
    if len(levels) > 1:
        line += f" size={size(levels[index])}"
    return line
