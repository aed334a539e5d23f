"""The output folder of a style-transfer run, and whether a rerun may resume it.

Layout::

    OUTPUT/config.json        resolved config and the settings that define the run
    OUTPUT/step_0020.png ...  the image at each logged step
    OUTPUT/result.png         the image after the last step
    OUTPUT/losses.csv         the losses at each logged step, with wall time
    OUTPUT/loss_curve.png     those losses against step and time
    OUTPUT/contact_sheet.png  content | style(s) | result
    OUTPUT/metrics.json       the final losses, SSIM and colour distances (controls.py, metrics.py)
    OUTPUT/content_mask.png   under --content-mask auto: the masks it made (auto_masks.py), the
    OUTPUT/style_mask_1.png   content's and the style picture's, to edit and pass back
    OUTPUT/checkpoints/       Saver checkpoints, and ended.json where a level stopped early
    OUTPUT/summaries/         TensorBoard event files
    OUTPUT/scales/HxW/        coarse-to-fine levels below the full size, each laid out as above
    OUTPUT/archive/<time>/    earlier runs with other settings, moved aside, never deleted

A video (``--video``, :mod:`~style_transfer.shell.video_job`) has ``frames/frame_NNNNN.png``,
``frames.csv``, ``video.mp4`` and ``metrics.json`` instead, and a folder per unfinished frame
in ``checkpoints/`` and per frame in ``summaries/``.

A rerun resumes the checkpoint only when its settings equal those saved in config.json.
Otherwise the earlier run's files move to ``archive/`` and the run starts fresh, saying why. The
masks of ``--content-mask auto`` stay: a rerun may be reading them back, and they are remade
from the pictures alone.
A resumed clip keeps the ``--frame-target`` it was made with unless the rerun gives one: the
video job settles the config against ``saved_config``. ``--precision auto`` keeps the precision
of a run saved here that it would resume (``matches``; ``job.settle_precision``).
"""
from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import os
from collections.abc import Callable

from tf1cnn.common import files
from tf1cnn.common.options import changes

SETTINGS_FILE = "config.json"
CHECKPOINTS = "checkpoints"
SUMMARIES = "summaries"
ARCHIVE = "archive"
SCALES = "scales"
HISTORY = "losses.csv"
COLUMNS = ("size", "step", "global_step", "evaluations", "seconds", "total", "content", "style",
           "tv")
OUTPUTS = ("result.png", HISTORY, "loss_curve.png", "contact_sheet.png", "metrics.json")
# A video's outputs (video_job.py); its checkpoints and summaries are per frame in the usual two.
FRAMES, FRAME_HISTORY, VIDEO = "frames", "frames.csv", "video.mp4"


class _Entry:
    """One file or folder of a run folder, read as an attribute of the RunDir:
    ``RunDir("out").result`` is ``out/result.png``."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, run: RunDir, owner=None) -> str:
        return os.path.join(run.path, self.name)


@dataclasses.dataclass(frozen=True)
class RunDir:
    path: str

    checkpoints = _Entry(CHECKPOINTS)
    summaries = _Entry(SUMMARIES)
    result = _Entry("result.png")
    loss_curve = _Entry("loss_curve.png")
    metrics = _Entry("metrics.json")
    contact_sheet = _Entry("contact_sheet.png")
    content_mask = _Entry("content_mask.png")

    def step_image(self, step: int) -> str:
        return os.path.join(self.path, f"step_{step:04d}.png")

    def style_mask(self, index: int) -> str:
        """The auto mask of style picture ``index`` (0 the first): ``style_mask_1.png``."""
        return os.path.join(self.path, f"style_mask_{index + 1}.png")

    def level(self, height: int, width: int) -> RunDir:
        """The folder of a coarse-to-fine level below the full size."""
        return RunDir(os.path.join(self.path, SCALES, f"{height}x{width}"))

    def history(self) -> list[dict]:
        """The rows of losses.csv, numbers parsed; [] when there is none."""
        try:
            with open(os.path.join(self.path, HISTORY), newline="") as handle:
                return [{k: v if k == "size" else float(v) for k, v in row.items()}
                        for row in csv.DictReader(handle)]
        except FileNotFoundError:
            return []

    def save_history(self, rows: list[dict]) -> None:
        with files.atomic_write(os.path.join(self.path, HISTORY)) as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    def check_writable(self) -> None:
        """Create the folder if needed and prove a file can be written there."""
        files.check_writable(self.path, "output directory")

    def _artifacts(self) -> list[str]:
        names = sorted(os.listdir(self.path))
        return [n for n in names if n in (SETTINGS_FILE, CHECKPOINTS, SUMMARIES, SCALES, *OUTPUTS,
                                          FRAMES, FRAME_HISTORY, VIDEO)
                or (n.startswith("step_") and n.endswith(".png"))]

    def saved_settings(self) -> dict | None:
        """The settings in config.json; None when there is none, {} when it is unreadable."""
        return self._saved("settings")

    def saved_config(self) -> dict | None:
        """The config in config.json, which a resumed run's omitted options may take values
        from (``StyleConfig.settled``); None when there is no config.json, else {} at least."""
        return self._saved("config", {})

    def _saved(self, key: str, absent: dict | None = None) -> dict | None:
        try:
            with open(os.path.join(self.path, SETTINGS_FILE)) as handle:
                return json.load(handle).get(key, absent)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError):
            return {}  # unreadable: treated as different settings, so it gets archived

    def matches(self, settings: dict, complete: Callable[[dict], dict] | None = None) -> bool:
        """Whether a run saved here has ``settings`` (its own completed by ``complete``): what
        ``prepare`` would resume."""
        saved = self.saved_settings()
        if saved is not None and complete is not None:
            saved = complete(saved)
        return saved == settings

    def prepare(self, settings: dict, complete: Callable[[dict], dict] | None = None
                ) -> tuple[bool, str]:
        """Decide between resuming and starting fresh; archive an earlier, different run.
        ``complete`` fills in, on the saved settings, those that a later version added.

        Returns (resume, reason); ``resume`` means the checkpoints here match ``settings``.
        """
        saved = self.saved_settings()
        if saved is not None and complete is not None:
            saved = complete(saved)
        artifacts = self._artifacts()
        if saved == settings:
            return True, "settings match the saved run"
        if not artifacts:
            return False, "new run"
        if saved is None:
            reason = f"{self.path} holds files of a run with no {SETTINGS_FILE}"
        else:
            reason = "settings changed: " + changes(saved, settings)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = os.path.join(self.path, ARCHIVE, stamp)
        os.makedirs(target)
        for name in artifacts:
            os.replace(os.path.join(self.path, name), os.path.join(target, name))
        return False, f"{reason}; earlier run moved to {target}"

    def save_settings(self, config: dict, settings: dict) -> None:
        files.write_json(os.path.join(self.path, SETTINGS_FILE),
                         {"config": config, "settings": settings})
