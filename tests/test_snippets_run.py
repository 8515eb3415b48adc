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


def _params() -> list:
    """Every snippet file; one that reads REDIS_CLUSTER_URL gets the cluster (marked so)."""
    return [
        pytest.param(p, marks=pytest.mark.cluster) if "REDIS_CLUSTER_URL" in p.read_text() else p
        for p in snippet_files()
    ]


@pytest.mark.parametrize("path", _params(), ids=lambda p: str(p.relative_to(ROOT)))
def test_snippet_runs(path: Path, eval_example: EvalExample, snippet_env: None) -> None:
    example = CodeExample.create(path.read_text(), path=path)
    if eval_example.update_examples:
        eval_example.run_print_update(example)
    else:
        eval_example.run_print_check(example)
