"""``tf1cnn-cluster train --model style-net``: the feed-forward style network on the cluster.

Tiny settings throughout (a VGG19 of 1/16 the channels with random weights, 32-pixel crops,
batches of 2, the transformation network at 1/8 width), on loopback and across network
namespaces. Every wait is bounded; the fixtures kill whatever a failed test leaves running.
"""
import os
import re
import signal
import time

import pytest
import tensorflow as tf
from google.protobuf import text_format

from tf1cnn.style_transfer.network import matconvnet, vgg

STEP = re.compile(r"job=worker task=(\d) pid=\d+ global_step=(\d+)/\d+ local_steps=\d+ "
                  r"loss=\S+ content=\S+ style=\S+ tv=\S+ pictures_per_s=\S+ eta=\S+ time=")
SUMMARY = re.compile(r"summary: job=worker task=(\d+) local_steps=(\d+) "
                     r"global_steps=(-?\d+)\.\.(\d+)")
TINY = ("--crop", "32", "--batch", "2", "--width", "0.125", "--log-every", "5")


@pytest.fixture(scope="module")
def tiny_vgg(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("vgg") / "tiny-vgg19.mat"
    matconvnet.write_layers(path, vgg.random_layers(19, width_divisor=16, seed=0))
    return str(path)


def train(cli, folder, vgg_file, *extra, **kwargs):
    return cli("train", "--model", "style-net", "--checkpoint-dir", str(folder), "--vgg",
               vgg_file, *TINY, *extra, **kwargs)


def saved_step(folder) -> int:
    return int(re.search(r"model\.ckpt-(\d+)", (folder / "checkpoint").read_text()).group(1))


def check_nothing_of_the_vgg_is_saved(folder) -> None:
    """The checkpoint holds the transformation network, the step and Adam's slots only, and
    the written graph holds no weight constants."""
    names = [name for name, _ in tf.train.list_variables(str(folder))]
    assert names and all(name.startswith("transform/") or name in
                         ("global_step", "beta1_power", "beta2_power") for name in names), names
    graph = text_format.Parse((folder / "graph.pbtxt").read_text(), tf.compat.v1.GraphDef())
    constants = [node.name for node in graph.node
                 if node.op == "Const" and node.name.startswith("vgg_weights")]
    assert not constants, constants[:5]


def test_two_workers_train_checkpoint_lose_the_chief_and_a_rerun_resumes(cli, tmp_path,
                                                                        tiny_vgg):
    run = train(cli, tmp_path, tiny_vgg, "--last-step", "100000", "--checkpoint-secs", "1",
                "--keep-checkpoints", "2")
    chief = run.pid_of("worker", 0)
    run.wait_for(r"job=worker task=0 pid=\d+ global_step=([2-9]\d|\d{3,})/")
    assert STEP.search(run.output), run.output
    run.wait_for(r"job=worker task=0 pid=\d+ global_step=([4-9]\d|\d{3,})/")
    assert saved_step(tmp_path) > 0  # saved every second: one is there by now
    seen, deadline = {saved_step(tmp_path)}, time.monotonic() + 60
    while len(seen) < 4 and time.monotonic() < deadline:  # ckpt-0 and three more
        time.sleep(0.2)
        seen.add(saved_step(tmp_path))
    kept = tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths
    assert len(seen) >= 4 and len(kept) == 2, (seen, kept)
    os.kill(chief, signal.SIGKILL)
    assert run.finish() == 1, run.output
    assert "the chief (worker 0) exited with code -9" in run.output
    assert run.leftovers() == []
    saved = saved_step(tmp_path)
    check_nothing_of_the_vgg_is_saved(tmp_path)

    again = train(cli, tmp_path, tiny_vgg, "--last-step", str(saved + 10))
    assert again.finish() == 0, again.output
    firsts = [int(first) for _, _, first, _ in SUMMARY.findall(again.output)]
    assert firsts and saved < min(firsts) <= saved + 10, (saved, again.output)
    assert again.leftovers() == []


@pytest.mark.parametrize("extra, message", [
    (("--model", "toy", "--style", "x.png"), r"--style is for --model style-net"),
    (("--model", "style-net", "--hidden", "5"), r"--hidden only apply to --model toy"),
    (("--model", "style-net", "--crop", "8"), r"--crop must be at least 16"),
    (("--model", "style-net", "--keep-checkpoints", "0"), r"--keep-checkpoints must be a whole"),
    (("--model", "style-net", "--style", "/nonexistent.png"), r"/nonexistent\.png"),
    (("--model", "style-net", "--images", "/nonexistent"), r"/nonexistent"),
    (("--model", "style-net", "--vgg", "/nonexistent.mat"), r"/nonexistent\.mat"),
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, extra, message):
    run = cli("train", "--checkpoint-dir", str(tmp_path / "run"), *extra)
    assert run.finish() == 2, run.output
    assert len(run.lines) == 1 and run.lines[0].startswith("error: "), run.output
    assert re.search(message, run.lines[0]), run.output


def test_a_rerun_with_other_network_settings_is_refused(cli, tmp_path, tiny_vgg):
    (tmp_path / "run.json").write_text('{"model": "style-net", "width": 1.0}')
    run = train(cli, tmp_path, tiny_vgg, "--last-step", "5")
    assert run.finish() == 2, run.output
    assert len(run.lines) == 1 and "holds a run with other settings" in run.lines[0], run.output


@pytest.mark.netns
def test_each_task_on_its_own_host_trains_the_style_network(hosts, tmp_path, tiny_vgg):
    net = hosts("ps", "chief", "worker")
    address = {name: f"{net.address(name)}:2222" for name in ("ps", "chief", "worker")}
    common = ("train", "--model", "style-net", "--checkpoint-dir", str(tmp_path), "--vgg",
              tiny_vgg, *TINY, "--last-step", "20", "--allow-remote", "--timeout", "30",
              "--ps-hosts", address["ps"], "--worker-hosts",
              f"{address['chief']},{address['worker']}")
    tasks = {name: net.start(name, *common, "--job-name", job, "--task-index", str(index))
             for name, job, index in (("ps", "ps", 0), ("chief", "worker", 0),
                                      ("worker", "worker", 1))}
    for name in ("chief", "worker", "ps"):
        assert tasks[name].finish() == 0, tasks[name].output
    assert max(int(last) for command in (tasks["chief"], tasks["worker"])
               for *_, last in SUMMARY.findall(command.output)) >= 20
    check_nothing_of_the_vgg_is_saved(tmp_path)
    for command in tasks.values():
        assert command.leftovers() == []
