"""A few hosts on one machine, for tests: Linux network namespaces joined by a bridge.

One namespace per host, and one more that holds only the bridge::

    tf1cnn-<pid>-net:  br0 ── v0 ── v1 ── v2 ...      (a bridge and its veth ends)
    tf1cnn-<pid>-0:    eth0 198.18.0.1/24, lo         (the other end of v0)
    tf1cnn-<pid>-1:    eth0 198.18.0.2/24, lo
    ...

The addresses come from 198.18.0.0/15, the range set aside for benchmarks (RFC 2544), and no
address or link is added to the machine's own namespace: every link is made inside the bridge's
namespace and its far end moved straight into the host's. A command runs on a host through
``ip netns exec``; ``cut`` takes a host's veth end down at the bridge (a partition: packets are
dropped, nothing is refused) and ``mend`` brings it back. ``remove`` deletes the namespaces, and
the links go with them. Only names made here, with this process's pid, are ever touched.

Needs root and iproute2's ``ip``; ``Network.make`` raises ``Unavailable`` with the reason
otherwise. Every command is bounded by ``COMMAND_SECONDS``.

    sudo python tests/distributed/netns.py     # make three hosts, show them, remove them
"""
from __future__ import annotations

import os
import shutil
import subprocess

COMMAND_SECONDS = 10
PREFIX = "tf1cnn"


class Unavailable(RuntimeError):
    """Namespaces cannot be made here; the message says why."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True,
                          timeout=COMMAND_SECONDS)
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, ["ip", *args], done.stdout,
                                            done.stderr)
    return done


class Network:
    def __init__(self, names: list[str], tag: str):
        self.names = list(names)
        self.bridge = f"{PREFIX}-{tag}-net"
        self.namespaces = {name: f"{PREFIX}-{tag}-{i}" for i, name in enumerate(self.names)}
        self._made: list[str] = []  # namespaces to delete, in the order they were made

    @classmethod
    def make(cls, *names: str, tag: str | None = None) -> Network:
        """Hosts with these names, each on the bridge; Unavailable where that cannot be."""
        if os.geteuid() != 0:
            raise Unavailable("network namespaces need root")
        if shutil.which("ip") is None:
            raise Unavailable("iproute2's ip is not installed (apt-get install iproute2)")
        network = cls(list(names), tag or str(os.getpid()))
        try:
            network._build()
        except subprocess.CalledProcessError as exc:
            network.remove()
            raise Unavailable(f"{' '.join(exc.cmd)} failed: {exc.stderr.strip()}") from None
        except BaseException:
            network.remove()
            raise
        return network

    def _add_namespace(self, namespace: str) -> None:
        _ip("netns", "add", namespace)
        self._made.append(namespace)
        _ip("-n", namespace, "link", "set", "lo", "up")

    def _build(self) -> None:
        self._add_namespace(self.bridge)
        _ip("-n", self.bridge, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.bridge, "link", "set", "br0", "up")
        for i, name in enumerate(self.names):
            namespace = self.namespaces[name]
            self._add_namespace(namespace)
            _ip("-n", self.bridge, "link", "add", f"v{i}", "type", "veth",
                "peer", "name", "eth0", "netns", namespace)
            _ip("-n", self.bridge, "link", "set", f"v{i}", "master", "br0")
            _ip("-n", self.bridge, "link", "set", f"v{i}", "up")
            _ip("-n", namespace, "addr", "add", f"{self.address(name)}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")

    def address(self, name: str) -> str:
        return f"198.18.0.{self.names.index(name) + 1}"

    def prefix(self, name: str) -> tuple[str, ...]:
        """What to put before a command to run it on this host; it execs the command."""
        return ("ip", "netns", "exec", self.namespaces[name])

    def cut(self, name: str) -> None:
        """Take the host off the bridge: its packets are dropped until ``mend``."""
        _ip("-n", self.bridge, "link", "set", f"v{self.names.index(name)}", "down")

    def mend(self, name: str) -> None:
        _ip("-n", self.bridge, "link", "set", f"v{self.names.index(name)}", "up")

    def remove(self) -> list[str]:
        """Delete every namespace made here (their links go with them); returns the errors.

        A namespace outlives its name while a process still runs in it, so stop those first.
        """
        errors = []
        for namespace in reversed(self._made):
            done = _ip("netns", "del", namespace, check=False)
            if done.returncode != 0:
                errors.append(f"ip netns del {namespace}: {done.stderr.strip()}")
        self._made.clear()
        return errors


if __name__ == "__main__":
    network = Network.make("ps", "chief", "worker")
    try:
        for host in network.names:
            shown = _ip("-n", network.namespaces[host], "-brief", "addr").stdout
            print(f"{host} ({network.namespaces[host]}):\n{shown}")
    finally:
        print(network.remove() or "removed")
