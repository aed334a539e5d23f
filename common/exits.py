"""The exit status of every tf1cnn command: one table for the three tools (shared module).

``tf1cnn-style``, ``tf1cnn-kernels`` and ``tf1cnn-cluster`` return these from ``main`` and
nothing else; the README's exit-code table is this one. A status that a signal caused follows
the shell's convention, 128 plus the signal's number, so that a calling script sees the same
code whether the tool saved and exited or the signal killed it. 138 is 128 plus SIGUSR1's number:
Kubeflow's ``ExitCode`` restart policy retries 130, 137, 138 and 143 and treats every other
status as permanent, and reserves 138 for a program that reports a retryable failure itself.
"""
from __future__ import annotations

OK = 0
STOPPED = 1  # cluster: a worker ended before training finished (the summary says which)
USAGE = 2  # bad input: one "error:" line, and nothing already on disk changed
WRITE_FAILED = 74  # an output or checkpoint could not be written (disk full, read-only)
INTERRUPTED = 130  # SIGINT (Ctrl-C): the state was saved first; rerun to resume
LOST = 138  # cluster: a task lost the cluster and gave up after --timeout; retry
TERMINATED = 143  # SIGTERM (timeout, systemd, docker stop, Kubernetes): saved likewise
