"""Installing tf1cnn claims one import name, so Dask's `distributed` and PyPI's `kernels` stay free.

The source folders sit at the top level but install under the `tf1cnn` parent package. These
checks run in a fresh interpreter outside the repository, as a user's program would.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def python(code: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_distributed_is_still_dask_and_dask_works(tmp_path):
    code = (
        "import distributed\n"
        "print(distributed.__file__)\n"
        "with distributed.Client(processes=False, dashboard_address=None) as client:\n"
        "    print(client.submit(lambda x: x + 1, 41).result(timeout=30))\n")
    where, answer = python(code, tmp_path).splitlines()[-2:]
    assert Path(where).parent != REPO / "distributed"
    assert Path(where).parent.name == "distributed"
    assert Path(where).parent.parent.name == "site-packages"
    assert answer == "42"


def test_our_packages_live_under_tf1cnn_and_claim_no_other_name(tmp_path):
    code = (
        "import importlib.util, tf1cnn.style_transfer, tf1cnn.kernels, tf1cnn.distributed\n"
        "print(tf1cnn.distributed.__name__, tf1cnn.kernels.__name__)\n"
        "spec = importlib.util.find_spec('kernels')\n"
        "print(spec.origin if spec else None)\n")
    names, kernels = python(code, tmp_path).splitlines()
    assert names == "tf1cnn.distributed tf1cnn.kernels"
    assert kernels == "None"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved against its package."""
    package = "tf1cnn." + path.parent.name
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = package + ("." + base if base else "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


# What kernels/ and distributed/ may use of style_transfer/: the owners of the shared plumbing.
SHARED = {"errors", "exits", "options", "files", "runtime", "samples", "images", "report"}


def test_imports_point_one_way_distributed_kernels_style_transfer():
    """distributed -> kernels is forbidden, and both reach style_transfer only through SHARED;
    style_transfer imports neither."""
    for package in ("style_transfer", "kernels", "distributed"):
        for path in (REPO / package).glob("*.py"):
            for name in imported_modules(path):
                where = f"{package}/{path.name} imports {name}"
                if package == "style_transfer":
                    assert not name.startswith(("tf1cnn.kernels", "tf1cnn.distributed")), where
                    continue
                if package == "distributed":
                    assert not name.startswith("tf1cnn.kernels"), where
                if name.startswith("tf1cnn.style_transfer."):
                    assert name.split(".")[2] in SHARED, where


def test_each_command_reports_a_bad_option_in_one_line(tmp_path):
    bin_dir = Path(sys.executable).parent
    for command in (["tf1cnn-style"], ["tf1cnn-kernels"], ["tf1cnn-cluster", "train"]):
        result = subprocess.run([str(bin_dir / command[0]), *command[1:], "--bogus"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stderr) == \
            (2, "error: unrecognized arguments: --bogus\n"), command
    assert list(tmp_path.iterdir()) == []
