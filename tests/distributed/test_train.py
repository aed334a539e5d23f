"""End-to-end runs of the local cluster and of single tasks, on loopback, with faults.

Each test starts real TF gRPC servers in separate processes. Every wait is bounded, and the
``cli`` fixture kills whatever a failed test leaves running.
"""
import json
import os
import re
import signal
import time

import pytest

SUMMARY = re.compile(r"summary: job=worker task=(\d+) local_steps=(\d+) "
                     r"global_steps=(-?\d+)\.\.(\d+)")


def workers(output: str) -> dict:
    """task -> (local steps, first global step, last global step) from the summary lines."""
    return {int(t): (int(n), int(a), int(b)) for t, n, a, b in SUMMARY.findall(output)}


def train(cli, folder, *extra):
    return cli("train", "--checkpoint-dir", str(folder), "--log-every", "100", *extra)


def test_every_worker_trains_then_eval_plots_and_a_rerun_extends(cli, tmp_path):
    run = train(cli, tmp_path, "--last-step", "1500")
    assert run.finish() == 0, run.output
    done = workers(run.output)
    assert sorted(done) == [0, 1, 2]
    assert all(steps > 0 for steps, _, _ in done.values()), run.output
    assert sum(steps for steps, _, _ in done.values()) >= 1500
    assert max(last for _, _, last in done.values()) >= 1500
    assert re.search(r"job=worker task=\d pid=\d+ global_step=\d+00/1500 ", run.output)
    assert "job=ps task=0 pid=" in run.output and "every worker is done" in run.output
    assert re.search(r"summary: workers_finished=3/3 .*final_loss=0\.\d+ .*"
                     r"global_steps_per_s=\d", run.output)
    assert run.leftovers() == []
    assert os.path.exists(tmp_path / "checkpoint")

    plot = cli("eval", "--checkpoint-dir", str(tmp_path))
    assert plot.finish() == 0, plot.output
    mse = float(plot.wait_for(r"eval: checkpoint=\S+ global_step=(\d+) mse=(\S+)").group(2))
    assert 0 < mse < 0.1  # the fit beats predicting the mean (variance of y is about 0.1)
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    more = train(cli, tmp_path, "--last-step", "2000")
    assert more.finish() == 0, more.output
    assert min(first for _, first, _ in workers(more.output).values()) > 1500


def test_a_killed_worker_is_reported_and_the_others_finish(cli, tmp_path):
    run = train(cli, tmp_path, "--last-step", "4000")
    victim = run.pid_of("worker", 2)
    # Any logged step from 300 to 2999: racing updates can skip every line of a narrow window.
    run.wait_for(r"global_step=([3-9]\d\d|[12]\d\d\d)/")
    os.kill(victim, signal.SIGKILL)
    assert run.finish() == 1, run.output
    assert "summary: job=worker task=2 stopped early (killed by signal 9)" in run.output
    assert sorted(workers(run.output)) == [0, 1]
    assert max(last for _, _, last in workers(run.output).values()) >= 4000
    assert "workers [2] did not finish" in run.output
    assert run.leftovers() == []


def test_a_killed_chief_stops_the_run_and_a_relaunch_resumes(cli, tmp_path):
    run = train(cli, tmp_path, "--last-step", "20000", "--checkpoint-every", "200")
    chief = run.pid_of("worker", 0)
    run.wait_for(r"global_step=([6-9]\d\d|\d{4})/")  # from 600 on, before 10000
    os.kill(chief, signal.SIGKILL)
    assert run.finish() == 1, run.output
    assert "the chief (worker 0) exited with code -9" in run.output
    assert run.leftovers() == []
    saved = int(re.search(r"model\.ckpt-(\d+)",
                          (tmp_path / "checkpoint").read_text()).group(1))
    assert saved >= 200

    again = train(cli, tmp_path, "--last-step", str(saved + 300))
    assert again.finish() == 0, again.output
    firsts = [first for _, first, _ in workers(again.output).values()]
    assert saved < min(firsts) <= saved + 300, (saved, firsts)


def test_a_dead_ps_ends_every_worker_within_the_timeout(cli, tmp_path):
    run = train(cli, tmp_path, "--last-step", "1000000", "--timeout", "5")
    ps = run.pid_of("ps", 0)
    run.wait_for(r"global_step=([3-9]\d\d|\d{4,})/")  # any logged step from 300 on
    killed = time.monotonic()
    os.kill(ps, signal.SIGKILL)
    code = run.finish(limit=60)
    assert code == 1, run.output
    assert time.monotonic() - killed < 30
    for task in range(3):
        assert re.search(rf"job=worker task={task} pid=\d+ error: gave up waiting for a "
                         rf"training step from the parameter server", run.output) or \
            f"summary: job=worker task={task} stopped early (killed" in run.output, run.output
    assert run.leftovers() == []


def test_synchronous_training_finishes_without_the_grace_period(cli, tmp_path):
    run = train(cli, tmp_path, "--last-step", "300", "--workers", "2", "--sync")
    assert run.finish(limit=120) == 0, run.output
    done = workers(run.output)
    assert sorted(done) == [0, 1] and all(steps > 0 for steps, _, _ in done.values())
    seconds = float(re.search(r"launch_to_exit_seconds=(\S+)", run.output).group(1))
    assert seconds < 120  # SyncReplicasOptimizer's default grace period alone is 120 s


@pytest.mark.parametrize("signum, sigint_ignored", [
    (signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["SIGINT", "SIGINT-when-started-ignoring-it", "SIGTERM"])
def test_a_signal_saves_a_checkpoint_and_exits_128_plus_its_number(cli, tmp_path, signum,
                                                                   sigint_ignored):
    """SIGINT gives 130 and SIGTERM 143, also from a launcher that inherited SIGINT ignored,
    as a script's background job does (then Python installs no KeyboardInterrupt)."""
    run = cli("train", "--checkpoint-dir", str(tmp_path), "--log-every", "100",
              "--last-step", "1000000", "--checkpoint-every", "100000",
              sigint_ignored=sigint_ignored)
    run.wait_for(r"global_step=([3-9]\d\d|\d{4,})/")  # any logged step from 300 on
    os.kill(run.process.pid, signum)
    assert run.finish(limit=120) == 128 + signum, run.output
    assert f"interrupted by {signum.name}" in run.output
    saved = int(re.search(r"model\.ckpt-(\d+)",
                          (tmp_path / "checkpoint").read_text()).group(1))
    assert saved >= 300  # the last checkpoint, not only the one at step 0
    assert "every worker is done" in run.output and "stopped by the launcher" not in run.output
    assert run.leftovers() == []


def _free_ports(count):
    from tf1cnn.distributed.cluster import free_ports

    return free_ports(count)


def test_one_task_per_process_from_flags_and_tf_config_and_a_chief_rejoins(cli, tmp_path):
    ps, chief, worker = (f"127.0.0.1:{port}" for port in _free_ports(3))
    common = ("--checkpoint-dir", str(tmp_path), "--log-every", "100",
              "--checkpoint-every", "100", "--last-step", "6000")
    config = {"cluster": {"chief": [chief], "worker": [worker], "ps": [ps]}}
    ps_task = cli("train", *common, "--ps-hosts", ps, "--worker-hosts", f"{chief},{worker}",
                  "--job-name", "ps", "--task-index", "0")
    other = cli("train", *common, env={"TF_CONFIG": json.dumps(
        dict(config, task={"type": "worker", "index": 0}))})
    chief_env = {"TF_CONFIG": json.dumps(dict(config, task={"type": "chief", "index": 0}))}
    chief_task = cli("train", *common, env=chief_env)
    # Any logged step from 800 to 5999: a line can be skipped when the other worker's updates
    # race past a multiple of --log-every, so no narrower window is sure to appear.
    chief_task.wait_for(r"global_step=([89]\d\d|[1-5]\d\d\d)/")
    chief_task.kill()
    before = int(other.wait_for(r"job=worker task=1 pid=\d+ global_step=(\d+)").group(1))
    saved = int(re.search(r"model\.ckpt-(\d+)",
                          (tmp_path / "checkpoint").read_text()).group(1))

    second_chief = cli("train", *common, env=chief_env)
    assert second_chief.finish() == 0, second_chief.output
    assert other.finish() == 0, other.output
    assert ps_task.finish(limit=60) == 0, ps_task.output
    (_, first, last), = workers(second_chief.output).values()
    # It took the ps's newer values instead of restoring its checkpoint over them.
    assert first > max(saved, before), (saved, before, first)
    # The run ends at step 6000, reached by whichever worker's update came last: the chief's
    # own last step can be 5999 when the other worker raced past it.
    (_, _, other_last), = workers(other.output).values()
    assert max(last, other_last) >= 6000 and "final_loss=" in second_chief.output
    assert "every worker is done" in ps_task.output
    for command in (ps_task, other, second_chief):
        assert command.leftovers() == []


def test_a_ps_whose_worker_is_lost_for_good_exits_138_after_3_timeouts(cli, tmp_path):
    ps, chief, worker = (f"127.0.0.1:{port}" for port in _free_ports(3))
    flags = ("--checkpoint-dir", str(tmp_path), "--log-every", "100", "--timeout", "2",
             "--last-step", "1500", "--ps-hosts", ps, "--worker-hosts", f"{chief},{worker}")
    ps_task = cli("train", *flags, "--job-name", "ps", "--task-index", "0")
    lost = cli("train", *flags, "--job-name", "worker", "--task-index", "1")
    chief_task = cli("train", *flags, "--job-name", "worker", "--task-index", "0")
    lost.wait_for(r"job=worker task=1 pid=\d+ global_step=")
    lost.kill()
    assert chief_task.finish() == 0, chief_task.output
    finished = time.monotonic()
    assert ps_task.finish(limit=60) == 138, ps_task.output
    assert time.monotonic() - finished < 3 * 2 + 10
    assert re.search(r"job=ps task=0 pid=\d+ error: no worker heard from for 6 s \(3 x "
                     r"--timeout\); workers \[1\] did not finish", ps_task.output)
    assert ps_task.leftovers() == [] and chief_task.leftovers() == []
