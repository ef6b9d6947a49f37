"""hC51 (session 47): a fleet-mix pool's `system:` (plan's key, refused by fleet-mix before) through the web: the
uploaded spec answers as `infraplan fleet-mix FILE` does, and a device that is not the system's accelerator is the
CLI's one line (400)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from web_jobs import cli_json, finished

from infraplan.cli.main import main as cli_main

ROOT = Path(__file__).resolve().parents[2]


def _fleet(device: str) -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text(encoding="utf-8"))
    spec["services"] = [s for s in spec["services"] if s["kind"] == "recsys"][:2]
    spec["pools"] = [{"name": "h100", "device": device, "system": "dgx-h100-superpod", "available": 2000,
                      "price_usd_per_device": 42000}, {"name": "xeon", "device": "xeon-8480"}]
    return dict(spec)


def test_a_pool_system_upload_equals_the_cli(client: TestClient, capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    spec = _fleet("h100-sxm")
    web = finished(client, client.post("/api/fleet-mix", json={"fleet": {"spec": spec}}))
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert web == cli_json(f"infraplan fleet-mix {tmp_path / 'mine.yaml'} --json", capsys)
    assert web["pools"][0]["device"] == "dgx-h100-superpod"


def test_a_pool_system_of_another_accelerator_is_the_clis_line(client: TestClient, capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    spec = _fleet("h200")
    web = client.post("/api/fleet-mix", json={"fleet": {"spec": spec}})
    assert web.status_code == 400
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["fleet-mix", str(tmp_path / "bad.yaml"), "--json"]) == 2
    line = "device h200 but system dgx-h100-superpod is built of h100-sxm; name one accelerator"
    assert line in web.text and line in capsys.readouterr().err
