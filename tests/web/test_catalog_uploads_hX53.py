"""Every catalog reference the CLI reads as a file takes an upload on the web (hX53, session 53; after hX52).

The CLI reads a user's file for serve / serve-plan's `--workload`, recsys's model and `--accelerator`, video's
`--device` and `--baseline`, facility's `--system` / `--accelerator` / `--location`, campus's `--accelerator` /
`--location` / `--fleet`, reliability's `--system` / `--model` / `--failure-rate` and train's `--location` (each
checked with a file on the CLI); the web took preset names only there (`PresetName`: an object was a 422 "must be a
valid string"; each test here failed so before, but the two on hU53's accelerator uploads, which came first). Now
each is a `request_fields.CatalogRef`, read by the CLI's loaders from a temporary folder removed after the run
(web/uploads.py): the answer is the CLI's `--json` for a file of that name, a bad file the CLI's one line, and the
files an upload names itself must be presets.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import files_beside, web_and_cli
from tests.web.test_web_browser import open_page

from infraplan.cli.main import main as cli_main

CATALOG = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _read(*parts: str) -> str:
    return CATALOG.joinpath(*parts).read_text(encoding="utf-8")


LOCATION = "climate: temperate\nelectricity_usd_per_mwh: 81.0\ngrid_gco2_per_kwh: 400\nsource: a user's site\n"
RATE = ("accelerators_per_node: 8\ncounts: node_failures\nfailures_per_1000_node_days: 9.0\nmeasured_on: [h100-sxm]\n"
        "planned_interruptions_per_day: 0\nsource: a user's cluster\n")
FILES = {
    "mychat.yaml": _read("workloads", "chat.yaml").replace("median: 1020", "median: 700"),
    "mydlrm.yaml": _read("recsys", "dlrm-low.yaml").replace("default_batch: 1024", "default_batch: 512"),
    "mymtia.yaml": "extends: mtia-v1\nmemory_bandwidth_bytes_per_s: 200GB/s\n",
    "mymsvp.yaml": _read("video", "devices", "msvp.yaml").replace("power_w: 10W", "power_w: 12W"),
    "myxeon.yaml": "extends: xeon-8480\n",
    "myh100.yaml": "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5TB/s\n",
    "h100-hbm-plus50.yaml": (EXAMPLES / "hardware" / "h100-hbm-plus50.yaml").read_text(encoding="utf-8"),
    "myohio.yaml": LOCATION,
    "myfleet.yaml": _read("facility", "fleets", "meta-2024.yaml").replace("count: 300848", "count: 1000"),
    "myrate.yaml": RATE,
    "my-llama.json": _read("models", "llama3-8b.json"),
}


def upload(name: str, text: str | None = None) -> dict[str, str]:
    return {"text": FILES[name] if text is None else text, "filename": name}


@pytest.fixture()
def beside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`files_beside` of the files under their names."""
    yield from files_beside(tmp_path, monkeypatch, FILES)


CASES = [  # (command, body with uploads, the CLI line the web gives for it)
    ("serve", {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "tp": 8, "rate": 2.0, "requests": 200,
               "workload": upload("mychat.yaml")},
     "infraplan serve llama3-8b --system h100-sxm --gpus 8 --tp 8 --rate 2.0 --workload mychat.yaml --requests 200 "
     "--json"),
    ("serve-plan", {"model": "llama3-8b", "system": "h100-sxm", "rate": 1.0, "requests": 200, "dtypes": ["bf16"],
                    "max_batch": [64], "workload": upload("mychat.yaml")},
     "infraplan serve-plan llama3-8b --system h100-sxm --rate 1.0 --workload mychat.yaml --dtypes bf16 --max-batch 64 "
     "--requests 200 --json"),
    ("recsys", {"model": upload("mydlrm.yaml"), "accelerator": upload("mymtia.yaml")},
     "infraplan recsys mydlrm.yaml --accelerator mymtia.yaml --json"),
    ("video", {"device": upload("mymsvp.yaml"), "baseline": upload("myxeon.yaml"), "daily_hours": 1000.0},
     "infraplan video --device mymsvp.yaml --daily-hours 1000.0 --baseline myxeon.yaml --json"),
    ("facility", {"system": upload("h100-hbm-plus50.yaml"), "location": upload("myohio.yaml")},
     "infraplan facility --system h100-hbm-plus50.yaml --location myohio.yaml --json"),
    ("facility", {"accelerator": upload("mymtia.yaml"), "count": 1200},
     "infraplan facility --accelerator mymtia.yaml --count 1200 --json"),
    ("campus", {"power": "50MW", "accelerator": upload("myh100.yaml"), "location": upload("myohio.yaml")},
     "infraplan campus --power 50MW --accelerator myh100.yaml --location myohio.yaml --json"),
    ("campus", {"fleet": upload("myfleet.yaml")}, "infraplan campus --fleet myfleet.yaml --json"),
    ("reliability", {"system": upload("h100-hbm-plus50.yaml"), "gpus": 1024, "model": upload("my-llama.json"),
                     "failure_rate": upload("myrate.yaml")},
     "infraplan reliability --system h100-hbm-plus50.yaml --gpus 1024 --model my-llama.json --failure-rate "
     "myrate.yaml --json"),
    ("train", {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "tp": 8, "seq_len": 4096, "global_batch": 8,
               "tokens": "1e9", "location": upload("myohio.yaml")},
     "infraplan train llama3-8b --system h100-sxm --gpus 8 --tp 8 --seq-len 4096 --global-batch 8 --tokens 1e9 "
     "--location myohio.yaml --json"),
]


def _uploaded(body: dict[str, Any]) -> str:
    return "-".join(k for k, v in body.items() if isinstance(v, dict))


@pytest.mark.parametrize(("command", "body", "line"), CASES, ids=[f"{c}-{_uploaded(b)}" for c, b, _ in CASES])
def test_an_uploaded_file_is_the_cli_answer_for_that_file(client: TestClient, beside: Path,
                                                          capsys: pytest.CaptureFixture[str], command: str,
                                                          body: dict[str, Any], line: str) -> None:
    assert client.post(f"/api/{command}/cli", json=body).json()["command"] == line
    web, cli = web_and_cli(client, command, body, capsys)
    assert web == cli
    assert "server-tmp" not in json.dumps(web) and "(upload)" not in json.dumps(web)


def test_the_upload_is_what_is_read(client: TestClient, beside: Path) -> None:
    """The answers differ from the presets' by what the files change (the upload is read, not its preset)."""
    def post(command: str, body: dict[str, Any]) -> Any:
        answer = client.post(f"/api/{command}", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    mine = post("video", {"device": upload("mymsvp.yaml"), "baseline": "none"})
    shipped = post("video", {"device": "msvp", "baseline": "none"})
    assert (mine["device"], mine["power_w"], shipped["power_w"]) == ("mymsvp", 12.0, 10.0)
    assert post("recsys", {"model": upload("mydlrm.yaml"), "accelerator": "mtia-v1"})["batch"] == 512
    mine = post("facility", {"system": "meta-genai-roce-24k", "location": upload("myohio.yaml")})
    shipped = post("facility", {"system": "meta-genai-roce-24k", "location": "ohio"})
    assert (mine["location"], shipped["location"]) == ("myohio.yaml", "ohio")
    assert mine["co2_t_per_year"] / shipped["co2_t_per_year"] == pytest.approx(400 / 540)  # the file's grid, 400 g


BAD = [  # (command, body, field, file name, text): the CLI's line for the same file
    ("serve", {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "rate": 2.0}, "workload", "w.yaml",
     "kind: llm\n"),
    ("serve-plan", {"model": "llama3-8b", "system": "h100-sxm", "rate": 1.0}, "workload", "w.json", "{bad"),
    ("recsys", {"accelerator": "mtia-v1"}, "model", "m.yaml", "extends: dlrm-low\n"),
    ("recsys", {"model": "dlrm-low"}, "accelerator", "a.yaml", "extends: mtia-v11\n"),
    ("video", {}, "device", "d.yaml", "kind: video-asic\npower_w: 10W\n"),
    ("facility", {"system": "meta-genai-roce-24k"}, "location", "l.yaml", "climate: temperate\n"),
    ("campus", {}, "fleet", "f.yaml", "name: x\nsites: []\n"),
    ("reliability", {"system": "h100-sxm", "gpus": 64}, "failure_rate", "r.yaml", "counts: node_failures\n"),
    ("reliability", {"system": "h100-sxm", "gpus": 64}, "model", "m.json", "[1, 2]"),
]


@pytest.mark.parametrize(("command", "body", "field", "name", "text"), BAD,
                         ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_a_bad_file_is_the_cli_line(client: TestClient, beside: Path, capsys: pytest.CaptureFixture[str],
                                    command: str, body: dict[str, Any], field: str, name: str, text: str) -> None:
    Path(name).write_text(text, encoding="utf-8")
    body = {**body, field: upload(name, text)}
    web = client.post(f"/api/{command}", json=body)
    detail = web.json().get("detail") or web.json().get("error")
    if web.status_code == 202:  # a job (serve-plan): its failure is the line
        job = web.json()
        deadline = time.monotonic() + 120
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            job = client.get(job["poll"]).json()
        assert job["status"] == "failed"
        detail = job["error"]
    else:
        assert web.status_code == 400, web.text
    assert name in detail and "\n" not in detail and "server-tmp" not in detail and "(upload)" not in detail
    capsys.readouterr()
    assert cli_main(shlex.split(client.post(f"/api/{command}/cli", json=body).json()["command"])[1:]) == 2
    assert capsys.readouterr().err.strip() == "infraplan: error: " + detail


@pytest.mark.parametrize(("command", "body", "field", "text", "key"), [
    ("campus", {}, "fleet", "name: x\nsites:\n  - {name: a, system: ../../etc/sys.yaml}\n", "sites[0].system"),
    ("campus", {}, "fleet", "name: x\nsites:\n  - {name: a, accelerator: h100-sxm, count: 8, location: /l.yaml}\n",
     "sites[0].location"),
    ("video", {}, "device", _read("video", "devices", "msvp.yaml").replace(
        "software_baseline: xeon-8480", "software_baseline: /etc/cpu.yaml"), "software_baseline"),
    ("reliability", {"system": "h100-sxm", "gpus": 64}, "failure_rate", RATE + "all_causes: ../rate.yaml\n",
     "all_causes"),
    ("serve", {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "rate": 2.0}, "workload",
     _read("workloads", "image-generation.yaml").replace("diffusion_model: sd-v1.5-512", "diffusion_model: ../sd.json"),
     "diffusion_model"),
], ids=["fleet-site-system", "fleet-site-location", "video-software-baseline", "rate-all-causes",
        "workload-diffusion-model"])
def test_an_upload_naming_a_server_file_is_refused(client: TestClient, beside: Path, command: str,
                                                   body: dict[str, Any], field: str, text: str, key: str) -> None:
    """The files an upload names itself are read from the server's disk on the CLI; the web reads none."""
    web = client.post(f"/api/{command}", json={**body, field: upload("mine.yaml", text)})
    assert web.status_code == 400, web.text
    assert web.json()["detail"].startswith(f"mine.yaml: {key} ") and "must be a preset name" in web.json()["detail"]


def test_an_uploaded_image_workload_sizes_the_job_as_its_preset(beside: Path) -> None:
    """`jobs.serve_size` reads the workload as the run does: an uploaded image-generation workload sizes a web serve
    as its preset does (it read `request.workload` itself, which an upload is not a path to)."""
    from infraplan.web.jobs import is_long, serve_size
    from infraplan.web.requests import ServeRequest

    def image(workload: Any) -> ServeRequest:
        return ServeRequest(model="sd-v1.5-512", system="h100-sxm", gpus=1, workload=workload, rate=17.5)

    shipped = image("image-generation")
    mine = image(upload("images.yaml", _read("workloads", "image-generation.yaml")))
    assert serve_size(mine) == serve_size(shipped) > 20_000 and is_long(mine)


def test_the_fields_say_they_take_an_upload() -> None:
    from infraplan.web.requests import REQUESTS

    said = {(c, f): REQUESTS[c].model_fields[f].description or "" for c, f in (
        ("serve", "workload"), ("serve-plan", "workload"), ("recsys", "model"), ("recsys", "accelerator"),
        ("video", "device"), ("video", "baseline"), ("facility", "system"), ("facility", "accelerator"),
        ("facility", "location"), ("campus", "accelerator"), ("campus", "location"), ("campus", "fleet"),
        ("reliability", "system"), ("reliability", "model"), ("reliability", "failure_rate"), ("train", "location"))}
    assert {k: v for k, v in said.items() if "an uploaded " not in v} == {}
    assert said[("serve-plan", "workload")] == "chat | code-completion | summarization | an uploaded workload YAML"
    assert said[("campus", "fleet")] == "fleet preset or an uploaded YAML of sites (replaces power)"


def test_the_facility_and_serving_pages_send_their_uploads(live_server: str, browser: Any) -> None:
    """The facility form's accelerator and location slots (the accelerator's upload clears the system preset, as
    picking an accelerator does) and the serving form's workload slot send {text, filename}; the CLI line names them."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", "document.querySelector('#fac-form select[name=system]')"
                     ".options.length > 1", errors)
    yaml = "application/yaml"
    page.set_input_files("#fac-form input[name=accelerator-file]",
                         {"name": "my mtia.yaml", "mimeType": yaml, "buffer": FILES["mymtia.yaml"].encode()})
    page.set_input_files("#fac-form input[name=location-file]",
                         {"name": "myohio.yaml", "mimeType": yaml, "buffer": LOCATION.encode()})
    page.fill("#fac-form input[name=count]", "1200")
    with page.expect_request(lambda r: r.url.endswith("/api/facility") and r.method == "POST") as request:
        page.click("#run-fac")
    body = json.loads(request.value.post_data or "{}")
    assert body == {"accelerator": {"text": FILES["mymtia.yaml"], "filename": "my-mtia.yaml"}, "count": 1200,
                    "location": {"text": LOCATION, "filename": "myohio.yaml"}}
    page.wait_for_function("document.querySelector('#fac-out .status').textContent === 'done'", timeout=60_000)
    assert page.inner_text("#fac-out .cli") == ("infraplan facility --accelerator my-mtia.yaml --count 1200 "
                                                "--location myohio.yaml --json")
    page.close()
    page = open_page(browser, live_server + "/serve", "document.querySelector('select[name=model]').options.length"
                     " > 1", errors)
    page.set_input_files("input[name=workload-file]", {"name": "mychat.yaml", "mimeType": "application/yaml",
                                                       "buffer": FILES["mychat.yaml"].encode()})
    page.fill("input[name=rate]", "2")
    page.fill("input[name=requests]", "200")
    with page.expect_request(lambda r: r.url.endswith("/api/serve") and r.method == "POST") as request:
        page.click("#run-serve")
    assert json.loads(request.value.post_data or "{}")["workload"] == {"text": FILES["mychat.yaml"],
                                                                       "filename": "mychat.yaml"}
    page.wait_for_function("document.querySelector('#serve-out .status').textContent === 'done'", timeout=60_000)
    assert "--workload mychat.yaml" in page.inner_text("#serve-out .cli")
    assert errors == []
    page.close()
