"""A tier's switch is priced as a catalog model only where the model has the tier's radix (hU54, session 54).

A network architect's own fabric: 24,576 H100, rail-optimised, two tiers of 51.2 Tb/s switches run as 128 x 400G.
The builder counts the tiers' switches at radix 128 (384 leaves, 256 spines); the bill priced each of them as the
catalog's smallest model of the speed with a radix >= 128, the 576-port Arista 7816R3 chassis ($1.2 M, 16 kW,
catalog/network_prices/switches.yaml), so `network` said 11.4 MW and $861 M ($35,050 a GPU) and `facility` charged
the same. A switch of another radix than the one the builder counted is not the switch it built: the tier is now
priced per port (the catalog's `per_port` estimate), unless its file names the switch: `switch_model` alone, a
catalog model cabled at the tier's radix (refused where it has fewer ports, another speed or family), or a switch of
one's own with `switch_price_usd`, `switch_power_w` and `switch_source` (before: refused as extra inputs, so a
user's 51.2 Tb/s switch could be priced only per port). No shipped system moves: every catalog tier has a model of its
exact radix or none (checked on `network` of every system, both fabrics, and `facility` of each: identical)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.network_price_loader import load_switch_catalog
from infraplan.cli import main

USER_RAIL_2_TIER = """
display_name: 24,576 H100 on a rail-optimised 2-tier fabric of 51.2T switches (128 x 400G)
source: a user's what-if (test fixture)
extends: meta-genai-roce-24k
network:
  rail_optimized: true
  tiers:
    - {name: leaf, group_size: 512, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 128,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: spine, group_size: 24576, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 128,
       port_bandwidth_bytes_per_s: 400Gbps}
"""


@pytest.fixture()
def rail_file(tmp_path: Path) -> str:
    path = tmp_path / "th5-rail2.yaml"
    path.write_text(USER_RAIL_2_TIER, encoding="utf-8")
    return str(path)


def test_a_128_port_tier_is_not_priced_as_a_576_port_chassis(capsys, rail_file):
    """Each tier per port: 128 x $500 and 128 x 14 W a switch (plus 2 optics at 12 W, $900 and $100 of fibre a
    link); before, arista-7816r3 at $1.2 M / 16 kW a switch: $861 M, 11.4 MW."""
    d = cli_json(capsys, ["network", rail_file])
    per_port = load_switch_catalog().per_port
    assert [t["switch_model"] for t in d["tiers"]] == ["per-port estimate", "per-port estimate"]
    assert [t["switches"] for t in d["tiers"]] == [384, 256]
    links = 24576
    capex = 640 * 128 * per_port.usd + 2 * (2 * links * 900 + links * 100)
    power = 640 * 128 * per_port.power_w + 2 * (2 * links * 12)
    assert d["capex_usd"] == pytest.approx(capex, rel=1e-9)  # $134.3 M
    assert d["power_w"] == pytest.approx(power, rel=1e-9)  # 2.33 MW
    assert d["capex_usd_per_gpu"] < 10_000  # before: $35,050 a GPU


def test_facility_charges_the_same_network(capsys, rail_file):
    """`facility --system FILE` prices the fabric from the same bill: $134.3 M of network capex, not $861 M."""
    net = cli_json(capsys, ["network", rail_file])
    fac = cli_json(capsys, ["facility", "--system", rail_file])
    assert fac["capex_usd"]["network"] == pytest.approx(net["capex_usd"], rel=1e-12)


def test_catalog_tiers_keep_their_models(capsys):
    """Guard: the shipped fabrics' tiers each have a catalog model of their radix and keep it."""
    expect = {"dgx-h100-superpod": ["nvidia-qm9700"] * 3, "meta-genai-roce-24k": ["minipack2", "arista-7816r3",
                                                                                  "arista-7816r3"],
              "meta-rsc": ["nvidia-qm8700", "nvidia-cs8500"], "gb200-nvl72-superpod": ["per-port estimate"] * 2}
    for system, models in expect.items():
        d = cli_json(capsys, ["network", system])
        assert [t["switch_model"] for t in d["tiers"]] == models, system


OWN_SWITCH = """
display_name: 24,576 H100, 800G NICs, 3 tiers of our own 51.2 Tb/s switch (64 x 800G), 1:7 above 512-GPU pods
source: a user's what-if (test fixture)
extends: meta-genai-roce-24k
node: {{nic_bandwidth_bytes_per_s: 800Gbps}}
network:
  tiers:
    - {{name: rack, group_size: 16, switch_radix: 64, port_bandwidth_bytes_per_s: 800Gbps{own}}}
    - {{name: pod, group_size: 512, oversubscription: 7, switch_radix: 64, port_bandwidth_bytes_per_s: 800Gbps{own}}}
    - {{name: cluster, group_size: 24576, switch_radix: 64, port_bandwidth_bytes_per_s: 800Gbps{own}}}
"""
OWN = ", switch_model: th5-64x800, switch_price_usd: 45000, switch_power_w: 1.3kW, switch_source: a vendor quote"


def _own(tmp_path: Path, own: str = OWN) -> str:
    path = tmp_path / "th5-own.yaml"
    path.write_text(OWN_SWITCH.format(own=own), encoding="utf-8")
    return str(path)


def test_a_switch_of_ones_own_is_priced_end_to_end(capsys, tmp_path):
    """The tiers' own switch, by hand: rack 1,536 x $45,000 + 24,576 DAC at $250 (800G, links.yaml); pod 768
    switches + 49,152 optics at $1,500 / 16 W + 24,576 fibres at $120; cluster 80 + 7,680 optics + 3,840 fibres.
    `facility` charges the same network; before, the fields were refused (extra inputs) and the tiers priced per
    port (a 64 x 800G switch as 128 x 400G: $64,000 and 1,792 W)."""
    path = _own(tmp_path)
    d = cli_json(capsys, ["network", path])
    assert [t["switch_model"] for t in d["tiers"]] == ["th5-64x800"] * 3
    assert [t["switches"] for t in d["tiers"]] == [1536, 768, 80]
    capex = 2384 * 45000 + 24576 * 250 + (49152 * 1500 + 24576 * 120) + (7680 * 1500 + 3840 * 120)
    power = 2384 * 1300 + (49152 + 7680) * 16
    assert d["capex_usd"] == pytest.approx(capex, rel=1e-9)  # $202.1 M
    assert d["power_w"] == pytest.approx(power, rel=1e-9)  # 4.01 MW
    fac = cli_json(capsys, ["facility", "--system", path])
    assert fac["capex_usd"]["network"] == pytest.approx(capex, rel=1e-9)
    assert fac["power_breakdown_w"]["network"] == pytest.approx(power, rel=1e-9)


@pytest.mark.parametrize(("own", "words"), [
    (", switch_model: th5, switch_price_usd: 45000", "missing switch_power_w, switch_source"),
    (", switch_model: th5, switch_price_usd: 45000, switch_power_w: 1.3kW", "missing switch_source"),
    (", switch_model: th5, switch_price_usd: 2e9, switch_power_w: 1.3kW, switch_source: x", "switch_price_usd"),
])
def test_an_incomplete_or_impossible_own_switch_is_one_line(capsys, tmp_path, own, words):
    code = main(["network", _own(tmp_path, own)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err


def test_sharp_is_refused_on_a_switch_of_ones_own(capsys, tmp_path):
    """No in-network reduction is modelled for a user's switch: --sharp says which tier, one line."""
    code = main(["collective", "all-reduce", "--system", _own(tmp_path), "--gpus", "1024", "--bytes", "1GiB",
                 "--sharp"])
    err = capsys.readouterr().err
    assert code == 2 and "rack tier" in err and err.count("\n") == 1


@pytest.mark.parametrize(("own", "words"), [
    (", switch_model: minipack2", "minipack2 (ethernet, 64 x 400G) cannot be an ethernet switch of 64 x 800G ports"),
    (", switch_model: th5", "switch_model 'th5' is not in the switch price catalog"),
])
def test_a_catalog_switch_named_must_be_one_that_fits(capsys, tmp_path, own, words):
    """A tier may name a catalog model (priced as the catalog's); one of another speed, family or fewer ports, or a
    name the catalog lacks without a price, is one line, exit 2."""
    code = main(["network", _own(tmp_path, own)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and words in err, err


def test_a_catalog_switch_named_on_a_smaller_tier_is_priced_as_the_catalog_s(capsys, tmp_path):
    """The rail file's 128-port tiers named as the 576-port chassis: priced as it (the user's choice, ports unused),
    $1.2 M a switch, as the old rule did silently."""
    path = tmp_path / "chassis.yaml"
    path.write_text(USER_RAIL_2_TIER.replace("switch_radix: 128,", "switch_radix: 128, switch_model: arista-7816r3,"),
                    encoding="utf-8")
    d = cli_json(capsys, ["network", str(path)])
    assert [t["switch_model"] for t in d["tiers"]] == ["arista-7816r3"] * 2
    assert d["capex_usd"] == pytest.approx(640 * 1.2e6 + 2 * (2 * 24576 * 900 + 24576 * 100), rel=1e-9)
