"""The eval step of a feed-forward style network: held-out loss per checkpoint, and its figures.

``tf1cnn-cluster eval --checkpoint-dir DIR`` on a ``--model style-net`` folder comes here (the
folder's run.json says which model it holds)::

    tf1cnn-cluster eval --checkpoint-dir /tmp/style-net --vgg /tmp/tiny16.mat

**What is measured.** Each checkpoint the Saver kept (the newest ``--keep-checkpoints``, listed
in the folder's ``checkpoint`` file with the time each was written) is restored into one graph,
which stylises the ``HELD_OUT_COUNT`` fixed held-out crops (``pictures.held_out``: photographs
never trained on), each in one forward pass. The held-out loss is the mean over the crops of the
style tool's objective, ``style_net.objective`` under :func:`judge`: ``StyleConfig``'s layers
and weights (``OBJECTIVE``), at the crops' size, in float32. It is the same yardstick
whatever loss settings, crop size or precision training used, so that runs and an optimised
picture compare on one scale. The objective is linear in its per-picture terms, so the mean
over one-crop batches equals one batch of all the crops, and needs an eighth of the memory.

The style picture is not stored with the checkpoints: ``--style`` and ``--vgg`` name the files,
and their SHA-256 must be those in run.json, or the loss would measure another style.

**What is written,** beside ``--output`` (default ``DIR/held_out.png``): the contact sheet
(each held-out crop above its stylised version at the latest checkpoint); ``*_loss.png``, the
training loss from the chief's TensorBoard events (tag ``loss``, under training's own settings)
and the held-out loss against global step and against wall-clock time since the run's first
event; and ``held_out.json`` with each checkpoint's step, time and losses, for the benchmarks.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tf1cnn.common import files, images, runtime, samples
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import StyleConfig

from .style_config import StyleNetConfig

HELD_OUT_COUNT = 8  # the fixed crops of pictures.held_out
HELD_OUT_SIZE = 256  # their side in pixels, as the quality benchmark judges them
# The loss settings by which every network is judged: StyleConfig's, as a style run's.
OBJECTIVE = ("content_layer", "style_layers", "style_layer_weights", "content_weight",
             "style_weight", "tv_weight", "mean_pixel", "pooling")
LOSS_TAG = "loss"  # the chief's summary of the training loss


@dataclasses.dataclass(frozen=True)
class Kept:
    """A checkpoint the Saver kept: its path prefix, and when it was written (Unix seconds)."""

    path: str
    saved: float


@dataclasses.dataclass(frozen=True)
class Scored:
    """One checkpoint's held-out result: the mean losses over the crops, each crop's
    (float64 [count, 4]: total, content, style, tv), and the stylised crops, float32
    [count, size, size, 3] in [0, 255]."""

    checkpoint: str
    global_step: int
    saved: float
    loss: float
    content: float
    style: float
    tv: float
    per_crop: np.ndarray
    styled: np.ndarray


@dataclasses.dataclass(frozen=True)
class Curve:
    """The training loss as the chief logged it: one value per ``--log-every`` steps, in the
    order written; ``start`` is the run's first event (Unix seconds), or None without one;
    ``saved`` maps a global step to when the chief logged a checkpoint of it."""

    steps: list[int]
    wall_times: list[float]
    losses: list[float]
    start: float | None
    saved: dict[int, float]


def judge(size: int) -> StyleNetConfig:
    """The style tool's objective (``StyleConfig``'s losses and weights, whatever a network
    was trained with), for one crop of ``size`` pixels a side."""
    objective = {name: getattr(StyleConfig, name) for name in OBJECTIVE}
    return dataclasses.replace(StyleNetConfig(), crop=size, batch=1, precision="float32",
                               **objective)


def check_style(path: str | None, settings: dict) -> np.ndarray:
    """The style picture at ``path`` (None: the bundled one) as float RGB, when it is the one
    the run trained with; UsageError otherwise."""
    from tf1cnn.style_transfer.network import download

    path = path or samples.sample(samples.SAMPLE_STYLE)
    images.read_shape(path, "style")
    found = download.file_sha256(path)
    if found != settings.get("style_sha256"):
        raise UsageError(f"--style {path} is not the style picture this network was trained "
                         f"with (SHA-256 {found[:12]}..., run.json has "
                         f"{str(settings.get('style_sha256'))[:12]}...): pass that picture")
    return images.read_rgb(path, "style")


def check_vgg(source: str | None, settings: dict, layers: tuple[str, ...]):
    """The VGG layers ``--vgg`` names, cut after ``layers``, when the file is the one the run
    trained with; UsageError otherwise."""
    from tf1cnn.style_transfer.network import download, weights

    trained = str(settings.get("vgg_sha256"))
    if source is None and trained != download.VGG19_SHA256:  # say so before downloading it
        raise UsageError(f"this network was trained with another VGG file than the default "
                         f"(SHA-256 {trained[:12]}... in run.json): pass that file as --vgg")
    network = weights.load(source, layers)
    if network.sha256 != settings.get("vgg_sha256"):
        raise UsageError(f"--vgg {network.source} is not the VGG this network was trained with "
                         f"(SHA-256 {network.sha256[:12]}..., run.json has "
                         f"{str(settings.get('vgg_sha256'))[:12]}...): pass that file")
    return network.layers


def kept_checkpoints(folder: str, saved: dict[int, float] | None = None) -> list[Kept]:
    """The checkpoints listed in ``folder``'s ``checkpoint`` file, oldest first (the last is
    the latest). A checkpoint is looked for in ``folder`` itself, so a moved run still reads.
    When each was written: ``saved[step]`` (the events' record), else the time the list gives
    (TF's hooks leave it out), else its index file's. UsageError when there is none or the
    list is unreadable."""
    tf = runtime.import_tensorflow()
    state = tf.compat.v1.train.get_checkpoint_state(folder)  # None also when unparsable
    if state is None and (Path(folder) / "checkpoint").exists():
        raise UsageError(f"the checkpoint index {Path(folder) / 'checkpoint'} is unreadable; "
                         f"move that folder away to start over")
    if state is None or not state.model_checkpoint_path:
        raise UsageError(f"no checkpoint in {folder}: train first (tf1cnn-cluster train "
                         f"--model style-net --checkpoint-dir {folder})")
    paths = list(state.all_model_checkpoint_paths) or [state.model_checkpoint_path]
    if paths[-1] != state.model_checkpoint_path:
        paths.append(state.model_checkpoint_path)
    times = list(state.all_model_checkpoint_timestamps)
    kept = []
    for k, path in enumerate(paths):
        local = str(Path(folder) / Path(path).name)
        when = (saved or {}).get(_step_of(local))
        if when is None:
            when = times[k] if len(times) == len(paths) else _modified(local)
        kept.append(Kept(local, float(when)))
    return kept


def _step_of(prefix: str) -> int | None:
    """The global step in a Saver's checkpoint name (``model.ckpt-1200``), or None."""
    number = prefix.rpartition("-")[2]
    return int(number) if number.isdigit() else None


def _modified(prefix: str) -> float:
    """When the checkpoint ``prefix`` was written, from its index file; NaN without one."""
    try:
        return Path(prefix + ".index").stat().st_mtime
    except OSError:
        return float("nan")


def training_curve(folder: str) -> Curve:
    """The ``loss`` scalars of every TensorBoard events file in ``folder`` (a resumed run adds
    one), in wall-clock order, and the checkpoints' records (the newest for a step saved
    twice). A file cut short by a killed chief keeps what it holds."""
    tf = runtime.import_tensorflow()
    checkpoint = tf.compat.v1.SessionLog.CHECKPOINT
    points, start, saved = [], None, {}
    for path in sorted(Path(folder).glob("events.out.tfevents.*")):
        try:
            for event in tf.compat.v1.train.summary_iterator(str(path)):
                start = event.wall_time if start is None else min(start, event.wall_time)
                if event.session_log.status == checkpoint:
                    saved[int(event.step)] = max(event.wall_time,
                                                 saved.get(int(event.step), 0.0))
                for value in event.summary.value:
                    if value.tag == LOSS_TAG:
                        points.append((event.wall_time, int(event.step), _scalar(tf, value)))
        except tf.errors.DataLossError:  # the last record was being written when it stopped
            pass
    points.sort(key=lambda point: point[0])
    return Curve([p[1] for p in points], [p[0] for p in points], [p[2] for p in points], start,
                 saved)


def _scalar(tf, value) -> float:
    if value.HasField("simple_value"):
        return float(value.simple_value)
    return float(tf.make_ndarray(value.tensor))


def score(kept: list[Kept], width: float, layers, style: np.ndarray,
          crops: np.ndarray) -> Iterator[Scored]:
    """Restore each checkpoint of ``kept`` in turn and yield its held-out result on ``crops``
    (float32 [count, size, size, 3]). UsageError for a checkpoint that does not restore."""
    tf = runtime.import_tensorflow()
    from . import style_net

    config = judge(crops.shape[1])
    grams = style_net.style_grams(layers, config, style)
    with tf.Graph().as_default() as graph:
        picture, styled, losses, step, saver = _judge_graph(tf, width, layers, grams, config)
        graph.finalize()
        with runtime.new_session(graph, config=runtime.session_config()) as session:
            for checkpoint in kept:
                _restore(tf, saver, session, checkpoint.path)
                out = np.empty_like(crops)
                terms = []
                for k, crop in enumerate(crops):
                    out[k:k + 1], found, global_step = session.run(
                        [styled, losses, step], {picture: crop[None]})
                    terms.append(found)
                per_crop = np.asarray(terms, np.float64)
                yield Scored(checkpoint.path, int(global_step), checkpoint.saved,
                             *(float(term) for term in per_crop.mean(axis=0)), per_crop, out)


def _judge_graph(tf, width: float, layers, grams: list[np.ndarray], config: StyleNetConfig):
    """In the current graph: the transformation network as training named it, the objective
    on one crop, the global step, and a Saver of those variables only (not Adam's slots)."""
    from tf1cnn.style_transfer.network import transform, vgg_graph

    from . import style_net

    v1 = tf.compat.v1
    size = config.crop
    picture = v1.placeholder(tf.float32, [1, size, size, 3], "picture")
    styled = transform.stylise(picture, width)
    network = vgg_graph.VGG(layers, config.pooling, config.precision)
    losses = style_net.objective(network, styled, picture, [tf.constant(g) for g in grams],
                                 config)
    step = v1.train.get_or_create_global_step()
    saver = v1.train.Saver(v1.global_variables())
    return picture, styled, list(losses), step, saver


def _restore(tf, saver, session, path: str) -> None:
    try:
        saver.restore(session, path)
    except (tf.errors.OpError, ValueError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise UsageError(f"cannot restore {path}: {_reason(message)} "
                         f"({type(exc).__name__})") from None


def _reason(message: str) -> str:
    """The line of a TensorFlow error that says what went wrong, not where (a graph error
    opens with "Graph execution error:" and the node's traceback)."""
    noise = ("Graph execution error", "Detected at node", "File ", "Node:", "[[")
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith(noise)]
    return (said or lines or ["no reason given"])[0]


def draw_sheet(figure, crops: np.ndarray, latest: Scored):
    """Each held-out crop above its stylised version, titled with the global step."""
    count = len(crops)
    for k in range(count):
        for row, pixels in enumerate((crops[k], latest.styled[k])):
            axes = figure.add_subplot(2, count, row * count + k + 1)
            axes.imshow(images.to_uint8(pixels), interpolation="nearest")
            axes.set_axis_off()
    figure.suptitle(f"held-out crops (top) and the network's results (bottom) at global step "
                    f"{latest.global_step}: held-out loss {latest.loss:.4g}")
    return figure


def draw_losses(figure, curve: Curve, scored: list[Scored]):
    """Training and held-out loss against global step (left) and wall-clock minutes since the
    run's first event (right), log scale."""
    start = _origin(curve, scored)
    by_step, by_time = figure.subplots(1, 2)
    held_steps = [s.global_step for s in scored]
    held_minutes = [(s.saved - start) / 60 for s in scored]
    held = [s.loss for s in scored]
    train_minutes = [(t - start) / 60 for t in curve.wall_times]
    for axes, train_x, held_x, label in ((by_step, curve.steps, held_steps, "global step"),
                                         (by_time, train_minutes, held_minutes,
                                          "minutes since the run's first event")):
        if curve.losses:
            axes.plot(train_x, curve.losses, ".-", c="tab:blue", ms=3, lw=1,
                      label="training loss (training's settings)")
        axes.plot(held_x, held, "o-", c="tab:red", label="held-out loss (style tool's objective)")
        axes.set_xlabel(label)
        axes.set_yscale("log")
        axes.grid(True, which="both", alpha=0.3)
    by_step.set_ylabel("loss")
    by_step.legend()
    figure.suptitle(f"{len(scored)} kept checkpoints, latest at global step "
                    f"{scored[-1].global_step}")
    return figure


def _origin(curve: Curve, scored: list[Scored]) -> float:
    """Time zero: the run's first event, else the first kept checkpoint's time."""
    return curve.start if curve.start is not None else min(s.saved for s in scored)


def summary(folder: str, crops: np.ndarray, curve: Curve, scored: list[Scored]) -> dict:
    """held_out.json's contents: the yardstick, and each checkpoint's step, time and losses."""
    start = _origin(curve, scored)
    objective = judge(crops.shape[1]).settings()
    for name in ("width", "crop", "batch"):
        del objective[name]
    return {"checkpoint_dir": str(folder),
            "held_out": {"count": len(crops), "size": int(crops.shape[1])},
            "objective": objective, "start_time": start,
            "checkpoints": [{"checkpoint": Path(s.checkpoint).name, "global_step": s.global_step,
                             "wall_time": s.saved, "seconds": s.saved - start, "loss": s.loss,
                             "content": s.content, "style": s.style, "tv": s.tv}
                            for s in scored]}


def outputs(folder: str, output: str | None) -> tuple[str, str, str]:
    """The contact sheet, loss figure and JSON paths, checked writable before any work."""
    sheet = Path(output or Path(folder) / "held_out.png")
    paths = (str(sheet), str(sheet.with_name(sheet.stem + "_loss.png")),
             str(sheet.with_name("held_out.json")))
    files.check_output_file(paths[0])
    if Path(paths[2]).is_dir():
        raise UsageError(f"cannot write {paths[2]}: it is a directory")
    return paths


def run_eval(folder: str, settings: dict, style: str | None, vgg: str | None,
             output: str | None, size: int = HELD_OUT_SIZE) -> int:
    """The command: check the inputs, score every kept checkpoint, print and write."""
    if size < 16:
        raise UsageError(f"--held-out-size must be at least 16 pixels, so that relu5_1 still "
                         f"has a pixel; got {size}")
    sheet, figure_path, json_path = outputs(folder, output)
    curve = training_curve(folder)
    kept = kept_checkpoints(folder, curve.saved)
    style_pixels = check_style(style, settings)
    layers = check_vgg(vgg, settings, judge(size).layers)
    from matplotlib.figure import Figure

    from tf1cnn.common.figures import save_figure

    from . import pictures

    crops = pictures.held_out(HELD_OUT_COUNT, size)
    scored = []
    for result in score(kept, settings["width"], layers, style_pixels, crops):
        print(f"eval: checkpoint={result.checkpoint} global_step={result.global_step} "
              f"held_out_loss={result.loss:.6g} content={result.content:.6g} "
              f"style={result.style:.6g} tv={result.tv:.6g}", flush=True)
        scored.append(result)
    tags = {"Software": "tf1cnn-cluster eval", "Source": scored[-1].checkpoint}
    inches = max(size, 128) / 100  # per picture, at 100 dpi
    sheet_figure = Figure(layout="constrained",
                          figsize=(HELD_OUT_COUNT * inches, 2 * inches + 0.6))
    save_figure(draw_sheet(sheet_figure, crops, scored[-1]), sheet, 100, tags)
    save_figure(draw_losses(Figure(layout="constrained", figsize=(12, 4.5)), curve, scored),
                figure_path, 100, tags)
    files.write_json(json_path, summary(folder, crops, curve, scored))
    for path in (sheet, figure_path, json_path):
        print(f"saved: {path}", flush=True)
    return 0
