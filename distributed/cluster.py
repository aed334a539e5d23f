"""Who is in the cluster and where: host lists, TF_CONFIG, free ports, loopback checks.

A cluster is a dict ``{"ps": ["host:port", ...], "worker": [...]}`` and a ``Task`` names one
member. Worker 0 is the chief. Everything here is plain Python, checked before TensorFlow is
loaded: a malformed host list, an index out of range or a port already taken is a ``UsageError``
with one line that says so.
"""
from __future__ import annotations

import dataclasses
import errno
import ipaddress
import json
import socket

from tf1cnn.common.errors import UsageError

JOBS = ("ps", "worker")
LOOPBACK = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class Task:
    job: str
    index: int

    @property
    def is_chief(self) -> bool:
        return self.job == "worker" and self.index == 0

    def __str__(self) -> str:
        return f"job={self.job} task={self.index}"


def parse_hosts(text: str, option: str) -> list[str]:
    """'h1:p1,h2:p2' → ['h1:p1', 'h2:p2'], each checked to be host:port."""
    hosts = [item.strip() for item in text.split(",")] if text.strip() else []
    if not hosts:
        raise UsageError(f"{option} is empty; give host:port[,host:port...]")
    for host in hosts:
        split_address(host, option)
    if len(set(hosts)) != len(hosts):
        raise UsageError(f"{option} names an address twice: {text}")
    return hosts


def split_address(address: str, option: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' → (host, port)."""
    host, sep, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option}: {address!r} is not host:port with a port in 1-65535")
    return host, int(port)


def from_flags(ps_hosts: str, worker_hosts: str, job_name: str, task_index: int):
    """The cluster and this process's task from --ps-hosts --worker-hosts --job-name
    --task-index."""
    cluster = {"ps": parse_hosts(ps_hosts, "--ps-hosts"),
               "worker": parse_hosts(worker_hosts, "--worker-hosts")}
    return cluster, check_task(cluster, job_name, task_index)


def from_tf_config(text: str):
    """The cluster and task from a TF_CONFIG value, as Kubernetes training operators set it.

    A separate 'chief' (or the older 'master') becomes worker 0 and the workers follow it, so
    that the chief is always /job:worker/task:0 in the graph.
    """
    try:
        spec = json.loads(text)
        jobs, task = spec["cluster"], spec["task"]
        kind, index = task["type"], task["index"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"TF_CONFIG is not JSON of the form {{\"cluster\": {{...}}, "
                         f"\"task\": {{\"type\": ..., \"index\": ...}}}}: {exc}") from None
    unknown = set(jobs) - {"ps", "worker", "chief", "master"}
    if unknown:
        raise UsageError(f"TF_CONFIG has jobs this trainer does not run: {sorted(unknown)}")
    chiefs = list(jobs.get("chief", [])) + list(jobs.get("master", []))
    if len(chiefs) > 1:
        raise UsageError(f"TF_CONFIG names {len(chiefs)} chiefs; at most one")
    cluster = {"ps": list(jobs.get("ps", [])), "worker": chiefs + list(jobs.get("worker", []))}
    for job, hosts in cluster.items():
        if not hosts:
            raise UsageError(f"TF_CONFIG has no {job} addresses")
        parse_hosts(",".join(hosts), f"TF_CONFIG {job}")
    if kind in ("chief", "master"):
        if index != 0:
            raise UsageError(f"TF_CONFIG task index {index!r} is out of range for the chief")
        kind = "worker"
    elif kind == "worker" and chiefs and isinstance(index, int):
        index += 1
    return cluster, check_task(cluster, kind, index)


def check_task(cluster: dict, job: str, index) -> Task:
    if job not in JOBS:
        raise UsageError(f"job name must be one of {', '.join(JOBS)}, got {job!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[job]):
        raise UsageError(f"task index {index!r} is out of range: the cluster has "
                         f"{len(cluster[job])} {job} task(s), numbered from 0")
    return Task(job, index)


def local_cluster(workers: int, ps: int = 1, ports: list[int] | None = None) -> dict:
    """A cluster on 127.0.0.1: explicit ports (ps first, then workers) or free ones."""
    count = ps + workers
    if ports is None:
        ports = free_ports(count)
    elif len(ports) != count:
        raise UsageError(f"--ports needs {count} ports ({ps} ps + {workers} workers), "
                         f"got {len(ports)}")
    addresses = [f"{LOOPBACK}:{port}" for port in ports]
    for address in addresses:
        split_address(address, "--ports")
    if len(set(addresses)) != count:
        raise UsageError(f"--ports names a port twice: {ports}")
    return {"ps": addresses[:ps], "worker": addresses[ps:]}


def free_ports(count: int) -> list[int]:
    """Ports the kernel calls free now, all held open together so they differ."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def check_port_free(address: str) -> None:
    """UsageError if something listens on this address's port.

    TF's gRPC server binds every interface and sets SO_REUSEPORT, so a second server on a busy
    port may start without an error and never receive its traffic. A plain bind, without
    SO_REUSEPORT, fails when any listener holds the port.
    """
    _, port = split_address(address, "address")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} ({address}) is already in use; stop what holds it "
                             f"or choose other ports") from None
        raise UsageError(f"cannot listen on port {port} ({address}): {exc.strerror}") from None
    finally:
        sock.close()


def is_loopback(address: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1. Other names are not looked up."""
    host, _ = split_address(address, "address")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def non_loopback(cluster: dict) -> list[str]:
    return [address for hosts in cluster.values() for address in hosts
            if not is_loopback(address)]


def device_filters(task: Task) -> list[str]:
    """The devices this task's sessions may touch: the ps job and itself, no other worker.

    Without them every session waits for every worker, so a worker that has finished (or died)
    stalls the others' session creation for ever.
    """
    return ["/job:ps", f"/job:{task.job}/task:{task.index}"]
