"""A web body that gives one name twice is refused as the CLI's JSON files are (hR80, session 50 review of hR70's
rule, `catalog.yaml_text.safe_load_json`): Starlette's `Request.json` is `json.loads`, which keeps the last name, so
{"tp": 1, "tp": 8} ran a TP-8 train before `web.app.UniqueJsonRoute` (the first test returned 200 with `--tp 8`)."""

from __future__ import annotations

from fastapi.testclient import TestClient

HEAD = '{"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "seq_len": 4096, "global_batch": 64'
JSON = {"content-type": "application/json"}


def test_a_repeated_top_level_name_is_one_line_422(client: TestClient) -> None:
    response = client.post("/api/train/cli", content=HEAD + ', "tp": 1, "tp": 8}', headers=JSON)
    assert response.status_code == 422
    assert response.json() == {"detail": "the body is not valid JSON: duplicate key 'tp' in one JSON object"}


def test_a_repeated_name_inside_an_uploaded_spec_is_refused(client: TestClient) -> None:
    body = '{"fleet": {"spec": {"name": "a", "services": [], "name": "b"}}}'
    response = client.post("/api/fleet-mix", content=body, headers=JSON)
    assert response.status_code == 422
    assert "duplicate key 'name'" in response.json()["detail"]


def test_the_same_names_once_each_still_run(client: TestClient) -> None:
    response = client.post("/api/train/cli", content=HEAD + ', "tp": 8}', headers=JSON)
    assert response.status_code == 200
    assert " --tp 8 " in response.json()["command"]
    # the body decoded as `json.loads` decodes bytes (RFC 8259 Sec. 8.1 readers; Starlette passed bytes): UTF-16 too
    utf16 = client.post("/api/train/cli", content=(HEAD + ', "tp": 8}').encode("utf-16"), headers=JSON)
    assert utf16.status_code == 200 and utf16.json() == response.json()


def test_malformed_json_keeps_its_line(client: TestClient) -> None:
    response = client.post("/api/train/cli", content=HEAD + ', "tp": }', headers=JSON)
    assert response.status_code == 422
    assert response.json() == {"detail": "the body is not valid JSON"}


def test_every_post_route_reads_its_body_so() -> None:
    from infraplan.web.app import UniqueJsonRoute, create_app

    posts = [r for r in create_app().routes if "POST" in getattr(r, "methods", set())]
    assert len(posts) >= 28  # 14 commands, each with its /cli twin
    assert [r.path for r in posts if not isinstance(r, UniqueJsonRoute)] == []


def test_a_body_that_is_not_text_is_one_line_422_as_malformed_json(client: TestClient) -> None:
    """Bytes that are not UTF-8 (RFC 8259 Sec. 8.1) are malformed JSON as a bad token is: 422 with the same head, not
    FastAPI's generic 400 "There was an error parsing the body" (hR, session 51: it was, before)."""
    response = client.post("/api/train/cli", content=HEAD.encode() + b', "tp": "\xff"}', headers=JSON)
    assert response.status_code == 422
    assert response.json() == {"detail": "the body is not valid JSON: not utf-8 text"}
