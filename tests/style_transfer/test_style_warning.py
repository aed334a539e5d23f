"""The command line warns, once per run, about a style picture scaled up by more than 2x, and
changes nothing else: not the exit code, not a file it writes."""
from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import pytest

from tf1cnn.common import exits
from tf1cnn.style_transfer.shell import cli

TINY = ["--height", "24", "--width", "32", "--seed", "1", "--iterations", "1"]


def warning_for(path) -> str:
    # An 8x10 picture for 24x32 keeps round(10 * 24 / 32) = 8 rows: 32 / 10 = 3.2x. At
    # --style-scale 0.62 it is fitted to 20x15: 2x; a 16x12 picture would be 2x too.
    return (f"warning: style picture {path} (10x8) is scaled up 3.2x to 32x24, which blurs "
            f"its texture away; give a style picture of at least 16x12, or --style-scale 0.62 "
            f"or less to keep the scale-up within 2x\n")


@pytest.fixture
def styles(tmp_path, synthetic_image) -> dict:
    """Style pictures of 10x8 (3.2x for 32x24) and 16x12 (exactly 2x), by their widths."""
    folder = tmp_path / "styles"
    folder.mkdir()
    found = {}
    for width, height in ((10, 8), (16, 12)):
        found[width] = folder / f"style_{width}.png"
        iio.imwrite(found[width], synthetic_image(2, height, width))
    return found


def run(args, capsys) -> tuple[int, str]:
    code = cli.main([str(arg) for arg in args])
    return code, capsys.readouterr().err


def test_a_small_style_picture_is_warned_about_once(tmp_path, tiny_vgg, image_files, styles,
                                                    capsys):
    content, _ = image_files
    code, err = run(["--vgg", tiny_vgg, "--content", content, "--style", styles[10],
                     "--output-dir", tmp_path / "out", *TINY], capsys)
    assert (code, err) == (exits.OK, warning_for(styles[10]))


def test_a_batch_is_warned_once_not_per_picture(tmp_path, tiny_vgg, styles, synthetic_image,
                                                capsys):
    folder = tmp_path / "contents"
    folder.mkdir()
    for name, seed in (("a.png", 1), ("b.png", 3)):
        iio.imwrite(folder / name, synthetic_image(seed))
    out = tmp_path / "out"
    code, err = run(["--vgg", tiny_vgg, "--content-dir", folder, "--style", styles[10],
                     "--output-dir", out, *TINY], capsys)
    assert (code, err) == (exits.OK, warning_for(styles[10]))
    assert (out / "a" / "result.png").exists() and (out / "b" / "result.png").exists()


def test_a_picture_scaled_up_2x_or_less_gets_no_warning(tmp_path, tiny_vgg, image_files,
                                                        styles, capsys):
    content, _ = image_files
    for name, style, extra in (("large", styles[16], []),
                               ("scaled", styles[10], ["--style-scale", "0.62"])):
        code, err = run(["--vgg", tiny_vgg, "--content", content, "--style", style,
                         "--output-dir", tmp_path / name, *TINY, *extra], capsys)
        assert (code, err) == (exits.OK, ""), name


def test_the_warning_changes_no_file_and_no_exit_code(tmp_path, tiny_vgg, image_files, styles,
                                                      monkeypatch, capsys):
    content, _ = image_files
    args = ["--vgg", tiny_vgg, "--content", content, "--style", styles[10], *TINY]
    code, err = run([*args, "--output-dir", tmp_path / "warned"], capsys)
    assert (code, err) == (exits.OK, warning_for(styles[10]))
    monkeypatch.setattr(cli, "warn_small_styles", lambda config: None)
    code, err = run([*args, "--output-dir", tmp_path / "quiet"], capsys)
    assert (code, err) == (exits.OK, "")
    # Every picture but the loss curve, which plots wall time.
    pictures = sorted(p.name for p in (tmp_path / "warned").glob("*.png")
                      if p.name != "loss_curve.png")
    assert "result.png" in pictures
    assert pictures == sorted(p.name for p in (tmp_path / "quiet").glob("*.png")
                              if p.name != "loss_curve.png")
    for name in pictures:
        assert (tmp_path / "warned" / name).read_bytes() == \
            (tmp_path / "quiet" / name).read_bytes(), name


def test_a_clip_is_warned_once_not_per_frame(tmp_path, tiny_vgg, styles, synthetic_image,
                                             capsys):
    pytest.importorskip("cv2")
    pytest.importorskip("imageio_ffmpeg")
    frames = tmp_path / "clip"
    frames.mkdir()
    for number in (1, 2):
        iio.imwrite(frames / f"frame_{number:05d}.png", synthetic_image(number, 24, 32))
    out = tmp_path / "out"
    code, err = run(["--vgg", tiny_vgg, "--video", frames, "--style", styles[10],
                     "--output-dir", out, "--frame-iterations", "1", *TINY], capsys)
    assert (code, err) == (exits.OK, warning_for(styles[10]))
    assert len(list(Path(out, "frames").iterdir())) == 2
