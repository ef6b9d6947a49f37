"""MTIA v2 in its real server (hW, session 55): a Grand Teton chassis of 24 accelerators, three a rack.

fleet-mix, plan and facility bought MTIA v2 on the generic 8-accelerator node ("193 x 8" in examples/fleet-mix.yaml),
though Coburn et al. (ISCA 2025) put 24 in a Grand Teton server and Meta's Apr 2024 blog 72 in a rack of three
chassis. catalog/systems/mtia-v2-rack.yaml states that server; being the only catalog system of mtia-v2 it is the
part's reference system (`cluster.host_share.reference_system`, the one device -> server mapping), so a plain
`device: mtia-v2` and a pool naming `system: mtia-v2-rack` are housed alike; the shipped examples name it, and the
custom-silicon validation's server case reads its 24 (and the H100 server's 8) from the system files.
Every test here fails on bca011f (no such system: the generic node of 8; `server_scale` absent).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.facility_loader import load_cooling
from infraplan.cluster.generic import generic_node
from infraplan.cluster.host_share import reference_system
from infraplan.cluster.power import it_load
from infraplan.planning.device_money import device_layout

ROOT = Path(__file__).resolve().parents[2]


def test_the_rack_file_states_the_published_server() -> None:
    rack = load_system("mtia-v2-rack")
    node = rack.node
    assert (rack.accelerator, rack.total_accelerators) == ("mtia-v2", 72)  # blog: 3 chassis x 12 boards x 2
    assert (node.accelerators_per_node, node.cpus_per_node, node.nics_per_node) == (24, 2, 4)  # ISCA'25
    assert node.nic_bandwidth_bytes_per_s == 200e9 / 8  # 2 x 200 GbE per CPU
    acc = load_accelerator("mtia-v2")  # one host figure and one NIC share: the part's file and the server agree
    assert node.host_power_w == pytest.approx(acc.host_power_w * 24)
    assert node.nics_per_node * node.nic_bandwidth_bytes_per_s / 24 == pytest.approx(
        acc.scale_out_bandwidth_bytes_per_s, rel=1e-9)
    assert "ASSUMPTION" in node.server_rack_units_source


def test_mtia_v2s_default_server_is_the_grand_teton_chassis() -> None:
    ref = reference_system("mtia-v2")
    assert ref is not None and ref.name == "mtia-v2-rack"
    node, kind, _ = generic_node(load_accelerator("mtia-v2"))
    assert node.accelerators_per_node == 24 and node.nic_bandwidth_bytes_per_s == 200e9 / 8  # not rescaled
    assert kind == "ethernet"


def test_1536_mtia_v2_fill_22_racks_of_72() -> None:
    """The same count named as the system or as the part: 64 servers of 24, three a rack (space, not power)."""
    air = load_cooling("air")
    plain = it_load(device_layout("mtia-v2", 1536), 1536, air, "air")
    named = it_load(device_layout("mtia-v2-rack", 1536), 1536, air, "air")
    for load in (plain, named):
        assert (load.servers, load.servers_per_rack, load.racks) == (64, 3, 22)
        assert load.rack_fit is not None and load.rack_fit.limited_by == "space"
    assert plain.it_w == pytest.approx(named.it_w)


def test_the_shipped_examples_name_the_server() -> None:
    for example in ("fleet-mix.yaml", "mtia-vs-gpu.yaml"):
        pools = yaml.safe_load((ROOT / "examples" / example).read_text())["pools"]
        mtia = [p for p in pools if p["device"] == "mtia-v2"]
        assert mtia and all(p.get("system") == "mtia-v2-rack" for p in mtia), example


def test_fleet_mix_buys_mtia_v2_in_servers_of_24(capsys: pytest.CaptureFixture[str]) -> None:
    answer = cli_json(capsys, ["fleet-mix", str(ROOT / "examples" / "fleet-mix.yaml")])
    pool = next(p for p in answer["pools"] if p["pool"] == "mtia-v2")
    assert pool["devices_per_server"] == 24
    assert pool["devices_bought"] == 24 * pool["servers"] >= pool["used"] > 0
    assert "mtia-v2: no catalog system of it" not in answer["figures_note"]  # the generic node's note is gone


def test_the_server_case_reads_its_counts_from_the_system_files() -> None:
    from infraplan.validation.silicon import load_silicon_cases, server_scale  # absent on bca011f

    case = next(c for c in load_silicon_cases()["cases"] if c["id"] == "mtia-v2-vs-gpu-server-throughput")
    assert all(isinstance(s, str) for s in case["compare"]["per_server"])  # system names, not constants
    assert server_scale(case["compare"]) == 24 / 8
    with pytest.raises(ValueError, match="holds h100-sxm, not the numerator mtia-v2"):
        server_scale({**case["compare"], "per_server": ["dgx-h100-superpod", "dgx-h100-superpod"]})
