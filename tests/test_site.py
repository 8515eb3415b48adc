"""The site as a reader meets it: a strict build with MkDocs and with Zensical, then every
page opened in a real Chromium (Debian's, driven by Playwright) from a server on 127.0.0.1.

A page fails on any console error, any uncaught exception, any failed request and any request
to a host other than 127.0.0.1 (such requests are blocked and reported, never sent).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser

from tests.browser import PageWatch
from tests.helpers import ROOT, mkdocs_config, nav_pages, served_path, snippet_files
from tests.site_server import PAGES_PREFIX, serve_as_project_site


def test_strict_build_has_every_page(built_site: Path) -> None:
    config = mkdocs_config()
    assert config["strict"] is True
    for page in nav_pages():
        assert (built_site / served_path(page) / "index.html").is_file(), page


def test_the_api_reference_documents_every_module_on_its_packages_page(built_site: Path) -> None:
    """One reference page per package of snippets/, and each documents all of its modules."""
    reference = built_site / "reference"
    for module in snippet_files():
        dotted = ".".join(module.relative_to(ROOT).with_suffix("").parts)
        page = reference / module.parent.name / "index.html"
        assert f'id="{dotted}"' in page.read_text(), (dotted, page)


def test_zensical_builds_the_same_config(zensical_site: Path) -> None:
    """Zensical (Material's successor) must build the unchanged mkdocs.yml."""
    assert "issue_token" in (zensical_site / "reference" / "quickstart" / "index.html").read_text()
    text = (zensical_site / "quickstart" / "index.html").read_text()
    assert "signature verification failed" in text


def site_pages(site: Path) -> list[str]:
    return sorted(
        str(p.parent.relative_to(site)) + "/" if p.parent != site else ""
        for p in site.rglob("index.html")
        if "assets" not in p.parts
    )


def test_search_finds_a_word_on_a_page(browser: Browser, site_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    watch = PageWatch(page)
    watch.visit(site_url)
    page.keyboard.press("/")  # Material's shortcut to focus the search box
    page.keyboard.type("CSPRNG")  # a word found only in the quick start's session snippet
    result = page.locator(".md-search-result__list a").first
    result.wait_for(timeout=10_000)
    assert "/quickstart/" in (result.get_attribute("href") or "")
    assert not watch.problems, watch.problems
    context.close()


def test_the_home_pages_first_screen_holds_the_decision(browser: Browser, site_url: str) -> None:
    """A reader who came to decide sees a default for each case without scrolling."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch(page)
    watch.visit(site_url)
    table = page.locator(".decision table")
    rows = table.locator("tbody tr")
    assert rows.count() == 5
    box = table.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800, box  # nothing below the fold
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    cases = rows.locator("td:first-child").all_text_contents()
    defaults = " ".join(rows.locator("td:nth-child(2)").all_text_contents())
    assert any("browser" in c.lower() for c in cases), cases
    assert "Server-side session" in defaults and "JWT" in defaults and "BFF" in defaults
    for link in rows.locator("td:last-child a").all():  # each proof is a page of the site
        href = link.get_attribute("href") or ""
        assert href and not href.startswith("http"), href
    costs = rows.locator("td:nth-child(4)").all_text_contents()
    assert all(any(ch.isdigit() for ch in cost) for cost in costs), costs  # measured numbers
    assert not watch.problems, watch.problems
    context.close()


# Material's header is coloured by the site's stylesheet: unstyled, it is transparent.
_STYLED = """() => {
    const header = document.querySelector('.md-header');
    return header !== null && getComputedStyle(header).backgroundColor !== 'rgba(0, 0, 0, 0)'
        && document.styleSheets.length >= 2;
}"""


_OWN_404_LOGGED = (
    "console error: Failed to load resource: the server responded with a status of 404 (Not Found)"
)


def test_the_site_works_under_the_project_path_github_pages_serves(
    browser: Browser, built_site: Path
) -> None:
    """Hosted as a project site (under /jwt-vs-sessions/): every page, the search, the
    inspector and a nested missing URL load with their styles, and the sitemap lists every
    page at the address it is served from."""
    config = mkdocs_config()
    assert config["site_url"].endswith(PAGES_PREFIX)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch(page)
    failures = {}
    with serve_as_project_site(built_site) as base:
        for rel in site_pages(built_site):
            watch.problems.clear()
            assert watch.visit(base + rel).ok, rel
            if not page.evaluate(_STYLED):
                watch.problems.append("unstyled")
            if watch.problems:
                failures[rel or "index"] = list(watch.problems)
        # a nested missing URL: the site's 404 page, styled, every asset found
        missing = base + "faq/no/such/page/"
        watch.problems.clear()
        assert watch.visit(missing).status == 404
        # the page's own status, which Chromium also logs; a missing asset has an entry of its own
        own = {f"HTTP 404: {missing}", _OWN_404_LOGGED}
        problems = [p for p in watch.problems if p not in own]
        assert page.evaluate(_STYLED) and "404" in page.locator("h1").inner_text(), problems
        assert not problems, problems
        # search, from a page below the root
        watch.problems.clear()
        watch.visit(base + "faq/")
        page.keyboard.press("/")
        page.keyboard.type("CSPRNG")
        result = page.locator(".md-search-result__list a").first
        result.wait_for(timeout=10_000)
        href = result.get_attribute("href") or ""
        assert href.startswith(base + "quickstart/"), href
        # the inspector's module script runs: its form replaces the no-script note
        watch.visit(base + "inspector/")
        page.locator("#tki-inspect textarea").first.wait_for(timeout=10_000)
        assert not watch.problems, watch.problems
    context.close()
    assert not failures, failures
    sitemap = (built_site / "sitemap.xml").read_text()
    listed = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    expected = {config["site_url"] + rel for rel in site_pages(built_site)}
    assert listed == expected, listed ^ expected


def test_every_page_has_its_own_description(built_site: Path) -> None:
    found = {}
    for rel in site_pages(built_site):
        html = (built_site / rel / "index.html").read_text()
        match = re.search(r'<meta name="description" content="([^"]+)"', html)
        assert match, rel
        found[rel or "index"] = match.group(1)
    duplicates = {d for d in found.values() if list(found.values()).count(d) > 1}
    assert not duplicates, duplicates
    assert all(50 <= len(d) <= 200 for d in found.values()), found


# Each code block's state: whether its code is rendered (not skipped by content-visibility)
# and whether Material has mounted it (its copy button).
_CODE_BLOCKS = """() => [...document.querySelectorAll(".md-content .highlight > pre")]
    .filter(pre => pre.checkVisibility())
    .map(pre => ({
        rendered: pre.checkVisibility({contentVisibilityAuto: true}),
        mounted: pre.querySelector("button.md-code__button, button.md-clipboard") !== null,
    }))"""


def test_a_long_page_renders_and_mounts_its_code_blocks_when_they_come_near(
    browser: Browser, site_url: str
) -> None:
    """docs/stylesheets/extra.css skips the rendering of code blocks far from the screen, and
    `content.lazy` (a Material feature flag its documentation does not list) mounts a block
    when it is first seen. If either stops working, the blocks far below the first screen
    are rendered or mounted at load, and this fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch(page)
    assert watch.visit(site_url + "when-to-use-sessions/").ok
    page.wait_for_timeout(500)  # Material mounts what it mounts at load within a frame or two
    at_load = page.evaluate(_CODE_BLOCKS)
    assert len(at_load) > 10, at_load
    far = at_load[-5:]
    assert not any(block["rendered"] or block["mounted"] for block in far), at_load
    page.evaluate(
        """() => [...document.querySelectorAll(".md-content .highlight > pre")]
            .filter(pre => pre.checkVisibility()).at(-1).dataset.test = 'last-shown-block'"""
    )
    last = page.locator('[data-test="last-shown-block"]')
    last.scroll_into_view_if_needed()
    last.locator("button").first.wait_for(state="attached", timeout=10_000)  # mounted once seen
    assert page.evaluate(_CODE_BLOCKS)[-1] == {"rendered": True, "mounted": True}
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    # seen once, a block keeps its button; off screen again, its rendering is skipped again
    assert page.evaluate(_CODE_BLOCKS)[-1] == {"rendered": False, "mounted": True}
    assert not watch.problems, watch.problems
    context.close()
