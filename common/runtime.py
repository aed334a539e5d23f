"""TensorFlow's runtime as the three tools use it (shared: ``kernels`` and ``distributed``
import it too): the environment read when TensorFlow loads, a quiet start, the Session
settings, and the lookup of the newest checkpoint.

Nothing here imports TensorFlow at import time. A command loads it with
``tf = import_tensorflow()``, which sets the environment first and starts TensorFlow quietly.

**Quiet start.** TensorFlow's C++ core writes notices straight to file descriptor 2 as it loads
and first looks for a GPU: "All log messages before absl::InitializeLog() ...", "oneDNN custom
operations are on ...", "Could not find cuda drivers ..." and "failed call to cuInit ... (303)".
They print even at log level 2 and tell a CPU user nothing to act on. ``quiet`` points fd 2 at a
temporary file for the span of a block and then writes back every line that is not one of
those ``NOTICES``, so a real error still shows, only later. ``import_tensorflow`` runs the
import and the GPU lookup (which every later Session would otherwise repeat aloud once) in that
block, and keeps TensorFlow's Python logger to errors: its deprecation warnings are about its
own internals (``Saver`` deleting old checkpoints, say), nothing a user can act on. Set
``TF1CNN_TF_NOTICES=1`` to see everything as TensorFlow wrote it.

**Precision.** ``resolve_precision("auto")`` picks "bfloat16" only where the processor reports
AMX's bfloat16 instructions (``amx_bf16`` among /proc/cpuinfo's flags) and oneDNN, which has the
fast bfloat16 kernels, is on; otherwise "float32". AVX512_BF16 alone is not enough: there a
bfloat16 step was measured slower than a float32 one (docs/speed.md). It reads no clock, so a
rerun on the same machine decides the same way. Whether oneDNN is on is read from TensorFlow's
own switch, ``TF_ENABLE_ONEDNN_OPTS`` (``configure_environment`` turns it on unless the user set
it), with TensorFlow's default where it is unset: on for x86-64 Linux builds on such processors.
TensorFlow has no public call that says so.
"""
from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import tempfile
from collections.abc import Mapping

from .errors import UsageError

SHOW_NOTICES = "TF1CNN_TF_NOTICES"  # set to 1: hide nothing
NOTICES = tuple(re.compile(pattern) for pattern in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"^I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on\. ",
    r"^I\d{4} [\d:. ]+\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine",
    r"^E\d{4} [\d:. ]+\d+ cuda_platform\.cc:\d+\] failed call to cuInit: .*"
    r"UNKNOWN ERROR \(303\)$",
))
_started = False  # import_tensorflow has run in this process
ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
# AVX512_BF16 alone measured slower than float32 here: docs/speed.md.
BFLOAT16_FLAGS = ("amx_bf16",)
PRECISIONS = ("float32", "bfloat16", "auto")


def configure_environment() -> None:
    """Defaults for the variables TensorFlow reads when it loads; a user's own value wins.

    oneDNN's kernels make a style step about 1.4x faster on the 2-core AMD machines this was
    measured on, where TensorFlow leaves them off by default. Log level 2 keeps errors only.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The processor's feature flags: the first ``flags`` line of ``cpuinfo`` (the text of
    /proc/cpuinfo, read when None); empty where there is none."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as info:
                cpuinfo = info.read()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def onednn_enabled(environ: Mapping[str, str] | None = None,
                   machine: str | None = None) -> bool:
    """Whether TensorFlow runs oneDNN's kernels: ``TF_ENABLE_ONEDNN_OPTS`` as TensorFlow reads
    it (1/true or 0/false, any case), else its default, on for x86-64 Linux."""
    environ = os.environ if environ is None else environ
    value = environ.get(ONEDNN, "").strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    machine = platform.machine() if machine is None else machine
    return sys.platform.startswith("linux") and machine.lower() in ("x86_64", "amd64")


def bfloat16_supported(cpuinfo: str | None = None,
                       environ: Mapping[str, str] | None = None) -> bool:
    """Whether the processor has AMX's bfloat16 instructions (``BFLOAT16_FLAGS``) and oneDNN
    is on to use them."""
    return bool(cpu_flags(cpuinfo) & set(BFLOAT16_FLAGS)) and onednn_enabled(environ)


def resolve_precision(precision: str, cpuinfo: str | None = None,
                      environ: Mapping[str, str] | None = None) -> str:
    """"float32" or "bfloat16" as given; "auto": "bfloat16" where ``bfloat16_supported``,
    else "float32". ValueError for anything else."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    return "bfloat16" if bfloat16_supported(cpuinfo, environ) else "float32"


def is_notice(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's known start-up notices."""
    return any(pattern.search(line.rstrip("\n")) for pattern in NOTICES)


@contextlib.contextmanager
def quiet():
    """Hold back what is written to fd 2 in the block; then write back all but the NOTICES."""
    if os.environ.get(SHOW_NOTICES) == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not is_notice(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def import_tensorflow():
    """``import tensorflow`` after ``configure_environment``, with its start-up notices hidden.

    The first call also looks up the GPUs, where CUDA's notice comes from, so that no later
    Session prints it. Returns the ``tensorflow`` module.
    """
    global _started
    configure_environment()
    if not _started:
        with quiet():
            import tensorflow as tf

            tf.config.list_physical_devices()
        if os.environ.get(SHOW_NOTICES) != "1":  # deprecation notes of TF's own internals
            tf.get_logger().setLevel("ERROR")
        _started = True
    import tensorflow as tf

    return tf


def new_session(graph=None, target: str = "", config=None):
    """A ``tf.compat.v1.Session`` with TensorFlow started quietly first (see above)."""
    tf = import_tensorflow()
    return tf.compat.v1.Session(target=target, graph=graph, config=config)


def session_config(**fields):
    """A ``ConfigProto`` running one op at a time, each using every core (the style and kernel
    graphs are chains of large convolutions; two at once only fight over the cores: 11 %
    slower on 2 cores), with ``fields`` set on top."""
    import tensorflow as tf

    return tf.compat.v1.ConfigProto(**{"inter_op_parallelism_threads": 1, **fields})


def latest_checkpoint(folder: str) -> str | None:
    """The newest checkpoint's path prefix in ``folder``, or None when it has none.

    UsageError when the folder's ``checkpoint`` index file is damaged.
    """
    import tensorflow as tf

    try:
        return tf.train.latest_checkpoint(folder)
    except Exception as exc:  # a damaged 'checkpoint' index file
        raise UsageError(f"the checkpoint index in {folder} is unreadable "
                         f"({type(exc).__name__}); move that folder away to start over") \
            from None
