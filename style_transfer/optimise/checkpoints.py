"""A level's checkpoints: Saver files in its folder, and the note of where it stopped early.

Each level saves its variables (the image, the step, the evaluations, Adam's moments) with its
own Saver into its folder's ``checkpoints`` path, named as if the level were alone, so that a
checkpoint does not depend on how many levels the graph holds. No ``.meta`` file is written:
it would hold the VGG constants, and a resume rebuilds the graph in code, restoring only the
variables. A level that stopped early also leaves ``ended.json`` (``ENDED``) with the step and
the reason, so that a rerun resumed at that step ends the level there too (``ended_early``).
"""
from __future__ import annotations

import json
import os

import tensorflow as tf

from tf1cnn.common import files, runtime
from tf1cnn.common.errors import OutputError, UsageError

ENDED = "ended.json"  # in a level's checkpoint folder: the step where it stopped early, and why


def save(saver: tf.compat.v1.train.Saver, session: tf.compat.v1.Session, graph: tf.Graph,
         folder: str, step: int, stopped: str = "") -> None:
    """A checkpoint at ``step`` in ``folder``, and when the level ``stopped`` early, the note
    that makes a rerun end it there too. OutputError when they cannot be written, the previous
    checkpoint still the latest (the Saver updates its index only after the data)."""
    try:
        os.makedirs(folder, exist_ok=True)
        with graph.as_default():  # Saver takes the default graph's mode
            saver.save(session, os.path.join(folder, "style"), global_step=step,
                       write_meta_graph=False)
        if stopped:
            files.write_json(os.path.join(folder, ENDED), {"step": step, "reason": stopped})
    except (OSError, tf.errors.OpError, ValueError) as exc:
        cause = getattr(exc, "strerror", None) or getattr(exc, "message", None) or str(exc)
        raise OutputError(f"cannot write a checkpoint in {folder} "
                          f"({cause.strip().splitlines()[0][:200]})") from None


def restore(saver: tf.compat.v1.train.Saver, session: tf.compat.v1.Session, graph: tf.Graph,
            folder: str) -> bool:
    """Restore the latest checkpoint in ``folder``; False when there is none. UsageError,
    naming the way out, when it cannot be restored (another network or size, say)."""
    latest = runtime.latest_checkpoint(folder)
    if latest is None:
        return False
    try:
        with graph.as_default():
            saver.restore(session, latest)
    except (tf.errors.OpError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:200]
        raise UsageError(f"checkpoint {latest} cannot be restored ({reason}); move "
                         f"{folder} away to start over") from None
    return True


def ended_early(folder: str, resumed_at: int | None) -> str:
    """Why the level whose checkpoints are in ``folder``, resumed at ``resumed_at``, had
    stopped early there, from the note its last checkpoint left; empty if it had not (or
    started fresh)."""
    if resumed_at is None:
        return ""
    try:
        with open(os.path.join(folder, ENDED)) as handle:
            note = json.load(handle)
    except (OSError, ValueError):
        return ""
    return str(note.get("reason", "")) if note.get("step") == resumed_at else ""
