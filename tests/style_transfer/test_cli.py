"""The command line: a real run, resume, and one clear line with exit 2 for bad input (Ctrl-C
and other stops: test_stops.py)."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.style_transfer.config import FAST
from tf1cnn.style_transfer.shell import cli

REPO = Path(__file__).resolve().parents[2]
TINY = ["--height", "24", "--width", "32", "--seed", "1"]


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes, to prove nothing changed."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def finished(tmp_path, tiny_vgg, image_files, capsys):
    """An output folder holding a finished 3-step run."""
    content, style = image_files
    out = tmp_path / "out"
    args = ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir", str(out),
            "--iterations", "3", "--checkpoint-every", "1", *TINY]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    return args, out


def test_script_runs_two_iterations_end_to_end(tmp_path, tiny_vgg, image_files):
    content, style = image_files
    inputs = snapshot(Path(content).parent)
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "style_transfer.py"), "--vgg", tiny_vgg,
         "--content", content, "--style", style, "--iterations", "2", *TINY],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "style_output"  # the default output folder, in the working directory
    lines = result.stdout.splitlines()
    assert lines[0].startswith("config: ")
    assert json.loads(lines[0][len("config: "):])["iterations"] == 2
    assert [l.split()[0] for l in lines if l.startswith("step=")] == ["step=1/2", "step=2/2"]
    assert {"config.json", "step_0001.png", "step_0002.png", "result.png", "checkpoints",
            "summaries"} <= {p.name for p in out.iterdir()}
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["learning_rate"] == 2.0 and saved["settings"]["seed"] == 1
    assert snapshot(Path(content).parent) == inputs  # nothing written next to the inputs


def test_bad_option_is_one_line_and_exit_2(capsys):
    code, stdout, err = run_cli(["--bogus"], capsys)
    assert (code, stdout, err) == (2, "", "error: unrecognized arguments: --bogus\n")


def test_written_files_get_the_usual_file_mode(tmp_path, tiny_vgg, image_files, umask_022,
                                               capsys):
    content, style = image_files
    out = tmp_path / "out"
    code, _, err = run_cli(["--vgg", tiny_vgg, "--content", content, "--style", style,
                            "--output-dir", str(out), "--iterations", "2", *TINY], capsys)
    assert code == 0, err
    written = {p.relative_to(out): p.stat().st_mode & 0o777 for p in out.rglob("*")
               if p.suffix in (".png", ".csv", ".json")}
    assert {"config.json", "step_0002.png", "result.png", "losses.csv", "loss_curve.png",
            "contact_sheet.png"} <= {str(p) for p in written}
    assert set(written.values()) == {0o644}, written


def test_rerun_resumes_and_extends(finished, capsys):
    args, out = finished
    code, stdout, _ = run_cli([*args, "--iterations", "5"], capsys)
    assert code == 0
    assert "resuming at step 3 (settings match the saved run)" in stdout
    assert [l.split()[0] for l in stdout.splitlines() if l.startswith("step=")] == \
        ["step=4/5", "step=5/5"]


def test_changed_settings_start_fresh_and_keep_the_earlier_run(finished, capsys):
    args, out = finished
    before = snapshot(out)
    code, stdout, _ = run_cli([*args, "--style-weight", "2"], capsys)
    assert code == 0
    assert "starting fresh (settings changed: style_weight 1.0 -> 2.0; earlier run moved" in stdout
    (archived,) = (out / "archive").iterdir()
    assert snapshot(archived) == before


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BAD_INPUT = {
    "missing content": (["--content", "{tmp}/nope.jpg"], r"content image not found: .*nope\.jpg"),
    "style not an image": (["--style", "{tmp}/notes.txt"], r"cannot read style image .*notes"),
    "absurd size": (["--height", "100000", "--width", "100000"],
                    r"100000x100000 needs about [\d.]+ GiB of memory"),
    "no iterations": (["--iterations", "0"], r"--iterations must be at least 1, got 0"),
    "negative learning rate": (["--learning-rate", "-1"], r"--learning-rate must be positive"),
    "unknown layer": (["--content-layer", "relu9_9"], r"unknown layer name\(s\) relu9_9"),
    "weights per layer": (["--style-layer-weights", "1", "2"],
                          r"--style-layer-weights has 2 values for 5 style layers"),
    "output is a file": (["--output-dir", "{tmp}/notes.txt"], r"output directory .* is a file"),
    "output under a file": (["--output-dir", "{tmp}/notes.txt/out"],
                            r"output directory .* is not writable"),
    "bad vgg file": (["--vgg", "{tmp}/notes.txt"], r"cannot read VGG file .*notes\.txt"),
    "blend weights per style": (["--style-blend-weights", "1", "2"],
                                r"--style-blend-weights has 2 values for 1 style image$"),
    "all-zero blend weights": (["--style-blend-weights", "0"], r"not all zero, got 0.0$"),
    "content and content dir": (["--content-dir", "{tmp}"], r"give --content or --content-dir"),
    "missing initial image": (["--init", "{tmp}/start.png"], r"initial image not found: .*start"),
    "too many scales": (["--scales", "4"], r"--scales 4 makes the coarsest level 3 pixels"),
    "unreadable budget": (["--max-memory", "6x"], r"--max-memory wants a size such as 6G"),
    "budget below one tile": (["--max-memory", "1K"],
                              r"even in the smallest tiles \(16x16 pixels\).*the budget is "
                              r"1024 bytes \(--max-memory\); give --max-memory [\d.]+G or "
                              r"more, or use a smaller --height/--width$"),
    "lbfgs at an absurd size": (["--optimizer", "lbfgs", "--height", "100000", "--width",
                                 "100000"], r"100000x100000 needs about [\d.]+ GiB"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2_and_loses_nothing(case, finished, tmp_path, capsys):
    args, out = finished
    (tmp_path / "notes.txt").write_text("not an image")
    extra, pattern = BAD_INPUT[case]
    before = snapshot(out)
    code, stdout, err = run_cli([*args, *[a.format(tmp=tmp_path) for a in extra]], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert re.search(pattern, err), err
    assert snapshot(out) == before
    assert (tmp_path / "notes.txt").read_text() == "not an image"


def test_offline_download_names_url_cache_and_option(monkeypatch, tmp_path, image_files, capsys):
    url = f"http://127.0.0.1:{closed_port()}/imagenet-vgg-verydeep-19.mat"
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TF1CNN_VGG_URL", url)
    content, style = image_files
    code, _, err = run_cli(["--content", content, "--style", style, "--output-dir",
                            str(tmp_path / "out"), *TINY], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert url in err and str(tmp_path / "cache") in err and "--vgg PATH" in err
    assert not (tmp_path / "cache" / "imagenet-vgg-verydeep-19.mat").exists()


def test_corrupt_checkpoint_is_reported_and_kept(finished, capsys):
    args, out = finished
    data = sorted((out / "checkpoints").glob("*.data-*"))[-1]
    data.write_bytes(b"\0" * 16)
    before = snapshot(out)
    code, _, err = run_cli([*args, "--iterations", "6"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "cannot be restored" in err and "move" in err
    assert snapshot(out) == before


def test_help_lists_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--content", "--style-layer-weights", "--noise-ratio", "--pooling", "--seed",
                   "--optimizer {adam,lbfgs}", "--tolerance", "--tv-weight", "--style PATH [PATH",
                   "--style-blend-weights", "--style-scale", "--init", "--preserve-colors",
                   "--scales", "--coarse-iterations", "--content-dir PATH"):
        assert option in text
    assert "(default: 2.0)" in text and "(default: 300)" in text
    assert "--style-layers STYLE_LAYERS" in text


def test_importing_the_cli_loads_no_tensorflow(tmp_path):
    """--help and bad options answer at once: TensorFlow loads only when a run starts."""
    code = "import sys, tf1cnn.style_transfer.shell.cli; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_bundled_samples_are_installed_and_readable():
    from tf1cnn.common import images, samples

    for name in (samples.SAMPLE_CONTENT, samples.SAMPLE_STYLE, samples.SAMPLE_PHOTO):
        assert images.read_rgb(samples.sample(name)).shape[2] == 3


def step_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("step=")]


def test_lbfgs_coarse_to_fine_with_every_option_writes_the_outputs(tmp_path, tiny_vgg,
                                                                   image_files, capsys):
    content, style = image_files
    out = tmp_path / "out"
    args = ["--vgg", tiny_vgg, "--content", content, "--style", style, content,
            "--style-blend-weights", "3", "1", "--style-scale", "1.5", "--optimizer", "lbfgs",
            "--scales", "2", "--coarse-iterations", "2", "--iterations", "3", "--tv-weight", "1",
            "--init", "style", "--preserve-colors", "--output-dir", str(out),
            "--checkpoint-every", "2", *TINY]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    lines = step_lines(stdout)
    assert [line.split()[0] for line in lines] == ["step=1/2", "step=2/2", "step=1/3",
                                                   "step=2/3", "step=3/3"]
    fields = [dict(t.split("=", 1) for t in line.split()) for line in lines]
    assert [f["size"] for f in fields] == ["12x16"] * 2 + ["24x32"] * 3
    assert all(int(f["evals"]) >= int(f["step"].split("/")[0]) and float(f["tv"]) > 0
               for f in fields)
    assert {"result.png", "loss_curve.png", "contact_sheet.png", "losses.csv"} <= \
        {p.name for p in out.iterdir()}
    assert (out / "scales" / "12x16" / "checkpoints" / "style-2.index").exists()
    rows = (out / "losses.csv").read_text().splitlines()
    assert rows[0] == "size,step,global_step,evaluations,seconds,total,content,style,tv"
    assert [r.split(",")[2] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    sheet = iio.imread(out / "contact_sheet.png")
    assert sheet.shape[0] == 24 and sheet.shape[1] > 4 * 32  # content, 2 styles, result

    code, stdout, _ = run_cli([*args, "--iterations", "5"], capsys)
    assert code == 0
    assert "resuming at step 3 of level 2/2 (24x32) (settings match" in stdout
    assert [line.split()[0] for line in step_lines(stdout)] == ["step=4/5", "step=5/5"]
    assert len((out / "losses.csv").read_text().splitlines()) == 1 + 7


def test_fast_is_its_options_stops_by_itself_and_a_rerun_keeps_the_result(
        tmp_path, tiny_vgg, image_files, capsys):
    content, style = image_files
    out = tmp_path / "out"
    args = ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir", str(out),
            "--fast", "--lbfgs-corrections", "3", *TINY]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    settings = json.loads((out / "config.json").read_text())["config"]
    assert {k: settings[k] for k in FAST if k != "lbfgs_corrections"} == {
        k: list(v) if isinstance(v, tuple) else v for k, v in FAST.items()
        if k != "lbfgs_corrections"}
    assert settings["lbfgs_corrections"] == 3  # given beside --fast, it wins
    assert re.search(r"^stopped at step \d+: (relative loss change|evaluation budget)", stdout,
                     re.M)  # at least one level ended by itself
    result = iio.imread(out / "result.png")
    code, stdout, _ = run_cli(args, capsys)
    assert code == 0 and not step_lines(stdout)
    assert np.array_equal(iio.imread(out / "result.png"), result)


def test_the_eta_counts_a_coarse_budget_and_says_when_it_is_a_bound():
    from tf1cnn.style_transfer.config import StyleConfig
    from tf1cnn.style_transfer.optimise import records
    from tf1cnn.style_transfer.shell import job

    def line(config, level):
        height, width = config.levels()[level].height, config.levels()[level].width
        record = records.Progress(level, config.scales, height, width, 10,
                                 config.levels()[level].iterations, 10, {
                                     "total": 1.0, "content": 1.0, "style": 1.0, "tv": 0.0},
                                 10.0, 10, False, "", np.zeros((height, width, 3)))
        return dict(t.split("=", 1) for t in job.progress_line(record, config.levels()).split())

    plain = StyleConfig(height=200, width=200, scales=2, coarse_iterations=100, iterations=50)
    assert line(plain, 0)["eta"] == "00:04:50"  # 90 steps of 1 s, then 50 at 4 times the pixels
    budget = StyleConfig(height=200, width=200, scales=2, coarse_iterations=100, iterations=50,
                         coarse_evaluations=30)
    assert line(budget, 0)["eta_max"] == "00:03:40"  # at most 20 more coarse steps, then 50
    assert line(budget, 1)["eta"] == "00:00:40"  # the full size has no budget or tolerance
    assert line(StyleConfig(tolerance=0.1), 0)["eta_max"] == "00:04:50"


def test_style_colours_init_is_the_content_with_the_styles_colour_statistics():
    from tf1cnn.style_transfer.control import controls

    rng = np.random.default_rng(0)
    content = rng.uniform(60, 200, (40, 50, 3))
    style = rng.normal((90, 140, 120), 8, (30, 20, 3))
    start = controls.start_picture("style-colours", content, [style], None)
    assert 0 < start.min() and start.max() < 255  # none clipped: the statistics match exactly
    np.testing.assert_allclose(start.reshape(-1, 3).mean(0), style.reshape(-1, 3).mean(0),
                               atol=1e-3)
    np.testing.assert_allclose(np.cov(start.reshape(-1, 3).T.astype(np.float64), bias=True),
                               np.cov(style.reshape(-1, 3).T, bias=True), rtol=1e-4)
    assert controls.start_picture("noise", content, [style], None) is None


def test_a_run_saved_before_the_stopping_options_existed_still_resumes(finished, capsys):
    args, out = finished
    saved = json.loads((out / "config.json").read_text())
    for name in ("coarse_tolerance", "coarse_evaluations", "tolerance_steps"):
        del saved["settings"][name]  # as the version before them wrote it
    (out / "config.json").write_text(json.dumps(saved))
    code, stdout, _ = run_cli([*args, "--iterations", "4"], capsys)
    assert code == 0 and "resuming at step 3 (settings match the saved run)" in stdout
    code, stdout, _ = run_cli([*args, "--iterations", "4", "--coarse-evaluations", "5"], capsys)
    assert code == 0 and "settings changed: coarse_evaluations 0 -> 5" in stdout


def test_changing_the_optimiser_archives_the_run(finished, capsys):
    args, _ = finished
    code, stdout, _ = run_cli([*args, "--optimizer", "lbfgs"], capsys)
    assert code == 0
    assert "settings changed: optimizer 'adam' -> 'lbfgs'" in stdout


def test_preserve_colors_only_rewrites_the_result(finished, capsys):
    args, out = finished
    before = iio.imread(out / "result.png")
    code, stdout, _ = run_cli([*args, "--preserve-colors"], capsys)
    assert code == 0 and "resuming at step 3" in stdout and not step_lines(stdout)
    assert not np.array_equal(iio.imread(out / "result.png"), before)


def test_batch_mode_stylises_each_image_into_its_own_resumable_folder(tmp_path, tiny_vgg,
                                                                      image_files, capsys):
    content, style = image_files
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(content, folder / "first.png")
    shutil.copy(style, folder / "second.png")
    (folder / "notes.txt").write_text("not an image, skipped")
    args = ["--vgg", tiny_vgg, "--content-dir", str(folder), "--style", style, "--init", style,
            "--output-dir", str(tmp_path / "out"), "--iterations", "2", *TINY]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    assert "content 2/2: " in stdout and stdout.count("starting fresh (new run)") == 2
    for name in ("first", "second"):
        assert (tmp_path / "out" / name / "result.png").exists()
    code, stdout, _ = run_cli([*args[:-len(TINY) - 2], "--iterations", "3", *TINY], capsys)
    assert code == 0 and stdout.count("resuming at step 2") == 2


def test_empty_content_dir_is_refused(tmp_path, tiny_vgg, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["--vgg", tiny_vgg, "--content-dir", str(tmp_path / "empty"),
                            "--output-dir", str(tmp_path / "out"), *TINY], capsys)
    assert code == 2 and "holds no image files" in err
    assert err.count("\n") == 1 and err.startswith("error: "), err
