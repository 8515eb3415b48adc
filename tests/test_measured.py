"""The Measured page and the home table show the data file, all of it, and nothing else.

- the committed fragments and charts are exactly what the renderer makes of the committed data;
- the pages include every fragment, and type no size or cost figure by hand;
- every number in a fragment is a value of the data file, as the renderer formats it;
- a different data file gives a different site: built strictly, its numbers are in the HTML;
- the data file records the machine, the versions and the date.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import DOCS, ROOT, mkdocs_config, nav_pages
from tests.site_server import build_site, copy_site_sources
from tools import render_measured
from tools.render_measured import FORMATTERS, SUFFIX, render, seed_fragment

DATA = ROOT / "benchmarks" / "results" / "measured.json"
GENERATED = DOCS / "generated"
PAGES = (DOCS / "measured.md", DOCS / "index.md")
ALL_PAGES = tuple(sorted(DOCS.glob("*.md")))
BLOCK_INCLUDE = re.compile(r'^--8<-- "(?P<path>docs/generated/[^"]+)"$', re.M)
# A number standing on its own: not part of a word or name such as HS256, RS256 or HTTP/2.
NUMBER = re.compile(r"(?<![\w./-])\d+(?:[.,]\d+)*(?![\w/])")
# A figure with a unit of size, time, ratio or rate.
TIMES = "\N{MULTIPLICATION SIGN}"
FIGURE = re.compile(
    r"(?<![\w./-])\d+(?:[.,]\d+)*\s*"
    rf"(?:bytes?|B|KB|kB|µs|us|ms|ns|s|x|{TIMES}|%|/s|tokens?)(?![A-Za-z])"
)


def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text())


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _allowed_numbers(data: dict[str, Any]) -> set[str]:
    """Every way the renderer may print a value of ``data``."""
    allowed: set[str] = set()
    for leaf in _leaves(data):
        if isinstance(leaf, bool):
            continue
        if isinstance(leaf, int | float):
            allowed |= {fmt(leaf) for fmt in FORMATTERS} | {str(leaf)}
        elif isinstance(leaf, str):
            allowed |= set(NUMBER.findall(leaf))
    return allowed


def _prose(page: Path) -> str:
    """A page without its block-include lines."""
    return BLOCK_INCLUDE.sub("", page.read_text())


def test_committed_fragments_and_charts_are_rendered_from_the_committed_data(
    tmp_path: Path,
) -> None:
    written = render(_data(), tmp_path)
    assert {p.name for p in written} == {p.name for p in GENERATED.iterdir()}, (
        "docs/generated/ holds other files than the renderer writes: run `make bench` or "
        "`python -m tools.render_measured`"
    )
    stale = [p.name for p in written if p.read_bytes() != (GENERATED / p.name).read_bytes()]
    assert not stale, f"out of date with {DATA.relative_to(ROOT)}: {stale}; re-render them"


def test_the_pages_include_every_fragment() -> None:
    included = {m["path"] for page in ALL_PAGES for m in BLOCK_INCLUDE.finditer(page.read_text())}
    fragments = {f"docs/generated/{p.name}" for p in GENERATED.glob(f"*{SUFFIX}")}
    assert included == fragments
    assert "docs/generated/comparison-table.md.txt" in BLOCK_INCLUDE.findall(
        (DOCS / "index.md").read_text()
    )
    charts = {p.name for p in GENERATED.glob("*.svg")}
    shown = {
        name
        for p in GENERATED.glob(f"*{SUFFIX}")
        for name in re.findall(r"\(generated/([\w-]+\.svg)\)", p.read_text())
    }
    assert charts and shown == charts


def _configured_figures() -> dict[tuple[str, str], str]:
    """Figures a page may type because they are settings of the code, not measurements: each
    is compared with the constant it states, so the page cannot drift from the code."""
    from snippets.converting.phantom_token_gateway import CACHE_SECONDS
    from snippets.tokens.keys import MIN_HMAC_SECRET_BYTES

    return {
        ("converting.md", f"{CACHE_SECONDS:g} s"): "the phantom-token cache's default lifetime",
        ("security-pitfalls.md", f"{MIN_HMAC_SECRET_BYTES} bytes"): "the shortest HMAC secret",
        ("quickstart.md", f"{MIN_HMAC_SECRET_BYTES} bytes"): "the shortest HMAC secret",
    }


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: p.name)
def test_no_size_or_cost_figure_is_typed_into_a_page(page: Path) -> None:
    configured = _configured_figures()
    typed = [f for f in FIGURE.findall(_prose(page)) if (page.name, f) not in configured]
    assert not typed, f"{page.name}: figures typed by hand, not from the data: {typed}"


def test_the_measured_page_types_no_number_at_all() -> None:
    typed = NUMBER.findall(_prose(DOCS / "measured.md"))
    assert not typed, f"measured.md: numbers typed by hand: {typed}"


def test_the_scanners_catch_a_typed_figure() -> None:
    planted = f"A JWT takes 350 bytes, verifying 12.5 µs (3{TIMES} a session), 1,038 B, 20%."
    assert FIGURE.findall(planted) == ["350 bytes", "12.5 µs", f"3{TIMES}", "1,038 B", "20%"]
    assert FIGURE.findall("HS256, RS256 and EdDSA over HTTP/2") == []
    assert NUMBER.findall("tokens/s in 4 processes") == ["4"]


@pytest.mark.parametrize("fragment", sorted(GENERATED.glob(f"*{SUFFIX}")), ids=lambda p: p.name)
def test_every_number_in_a_fragment_comes_from_the_data(fragment: Path) -> None:
    allowed = _allowed_numbers(_data())
    stray = [n for n in NUMBER.findall(fragment.read_text()) if n not in allowed]
    assert not stray, f"{fragment.name}: numbers not in {DATA.name}: {stray}"


def test_a_number_not_in_the_data_is_caught() -> None:
    data = _data()
    text = render_measured.sizes_fragment(data)
    allowed = _allowed_numbers(data)
    assert all(n in allowed for n in NUMBER.findall(text))
    assert "77,777" not in allowed and "77,777" in NUMBER.findall(text + " 77,777 bytes")


def test_generated_markdown_has_no_fences() -> None:
    for fragment in GENERATED.glob(f"*{SUFFIX}"):
        assert "```" not in fragment.read_text(), fragment.name


def _distinctive(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the data with numbers that appear nowhere else."""
    data = json.loads(json.dumps(data))
    data["sizes"]["tokens"]["RS256"]["typical"]["token_bytes"] = 98_765
    data["sizes"]["tokens"]["HS256"]["typical"]["token_bytes"] = 432  # inside the seed's range
    data["sizes"]["extremes"]["largest_request_header_bytes"] = 87_654
    data["costs"]["verify_RS256"]["median_us"] = 4_321.4
    data["throughput"]["algorithms"]["RS256"]["1"]["tokens_per_s"] = 13_579
    data["date"] = "2031-07-09"
    return data


@pytest.mark.browser  # a whole site build
def test_a_changed_data_file_changes_the_built_site(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_site_sources(project, skip=("generated",))
    render(_distinctive(_data()), project / "docs" / "generated")
    # The same configuration, with includes read from the copy instead of the work tree.
    config = mkdocs_config()
    for extension in config["markdown_extensions"]:
        if isinstance(extension, dict) and "pymdownx.snippets" in extension:
            extension["pymdownx.snippets"]["base_path"] = [str(project)]
    # Only the pages that show measured data: the full build, links and all, is
    # test_site's; this one checks that data reaches the pages, in a third of the time.
    docs = project / "docs"
    others = [
        p.relative_to(docs).as_posix()
        for p in docs.rglob("*.md")
        if "docs/generated/" not in p.read_text()
    ]
    assert "measured.md" not in others and "index.md" not in others
    config["exclude_docs"] += "".join(f"{name}\n" for name in others)
    config["nav"] = [item for item in config["nav"] if not set(nav_pages([item])) <= set(others)]
    config["validation"] = {"links": {"not_found": "ignore", "anchors": "ignore"}}
    config["plugins"] = ["search"]  # no API reference page to render
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    site = tmp_path / "site"
    result = build_site(site, project / "mkdocs.yml")
    assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"
    measured = (site / "measured" / "index.html").read_text()
    home = (site / "index.html").read_text()
    assert "98,765" in measured and "4,321" in measured and "2031-07-09" in measured
    assert "HS256 (432 bytes)" in measured  # the seed sentence moved HS256 to "agrees"
    assert "87,654 bytes" in home and "13,579 tokens/s" in home
    assert (site / "generated" / "measured-sizes.svg").is_file()
    assert "98,765" in (project / "docs" / "generated" / "measured-sizes.svg").read_text()


def test_the_seed_sentences_follow_the_data() -> None:
    data = _data()
    low = data["seed"]["jwt_bytes"]["low"]
    high = data["seed"]["jwt_bytes"]["high"]
    for algorithm in render_measured.ALGORITHMS:
        data["sizes"]["tokens"][algorithm]["minimal"]["token_bytes"] = (low + high) // 2
        data["sizes"]["tokens"][algorithm]["typical"]["token_bytes"] = high + 1
    text = seed_fragment(data)
    minimal, typical = (line for line in text.splitlines() if "claim set" in line)
    assert "**agrees**" in minimal and "disagrees" not in minimal
    assert "**disagrees**" in typical and "agrees**" not in typical.replace("disagrees**", "")
    data["sizes"]["session"]["session_id_bytes"] = data["seed"]["session_id_bytes"]["high"] + 1
    assert "session ID is" in seed_fragment(data) and seed_fragment(data).count("disagrees") >= 2


def test_the_data_file_records_machine_versions_and_date() -> None:
    data = _data()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["date"])
    assert {"platform", "cpu_model", "cpu_count"} <= data["machine"].keys()
    assert {"python", "pyjwt", "cryptography", "redis", "redis_server", "pyperf"} <= data[
        "versions"
    ].keys()
    assert set(data["sizes"]["tokens"]) == set(render_measured.ALGORITHMS)
    assert data["harness"]["throughput_processes"] == [1, 2, 4]
    assert data["round_trips"]["jwt"] == 0 and data["round_trips"]["session"] == 1
    for name, cost in data["costs"].items():
        assert cost["median_us"] > 0, name
