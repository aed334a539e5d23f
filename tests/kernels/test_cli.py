"""The command line: an end-to-end script run, and one clear line with exit 2 for bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tf1cnn.kernels import cli

REPO = Path(__file__).resolve().parents[2]


def run_cli(args, capsys):
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_script_writes_the_figure_end_to_end(tmp_path, photo_file, monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # the notices come with oneDNN and no GPU
    monkeypatch.delenv("TF1CNN_TF_NOTICES", raising=False)
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "kernel_demo.py"), "--image", str(photo_file),
         "--colour", "rgb", "--stride", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for notice in ("absl::InitializeLog", "oneDNN custom operations", "cuda drivers", "cuInit"):
        assert notice not in result.stderr  # TensorFlow started quietly
    out = tmp_path / "kernels_demo.png"  # the default output, in the working directory
    lines = result.stdout.splitlines()
    config = json.loads(lines[0][len("config: "):])
    assert config["stride"] == 2 and config["padding"] == "SAME" and not config["seed_kernels"]
    assert [line.split()[:2] for line in lines if line.startswith("map=")] == [
        [f"map={name}", "shape=15x12x3"] for name in cli.NAMES]  # ceil(30/2) x ceil(24/2)
    assert lines[-1] == f"saved: {out.name}"
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB" and picture.width > 200
        assert json.loads(picture.text["Description"]) == config
    assert sorted(p.name for p in photo_file.parent.iterdir()) == ["photo.png"]


def test_seed_mode_grey_figure_is_one_channel(tmp_path, photo_file, capsys):
    out = tmp_path / "seed.png"
    code, stdout, err = run_cli(["--image", photo_file, "--seed-kernels", "--kernels", "blur",
                                 "edge", "--output", out], capsys)
    assert code == 0, err
    assert "map=blur shape=10x8x1" in stdout  # ceil(30/3) x ceil(24/3): the default stride
    blur_max = float(stdout.split("map=blur")[1].split("max=")[1].split()[0])
    assert blur_max > 1.5  # nine pixels summed: far above the input's 1
    with Image.open(out) as picture:
        assert picture.mode == "L"


def test_the_figure_gets_the_usual_file_mode(tmp_path, photo_file, umask_022, capsys):
    out = tmp_path / "maps.png"
    code, _, err = run_cli(["--image", photo_file, "--kernels", "blur", "--output", out], capsys)
    assert code == 0, err
    assert out.stat().st_mode & 0o777 == 0o644


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 3)", "(default: SAME)", "(default: grey)",
                    "(default: kernels_demo.png)", "(default: ('blur', 'sharpen', 'edge', "):
        assert default in text


@pytest.fixture
def existing_output(tmp_path):
    """An output file already on disk, which a failed run must leave alone."""
    path = tmp_path / "out.png"
    path.write_bytes(b"earlier figure")
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make_args, message", [
    (lambda tmp, img: ["--image", tmp / "nope.jpg"], "input image not found: "),
    (lambda tmp, img: ["--image", write(tmp / "notes.png", b"just some text\n")],
     "not a readable image file"),
    (lambda tmp, img: ["--image", write(tmp / "empty.jpg", b"")], "not a readable image file"),
    (lambda tmp, img: ["--image", img, "--kernels", "blur", "gauss"],
     "unknown kernel 'gauss'; choose from blur, sharpen, edge, top_sobel, emboss"),
    (lambda tmp, img: ["--image", img, "--kernels", "edge", "edge"], "names a kernel twice"),
    (lambda tmp, img: ["--image", img, "--stride", "0"],
     "--stride must be a whole number of pixels, at least 1; got 0"),
    (lambda tmp, img: ["--image", img, "--stride", "-2"],
     "--stride must be a whole number of pixels, at least 1; got -2"),
    (lambda tmp, img: ["--image", img, "--stride", "1.5"],
     "argument --stride: must be a whole number of pixels, at least 1; got '1.5'"),
    (lambda tmp, img: ["--image", img, "--padding", "full"], "argument --padding: invalid choice"),
    (lambda tmp, img: ["--image", img, "--strides", "2"], "unrecognized arguments: --strides"),
], ids=["missing", "not-an-image", "zero-bytes", "unknown-kernel", "duplicate-kernel",
        "stride-0", "stride-negative", "stride-fraction", "bad-padding", "unknown-option"])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, photo_file, existing_output, capsys,
                                            make_args, message):
    args = make_args(tmp_path, photo_file) + ["--output", existing_output]
    code, stdout, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert existing_output.read_bytes() == b"earlier figure"
    assert "saved" not in stdout


def test_zero_pixel_image_is_refused(tmp_path, monkeypatch, capsys):
    """Decoders refuse 0x0 files, so feed a decoded 0-width array through the reader."""
    import imageio.v3 as iio

    monkeypatch.setattr(iio, "imread", lambda *a, **k: np.zeros((4, 0, 3), np.uint8))
    monkeypatch.setattr(iio, "immeta", lambda *a, **k: {})
    path = write(tmp_path / "flat.png", b"decoded by the stub")
    code, _, err = run_cli(["--image", path, "--output", tmp_path / "out.png"], capsys)
    assert code == 2 and "the image is empty (4x0)" in err and err.count("\n") == 1


@pytest.mark.parametrize("make_output, message", [
    (lambda tmp: tmp / "missing" / "out.png", "folder " + "{tmp}/missing does not exist"),
    (lambda tmp: tmp, "--output is a directory"),
    (lambda tmp: write(tmp / "file", b"x") / "out.png", "does not exist"),
    (lambda tmp: tmp / "out.jpg", "--output must be a .png file"),
], ids=["no-folder", "a-directory", "folder-is-a-file", "not-png"])
def test_unwritable_output_is_refused_before_any_work(tmp_path, photo_file, capsys,
                                                      make_output, message):
    output = make_output(tmp_path)
    code, stdout, err = run_cli(["--image", photo_file, "--output", output], capsys)
    assert code == 2 and message.format(tmp=tmp_path) in err and err.count("\n") == 1, err
    assert stdout == ""  # refused before the image was read and the config printed


def test_output_is_checked_before_tensorflow_loads(tmp_path, photo_file):
    """In a fresh interpreter: importing the CLI and failing on the output loads no TensorFlow,
    and neither does importing the numpy-only modules."""
    code = ("import sys\n"
            "from tf1cnn.kernels import bank, cli, config, figure, reference, faults\n"
            f"status = cli.main(['--image', {str(photo_file)!r}, '--output', "
            f"{str(tmp_path / 'no' / 'out.png')!r}])\n"
            "print(status, 'tensorflow' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["2", "False"], result.stderr
    assert "does not exist" in result.stderr


def test_check_writable_accepts_a_writable_path_and_leaves_nothing(tmp_path):
    from tf1cnn.common import files

    files.check_output_file(str(tmp_path / "fine.png"))
    assert list(tmp_path.iterdir()) == []


def test_faults_comparison_shows_what_it_claims():
    from tf1cnn.kernels import faults

    photo = np.random.default_rng(0).random((18, 15, 3), dtype=np.float32) * 255 / 256
    tiles = faults.comparison(photo)
    assert len(tiles) == 6
    (_, card), (_, seed_rgb), (_, fixed_rgb), _, (_, seed_grey), (_, fixed_grey) = tiles
    assert card.shape == (18, 15, 3) and seed_rgb.shape == (6, 5, 3)
    np.testing.assert_allclose(seed_rgb[..., 0], seed_rgb[..., 2], atol=1e-6)  # all grey
    assert np.ptp(fixed_rgb, axis=2).max() > 0.5  # colours survive
    assert seed_grey.max() > 3.0 and fixed_grey.max() <= 1.0  # gain 9 against gain 1


def test_show_opens_a_window_and_writes_nothing(tmp_path, photo_file, monkeypatch, capsys):
    from matplotlib import pyplot

    shown = []
    monkeypatch.setattr(pyplot, "show", lambda: shown.append(len(pyplot.gcf().axes)))
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run_cli(["--image", photo_file, "--show", "--output",
                                 tmp_path / "missing" / "x.png"], capsys)
    pyplot.close("all")
    assert code == 0, err
    assert shown == [6]  # the input and five maps
    assert "saved" not in stdout and sorted(p.name for p in tmp_path.iterdir()) == ["inputs"]
