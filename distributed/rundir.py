"""The checkpoint folder of a training run and the settings it was trained with.

``run.json`` beside the checkpoints records what they depend on (data, model size, learning
rate). A rerun into the same folder resumes only under the same settings; other settings are
refused with the differences named, so no checkpoint is overwritten by another problem's. The
eval step reads the same file to redraw the training data.
"""
from __future__ import annotations

import json
from pathlib import Path

from tf1cnn.common import files
from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import changes

SETTINGS = "run.json"


def prepare(folder: str, settings: dict) -> bool:
    """Make the folder if needed, check it is writable and holds this run or none.

    Returns True when it already holds checkpoints of this run (training resumes from them).
    """
    path = Path(folder)
    files.check_writable(folder, "checkpoint directory")
    saved = read_settings(folder) if (path / SETTINGS).exists() else None
    if saved is not None and saved != settings:
        raise UsageError(f"{folder} holds a run with other settings "
                         f"({changes(saved, settings)}); rerun with those settings to resume "
                         f"it, or choose another --checkpoint-dir")
    files.write_json(path / SETTINGS, settings, sort_keys=True)
    return (path / "checkpoint").exists()


def read_settings(folder: str) -> dict:
    try:
        return json.loads((Path(folder) / SETTINGS).read_text())
    except FileNotFoundError:
        raise UsageError(f"{folder} holds no training run ({SETTINGS} is missing): train "
                         f"first, or point --checkpoint-dir at a training run's folder") from None
    except ValueError as exc:
        raise UsageError(f"{Path(folder) / SETTINGS} is not valid JSON: {exc}") from None
