"""Stopping a long run from outside: SIGINT and SIGTERM end it the same way, whatever the
parent left behind (shared by the tools that save their state when stopped).

A process started in the background by a script (a shell without job control) inherits SIGINT
as *ignored*, and Python then installs no ``KeyboardInterrupt`` handler, so ``kill -INT`` would
do nothing. SIGTERM, which ``timeout``, systemd, ``docker stop`` and Kubernetes send, would kill
the process before it could save. :func:`graceful` installs handlers for both explicitly: the
first signal raises :class:`Stop` (a ``KeyboardInterrupt``, so one ``except`` serves Ctrl-C and
``kill`` alike) at the next Python instruction, which, in a TensorFlow loop, is when the running
``session.run`` returns. Further signals are announced and ignored until the block ends, so
that the save that follows is not cut short. :func:`exit_code` gives the shell's convention,
128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.

The cost, documented in the README: a script's background jobs share its terminal's process
group, so a Ctrl-C typed there now stops them too.
"""
from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(KeyboardInterrupt):
    """A stop asked for by a signal; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(stop: BaseException) -> int:
    """128 + the signal's number; Ctrl-C's 130 for a plain KeyboardInterrupt."""
    return 128 + getattr(stop, "signum", signal.SIGINT)


@contextlib.contextmanager
def graceful(signals=SIGNALS) -> Iterator[None]:
    """Within the block, the first of ``signals`` raises :class:`Stop`; later ones are noted
    on stderr and ignored. The previous handlers come back afterwards. Main thread only."""
    stopping = []

    def handler(signum, frame):
        if stopping:
            print(f"{signal.Signals(signum).name} received while stopping: finishing the save "
                  f"first", file=sys.stderr, flush=True)
            return
        stopping.append(signum)
        raise Stop(signum)

    previous = {signum: signal.signal(signum, handler) for signum in signals}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
