"""Run ``scripts/ps_cluster.py`` in a subprocess on loopback, read its lines as they come,
and make sure nothing it started outlives the test."""
from __future__ import annotations

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
RUN_LIMIT = 240  # seconds: four TF processes start slowly on two busy cores


class Cli:
    """One command, in its own process group, with its output collected line by line."""

    def __init__(self, *args: str, env: dict | None = None, cwd: Path | None = None):
        full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE,
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
