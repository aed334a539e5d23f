"""The feed-forward style network against time: how close does an hour of training on this
machine get to ``--fast``, on the same held-out crops and by the same yardstick?

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/style_net_quality.py train
        --vgg /tmp/hed/vgg16_hed.mat --folder /tmp/sn-hour [--minutes 60] [--width 0.5]
        [--content-layer relu4_2] [--content-weight 100000] [--checkpoint-secs 300]
    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/style_net_quality.py score
        --vgg /tmp/hed/vgg16_hed.mat --folders /tmp/sn-hour [/tmp/sn-relu2_2 ...]
        [--minutes 60] [--json benchmarks/style_net_quality.json]

``train`` runs ``tf1cnn-cluster train --model style-net`` (the local cluster: 1 ps, 2 workers,
one core each) with the bundled style, a checkpoint every ``--checkpoint-secs`` and all of them
kept, and sends it SIGTERM once ``--minutes`` of training have passed since its first
checkpoint (the one a session writes as it starts), so that the chief saves a last one. A
rerun into the same folder resumes. Each run appends a record to the folder's ``train.json``:
the command, the wall seconds, and the cores other processes kept busy meanwhile ("others";
above ~0.1 the run was slowed).

``score`` measures, for each folder, every kept checkpoint on the 8 fixed held-out 256x256
crops (``pictures.held_out``: photographs never trained on) with ``style_eval.score``: the
style tool's objective, ``StyleConfig``'s layers and weights, whatever loss training used. On
the same crops it runs ``--fast`` (the style tool's preset, one engine, a run per crop) and
scores its pictures with the same graph; the two must agree with ``--fast``'s own final total,
which the JSON keeps beside them as a check. The first folder's checkpoint nearest
``--minutes`` is the one reported, drawn beside ``--fast`` (``--pictures``) and applied to the
sample clip, whose warping error per frame (true flow, as ``video_quality.py`` measures it) is
set beside the optimised runs' from ``--video-json``; other folders are compared with it at the
shortest run's last global step (``--plot`` draws them all against time).

The network is real features, VGG16/HED (``hed_to_matconvnet.py``), not VGG19: the losses mean
something there, which they do not on random weights.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import machine
import numpy as np

from tf1cnn.common import images, runtime, samples
from tf1cnn.distributed import pictures, style_eval, style_net
from tf1cnn.distributed.style_config import StyleNetConfig
from tf1cnn.style_transfer.config import FAST, StyleConfig
from tf1cnn.style_transfer.network import vgg_graph, weights

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts",
                      "ps_cluster.py")
TRAIN_GRACE = 600  # seconds the chief may take for its last checkpoint after SIGTERM
SIZE = style_eval.HELD_OUT_SIZE
TERMS = ("loss", "content", "style", "tv")  # a Losses tuple's, as style_eval.Scored names them
CLIP_SIZE = (250, 333)  # video_quality.py's
VIDEO_RUNS = {"independent": "independent",  # video_quality.py's runs: a frame at a time,
              # and --video as a new clip runs it (today's defaults, in the JSON's names)
              "video": "consistent w=2 freed_frames=3 edge=24 freed_start=content target=0.85"}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def train(args) -> dict:
    """Train for ``args.minutes`` from the run's first checkpoint on (a rerun into the same
    folder resumes, from the checkpoint it writes as it starts); the record of the run, also
    appended to the folder's ``train.json``."""
    os.makedirs(args.folder, exist_ok=True)
    command = [sys.executable, SCRIPT, "train", "--model", "style-net",
               "--vgg", args.vgg, "--width", str(args.width), "--content-layer",
               args.content_layer, "--content-weight", str(args.content_weight),
               "--checkpoint-secs", str(args.checkpoint_secs),
               "--keep-checkpoints", "1000", "--checkpoint-dir", args.folder]
    index = os.path.join(args.folder, "checkpoint")
    launched = time.time()
    meter = machine.Meter()
    with open(os.path.join(args.folder, "train.log"), "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    started = None
    deadline = time.monotonic() + args.minutes * 60 + TRAIN_GRACE  # bounds a run that never starts
    while process.poll() is None and time.monotonic() < deadline:
        if started is None and os.path.exists(index) and os.path.getmtime(index) >= launched:
            started = time.monotonic()
            deadline = started + args.minutes * 60 + args.checkpoint_secs / 4
        time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=TRAIN_GRACE)
    record = {"cpu": machine.cpu_name(), "commit": machine.head_commit(), "command": command,
              "minutes": args.minutes, "seconds": meter.seconds(), "exit": code,
              "other_cores": meter.other_cores()}
    path = os.path.join(args.folder, "train.json")
    earlier = []
    if os.path.exists(path):
        with open(path) as handle:
            earlier = json.load(handle)
    with open(path, "w") as handle:
        json.dump([*earlier, record], handle, indent=1)
    return record


def sessions(folder: str) -> list[tuple[float, float]]:
    """(first, last) event time of each training session in ``folder``: the chief starts an
    events file per session, so a resumed run adds one."""
    tf = runtime.import_tensorflow()
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        times = []
        try:
            times = [event.wall_time for event in tf.compat.v1.train.summary_iterator(path)]
        except tf.errors.DataLossError:  # the last record was being written when it stopped
            pass
        if times:
            found.append((min(times), max(times)))
    return sorted(found)


def trained_seconds(spans: list[tuple[float, float]], when: float) -> float:
    """Seconds of training up to wall time ``when``: the sessions' time, without the gaps
    between them."""
    return sum(max(0.0, min(when, last) - first) for first, last in spans)


def fast_results(layers, crops: np.ndarray, style: np.ndarray) -> list[dict]:
    """``--fast`` on each crop, as the style tool runs it (one engine, a run per crop): its own
    final total, its seconds from the run's start to its last step, and the picture."""
    from tf1cnn.style_transfer.control import controls, inputs
    from tf1cnn.style_transfer.optimise import engine
    from tf1cnn.style_transfer.optimise.records import Progress
    from tf1cnn.style_transfer.shell.rundir import RunDir

    size = crops.shape[1]
    config = dataclasses.replace(StyleConfig(), **FAST, height=size, width=size, seed=0,
                                 checkpoint_every=10 ** 6)
    found = []
    with tempfile.TemporaryDirectory() as tmp, engine.Engine(layers, config) as style_engine:
        for k, crop in enumerate(crops):
            out = RunDir(os.path.join(tmp, str(k)))
            folders = [out.level(c.height, c.width) for c in config.levels()[:-1]] + [out]
            began = time.perf_counter()
            start = controls.start_picture(config.init, crop, [style], None)
            run = style_engine.run(inputs.prepare(config, crop, [style], start), folders)
            last = None
            with contextlib.closing(run.records(schedule=lambda step, total: False)) as records:
                for record in records:
                    if isinstance(record, Progress) and record.level == record.levels - 1:
                        last = record
            found.append({"seconds": time.perf_counter() - began, "steps": last.step,
                          "own_total": float(last.losses["total"]), "picture": last.image})
            print(f"  --fast crop {k}: {found[-1]['seconds']:.1f}s "
                  f"total {found[-1]['own_total']:.6g}", flush=True)
    return found


def judged(layers, style: np.ndarray, crops: np.ndarray, pictures: np.ndarray) -> list[dict]:
    """The held-out yardstick (``style_eval.judge``: the style tool's objective) of each
    picture against its crop."""
    tf = runtime.import_tensorflow()
    v1 = tf.compat.v1
    size = crops.shape[1]
    config = style_eval.judge(size)
    grams = style_net.style_grams(layers, config, style)
    with tf.Graph().as_default() as graph:
        crop = v1.placeholder(tf.float32, [1, size, size, 3])
        picture = v1.placeholder(tf.float32, [1, size, size, 3])
        network = vgg_graph.VGG(layers, config.pooling, config.precision)
        losses = style_net.objective(network, picture, crop, [tf.constant(g) for g in grams],
                                     config)
        with runtime.new_session(graph) as session:
            return [dict(zip(TERMS, map(float, session.run(
                list(losses), {crop: c[None], picture: p[None]}))))
                for c, p in zip(crops, pictures)]


def held_out_curve(folder: str, layers, style: np.ndarray, crops: np.ndarray) -> dict:
    """Each kept checkpoint of a training folder on the held-out crops, with the seconds of
    training when it was written (``trained_seconds``); the stylised crops of each."""
    with open(os.path.join(folder, "run.json")) as handle:
        settings = json.load(handle)
    curve = style_eval.training_curve(folder)
    kept = style_eval.kept_checkpoints(folder, curve.saved)
    scored = list(style_eval.score(kept, settings["width"], layers, style, crops))
    spans = sessions(folder)
    with open(os.path.join(folder, "train.json")) as handle:
        trained = json.load(handle)
    return {"folder": folder, "train": trained, "sessions": spans,
            "settings": {k: settings[k] for k in ("width", "content_layer", "content_weight",
                                                  "crop", "batch")},
            "checkpoints": [{"step": s.global_step, "seconds": trained_seconds(spans, s.saved),
                             **{t: getattr(s, t) for t in TERMS}} for s in scored],
            "styled": [s.styled for s in scored], "prefixes": [s.checkpoint for s in scored],
            "per_crop": [[dict(zip(TERMS, map(float, row))) for row in s.per_crop]
                         for s in scored]}


def nearest(run: dict, key: str, value: float) -> int:
    """Index of the run's checkpoint whose ``key`` ("seconds" of training or "step") is
    nearest ``value`` (the chief saves at the first step after each ``--checkpoint-secs``, so
    the times drift a little later)."""
    points = [c[key] for c in run["checkpoints"]]
    return min(range(len(points)), key=lambda k: abs(points[k] - value))


def clip_errors(prefix: str, width: float, frames: int) -> dict:
    """The network (checkpoint ``prefix``) on each frame of the sample clip at 250x333, and
    the warping error of its frames under the clip's true flow, as video_quality.py measures
    it for the optimised runs."""
    from tf1cnn.style_transfer.shell import forward
    from tf1cnn.style_transfer.tools import sample_clip
    from tf1cnn.style_transfer.video import flow

    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    clip = sample_clip.make(photo, frames=frames, height=CLIP_SIZE[0], width=CLIP_SIZE[1])
    network = forward.Network(forward.Checkpoint(os.path.dirname(prefix), prefix, width))
    try:
        written, seconds = [], []
        for frame in clip.frames:
            began = time.perf_counter()
            written.append(network(np.asarray(frame, np.float32)))
            seconds.append(time.perf_counter() - began)
    finally:
        network.close()
    errors = [flow.warping_error(written[t], written[t - 1], clip.backward[t],
                                 clip.visible[t].astype(np.float32))
              for t in range(1, len(written))]
    return {"checkpoint": os.path.basename(prefix), "frames": frames,
            "size": f"{CLIP_SIZE[0]}x{CLIP_SIZE[1]}", "seconds": seconds,
            "warping_error": errors, "written": written}


def score(args) -> dict:
    layers = weights.load(args.vgg, style_eval.judge(SIZE).layers).layers
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE))
    crops = pictures.held_out(style_eval.HELD_OUT_COUNT, SIZE)
    meter = machine.Meter()
    runs = [held_out_curve(folder, layers, style, crops) for folder in args.folders]
    fast = fast_results(layers, crops, style)
    fast_judged = judged(layers, style, crops, np.stack([f["picture"] for f in fast]))
    main_run = runs[0]
    hour = nearest(main_run, "seconds", args.minutes * 60)
    clip = clip_errors(main_run["prefixes"][hour], main_run["settings"]["width"], args.frames)
    network_judged = main_run["per_crop"][hour]
    compare = min(run["checkpoints"][-1]["step"] for run in runs)
    at_step = [nearest(run, "step", compare) for run in runs]
    record = {
        "cpu": machine.cpu_name(), "commit": machine.head_commit(),
        "network": os.path.basename(args.vgg),
        "held_out": {"count": len(crops), "size": SIZE,
                     "sources": pictures.held_out_names(len(crops))},
        "yardstick": {name: getattr(style_eval.judge(SIZE), name)
                      for name in ("content_layer", "content_weight")},
        "minutes": args.minutes, "others_while_scoring": meter.other_cores(),
        "runs": [{k: v for k, v in run.items() if k not in ("styled", "prefixes", "per_crop")}
                 for run in runs],
        "fast": {"seconds": [f["seconds"] for f in fast], "steps": [f["steps"] for f in fast],
                 "own_total": [f["own_total"] for f in fast], "judged": fast_judged,
                 "ssim": ssim(np.stack([f["picture"] for f in fast]), crops)},
        "at_minutes": {"checkpoint": hour, **main_run["checkpoints"][hour],
                       "judged": network_judged},
        "layers_at_step": {"step": compare, "runs": [
            {"content_layer": run["settings"]["content_layer"], **run["checkpoints"][index],
             "ssim": ssim(run["styled"][index], crops)} for run, index in zip(runs, at_step)]},
        "clip": {k: v for k, v in clip.items() if k != "written"},
    }
    record["clip"]["video_quality"] = video_baseline(args.video_json)
    with open(args.json, "w") as handle:
        json.dump(record, handle, indent=1)
    minutes = main_run["checkpoints"][hour]["seconds"] / 60
    shown = [(f"network, {_label(main_run)}, {minutes:.0f} min", main_run["styled"][hour],
              network_judged)]
    for run in runs[1:]:
        minutes = run["checkpoints"][-1]["seconds"] / 60
        shown.append((f"network, {_label(run)}, {minutes:.0f} min", run["styled"][-1],
                      run["per_crop"][-1]))
    shown.append(("--fast", np.stack([f["picture"] for f in fast]), fast_judged))
    side_by_side(crops, shown, args.pictures)
    plot(record, args.plot)
    return record


def ssim(styled: np.ndarray, crops: np.ndarray) -> list[float]:
    """Each stylised crop's SSIM of the luminance to its crop (``metrics.ssim_luminance``, as a
    run's metrics.json gives it): how much of the photograph's structure it keeps."""
    from tf1cnn.style_transfer.shell import metrics

    return [metrics.ssim_luminance(np.asarray(picture, np.float32), np.asarray(crop, np.float32))
            for picture, crop in zip(styled, crops)]


def _label(run: dict) -> str:
    settings = run["settings"]
    return f"{settings['content_layer']} x{settings['content_weight']:g}"


def video_baseline(path: str) -> dict:
    """The optimised runs' true warping error per frame on the same clip, from
    video_quality.py's JSON: independent frames, and ``--video`` at its defaults."""
    with open(path) as handle:
        stored = json.load(handle)
    runs = stored["runs"]
    return {"source": os.path.basename(path), "cpu": stored["cpu"],
            "network": stored["network"], "size": stored["size"],
            "iterations": stored["iterations"],
            **{name: [f["true_warping_error"] for f in runs[run]["frames"][1:]]
               for name, run in VIDEO_RUNS.items()}}


def side_by_side(crops, rows: list[tuple[str, np.ndarray, list[dict]]], path: str) -> None:
    """Held-out crops (top), then each (label, pictures, their judged losses) row: the
    networks' results and ``--fast``'s, each picture titled with its held-out loss."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = len(crops)
    figure = Figure(figsize=(2.2 * count, 2.4 * (len(rows) + 1)), dpi=100,
                    layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(len(rows) + 1, count, squeeze=False)
    for axes_row, (label, pixels, losses) in zip(grid, [("held-out crop", crops, None), *rows]):
        for k, axes in enumerate(axes_row):
            axes.imshow(images.to_uint8(pixels[k]))
            axes.set_axis_off()
            said = [label] if k == 0 else []
            if losses is not None:
                said.append(f"loss {losses[k]['loss']:.0f}, content {losses[k]['content']:.2f}")
            axes.set_title("\n".join(said), fontsize=8)
    figure.suptitle("held-out crops and their held-out loss (the style tool's objective)",
                    fontsize=10)
    figure.savefig(path, pil_kwargs={"quality": 90})


def plot(record: dict, path: str) -> None:
    """Left: held-out loss against minutes of training, each run (``--fast``'s mean is left
    out: the crops where its rules stopped it early dominate it; the crop table compares).
    Right: the warping error of each frame of the sample clip, the network's beside the
    optimised runs'."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    losses, frames = figure.subplots(1, 2)
    for run in record["runs"]:
        points = run["checkpoints"][1:]  # ckpt-0 is the untrained network
        losses.plot([c["seconds"] / 60 for c in points], [c["loss"] for c in points], "o-",
                    label=f"network, {_label(run)}, width {run['settings']['width']:g}")
    losses.set_yscale("log")
    losses.set_xlabel("minutes of training (2 workers, 1 ps, this machine)")
    losses.set_ylabel("held-out loss (style tool's objective)")
    losses.grid(True, which="both", alpha=0.3)
    losses.legend()
    clip = record["clip"]
    base = clip["video_quality"]
    for label, errors in ((f"network ({clip['checkpoint']})", clip["warping_error"]),
                          ("independent Gatys frames", base["independent"]),
                          ("--video", base["video"])):
        frames.plot(range(2, len(errors) + 2), errors, ".-", label=label)
    frames.set_xlabel("frame of the sample clip")
    frames.set_ylabel("warping error (true flow, 0-255)")
    frames.grid(True, alpha=0.3)
    frames.legend()
    figure.savefig(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="phase", required=True)
    t = sub.add_parser("train")
    t.add_argument("--vgg", required=True)
    t.add_argument("--folder", required=True)
    t.add_argument("--minutes", type=float, default=60.0)
    t.add_argument("--width", type=float, default=0.5)
    t.add_argument("--content-layer", default="relu4_2")
    t.add_argument("--content-weight", type=float, default=StyleNetConfig.content_weight,
                   help="default: training's own")
    t.add_argument("--checkpoint-secs", type=float, default=300.0)
    s = sub.add_parser("score")
    s.add_argument("--vgg", required=True)
    s.add_argument("--folders", nargs="+", required=True,
                   help="training folders; the first is the one reported at --minutes, the "
                        "others are compared with it at the shortest run's last global step")
    s.add_argument("--minutes", type=float, default=60.0)
    s.add_argument("--frames", type=int, default=24, help="frames of the sample clip")
    s.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "style_net_quality.json"))
    s.add_argument("--video-json",
                   default=os.path.join(ROOT, "benchmarks", "video_quality.json"))
    s.add_argument("--pictures",
                   default=os.path.join(ROOT, "docs", "images", "style_net_vs_fast.jpg"))
    s.add_argument("--plot",
                   default=os.path.join(ROOT, "docs", "images", "style_net_quality.png"))
    args = parser.parse_args(argv)
    if args.phase == "train":
        print(json.dumps(train(args)))
    else:
        found = score(args)
        print(json.dumps({k: found[k] for k in ("fast", "at_minutes", "layers_at_step")},
                         default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
