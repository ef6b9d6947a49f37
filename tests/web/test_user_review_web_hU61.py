"""The web's recsys `latency_slo` refuses a bare millisecond figure as the CLI's --latency-slo does, and takes a JSON
number of seconds (before: "must be a valid string"); `search` takes one GPU count as a bare number (`"gpus": 16384`,
as the CLI's `--gpus 16384` reads), and a CLI text ('16384', '512:8192:x2') is refused with the JSON form it wants,
not pydantic's "must be a valid list"; a field the body lacks names the web's field for a CLI option spelled with
underscores (`checkpoint_interval` -> `checkpoint_interval_s`) or the closest field (hU61)."""

from __future__ import annotations

from fastapi.testclient import TestClient

RECSYS = {"model": "dlrm-high", "accelerator": "mtia-v2"}
SEARCH = {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 4096, "global_batch": 256, "dtype": "bf16",
          "top": 1}


def test_a_bare_millisecond_ranking_slo_is_refused(client: TestClient) -> None:
    r = client.post("/api/recsys", json={**RECSYS, "latency_slo": "20"})
    assert r.status_code == 422 and "did you mean 20ms?" in r.json()["detail"]
    ok = client.post("/api/recsys", json={**RECSYS, "latency_slo": "20ms"})
    assert ok.status_code == 200 and ok.json()["latency_slo_s"] == 0.02
    assert client.post("/api/recsys", json={**RECSYS, "latency_slo": 20}).status_code == 422


def test_a_ranking_slo_as_a_json_number_is_seconds_and_copies_to_the_cli(client: TestClient) -> None:
    number = client.post("/api/recsys", json={**RECSYS, "latency_slo": 0.02})
    text = client.post("/api/recsys", json={**RECSYS, "latency_slo": "20ms"})
    assert number.status_code == 200 and number.json() == text.json()
    line = client.post("/api/recsys/cli", json={**RECSYS, "latency_slo": 0.02}).json()["command"]
    assert "--latency-slo 0.02" in line
    seconds = client.post("/api/recsys/cli", json={**RECSYS, "latency_slo": "2s"}).json()["command"]
    assert "--latency-slo 2.0s" in seconds  # above the ceiling: written with its unit, which the CLI takes


def test_a_field_named_as_the_cli_spells_it_names_the_web_field(client: TestClient) -> None:
    body = {"system": "h100-sxm", "gpus": 1024}
    r = client.post("/api/reliability", json={**body, "checkpoint_interval": "30min"})
    assert r.status_code == 422
    assert "the CLI's --checkpoint-interval is the field checkpoint_interval_s here" in r.json()["detail"]
    typo = client.post("/api/reliability", json={**body, "checkpoint_intervall_s": "30min"})
    assert typo.status_code == 422 and "did you mean checkpoint_interval_s?" in typo.json()["detail"]
    assert client.post("/api/reliability", json={**body, "checkpoint_interval_s": "30min"}).status_code == 200


def test_one_gpu_count_as_a_number_is_the_list_of_it(client: TestClient) -> None:
    one = client.post("/api/search", json={**SEARCH, "gpus": 64})
    listed = client.post("/api/search", json={**SEARCH, "gpus": [64]})
    assert one.status_code == listed.status_code == 200
    assert one.json()["best"] == listed.json()["best"] and one.json()["gpus"] == 64
    assert client.post("/api/search/cli", json={**SEARCH, "gpus": 64}).json() == \
        client.post("/api/search/cli", json={**SEARCH, "gpus": [64]}).json()


def test_a_cli_text_of_counts_is_refused_with_the_json_form(client: TestClient) -> None:
    for text in ("64", "512:8192:x2", "64,128"):
        r = client.post("/api/search", json={**SEARCH, "gpus": text})
        assert r.status_code == 422, text
        assert "JSON list of GPU counts, e.g. [16384]" in r.json()["detail"], r.json()
    assert client.post("/api/search", json={**SEARCH, "gpus": True}).status_code == 422
