"""Write the link to every snippet file in the repository, for the pages' whole-file views.

Each page ends with the Markdown link references this writes (pymdownx.snippets appends the
file to every page), so a page links a file as ``[text][src:snippets/a/b.py]`` and the
address lives in one place: ``repo_url`` in mkdocs.yml, at a ref.

    python -m tools.source_links                  # at "main", the committed version
    python -m tools.source_links --ref "$GITHUB_SHA"   # at the commit being published

The committed file links ``main``; the publishing workflow rewrites it with the commit it
builds, so the hosted site links the exact files it shows. A test keeps the committed file
current: run the first command after adding or removing a snippet file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "includes" / "source-links.md.txt"


def repo_url() -> str:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # noqa: S506
    return config["repo_url"].rstrip("/")


def render(ref: str = "main") -> str:
    files = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "snippets").rglob("*.py")
        if p.name != "__init__.py"
    )
    base = f"{repo_url()}/blob/{ref}"
    lines = [f"[src:{path}]: {base}/{path}" for path in files]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main", help="branch, tag or commit to link")
    args = parser.parse_args()
    OUTPUT.write_text(render(args.ref))
    print(f"wrote {OUTPUT.relative_to(ROOT)} at {args.ref}")


if __name__ == "__main__":
    main()
