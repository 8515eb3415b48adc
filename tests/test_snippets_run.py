"""Run every snippet file top to bottom, as a reader would, and check its ``#>`` output.

Files that define ``main()`` have it called. ``pytest --update-examples`` rewrites the ``#>``
comments from the real output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_examples import CodeExample, EvalExample

from tests.helpers import ROOT, snippet_files


@pytest.mark.parametrize("path", snippet_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_snippet_runs(path: Path, eval_example: EvalExample, snippet_env: None) -> None:
    example = CodeExample.create(path.read_text(), path=path)
    if eval_example.update_examples:
        eval_example.run_print_update(example, call="main")
    else:
        eval_example.run_print_check(example, call="main")
