"""Run every snippet file top to bottom, as a reader would, and check its ``#>`` output.

pytest-examples runs the file as ``__main__``, so its ``if __name__ == "__main__": main()`` guard
runs the demo exactly as ``python -m snippets.<topic>.<name>`` would. ``pytest
--update-examples`` rewrites the ``#>`` comments from the real output.
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
        eval_example.run_print_update(example)
    else:
        eval_example.run_print_check(example)
