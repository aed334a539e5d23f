"""Render the measured tables in ``docs/*.md`` from the JSON the benchmarks write.

    python benchmarks/render_docs.py            # rewrite every table in place
    python benchmarks/render_docs.py --check    # exit 1, naming the pages, if one is stale

A page marks a table with ``<!-- table: NAME -->`` and ``<!-- /table -->`` on lines of their
own; everything between them is replaced by ``TABLES[NAME]`` (``doc_tables.py``), rendered from
``benchmarks/*.json`` with a caption naming the file (and the commit, where the JSON records
one). So a number in ``docs/`` changes by rerunning its benchmark and then this script, never
by editing prose. Standard library only: it runs in the test suite without TensorFlow.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys
from collections.abc import Sequence

from doc_tables import ROOT, TABLES

DOCS = ROOT / "docs"
MARKED = re.compile(r"(<!-- table: ([\w-]+) -->\n)(.*?)(<!-- /table -->)", re.S)


def render(text: str, page: pathlib.Path) -> str:
    def table(match: re.Match) -> str:
        name = match.group(2)
        if name not in TABLES:
            raise SystemExit(f"error: {page}: no table named {name!r}; known: {', '.join(TABLES)}")
        return match.group(1) + TABLES[name]() + match.group(4)
    return MARKED.sub(table, text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a page's tables are out of date")
    args = parser.parse_args(argv)
    stale = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        rendered = render(text, page)
        if rendered != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(rendered)
    if args.check and stale:
        print("out of date (run python benchmarks/render_docs.py): "
              + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    for page in stale:
        print(f"rendered {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
