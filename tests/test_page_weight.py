"""The page-weight benchmark counts what a first visit fetches, once each, gzip-compressed."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from benchmarks.page_weight import GZIP_LEVEL, KIB, page_weight


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def _site(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "assets").mkdir(parents=True)
    (tmp_path / "search").mkdir()
    (tmp_path / "page").mkdir()
    css, js = b"body{color:red}" * 200, b"console.log(1);" * 300
    worker, index = b"onmessage=()=>{};" * 100, b'{"docs":[]}' * 500
    (tmp_path / "assets" / "main.css").write_bytes(css)
    (tmp_path / "assets" / "bundle.js").write_bytes(js)
    (tmp_path / "assets" / "worker.js").write_bytes(worker)
    (tmp_path / "search" / "search_index.json").write_bytes(index)
    html = (
        '<html><head><link rel="stylesheet" href="../assets/main.css">'
        '<link rel="stylesheet" href="../assets/main.css">'  # counted once
        '<link rel="canonical" href="https://example.com/page/">'  # not fetched
        '<script id="__config" type="application/json">'
        '{"base": "..", "search": "../assets/worker.js"}</script>'
        f'<script src="../assets/bundle.js"></script>{extra}</head><body>hi</body></html>'
    )
    (tmp_path / "page" / "index.html").write_text(html)
    return tmp_path


def test_a_first_visit_counts_the_page_its_assets_and_the_search_index(tmp_path: Path) -> None:
    site = _site(tmp_path)
    found = page_weight(site, site / "page" / "index.html")
    read = {p: (site / p).read_bytes() for p in ("assets/main.css", "assets/bundle.js")}
    assets = sum(_gz(b) for b in read.values())
    search = _gz((site / "assets/worker.js").read_bytes()) + _gz(
        (site / "search/search_index.json").read_bytes()
    )
    html = _gz((site / "page/index.html").read_bytes())
    assert found["assets_kib"] == round(assets / KIB, 1)
    assert found["search_kib"] == round(search / KIB, 1)
    assert found["total_kib"] == round((html + assets + search) / KIB, 1)


def test_a_file_the_build_lacks_is_an_error_not_a_smaller_page(tmp_path: Path) -> None:
    site = _site(tmp_path, '<img src="../missing.svg">')
    with pytest.raises(RuntimeError, match="which the build lacks"):
        page_weight(site, site / "page" / "index.html")


def test_another_host_is_not_counted(tmp_path: Path) -> None:
    plain = page_weight(_site(tmp_path / "a"), tmp_path / "a" / "page" / "index.html")
    foreign = '<script src="https://cdn.example.com/x.js"></script>'
    site = _site(tmp_path / "b", foreign)
    assert page_weight(site, site / "page" / "index.html")["assets_kib"] == plain["assets_kib"]
