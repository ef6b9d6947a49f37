"""IB SHARP on an InfiniBand tier priced per port (hL, session 64; hH64's walk): the GB200 NVL72 SuperPOD's 800G
scale-out (Quantum-X800, SHARPv4: NVIDIA newsroom 2024-03-18) was refused `--sharp` ("rack tier: no catalog switch
model") because no catalogued switch has its radix; it now does the SHARP of its port speed's Quantum generation
(catalog/network_prices/switches.yaml `infiniband_generations`). Price and power stay the per-port estimate; a tier's
own uncatalogued switch and an Ethernet tier are still refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog import load_system
from infraplan.catalog.network_price_loader import load_switch_catalog
from infraplan.cli import main
from infraplan.network.sharp import sharp_switches
from infraplan.network.topology import build_topology


def test_the_switch_catalog_names_each_infiniband_generations_sharp():
    catalog = load_switch_catalog()
    xdr = catalog.infiniband_generation(800e9 / 8)
    assert xdr is not None and (xdr.generation, xdr.in_network_reduction) == ("Quantum-X800 (XDR)", "sharp-v4")
    assert catalog.infiniband_generation(400e9 / 8).in_network_reduction == "sharp-v3"  # type: ignore[union-attr]
    assert catalog.infiniband_generation(100e9 / 8) is None  # EDR: not catalogued


@pytest.mark.parametrize(("system", "gpus"), [("gb200-nvl72-superpod", 576), ("dgx-b300", 576)])
def test_an_800g_infiniband_fabric_of_an_uncatalogued_radix_does_sharp(system: str, gpus: int):
    assert sharp_switches(build_topology(load_system(system), gpus)) is None


def test_sharp_prices_on_the_gb200_superpod(capsys: pytest.CaptureFixture[str]):
    code = main(["collective", "all-reduce", "--system", "gb200-nvl72-superpod", "--gpus", "576", "--bytes", "1GiB",
                 "--sharp", "--algorithm", "sharp", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert d["algorithm"] == "sharp" and 0 < d["time_s"] < 1


def test_the_generation_does_not_change_the_bill(capsys: pytest.CaptureFixture[str]):
    """The generation gives SHARP only: the rack tier is priced per port as before (500 USD and 14 W per 400G port
    equivalent, switches.yaml `per_port`)."""
    assert main(["network", "gb200-nvl72-superpod", "--json"]) == 0
    tiers = json.loads(capsys.readouterr()[0])["tiers"]
    assert tiers[0]["switch_model"] == "per-port estimate"


OWN_SWITCH = """
display_name: the GB200 SuperPOD with its rack tier's own switch (test fixture)
source: a user's what-if (test fixture)
extends: gb200-nvl72-superpod
network:
  tiers:
    - {name: rack, group_size: 72, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 72,
       port_bandwidth_bytes_per_s: 800Gbps, switch_model: my-ib-switch, switch_price_usd: 40000,
       switch_power_w: 1500, switch_source: a user's quote}
    - {name: superpod, group_size: 576, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 800Gbps}
"""


def test_a_tiers_own_uncatalogued_switch_is_not_assumed_to_do_sharp(tmp_path: Path):
    path = tmp_path / "own.yaml"
    path.write_text(OWN_SWITCH, encoding="utf-8")
    reason = sharp_switches(build_topology(load_system(str(path)), 576))
    assert reason is not None and "rack tier: no catalog switch model" in reason


def test_ethernet_is_still_refused():
    reason = sharp_switches(build_topology(load_system("meta-genai-roce-24k"), 1024))
    assert reason is not None and "minipack2 does no in-network reduction" in reason
