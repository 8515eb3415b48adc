"""Accessibility, in the browser: axe-core over every page, in both palettes, as MkDocs and as
Zensical build the site; and the token inspector used with the keyboard alone.

axe-core comes from npm (package-lock.json, installed by ``make test``) and is injected into
each page from node_modules: the page under test never fetches it. The same walk checks what
tests/test_site.py checks for MkDocs' pages (console errors, failed requests, requests to
other hosts), so Zensical's pages are held to it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import PageWatch
from tests.helpers import ROOT, nav_pages, served_path
from tests.site_server import serve
from tests.test_site import site_pages

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

# Violations the project cannot fix from its own pages, each with the reason. Every other
# violation fails, whatever its impact. None of these is serious or critical.
ALLOWED: dict[str, str] = {
    "landmark-unique": (
        "moderate: Material and Zensical give every code block's annotation navigation the "
        "same unlabelled <nav> landmark, in the theme's own script"
    ),
}


# Shown code is kept within 88 columns; at 1280 px no block may scroll sideways.
_TOO_WIDE = """() => [...document.querySelectorAll('.md-content pre > code')]
    .filter(c => c.offsetParent !== null && c.scrollWidth > c.clientWidth + 1)
    .map(c => c.textContent.split('\\n')
        .reduce((a, l) => (l.length > a.length ? l : a), '').slice(0, 60))"""

# A collapsed "Whole file" view repeats, in the same colours, code the page shows above it,
# and makes up most of a long page's elements: axe checks what a reader sees, so the views'
# hidden bodies leave the page first (a third of the time on the longest pages).
_DROP_COLLAPSED = """() => document.querySelectorAll("details:not([open])").forEach(
    d => [...d.children].filter(c => c.tagName !== "SUMMARY").forEach(c => c.remove()))"""


# The site's stylesheet lets the browser skip laying out code blocks far from the screen
# (content-visibility: auto). A skipped block keeps a placeholder height while the geometry
# axe reads for its code is the real one, so axe would take the code's background for that
# of the text below it. A reader only ever sees a block rendered, so axe does too.
_RENDER_EVERYTHING = "* { content-visibility: visible !important; }"


# axe over the whole document, or over the parts named (a list of selector lists); each
# violation with the first three nodes, where they are and why they fail.
_AXE_RUN = """async ([tags, parts]) => (await axe.run(parts ? {include: parts} : document, {
        runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
    })).violations.map(v => ({
        id: v.id, impact: v.impact,
        where: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
        why: v.nodes.slice(0, 3).map(n => n.failureSummary),
    }))"""


def _axe(page: Page) -> list[dict[str, object]]:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE.relative_to(ROOT)} is missing: run `make test`, which runs `npm ci`",
            pytrace=False,
        )
    page.evaluate(_DROP_COLLAPSED)
    page.add_style_tag(content=_RENDER_EVERYTHING)
    page.add_script_tag(path=str(AXE))
    result: list[dict[str, object]] = page.evaluate(_AXE_RUN, [AXE_TAGS, None])
    return result


# What stays on screen while a reader scrolls: the header, both sidebars (toc.follow scrolls
# the table of contents to the heading being read) and the back-to-top button.
_FIXED_PARTS = [[".md-header"], [".md-sidebar"], [".md-top"]]

# Until no transition runs (the back-to-top button fades in), for at most five seconds.
_SETTLED = """async () => {
    const deadline = Date.now() + 5000;
    do { await new Promise(r => setTimeout(r, 250)); }
    while (document.getAnimations().length && Date.now() < deadline);
}"""


def _axe_at_the_end(page: Page) -> list[dict[str, object]]:
    """axe over what stays on screen once a reader has scrolled to the end of the page and
    back up a little: a sticky or following part can cover what it did not cover at the
    top. Called after `_axe`, which has put axe and the rendering style on the page."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.evaluate(_SETTLED)
    page.mouse.wheel(0, -400)  # scrolling up shows the back-to-top button
    page.evaluate(_SETTLED)
    result: list[dict[str, object]] = page.evaluate(_AXE_RUN, [AXE_TAGS, _FIXED_PARTS])
    return [{**v, "at": "the end of the page"} for v in result]


@pytest.fixture(scope="module")
def zensical_url(zensical_site: Path) -> Iterator[str]:
    with serve(zensical_site) as url:
        yield url


def _nav_pages() -> list[str]:
    """Every page of the nav, as the path it is served at ("" for the home page)."""
    return [served_path(page) for page in nav_pages()]


PAGES = _nav_pages()


def test_the_walk_covers_every_page_built(built_site: Path, zensical_site: Path) -> None:
    assert sorted(PAGES) == site_pages(built_site) == site_pages(zensical_site)


@pytest.fixture(scope="module")
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    """One browser context per palette, shared by this module's page tests."""
    made = {
        scheme: browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 800})
        for scheme in ("light", "dark")
    }
    yield made
    for context in made.values():
        context.close()


@pytest.mark.parametrize("rel", PAGES, ids=lambda rel: rel.rstrip("/") or "index")
@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
@pytest.mark.parametrize(
    ("color_scheme", "material_scheme"), [("light", "default"), ("dark", "slate")]
)
def test_the_page_loads_cleanly_and_passes_axe(
    request: pytest.FixtureRequest,
    contexts: dict[str, BrowserContext],
    builder: str,
    color_scheme: str,
    material_scheme: str,
    rel: str,
) -> None:
    """The page, in one palette, at 1280 px: no error, no failed or foreign request, no code
    block wider than the page, and no axe violation but the allowed ones, at the top of the
    page and, for what stays on screen, at its end."""
    url: str = request.getfixturevalue("site_url" if builder == "mkdocs" else "zensical_url")
    page = contexts[color_scheme].new_page()
    watch = PageWatch(page)
    try:
        assert watch.visit(url + rel).ok, rel
        assert page.locator("h1").count() >= 1, rel
        scheme = page.locator("body").get_attribute("data-md-color-scheme")
        assert scheme == material_scheme, (rel, scheme)
        found: list[object] = list(watch.problems)
        too_wide = page.evaluate(_TOO_WIDE)
        if too_wide:
            found.append(f"code wider than the page at 1280 px: {too_wide}")
        found += [v for v in _axe(page) if v["id"] not in ALLOWED]
        found += [v for v in _axe_at_the_end(page) if v["id"] not in ALLOWED]
        # It floats over the text, so a see-through background makes its contrast depend on
        # whatever it covers, which axe sees only where it happens to be.
        top = page.evaluate("getComputedStyle(document.querySelector('.md-top')).backgroundColor")
        if top.startswith("rgba(") and not top.endswith(", 1)"):
            found.append(f"the back-to-top button is see-through: {top}")
    finally:
        page.close()
    assert not found, found


def test_the_allow_list_holds_nothing_serious(built_site: Path, browser: Browser) -> None:
    """What ALLOWED lets through is still only what it says: never a serious or critical
    violation."""
    context = browser.new_context()
    page = context.new_page()
    with serve(built_site) as url:
        PageWatch(page).visit(url + "converting/")
        # Code blocks are mounted when first seen (content.lazy): scroll the page through,
        # as a reader does, so that every block's navigation is there.
        height = page.evaluate("document.documentElement.scrollHeight")
        for y in range(0, height, 400):
            page.evaluate(f"window.scrollTo(0, {y})")
            page.wait_for_timeout(100)
        allowed = [v for v in _axe(page) if v["id"] in ALLOWED]
    context.close()
    assert allowed, "the allow-list is out of date: nothing it names occurs any more"
    assert all(v["impact"] in ("minor", "moderate") for v in allowed), allowed


_FOCUSED = """() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    const name = e.getAttribute("aria-label")
        || (e.labels && e.labels.length ? e.labels[0].innerText.trim() : "")
        || e.innerText.trim();
    return {
        id: e.id || e.tagName + ":" + name,
        inInspector: e.closest(".tki") !== null,
        name: name,
        visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
            || style.boxShadow !== "none",
    };
}"""


def test_the_inspector_works_from_the_keyboard(browser: Browser, site_url: str) -> None:
    """Every control of both tools is reached with Tab, shows where the focus is, and has a
    name of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch(page)
    watch.visit(site_url + "inspector/")
    # Fill both tools from the keyboard, so that every control they reveal is shown.
    page.locator("#tki-token").focus()
    page.keyboard.insert_text(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIn0."
        "c2lnbmF0dXJlLW9mLWEtdGVzdC10b2tlbi0xMjM0NTY3ODk"
    )
    page.locator("#tki-record").focus()
    page.keyboard.insert_text('{"sub": "user-42"}')
    controls = page.evaluate(
        """() => [...document.querySelectorAll(
            ".tki button, .tki input, .tki textarea, .tki select, .tki a[href]")]
            .filter(e => e.offsetParent !== null).length"""
    )
    assert controls >= 8, controls
    page.locator("h1").first.click()  # start from the top of the page
    reached: dict[str, dict[str, object]] = {}
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused["inInspector"]:
            reached[str(focused["id"])] = focused
        if len(reached) == controls:
            break
    assert len(reached) == controls, sorted(reached)
    unseen = [k for k, v in reached.items() if not v["visible"]]
    assert not unseen, f"focus not visible on {unseen}"
    names = [str(v["name"]) for v in reached.values()]
    assert all(names), reached
    assert len(set(names)) == len(names), sorted(names)
    assert not watch.problems, watch.problems
    context.close()


def test_the_search_override_is_materials_own_partial_with_a_name() -> None:
    """overrides/partials/search.html is Material's partial plus a name for its dialog
    (axe: aria-dialog-name). If an upgrade of Material changes the partial, this fails:
    copy the new one and add the name again."""
    import material

    theirs = (Path(material.__file__).parent / "templates/partials/search.html").read_text()
    ours = (ROOT / "overrides/partials/search.html").read_text()
    dialog = '<div class="md-search" data-md-component="search" role="dialog">'
    named = dialog.replace('role="dialog"', 'role="dialog" aria-label="{{ lang.t(\'search\') }}"')
    assert dialog in theirs, "Material's search partial changed: update the override"
    assert ours == theirs.replace(dialog, named)
