"""Training pictures: random crops, the fixed held-out set and the user's folder (no TensorFlow)."""
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tf1cnn.common.errors import UsageError
from tf1cnn.common.images import write_png
from tf1cnn.distributed import pictures


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_batches_have_the_shape_dtype_and_range_and_follow_the_seed(synthetic_image):
    sources = [synthetic_image(0, 90, 120), synthetic_image(1, 150, 100)]
    batch = pictures.Crops(sources, size=64, seed=3).batch(5)
    assert batch.shape == (5, 64, 64, 3) and batch.dtype == np.float32
    assert batch.min() >= 0.0 and batch.max() <= 255.0 and batch.std() > 10
    np.testing.assert_array_equal(batch, pictures.Crops(sources, size=64, seed=3).batch(5))
    assert not np.array_equal(batch, pictures.Crops(sources, size=64, seed=4).batch(5))


def test_a_picture_smaller_than_the_crop_still_gives_full_crops(synthetic_image):
    crops = pictures.Crops([synthetic_image(0, 40, 50)], size=64, seed=0)
    batch = crops.batch(6)
    assert batch.shape == (6, 64, 64, 3)
    assert batch.reshape(6, -1, 3).std(axis=1).min() > 5  # picture everywhere, no padding


def test_both_orientations_occur():
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32)[None, :, None], (64, 1, 3))
    batch = pictures.Crops([ramp], size=64, seed=0).batch(40)  # scale 1: the whole picture
    rising = [np.array_equal(crop, ramp) for crop in batch]
    falling = [np.array_equal(crop, ramp[:, ::-1]) for crop in batch]
    assert all(a or b for a, b in zip(rising, falling))
    assert 10 <= sum(rising) <= 30


def test_a_crop_resamples_only_what_it_needs_yet_equals_the_whole_resize(synthetic_image):
    picture = synthetic_image(2, 300, 420).astype(np.float32)
    scale, top, left, size = 150 / 300, 20, 37, 64
    crop = pictures._scaled_crop(picture, scale, top, left, size)
    box = (left / scale, top / scale, (left + size) / scale, (top + size) / scale)
    whole = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(picture[:, :, c]))
                                 .resize((size, size), Image.Resampling.LANCZOS, box=box))
                      for c in range(3)], axis=2)
    np.testing.assert_allclose(crop, np.clip(whole, 0, 255), atol=0.01)


@pytest.mark.parametrize("shorter, low, high", [(400, 32, 64), (50, 32, 50), (20, 32, 32)])
def test_scales_stay_between_the_crop_and_twice_the_crop(monkeypatch, shorter, low, high):
    seen = []
    real = pictures._scaled_crop

    def spy(picture, scale, top, left, size):
        seen.append((round(scale * shorter), top + size <= math.floor(picture.shape[0] * scale
                                                                        + 1e-9)))
        return real(picture, scale, top, left, size)

    monkeypatch.setattr(pictures, "_scaled_crop", spy)
    pictures.Crops([np.zeros((shorter, 2 * shorter, 3), np.uint8)], size=32, seed=1).batch(60)
    targets = [target for target, _ in seen]
    assert all(inside for _, inside in seen)
    assert min(targets) == low and max(targets) == high


def test_held_out_is_fixed_and_comes_only_from_held_out_photographs():
    first, second = pictures.held_out(), pictures.held_out()
    assert first.shape == (8, 256, 256, 3) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert first.min() >= 0 and first.max() <= 255
    assert first.reshape(8, -1).std(axis=1).min() > 10  # real pictures, not saturated
    assert not set(pictures.HELD_OUT_PHOTOS) & set(pictures.TRAINING_PHOTOS)
    training = pictures.training_sources(None)
    assert len(training) == len(pictures.TRAINING_PHOTOS)
    held = [pictures.default_photo(name) for name in pictures.HELD_OUT_PHOTOS]
    assert not any(t.shape == h.shape and np.array_equal(t, h) for t in training for h in held)
    assert pictures.held_out(3, 64).shape == (3, 64, 64, 3)


def test_held_out_names_the_photograph_of_each_crop():
    """Each crop's colour histogram is nearer its named photograph's than any other's."""
    crops, names = pictures.held_out(), pictures.held_out_names()
    assert len(names) == len(crops) and set(names) == set(pictures.HELD_OUT_PHOTOS)

    def histogram(pixels):
        found = np.histogramdd(pixels.reshape(-1, 3), bins=4, range=[(0, 256)] * 3)[0]
        return found.ravel() / found.sum()

    photos = {name: histogram(pictures.default_photo(name))
              for name in pictures.HELD_OUT_PHOTOS}
    for crop, name in zip(crops, names):
        distance = {other: np.abs(histogram(crop) - h).sum() for other, h in photos.items()}
        assert min(distance, key=distance.get) == name


def test_default_photographs_are_colour_and_load_offline():
    for name in pictures.TRAINING_PHOTOS + pictures.HELD_OUT_PHOTOS:
        photo = pictures.default_photo(name)
        assert photo.dtype == np.float32 and photo.ndim == 3 and min(photo.shape[:2]) >= 300
        assert np.abs(photo - photo.mean(axis=2, keepdims=True)).mean() > 5, name  # not grey
        assert not photo.flags.writeable


def test_read_folder_refuses_bad_folders_in_one_line(tmp_path):
    with pytest.raises(UsageError) as excinfo:
        pictures.read_folder(tmp_path / "missing")
    assert "not found" in _one_line(excinfo)
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(UsageError) as excinfo:
        pictures.read_folder(tmp_path / "file.png")
    assert "not a folder" in _one_line(excinfo)
    for contents in ([], ["a.txt", "b.TXT"]):
        folder = tmp_path / f"only{len(contents)}"
        folder.mkdir()
        for name in contents:
            (folder / name).write_text("words")
        with pytest.raises(UsageError) as excinfo:
            pictures.read_folder(folder)
        assert "holds no .jpg, .jpeg or .png" in _one_line(excinfo)


def test_read_folder_lists_pictures_sorted_with_subfolders(tmp_path, synthetic_image):
    write_png(tmp_path / "b.png", synthetic_image(0))
    write_png(tmp_path / "A.PNG", synthetic_image(1))
    (tmp_path / "sub").mkdir()
    write_png(tmp_path / "sub" / "c.png", synthetic_image(2))
    (tmp_path / "notes.txt").write_text("not a picture")
    found = pictures.read_folder(tmp_path)
    assert found == [tmp_path / "A.PNG", tmp_path / "b.png", tmp_path / "sub" / "c.png"]
    assert pictures.training_sources(str(tmp_path)) == found
    assert pictures.Crops(found, size=32, seed=0).batch(4).shape == (4, 32, 32, 3)


@pytest.mark.filterwarnings("ignore:The legacy `DICOM` plugin:DeprecationWarning")
def test_a_corrupt_picture_is_named_when_it_is_read(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    found = pictures.read_folder(tmp_path)  # listing decodes nothing
    with pytest.raises(UsageError) as excinfo:
        pictures.Crops(found, size=16, seed=0).batch(1)
    assert str(tmp_path / "broken.jpg") in _one_line(excinfo)


def test_decoded_files_are_cached_within_the_bound(tmp_path, synthetic_image):
    for i in range(4):
        write_png(tmp_path / f"{i}.png", synthetic_image(i, 40, 50))
    one = 40 * 50 * 3 * 4
    crops = pictures.Crops(pictures.read_folder(tmp_path), size=16, seed=0,
                           cache_bytes=2 * one)
    crops.batch(20)
    assert crops.cached_bytes == 2 * one
    everything = pictures.Crops(pictures.read_folder(tmp_path), size=16, seed=0)
    everything.batch(40)
    assert everything.cached_bytes == 4 * one


def test_the_module_runs_nothing_and_loads_no_tensorflow_on_import():
    code = ("import sys, tf1cnn.distributed.pictures as p; "
            "print(sorted(m for m in ('tensorflow', 'skimage.data') if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=False, timeout=120)
    assert (shown.returncode, shown.stdout.strip()) == (0, "[]"), shown.stderr
