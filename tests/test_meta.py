"""The promises that hold the site together, checked on every run.

- every fence in docs/ and README.md is an include of a snippet section that exists, or an inline
  Python example that tests/test_docs.py runs, or a short non-Python fence of an allowed kind;
- every snippet file is included by at least one page;
- every snippet file has a behaviour test at the mirrored path;
- only the named fences may skip testing.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.helpers import (
    DOCS,
    INCLUDE,
    MARKDOWN_FILES,
    ROOT,
    behaviour_test_for,
    sections_in,
    snippet_files,
)
from tests.page_code import (
    WHOLE_FILE_REF,
    fence_language,
    fences,
    shown_python,
    undefined_names,
    views_after,
    whole_file_anchor,
    whole_file_ranges,
)

# Fence languages that are not Python code a reader copies into a service: shell commands to
# set up and run this project, and plain output.
NON_PYTHON_FENCES = {"bash", "text"}
# Inline Python fences that may be skipped, by file and first line, each with its reason.
ALLOWED_SKIPS: dict[tuple[str, str], str] = {}


def _all_fences() -> list[tuple[Path, int, str, str]]:
    return [(path, f.line, f.info, f.body) for path in MARKDOWN_FILES for f in fences(path)]


def _includes() -> list[tuple[Path, int, str, str | None]]:
    found = []
    for path, line, _, body in _all_fences():
        for m in INCLUDE.finditer(body):
            found.append((path, line, m["path"], m["section"]))
    return found


def test_markdown_files_found() -> None:
    assert (ROOT / "README.md") in MARKDOWN_FILES
    assert len(MARKDOWN_FILES) > 5
    assert _all_fences(), "no fences found: the fence pattern is broken"


@pytest.mark.parametrize(("path", "line", "info", "body"), _all_fences(), ids=lambda v: str(v)[:40])
def test_every_fence_is_tested(path: Path, line: int, info: str, body: str) -> None:
    where = f"{path.relative_to(ROOT)}:{line}"
    language = fence_language(info)
    if INCLUDE.search(body):
        stray = [ln for ln in body.splitlines() if ln.strip() and not INCLUDE.match(ln)]
        assert not stray, f"{where}: an include fence must hold includes only, found {stray}"
        return
    if language in NON_PYTHON_FENCES:
        return
    assert language in {"python", "py"}, (
        f"{where}: fence language {language!r} is neither Python (tested), an include, nor one "
        f"of {sorted(NON_PYTHON_FENCES)}"
    )
    assert "pycon" not in info and ">>>" not in body, f"{where}: no pycon/>>> fences"
    if "skip" in info:
        first = body.strip().splitlines()[0]
        key = (str(path.relative_to(ROOT)), first)
        assert key in ALLOWED_SKIPS, f"{where}: skipped fence not in ALLOWED_SKIPS: {key}"


@pytest.mark.parametrize(("path", "line", "target", "section"), _includes(), ids=str)
def test_include_points_at_a_tested_section(
    path: Path, line: int, target: str, section: str | None
) -> None:
    where = f"{path.relative_to(ROOT)}:{line}"
    file = ROOT / target
    assert file.is_file(), f"{where}: includes missing file {target}"
    assert file.resolve().is_relative_to(ROOT / "snippets"), f"{where}: {target} is not a snippet"
    if section is not None:
        assert section in sections_in(file), f"{where}: {target} has no section {section!r}"


def test_every_snippet_file_is_included_by_a_page() -> None:
    included = {(ROOT / target).resolve() for _, _, target, _ in _includes()}
    orphans = [str(p.relative_to(ROOT)) for p in snippet_files() if p.resolve() not in included]
    assert not orphans, f"snippet files no page includes: {orphans}"


def test_every_snippet_file_has_a_behaviour_test() -> None:
    missing = [
        str(behaviour_test_for(p).relative_to(ROOT))
        for p in snippet_files()
        if not behaviour_test_for(p).is_file()
    ]
    assert not missing, f"snippet files without a behaviour test, expected: {missing}"


def test_every_section_marker_is_closed() -> None:
    for path in snippet_files():
        text = path.read_text()
        starts = re.findall(r"# --8<-- \[start:([\w-]+)\]", text)
        ends = re.findall(r"# --8<-- \[end:([\w-]+)\]", text)
        assert sorted(starts) == sorted(ends), f"{path}: unbalanced section markers"
        assert len(starts) == len(set(starts)), f"{path}: a section name is used twice"


def test_no_module_shadows_a_library() -> None:
    shadowing = {"jwt", "redis", "json", "secrets", "hashlib", "fastapi", "cryptography"}
    names = {p.stem for p in (ROOT / "snippets").rglob("*.py")}
    names |= {p.name for p in (ROOT / "snippets").rglob("*") if p.is_dir()}
    assert not names & shadowing


def test_every_demo_runs_under_the_main_guard() -> None:
    """test_snippets_run runs files as __main__: a main() without the guard would never run."""
    unguarded = [
        str(p.relative_to(ROOT))
        for p in snippet_files()
        if "def main(" in p.read_text() and 'if __name__ == "__main__":' not in p.read_text()
    ]
    assert not unguarded, f"main() defined but never run: {unguarded}"


# What a reader copies from a page must run: every name defined or imported on the page, every
# included section followed by its whole file and a link to it. See tests/page_code.py.

PAGES = sorted(DOCS.glob("*.md"))
WHOLE_FILE_LINK = "[Open it in the repository][src:{path}]"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_defines_every_name_it_uses(page: Path) -> None:
    undefined = undefined_names(shown_python(page), page.with_suffix(".py").name)
    assert not undefined, (
        f"{page.name}: its blocks, joined in reading order, use names no shown block defines or "
        f"imports (show the file's setup section, or widen a section):\n" + "\n".join(undefined)
    )


def test_the_joiner_sees_undefined_names() -> None:
    assert undefined_names("import os\nprint(os.sep, missing)\n", "probe.py") == [
        "Undefined name `missing` (joined line 2: print(os.sep, missing))"
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_included_section_has_its_whole_file_and_link(page: Path) -> None:
    text = page.read_text()
    lines = text.splitlines()
    problems = []
    for fence in fences(page):
        if fence.whole_file_view is not None:
            continue
        views = {path: (first, last) for first, last, path in views_after(text, fence.end_line)}
        for m in INCLUDE.finditer(fence.body):
            path = m["path"]
            if not m["section"] or not path.startswith("snippets/"):
                continue
            if path not in views:
                problems.append(f"line {fence.line}: {path} has no whole-file view right after it")
                continue
            first, last = views[path]
            if first == last:  # a reference to the page's one view of the file
                ref = WHOLE_FILE_REF.match(lines[first - 1])
                anchor = "{ #" + whole_file_anchor(path) + " }"
                if ref is None or ref["anchor"] != whole_file_anchor(path):
                    problems.append(f"line {fence.line}: the reference to {path} is malformed")
                elif WHOLE_FILE_LINK.format(path=path) + anchor not in "\n".join(
                    lines[: first - 1]
                ):
                    problems.append(f"line {fence.line}: no view of {path} above to refer to")
                continue
            body = "\n".join(lines[first - 1 : last])
            if WHOLE_FILE_LINK.format(path=path) not in body:
                problems.append(f"line {fence.line}: the view of {path} does not link it")
            if f'--8<-- "{path}"' not in body:
                problems.append(f"line {fence.line}: the view of {path} does not include it whole")
    assert not problems, f"{page.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_shows_each_file_whole_once(page: Path) -> None:
    """Every view repeats a whole file in highlighted HTML: one per file keeps a long page's
    weight down (the Measured page counts it); later blocks refer to it."""
    paths = [path for _, _, path in whole_file_ranges(page.read_text())]
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    assert not repeated, f"{page.name}: files shown whole more than once: {repeated}"


def test_the_reference_line_names_its_anchor() -> None:
    path = "snippets/sessions/session_store.py"
    line = (
        f"The whole file `{path}` is [shown whole above, after its first block]"
        f"(#{whole_file_anchor(path)}), or [in the repository][src:{path}]."
    )
    ref = WHOLE_FILE_REF.match(line)
    assert ref is not None and ref["anchor"] == "whole-file-snippets-sessions-session-store-py"
    assert WHOLE_FILE_REF.match(line.replace("][src:snippets/s", "][src:snippets/x")) is None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_an_excerpt_only_repeats_what_the_page_showed_before(page: Path) -> None:
    """An excerpt is left out of the joined page code, so it may only repeat sections an
    earlier block (not an excerpt, not a whole-file view) already showed."""
    shown: set[tuple[str, str]] = set()
    problems = []
    for fence in fences(page):
        if fence.whole_file_view is not None:
            continue
        sections = {(m["path"], m["section"]) for m in INCLUDE.finditer(fence.body) if m["section"]}
        if ".excerpt" in fence.info:
            problems += [
                f"line {fence.line}: {p}:{sec} first shown as an excerpt"
                for p, sec in sections - shown
            ]
        else:
            shown |= sections
    assert not problems, f"{page.name}:\n" + "\n".join(problems)


def test_source_links_are_current() -> None:
    from tools.source_links import OUTPUT, render

    assert OUTPUT.read_text() == render("main"), "run: python -m tools.source_links"


def test_snippets_use_pyjwt_through_its_public_api() -> None:
    """Subclassing PyJWT's classes or calling their underscore methods breaks silently."""
    private = re.compile(
        r"\bjwt\.(?:api_jws\.|api_jwt\.)?(?:PyJWS|PyJWT)\)"  # subclassing
        r"|\._(?:load|get_sig_options|decode_payload|validate_claims)\b"
    )
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in snippet_files()
        for n, line in enumerate(p.read_text().splitlines(), start=1)
        if private.search(line)
    ]
    assert not offenders, offenders


def test_pitfalls_open_on_the_safe_side_and_the_vulnerable_side_has_no_copy_button() -> None:
    lines = (DOCS / "security-pitfalls.md").read_text().splitlines()
    labels = [(n, ln) for n, ln in enumerate(lines) if ln.startswith("=== ")]
    assert len(labels) >= 16
    problems = []
    for i, (n, label) in enumerate(labels):
        previous = labels[i - 1][0] if i else -1
        opens_a_set = i == 0 or any(
            ln.strip() and not ln.startswith(" ") for ln in lines[previous + 1 : n]
        )
        if opens_a_set and label != '=== "Safe"':
            problems.append(f"line {n + 1}: a tab set opens on {label}")
        if "Vulnerable" in label:
            end = next(
                (
                    k
                    for k in range(n + 1, len(lines))
                    if lines[k].strip() and not lines[k].startswith(" ")
                ),
                len(lines),
            )
            body = lines[n + 1 : end]
            if not any("!!! danger" in ln for ln in body):
                problems.append(f"line {n + 1}: the vulnerable tab has no danger admonition")
            for k, ln in enumerate(body, start=n + 2):
                if ln.strip().startswith("```") and len(ln.strip()) > 3 and "no-copy" not in ln:
                    problems.append(f"line {k}: vulnerable code with a copy button")
    assert not problems, problems


def _pins(lock: Path) -> set[str]:
    """Every ``name==version`` a lock file pins (its markers depend on who needs it)."""
    return {
        line.split(" ;")[0].removesuffix(" \\").strip()
        for line in lock.read_text().splitlines()
        if re.match(r"[A-Za-z0-9]", line)
    }


def test_the_docs_lock_is_the_full_lock_cut_down_to_serving_the_site() -> None:
    """`make docs` installs requirements-docs.lock, `make test` requirements.lock, into one
    .venv: the docs lock must pin nothing the full lock pins otherwise (`make lock` writes
    both), and hold every package the `serve` extra names."""
    docs, full = _pins(ROOT / "requirements-docs.lock"), _pins(ROOT / "requirements.lock")
    assert docs <= full, sorted(docs - full)
    names = {re.split(r"[=<>\[ ;]", pin, maxsplit=1)[0].lower() for pin in docs}
    serve = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["serve"]
    wanted = {re.split(r"[=<>\[ ;]", req, maxsplit=1)[0].lower() for req in serve}
    assert wanted <= names, sorted(wanted - names)
    assert "playwright" not in names and "fastapi" not in names  # only what serving needs
