"""Installing tf1cnn claims one import name, so Dask's `distributed` and PyPI's `kernels` stay free.

The source folders sit at the top level but install under the `tf1cnn` parent package. These
checks run in a fresh interpreter outside the repository, as a user's program would.
"""
from __future__ import annotations

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


def test_imports_point_one_way_distributed_kernels_style_transfer():
    import ast

    forbidden = {"style_transfer": ("kernels", "distributed"), "kernels": ("distributed",)}
    for package, names in forbidden.items():
        for path in (REPO / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                    assert not any(n in f for n in names for f in found), \
                        f"{package}/{path.name} imports {found}"
