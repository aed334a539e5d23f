"""Command line for style transfer: ``tf1cnn-style --content PATH --style PATH [options]``.

Every ``StyleConfig`` field is an option, with the 2019 tutorial's value as its default. With no
paths it stylises the bundled sample images; ``--content-dir`` stylises a folder of images, and
``--video`` a video file or folder of frames (:mod:`~style_transfer.shell.video_job`). Bad input
gets one line on stderr and exit status 2; Ctrl-C saves a checkpoint and the current image,
then exits with 130. Rerunning the same command resumes from the last checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import sys
from collections.abc import Sequence

from tf1cnn.common import exits, options, runtime, stops
from tf1cnn.common.errors import UsageError
from tf1cnn.common.samples import SAMPLE_CONTENT, SAMPLE_STYLE, sample

from ..config import FAST, StyleConfig, parse_size

DESCRIPTION = ("Gatys neural style transfer in TF1 graph mode, as in the 2019 tutorial. "
               "Rerun the same command to resume from the last checkpoint.")


def build_parser() -> options.ConfigParser:
    return options.ConfigParser(
        StyleConfig, presets={"fast": ("the tutorial's quality in a fraction of its time, each "
                                       "level stopping by itself", FAST)},
        prog="tf1cnn-style", description=DESCRIPTION)


def main(argv: Sequence[str] | None = None) -> int:
    return options.guarded(lambda: run(build_parser().parse_config(argv)))


def run(config: StyleConfig) -> int:
    """Check everything, then optimise each content image, printing one line per logged step.
    SIGINT and SIGTERM stop it gracefully, whatever the parent process left them as."""
    try:
        with stops.graceful():
            return _run(config)
    except KeyboardInterrupt as stop:  # before a run began: there is nothing to save yet
        print("interrupted before the optimisation began; nothing to save", file=sys.stderr,
              flush=True)
        return stops.exit_code(stop)


def _run(config: StyleConfig) -> int:
    config.check()
    config = dataclasses.replace(config, style=config.style or (sample(SAMPLE_STYLE),))
    if config.video:
        return _run_video(config)
    contents = content_files(config)
    runtime.import_tensorflow()
    from ..control import inputs
    from ..objective import memory
    from ..optimise import engine
    from . import job
    from .rundir import RunDir

    outs = [config.output_dir if not config.content_dir else
            os.path.join(config.output_dir, pathlib.Path(path).stem) for path in contents]
    for out in outs:
        RunDir(out).check_writable()
    batch = inputs.read(config, contents)  # every input checked before the long part
    network, levels, tiles = _network(config)
    layers = network.layers
    for index, (level, size) in enumerate(zip(levels, tiles)):
        if size:
            print(f"memory: level {index + 1}/{len(levels)}, "
                  + memory.describe(layers, level, size), flush=True)
    with engine.Engine(layers, config, tiles) as style_engine:
        for index, (path, out, found) in enumerate(zip(contents, outs, batch)):
            if len(contents) > 1:
                print(f"content {index + 1}/{len(contents)}: {path} -> {out}", flush=True)
            item = dataclasses.replace(config, content=path, output_dir=out, vgg=network.source)
            print("config: " + json.dumps(dataclasses.asdict(item)), flush=True)
            status = job.stylise(style_engine, job.Job(item, found,
                                                       job.identity(item, network.sha256)),
                                 say=lambda line: print(line, flush=True))
            if status:
                return status
    return exits.OK


def _run_video(config: StyleConfig) -> int:
    """Check the clip, the styles and the output folder, then stylise the clip's frames."""
    from ..video import clips, optional
    from .rundir import RunDir

    optional.video_module("cv2")  # the optical flow's, before anything is read
    clip = clips.open_clip(config.video, config.first_frame, config.last_frame, config.fps)
    RunDir(config.output_dir).check_writable()
    runtime.import_tensorflow()
    from tf1cnn.common import images

    from ..control import inputs
    from ..objective import memory
    from ..optimise import engine
    from ..video import frames as video
    from . import job, video_job

    styles = [images.read_rgb(path, "style") for path in config.style]
    frames = clip.frames()
    _, first = next(frames)
    frames.close()  # stops the decoder
    inputs.prepare(config, first, styles)  # the checks; each frame prepares its own
    del first
    init_file = inputs.read_init(config)
    network, levels, tiles = _network(config)
    tiled = [k for k, size in enumerate(tiles) if size]
    if tiled:
        k = tiled[-1]
        raise UsageError(f"a video's frames are optimised in one pass, and "
                         f"{config.height}x{config.width} does not fit the memory budget "
                         f"(it would need {memory.describe(network.layers, levels[k], tiles[k])}"
                         f"); give a smaller --height and --width or more --max-memory")
    item = dataclasses.replace(config, vgg=network.source)
    print("config: " + json.dumps(dataclasses.asdict(item)), flush=True)
    identity = dict(job.identity(item, network.sha256), video_sha256=clip.sha256())
    with engine.Engine(network.layers, item, tiles, terms=video.terms) as style_engine:
        return video_job.stylise_clip(style_engine, item, clip, styles, init_file, identity,
                                      say=lambda line: print(line, flush=True))


def _network(config: StyleConfig) -> tuple:
    """After the inputs are checked: (the VGG weights, the config's levels, each level's tile
    size or None for one pass)."""
    from ..network import weights
    from ..objective import memory

    network = weights.load(config.vgg, (config.content_layer, *config.style_layers))
    levels = config.levels()
    tiles = memory.plan(network.layers, levels,
                        parse_size(config.max_memory) if config.max_memory else None)
    return network, levels, tiles


def content_files(config: StyleConfig) -> list[str]:
    """The content image, or the images of ``content_dir`` sorted by name (batch mode)."""
    from tf1cnn.common.images import IMAGE_SUFFIXES
    if not config.content_dir:
        return [config.content or sample(SAMPLE_CONTENT)]
    folder = pathlib.Path(config.content_dir)
    if not folder.is_dir():
        raise UsageError(f"--content-dir {folder} is not a folder")
    found = sorted(str(p) for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise UsageError(f"--content-dir {folder} holds no image files "
                         f"({', '.join(IMAGE_SUFFIXES)})")
    stems = [pathlib.Path(p).stem for p in found]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise UsageError(f"--content-dir {folder} has several images named "
                         f"{', '.join(clashes)}: each needs its own output folder; rename them")
    return found
