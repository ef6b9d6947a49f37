"""Fixtures of the web tests: an in-process client (tests/consistency imports it too), a live server on loopback,
Debian's Chromium, and the upload tests' folders (`files_beside`)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from infraplan.cli.main import main as cli_main  # noqa: E402
from infraplan.web.app import create_app  # noqa: E402

PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,"
    "HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,ThirdPartyStoragePartitioning,"
    "AvoidCorsURLLoaderRestartOnRedirect,TcpPortRandomizationWin,OptimizationHints,NetworkTimeServiceQuerying,"
    "AimEnabled,PreconnectToSearch")
"""The features Playwright 1.65 disables (`chromiumSwitches.ts`): Chromium keeps only the last `--disable-features`
switch, so ours repeats them."""

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                  # the omnibox popups new headless Chromium (156) preloads as WebUI renderers: they keep ~0.2 of
                  # a core busy for as long as the browser is open, pages or not (0.04 CPU s per 3 idle s without)
                  f"--disable-features={PLAYWRIGHT_DISABLED_FEATURES},WebUIOmniboxPopup,WebUIOmniboxAimPopup"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def files_beside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Iterator[Path]:
    """For an upload test's fixture: the CLI runs in a folder holding `files` (name: text) under their names, the
    web's temporary folders go to a folder of their own (yielded), which must be empty again after the test (nothing
    left on the server)."""
    uploads = tmp_path / "server-tmp"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    folder = tmp_path / "cli"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)
    yield uploads
    assert list(uploads.iterdir()) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """`infraplan web`'s app under uvicorn on a free loopback port, in a thread."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web server did not start in 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def chromium_path() -> str | None:
    """Debian's Chromium (`make test` installs it with apt-get where it can); INFRAPLAN_CHROMIUM overrides."""
    for candidate in (os.environ.get("INFRAPLAN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium for one test module: closed when the module's tests are done, not idling until the session ends.

    One persistent context (a profile folder, so a disk cache) rather than a fresh context per page: every page
    loads the 4.6 MB plotly.js, ~1 CPU s to parse and compile in each fresh context; from the third load on V8
    reads its code cache instead (~0.4 CPU s a page: the module's Chromium 13 -> 7 CPU s). The pages share
    nothing else (the app keeps no cookies or storage); `new_page` is the context's, as it was the browser's."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: install Debian's `chromium` (make test does so with apt-get when it can); "
                    "the browser tests never download a browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=path, args=CHROMIUM_FLAGS)
        yield context
        context.close()


def web_answer(client: TestClient, command: str, body: dict[str, Any]) -> Any:
    """The web API's answer to `command` with `body`, polled to its end where it is a job."""
    response = client.post(f"/api/{command}", json=body)
    assert response.status_code in (200, 202), response.text
    result = response.json()
    deadline = time.monotonic() + 120
    while response.status_code == 202 and result["status"] in ("queued", "running"):  # a job: poll it
        assert time.monotonic() < deadline
        time.sleep(0.1)
        result = client.get(result["poll"]).json()
    if response.status_code == 202:
        assert result["status"] == "done", result
        result = result["result"]
    return result


def web_and_cli(client: TestClient, command: str, body: dict[str, Any],
                capsys: pytest.CaptureFixture[str]) -> tuple[Any, Any]:
    """(the web API's answer to `command` with `body` (`web_answer`); the CLI's --json answer to the line the web
    gives for the same request): the same question asked two ways."""
    result = web_answer(client, command, body)
    line = client.post(f"/api/{command}/cli", json=body).json()["command"]
    capsys.readouterr()
    assert cli_main(shlex.split(line)[1:]) == 0, line
    return result, json.loads(capsys.readouterr().out)
