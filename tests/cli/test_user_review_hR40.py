"""hR40 (session 40): a demanding user's review of the infrastructure commands (validation/notes/
product_review_tried.md, section "hR40 (session 40): infrastructure commands review").

Three answers were wrong or unexplained:

* `network dgx-b300` built 18 leaves + 16 spines of radix 64 for the 576-GPU scalable unit, where NVIDIA's DGX
  SuperPOD B300 reference architecture has "B300 XDR SU = 72 nodes / 576 GPUs with 8 leaf + 4 spine"
  (shared/reference/network.md, P): 144-port XDR switches, 8 rail leaves over all 72 nodes.
* `network` gave switch counts above the folded-Clos port arithmetic without a word: the InfiniBand 24K cluster's 512
  cores against a k-ary fat tree's N/k = 384 (network.md), 11 aggregation switches on the RoCE 24K cluster where 7
  hold its 3,520 uplinks; and a what-if tier configured at 7:1 built at 6.4:1. Each now has its note.
* `facility --accelerator h100-sxm --count 7` housed, powered and priced 8 (one whole server) without a word: its
  `count_note` says so.
* The web's `POST /api/collective` refused `bytes`, the CLI's option name (`--bytes`), with "Extra inputs are not
  permitted": the one request field named otherwise (`size`) now takes it too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json

from infraplan.web.app import create_app


def test_dgx_b300_is_nvidias_scalable_unit_of_8_leaves_and_4_spines(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, "network dgx-b300")
    assert [(t["name"], t["switches"], t["radix"]) for t in data["tiers"]] == [("leaf", 8, 144), ("spine", 4, 144)]
    assert data["rail_optimized"] and data["switches_total"] == 12 and data["links_total"] == 2 * 576
    assert data["bisection_bytes_per_s"] == pytest.approx(576 / 2 * 800e9 / 8)  # non-blocking
    # facility prices the same fabric
    facility = cli_json(capsys, "facility --system dgx-b300")
    assert facility["network"]["switches"] == 12
    assert facility["power_breakdown_w"]["network"] == pytest.approx(data["power_w"])


def test_network_says_why_a_tier_has_more_switches_than_its_links_need(capsys: pytest.CaptureFixture[str]) -> None:
    ib = cli_json(capsys, "network meta-genai-ib-24k")
    core = ib["tiers"][-1]
    assert (core["name"], core["switches"], core["down_ports_per_switch"]) == ("core", 512, 48)
    (note,) = [n for n in ib["notes"] if n.startswith("core:")]
    assert "384 would hold the 24,576 links" in note and "balanced wiring" in note and "48 down of their 64" in note
    roce = cli_json(capsys, "network meta-genai-roce-24k")
    (cluster,) = [n for n in roce["notes"] if n.startswith("cluster:")]
    assert "11 switches" in cluster and "7 would hold the 3,520 links" in cluster
    # the DGX H100 SuperPOD reproduces the reference's counts exactly: nothing to explain
    assert cli_json(capsys, "network dgx-h100-superpod")["notes"] == []


def test_network_says_when_whole_up_ports_change_the_configured_oversubscription(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tiers = [{"name": "leaf", "group_size": 256, "oversubscription": 1, "switch_radix": 64},
             {"name": "spine", "group_size": 2048, "oversubscription": 7, "switch_radix": 64},
             {"name": "core", "group_size": 24576, "oversubscription": 1, "switch_radix": 64}]
    spec = {"extends": "meta-genai-ib-24k", "name": "ib-1to7", "display_name": "1:7 above the 2,048-GPU domain",
            "source": "what-if", "network": {"kind": "infiniband", "rail_optimized": True, "tiers": tiers}}
    path = tmp_path / "ib-1to7.yaml"
    path.write_text(yaml.safe_dump(spec))
    data = cli_json(capsys, ["network", str(path)])
    spine = data["tiers"][1]
    assert (spine["configured_oversubscription"], spine["up_ports_per_switch"]) == (7.0, 5)
    assert "spine: 6.4:1 built where 7:1 is configured: 32 down ports take ceil(32 / 7) = 5 whole up ports" \
        in data["notes"]


def test_web_collective_takes_the_clis_bytes_for_size() -> None:
    client = TestClient(create_app())
    body = {"op": "all-reduce", "system": "meta-genai-roce-24k", "gpus": 1024}
    as_size = client.post("/api/collective", json={**body, "size": "1GiB"})
    as_bytes = client.post("/api/collective", json={**body, "bytes": "1GiB"})
    assert as_size.status_code == as_bytes.status_code == 200
    assert as_bytes.json() == as_size.json()
    line = client.post("/api/collective/cli", json={**body, "bytes": "1GiB"}).json()["command"]
    assert "--bytes 1GiB" in line
    assert client.post("/api/collective", json={**body, "bytes": True}).status_code == 422  # not one byte
    assert client.post("/api/collective", json={**body, "bytes": "1GiB", "size": "2GiB"}).status_code == 422


def test_facility_says_when_a_count_is_housed_in_whole_servers(capsys: pytest.CaptureFixture[str]) -> None:
    seven = cli_json(capsys, "facility --accelerator h100-sxm --count 7")
    eight = cli_json(capsys, "facility --accelerator h100-sxm --count 8")
    assert seven["accelerators"] == 8 and seven["it_power_w"] == eight["it_power_w"]
    assert seven["count_note"].startswith("--count 7 is not a whole number of 8-accelerator servers: "
                                          "1 server houses 8 ")  # hU69: was "1 server(s) house 8"
    assert eight["count_note"] is None
