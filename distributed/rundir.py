"""The checkpoint folder of a training run and the settings it was trained with.

``run.json`` beside the checkpoints records what they depend on (data, model size, learning
rate). A rerun into the same folder resumes only under the same settings; other settings are
refused with the differences named, so no checkpoint is overwritten by another problem's. The
eval step reads the same file to redraw the training data.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from tf1cnn.style_transfer.errors import UsageError

SETTINGS = "run.json"


def prepare(folder: str, settings: dict) -> bool:
    """Make the folder if needed, check it is writable and holds this run or none.

    Returns True when it already holds checkpoints of this run (training resumes from them).
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to checkpoint directory {folder}: "
                         f"{exc.strerror or exc}") from None
    saved = read_settings(folder) if (path / SETTINGS).exists() else None
    if saved is not None and saved != settings:
        changed = ", ".join(f"{k} {saved.get(k)!r} -> {settings.get(k)!r}"
                            for k in sorted(set(saved) | set(settings))
                            if saved.get(k) != settings.get(k))
        raise UsageError(f"{folder} holds a run with other settings ({changed}); rerun with "
                         f"those settings to resume it, or choose another --checkpoint-dir")
    tmp = path / (SETTINGS + ".tmp")
    tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    tmp.replace(path / SETTINGS)
    return (path / "checkpoint").exists()


def read_settings(folder: str) -> dict:
    try:
        return json.loads((Path(folder) / SETTINGS).read_text())
    except FileNotFoundError:
        raise UsageError(f"{folder} holds no training run ({SETTINGS} is missing): train "
                         f"first, or point --checkpoint-dir at a training run's folder") from None
    except ValueError as exc:
        raise UsageError(f"{Path(folder) / SETTINGS} is not valid JSON: {exc}") from None
