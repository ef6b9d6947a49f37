"""MTIA v1 in its real host (hY, session 55): a Yosemite V3 system of 12 accelerators and one ~780 W host.

fleet-mix, plan, facility and campus bought MTIA v1 on the generic 8-accelerator node (one NIC per accelerator, no
rack height: 57 servers a 30 kW rack by power), though the sources (Firoozshahian et al. ISCA 2023 and SemiAnalysis
May 2023, as shared/reference summarises them) put 12 accelerators behind one Yosemite V3 host at ~780 W a system.
catalog/systems/mtia-v1-rack.yaml states that system (its NIC, 2U height and 21 a rack are labelled ASSUMPTIONS);
as mtia-v1's only catalog system it is the part's reference system (`cluster.host_share.reference_system`), so a
plain `device: mtia-v1` and a pool naming `system: mtia-v1-rack` are housed alike. The host figure is one: the
part's 40 W share x 12 = the node's 480 W = 780 W - 12 x 25 W, so recsys's platform QPS/W does not move.
Every test here fails on bca011f / d8e0956 (no such system: the generic node of 8).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.facility_loader import load_cooling
from infraplan.cluster.generic import generic_node
from infraplan.cluster.host_share import host_share, node_host_share_w, reference_system
from infraplan.cluster.power import it_load
from infraplan.planning.device_money import device_layout
from infraplan.recsys.estimate import estimate_recsys

ROOT = Path(__file__).resolve().parents[2]


def test_the_rack_file_states_the_published_system() -> None:
    rack = load_system("mtia-v1-rack")
    node, acc = rack.node, load_accelerator("mtia-v1")
    assert rack.accelerator == "mtia-v1" and node.accelerators_per_node == 12  # 12 a Yosemite V3 host
    assert node.scale_up_domain == 12 and node.scale_up_switch_power_w == 0  # the host's PCIe, no link
    assert node.host_power_w + 12 * acc.tdp_w == pytest.approx(780.0)  # ~780 W a system (SemiAnalysis)
    assert node.host_power_w == pytest.approx(acc.host_power_w * 12)  # one host figure: the part's 40 W x 12
    assert node.nics_per_node * node.nic_bandwidth_bytes_per_s / 12 == pytest.approx(  # one NIC share
        acc.scale_out_bandwidth_bytes_per_s, rel=1e-9)
    assert "ASSUMPTION" in node.server_rack_units_source and "ASSUMPTION" in rack.source
    assert rack.total_accelerators == 21 * 12 and 42 // node.server_rack_units == 21


def test_mtia_v1s_default_server_is_the_yosemite_v3_system() -> None:
    ref = reference_system("mtia-v1")
    assert ref is not None and ref.name == "mtia-v1-rack"
    node, kind, _ = generic_node(load_accelerator("mtia-v1"))
    assert (node.accelerators_per_node, node.nics_per_node) == (12, 1)
    assert node.nic_bandwidth_bytes_per_s == 100e9 / 8  # not rescaled: the part's share is the file's
    assert node.host_power_w == pytest.approx(480.0) and kind == "ethernet"


def test_1200_mtia_v1_fill_100_systems_in_5_racks() -> None:
    """The same count named as the system or as the part: 100 systems of 12, 21 a rack (space, not power: 21 x
    780 W = 16.4 kW under air's 30 kW; the generic node put 57 servers of 8 in a rack by power)."""
    air = load_cooling("air")
    plain = it_load(device_layout("mtia-v1", 1200), 1200, air, "air")
    named = it_load(device_layout("mtia-v1-rack", 1200), 1200, air, "air")
    for load in (plain, named):
        assert (load.servers, load.servers_per_rack, load.racks) == (100, 21, 5)
        assert load.rack_fit is not None and load.rack_fit.limited_by == "space"
    assert plain.it_w == pytest.approx(named.it_w)


def test_recsys_host_share_is_the_systems_node() -> None:
    """recsys adds the part's own host share (first in the precedence): the rack's node over its 12, so the
    custom-silicon section's platform perf/W cases do not move."""
    rack = load_system("mtia-v1-rack")
    assert host_share("mtia-v1").watts == pytest.approx(node_host_share_w(rack.node)) == pytest.approx(40.0)
    e = estimate_recsys("dlrm-low", "mtia-v1", latency_slo_s=0.020)
    assert e.platform_power_w == pytest.approx(25.0 + node_host_share_w(rack.node))


def test_the_shipped_example_names_the_server() -> None:
    pools = yaml.safe_load((ROOT / "examples" / "meta-2024.yaml").read_text())["pools"]
    mtia = [p for p in pools if p["device"] == "mtia-v1"]
    assert mtia and all(p.get("system") == "mtia-v1-rack" for p in mtia)


def test_fleet_mix_buys_mtia_v1_in_systems_of_12(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "examples" / "fleet-mix.yaml").read_text()
    v1 = text.replace(
        "{name: mtia-v2, device: mtia-v2, system: mtia-v2-rack, available: 3000, price_usd_per_device: 9000}",
        "{name: mtia-v1, device: mtia-v1, available: 6000, price_usd_per_device: 5000}")
    assert v1 != text
    (tmp_path / "fm.yaml").write_text(v1)
    answer = cli_json(capsys, ["fleet-mix", str(tmp_path / "fm.yaml")])
    pool = next(p for p in answer["pools"] if p["pool"] == "mtia-v1")
    assert pool["devices_per_server"] == 12  # 8, the generic node, before
    assert pool["devices_bought"] == 12 * pool["servers"] >= pool["used"] > 0
    assert "mtia-v1: no catalog system of it" not in answer["figures_note"]


def test_facility_of_one_system_is_one_host(capsys: pytest.CaptureFixture[str]) -> None:
    """`facility --accelerator mtia-v1 --count 12` built 2 generic servers of 8 (16 accelerators, 640 W of host)."""
    answer = cli_json(capsys, ["facility", "--accelerator", "mtia-v1", "--count", "12"])
    assert (answer["servers"], answer["accelerators"]) == (1, 12) and answer["count_note"] is None
    assert answer["power_breakdown_w"]["hosts"] == pytest.approx(480.0)
    assert answer["power_breakdown_w"]["accelerators"] == pytest.approx(300.0)
    assert not any("no catalog system" in n for n in answer["figures_notes"])
