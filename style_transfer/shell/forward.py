"""Apply a trained feed-forward style network: one forward pass per picture, and its export.

``tf1cnn-style --network CHECKPOINT_DIR`` stylises the content image (the bundled photograph if
none is given), each ``--content-dir`` image or each ``--video`` frame with the network that
``tf1cnn-cluster train --model style-net`` checkpointed there (the newest checkpoint, or the one
a ``DIR/model.ckpt-N`` prefix names). A ``Saver`` over the ``transform/`` variables alone
restores them into ``transform.stylise`` on a ``[1, None, None, 3]`` placeholder. A picture
keeps its own size, odd ones too; ``--height`` with ``--width`` fits it as an optimised run
fits its content (centre crop, then resize); one of them scales it keeping its aspect ratio.

It writes an optimised run's files where they apply (``rundir``): ``result.png``,
``contact_sheet.png`` (content | result), ``config.json``, and ``metrics.json`` with the
``metrics`` that need no style picture and ``seconds``, the forward pass alone (the first at a
new size also sets up its kernels); a subfolder per ``--content-dir`` picture; for a clip
``frames/``, ``frames.csv``, ``video.mp4`` and ``metrics.json`` with the warping error as
``--video`` measures it. No losses: they need the VGG and the style picture. Another run's
files in the folder move to ``archive/`` first.

One line and exit 2, before any picture is read, for a missing folder, one without a
checkpoint or of another model (a toy run's ``run.json``, or none), a damaged checkpoint (each
``transform/`` tensor is read whole, checksum and all, first), a ``run.json`` width that does
not fit its shapes, and an option that steers an optimisation (``--style``, ``--fast``, ...).

``--export-saved-model DIR`` writes a TF2 SavedModel, replacing an earlier export: a
``tf.Module`` holding the weights as variables, whose ``tf.function`` builds the same graph,
float32 ``[None, None, None, 3]`` in [0, 255] in and out (the signature returns
``{"styled": ...}``). It loads with TensorFlow alone::

    import tensorflow as tf
    model = tf.saved_model.load("style_net_model")
    styled = model.stylise(pictures)  # or model.signatures["serving_default"](images=pictures)
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from tf1cnn.common import exits, files, images, runtime, stops
from tf1cnn.common.errors import UsageError

from ..config import REFUSES, StyleConfig
from .rundir import FRAMES, VIDEO, RunDir

SETTINGS_FILE = "run.json"  # what tf1cnn-cluster writes beside its checkpoints
# The StyleConfig fields that mean something for a forward pass; the rest steer an optimisation.
APPLY_FIELDS = ("content", "content_dir", "output_dir", "height", "width", "preserve_colors",
                "video", "first_frame", "last_frame", "fps")
TRAIN = "train one with tf1cnn-cluster train --model style-net --checkpoint-dir DIR"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    folder: str
    prefix: str | None  # a checkpoint's path prefix when given as such, else the newest's
    width: float  # the network's width, from run.json


def locate(path: str) -> Checkpoint:
    """The training run at ``path`` (a checkpoint folder or prefix), from its run.json alone:
    no TensorFlow yet, so a wrong folder is answered at once."""
    given = None
    if not os.path.isdir(path) and os.path.isfile(path + ".index"):
        path, given = os.path.dirname(path) or ".", path
    if not os.path.isdir(path):
        raise UsageError(f"--network {path}: no such folder; give the --checkpoint-dir of a "
                         f"style network's training run")
    try:
        with open(os.path.join(path, SETTINGS_FILE)) as handle:
            settings = json.load(handle)
    except FileNotFoundError:
        raise UsageError(f"--network {path} holds no {SETTINGS_FILE}, so no training run; "
                         f"{TRAIN}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--network {path}: {SETTINGS_FILE} is unreadable ({exc})") from None
    model = settings.get("model", "toy") if isinstance(settings, dict) else None
    if model != "style-net":
        raise UsageError(f"--network {path} holds a {model or 'unknown'} model's run, not a "
                         f"style network; {TRAIN}")
    width = settings.get("width")
    if type(width) not in (int, float) or not width > 0:
        raise UsageError(f"--network {path}: {SETTINGS_FILE}'s width {width!r} is not positive")
    return Checkpoint(path, given, float(width))


def read_weights(checkpoint: Checkpoint, shapes: dict[str, list[int]]
                 ) -> tuple[str, dict[str, np.ndarray], int | None]:
    """(prefix, {name: value} of the variables ``shapes`` names, global step), each value read
    whole with its checksum: UsageError for a missing, damaged or mismatched checkpoint. The
    newest's name alone is taken from the ``checkpoint`` file, so a moved folder reads its own."""
    tf = runtime.import_tensorflow()
    folder, prefix = checkpoint.folder, checkpoint.prefix
    if prefix is None:
        state = _damaged(folder, lambda: tf.train.get_checkpoint_state(folder))
        name = os.path.basename(state.model_checkpoint_path) if state else ""
        prefix = os.path.join(folder, name) if name else None
    if prefix is None or not os.path.isfile(prefix + ".index"):
        raise UsageError(f"--network {folder} has no checkpoint yet: train first (the chief "
                         f"saves one every --checkpoint-secs)")
    reader = _damaged(prefix, lambda: tf.train.load_checkpoint(prefix))
    found = reader.get_variable_to_shape_map()
    missing = sorted(set(shapes) - set(found))
    if missing:
        raise UsageError(f"--network {prefix} has no {missing[0]}: not a style network's")
    for name, shape in shapes.items():
        if list(found[name]) != list(shape):
            raise UsageError(f"--network {prefix}: {name} is {list(found[name])} but "
                             f"{SETTINGS_FILE}'s width {checkpoint.width:g} makes it "
                             f"{list(shape)}; the run.json is not this checkpoint's")
    values = _damaged(prefix, lambda: {name: reader.get_tensor(name) for name in shapes})
    step = int(reader.get_tensor("global_step")) if "global_step" in found else None
    return prefix, values, step


def _damaged(path: str, read: Callable):
    """``read()``, or a UsageError where it fails (the reader raises IndexError and more)."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - every failure here means a damaged file
        first = (str(exc) or type(exc).__name__).splitlines()[0]
        raise UsageError(f"--network {path} is damaged ({type(exc).__name__}: {first}); "
                         f"point at an older checkpoint (DIR/model.ckpt-N) or retrain") from None


class Network:
    """The apply graph with the checkpoint's ``transform/`` variables restored; call it with a
    float32 picture [H, W, 3] in [0, 255] for the stylised one; ``close`` it after."""

    def __init__(self, checkpoint: Checkpoint):
        began = time.perf_counter()
        tf = runtime.import_tensorflow()
        self.import_seconds = time.perf_counter() - began
        from ..network import transform

        v1 = tf.compat.v1
        self.width, self.graph = checkpoint.width, tf.Graph()
        with self.graph.as_default():
            self.pictures = v1.placeholder(tf.float32, [1, None, None, 3], "pictures")
            self.styled = transform.stylise(self.pictures, checkpoint.width)
            variables = v1.global_variables()
            self.prefix, self.values, self.step = read_weights(
                checkpoint, {v.op.name: v.shape.as_list() for v in variables})
            saver = v1.train.Saver(variables)  # transform/ alone: no step, no Adam slots
            self.session = runtime.new_session(self.graph, config=runtime.session_config())
            saver.restore(self.session, self.prefix)
        self.graph.finalize()
        self.parameters = transform.parameter_count(checkpoint.width)
        self.load_seconds = time.perf_counter() - began - self.import_seconds

    def __call__(self, picture: np.ndarray) -> np.ndarray:
        return self.session.run(self.styled, {self.pictures: picture[None]})[0]

    def describe(self) -> str:
        return (f"network: {self.prefix} (step {self.step}), {self.parameters} parameters, "
                f"restored in {self.load_seconds:.2f}s; TensorFlow's import took "
                f"{self.import_seconds:.2f}s")

    def close(self) -> None:
        self.session.close()


def fitted(picture: np.ndarray, height: int | None, width: int | None) -> np.ndarray:
    """``picture`` at its own size when neither side is given; with both, fitted as an
    optimised run fits its content; with one, scaled to it keeping its aspect ratio."""
    if height is None and width is None:
        return picture
    rows, cols = picture.shape[:2]
    height = height or max(1, round(rows * width / cols))
    width = width or max(1, round(cols * height / rows))
    return images.fit(picture, height, width)


def run(config: StyleConfig, given: dict, contents: Callable[[], list[str]]) -> int:
    """The ``--network`` command: ``given``, the options on the command line by name;
    ``contents()``, the content images. SIGINT or SIGTERM: 130 or 143, the pictures kept."""
    try:
        with stops.graceful():
            return _run(config, given, contents, lambda line: print(line, flush=True))
    except KeyboardInterrupt as stop:
        print("interrupted: the pictures saved so far are kept; rerun to stylise them all",
              file=sys.stderr, flush=True)
        return stops.exit_code(stop)


def check_options(config: StyleConfig, given: dict) -> None:
    """UsageError for an option that steers an optimisation, or one out of its bounds."""
    foreign = sorted(f"--{name.replace('_', '-')}" for name in given
                     if name not in (*APPLY_FIELDS, "network", "export_saved_model"))
    if foreign:
        raise UsageError(f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} for an "
                         f"optimisation; a --network run takes only "
                         + " ".join(f"--{n.replace('_', '-')}" for n in APPLY_FIELDS))
    if "network" not in given:
        raise UsageError("--export-saved-model needs --network CHECKPOINT_DIR, the network "
                         "to export")
    if "export_saved_model" in given and {"content", "content_dir", "video"} & given.keys():
        raise UsageError("--export-saved-model writes the network and stylises nothing; "
                         "give the pictures in a run of their own")
    for f in dataclasses.fields(StyleConfig):
        value = getattr(config, f.name)
        if f.name in given and "bound" in f.metadata and REFUSES[f.metadata["bound"]](value):
            raise UsageError(f"--{f.name.replace('_', '-')} {f.metadata['bound']}, got {value}")
    if bool(config.content) + bool(config.content_dir) + bool(config.video) > 1:
        raise UsageError("give one of --content, --content-dir and --video, not several")


def _run(config: StyleConfig, given: dict, contents: Callable[[], list[str]], say) -> int:
    check_options(config, given)
    checkpoint = locate(given["network"])
    if "export_saved_model" in given:
        return export(checkpoint, given["export_saved_model"], say)
    size = (given.get("height"), given.get("width"))
    shown = {"network": checkpoint.prefix or checkpoint.folder, "network_width": checkpoint.width,
             **{name: getattr(config, name) for name in APPLY_FIELDS}, "height": size[0],
             "width": size[1]}
    if config.video:
        return _apply_clip(config, checkpoint, size, shown, say)
    paths = contents()
    for path in paths:  # every header before the network loads
        images.read_shape(path, "content")
    outs = [config.output_dir if not config.content_dir else
            os.path.join(config.output_dir, os.path.splitext(os.path.basename(path))[0])
            for path in paths]
    shown["content"] = None if config.content_dir else paths[0]
    with contextlib.closing(Network(checkpoint)) as network:  # checked: now the lines
        say("config: " + json.dumps(shown))
        say(network.describe())
        for out in outs:
            RunDir(out).check_writable()
        for index, (path, out) in enumerate(zip(paths, outs)):
            if len(paths) > 1:
                say(f"content {index + 1}/{len(paths)}: {path} -> {out}")
            _apply_picture(network, config, size, path, RunDir(out), say)
    return exits.OK


def _start(out: RunDir, network: Network, config: StyleConfig, size: tuple, inputs: dict,
           say) -> None:
    """Save what the folder's outputs depend on, after moving another run's files aside."""
    identity = {"network": os.path.abspath(network.prefix), "height": size[0],
                "width": size[1], "preserve_colors": config.preserve_colors, **inputs}
    resume, reason = out.prepare(identity)
    if not resume and reason != "new run":
        say(f"note: {reason}")
    out.save_settings({"network": network.prefix, "output_dir": out.path}, identity)


def _apply_picture(network: Network, config: StyleConfig, size: tuple, path: str,
                   out: RunDir, say) -> None:
    from ..network import download
    from . import metrics, report

    content = fitted(images.read_rgb(path, "content"), *size)
    _start(out, network, config, size, {"content_sha256": download.file_sha256(path)}, say)
    began = time.perf_counter()
    styled = network(content)
    seconds = time.perf_counter() - began
    if config.preserve_colors:
        styled = images.preserve_colors(content, styled)
    pixels = images.to_uint8(styled)
    images.write_png(out.result, pixels)
    images.write_png(out.contact_sheet,
                     report.contact_sheet([content, pixels], min(pixels.shape[0], 512)))
    found = {"ssim_luminance": metrics.ssim_luminance(styled, content)} \
        if min(metrics.capped_size(*content.shape[:2])) >= 3 else {}  # SSIM's least window
    found["colour_distance_content"] = metrics.colour_distance(styled, content)
    files.write_json(out.metrics, {**found, "seconds": seconds})
    say(f"saved: {out.result} ({pixels.shape[0]}x{pixels.shape[1]}) in {seconds:.3f}s")


def _apply_clip(config: StyleConfig, checkpoint: Checkpoint, size: tuple, shown: dict,
                say) -> int:
    """Each frame in one forward pass, then frames.csv, video.mp4 and metrics.json."""
    from ..video import clips, optional

    optional.video_module("cv2")  # the optical flow's, before anything is read
    clip = clips.open_clip(config.video, config.first_frame, config.last_frame, config.fps)
    with contextlib.closing(Network(checkpoint)) as network:  # checked: now the lines
        from . import video_job

        say("config: " + json.dumps(shown))
        say(network.describe())
        out = RunDir(config.output_dir)
        out.check_writable()
        _start(out, network, config, size, {"video_sha256": clip.sha256(), "first_frame":
                                            clip.first, "last_frame": clip.last}, say)
        os.makedirs(os.path.join(out.path, FRAMES), exist_ok=True)
        say(f"video: {clip.source}, frames {clip.first}-{clip.last} ({clip.count}) at "
            f"{clip.height}x{clip.width}, {clip.fps:g} fps")
        rows = _frames(network, config, clip, size, out, say)
    video_job.write_rows(out.path, rows)
    fps, path = config.fps or clip.fps, os.path.join(out.path, VIDEO)
    for note in clips.write_mp4(path, (images.read_rgb(video_job.frame_path(out.path, number))
                                       for number in range(clip.first, clip.last + 1)), fps):
        say(f"note: {note}")
    found = {k: v for k, v in video_job.summary(rows).items() if not k.endswith("_loss")}
    found["forward_seconds_per_frame"] = float(np.mean([r["forward"] for r in rows]))
    files.write_json(out.metrics, found)
    say("summary: " + " ".join(f"{k}={v:.6g}" for k, v in found.items()))
    say(f"done: {path} ({clip.count} frames at {fps:g} fps)")
    return exits.OK


def _frames(network: Network, config: StyleConfig, clip, size: tuple, out: RunDir,
            say) -> list[dict]:
    """Stylise and write the frames; their rows of frames.csv, with the warping error of
    each frame after the first against the previous, as an optimised clip's."""
    from ..video import flow
    from . import video_job

    rows, before, previous = [], None, None
    for number, picture in clip.frames():
        content = fitted(picture, *size)
        began = time.perf_counter()
        styled = network(content)
        row = {"frame": number, "forward": time.perf_counter() - began, "flow_seconds": 0.0,
               "warping_error": float("nan"), "consistent": float("nan")}
        if config.preserve_colors:
            styled = images.preserve_colors(content, styled)
        written = images.to_uint8(styled)
        images.write_png(video_job.frame_path(out.path, number), written)
        if before is not None:
            began = time.perf_counter()
            backward, ahead = flow.pair(before, content)
            mask = flow.consistency(backward, ahead)
            row.update(flow_seconds=round(time.perf_counter() - began, 3),
                       warping_error=flow.warping_error(written.astype(np.float32),
                                                        previous.astype(np.float32),
                                                        backward, mask),
                       consistent=float(mask.mean()))
        rows.append({**row, "seconds": round(row["forward"] + row["flow_seconds"], 3)})
        say(f"frame {number} ({number - clip.first + 1}/{clip.count}) saved: "
            f"{video_job.frame_path(out.path, number)} in {row['forward']:.3f}s"
            + (f"; warping_error={row['warping_error']:.3f} consistent={row['consistent']:.3f}"
               if before is not None else ""))
        before, previous = content, written
    return rows


def export(checkpoint: Checkpoint, target: str, say) -> int:
    """Write the network as a SavedModel in ``target`` (see the module docstring), through a
    folder beside it renamed into place only when whole."""
    if os.path.exists(target) and not (os.path.isdir(target) and (
            not os.listdir(target) or os.path.isfile(os.path.join(target, "saved_model.pb")))):
        raise UsageError(f"--export-saved-model {target} is a file or a folder of other files; "
                         f"give a new or empty folder (an earlier export there is replaced)")
    parent = os.path.dirname(os.path.abspath(target))
    files.check_writable(parent, "--export-saved-model folder")
    with contextlib.closing(Network(checkpoint)) as network:
        tf = runtime.import_tensorflow()
        began = time.perf_counter()
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", dir=parent)
        try:
            module = _module(tf, network)
            tf.saved_model.save(module, staging, signatures={"serving_default": module.serve})
            if os.path.exists(target):  # the earlier export, moved aside only now
                os.replace(target, staging + ".earlier")
            os.replace(staging, target)
        finally:
            for folder in (staging, staging + ".earlier"):
                shutil.rmtree(folder, ignore_errors=True)
    say(f"exported: {target} (SavedModel of {network.prefix}) in {time.perf_counter() - began:.2f}"
        f"s; load it with tf.saved_model.load({target!r}).stylise(images)")
    return exits.OK


def _module(tf, network: Network):
    """A tf.Module with ``network``'s weights as variables and functions building
    ``transform.stylise``, whose variables a custom getter replaces with the module's."""
    from ..network import transform

    v1 = tf.compat.v1
    module, names = tf.Module(name="style_net"), sorted(network.values)
    module.weights = [tf.Variable(network.values[name], name=name.replace("/", "."))
                      for name in names]
    spec = tf.TensorSpec([None, None, None, 3], tf.float32, name="images")

    @tf.function(autograph=False, input_signature=[spec])
    def stylise(images):
        weights = dict(zip(names, module.weights))
        with v1.variable_scope(v1.get_variable_scope(),
                               custom_getter=lambda getter, name, *a, **k: weights[name]):
            return transform.stylise(images, network.width)

    @tf.function(autograph=False, input_signature=[spec])
    def serve(images):
        return {"styled": stylise(images)}

    module.stylise, module.serve = stylise, serve
    return module
