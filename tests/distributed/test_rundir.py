"""The checkpoint folder's run.json: resume under the same settings, refuse others."""
import json

import numpy as np
import pytest

from tf1cnn.common.errors import UsageError
from tf1cnn.distributed import rundir

SETTINGS = {"seed": 0, "hidden": 10}


def test_prepare_makes_the_folder_and_records_the_settings(tmp_path):
    folder = tmp_path / "a" / "b"
    assert rundir.prepare(str(folder), SETTINGS) is False
    assert json.loads((folder / "run.json").read_text()) == SETTINGS
    assert rundir.read_settings(str(folder)) == SETTINGS
    (folder / "checkpoint").write_text("model_checkpoint_path: \"x\"\n")
    assert rundir.prepare(str(folder), SETTINGS) is True


def test_other_settings_are_refused_and_nothing_changes(tmp_path):
    rundir.prepare(str(tmp_path), SETTINGS)
    before = (tmp_path / "run.json").read_bytes()
    with pytest.raises(UsageError, match=r"other settings \(seed 0 -> 1\)"):
        rundir.prepare(str(tmp_path), {"seed": 1, "hidden": 10})
    assert (tmp_path / "run.json").read_bytes() == before


def test_unwritable_folder_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match=r"checkpoint directory .*sub is not writable"):
        rundir.prepare(str(blocker / "sub"), SETTINGS)


def test_read_settings_of_a_folder_without_a_run(tmp_path):
    with pytest.raises(UsageError, match="holds no training run"):
        rundir.read_settings(str(tmp_path))
    (tmp_path / "run.json").write_text("{")
    with pytest.raises(UsageError, match="not valid JSON"):
        rundir.read_settings(str(tmp_path))


def test_run_json_and_the_eval_plot_get_the_usual_file_mode(tmp_path, umask_022):
    from matplotlib.figure import Figure

    from tf1cnn.common.figures import save_figure
    from tf1cnn.distributed import evaluate

    rundir.prepare(str(tmp_path), SETTINGS)
    x = np.linspace(-1, 1, 5).reshape(-1, 1)
    fit = evaluate.Fit(x, x ** 2, x ** 2 + 0.1, global_step=7, checkpoint="model.ckpt-7")
    save_figure(evaluate.draw(Figure(), fit), tmp_path / "fit.png", 50, {"Source": "test"})
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == \
        {"run.json": 0o644, "fit.png": 0o644}
