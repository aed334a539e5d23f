"""Writing the user's files safely (shared: the style tool, the kernels demo and the cluster's run
folder all write through here).

``atomic_write`` writes to a temporary file in the target's folder and renames it over the
target only once the writing succeeded: a crash, a full disk or Ctrl-C leaves either the old
file or the new one, never half of one, and no temporary file behind. The new file gets the
mode any ordinary ``open`` would give it, ``0o666`` less the umask (0644 under umask 022),
not the private 0600 that ``mkstemp`` starts from::

    with atomic_write("out/losses.csv") as handle:
        handle.write("step,loss\\n")

``check_writable`` is the probe every command runs before its expensive part: it makes the
folder if asked and proves a file can be created there, or raises a ``UsageError`` that names
the folder and the cause. ``check_output_file`` does the same for one named output file, such
as the PNG of ``tf1cnn-kernels --output`` or ``tf1cnn-cluster eval --output``.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from typing import IO

from .errors import UsageError


def file_mode() -> int:
    """The mode a new file gets from ``open``: 0o666 less the process's umask."""
    umask = os.umask(0)  # the only way to read it is to set it, so set it straight back
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, binary: bool = False) -> Iterator[IO]:
    """A handle on a temporary file that replaces ``path`` when the block ends without error.

    Text is UTF-8 and written as given, with no newline translation (what ``csv`` needs).
    """
    path = os.fspath(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                             suffix=".tmp", dir=os.path.dirname(path) or ".")
    try:
        text = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(descriptor, "wb" if binary else "w", **text) as handle:
            yield handle
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, binary=True) as handle:
        handle.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path) as handle:
        handle.write(text)


def write_json(path: str | os.PathLike, value, **dump_options) -> None:
    """``value`` as indented JSON with a final newline; ``dump_options`` go to ``json.dump``."""
    write_text(path, json.dumps(value, indent=2, **dump_options) + "\n")


def check_writable(folder: str | os.PathLike, role: str = "output directory",
                   create: bool = True) -> None:
    """Make ``folder`` (with its parents) if ``create``, then prove a file can be written there.

    Raises UsageError "ROLE FOLDER is a file" or "ROLE FOLDER is not writable (CAUSE)". The
    probe file has no name, so nothing is left behind whatever happens.
    """
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{role} {folder} is a file")
    try:
        if create:
            os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{role} {folder} is not writable ({exc.strerror or exc})") from None


def check_output_file(path: str, suffix: str = ".png", option_name: str = "--output") -> None:
    """Raise UsageError, with the fix, unless a ``suffix`` file can be written at ``path``: it
    is no folder, its folder exists and takes files, and it is not a read-only file."""
    if os.path.isdir(path):
        raise UsageError(f"{option_name} is a directory: {path}; give a file name inside it")
    if not path.lower().endswith(suffix):
        raise UsageError(f"{option_name} must be a {suffix} file, got {path}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: folder {folder} does not exist; create it or "
                         f"choose another {option_name}")
    check_writable(folder, f"cannot write {path}: folder", create=False)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"cannot overwrite {path}: permission denied")
