"""The quiet start: TensorFlow's known notices are held back, every other line on fd 2 is kept.
The precision ``auto`` resolves to, from the processor's flags and oneDNN's switch."""
from __future__ import annotations

import os
import sys

import pytest

from tf1cnn.common import runtime

NOTICES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1795696211.941502    5061 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results.\n"
    "I0000 00:00:1795696211.941837    5061 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n"
    "E0000 00:00:1795696214.789723    5061 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")
REAL = "E0000 00:00:1795696214.8 5061 op_kernel.cc:1] something the user must see\n"


@pytest.fixture
def notices_hidden(monkeypatch):
    monkeypatch.delenv(runtime.SHOW_NOTICES, raising=False)


def test_quiet_drops_the_notices_and_keeps_the_rest(capfd, notices_hidden):
    with runtime.quiet():
        os.write(2, (NOTICES + REAL).encode())
    assert capfd.readouterr().err == REAL


def test_quiet_keeps_what_is_written_when_the_block_fails(capfd, notices_hidden):
    with pytest.raises(RuntimeError):
        with runtime.quiet():
            os.write(2, b"Traceback-worthy line\n")
            raise RuntimeError
    assert capfd.readouterr().err == "Traceback-worthy line\n"


def test_the_opt_out_shows_everything(capfd, monkeypatch):
    monkeypatch.setenv(runtime.SHOW_NOTICES, "1")
    with runtime.quiet():
        os.write(2, NOTICES.encode())
    assert capfd.readouterr().err == NOTICES


FLAGS = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f {extra}\nbugs\t\t:\n"


@pytest.mark.parametrize("extra, environ, expected", [
    ("amx_bf16 amx_tile", {"TF_ENABLE_ONEDNN_OPTS": "1"}, "bfloat16"),
    ("avx512_bf16 amx_bf16", {"TF_ENABLE_ONEDNN_OPTS": "true"}, "bfloat16"),
    ("avx512_bf16", {"TF_ENABLE_ONEDNN_OPTS": "1"}, "float32"),  # measured slower without AMX
    ("avx512_vnni", {"TF_ENABLE_ONEDNN_OPTS": "1"}, "float32"),  # no bfloat16 instructions
    ("amx_bf16", {"TF_ENABLE_ONEDNN_OPTS": "0"}, "float32"),  # oneDNN off
    ("amx_bf16", {"TF_ENABLE_ONEDNN_OPTS": "False"}, "float32"),
])
def test_auto_picks_bfloat16_only_with_amx_and_onednn(extra, environ, expected):
    cpuinfo = FLAGS.format(extra=extra)
    assert runtime.resolve_precision("auto", cpuinfo, environ) == expected
    assert runtime.resolve_precision("float32", cpuinfo, environ) == "float32"


def test_onednn_defaults_to_tensorflows_choice_where_unset():
    assert runtime.onednn_enabled({}, "x86_64") == sys.platform.startswith("linux")
    assert not runtime.onednn_enabled({}, "aarch64")
    assert runtime.cpu_flags("no flags here") == set()
    with pytest.raises(ValueError, match="choose one of float32, bfloat16, auto"):
        runtime.resolve_precision("float16")
