"""One member of the cluster: a parameter server, or a worker that trains.

``serve_ps`` holds the variables until every worker has said it is done, then returns, so the
process exits by itself instead of blocking for ever in ``server.join()``. Workers speak to it
through one queue on each ps: a worker's index, about once a second while it trains, says it is
alive; ``-1 - index`` says it is done. A ps that has heard from no worker for ``PS_PATIENCE``
timeouts, with some not done, gives up: those workers are lost for good, and a ps of a
multi-host cluster would otherwise wait for ever. ``train_worker``
builds the graph under ``replica_device_setter`` and trains in a ``MonitoredTrainingSession``;
worker 0 is the chief and writes checkpoints and summaries. Each worker prints one line per
``log_every`` global steps that it completes, naming its job, task and pid.

The fixes over a plain port of the 2019 code, measured on TF 2.21:
- device filters: a session talks to the ps and its own worker only, so a finished worker does
  not stall the others' session creation;
- a short ready-wait: a worker polls the ps until the chief has initialised the variables,
  instead of the session manager's fixed 30 s sleeps;
- a watchdog bounds every phase by ``timeout``, so a dead ps ends the workers with an error
  instead of leaving them blocked in a session that never closes; the ps's own wait is
  bounded too, once it has heard from a worker;
- a chief that joins a cluster whose ps already holds trained values takes them as they are
  instead of restoring its older checkpoint over them.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
import typing
from collections.abc import Callable

import tensorflow as tf

from tf1cnn.common import exits

from . import model
from .cluster import Task, device_filters
from .config import TrainConfig
from .data import make_data
from .progress import Progress
from .results import WorkerResult
from .signals import StopSignals
from .style_config import StyleNetConfig
from .watchdog import Watchdog

v1 = tf.compat.v1
POLL_SECONDS = 0.1
# A ps gives up after this many --timeouts without a word from any worker. A worker's own
# watchdog ends it after one --timeout without progress, and a restarted one needs some more to
# load TensorFlow and rejoin, so 3 leaves room for a rejoin after a short partition.
PS_PATIENCE = 3
BEAT_SECONDS = 1.0  # at most this long between a training worker's "alive" words to the ps


class Model(typing.NamedTuple):
    """What a model adds to the training graph, built under the device setter."""
    loss: tf.Tensor
    parts: dict  # name: tensor, shown in the progress lines besides the loss
    feed: Callable[[], dict]  # the next step's feed
    local_feed: dict  # for the local variables' initialiser
    pictures: int  # pictures in one step's batch (0: not a picture model)


class TrainGraph(typing.NamedTuple):
    model: Model
    step_after: tf.Tensor
    hooks: list
    alive: list  # ops that tell every ps this worker is training
    done: list  # ops that tell every ps this worker is done
    uninitialized: tf.Tensor


class ClusterError(RuntimeError):
    """A task could not reach the others in time, or lost them while training."""


def exit_when_lost(task: Task, call, log=print):
    """Return call(); if the cluster cannot be reached, print one line and exit exits.LOST."""
    try:
        return call()
    except ClusterError as exc:
        message = str(exc)
    except tf.errors.OpError as exc:
        message = f"{type(exc).__name__}: {exc.message.splitlines()[0]}"
    log(f"{task} pid={os.getpid()} error: {message}")
    raise SystemExit(exits.LOST)


def session_config(task: Task, timeout: float, threads: int = 1) -> v1.ConfigProto:
    """``threads`` for each op, one op at a time (the toy model is tiny and its tasks share the
    cores; a style network's worker gets its share of them), the device filters, and a bound
    on every call."""
    return v1.ConfigProto(device_filters=device_filters(task),
                          intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1,
                          operation_timeout_in_ms=int(timeout * 1000))


def start_server(cluster: dict, task: Task, timeout: float,
                 threads: int = 1) -> v1.train.Server:
    return v1.train.Server(v1.train.ClusterSpec(cluster), job_name=task.job,
                           task_index=task.index, config=session_config(task, timeout, threads))


def _word_queues(cluster: dict):
    """One queue per ps on which the workers say they are alive (index) or done (-1 - index)."""
    queues = []
    for index in range(len(cluster["ps"])):
        with v1.device(f"/job:ps/task:{index}"):
            # The ps takes a word every few ms; a full queue would only slow a worker down.
            queues.append(v1.FIFOQueue(100 + len(cluster["worker"]), tf.int32, shapes=[[]],
                                       shared_name=f"workers_words_{index}",
                                       name=f"workers_words_{index}"))
    return queues


def serve_ps(cluster: dict, index: int, timeout: float, log=print,
             stop: StopSignals | None = None) -> list[int]:
    """Serve variables until every worker has said it is done, or until ``stop`` is set.

    Returns the indices of the workers that finished. Raises ClusterError when, after the first
    word from a worker, none has come for ``PS_PATIENCE * timeout`` seconds. Until the first
    word it waits without a bound: the workers may be started much later, by hand or by a
    scheduler pulling images.
    """
    task = Task("ps", index)
    server = start_server(cluster, task, timeout)
    log(f"{task} pid={os.getpid()} serving at {cluster['ps'][index]}")
    workers = len(cluster["worker"])
    patience = PS_PATIENCE * timeout
    with tf.Graph().as_default():
        dequeue = _word_queues(cluster)[index].dequeue()
        done, heard = set(), None  # heard: when the last word came
        poll = v1.RunOptions(timeout_in_ms=500)
        with v1.Session(server.target, config=session_config(task, timeout)) as session:
            while len(done) < workers and not (stop is not None and stop.is_set()):
                try:
                    word = int(session.run(dequeue, options=poll))
                except tf.errors.DeadlineExceededError:
                    if heard is not None and time.monotonic() - heard > patience:
                        missing = sorted(set(range(workers)) - done)
                        raise ClusterError(f"no worker heard from for {patience:g} s "
                                           f"({PS_PATIENCE} x --timeout); workers {missing} "
                                           f"did not finish") from None
                    continue
                heard = time.monotonic()
                if word < 0:
                    done.add(-1 - word)
    missing = sorted(set(range(workers)) - done)
    why = f" on {stop.name}" if stop is not None and stop.is_set() else ""
    log(f"{task} pid={os.getpid()} stopping{why}: "
        + (f"workers {missing} did not finish" if missing else "every worker is done"))
    return sorted(done)


def wait_until_ready(target: str, config, timeout: float, uninitialized) -> None:
    """Poll until every variable is initialised on the ps, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    with v1.Session(target, config=config) as session:
        while True:
            try:
                if not len(session.run(uninitialized)):
                    return
            except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError):
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"the variables were not initialised within {timeout:g} s: "
                                   f"is the chief (worker 0) running?")
            time.sleep(POLL_SECONDS)


def ps_holds_values(target: str, config, uninitialized) -> bool:
    """True when the ps already holds initialised variables (a chief rejoining a live run)."""
    with v1.Session(target, config=config) as session:
        try:
            return not len(session.run(uninitialized))
        except tf.errors.DeadlineExceededError:
            raise ClusterError("the parameter server did not answer: is it running?") from None


def _toy(config: TrainConfig) -> Model:
    """The tutorial's 1 → hidden → 1 regression on its fixed points."""
    inputs = v1.placeholder(tf.float32, [None, 1], name="x")
    labels = v1.placeholder(tf.float32, [None, 1], name="y")
    x, y = make_data(config.points, config.noise, config.seed)
    feed = {inputs: x, labels: y}
    return Model(model.mse(labels, model.predict(inputs, config.hidden)), {}, lambda: feed, {},
                 0)


def _style_net(task: Task, config: TrainConfig, net: StyleNetConfig, setter) -> Model:
    """The feed-forward style network on random crops, this worker's own draw."""
    from tf1cnn.common import images, samples
    from tf1cnn.style_transfer.network import weights

    from . import pictures, style_net

    layers = weights.load(net.vgg, net.layers, progress=False).layers
    style = images.read_rgb(net.style or samples.sample(samples.SAMPLE_STYLE), "style")
    crops = pictures.Crops(pictures.training_sources(net.images), net.crop,
                           seed=config.seed + task.index)
    built = style_net.build(net, layers, style, pictures.held_out(1, net.crop)[0],
                            f"/job:worker/task:{task.index}", setter)
    parts = {"content": built.losses.content, "style": built.losses.style,
             "tv": built.losses.tv}
    return Model(built.losses.total, parts, lambda: {built.pictures: crops.batch(net.batch)},
                 built.local_feed, net.batch)


def _build(cluster: dict, task: Task, config: TrainConfig,
           net: StyleNetConfig | None) -> TrainGraph:
    """The training graph, variables on the ps by replica_device_setter, ops on this worker."""
    v1.set_random_seed(config.seed)  # the chief's initial weights, like the data, follow seed
    setter = v1.train.replica_device_setter(worker_device=f"/job:worker/task:{task.index}",
                                            cluster=v1.train.ClusterSpec(cluster))
    # tf.device rejects the setter's function on TF 2.x; the v1 form still takes it. A style
    # network builds its VGG on this worker, outside the setter.
    built = _style_net(task, config, net, setter) if net is not None else None
    with v1.device(setter):
        built = built or _toy(config)
        global_step = v1.train.get_or_create_global_step()
        optimizer = (v1.train.GradientDescentOptimizer(config.learning_rate) if net is None
                     else v1.train.AdamOptimizer(config.learning_rate))
        hooks = [v1.train.StopAtStepHook(last_step=config.last_step)]
        if config.sync:
            workers = len(cluster["worker"])
            optimizer = v1.train.SyncReplicasOptimizer(
                optimizer, replicas_to_aggregate=workers, total_num_replicas=workers)
            hooks.append(optimizer.make_session_run_hook(task.is_chief))
        train_op = optimizer.minimize(built.loss, global_step=global_step)
        with tf.control_dependencies([train_op]):
            step_after = global_step.read_value()  # the global step this update made
        v1.summary.scalar("loss", built.loss)
    words = _word_queues(cluster)
    return TrainGraph(built, step_after, hooks,
                      [queue.enqueue(task.index) for queue in words],
                      [queue.enqueue(-1 - task.index) for queue in words],
                      # Global ones only: a worker initialises its local ones itself.
                      v1.report_uninitialized_variables(v1.global_variables()))


def train_worker(cluster: dict, index: int, config: TrainConfig, log=print,
                 stop: StopSignals | None = None, net: StyleNetConfig | None = None,
                 threads: int = 1) -> WorkerResult:
    """Train as worker ``index`` until the global step reaches ``config.last_step``, or until
    ``stop`` is set (then the chief still saves a last checkpoint). ``net``: the style
    network's settings, or None for the tutorial's toy model; ``threads`` per op.

    Raises ClusterError, or ends the process with exits.LOST, when the others cannot be
    reached within ``config.timeout`` seconds.
    """
    config = config.settled()
    task = Task("worker", index)
    pid = os.getpid()
    ps = ", ".join(cluster["ps"])
    with Watchdog(f"{task} pid={pid}", log) as watchdog:
        # Startup may wait for the other processes to load TensorFlow as well.
        watchdog.expect(2 * config.timeout, f"the parameter server at {ps} to start")
        server = start_server(cluster, task, config.timeout, threads)
        log(f"{task} pid={pid} serving at {cluster['worker'][index]}")
        sess_config = session_config(task, config.timeout, threads)
        with tf.Graph().as_default():
            g = _build(cluster, task, config, net)
            session = _monitored_session(server.target, sess_config, task, config, g, net)
            progress = Progress(f"{task} pid={pid}", config, g.model.pictures,
                                len(cluster["worker"]))
            local_steps, step, value = 0, None, float("nan")
            interrupted = False
            lost = f"a training step from the parameter server at {ps} (is it running?)"
            beat, next_beat = min(BEAT_SECONDS, config.timeout / 4), 0.0
            parts = list(g.model.parts.values())
            with _quiet_cancelled_queue_runners(), session:
                while not session.should_stop():
                    if stop is not None and stop.is_set():
                        # Leave the loop normally, so the chief's hooks save a last checkpoint.
                        interrupted = True
                        break
                    watchdog.expect(config.timeout, lost)
                    feed = g.model.feed()
                    fetches = [g.model.loss, g.step_after, *parts]
                    if time.monotonic() >= next_beat:
                        fetches += g.alive
                        next_beat = time.monotonic() + beat
                    found = session.run(fetches, feed)
                    value, step = found[:2]
                    local_steps += 1
                    line = progress.line(int(step), local_steps, float(value),
                                         dict(zip(g.model.parts, found[2:2 + len(parts)])))
                    if line:
                        log(line)
                watchdog.expect(config.timeout, f"the last checkpoint and the ps at {ps}")
            seconds = progress.seconds()
            with v1.Session(server.target, config=sess_config) as plain:
                final = float(plain.run(g.model.loss, feed)) if task.is_chief and step else None
                plain.run(g.done)
    return WorkerResult(index, local_steps,
                        -1 if progress.first is None else int(progress.first),
                        -1 if step is None else int(step), float(value), final, seconds,
                        interrupted)


def _monitored_session(target: str, sess_config, task: Task, config: TrainConfig,
                       g: TrainGraph,
                       net: StyleNetConfig | None) -> v1.train.MonitoredTrainingSession:
    """The training session, once the ps is ready for this worker: the chief checks whether it
    rejoins a ps that already holds values; the others wait until the chief has initialised."""
    if task.is_chief:
        rejoin = ps_holds_values(target, sess_config, g.uninitialized)
    else:
        rejoin = False
        wait_until_ready(target, sess_config, config.timeout, g.uninitialized)
    return v1.train.MonitoredTrainingSession(
        master=target, is_chief=task.is_chief, config=sess_config,
        hooks=g.hooks, **_checkpointing(config, net, rejoin, g.model.local_feed),
        stop_grace_period_secs=1, max_wait_secs=config.timeout, log_step_count_steps=0)


@contextlib.contextmanager
def _quiet_cancelled_queue_runners():
    """Drop the traceback of a queue-runner thread cancelled by the session's close.

    In sync mode the chief runs SyncReplicasOptimizer's queue runner, which blocks waiting for
    gradients that no longer come once training stops. The session waits
    ``stop_grace_period_secs`` (120 s by default; 1 s here), then closes and cancels it, and the
    thread prints a CancelledError traceback. That end is the expected one.
    """
    previous = threading.excepthook

    def hook(args):
        if not (args.thread is not None and args.thread.name.startswith("QueueRunnerThread")
                and issubclass(args.exc_type, tf.errors.CancelledError)):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def _checkpointing(config: TrainConfig, net: StyleNetConfig | None, rejoin: bool,
                   local_feed: dict) -> dict:
    """MonitoredTrainingSession's checkpoint arguments for the chief.

    The toy model is checkpointed every ``checkpoint_every`` global steps, a style network every
    ``checkpoint_secs`` seconds. A fresh ps gets the latest checkpoint restored (or fresh
    values). A ps that already holds values is newer than any checkpoint, so the chief saves
    there but does not restore or initialise; the session manager would do one or the other
    otherwise. ``local_feed`` sets the local variables (a style network's VGG weights).
    """
    when = ({"save_checkpoint_steps": config.checkpoint_every} if net is None
            else {"save_checkpoint_secs": net.checkpoint_secs})
    every = {"save_summaries_steps": config.log_every}
    scaffold = {"local_init_feed_dict": local_feed or None}
    if net is not None:  # the toy keeps the Scaffold's own Saver and its last five
        scaffold["saver"] = v1.train.Saver(sharded=True, max_to_keep=net.keep_checkpoints)
    if not rejoin:
        return dict(checkpoint_dir=config.checkpoint_dir,
                    scaffold=v1.train.Scaffold(**scaffold), **when, **every)
    saver = v1.train.CheckpointSaverHook(config.checkpoint_dir, saver=scaffold.get("saver"),
                                         **{k.replace("save_checkpoint_", "save_"): v
                                            for k, v in when.items()})
    return dict(checkpoint_dir=None, summary_dir=config.checkpoint_dir,
                scaffold=v1.train.Scaffold(init_op=tf.no_op(), **scaffold),
                chief_only_hooks=[saver], **every)
