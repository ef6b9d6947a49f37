"""Hostile uploads through the web's file fields (hL, session 52; `web.uploads`): each is one line (400 / 422) and
nothing is left in the server's temporary folder. The duplicate-operation stack failed before (200: priced its
eager passes three times; `catalog.stacks` now refuses it); the others pin what the review found already held (the
CLI's loaders' lines reached through an upload: an alias bomb, a JSON list, a NUL, nesting past the recursion limit,
a 5,000-digit integer, YAML in a .json file, a text over the upload limit, a lone surrogate)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ALIASES = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh", strict=True)) + (
    "i: [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n")


@pytest.fixture()
def server_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "server-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(("field", "text", "name", "status", "said"), [
    ("stack", "extends: torchtitan\nunfused_elementwise: [rmsnorm, rmsnorm, rmsnorm]\n", "s.yaml", 400,
     "invalid stack 's.yaml': unfused_elementwise: lists rmsnorm more than once"),
    ("stack", ALIASES, "b.yaml", 400, "malformed file b.yaml: its aliases expand to over 1,000,000 values"),
    ("model", "[1, 2]", "m.json", 400, "model file m.json must hold a mapping, not a list"),
    ("system", "name: x\x00\n", "s.yaml", 400, "malformed file s.yaml: unacceptable character #x0000"),
    ("stack", "a: " + "[" * 5000 + "]" * 5000 + "\n", "s.yaml", 400, "malformed file s.yaml: maximum recursion"),
    ("stack", "extends: torchtitan\ngrad_accumulation_bytes: " + "9" * 5000 + "\n", "s.yaml", 400,
     "malformed file s.yaml: Exceeds the limit (4300 digits)"),
    ("model", "a: 1\n", "m.json", 400, "malformed file m.json: Expecting value"),
    ("system", "x: " + "a" * 60_001, "s.yaml", 422, "invalid system.text: String should have at most 60000"),
])
def test_a_hostile_upload_is_one_line_and_leaves_nothing(client: TestClient, server_tmp: Path, field: str, text: str,
                                                         name: str, status: int, said: str) -> None:
    body = {"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "seq_len": 4096, "global_batch": 8,
            field: {"text": text, "filename": name}}
    answer = client.post("/api/train", json=body)
    detail = answer.json()["detail"]
    assert answer.status_code == status and said in detail and "\n" not in detail, answer.text[:300]
    assert "server-tmp" not in answer.text


def test_a_lone_surrogate_is_one_schema_line(client: TestClient, server_tmp: Path) -> None:
    body = ('{"model": "llama3-8b", "system": "h100-sxm", "gpus": 8, "seq_len": 4096, "global_batch": 8, '
            '"stack": {"text": "extends: torchtitan\\nname: \\ud800\\n", "filename": "s.yaml"}}')
    answer = client.post("/api/train", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and json.loads(answer.text)["detail"].startswith("invalid stack.text")
