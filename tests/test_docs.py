"""Run and lint every inline Python fence in ``docs/`` and ``README.md``.

Fences that only include a snippet (``--8<--``) are tested through the snippet itself.
A fence marked ``{test="skip - reason"}`` is not run; ``test_meta`` keeps that list short.
"""

from __future__ import annotations

import ast
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

from tests.helpers import DOCS, INCLUDE, MARKDOWN_FILES, ROOT
from tests.page_code import shown_python

INLINE = [
    ex
    for ex in find_examples(*MARKDOWN_FILES)
    if not INCLUDE.search(ex.source) and "skip" not in ex.prefix_settings().get("test", "")
]


def _id(example: CodeExample) -> str:
    return f"{example.path.relative_to(ROOT)}:{example.start_line}"


@pytest.mark.parametrize("example", INLINE, ids=_id)
def test_inline_fence(example: CodeExample, eval_example: EvalExample, snippet_env: None) -> None:
    # A block of imports alone is a page's setup: the blocks after it use what it imports.
    only_imports = all(
        isinstance(node, ast.Import | ast.ImportFrom) for node in ast.parse(example.source).body
    )
    ignore = ["D", "F401"] if only_imports else ["D"]
    eval_example.set_config(ruff_ignore=ignore, line_length=88, target_version="py311")
    if eval_example.update_examples:
        eval_example.format_ruff(example)
        eval_example.run_print_update(example)
    else:
        eval_example.lint_ruff(example)
        eval_example.run_print_check(example)


def _imported_roots(code: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_quick_start_runs_as_copied(tmp_path: Path, redis_url: str, key_prefix: str) -> None:
    """The quick start's blocks, pasted in order into one file, run with PyJWT and redis-py."""
    code = shown_python(DOCS / "quickstart.md")
    assert _imported_roots(code) <= sys.stdlib_module_names | {"jwt", "redis"}
    script = tmp_path / "quickstart.py"
    script.write_text(code)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "JWT_SECRET": secrets.token_urlsafe(48),
    }
    # -I: no PYTHONPATH, no current directory on sys.path, so nothing of this repository helps.
    result = subprocess.run(
        [sys.executable, "-I", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expected = [
        line.strip().removeprefix("#>").strip()
        for line in code.splitlines()
        if line.strip().startswith("#>")
    ]
    assert len(expected) >= 5
    assert result.stdout.splitlines() == expected


RUNNABLE_PAGES = sorted(
    p for p in DOCS.glob("*.md") if p.name != "quickstart.md" and shown_python(p).strip()
)


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda p: p.name)
def test_every_page_runs_as_copied(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, key_prefix: str, page: Path
) -> None:
    """A page's blocks, pasted in order into one file beside the snippets they name, run.

    The page says which snippet files a block builds on; those are on the path (as the
    reader copies them too). What this catches is a block that needs a name, a method or a
    definition that the page never showed before it, or showed out of order.
    """
    code = shown_python(page)
    script = tmp_path / f"{page.stem.replace('-', '_')}.py"
    script.write_text(code)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "SESSION_SECRET": secrets.token_urlsafe(48),
    }
    if "REDIS_CLUSTER_URL" in code:
        env["REDIS_CLUSTER_URL"] = request.getfixturevalue("redis_cluster").url()
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"{page.name}:\n{result.stderr[-3000:]}"
