"""Build the site and serve it on 127.0.0.1 for the browser tests."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from snippets.tokens.jwks_verifier import LocalServer
from tests.helpers import ROOT

BIN = Path(sys.executable).parent


def build_site(site_dir: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` into ``site_dir``; raises with the build log on failure."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [BIN / "mkdocs", "build", "--strict", "--config-file", config, "--site-dir", site_dir],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def build_with_zensical(project: Path) -> subprocess.CompletedProcess:
    """``zensical build --strict`` of ``project/mkdocs.yml`` into ``project/site``."""
    return subprocess.run(
        [BIN / "zensical", "build", "--strict", "--config-file", project / "mkdocs.yml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


# What a build of the site reads from the work tree, beside mkdocs.yml.
SITE_SOURCES = ("docs", "snippets", "overrides")


def copy_site_sources(project: Path, *, skip: tuple[str, ...] = ()) -> None:
    """Copy what the site is built from into ``project`` (tests must not write the tree)."""
    ignore = shutil.ignore_patterns("__pycache__", *skip)
    for folder in SITE_SOURCES:
        shutil.copytree(ROOT / folder, project / folder, ignore=ignore)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve ``site_dir`` on a free port of 127.0.0.1; yields the base URL."""
    with LocalServer(functools.partial(_QuietHandler, directory=str(site_dir))) as server:
        yield server.url + "/"


# The path GitHub Pages serves a project site under: site_url's path in mkdocs.yml.
PAGES_PREFIX = "/jwt-vs-sessions/"


class _ProjectSiteHandler(_QuietHandler):
    """Serves the site as GitHub Pages serves a project site: under ``PAGES_PREFIX``
    only, and the site's own ``404.html`` (status 404) for every path it does not hold."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith(PAGES_PREFIX):
            self.path = "/" + self.path[len(PAGES_PREFIX) :]
            target = Path(self.translate_path(self.path))
            if target.is_file() or (target / "index.html").is_file():
                super().do_GET()
                return
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_as_project_site(site_dir: Path) -> Iterator[str]:
    """Serve ``site_dir`` under ``PAGES_PREFIX``; yields the site's base URL."""
    handler = functools.partial(_ProjectSiteHandler, directory=str(site_dir))
    with LocalServer(handler) as server:
        yield server.url + PAGES_PREFIX
