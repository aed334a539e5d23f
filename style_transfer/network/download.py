"""Fetch VGG19 weights into a per-user cache: MatConvNet's imagenet-vgg-verydeep-19.mat, or
Keras' vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 for ``--vgg keras-vgg19``.

The MatConvNet file is 535 MB, so :func:`fetch` streams it into ``<name>.part`` beside the
destination and resumes from that partial file with an HTTP ``Range`` request, both on a later
attempt within one call and on a later run. The file is moved into place only once its size and
hash match the pinned values, so a failed download never leaves a file at the destination.

vlfeat.org's TLS certificate has expired, so that file is fetched over plain http: the pinned
hash, not the transport, is what vouches for its contents. Keras publishes only an MD5 and no
size for its 80 MB file, so :func:`fetch` also takes an MD5 and an unknown size; that file
comes over https.

Every failure raises :class:`~common.errors.DownloadError` with one line naming the URL,
the cache path, what went wrong and the way out: download the file by hand and pass ``--vgg``.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from tf1cnn.common.errors import DownloadError

log = logging.getLogger(__name__)

VGG19_URL = "http://www.vlfeat.org/matconvnet/models/imagenet-vgg-verydeep-19.mat"
VGG19_BYTES = 534_904_783
VGG19_SHA256 = "abdb57167f82a2a1fbab1e1c16ad9373411883f262a1a37ee5db2e6fb0044695"
KERAS_VGG19_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                   "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
KERAS_VGG19_MD5 = "253f8cb515780f3b799900260a226db6"  # as published in keras.applications

CHUNK = 1 << 20  # bytes read, written and hashed at a time
_RANGE_START = re.compile(r"bytes (\d+)-")
_RANGE_TOTAL = re.compile(r"/(\d+)$")


def cache_dir() -> Path:
    """``$TF1CNN_CACHE``, else ``$XDG_CACHE_HOME/tf1cnn``, else ``~/.cache/tf1cnn``.

    An empty variable counts as unset. The folder is not created here.
    """
    own = os.environ.get("TF1CNN_CACHE")
    if own:
        return Path(own).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "tf1cnn"


def vgg19_path(*, progress: bool = True) -> Path:
    """The cached VGG19 weights, downloaded and verified first if they are not there yet.

    ``$TF1CNN_VGG_URL`` replaces the URL, for a mirror; the pinned size and hash still apply.
    """
    dest = cache_dir() / "imagenet-vgg-verydeep-19.mat"
    url = os.environ.get("TF1CNN_VGG_URL") or VGG19_URL
    try:
        return fetch(url, dest, VGG19_BYTES, VGG19_SHA256, progress=progress)
    except DownloadError as e:
        raise DownloadError(f"{e}, or pass --vgg keras-vgg19 to use Keras' copy of the "
                            f"VGG19 weights") from e


def keras_vgg19_path(*, progress: bool = True) -> Path:
    """Keras' VGG19 ImageNet weights without the classifier (about 80 MB), fetched if needed.

    ``$TF1CNN_KERAS_VGG_URL`` replaces the URL, for a mirror; the pinned MD5 still applies.
    """
    dest = cache_dir() / KERAS_VGG19_URL.rsplit("/", 1)[1]
    url = os.environ.get("TF1CNN_KERAS_VGG_URL") or KERAS_VGG19_URL
    return fetch(url, dest, None, md5=KERAS_VGG19_MD5, progress=progress)


def _error(url: str, dest: Path, what: str) -> DownloadError:
    what = " ".join(what.split())  # the message stays on one line
    return DownloadError(
        f"cannot download {url} to {dest} ({what}); download it yourself and pass --vgg PATH")


def fetch(url: str, dest: Path, size: int | None, sha256: str | None = None, *,
          md5: str | None = None, progress: bool = True, timeout: float = 30.0,
          attempts: int = 3, backoff: float = 0.5) -> Path:
    """Download ``url`` to ``dest`` unless ``dest`` already holds ``size`` bytes; return ``dest``.

    The file is checked against ``sha256`` or, where only that is published, ``md5``. With
    ``size=None`` the size is taken from the server's reply, and any existing ``dest`` counts.
    An existing ``dest`` of the right size is trusted without hashing it again: only this
    function writes it, and only after verifying it. Otherwise at most ``attempts`` requests
    are made, each resuming from what ``<dest>.part`` holds, with a pause of ``backoff`` seconds
    times the attempt number between them and ``timeout`` seconds as the socket timeout. A
    4xx reply stops at once. A partial file that is too short is kept so that a rerun resumes;
    one that is too long or has the wrong hash is deleted. Raises :class:`DownloadError`.
    """
    if (sha256 is None) == (md5 is None):
        raise ValueError("pass exactly one of sha256 and md5")
    algorithm, expected = ("SHA-256", sha256.lower()) if sha256 else ("MD5", md5.lower())
    dest = Path(dest)
    if dest.is_file() and size in (None, dest.stat().st_size):
        return dest
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _error(url, dest, f"cannot create {dest.parent}: {e.strerror or e}") from e

    size, problem, cause = _attempts(url, dest, part, size, timeout=timeout,
                                     progress=progress, attempts=attempts, backoff=backoff)
    _check_size(url, dest, part, size, problem, cause)
    found = file_sha256(part) if sha256 else _file_md5(part)
    if found != expected:
        part.unlink()
        raise _error(url, dest, f"expected {algorithm} {expected}, found {found}")
    os.replace(part, dest)
    log.info("downloaded and verified %s", dest)
    return dest


def _attempts(url: str, dest: Path, part: Path, size: int | None, *, timeout: float,
              progress: bool, attempts: int, backoff: float
              ) -> tuple[int | None, str, BaseException | None]:
    """:func:`fetch`'s requests, until ``part`` holds ``size`` bytes or the attempts run out.

    Returns the file's size as now known (None when no reply stated it), the last problem in
    words and the exception behind it. A 4xx reply other than a 416 at the end raises at once.
    """
    problem, cause = "", None
    for attempt in range(1, max(1, attempts) + 1):
        if size is not None and _size(part) >= size:
            break
        if attempt > 1:
            log.info("attempt %d of %d failed (%s); retrying", attempt - 1, attempts, problem)
            time.sleep(backoff * (attempt - 1))
        try:
            total = _get(url, dest, part, size, timeout=timeout, progress=progress)
            problem, cause = "the server closed the connection early", None
            if size is None:
                size = total if total is not None else _size(part)  # no length: EOF ends it
        except urllib.error.HTTPError as e:
            problem, cause = f"HTTP {e.code} {e.reason}", e
            if e.code == 416 and size is None and _size(part):
                size = _size(part)  # nothing left past the partial file: it is complete
                break
            if e.code < 500:
                raise _error(url, dest, problem) from e
        except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, resets
            problem, cause = str(getattr(e, "reason", e)) or type(e).__name__, e
    return size, problem, cause


def _check_size(url: str, dest: Path, part: Path, size: int | None, problem: str,
                cause: BaseException | None) -> None:
    """Raise unless ``part`` holds exactly ``size`` bytes. An empty or overlong partial file
    is deleted; a short one is kept for a rerun to resume from."""
    have = _size(part)
    if size is None:  # every attempt failed before the server said how long the file is
        if have == 0:
            part.unlink(missing_ok=True)
            raise _error(url, dest, problem) from cause
        raise _error(url, dest, f"{problem}; a rerun resumes from {have} bytes") from cause
    if have < size:
        if have == 0:
            part.unlink(missing_ok=True)
            raise _error(url, dest, problem) from cause
        raise _error(url, dest, f"expected {size} bytes, found {have}: {problem}; a rerun "
                                f"resumes from {have} bytes") from cause
    if have > size:
        part.unlink()
        raise _error(url, dest, f"expected {size} bytes, found at least {have}")


def _get(url: str, dest: Path, part: Path, size: int | None, *, timeout: float,
         progress: bool) -> int | None:
    """One request: append to ``part`` from its current size, or start it over on a 200.

    Returns the whole file's size as the reply states it (Content-Range or Content-Length),
    or None when it states none.
    """
    offset = _size(part)
    request = urllib.request.Request(url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
        log.info("resuming %s from %d bytes", part, offset)
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        start = _RANGE_START.match(reply.headers.get("Content-Range", ""))
        if reply.status == 206 and start and int(start.group(1)) == offset:
            mode = "ab"
            total = _RANGE_TOTAL.search(reply.headers.get("Content-Range", ""))
            total = int(total.group(1)) if total else None
        elif reply.status == 200:
            if offset:
                log.info("the server ignored the range; starting %s over", part)
            mode, offset = "wb", 0
            length = reply.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
        else:
            raise _error(url, dest, f"unexpected reply HTTP {reply.status} "
                                    f"{reply.headers.get('Content-Range', '')} to a request "
                                    f"from byte {offset}")
        limit = size if size is not None else total
        with open(part, mode) as out, tqdm(total=limit, initial=offset, unit="B", unit_scale=True,
                                           unit_divisor=1024, desc=dest.name, file=sys.stderr,
                                           disable=not progress) as bar:
            while limit is None or offset <= limit:  # stop a reply that runs past the size
                chunk = reply.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                offset += len(chunk)
                bar.update(len(chunk))
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's contents, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
