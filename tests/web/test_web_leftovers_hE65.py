"""Session 64's web leftovers (hE65): the video codecs, one seed refusal for collective, and the sweeps' CLI line.

- The web's `codec` was Literal h264 | vp9 while the CLI takes every catalog codec (hevc, av1 for a device file that
  encodes them): both now read `catalog.video_schemas.CODECS` (the CLI's help, the web's schema and its select).
- `collective --seed` without the flow model was refused twice, by the CLI and by the web runner: now once, by
  `estimate_collective` (seed None: 0), which the CLI, the web and the sweep call.
- The serve page's rate sweep (and the network page's size sweep) gave the last run's "copy as CLI" line and JSON:
  the line is now a shell loop running every run the page shows, the JSON every run's answer.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import files_beside, web_and_cli
from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.catalog.video_schemas import CODECS
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.sweep.callables import collective
from infraplan.web.app import create_app

MSVP = (Path(__file__).parents[2] / "src/infraplan/catalog/video/devices/msvp.yaml").read_text(encoding="utf-8")
AV1_DEVICE = MSVP.replace("codecs: [h264, vp9]", "codecs: [h264, vp9, av1]")
"""msvp's file, encoding AV1 too (its notes: 'AV1 encode in the next generation')."""
SEED_LINE = "--seed chooses the flow model's ECMP hashes and failed links: add --sim flow"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture()
def device_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from files_beside(tmp_path, monkeypatch, {"msvp-av1.yaml": AV1_DEVICE})


def test_the_web_offers_every_codec_the_cli_takes(client: TestClient) -> None:
    """The schema (what /video's select is filled from) lists the catalog's codecs, as the CLI's help does."""
    schema = client.get("/openapi.json").json()["components"]["schemas"]["VideoRequest"]["properties"]
    assert schema["codec"]["enum"] == list(CODECS) == ["h264", "vp9", "hevc", "av1"]
    assert schema["codec"]["description"] == "h264 | vp9 | hevc | av1"
    assert set(schema["quality"]["enum"]) == {"high", "standard"}


def test_an_av1_device_file_encodes_av1_on_the_web_as_on_the_cli(client: TestClient, device_file: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """An uploaded device encoding AV1 answers `codec: av1` as `video --device msvp-av1.yaml --codec av1` does (a
    422 "must be 'h264' or 'vp9'" before); a shipped device refuses it in the CLI's words, a 400."""
    body = {"device": {"text": AV1_DEVICE, "filename": "msvp-av1.yaml"}, "codec": "av1", "baseline": "none"}
    web, cli = web_and_cli(client, "video", body, capsys)
    assert web == cli and web["codec"] == "av1" and web["streams_per_device"] > 0
    response = client.post("/api/video", json={"device": "msvp", "codec": "hevc"})
    assert (response.status_code, response.json()["detail"]) == (400, "msvp does not encode hevc; it encodes h264, vp9")


def test_a_seed_without_the_flow_model_is_one_refusal_everywhere(client: TestClient,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The API function refuses it; the CLI and the web say its line, and a seed with the flow model (or none) runs.
    The sweep gives its spec's seed to every function taking one: the analytical model's is not passed on."""
    from infraplan.cluster import Cluster
    from infraplan.network.collective_schedules import estimate_collective

    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64)
    with pytest.raises(InputError, match="^--seed chooses"):
        estimate_collective("all-reduce", cluster, 64, 2**26, seed=0)  # ran, seed ignored, before
    assert estimate_collective("all-reduce", cluster, 64, 2**26).seed is None  # the analytical model draws nothing
    assert collective("all-reduce", "dgx-h100-superpod", 64, "64MiB", seed=3) == estimate_collective(
        "all-reduce", cluster, 64, 2**26)
    # (hF74: adaptive routing with no failed link draws nothing, and names no seed; a failed link is drawn by it)
    assert collective("all-reduce", "dgx-h100-superpod", 64, "64MiB", sim="flow", seed=3).seed is None
    assert collective("all-reduce", "dgx-h100-superpod", 64, "64MiB", sim="flow", seed=3,
                      failed_links="leaf:1").seed == 3
    body = {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 64, "size": "64MiB"}
    for sent in ({**body, "seed": 0}, {**body, "seed": 3}):
        response = client.post("/api/collective", json=sent)
        assert (response.status_code, response.json()["detail"]) == (400, SEED_LINE)
    line = ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "64MiB"]
    assert cli_main([*line, "--seed", "0"]) == 2 and SEED_LINE in capsys.readouterr().err
    web, cli = web_and_cli(client, "collective", {**body, "sim": "flow", "seed": 3, "failed_links": "leaf:1"}, capsys)
    assert web == cli and web["seed"] == 3
    assert client.post("/api/collective/cli", json={**body, "sim": "flow"}).json()["command"] == (
        "infraplan collective all-reduce --system dgx-h100-superpod --gpus 64 --bytes 64MiB --sim flow --json")


LOOP = ('for rate in 2.0 5.0; do infraplan serve llama3-8b --system dgx-h100-superpod --gpus 8 --rate "$rate" '
        '--workload chat --requests 200 --json; done')


def _loop_runs(line: str) -> list[list[str]]:
    """The CLI arguments of each run of `for NAME in V1 V2; do infraplan ... "$NAME" ...; done`."""
    head, _, rest = line.partition("; do ")
    name, values = head.removeprefix("for ").split(" in ")
    command = rest.removesuffix("; done")
    return [shlex.split(command.replace(f'"${name}"', shlex.quote(v)))[1:] for v in values.split()]


def test_the_serve_sweeps_line_and_json_are_every_rates(live_server: str, browser: Any,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Two rates: the line is the loop over both (the last rate's line before) and runs what the page's table shows;
    the JSON is both answers (the last one's before); one rate keeps its one line."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", CATALOGS_READY, errors)
    page.fill("input[name=rate]", "2,5")
    page.click("#serve-advanced summary")
    page.fill("input[name=requests]", "200")
    page.click("#run-serve")
    page.wait_for_function("document.querySelector('#serve-out .status').textContent === 'done'", timeout=120_000)
    assert page.inner_text("#serve-out .cli") == LOOP
    shown = page.evaluate("async () => (await fetch(document.querySelector('#serve-out a.download').href)).json()")
    cli = []
    for args in _loop_runs(LOOP):
        assert cli_main(args) == 0
        cli.append(json.loads(capsys.readouterr().out))
    assert shown == cli and [r["rate_per_s"] for r in shown] == [2.0, 5.0]
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "workload": "chat", "requests": 200}
    assert shown[1] == httpx.post(live_server + "/api/serve", json={**body, "rate": 5}, timeout=60).json()
    page.fill("input[name=rate]", "5")
    page.click("#run-serve")
    page.wait_for_function("!document.querySelector('#serve-out .cli').textContent.startsWith('for ')",
                           timeout=120_000)
    assert page.inner_text("#serve-out .cli") == LOOP.removeprefix("for rate in 2.0 5.0; do ").replace(
        '"$rate"', "5.0").removesuffix("; done")
    # lines that differ in more than one word are run one after another
    assert page.evaluate("IP.loop(['infraplan a --x 1 --y 2', 'infraplan a --x 3 --y 4'])") == (
        "infraplan a --x 1 --y 2; infraplan a --x 3 --y 4")
    assert errors == []
    page.close()
