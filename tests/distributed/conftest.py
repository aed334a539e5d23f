"""Run ``scripts/ps_cluster.py`` in a subprocess, on loopback or on hosts made of network
namespaces, read its lines as they come, and make sure nothing it started outlives the test."""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ps_cluster.py"
# The test folders are no packages (see pyproject's import mode), so load the helper by path.
_spec = importlib.util.spec_from_file_location("cluster_netns", Path(__file__).with_name(
    "netns.py"))
netns = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(netns)
RUN_LIMIT = 240  # seconds: four TF processes start slowly on two busy cores


# Put before a command, it starts the command with SIGINT ignored, as a script's background job
# inherits it; "$@" is the command.
IGNORING_SIGINT = ("bash", "-c", 'trap "" INT; exec "$@"', "bash")


@functools.cache
def _check_ignoring_sigint() -> None:
    """Make sure IGNORING_SIGINT hands Python SIGINT ignored, whatever this process has."""
    shown = subprocess.run([*IGNORING_SIGINT, sys.executable, "-c",
                            "import signal; print(signal.getsignal(signal.SIGINT) is "
                            "signal.SIG_IGN)"],
                           capture_output=True, text=True, timeout=60).stdout.strip()
    assert shown == "True", f"SIGINT was not ignored: {shown}"


class Cli:
    """One command, in its own process group, with its output collected line by line.

    ``prefix`` goes before the command and must exec it (``ip netns exec NS``), so that the
    command keeps the pid Popen knows. ``sigint_ignored`` starts it with SIGINT ignored.
    """

    def __init__(self, *args: str, env: dict | None = None, cwd: Path | None = None,
                 prefix: tuple = (), sigint_ignored: bool = False):
        full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
        if sigint_ignored:
            _check_ignoring_sigint()
            prefix = (*prefix, *IGNORING_SIGINT)
        self.process = subprocess.Popen(
            [*prefix, sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=full_env, cwd=cwd, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, limit: float = RUN_LIMIT) -> re.Match:
        """The first line matching pattern, waiting at most limit seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matches {pattern!r}:\n{self.output}")

    def pid_of(self, job: str, index: int) -> int:
        return int(self.wait_for(rf"job={job} task={index} pid=(\d+) serving").group(1))

    def finish(self, limit: float = RUN_LIMIT) -> int:
        try:
            code = self.process.wait(limit)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {limit} s:\n{self.output}") from None
        self._reader.join(10)
        return code

    def leftovers(self) -> list[int]:
        """Processes this command named (pid=N) that are still running."""
        return [pid for pid in {int(p) for p in re.findall(r"\bpid=(\d+)", self.output)}
                if alive(pid)]

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def alive(pid: int) -> bool:
    """True for a running process; a zombie awaiting its parent counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def cli():
    """Start commands with cli(*args); every one is killed, with its group, at teardown."""
    started: list[Cli] = []

    def start(*args: str, **kwargs) -> Cli:
        started.append(Cli(*args, **kwargs))
        return started[-1]

    yield start
    for command in started:
        command.kill()


@pytest.fixture
def hosts(cli):
    """hosts(*names) makes one network-namespace host per name (see netns.py) and returns the
    Network; net.start(name, *args) runs a command on a host. At teardown the commands are
    killed first, then the namespaces and links removed, also when the test failed. Skips
    where namespaces cannot be made."""
    networks = []
    started: list[Cli] = []

    def make(*names: str):
        try:
            network = netns.Network.make(*names, tag=f"{os.getpid()}-{len(networks)}")
        except netns.Unavailable as exc:
            pytest.skip(f"no network namespaces here: {exc}")
        networks.append(network)

        def start(name: str, *args: str, **kwargs) -> Cli:
            started.append(cli(*args, prefix=network.prefix(name), **kwargs))
            return started[-1]

        network.start = start
        return network

    try:
        yield make
    finally:
        for command in started:
            command.kill()
        errors = [error for network in networks for error in network.remove()]
        assert not errors, errors
