"""weights.load: the sources --vgg names, and the cache of the convolutions that later runs use."""
from __future__ import annotations

import json
import logging
import os
import shutil
import stat

import numpy as np
import pytest

from tf1cnn.common.errors import ModelFileError, UsageError
from tf1cnn.style_transfer.network import download, matconvnet, weights

OUTPUTS = ("relu4_2", "relu1_1", "relu3_1")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "weights"


@pytest.fixture
def mat(tmp_path, tiny_vgg):
    path = tmp_path / "vgg.mat"
    shutil.copy(tiny_vgg, path)
    return path


@pytest.fixture
def reads(monkeypatch):
    """How many times the .mat reader ran."""
    calls = []
    real = matconvnet.read_layers
    monkeypatch.setattr(matconvnet, "read_layers", lambda path: calls.append(path) or real(path))
    return calls


def assert_same(layers, expected):
    assert [layer.name for layer in layers] == [layer.name for layer in expected]
    for mine, theirs in zip(layers, expected):
        assert (mine.kind, mine.pool_size, mine.pool_method) == \
            (theirs.kind, theirs.pool_size, theirs.pool_method)
        if mine.kind == "conv":
            np.testing.assert_array_equal(mine.weights, theirs.weights)
            np.testing.assert_array_equal(mine.bias, theirs.bias)


def test_first_load_writes_the_cache(mat, cache, tiny_layers, reads):
    network = weights.load(str(mat), OUTPUTS)
    assert reads == [mat]
    assert network.layers[-1].name == "relu4_2"  # the trunk is cut after the deepest output
    assert_same(network.layers, tiny_layers[:len(network.layers)])
    assert network.sha256 == download.file_sha256(mat) and network.source == str(mat)
    (written,) = cache.iterdir()
    assert written == weights.cache_path(mat)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    with np.load(written) as data:
        manifest = json.loads(str(data["manifest"]))
    assert manifest["file_sha256"] == network.sha256
    assert manifest["layers"][-1]["name"] == "pool5"  # the whole trunk, cut only when loaded


def test_second_load_uses_the_cache_and_not_the_file(mat, tiny_layers, reads):
    first = weights.load(str(mat), OUTPUTS)
    before = mat.stat()
    mat.write_bytes(b"\0" * before.st_size)  # unreadable as a .mat, same size
    os.utime(mat, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    second = weights.load(str(mat), OUTPUTS)
    assert reads == [mat]
    assert (second.sha256, second.source) == (first.sha256, first.source)
    assert_same(second.layers, first.layers)
    assert weights.load(str(mat), ("relu5_1",)).layers[-1].name == "relu5_1"


@pytest.mark.parametrize("change", ["mtime", "size"])
def test_changed_file_is_read_again(mat, tiny_layers, reads, change):
    weights.load(str(mat), OUTPUTS)
    if change == "mtime":
        st = mat.stat()
        os.utime(mat, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    else:
        matconvnet.write_layers(mat, tiny_layers, layout="old")  # same weights, other bytes
    network = weights.load(str(mat), OUTPUTS)
    assert reads == [mat, mat]
    assert_same(network.layers, tiny_layers[:len(network.layers)])
    assert network.sha256 == download.file_sha256(mat)
    weights.load(str(mat), OUTPUTS)
    assert len(reads) == 2  # the rebuilt cache is used


def _truncate(path):
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


def _flip_a_weight_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _drop_the_checksum(path):
    with np.load(path) as data:
        kept = {key: data[key] for key in data.files if key != "arrays_sha256"}
    with open(path, "wb") as out:
        np.savez(out, **kept)


def _lie_about_a_shape(path):
    with np.load(path) as data:
        kept = {key: data[key] for key in data.files}
    manifest = json.loads(str(kept["manifest"]))
    manifest["layers"][0]["shape"][3] += 1
    kept["manifest"] = np.array(json.dumps(manifest))
    with open(path, "wb") as out:
        np.savez(out, **kept)


@pytest.mark.parametrize("damage", [_truncate, _flip_a_weight_byte, _drop_the_checksum,
                                    _lie_about_a_shape, lambda path: path.write_text("junk")])
def test_broken_cache_is_rebuilt_not_trusted(mat, tiny_layers, reads, caplog, damage):
    weights.load(str(mat), OUTPUTS)
    damage(weights.cache_path(mat))
    with caplog.at_level(logging.WARNING, logger=weights.__name__):
        network = weights.load(str(mat), OUTPUTS)
    (record,) = caplog.records
    assert record.getMessage().startswith("ignoring the broken weight cache")
    assert "\n" not in record.getMessage()
    assert reads == [mat, mat]
    assert_same(network.layers, tiny_layers[:len(network.layers)])
    weights.load(str(mat), OUTPUTS)
    assert len(reads) == 2


def test_unwritable_cache_warns_once_and_reads_the_file(mat, tmp_path, monkeypatch,
                                                       tiny_layers, reads, caplog):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path / "a-file" / "cache"))
    monkeypatch.setattr(weights, "_unwritable", set())
    with caplog.at_level(logging.WARNING, logger=weights.__name__):
        first = weights.load(str(mat), OUTPUTS)
        second = weights.load(str(mat), OUTPUTS)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == \
        [f"cannot write the weight cache in {tmp_path / 'a-file' / 'cache' / 'weights'}"]
    assert reads == [mat, mat]
    assert_same(second.layers, first.layers)


def test_no_temporary_file_is_left(mat, cache):
    weights.load(str(mat), OUTPUTS)
    assert [p.name for p in cache.iterdir()] == [weights.cache_path(mat).name]


def test_keras_h5_by_content_and_keyword(tmp_path, tiny_layers, write_h5, monkeypatch):
    path = tmp_path / "weights.bin"  # no .h5 suffix: told by the HDF5 signature
    write_h5(path, tiny_layers)
    network = weights.load(str(path), OUTPUTS)
    assert_same(network.layers, tiny_layers[:len(network.layers)])
    assert network.sha256 == download.file_sha256(path)
    monkeypatch.setattr(download, "keras_vgg19_path", lambda progress: path)
    assert weights.load("keras-vgg19", OUTPUTS).source == str(path)


def test_default_is_the_matconvnet_download(mat, monkeypatch):
    monkeypatch.setattr(download, "vgg19_path", lambda progress: mat)
    assert weights.load(None, OUTPUTS).source == str(mat)


def test_errors_are_one_line(tmp_path, mat):
    with pytest.raises(ModelFileError, match=r"VGG file not found: .*keras-vgg19\)$"):
        weights.load(str(tmp_path / "missing.mat"), OUTPUTS)
    with pytest.raises(UsageError, match="unknown layer name"):
        weights.load(str(mat), ("relu9_9",))
    (tmp_path / "bad.mat").write_text("not a MATLAB file")
    with pytest.raises(ModelFileError, match="not a MATLAB file"):
        weights.load(str(tmp_path / "bad.mat"), OUTPUTS)
