"""What a first visit to each page downloads, gzip-compressed as a static host serves it.

The site is built (``mkdocs build --strict``) into a temporary folder, and so is a default
Material for MkDocs site of one short page, for comparison. For every page, the benchmark
reads the HTML for what a browser fetches on a first visit with an empty cache: the page,
its stylesheets and scripts, the icon and images, Material's search worker (named in the
page's ``__config``) and the search index the worker loads at once. Each file is counted once
per page, compressed with gzip at level 6 (the default of nginx and of ``gzip``, close to what
GitHub Pages sends). Only files of the site itself are counted: this site loads nothing from
another host; the default Material site would also load Google Fonts, which are left out.

Run it alone with ``.venv/bin/python -m benchmarks.page_weight``; ``make bench`` runs it as
part of ``benchmarks.measure`` and renders it on the Measured page.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
GZIP_LEVEL = 6
KIB = 1024
# A default Material page: the theme with its defaults, one page of ordinary prose.
DEFAULT_CONFIG = "site_name: Default Material\ntheme:\n  name: material\n"
DEFAULT_PAGE = (
    "# A default page\n\n"
    + "Material for MkDocs with its default settings, one page of prose and a heading.\n\n"
    + "## A section\n\n"
    + "Some words to index. " * 40
    + "\n"
)
_WORKER = re.compile(r'"search":\s*"(?P<path>[^"]+)"')


class _Fetched(HTMLParser):
    """The same-site URLs a browser fetches for a page: stylesheets, scripts, icon, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.config = ""
        self._in_config = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and (a.get("rel") or "") in ("stylesheet", "icon") and a.get("href"):
            self.urls.append(a["href"] or "")
        elif tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"] or "")
        self._in_config = tag == "script" and a.get("id") == "__config"

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config += data

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False


def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0))


def _resolve(site: Path, page: Path, url: str) -> Path | None:
    """The file ``url`` names, relative to ``page``; None for another host or a data URL."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    base = "/" + page.relative_to(site).as_posix()
    target = site / urljoin(base, parts.path).lstrip("/")
    if not target.is_file():
        raise RuntimeError(f"{page.relative_to(site)} fetches {url}, which the build lacks")
    return target


def page_weight(site: Path, page: Path) -> dict[str, float]:
    """Gzip KiB of ``page`` and of what its first visit fetches, by kind."""
    parser = _Fetched()
    parser.feed(page.read_text())
    files = {p for url in parser.urls if (p := _resolve(site, page, url)) is not None}
    worker = _WORKER.search(parser.config)
    index = site / "search" / "search_index.json"
    search = {index} if index.is_file() else set()
    if worker is not None:  # relative to the page, like every URL in it
        search.add(page.parent / worker["path"])
    search = {p.resolve() for p in search}
    files = {p.resolve() for p in files} - search
    html = _gzip_size(page)
    assets = sum(_gzip_size(p) for p in files)
    search_bytes = sum(_gzip_size(p) for p in search if p.is_file())
    total = html + assets + search_bytes
    return {
        "html_kib": round(html / KIB, 1),
        "assets_kib": round(assets / KIB, 1),
        "search_kib": round(search_bytes / KIB, 1),
        "total_kib": round(total / KIB, 1),
        "search_share": round(search_bytes / total, 2),
    }


def _build(config: Path, out: Path) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter's mkdocs, fixed arguments
        [
            sys.executable,
            *("-m", "mkdocs", "build", "--strict", "-q"),
            "-f",
            str(config),
            "-d",
            str(out),
        ],
        cwd=config.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"mkdocs build of {config} failed:\n{done.stderr}")


def _name(site: Path, page: Path) -> str:
    folder = page.parent.relative_to(site).as_posix()
    return "/" if folder == "." else f"/{folder}/"


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        site = Path(tmp) / "site"
        _build(ROOT / "mkdocs.yml", site)
        pages = {_name(site, p): page_weight(site, p) for p in sorted(site.glob("**/index.html"))}
        default = Path(tmp) / "default"
        (default / "docs").mkdir(parents=True)
        (default / "mkdocs.yml").write_text(DEFAULT_CONFIG)
        (default / "docs" / "index.md").write_text(DEFAULT_PAGE)
        _build(default / "mkdocs.yml", default / "site")
        baseline = page_weight(default / "site", default / "site" / "index.html")
    heaviest = max(pages, key=lambda p: pages[p]["total_kib"])
    return {
        "what": "gzip (level 6) KiB of a first visit: the page, what it loads, the search index",
        "gzip_level": GZIP_LEVEL,
        "pages": {p: pages[p] for p in sorted(pages, key=lambda p: -pages[p]["total_kib"])},
        "default_material_page": baseline,
        "heaviest": heaviest,
        "heaviest_over_default": round(pages[heaviest]["total_kib"] / baseline["total_kib"], 2),
    }


def main() -> None:
    result = measure()
    print(f"{'page':<26}{'html':>8}{'assets':>8}{'search':>8}{'total':>8}  (gzip KiB)")
    rows = [*result["pages"].items(), ("default Material page", result["default_material_page"])]
    for name, r in rows:
        print(
            f"{name:<26}{r['html_kib']:>8.1f}{r['assets_kib']:>8.1f}{r['search_kib']:>8.1f}"
            f"{r['total_kib']:>8.1f}"
        )


if __name__ == "__main__":
    main()
