"""The output folder: resume only with equal settings, and never lose an earlier run."""
from __future__ import annotations

import dataclasses
import json

import pytest

from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import StyleConfig, complete_settings
from tf1cnn.style_transfer.shell.rundir import RunDir

SETTINGS = {"height": 250, "style_weight": 1.0, "content_sha256": "aa"}


def finished_run(tmp_path):
    run = RunDir(str(tmp_path / "out"))
    run.check_writable()
    run.save_settings({"output_dir": run.path}, SETTINGS)
    (tmp_path / "out" / "checkpoints").mkdir()
    (tmp_path / "out" / "checkpoints" / "checkpoint").write_text("x")
    (tmp_path / "out" / "step_0001.png").write_bytes(b"png")
    (tmp_path / "out" / "notes.txt").write_text("the user's own file")
    return run


def test_new_folder_starts_fresh(tmp_path):
    run = RunDir(str(tmp_path / "a" / "b"))
    run.check_writable()
    assert run.prepare(SETTINGS) == (False, "new run")


def test_equal_settings_resume_and_move_nothing(tmp_path):
    run = finished_run(tmp_path)
    assert run.prepare(dict(SETTINGS)) == (True, "settings match the saved run")
    assert (tmp_path / "out" / "step_0001.png").exists()


def test_changed_settings_archive_the_earlier_run_and_say_why(tmp_path):
    run = finished_run(tmp_path)
    resume, reason = run.prepare(dict(SETTINGS, style_weight=2.0))
    assert not resume
    assert reason.startswith("settings changed: style_weight 1.0 -> 2.0; earlier run moved to ")
    (archived,) = (tmp_path / "out" / "archive").iterdir()
    assert sorted(p.name for p in archived.iterdir()) == ["checkpoints", "config.json",
                                                          "step_0001.png"]
    assert json.loads((archived / "config.json").read_text())["settings"] == SETTINGS
    assert (tmp_path / "out" / "notes.txt").read_text() == "the user's own file"
    assert run.saved_settings() is None


def test_unreadable_settings_count_as_different(tmp_path):
    run = finished_run(tmp_path)
    (tmp_path / "out" / "config.json").write_text("{ broken")
    resume, reason = run.prepare(SETTINGS)
    assert not resume and "settings changed" in reason


def test_files_without_settings_are_archived(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "result.png").write_bytes(b"png")
    resume, reason = RunDir(str(tmp_path / "out")).prepare(SETTINGS)
    assert not resume and "with no config.json" in reason
    assert len(list((tmp_path / "out" / "archive").iterdir())) == 1


def test_output_path_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("keep me")
    with pytest.raises(UsageError, match=r"output directory .*f is a file"):
        RunDir(str(tmp_path / "f")).check_writable()
    with pytest.raises(UsageError, match=r"output directory .*f/sub is not writable"):
        RunDir(str(tmp_path / "f" / "sub")).check_writable()
    assert (tmp_path / "f").read_text() == "keep me"


def test_new_outputs_and_levels_are_archived_too(tmp_path):
    run = finished_run(tmp_path)
    run.save_history([{"size": "12x16", "step": 1, "global_step": 1, "evaluations": 2,
                       "seconds": 0.5, "total": 9.0, "content": 1.0, "style": 8.0, "tv": 0.0}])
    run.level(12, 16).check_writable()
    (tmp_path / "out" / "loss_curve.png").write_bytes(b"png")
    run.prepare(dict(SETTINGS, optimizer="lbfgs"))
    (archived,) = (tmp_path / "out" / "archive").iterdir()
    assert {"losses.csv", "loss_curve.png", "scales"} <= {p.name for p in archived.iterdir()}
    assert (archived / "scales" / "12x16").is_dir()
    assert RunDir(str(archived)).history() == [
        {"size": "12x16", "step": 1.0, "global_step": 1.0, "evaluations": 2.0, "seconds": 0.5,
         "total": 9.0, "content": 1.0, "style": 8.0, "tv": 0.0}]
    assert run.history() == []


def test_an_old_clip_resumes_a_bare_rerun_with_the_frame_target_it_was_made_with(tmp_path):
    """A clip made when --frame-target defaulted to 0 saved 0 in its config: a rerun that leaves
    the option out resumes it (the target defines no run) and keeps 0, as the video job does
    (``prepare``, then ``settled``); a new clip gets the recommended target."""
    bare = StyleConfig(video="clip", output_dir=str(tmp_path / "old"))
    made = dataclasses.replace(bare, frame_target=0.0)  # what the earlier version ran
    old = RunDir(made.output_dir)
    old.check_writable()
    old.save_settings(dataclasses.asdict(made), made.run_settings())
    (tmp_path / "old" / "frames").mkdir()
    assert old.prepare(bare.run_settings(), complete_settings) == (
        True, "settings match the saved run")
    assert bare.settled(old.saved_config()).frame_target == 0.0
    assert (tmp_path / "old" / "frames").is_dir()

    new = RunDir(str(tmp_path / "new"))
    new.check_writable()
    resume, _ = new.prepare(bare.run_settings(), complete_settings)
    assert not resume and new.saved_config() is None
    assert bare.settled(None).frame_target == 0.85


def test_the_saved_config_is_none_without_config_json_and_empty_when_unreadable(tmp_path):
    run = finished_run(tmp_path)
    assert run.saved_config() == {"output_dir": run.path}
    (tmp_path / "out" / "config.json").write_text("{ broken")
    assert run.saved_config() == {}
    (tmp_path / "out" / "config.json").write_text('{"settings": {}}')
    assert run.saved_config() == {}
    assert RunDir(str(tmp_path / "none")).saved_config() is None
