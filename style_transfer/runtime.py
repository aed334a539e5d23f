"""TensorFlow's runtime as the three tools use it (shared: ``kernels`` and ``distributed``
import it too): the environment read when TensorFlow loads, the Session settings, and the
lookup of the newest checkpoint.

Nothing here imports TensorFlow at import time; call :func:`configure_environment` before the
first ``import tensorflow`` of a command.
"""
from __future__ import annotations

import os

from .errors import UsageError


def configure_environment() -> None:
    """Defaults for the variables TensorFlow reads when it loads; a user's own value wins.

    oneDNN's kernels make a style step about 1.4x faster on the 2-core AMD machines this was
    measured on, where TensorFlow leaves them off by default. Log level 2 keeps errors only.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


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
