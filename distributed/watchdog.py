"""A deadline on every phase of a task, so that a lost peer ends the process instead of
hanging it.

TF 2.21's sessions can block with no timeout of their own: closing a session whose ps has died
waits for ever in CleanupGraph, and creating one waits for every device it may use. A
``Watchdog`` thread watches a deadline that the task moves forward as it makes progress. When
the deadline passes it prints one line saying what was awaited and ends the process with
``exits.LOST``; nothing can be saved by then, since the variables live on the lost ps.
"""
from __future__ import annotations

import os
import threading
import time

from tf1cnn.common import exits


class Watchdog:
    def __init__(self, describe: str, log=print):
        self._describe = describe  # names the task in the line it prints
        self._log = log
        self._lock = threading.Lock()
        self._deadline = float("inf")
        self._awaiting = ""
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="watchdog")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._thread.join()

    def expect(self, seconds: float, awaiting: str) -> None:
        """The next thing must happen within seconds from now."""
        with self._lock:
            self._deadline = time.monotonic() + seconds
            self._awaiting = awaiting

    def _watch(self) -> None:
        while not self._stopped.wait(0.1):
            with self._lock:
                late = time.monotonic() > self._deadline
                awaiting = self._awaiting
            if late:
                self._log(f"{self._describe} error: gave up waiting for {awaiting}")
                os._exit(exits.LOST)
