"""The Python a reader sees on a page, in reading order, as they would copy it.

A page shows code in fences. A fence either holds Python inline or includes snippet sections
with ``--8<-- "snippets/a/b.py:section"`` (pymdownx.snippets). ``shown_python`` expands the
includes the way pymdownx.snippets does (the lines between the section's markers, other
markers dropped, dedented) and joins every Python block of the page, top to bottom.

Blocks inside a collapsed "Whole file" view are left out of the join: they exist so that a
reader can copy one file whole, and counting them would hide a name that the page's own
blocks use without ever defining or importing it. So are excerpts (``{ .python .excerpt }``):
a method shown again beside the prose about it, after its whole class was shown above.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import INCLUDE, ROOT

FENCE = re.compile(
    r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=ticks)\s*$",
    re.M | re.S,
)
MARKER = re.compile(r"--8<-- \[(?:start|end):[\w-]+\]")
WHOLE_FILE = re.compile(r'^(?P<indent> *)\?\?\?\+? example "Whole file: `(?P<path>[^`]+)`"\s*$')
# A page shows each file whole once, after its first block; every later block of the file is
# followed by this line instead, linking that view (its repository link carries the anchor).
WHOLE_FILE_REF = re.compile(
    r"^ *The whole file `(?P<path>[^`]+)` is \[shown whole above, after its first block\]"
    r"\(#(?P<anchor>whole-file-[\w-]+)\), or \[in the repository\]\[src:(?P=path)\]\.$"
)
PYTHON = {"python", "py"}


def whole_file_anchor(path: str) -> str:
    """The id of the one whole-file view of ``path`` on a page."""
    return "whole-file-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def fence_language(info: str) -> str:
    """The language of a fence: ``python`` for both ```` ```python ```` and
    ```` ``` { .python .no-copy } ````."""
    m = re.match(r"[{\s.]*([\w+-]+)", info)
    return m[1] if m else ""


@dataclass(frozen=True)
class Fence:
    line: int  # 1-based line of the opening ticks
    end_line: int  # 1-based line of the closing ticks
    language: str
    info: str
    body: str
    whole_file_view: str | None  # the file a collapsed "Whole file" view around it names


def section_text(path: Path, section: str | None) -> str:
    """What pymdownx.snippets puts on the page for ``path`` (and ``section``)."""
    lines = path.read_text().splitlines()
    if section is not None:
        start = next(i for i, ln in enumerate(lines) if f"[start:{section}]" in ln)
        end = next(i for i, ln in enumerate(lines) if f"[end:{section}]" in ln)
        lines = lines[start + 1 : end]
    kept = [ln for ln in lines if not MARKER.search(ln)]
    return textwrap.dedent("\n".join(kept))


def whole_file_ranges(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, file) of each collapsed whole-file view, 1-based."""
    lines = text.splitlines()
    ranges = []
    for i, line in enumerate(lines):
        m = WHOLE_FILE.match(line)
        if not m:
            continue
        indent = len(m["indent"])
        end = i
        for j in range(i + 1, len(lines)):
            if lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) <= indent:
                break
            end = j
        ranges.append((i + 1, end + 1, m["path"]))
    return ranges


def views_after(text: str, line: int) -> list[tuple[int, int, str]]:
    """The whole-file views, or lines referring to one, that follow line ``line`` directly,
    one after another. A reference is a range of one line."""
    lines = text.splitlines()
    starts = {first: (first, last, path) for first, last, path in whole_file_ranges(text)}
    for n, ln in enumerate(lines, start=1):
        if m := WHOLE_FILE_REF.match(ln):
            starts[n] = (n, n, m["path"])
    found = []
    n = line + 1
    while n <= len(lines):
        if not lines[n - 1].strip():
            n += 1
        elif n in starts:
            found.append(starts[n])
            n = starts[n][1] + 1
        else:
            break
    return found


def fences(page: Path) -> list[Fence]:
    text = page.read_text()
    views = whole_file_ranges(text)
    found = []
    for m in FENCE.finditer(text):
        line = text[: m.start()].count("\n") + 1
        end_line = text[: m.end()].count("\n") + 1
        info = m["info"].strip()
        language = fence_language(info)
        view = next((path for first, last, path in views if first < line <= last), None)
        body = textwrap.dedent(m["body"])
        found.append(Fence(line, end_line, language, info, body, view))
    return found


def expand(body: str) -> str:
    """A fence's text as the reader sees it: each include replaced by what it includes."""
    parts = []
    for line in body.splitlines():
        m = INCLUDE.match(line)
        parts.append(section_text(ROOT / m["path"], m["section"]) if m else line)
    return "\n".join(parts)


def shown_python(page: Path) -> str:
    """Every Python block the page shows outside whole-file views, joined in reading order."""
    blocks = [
        expand(f.body)
        for f in fences(page)
        if f.language in PYTHON
        and f.whole_file_view is None
        and "skip" not in f.info
        and ".excerpt" not in f.info
    ]
    return "\n\n\n".join(blocks) + "\n"


def undefined_names(code: str, filename: str) -> list[str]:
    """Names the code uses but never defines or imports (ruff's F821), as ``line: name``."""
    result = subprocess.run(
        [
            Path(sys.executable).parent / "ruff",
            "check",
            "--isolated",
            "--select",
            "F821",
            "--output-format",
            "json",
            "--stdin-filename",
            filename,
            "-",
        ],
        input=code,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed: {result.stderr}")
    found = json.loads(result.stdout)
    lines = code.splitlines()
    out = []
    for item in found:
        if item["code"] != "F821":
            raise AssertionError(f"{filename}: {item['code']} {item['message']}")
        row = item["location"]["row"]
        out.append(f"{item['message']} (joined line {row}: {lines[row - 1].strip()[:60]})")
    return out
