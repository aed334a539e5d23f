"""Command line for style transfer: ``tf1cnn-style --content PATH --style PATH [options]``.

Every ``StyleConfig`` field is an option, with the 2019 tutorial's value as its default. With no
paths it stylises the bundled sample images; ``--content-dir`` stylises a folder of images, and
``--video`` a video file or folder of frames (:mod:`~style_transfer.shell.video_job`). Bad input
gets one line on stderr and exit status 2; Ctrl-C saves a checkpoint and the current image,
then exits with 130. Rerunning the same command resumes from the last checkpoint.
``--network CHECKPOINT_DIR`` applies a trained feed-forward network instead, one forward pass
per picture, and ``--export-saved-model DIR`` exports it (:mod:`~style_transfer.shell.forward`).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
from collections.abc import Sequence

from tf1cnn.common import exits, options, runtime, stops
from tf1cnn.common.errors import UsageError
from tf1cnn.common.samples import SAMPLE_CONTENT, SAMPLE_STYLE, sample

from ..config import FAST, StyleConfig, complete_settings, parse_size

DESCRIPTION = ("Gatys neural style transfer in TF1 graph mode, as in the 2019 tutorial. "
               "Rerun the same command to resume from the last checkpoint.")


def build_parser() -> options.ConfigParser:
    parser = options.ConfigParser(
        StyleConfig, presets={"fast": (("the tutorial's quality in a fraction of its time, "
                                        "each level stopping by itself"), FAST)},
        prog="tf1cnn-style", description=DESCRIPTION)
    trained = parser.add_argument_group(
        "a trained feed-forward network (tf1cnn-cluster train --model style-net)")
    trained.add_argument(
        "--network", metavar="CHECKPOINT_DIR",
        help="stylise the content, each --content-dir image or each --video frame in one "
             "forward pass of the network checkpointed there (its newest checkpoint, or a "
             "DIR/model.ckpt-N prefix), at its own size unless --height/--width are given")
    trained.add_argument(
        "--export-saved-model", metavar="DIR",
        help="with --network: write the network as a SavedModel that loads with TensorFlow "
             "alone (tf.saved_model.load(DIR).stylise(images))")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return options.guarded(lambda: _dispatch(build_parser(), argv))


def _dispatch(parser: options.ConfigParser, argv: Sequence[str] | None) -> int:
    """An optimisation, or with --network or --export-saved-model a trained network's run."""
    config = parser.parse_config(argv)
    given = given_options(parser, argv)
    if "network" in given or "export_saved_model" in given:
        from . import forward

        return forward.run(config, given, lambda: content_files(config))
    return run(config)


def given_options(parser: options.ConfigParser, argv: Sequence[str] | None) -> dict:
    """The options on the command line, by field name, with their values (presets: True)."""
    unset = object()
    names = [f.name for f in dataclasses.fields(StyleConfig)] + [*parser.presets, "network",
                                                                 "export_saved_model"]
    parsed = parser.parse_args(argv, argparse.Namespace(**dict.fromkeys(names, unset)))
    return {name: value for name, value in vars(parsed).items() if value is not unset}


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
    from . import job
    from .rundir import RunDir

    outs = [config.output_dir if not config.content_dir else
            os.path.join(config.output_dir, pathlib.Path(path).stem) for path in contents]
    for out in outs:
        RunDir(out).check_writable()
    batch = inputs.read(config, contents)  # every input checked before the long part
    network = _weights(config)
    items = []  # (config, identity) per content image, each in its precision
    for path, out in zip(contents, outs):
        item = dataclasses.replace(config, content=path, output_dir=out, vgg=network.source)
        items.append(job.settle_precision(item, job.identity(item, network.sha256),
                                          RunDir(out)))
    plans = {precision: _plan(config, network, precision)  # every plan checked up front
             for precision in dict.fromkeys(item.precision for item, _ in items)}
    warn_small_styles(config)  # once for the batch: every image has the same levels
    style_engine = None
    try:
        for index, ((item, identity), found) in enumerate(zip(items, batch)):
            # One engine at a time: a batch's folders may hold runs in either precision.
            if style_engine is None or style_engine.config.precision != item.precision:
                if style_engine is not None:
                    style_engine.close()
                style_engine = _engine(network, dataclasses.replace(
                    config, precision=item.precision), plans[item.precision])
            if len(contents) > 1:
                print(f"content {index + 1}/{len(contents)}: {item.content} -> "
                      f"{item.output_dir}", flush=True)
            print("config: " + json.dumps(dataclasses.asdict(item)), flush=True)
            status = job.stylise(style_engine, job.Job(item, found, identity),
                                 say=lambda line: print(line, flush=True))
            if status:
                return status
    finally:
        if style_engine is not None:
            style_engine.close()
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
    network = _weights(config)
    item = dataclasses.replace(config, vgg=network.source)
    out = RunDir(config.output_dir)
    item, identity = job.settle_precision(
        item, dict(job.identity(item, network.sha256), video_sha256=clip.sha256()), out)
    # The frame target a clip resumes with, or a new clip's, before the config line shows it.
    item = item.settled(out.saved_config() if out.matches(identity, complete_settings) else None)
    levels, tiles = item.levels(), _plan(item, network, item.precision)
    tiled = [k for k, size in enumerate(tiles) if size]
    if tiled:
        k = tiled[-1]
        need = memory.describe(network.layers, levels[k], tiles[k], item.precision)
        raise UsageError(f"a video's frames are optimised in one pass, and "
                         f"{config.height}x{config.width} does not fit the memory budget "
                         f"(it would need {need}); give a smaller --height and --width or "
                         f"more --max-memory")
    warn_small_styles(item)  # once for the clip, not per frame
    print("config: " + json.dumps(dataclasses.asdict(item)), flush=True)
    with engine.Engine(network.layers, item, tiles, terms=video.terms) as style_engine:
        return video_job.stylise_clip(style_engine, item, clip, styles, init_file, identity,
                                      say=lambda line: print(line, flush=True))


def warn_small_styles(config: StyleConfig) -> None:
    """One line on stderr when a style picture is scaled up by more than 2x at one of the
    config's levels (``style_size.warning``), from the pictures' headers. It changes nothing
    else: the run goes on as asked."""
    from tf1cnn.common import images

    from ..objective import style_size

    styles = [(path, images.read_shape(path, "style")) for path in config.style]
    coarse = [(path, images.read_shape(path, "coarse style")) for path in config.coarse_style]
    line = style_size.warning(config.levels(), styles, coarse)
    if line:
        print(line, file=sys.stderr, flush=True)


def _weights(config: StyleConfig):
    """After the inputs are checked: the VGG weights the config names, cut after the deepest
    layer it reads."""
    from ..network import weights

    return weights.load(config.vgg, (config.content_layer, *config.style_layers))


def _plan(config: StyleConfig, network, precision: str) -> list[int | None]:
    """Each of the config's levels' tile size, or None for one pass, for a trunk in
    ``precision`` (``memory.plan``)."""
    from ..objective import memory

    return memory.plan(network.layers, config.levels(),
                       parse_size(config.max_memory) if config.max_memory else None, precision)


def _engine(network, config: StyleConfig, tiles: list[int | None]):
    """The engine for ``config``'s levels and precision, after a line per tiled level."""
    from ..objective import memory
    from ..optimise import engine

    levels = config.levels()
    for index, (level, size) in enumerate(zip(levels, tiles)):
        if size:
            print(f"memory: level {index + 1}/{len(levels)}, "
                  + memory.describe(network.layers, level, size, config.precision), flush=True)
    return engine.Engine(network.layers, config, tiles)


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
