"""Shared fixtures for the report self-tests: the fixed results document and small parsers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cpmconf.report import load_results

SAMPLE = Path(__file__).parent / "data" / "results-sample.json"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# SVG elements the report writes self-closed.
SELF_CLOSED = {"rect", "line", "polygon", "path", "circle"}


@pytest.fixture
def sample() -> dict:
    """A fresh copy of the hand-made results document (tests may change it)."""
    return load_results(SAMPLE)


class _Tree(HTMLParser):
    """Records ids, hrefs and tag balance of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "src" in attrs:
            self.srcs.append(attrs["src"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def parse_html(page: str) -> _Tree:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree


_PIPE = re.compile(r"(?<!\\)\|")


def table_rows(markdown: str, first_cell_prefix: str = "") -> list[list[str]]:
    """Cells of Markdown table rows whose first cell starts with `first_cell_prefix`."""
    rows = []
    for line in markdown.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [c.strip() for c in _PIPE.split(line)[1:-1]]
        if cells and cells[0].startswith(first_cell_prefix):
            rows.append(cells)
    return rows
