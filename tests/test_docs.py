"""Run and lint every inline Python fence in ``docs/`` and ``README.md``.

Fences that only include a snippet (``--8<--``) are tested through the snippet itself.
A fence marked ``{test="skip - reason"}`` is not run; ``test_meta`` keeps that list short.
"""

from __future__ import annotations

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

from tests.helpers import INCLUDE, MARKDOWN_FILES, ROOT

INLINE = [
    ex
    for ex in find_examples(*MARKDOWN_FILES)
    if not INCLUDE.search(ex.source) and "skip" not in ex.prefix_settings().get("test", "")
]


def _id(example: CodeExample) -> str:
    return f"{example.path.relative_to(ROOT)}:{example.start_line}"


@pytest.mark.parametrize("example", INLINE, ids=_id)
def test_inline_fence(example: CodeExample, eval_example: EvalExample, snippet_env: None) -> None:
    eval_example.set_config(ruff_ignore=["D"], line_length=100, target_version="py311")
    if eval_example.update_examples:
        eval_example.format_ruff(example)
        eval_example.run_print_update(example)
    else:
        eval_example.lint_ruff(example)
        eval_example.run_print_check(example)
