"""A cluster across real network hosts: the ps, the chief and worker 1 each in a Linux network
namespace of its own, with its own address in 198.18.0.0/15, joined by a bridge (netns.py).

Every task starts through ``ip netns exec`` with ``--allow-remote``, on port 2222 of its own
host. The faults are partitions: a host's link goes down at the bridge, so its packets are
dropped and nothing is refused, as when a cable or a switch fails. Each test prints a
``measured:`` line (``pytest -s`` shows it) with the times the README's fault table quotes.
Every wait is bounded; the ``hosts`` fixture kills the tasks and removes the namespaces.
"""
import json
import re
import time

import pytest

pytestmark = pytest.mark.netns
SUMMARY = re.compile(r"summary: job=worker task=(\d+) local_steps=(\d+) "
                     r"global_steps=(-?\d+)\.\.(\d+)")
PORT = 2222


def steps(command) -> tuple[int, int, int]:
    """(local steps, first global step, last global step) from a worker's summary line."""
    (_, local, first, last), = SUMMARY.findall(command.output)
    return int(local), int(first), int(last)


def saved_step(folder) -> int:
    return int(re.search(r"model\.ckpt-(\d+)", (folder / "checkpoint").read_text()).group(1))


class Cluster:
    """ps, chief and worker 1 on three hosts; start(name) runs that task from flags."""

    def __init__(self, hosts, folder, *options: str):
        self.net = hosts("ps", "chief", "worker")
        self.addresses = {name: f"{self.net.address(name)}:{PORT}"
                          for name in ("ps", "chief", "worker")}
        self.common = ("--checkpoint-dir", str(folder), "--allow-remote", *options)

    def flags(self, name: str) -> tuple[str, ...]:
        job, index = {"ps": ("ps", 0), "chief": ("worker", 0), "worker": ("worker", 1)}[name]
        return ("--ps-hosts", self.addresses["ps"],
                "--worker-hosts", f"{self.addresses['chief']},{self.addresses['worker']}",
                "--job-name", job, "--task-index", str(index))

    def start(self, name: str):
        return self.net.start(name, "train", *self.common, *self.flags(name))

    def start_all(self) -> dict:
        return {name: self.start(name) for name in ("ps", "chief", "worker")}


@pytest.mark.parametrize("source", ["flags", "TF_CONFIG"])
def test_each_task_on_its_own_host_trains_and_every_process_exits_0(hosts, tmp_path, source):
    cluster = Cluster(hosts, tmp_path, "--last-step", "600", "--log-every", "100",
                      "--timeout", "20")
    if source == "flags":
        tasks = cluster.start_all()
    else:
        spec = {"chief": [cluster.addresses["chief"]], "worker": [cluster.addresses["worker"]],
                "ps": [cluster.addresses["ps"]]}
        tasks = {name: cluster.net.start(name, "train", *cluster.common, env={
                     "TF_CONFIG": json.dumps({"cluster": spec, "task": task})})
                 for name, task in (("ps", {"type": "ps", "index": 0}),
                                    ("chief", {"type": "chief", "index": 0}),
                                    ("worker", {"type": "worker", "index": 0}))}
    for name in ("chief", "worker", "ps"):
        assert tasks[name].finish() == 0, tasks[name].output
    assert steps(tasks["chief"])[0] > 0 and steps(tasks["worker"])[0] > 0
    assert max(steps(tasks["chief"])[2], steps(tasks["worker"])[2]) >= 600
    assert "every worker is done" in tasks["ps"].output
    assert f"serving at {cluster.addresses['worker']}" in tasks["worker"].output
    # The config line shows the cluster the task uses, not the local cluster's size.
    config = json.loads(tasks["worker"].wait_for(r"^config: (.*)$").group(1))
    assert "workers" not in config and config["cluster"]["ps"] == [cluster.addresses["ps"]]
    assert (config["job"], config["task_index"]) == ("worker", 1)
    for command in tasks.values():
        assert command.leftovers() == []


def test_a_partitioned_worker_exits_138_and_a_restarted_one_rejoins(hosts, tmp_path):
    timeout = 3
    cluster = Cluster(hosts, tmp_path, "--last-step", "15000", "--log-every", "500",
                      "--timeout", str(timeout))
    tasks = cluster.start_all()
    tasks["worker"].wait_for(r"job=worker task=1 pid=\d+ global_step=")
    cluster.net.cut("worker")
    cut = time.monotonic()
    assert tasks["worker"].finish(limit=timeout + 30) == 138, tasks["worker"].output
    lost_after = time.monotonic() - cut
    assert re.search(r"job=worker task=1 pid=\d+ error: gave up waiting for a training step "
                     r"from the parameter server", tasks["worker"].output)
    time.sleep(max(0.0, timeout + 1 - lost_after))  # down for longer than --timeout
    cluster.net.mend("worker")
    down = time.monotonic() - cut
    again = cluster.start("worker")
    assert again.finish() == 0, again.output
    chief_at_rejoin = int(again.wait_for(r"job=worker task=1 .*global_step=(\d+)").group(1))
    assert tasks["chief"].finish() == 0, tasks["chief"].output
    assert tasks["ps"].finish(limit=60) == 0, tasks["ps"].output
    assert steps(again)[0] > 0 and max(steps(again)[2], steps(tasks["chief"])[2]) >= 15000
    assert "every worker is done" in tasks["ps"].output
    print(f"measured: worker partitioned, exit 138 after {lost_after:.1f} s "
          f"(--timeout {timeout}); link down {down:.1f} s; the restarted worker trained "
          f"{steps(again)[0]} steps, its first progress line at global step {chief_at_rejoin}")
    for command in (*tasks.values(), again):
        assert command.leftovers() == []


def test_a_partitioned_ps_ends_every_task_and_a_rerun_resumes(hosts, tmp_path):
    timeout, bound = 3, 10
    cluster = Cluster(hosts, tmp_path, "--last-step", "1000000", "--log-every", "100",
                      "--checkpoint-every", "100", "--timeout", str(timeout))
    tasks = cluster.start_all()
    # any logged step from 300 on: racing updates can skip every line of a narrower window
    tasks["chief"].wait_for(r"job=worker task=0 pid=\d+ global_step=([3-9]\d\d|\d{4,})/")
    cluster.net.cut("ps")
    cut = time.monotonic()
    exited = {}
    for name in ("chief", "worker"):
        assert tasks[name].finish(limit=timeout + bound) == 138, tasks[name].output
        exited[name] = time.monotonic() - cut
        assert "error: gave up waiting for" in tasks[name].output
    patience = 3 * timeout
    assert tasks["ps"].finish(limit=patience + bound) == 138, tasks["ps"].output
    exited["ps"] = time.monotonic() - cut
    assert re.search(rf"job=ps task=0 pid=\d+ error: no worker heard from for {patience} s",
                     tasks["ps"].output)
    cluster.net.mend("ps")
    saved = saved_step(tmp_path)
    assert saved >= 100

    cluster.common = (*cluster.common, "--last-step", str(saved + 300))
    rerun = cluster.start_all()
    for name in ("chief", "worker", "ps"):
        assert rerun[name].finish() == 0, rerun[name].output
    assert saved < steps(rerun["chief"])[1] <= saved + 300
    print(f"measured: ps partitioned, exit 138 after chief {exited['chief']:.1f} s, worker "
          f"{exited['worker']:.1f} s, ps {exited['ps']:.1f} s (--timeout {timeout}); "
          f"rerun resumed after global step {saved}")
    for command in (*tasks.values(), *rerun.values()):
        assert command.leftovers() == []
