"""The web's new campus `reserve` and fleet uploads at their edges (hR, session 53): hand mutants of web/runners.py
(`or r.reserve` dropped) and web/uploads.py (`cooling` dropped from a fleet site's file keys) passed every test
before these; nothing is left on the server (the folder each upload is written to is removed)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient


@pytest.fixture()
def server_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    assert list(tmp_path.iterdir()) == []


def test_a_fleet_with_a_reserve_is_one_line(client: TestClient) -> None:
    answer = client.post("/api/campus", json={"fleet": "meta-2024", "reserve": 0.2})
    assert answer.status_code == 400
    assert answer.json()["detail"] == "--fleet replaces --power, --accelerator and --reserve; give one or the other"


@pytest.mark.parametrize("key", ["system", "accelerator", "location", "cooling"])
def test_a_fleet_site_naming_a_server_file_is_refused(client: TestClient, server_tmp: Path, key: str) -> None:
    site = {"system": "x.yaml"} if key == "system" else {"accelerator": "h100-sxm", "count": 8, key: "../x.yaml"}
    if key == "accelerator":
        site["accelerator"] = "/etc/x.yaml"
    text = "name: f\nsites:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in {"name": "a", **site}.items()) + "\n"
    answer = client.post("/api/campus", json={"fleet": {"text": text, "filename": "f.yaml"}})
    assert answer.status_code == 400, answer.text
    assert f"sites[0].{key}" in answer.json()["detail"] and "must be a preset name" in answer.json()["detail"]
