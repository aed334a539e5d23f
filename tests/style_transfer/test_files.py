"""Atomic writes with the usual file mode, and the writability probe."""
from __future__ import annotations

import os
import stat

import pytest

from tf1cnn.common import files
from tf1cnn.common.errors import UsageError


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_files_get_0644_under_umask_022(tmp_path, umask_022):
    files.write_text(tmp_path / "a.txt", "text\n")
    files.write_json(tmp_path / "b.json", {"k": [1]})
    files.write_bytes(tmp_path / "c.bin", b"\0")
    assert {p.name: mode(p) for p in tmp_path.iterdir()} == \
        {"a.txt": 0o644, "b.json": 0o644, "c.bin": 0o644}
    assert (tmp_path / "b.json").read_text() == '{\n  "k": [\n    1\n  ]\n}\n'


def test_a_failed_write_keeps_the_earlier_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("earlier")
    with pytest.raises(KeyboardInterrupt):
        with files.atomic_write(target) as handle:
            handle.write("half of the new")
            raise KeyboardInterrupt
    assert target.read_text() == "earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_check_writable_makes_the_folder_and_leaves_nothing(tmp_path):
    files.check_writable(tmp_path / "a" / "b")
    assert list((tmp_path / "a" / "b").iterdir()) == []


def test_check_writable_names_the_folder_and_the_cause(tmp_path):
    (tmp_path / "f").write_text("keep")
    with pytest.raises(UsageError, match=r"^results .*/f is a file$"):
        files.check_writable(tmp_path / "f", "results")
    with pytest.raises(UsageError, match=r"^output directory .*/f/sub is not writable \(Not a"):
        files.check_writable(tmp_path / "f" / "sub")
    with pytest.raises(UsageError, match=r"is not writable \(No such file or directory\)"):
        files.check_writable(tmp_path / "missing", create=False)
    assert (tmp_path / "f").read_text() == "keep"
