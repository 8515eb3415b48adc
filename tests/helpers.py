"""What several test modules need to know about the repository's layout."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import yaml

from snippets.tokens.keys import generate_private_key

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
SNIPPET_TESTS = ROOT / "tests" / "snippets"
MARKDOWN_FILES = sorted([*DOCS.rglob("*.md"), ROOT / "README.md"])

# `--8<-- "snippets/a/b.py:section"` inside a fenced block.
INCLUDE = re.compile(r'^\s*--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$', re.M)


def snippet_files() -> list[Path]:
    """Every module of the snippet package that holds code (package markers excluded)."""
    return sorted(p for p in SNIPPETS.rglob("*.py") if p.name != "__init__.py")


def behaviour_test_for(snippet: Path) -> Path:
    rel = snippet.relative_to(SNIPPETS)
    return SNIPPET_TESTS / rel.parent / f"test_{rel.name}"


def sections_in(snippet: Path) -> set[str]:
    text = snippet.read_text()
    starts = set(re.findall(r"# --8<-- \[start:([\w-]+)\]", text))
    ends = set(re.findall(r"# --8<-- \[end:([\w-]+)\]", text))
    return starts & ends


class ManualClock:
    """A clock that moves only when the test says so: ``clock()`` reads it, ``clock.now = t``
    or ``clock.advance(seconds)`` moves it. Pass it wherever a snippet takes ``now``."""

    def __init__(self, now: float) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def signing_and_verifying_keys(algorithm: str) -> tuple[Any, Any]:
    """Fresh keys for ``algorithm``: one random secret twice for HS256, else private, public."""
    if algorithm == "HS256":
        secret = secrets.token_urlsafe(48).encode()
        return secret, secret
    private = generate_private_key(algorithm)
    return private, private.public_key()


class _ConfigLoader(yaml.SafeLoader):
    """YAML as MkDocs reads mkdocs.yml, for the tests: ``!ENV [NAME, default]`` is the
    default, which is what a build without that variable sees."""


_ConfigLoader.add_constructor(
    "!ENV",
    lambda loader, node: loader.construct_sequence(node)[-1],  # type: ignore[arg-type]
)


def mkdocs_config() -> dict[str, Any]:
    """mkdocs.yml, parsed."""
    config: dict[str, Any] = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_ConfigLoader)  # noqa: S506
    return config


def nav_pages(nav: list[Any] | None = None) -> list[str]:
    """The page files of mkdocs.yml's nav, in order, with its sections flattened."""
    pages: list[str] = []
    for item in mkdocs_config()["nav"] if nav is None else nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def served_path(page: str) -> str:
    """Where the site serves a page file of docs/: "" for index.md, "faq/" for faq.md and
    "reference/" for reference/index.md."""
    stem = page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        stem = stem.removesuffix("index").rstrip("/")
    return f"{stem}/" if stem else ""
