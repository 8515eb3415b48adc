"""The curl walkthrough on the Converting page (and in the README), run as a reader runs it:
the page's own bash block, with the real curl, against the app served by uvicorn."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests.app.conftest import PASSWORD, AppServer
from tests.helpers import ROOT
from tests.page_code import fences

MARK = "# The demo app from a terminal."


def _walkthrough(page: str) -> str:
    [block] = [f.body for f in fences(ROOT / page) if f.body.startswith(MARK)]
    return block


def test_the_readme_shows_the_same_walkthrough_as_the_page() -> None:
    assert _walkthrough("README.md") == _walkthrough("docs/converting.md")


def test_the_curl_walkthrough_runs_as_shown(app_server: AppServer) -> None:
    curl = shutil.which("curl")
    assert curl, "curl is not installed (apt-get install curl)"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _walkthrough("docs/converting.md")],
        env={
            "PATH": os.environ["PATH"],
            "BASE": app_server.base_url.rstrip("/"),
            "APP_DEMO_PASSWORD": PASSWORD,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Signed in as <strong>alice",
        '{"sub":"u-alice","via":"new"}',
        "303",  # logged out everywhere: redirected home
        "401",  # and the token minted from the session is dead with it
    ], result.stdout
