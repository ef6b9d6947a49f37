"""The catalog's ASSUMPTIONs against published figures, session 75 (hC75).

- GB200 NVL72 compute-tray host: a tray draws ~6.5-6.6 kW (introl citing Supermicro 2025; Morgan Stanley via
  Epium, the sources the files already cite for the 9 switch trays), so its host is the tray less its 4 GPUs:
  6.6 - 4 x 1.2 = 1.8 kW (the value kept, now sourced; 18 trays + switch trays = 122.4 kW, in the GB200 rack's quoted
  ~120-132 kW). GB300's tray holds the same 2 Grace CPUs and NICs: the one "GB200 / GB300" tray figure would leave
  1.0 kW at 1,400 W boards, which the quoted ~120-142 kW GB300 rack cannot tell from 1.8 kW (122.4 vs 136.8 kW), so
  GB300 keeps GB200's 1.8 kW host, still said as ASSUMED (the lead, session 75).
- B300: a GPU at ~$45K (Hugging Face hardware page) priced into an 8-GPU server by B200's and H200's rule (the
  H100 server plus the GPU price difference over H100's $27.5K); unpriced before.
- `facility` said no ASSUMED host share of a catalog system (mi300x-cluster's 3.5 kW a server, mtia-400-rack's
  tray), where `serve`, `recsys` and a plan pool do: it now says the same line, once.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.hardware_costs import load_hardware_cost
from infraplan.cluster import Cluster
from infraplan.cluster.cost import CostOverrides
from infraplan.cluster.host_share import assumed_share_w
from infraplan.facility.facility import size_facility

TRAY_W = 6600.0  # the top of the ~6.5-6.6 kW a GB200 / GB300 compute tray
SWITCH_TRAYS_W = 3600.0  # 9 NVSwitch trays a rack (the files' scale_up_switch_power_w)


@pytest.mark.parametrize(("system", "board_w"), [("gb200-nvl72", 1200.0), ("gb200-nvl72-superpod", 1200.0)])
def test_an_nvl72_tray_host_is_the_published_tray_less_its_gpus(system: str, board_w: float) -> None:
    node = Cluster.resolve(system).system.node
    assert node.host_power_w == pytest.approx(TRAY_W - 4 * board_w)
    assert assumed_share_w(node) == (0.0, [])  # sourced: no answer calls it ASSUMED any more


def test_an_nvl72_rack_draws_the_published_tray_power() -> None:
    """18 trays of 6.6 kW and 3.6 kW of switch trays: 122.4 kW a GB200 rack, inside the ~120-132 kW quoted for it."""
    report = size_facility(accelerator="gb200", count=72)
    assert report.rack_power_w == pytest.approx(18 * TRAY_W + SWITCH_TRAYS_W)
    assert report.it_power_w >= report.rack_power_w  # the rack is inside the IT load, not the whole of it
    assert not any("is ASSUMED" in line for line in report.figures_notes)


@pytest.mark.parametrize("system", ["gb300-nvl72", "gb300-nvl72-superpod"])
def test_gb300_keeps_gb200s_tray_host_said_as_assumed(system: str) -> None:
    """Same 2 Grace CPUs and NICs as GB200's tray: 1,800 W (450 W a GPU), labelled ASSUMED in every answer."""
    node = Cluster.resolve(system).system.node
    gb200 = Cluster.resolve("gb200-nvl72").system.node
    assert node.host_power_w == pytest.approx(gb200.host_power_w)
    share, lines = assumed_share_w(node)
    assert share == pytest.approx(450.0) and len(lines) == 1
    report = size_facility(accelerator="gb300", count=72)
    assert report.rack_power_w == pytest.approx(18 * (4 * 1400.0 + 1800.0) + SWITCH_TRAYS_W)
    assert sum("is ASSUMED" in line for line in report.figures_notes) == 1


def test_b300_is_priced_by_the_h100_server_rule() -> None:
    h100 = load_hardware_cost("h100-sxm").server_usd_per_accelerator
    b200 = load_hardware_cost("b200").server_usd_per_accelerator
    b300 = load_hardware_cost("b300").server_usd_per_accelerator
    assert h100 is not None and b200 is not None and b300 is not None
    assert b300 == pytest.approx(h100 + (45_000.0 - 27_500.0))  # the HF $45K B300 less H100's $27.5K
    assert b200 == pytest.approx(h100 + (40_000.0 - 27_500.0))  # the same rule, B200's $40K
    report = size_facility(accelerator="b300", count=8)
    assert report.cost_reason is None and report.capex_total_usd is not None and report.capex_total_usd > 8 * b300


@pytest.mark.parametrize(("part", "count", "assumed"), [("mi300x", 64, "437.5 of the 437.5 W per GPU"),
                                                        ("mtia-400", 72, "350 of the 350 W per accelerator"),
                                                        ("tpu-v6e", 256, "246 of the 246 W per TPU")])
def test_facility_says_an_assumed_host_share_once(part: str, count: int, assumed: str) -> None:
    lines = [line for line in size_facility(accelerator=part, count=count).figures_notes if "is ASSUMED (" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{part}: {assumed} of host and scale-up switches is ASSUMED")


def test_facility_says_no_assumed_host_share_of_a_sourced_server() -> None:
    """DGX H100's host is its 10.2 kW datasheet maximum less its GPUs: nothing to say."""
    assert not any("is ASSUMED" in line for line in size_facility(accelerator="h100-sxm", count=64).figures_notes)


def test_an_assumed_catalog_price_is_said_where_it_prices() -> None:
    """h800's $42K is an H100 server's, labelled ASSUMPTION in hardware_costs.yaml: facility said nothing (price_note
    None); now the price note names it and what replaces it, and a given price or a sourced one says nothing."""
    note = size_facility(accelerator="h800", count=8).price_note
    assert note is not None and note.startswith("h800's server price, $42,000 per accelerator, is ASSUMED")
    assert "priced and built as an H100 SXM server" in note and "--server-price" in note
    assert size_facility(accelerator="h100-sxm", count=8).price_note is None
    given = size_facility(accelerator="h800", count=8, overrides=CostOverrides(server_usd_per_accelerator=40_000.0))
    assert given.price_note is None and given.capex_usd is not None


def test_an_assumed_cooling_is_said() -> None:
    """cooling.yaml's immersion figures are labelled ASSUMPTIONS (no published immersion figures): facility said none
    of it; now one line with the figures it prices, and none on a sourced cooling."""
    lines = [n for n in size_facility(accelerator="h100-sxm", count=64, cooling="immersion").figures_notes
             if n.startswith("cooling 'immersion'")]
    assert len(lines) == 1 and "PUE 1.05" in lines[0] and "200 kW a rack" in lines[0] and "is ASSUMED" not in lines[0]
    assert "are ASSUMED (no published immersion figures found)" in lines[0]
    assert not any(n.startswith("cooling") for n in size_facility(accelerator="h100-sxm", count=64,
                                                                  cooling="liquid").figures_notes)  # hC76: network
