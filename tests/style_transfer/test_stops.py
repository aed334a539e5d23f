"""Stops and faults that really happen to a style run: SIGINT and SIGTERM from any parent, and
a disk that fills up or turns read-only. Each must save or keep what was complete."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tf1cnn.common import exits, runtime, stops
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.network import vgg
from tf1cnn.style_transfer.objective import memory
from tf1cnn.style_transfer.shell import cli

REPO = Path(__file__).resolve().parents[2]
TINY = ["--height", "24", "--width", "32", "--seed", "1"]


def ignore_sigint() -> None:
    """What a shell without job control does to a job it starts in the background."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signum, optimizer, inherited, tiled", [
    (signal.SIGINT, "adam", "default", False),
    (signal.SIGINT, "lbfgs", "default", False),
    (signal.SIGINT, "adam", "ignored", False),
    (signal.SIGTERM, "adam", "default", False),
    (signal.SIGTERM, "lbfgs", "ignored", False),
    (signal.SIGINT, "adam", "default", True),
])
def test_a_signal_saves_and_exits_128_plus_its_number_then_a_rerun_resumes(
        tmp_path, tiny_vgg, tiny_layers, image_files, signum, optimizer, inherited, tiled,
        read_until):
    content, style = image_files
    out = tmp_path / "out"
    size = TINY
    if tiled:  # a budget below one pass that takes tiles of 64 pixels at 400x400
        config = StyleConfig(height=400, width=400, optimizer=optimizer)
        budget = memory.level_bytes(vgg.trunk(tiny_layers, ["relu4_2", "relu5_1"]), config, 64)
        size = ["--height", "400", "--width", "400", "--seed", "1", "--max-memory", str(budget)]
    args = [sys.executable, str(REPO / "scripts" / "style_transfer.py"), "--vgg", tiny_vgg,
            "--content", content, "--style", style, "--output-dir", str(out),
            "--optimizer", optimizer, "--iterations", "100000", "--checkpoint-every", "100000",
            *size]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=ignore_sigint if inherited == "ignored" else None)
    try:
        assert read_until(process, "step=5/"), "the run never reached step 5"
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 128 + signum == stops.exit_code(stops.Stop(signum)), err
    assert process.returncode in (exits.INTERRUPTED, exits.TERMINATED)
    step = int(err.split("interrupted at step ")[1].split(":")[0])
    assert step >= 5
    assert (out / f"step_{step:04d}.png").exists()
    assert runtime.latest_checkpoint(str(out / "checkpoints")).endswith(f"style-{step}")
    resumed = subprocess.run([*args[:-len(size) - 4], "--iterations", str(step + 1), *size],
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming at step {step}" in resumed.stdout
    assert ("in 49 tiles of up to 64x64 pixels" in resumed.stdout) == tiled


def test_a_second_signal_during_the_save_is_noted_and_ignored(capsys):
    saved, inherited = [], signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job
    with pytest.raises(stops.Stop) as stop:
        with stops.graceful():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises before this ends
            except stops.Stop:
                os.kill(os.getpid(), signal.SIGINT)  # while "saving"
                saved.append("checkpoint")
                raise
    assert stop.value.signum == signal.SIGTERM and saved == ["checkpoint"]
    assert "SIGINT received while stopping" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is inherited  # restored, whatever it was


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs, mounted for the test and unmounted after it, even when it fails."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; return it."""
    filler = folder / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for _ in range(10_000):  # 4 KiB blocks: far more than 4 MiB, bounded
            os.write(handle, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(handle)
    return filler


def test_a_full_disk_is_one_line_and_exit_74_and_keeps_the_finished_work(
        small_disk, tiny_vgg, image_files, capsys):
    content, style = image_files
    out = small_disk / "out"
    args = ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir", str(out),
            "--iterations", "3", "--checkpoint-every", "1", *TINY]
    assert cli.main(args) == 0
    capsys.readouterr()
    result = (out / "result.png").read_bytes()
    filler = fill(small_disk)
    code = cli.main([*args, "--iterations", "20"])
    err = capsys.readouterr().err
    assert code == exits.WRITE_FAILED, err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: cannot write") and str(out) in err
    assert "No space left on device" in err
    assert (out / "result.png").read_bytes() == result
    assert not [p for p in out.rglob("*")  # no half-written file is left
                if p.name.startswith("tmp") or p.name.endswith(".tmp")]
    filler.unlink()
    assert cli.main([*args, "--iterations", "5"]) == 0
    stdout = capsys.readouterr().out
    resumed = int(stdout.split("resuming at step ")[1].split()[0])
    assert resumed >= 3  # the last checkpoint written before the disk filled restores


def test_a_read_only_output_folder_is_refused_before_any_work(small_disk, tiny_vgg, image_files,
                                                              capsys):
    content, style = image_files
    out = small_disk / "out"
    args = ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir", str(out),
            "--iterations", "2", *TINY]
    assert cli.main(args) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    capsys.readouterr()
    assert cli.main([*args, "--iterations", "4"]) == exits.USAGE
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: output directory {out} is not writable (Read-only file system)")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_full_disk_during_a_video_keeps_its_frames_and_a_rerun_goes_on(small_disk, tiny_vgg,
                                                                          tmp_path, capsys):
    pytest.importorskip("cv2")
    pytest.importorskip("imageio_ffmpeg")
    from tf1cnn.common import images, samples
    from tf1cnn.style_transfer.tools import sample_clip

    clip = tmp_path / "clip"  # off the small disk
    sample_clip.write_folder(sample_clip.make(
        images.read_rgb(samples.sample(samples.SAMPLE_CONTENT)), frames=3, height=48,
        width=64), clip)
    out = small_disk / "out"
    args = ["--video", str(clip), "--vgg", tiny_vgg, "--output-dir", str(out), "--height",
            "48", "--width", "64", "--seed", "1", "--iterations", "3", "--checkpoint-every", "1"]
    assert cli.main([*args, "--last-frame", "1"]) == 0
    first = (out / "frames" / "frame_00001.png").read_bytes()
    capsys.readouterr()
    filler = fill(small_disk)
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == exits.WRITE_FAILED, err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: cannot write") and "No space left on device" in err
    assert (out / "frames" / "frame_00001.png").read_bytes() == first
    assert not [p for p in out.rglob("*") if p.name.startswith("tmp") or p.name.endswith(".tmp")]
    filler.unlink()
    assert cli.main(args) == 0
    assert "resuming at frame 2" in capsys.readouterr().out
    assert len(list((out / "frames").iterdir())) == 3
    assert (out / "frames" / "frame_00001.png").read_bytes() == first
