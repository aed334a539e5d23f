"""Tests of the VGG download against a small HTTP server on 127.0.0.1; nothing leaves the host."""
from __future__ import annotations

import hashlib
import http.server
import os
import re
import socket
import threading
from pathlib import Path

import pytest

from tf1cnn.common.errors import DownloadError
from tf1cnn.style_transfer.network import download

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()
SIZE = len(PAYLOAD)
CUT = 70_000  # bytes a truncating server sends per reply


class Server:
    """What the handler serves and how it misbehaves, plus the Range headers it was sent."""

    def __init__(self) -> None:
        self.body = PAYLOAD
        self.truncate: int | None = None  # close each reply after this many body bytes
        self.ignore_range = False  # always answer 200 with the whole body
        self.status: int | None = None  # answer every request with this error status
        self.ranges: list[str | None] = []
        self.url = ""


def _handler(state: Server) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked = self.headers.get("Range")
            state.ranges.append(asked)
            if state.status:
                self.send_error(state.status)
                return
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", asked or "")
            if match and not state.ignore_range:
                start = int(match.group(1))
                self.send_response(206)
                self.send_header("Content-Range",
                                 f"bytes {start}-{len(state.body) - 1}/{len(state.body)}")
            else:
                self.send_response(200)
            body = state.body[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.truncate is not None:
                body = body[:state.truncate]
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    for name in ("no_proxy", "NO_PROXY"):  # never route 127.0.0.1 through a proxy
        monkeypatch.setenv(name, "*")
    state = Server()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/vgg.mat"
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _fetch(url: str, dest: Path, *, size: int = SIZE, sha256: str = SHA, **options) -> Path:
    """fetch() with quick test settings: no progress bar, short timeout, no back-off."""
    options = {"progress": False, "timeout": 5.0, "attempts": 3, "backoff": 0.0, **options}
    return download.fetch(url, dest, size, sha256, **options)


def _part(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def test_full_download(server: Server, tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    dest = tmp_path / "cache" / "deeper" / "vgg.mat"
    assert _fetch(server.url, dest, progress=True) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not _part(dest).exists()
    assert server.ranges == [None]
    assert "vgg.mat" in capfd.readouterr().err  # the progress bar goes to stderr


def test_truncated_keeps_part_for_resume(server: Server, tmp_path: Path) -> None:
    server.truncate = CUT
    dest = tmp_path / "vgg.mat"
    with pytest.raises(DownloadError) as caught:
        _fetch(server.url, dest, attempts=2)
    message = str(caught.value)
    assert "\n" not in message
    assert server.url in message and str(dest) in message and "--vgg PATH" in message
    assert f"expected {SIZE} bytes, found {2 * CUT}" in message
    assert f"resumes from {2 * CUT} bytes" in message
    assert not dest.exists()
    assert _part(dest).read_bytes() == PAYLOAD[:2 * CUT]
    assert server.ranges == [None, f"bytes={CUT}-"]  # the second attempt resumed

    server.truncate = None  # a rerun against a healthy server finishes the same .part
    assert _fetch(server.url, dest) == dest
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges[-1] == f"bytes={2 * CUT}-"
    assert not _part(dest).exists()


def test_resumes_partial_file(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.mat"
    _part(dest).write_bytes(PAYLOAD[:CUT])
    assert _fetch(server.url, dest) == dest
    assert server.ranges == [f"bytes={CUT}-"]
    assert dest.read_bytes() == PAYLOAD
    assert not _part(dest).exists()


def test_server_ignoring_range_starts_over(server: Server, tmp_path: Path) -> None:
    server.ignore_range = True
    dest = tmp_path / "vgg.mat"
    _part(dest).write_bytes(b"stale bytes from some other file")
    assert _fetch(server.url, dest) == dest
    assert server.ranges == ["bytes=32-"]
    assert dest.read_bytes() == PAYLOAD
    assert not _part(dest).exists()


def test_wrong_hash_deletes_part(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.mat"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as caught:
        _fetch(server.url, dest, sha256=wrong)
    message = str(caught.value)
    assert f"expected SHA-256 {wrong}, found {SHA}" in message
    assert server.url in message and str(dest) in message and "--vgg PATH" in message
    assert not dest.exists() and not _part(dest).exists()


def test_too_many_bytes_deletes_part(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.mat"
    with pytest.raises(DownloadError, match=f"expected {SIZE - 1000} bytes, found at least"):
        _fetch(server.url, dest, size=SIZE - 1000)
    assert not dest.exists() and not _part(dest).exists()


def test_complete_part_is_verified_without_a_request(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.mat"
    _part(dest).write_bytes(PAYLOAD)
    assert _fetch(server.url, dest) == dest
    assert server.ranges == []
    assert dest.read_bytes() == PAYLOAD


def test_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as probe:  # a port that nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/vgg.mat"
    dest = tmp_path / "vgg.mat"
    with pytest.raises(DownloadError) as caught:
        _fetch(url, dest)
    message = str(caught.value)
    assert message.startswith(f"cannot download {url} to {dest} (")
    assert message.endswith("; download it yourself and pass --vgg PATH")
    assert "refused" in message.lower() and "\n" not in message
    assert not dest.exists() and not _part(dest).exists()


def test_not_found_is_not_retried(server: Server, tmp_path: Path) -> None:
    server.status = 404
    dest = tmp_path / "vgg.mat"
    with pytest.raises(DownloadError) as caught:
        _fetch(server.url, dest)
    message = str(caught.value)
    assert "HTTP 404" in message and server.url in message and "--vgg PATH" in message
    assert server.ranges == [None]
    assert not dest.exists() and not _part(dest).exists()


def test_existing_file_is_returned_without_a_request(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.mat"
    dest.write_bytes(b"x" * SIZE)  # the size is trusted; the hash is checked only on download
    assert _fetch(server.url, dest) == dest
    assert server.ranges == []
    assert dest.read_bytes() == b"x" * SIZE


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.cache_dir() == tmp_path / "own"
    monkeypatch.delenv("TF1CNN_CACHE")
    assert download.cache_dir() == tmp_path / "xdg" / "tf1cnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert download.cache_dir() == tmp_path / "home" / ".cache" / "tf1cnn"
    assert not (tmp_path / "home").exists()


def test_vgg19_path_uses_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path))
    monkeypatch.delenv("TF1CNN_VGG_URL", raising=False)
    calls = []
    monkeypatch.setattr(download, "fetch", lambda *args, **kwargs: calls.append((args, kwargs)))
    download.vgg19_path(progress=False)
    assert calls == [((download.VGG19_URL, tmp_path / "imagenet-vgg-verydeep-19.mat",
                       download.VGG19_BYTES, download.VGG19_SHA256), {"progress": False})]


def test_vgg19_path_honours_a_mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path))
    monkeypatch.setenv("TF1CNN_VGG_URL", "http://127.0.0.1:9/mirror.mat")
    calls = []
    monkeypatch.setattr(download, "fetch", lambda *args, **kwargs: calls.append(args[0]))
    download.vgg19_path(progress=False)
    assert calls == ["http://127.0.0.1:9/mirror.mat"]


MD5 = hashlib.md5(PAYLOAD).hexdigest()


def test_md5_and_unknown_size(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.h5"
    assert _fetch(server.url, dest, size=None, sha256=None, md5=MD5) == dest
    assert dest.read_bytes() == PAYLOAD
    assert _fetch(server.url, dest, size=None, sha256=None, md5=MD5) == dest  # no new request
    assert server.ranges == [None]


def test_unknown_size_resumes_after_a_truncated_reply(server: Server, tmp_path: Path) -> None:
    server.truncate = CUT
    dest = tmp_path / "vgg.h5"
    with pytest.raises(DownloadError, match=f"expected {SIZE} bytes, found {2 * CUT}"):
        _fetch(server.url, dest, size=None, sha256=None, md5=MD5, attempts=2)
    server.truncate = None
    assert _fetch(server.url, dest, size=None, sha256=None, md5=MD5) == dest
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges == [None, f"bytes={CUT}-", f"bytes={2 * CUT}-"]


def test_unknown_size_complete_part_answered_416(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.h5"
    _part(dest).write_bytes(PAYLOAD)
    server.status = 416  # Range Not Satisfiable: nothing lies past the partial file
    assert _fetch(server.url, dest, size=None, sha256=None, md5=MD5) == dest
    assert dest.read_bytes() == PAYLOAD and not _part(dest).exists()


def test_wrong_md5_deletes_part(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "vgg.h5"
    with pytest.raises(DownloadError, match=f"expected MD5 {'0' * 32}, found {MD5}"):
        _fetch(server.url, dest, size=None, sha256=None, md5="0" * 32)
    assert not dest.exists() and not _part(dest).exists()


def test_exactly_one_hash(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        download.fetch("http://127.0.0.1:9/x", tmp_path / "x", 1, SHA, md5=MD5)


def test_failed_vgg19_download_names_keras_way_out(server: Server, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server.status = 404
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path))
    monkeypatch.setenv("TF1CNN_VGG_URL", server.url)
    with pytest.raises(DownloadError) as caught:
        download.vgg19_path(progress=False)
    message = str(caught.value)
    assert "\n" not in message and "HTTP 404" in message
    assert message.endswith("pass --vgg PATH, or pass --vgg keras-vgg19 to use Keras' copy of "
                            "the VGG19 weights")


def test_keras_vgg19_path_uses_the_cache_and_md5(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("TF1CNN_CACHE", str(tmp_path))
    monkeypatch.delenv("TF1CNN_KERAS_VGG_URL", raising=False)
    calls = []
    monkeypatch.setattr(download, "fetch", lambda *args, **kwargs: calls.append((args, kwargs)))
    download.keras_vgg19_path(progress=False)
    assert download.KERAS_VGG19_URL.startswith("https://")
    assert calls == [((download.KERAS_VGG19_URL,
                       tmp_path / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", None),
                      {"md5": download.KERAS_VGG19_MD5, "progress": False})]
