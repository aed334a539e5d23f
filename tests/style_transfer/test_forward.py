"""Applying a trained feed-forward style network (``tf1cnn-style --network``): one forward pass
per picture at odd sizes, a --content-dir, a --video, the SavedModel export in a process with
TensorFlow alone, and one line with exit 2 for each bad checkpoint or option."""
from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common import images
from tf1cnn.style_transfer.network import transform
from tf1cnn.style_transfer.shell import cli, forward

v1 = tf.compat.v1
WIDTH = 0.125  # channels 4, 8, 16
STEP = 7
SIZES = ((1, 1), (17, 31), (40, 56))


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def save_network(folder: Path, width: float = WIDTH, settings: dict | None = None) -> Path:
    """A style network's checkpoint folder as the cluster leaves it: transform/ variables (the
    norms' scales and offsets moved off 1 and 0), a global step, an Adam-like extra variable,
    and run.json."""
    folder.mkdir(parents=True, exist_ok=True)
    with tf.Graph().as_default():
        v1.set_random_seed(0)
        transform.stylise(v1.placeholder(tf.float32, [1, None, None, 3]), width)
        moved = [v1.assign_add(v, 0.3 * tf.random.normal(v.shape))
                 for v in v1.global_variables() if "norm" in v.op.name]
        v1.Variable(tf.zeros([3]), name="transform/output/bias/Adam")
        step = v1.train.get_or_create_global_step()
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            session.run([moved, v1.assign(step, STEP)])
            v1.train.Saver().save(session, str(folder / "model.ckpt"), global_step=STEP)
    run = {"model": "style-net", "width": width, "crop": 32, "batch": 2, **(settings or {})}
    (folder / "run.json").write_text(json.dumps(run))
    return folder


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> Path:
    return save_network(tmp_path_factory.mktemp("net") / "checkpoints")


def picture(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def expected(network: Path, pixels: np.ndarray) -> np.ndarray:
    with contextlib.closing(forward.Network(forward.locate(str(network)))) as net:
        return net(pixels.astype(np.float32))


def run_cli(args, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_picture_at_its_own_odd_size_is_one_forward_pass(tmp_path, network, capsys):
    pixels = picture(1, 17, 31)
    iio.imwrite(tmp_path / "photo.png", pixels)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["--network", network, "--content", tmp_path / "photo.png",
                                 "--output-dir", out], capsys)
    assert code == 0, err
    lines = stdout.splitlines()
    assert json.loads(lines[0].removeprefix("config: "))["network_width"] == WIDTH
    assert re.match(rf"network: .*model\.ckpt-{STEP} \(step {STEP}\), "
                    rf"{transform.parameter_count(WIDTH)} parameters, restored in [\d.]+s; "
                    r"TensorFlow's import took [\d.]+s$", lines[1]), lines[1]
    assert re.match(rf"saved: {re.escape(str(out))}/result.png \(17x31\) in [\d.]+s$", lines[2])
    assert {p.name for p in out.iterdir()} == {"result.png", "contact_sheet.png",
                                               "metrics.json", "config.json"}
    result = iio.imread(out / "result.png")
    np.testing.assert_array_equal(result, images.to_uint8(expected(network, pixels)))
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"ssim_luminance", "colour_distance_content", "seconds"}
    assert -1 <= metrics["ssim_luminance"] <= 1 and metrics["seconds"] > 0


def test_a_content_dir_gets_a_folder_per_picture_each_at_its_size(tmp_path, network, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed, (height, width) in enumerate(SIZES):
        iio.imwrite(folder / f"p{height}x{width}.png", picture(seed, height, width))
    out = tmp_path / "out"
    code, stdout, err = run_cli(["--network", network, "--content-dir", folder,
                                 "--output-dir", out], capsys)
    assert code == 0, err
    assert stdout.count("saved: ") == len(SIZES) and stdout.count("network: ") == 1
    for height, width in SIZES:
        result = iio.imread(out / f"p{height}x{width}" / "result.png")
        assert result.shape == (height, width, 3)
        assert (out / f"p{height}x{width}" / "metrics.json").exists()
    # SSIM needs 3x3 pixels: a 1x1 picture has the colour distance alone.
    assert "ssim_luminance" not in json.loads((out / "p1x1" / "metrics.json").read_text())


@pytest.mark.parametrize("given, shape", [(("--height", "20", "--width", "20"), (20, 20)),
                                          (("--height", "20"), (20, 28)),
                                          (("--preserve-colors",), (40, 56))])
def test_height_and_width_fit_the_picture_as_an_optimised_run_does(tmp_path, network, capsys,
                                                                   given, shape):
    iio.imwrite(tmp_path / "photo.png", picture(2, 40, 56))
    out = tmp_path / "out"
    code, _, err = run_cli(["--network", network, "--content", tmp_path / "photo.png",
                            "--output-dir", out, *given], capsys)
    assert code == 0, err
    assert iio.imread(out / "result.png").shape == (*shape, 3)


def test_a_rerun_over_an_optimised_run_archives_it_first(tmp_path, network, capsys):
    iio.imwrite(tmp_path / "photo.png", picture(3, 17, 31))
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.png").write_bytes(b"an optimised result")
    (out / "config.json").write_text(json.dumps({"config": {}, "settings": {"seed": 1}}))
    before = snapshot(out)
    code, stdout, err = run_cli(["--network", network, "--content", tmp_path / "photo.png",
                                 "--output-dir", out], capsys)
    assert code == 0, err
    assert "earlier run moved to" in stdout
    (archived,) = (out / "archive").iterdir()
    assert snapshot(archived) == before


def test_a_clip_is_stylised_frame_by_frame_with_its_warping_error(tmp_path, network, capsys):
    pytest.importorskip("cv2")
    pytest.importorskip("imageio_ffmpeg")
    from tf1cnn.common import samples
    from tf1cnn.style_transfer.tools import sample_clip

    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    sample_clip.write_folder(sample_clip.make(photo, frames=3, height=21, width=35),
                             tmp_path / "clip")
    out = tmp_path / "out"
    code, stdout, err = run_cli(["--network", network, "--video", tmp_path / "clip",
                                 "--output-dir", out], capsys)
    assert code == 0, err
    frames = sorted((out / "frames").iterdir())
    assert [p.name for p in frames] == [f"frame_0000{k}.png" for k in (1, 2, 3)]
    assert all(iio.imread(p).shape == (21, 35, 3) for p in frames)
    assert (out / "video.mp4").stat().st_size > 0 and (out / "frames.csv").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 3 and metrics["mean_warping_error"] > 0
    assert {"seconds_per_frame", "forward_seconds_per_frame", "flow_share"} <= set(metrics)
    assert not any(key.endswith("_loss") for key in metrics)
    framed = [line for line in stdout.splitlines() if line.startswith("frame ")]
    assert len(framed) == 3 and sum("warping_error=" in line for line in framed) == 2


LOAD = """import json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
x = tf.constant(np.load(sys.argv[2]))
a = model.stylise(x).numpy()
b = model.signatures["serving_default"](images=x)["styled"].numpy()
np.save(sys.argv[3], np.stack([a, b]))
print(json.dumps(sorted(m for m in sys.modules if m.startswith("tf1cnn"))))
"""


def test_the_saved_model_loads_with_tensorflow_alone_and_gives_the_same_pictures(
        tmp_path, network, capsys):
    target = tmp_path / "exported"
    code, stdout, err = run_cli(["--network", network, "--export-saved-model", target], capsys)
    assert code == 0, err
    assert stdout.startswith(f"exported: {target} (SavedModel of ")
    pixels = picture(4, 17, 31).astype(np.float32)[None]
    np.save(tmp_path / "x.npy", pixels)
    script = tmp_path / "load.py"
    script.write_text(LOAD)
    loaded = subprocess.run([sys.executable, str(script), str(target), str(tmp_path / "x.npy"),
                             str(tmp_path / "y.npy")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=180, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.splitlines()[-1]) == []  # no module of ours
    both = np.load(tmp_path / "y.npy")
    want = expected(network, pixels[0])
    np.testing.assert_allclose(both[0, 0], want, atol=1e-5)
    np.testing.assert_allclose(both[1, 0], want, atol=1e-5)
    assert run_cli(["--network", network, "--export-saved-model", target], capsys)[0] == 0


def damage(name: str, folder: Path) -> None:
    """Make the copied checkpoint folder bad in the way ``name`` says."""
    data = next(folder.glob("model.ckpt-*.data-*"))
    if name == "truncated data":
        data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 2])
    elif name == "garbage index":
        next(folder.glob("model.ckpt-*.index")).write_bytes(b"\x13garbage" * 40)
    elif name == "no checkpoint":
        for path in folder.glob("model.ckpt-*"):
            path.unlink()
        (folder / "checkpoint").unlink()
    elif name == "toy run":
        (folder / "run.json").write_text(json.dumps({"points": 100, "hidden": 10}))
    elif name == "no run.json":
        (folder / "run.json").unlink()
    elif name == "width mismatch":
        (folder / "run.json").write_text(json.dumps({"model": "style-net", "width": 0.25}))


BAD = {
    "missing folder": ([], r"--network .*nowhere: no such folder"),
    "no checkpoint": ([], r"has no checkpoint yet: train first"),
    "toy run": ([], r"holds a toy model's run, not a style network; train one with "),
    "no run.json": ([], r"holds no run\.json, so no training run; train one"),
    "truncated data": ([], r"model\.ckpt-7 is damaged \(\w+: .*\); point at an older"),
    "garbage index": ([], r"model\.ckpt-7 is damaged \(\w+: .*\); point at an older"),
    "width mismatch": ([], (r"transform/conv1/kernel is \[9, 9, 3, 4\] but run\.json's "
                            r"width 0\.25 makes it \[9, 9, 3, 8\]")),
    "optimisation option": (["--iterations", "5", "--style", "x.png"],
                            (r"--iterations, --style are for an optimisation; a --network run "
                             r"takes only --content")),
    "preset": (["--fast"], r"--fast is for an optimisation"),
    "bad size": (["--height", "0"], r"--height must be at least 1, got 0"),
    "export and pictures": (["--export-saved-model", "{tmp}/m", "--content", "{tmp}/p.png"],
                            r"writes the network and stylises nothing"),
    "missing content": (["--content", "{tmp}/nope.png"], r"content image not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_input_is_one_line_and_exit_2_and_changes_nothing(case, tmp_path, network,
                                                                   capsys):
    folder = tmp_path / "nowhere" if case == "missing folder" else tmp_path / "net"
    if case != "missing folder":
        shutil.copytree(network, folder)
        damage(case, folder)
    iio.imwrite(tmp_path / "p.png", picture(5, 9, 9))
    before = snapshot(tmp_path)
    extra, pattern = BAD[case]
    extra = [e.format(tmp=tmp_path) for e in extra]
    content = [] if "--content" in extra else ["--content", tmp_path / "p.png"]
    code, stdout, err = run_cli(["--network", folder, "--output-dir", tmp_path / "out",
                                 *content, *extra], capsys)
    assert (code, err.count("\n")) == (2, 1), err
    assert err.startswith("error: ") and re.search(pattern, err), err
    assert "saved:" not in stdout
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()


def test_export_without_a_network_is_refused(tmp_path, capsys):
    code, _, err = run_cli(["--export-saved-model", tmp_path / "m"], capsys)
    assert code == 2
    assert err == ("error: --export-saved-model needs --network CHECKPOINT_DIR, the network to "
                   "export\n")
    assert not (tmp_path / "m").exists()


def test_export_refuses_a_folder_holding_other_files(tmp_path, network, capsys):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("mine")
    code, _, err = run_cli(["--network", network, "--export-saved-model", tmp_path / "m"],
                           capsys)
    assert code == 2 and err.count("\n") == 1 and "a folder of other files" in err
    assert (tmp_path / "m" / "notes.txt").read_text() == "mine"


def test_help_lists_the_network_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "--network CHECKPOINT_DIR" in text and "--export-saved-model DIR" in text
