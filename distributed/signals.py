"""How the launcher and every task stop on SIGINT (Ctrl-C) and SIGTERM: after the current step,
with the state saved, and with 128 plus the signal's number as the exit status.

SIGTERM is what ``timeout``, systemd, ``docker stop`` and Kubernetes send; its default action
ends a process at once, losing the steps since the last checkpoint. SIGINT is inherited: a
process that a script starts in the background (a shell without job control) gets SIGINT as
*ignored*, and Python then installs no KeyboardInterrupt handler, so Ctrl-C and ``kill -INT``
would do nothing (``grep SigIgn /proc/PID/status`` shows it). ``StopSignals`` therefore sets its
handler for both signals whatever was inherited. The handler only records the first signal;
the loops look at it between ``session.run`` calls, so a second signal during the save changes
nothing.

The trade-off: a script's background jobs stay in the terminal's process group, so a Ctrl-C
at that terminal now stops them too, where before they ran on. Start a run that must outlive
the terminal with ``setsid`` or ``nohup``, or from a service manager.

The status is an exit code (130, 143), not the signal re-raised, so the caller gets the
summary and sees the same status it would have seen had the signal killed the process; a bash
script that calls the tool goes on to its next line either way unless it checks the status.

    python -m tf1cnn.distributed.signals   # then Ctrl-C, or kill -TERM <pid>
"""
from __future__ import annotations

import os
import signal
import threading

from tf1cnn.common import exits

CODES = {"SIGINT": exits.INTERRUPTED, "SIGTERM": exits.TERMINATED}


class StopSignals:
    """Set by the first of ``signums`` to arrive; ``received`` says which. Install from the
    main thread, before the work starts."""

    def __init__(self, signums=(signal.SIGINT, signal.SIGTERM)):
        self.received: signal.Signals | None = None
        self._event = threading.Event()
        for signum in signums:
            signal.signal(signum, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)

    @property
    def exit_code(self) -> int:
        """130 after SIGINT, 143 after SIGTERM; 0 when no signal came."""
        return 0 if self.received is None else CODES[self.received.name]

    @property
    def name(self) -> str:
        return "" if self.received is None else self.received.name


if __name__ == "__main__":
    stop = StopSignals()
    print(f"pid {os.getpid()}: waiting for SIGINT or SIGTERM", flush=True)
    while not stop.wait(1.0):
        pass
    print(f"got {stop.name}; exiting with {stop.exit_code}")
    raise SystemExit(stop.exit_code)
