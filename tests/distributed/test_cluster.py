"""Host lists, TF_CONFIG, ports and loopback checks: plain Python, checked before TF loads."""
import json
import socket

import pytest

from tf1cnn.common.errors import UsageError
from tf1cnn.distributed import cluster


def test_parse_hosts_keeps_order_and_accepts_ipv6():
    assert cluster.parse_hosts("a:1, [::1]:2,127.0.0.1:65535", "--x") == [
        "a:1", "[::1]:2", "127.0.0.1:65535"]
    assert cluster.split_address("[::1]:2", "--x") == ("::1", 2)


@pytest.mark.parametrize("text", ["", "a", "a:", ":1", "a:0", "a:65536", "a:x", "a:1,a:1",
                                  "a:1,,b:2"])
def test_parse_hosts_rejects_malformed_lists(text):
    with pytest.raises(UsageError, match="--ps-hosts"):
        cluster.parse_hosts(text, "--ps-hosts")


def test_from_flags_names_the_task_and_its_range():
    spec, task = cluster.from_flags("h:1", "h:2,h:3", "worker", 1)
    assert spec == {"ps": ["h:1"], "worker": ["h:2", "h:3"]}
    assert (task.job, task.index, task.is_chief) == ("worker", 1, False)
    assert cluster.from_flags("h:1", "h:2", "worker", 0)[1].is_chief
    with pytest.raises(UsageError, match="task index 2 is out of range: the cluster has 2 "
                                         "worker"):
        cluster.from_flags("h:1", "h:2,h:3", "worker", 2)
    with pytest.raises(UsageError, match="out of range"):
        cluster.from_flags("h:1", "h:2", "ps", -1)
    with pytest.raises(UsageError, match="job name"):
        cluster.from_flags("h:1", "h:2", "chief", 0)


def test_tf_config_with_a_separate_chief_makes_it_worker_0():
    jobs = {"chief": ["c:1"], "worker": ["w:1", "w:2"], "ps": ["p:1"]}
    for kind, index, expected in [("chief", 0, 0), ("worker", 0, 1), ("worker", 1, 2),
                                  ("ps", 0, 0)]:
        spec, task = cluster.from_tf_config(json.dumps(
            {"cluster": jobs, "task": {"type": kind, "index": index}}))
        assert spec == {"ps": ["p:1"], "worker": ["c:1", "w:1", "w:2"]}
        assert task.index == expected
        assert task.job == ("ps" if kind == "ps" else "worker")


def test_tf_config_without_chief_is_taken_as_is():
    spec, task = cluster.from_tf_config(json.dumps(
        {"cluster": {"worker": ["w:1"], "ps": ["p:1"]}, "task": {"type": "worker", "index": 0}}))
    assert spec == {"ps": ["p:1"], "worker": ["w:1"]} and task.is_chief


@pytest.mark.parametrize("value, message", [
    ("not json", "not JSON"),
    ('{"cluster": {}}', "not JSON of the form"),
    ('{"cluster": {"worker": ["w:1"]}, "task": {"type": "worker", "index": 0}}', "no ps"),
    (('{"cluster": {"worker": ["w:1"], "ps": ["p:1"], "evaluator": ["e:1"]},'
     ' "task": {"type": "worker", "index": 0}}'), "evaluator"),
    ('{"cluster": {"worker": ["w:1"], "ps": ["p:1"]}, "task": {"type": "worker", "index": 3}}',
     "out of range"),
    ('{"cluster": {"worker": ["w"], "ps": ["p:1"]}, "task": {"type": "worker", "index": 0}}',
     "host:port"),
])
def test_tf_config_errors_say_what_is_wrong(value, message):
    with pytest.raises(UsageError, match=message):
        cluster.from_tf_config(value)


def test_local_cluster_uses_distinct_free_loopback_ports():
    spec = cluster.local_cluster(workers=3, ps=2)
    addresses = spec["ps"] + spec["worker"]
    assert len(spec["ps"]) == 2 and len(spec["worker"]) == 3
    assert len(set(addresses)) == 5
    assert all(a.startswith("127.0.0.1:") and cluster.is_loopback(a) for a in addresses)
    for address in addresses:
        cluster.check_port_free(address)


def test_local_cluster_takes_explicit_ports_ps_first():
    assert cluster.local_cluster(2, 1, [7001, 7002, 7003]) == {
        "ps": ["127.0.0.1:7001"], "worker": ["127.0.0.1:7002", "127.0.0.1:7003"]}
    with pytest.raises(UsageError, match="needs 3 ports"):
        cluster.local_cluster(2, 1, [7001, 7002])
    with pytest.raises(UsageError, match="twice"):
        cluster.local_cluster(2, 1, [7001, 7002, 7001])


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port} .* is already in use"):
            cluster.check_port_free(f"127.0.0.1:{port}")
    cluster.check_port_free(f"127.0.0.1:{port}")  # free again once closed


@pytest.mark.parametrize("address, loopback", [
    ("localhost:1", True), ("127.0.0.1:1", True), ("127.8.9.10:1", True), ("[::1]:1", True),
    ("10.0.0.2:1", False), ("0.0.0.0:1", False), ("example.org:1", False),
    ("localhost.example.org:1", False)])
def test_is_loopback(address, loopback):
    assert cluster.is_loopback(address) is loopback


def test_non_loopback_lists_the_exposed_addresses():
    spec = {"ps": ["127.0.0.1:1"], "worker": ["10.1.1.1:2", "localhost:3"]}
    assert cluster.non_loopback(spec) == ["10.1.1.1:2"]


def test_device_filters_keep_a_worker_to_the_ps_and_itself():
    assert cluster.device_filters(cluster.Task("worker", 2)) == ["/job:ps", "/job:worker/task:2"]
