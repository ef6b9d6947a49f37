"""The train, serve and network forms take a user's file where the CLI does (hX52, session 52; found by hU).

`infraplan train FILE --system FILE --stack FILE` read a user's config.json, system / accelerator YAML and stack YAML;
the web took preset names only. Now those fields take an upload (`request_fields.UploadedFile`: `{text, filename}`),
read by the CLI's own loaders from a temporary folder removed after the run (web/uploads.py), so the answer is the
CLI's for a file of that name and a bad file is the CLI's one line. Each test here failed before: the API refused
an object for a preset name (422 "must be a valid string"), and the pages had no upload slot.
"""

from __future__ import annotations

import json
import shlex
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
CONFIG = (CATALOG / "models" / "llama3-8b.json").read_text(encoding="utf-8")
SYSTEM = (EXAMPLES / "hardware" / "h100-hbm-plus50.yaml").read_text(encoding="utf-8")  # `extends: h100-sxm`
STACK = (EXAMPLES / "stacks" / "frontier-h004.yaml").read_text(encoding="utf-8")  # `extends: nemo-26.04`


def upload(text: str, filename: str) -> dict[str, str]:
    return {"text": text, "filename": filename}


@pytest.fixture()
def beside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`files_beside` of the uploads under their names."""
    yield from files_beside(tmp_path, monkeypatch, {"my-llama.json": CONFIG, "config.json": CONFIG,
                                                    "h100-hbm-plus50.yaml": SYSTEM, "frontier-h004.yaml": STACK})


def test_train_with_uploaded_config_system_and_stack_is_the_cli_answer(
        client: TestClient, beside: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": upload(CONFIG, "my-llama.json"), "system": upload(SYSTEM, "h100-hbm-plus50.yaml"),
            "stack": upload(STACK, "frontier-h004.yaml"), "gpus": 64, "tp": 8, "seq_len": 4096, "global_batch": 256}
    line = client.post("/api/train/cli", json=body).json()["command"]
    assert line == ("infraplan train my-llama.json --system h100-hbm-plus50.yaml --gpus 64 --tp 8 --seq-len 4096 "
                    "--global-batch 256 --stack frontier-h004.yaml --json")
    web, cli = web_and_cli(client, "train", body, capsys)
    assert web == cli
    assert (web["model"], web["system"], web["stack"]) == ("my-llama", "h100-hbm-plus50-generic-64", "frontier-h004")
    assert "server-tmp" not in json.dumps(web)


def test_a_config_json_is_named_as_the_cli_names_it(client: TestClient, beside: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`train config.json` names the model `config` (`read_entry`: a config.json takes its folder's name)."""
    body = {"model": upload(CONFIG, "config.json"), "system": "h100-sxm", "gpus": 8, "tp": 8, "seq_len": 4096,
            "global_batch": 8}
    web, cli = web_and_cli(client, "train", body, capsys)
    assert web == cli and web["model"] == "config"


def test_serve_with_an_uploaded_config_is_the_cli_answer(client: TestClient, beside: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": upload(CONFIG, "my-llama.json"), "system": upload(SYSTEM, "h100-hbm-plus50.yaml"), "gpus": 8,
            "tp": 8, "rate": 2.0, "input_len": 1024, "output_len": 128, "requests": 200}
    web, cli = web_and_cli(client, "serve", body, capsys)
    assert web == cli and web["model"] == "my-llama"


def test_network_with_an_uploaded_system_is_the_cli_answer(client: TestClient, beside: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    web, cli = web_and_cli(client, "network", {"system": upload(SYSTEM, "h100-hbm-plus50.yaml"), "gpus": 64}, capsys)
    assert web == cli and web["system"] == "h100-hbm-plus50-generic-64"


@pytest.mark.parametrize(("name", "text"), [
    ("bad.json", "{bad"),  # malformed: catalog.loader.parse_text's line
    ("bad.json", '{"hidden_size": 4096}'),  # a config without its layers: model_config's line
    ("bad.json", "[1, 2]"),  # not a mapping: read_entry's line
])
def test_a_bad_model_file_is_the_cli_line(client: TestClient, beside: Path, capsys: pytest.CaptureFixture[str],
                                          name: str, text: str) -> None:
    Path(name).write_text(text, encoding="utf-8")
    body = {"model": upload(text, name), "system": "h100-sxm", "gpus": 8, "seq_len": 4096, "global_batch": 8}
    web = client.post("/api/train", json=body)
    assert web.status_code == 400
    line = client.post("/api/train/cli", json=body).json()["command"]
    capsys.readouterr()
    assert cli_main(shlex.split(line)[1:]) == 2
    # the error is the last line: a warning reading the file comes first (`{"hidden_size": 4096}`: "no model_type"),
    # as in a fresh process (an earlier request's same text hid it in this one until hJ59's "always" filter)
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == "infraplan: error: " + web.json()["detail"], (err, web.json())
    assert "server-tmp" not in web.text


def test_a_bad_system_file_is_the_cli_line(client: TestClient, beside: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    text = "extends: h100-sxmm\nmemory_bandwidth_bytes_per_s: 5TB/s\n"
    Path("typo.yaml").write_text(text, encoding="utf-8")
    body = {"model": "llama3-8b", "system": upload(text, "typo.yaml"), "gpus": 8, "seq_len": 4096, "global_batch": 8}
    web = client.post("/api/train", json=body)
    assert web.status_code == 400 and "did you mean accelerator h100-sxm?" in web.json()["detail"]
    capsys.readouterr()
    assert cli_main(shlex.split(client.post("/api/train/cli", json=body).json()["command"])[1:]) == 2
    assert capsys.readouterr().err.strip() == "infraplan: error: " + web.json()["detail"]


@pytest.mark.parametrize(("field", "text"), [
    ("system", "extends: /etc/hostname\n"),
    ("system", "name: x\naccelerator: ../secret.yaml\nnode: {}\n"),
    ("stack", "extends: ../../stacks/nemo-26.04.yaml\n"),
])
def test_an_upload_naming_a_server_file_is_refused(client: TestClient, beside: Path, field: str, text: str) -> None:
    """The files an upload names itself are read beside it on the CLI; the web reads no server file."""
    body = {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "seq_len": 4096, "global_batch": 8,
            field: upload(text, "mine.yaml")}
    web = client.post("/api/train", json=body)
    assert web.status_code == 400
    assert web.json()["detail"].startswith("mine.yaml: ") and "must be a preset name" in web.json()["detail"]


@pytest.mark.parametrize(("value", "line"), [
    ({"text": "x: 1"}, "invalid system.filename: Field required"),
    ({"text": "x: 1", "filename": "../x.yaml"}, "invalid system.filename: String should match pattern"),
    ({"text": "x: 1", "filename": "x.txt"}, "invalid system.filename: String should match pattern"),
    (8, "invalid system: must be a valid string"),
])
def test_a_malformed_upload_is_one_schema_line(client: TestClient, value: Any, line: str) -> None:
    body = {"model": "llama3-8b", "system": value, "gpus": 8, "seq_len": 4096, "global_batch": 8}
    web = client.post("/api/train", json=body)
    assert web.status_code == 422 and web.json()["detail"].startswith(line), web.json()


def test_the_fields_say_they_take_an_upload() -> None:
    from infraplan.web.requests import REQUESTS

    fields = REQUESTS["train"].model_fields
    assert fields["model"].description == "model preset or an uploaded HF config.json"
    assert "or an uploaded stack YAML [default: nemo-26.04" in (fields["stack"].description or "")
    assert REQUESTS["network"].model_fields["system"].description == (
        "system preset, an uploaded system YAML, or an accelerator preset")


def test_the_training_page_sends_an_upload_and_shows_the_answer(live_server: str, browser: Any) -> None:
    """An uploaded config.json wins over the model list, is sent as {text, filename} under a name the API takes, and
    the page shows the CLI line naming it; a bad file shows the CLI's line in the error slot."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/train", "document.querySelector('select[name=model]').options.length"
                     " > 1", errors)
    page.set_input_files("input[name=model-file]", {"name": "my llama (v2).json", "mimeType": "application/json",
                                                    "buffer": CONFIG.encode()})
    page.select_option("select[name=system]", "dgx-h100-superpod")
    with page.expect_request(lambda r: r.url.endswith("/api/train") and r.method == "POST") as request:
        page.click("#run-train")
    body = json.loads(request.value.post_data or "{}")
    assert body["model"] == {"text": CONFIG, "filename": "my-llama--v2-.json"}
    page.wait_for_selector("#step-time", timeout=30_000)
    assert page.inner_text("#train-out .cli").startswith("infraplan train my-llama--v2-.json --system "
                                                         "dgx-h100-superpod")
    page.set_input_files("input[name=model-file]", {"name": "bad.json", "mimeType": "application/json",
                                                    "buffer": b"{bad"})
    page.click("#run-train")
    page.wait_for_function("document.querySelector('#train-out .error').textContent.length > 0")
    assert page.inner_text("#train-out .error").startswith("malformed file bad.json: ")
    assert errors == []
    page.close()


def test_the_serving_and_network_pages_send_their_uploads(live_server: str, browser: Any) -> None:
    """The serving page's rate sweep (its own reader, not IP.wire) and the network page's fabric form send the
    upload slots too: a config.json for the model, a system YAML for the system."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", "document.querySelector('select[name=model]').options.length"
                     " > 1", errors)
    page.set_input_files("input[name=model-file]", {"name": "config.json", "mimeType": "application/json",
                                                    "buffer": CONFIG.encode()})
    page.fill("input[name=rate]", "2")
    page.fill("input[name=requests]", "200")
    with page.expect_request(lambda r: r.url.endswith("/api/serve") and r.method == "POST") as request:
        page.click("#run-serve")
    assert json.loads(request.value.post_data or "{}")["model"] == {"text": CONFIG, "filename": "config.json"}
    page.wait_for_function("document.querySelector('#serve-out .status').textContent === 'done'", timeout=60_000)
    assert page.inner_text("#serve-out .cli").startswith("infraplan serve config.json --system ")
    page.close()
    page = open_page(browser, live_server + "/network", "document.querySelector('select[name=system]').options"
                     ".length > 1", errors)
    page.set_input_files("#net-form input[name=system-file]",
                         {"name": "h100-hbm-plus50.yaml", "mimeType": "application/yaml", "buffer": SYSTEM.encode()})
    page.fill("#net-form input[name=gpus]", "64")
    page.click("#run-network")
    page.wait_for_function("document.querySelector('#net-out .status').textContent === 'done'", timeout=60_000)
    assert page.inner_text("#net-out .cli") == "infraplan network h100-hbm-plus50.yaml --gpus 64 --json"
    assert errors == []
    page.close()


def test_a_result_naming_the_upload_names_its_file(client: TestClient, beside: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No shipped note names a user's file today; one that did would name the upload, not the server's folder
    (`runners.run` rewrites the result; before, the folder's path would have reached the answer)."""
    from infraplan.web import runners

    network = runners.RUNNERS["network"]

    def noted(r: Any, progress: Any) -> Any:
        result = network(r, progress)
        return result.model_copy(update={"notes": [*result.notes, f"read {r.system}"]})

    monkeypatch.setitem(runners.RUNNERS, "network", noted)
    # 48 GPUs: a request no other test asks (the module's client caches answers by request)
    web = client.post("/api/network", json={"system": upload(SYSTEM, "h100-hbm-plus50.yaml"), "gpus": 48}).json()
    assert web["notes"][-1] == "read h100-hbm-plus50.yaml"
