"""Check the built book for TeX that was not typeset and shows as raw text.

A Sphinx build can succeed, even with ``-W``, while a formula reaches the reader as raw
TeX. For example, in a list item a continuation line of ``$...$`` that starts with ``- ``
or ``+ `` is read by Markdown as a nested bullet: the math is cut in two and the page
shows ``\\boldsymbol{\\mu}`` and run-together italics. MathJax typesets only the elements
that the build marks as math (class ``math``), so any TeX control word left in the rest
of the visible text is a defect.

For every HTML page this script collects the text a reader sees, leaving out

* math as rendered by MyST: elements with the class ``math`` (``<span class="math">``
  holds ``\\(...\\)``, ``<div class="math">`` holds ``\\[...\\]``), and any ``\\(...\\)``,
  ``\\[...\\]`` or ``$$...$$`` in text, in case a page has math without that class;
* code: ``<pre>``, ``<code>``, ``<kbd>``, ``<samp>`` (code cells, their outputs, inline
  code), and ``<script>``, ``<style>``, ``<template>``, ``<textarea>``;

and reports every TeX control word (a backslash followed by letters, such as
``\\boldsymbol``, ``\\frac`` or ``\\sum``) that remains.

Usage::

    python scripts/check_html.py [HTML_DIR]       # default: _build/html

Exit status 0 when no page shows raw TeX, 1 otherwise, with one line per finding.
"""

from __future__ import annotations

import argparse
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Elements whose content is code or not shown as text.
SKIPPED_TAGS = frozenset({"pre", "code", "kbd", "samp", "script", "style", "template",
                          "textarea"})
# Elements that never have an end tag.
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                       "meta", "source", "track", "wbr"})
# Classes marking math that MathJax typesets.
MATH_CLASSES = frozenset({"math"})
# Math delimiters that may appear in text; what they enclose is not a finding.
DELIMITED_MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$", re.DOTALL)
CONTROL_WORD = re.compile(r"\\[A-Za-z]+")
# Characters of context shown on each side of a finding.
CONTEXT = 30


class VisibleText(HTMLParser):
    """Collect the text of a page outside math and code, with the line it starts on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[tuple[int, str]] = []
        # One entry per open element: its tag and whether it starts a skipped region.
        self._open: list[tuple[str, bool]] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        classes = set()
        for name, value in attrs:
            if name == "class" and value:
                classes.update(value.split())
        skip = tag in SKIPPED_TAGS or bool(classes & MATH_CLASSES)
        self._open.append((tag, skip))
        self._skipping += skip

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <br/>, <img .../>: no content

    def handle_endtag(self, tag: str) -> None:
        # Close the innermost open element of this name and everything left open inside it.
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                for _, skip in self._open[depth:]:
                    self._skipping -= skip
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.chunks.append((self.getpos()[0], data))


def raw_tex(html: str) -> list[tuple[int, list[str], str]]:
    """Return the lines of a page whose visible text holds TeX control words.

    Parameters
    ----------
    html : str
        One HTML page.

    Returns
    -------
    list of (int, list of str, str)
        For each line with raw TeX: its number in the HTML source, the control words in
        the order they appear, and the text around the first one.
    """
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    findings = []
    for first_line, chunk in parser.chunks:
        for offset, text in enumerate(chunk.split("\n")):
            text = DELIMITED_MATH.sub(" ", text)
            words = CONTROL_WORD.findall(text)
            if not words:
                continue
            line = first_line + offset
            if findings and findings[-1][0] == line:  # the same line, after inline markup
                findings[-1][1].extend(words)
                continue
            match = CONTROL_WORD.search(text)
            start, end = max(match.start() - CONTEXT, 0), match.end() + CONTEXT
            findings.append((line, words, " ".join(text[start:end].split())))
    return findings


def check_directory(html_dir: Path) -> list[str]:
    """Return one message per raw TeX control word in the pages under ``html_dir``."""
    problems = []
    for page in sorted(html_dir.rglob("*.html")):
        if {"_static", "_sources"} & set(page.relative_to(html_dir).parts):
            continue
        for line, words, context in raw_tex(page.read_text(encoding="utf-8")):
            shown = " ".join(dict.fromkeys(words))
            problems.append(f"{page}:{line}: raw TeX ({shown}) in the text: ...{context}...")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "html_dir", nargs="?", type=Path, default=REPO_ROOT / "_build" / "html",
        help="the built HTML (default: _build/html)",
    )
    args = parser.parse_args(argv)
    pages = list(args.html_dir.rglob("*.html"))
    if not pages:
        print(f"check_html: no HTML pages under {args.html_dir}; build the book first")
        return 1
    problems = check_directory(args.html_dir)
    for problem in problems:
        print(problem)
    if problems:
        print("check_html: a line of $...$ that starts with '- ', '+ ' or '* ' is read by "
              "Markdown as a list item; move the sign to the end of the line before")
    verdict = "no raw TeX" if not problems else f"{len(problems)} problem(s)"
    print(f"check_html: {len(pages)} page(s) checked, {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
