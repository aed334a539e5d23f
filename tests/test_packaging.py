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


PACKAGES = ("common", "style_transfer", "kernels", "distributed")
# Inside style_transfer, a group imports only groups of a lower rank (config is the run's
# definition, which every group reads); nothing in the package imports tools/.
RANKS = {"config": 0, "network": 0, "objective": 1, "control": 1, "optimise": 2, "video": 3,
         "shell": 4, "tools": 5}
# What distributed/ may use of style_transfer/: the models it trains and their objective.
TRAINABLE = ("tf1cnn.style_transfer.network", "tf1cnn.style_transfer.objective",
             "tf1cnn.style_transfer.config")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return "tf1cnn." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved against its package."""
    package = module_name(path) if path.name == "__init__.py" else \
        module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                base += "." + node.module if node.module else ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules() -> dict[str, set[str]]:
    """Each of our modules, and the modules of ours it imports (packages stand for their
    __init__)."""
    files = [path for package in PACKAGES for path in (REPO / package).rglob("*.py")]
    names = {module_name(path): path for path in files}
    return {name: {found for found in imported_modules(path) if found in names and
                   found != name} for name, path in names.items()}


def group(name: str) -> str:
    """tf1cnn.style_transfer.GROUP[.module]'s group (a top-level module is its own)."""
    return name.split(".")[2]


def allowed(importer: str, imported: str) -> bool:
    tool, target = importer.split(".")[1], imported.split(".")[1]
    if target == tool == "style_transfer" and len(imported.split(".")) > 2:
        if len(importer.split(".")) == 2:  # style_transfer/__init__.py imports nothing
            return False
        mine, theirs = group(importer), group(imported)
        return mine == theirs or RANKS[theirs] < RANKS[mine]
    if target in (tool, "common") or imported == "tf1cnn." + target:
        return target == tool or target == "common" or tool != "common"
    return tool == "distributed" and imported.startswith(TRAINABLE)


def test_imports_point_one_way():
    """common imports no tool; kernels and style_transfer import only common (and themselves);
    distributed also the models and objective of style_transfer; nothing imports distributed;
    inside style_transfer, no group imports one of a higher rank."""
    graph = modules()
    assert "tf1cnn.common.errors" in graph and "tf1cnn.style_transfer.optimise.engine" in graph
    wrong = sorted(f"{importer} imports {imported}" for importer, found in graph.items()
                   for imported in found if not allowed(importer, imported))
    assert wrong == []


def test_no_module_imports_itself_through_others():
    graph, cycles = modules(), []

    def visit(name: str, path: list[str]) -> None:
        for found in sorted(graph[name]):
            if found in path:
                cycles.append(path[path.index(found):] + [found])
            elif found not in seen:
                seen.add(found)
                visit(found, path + [found])

    seen: set[str] = set()
    for name in sorted(graph):
        if name not in seen:
            seen.add(name)
            visit(name, [name])
    assert cycles == []


def test_each_command_reports_a_bad_option_in_one_line(tmp_path):
    bin_dir = Path(sys.executable).parent
    for command in (["tf1cnn-style"], ["tf1cnn-kernels"], ["tf1cnn-cluster", "train"]):
        result = subprocess.run([str(bin_dir / command[0]), *command[1:], "--bogus"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stderr) == \
            (2, "error: unrecognized arguments: --bogus\n"), command
    assert list(tmp_path.iterdir()) == []
