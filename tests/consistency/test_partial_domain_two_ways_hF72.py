"""A part-built scale-up domain priced by `network` and `facility` alike (hF72, brief item 3: checked, no change).

`network` prices the scale-out fabric only (no NVLink switch line: the schema prices no scale-up switch capex); the
NVSwitch trays are `facility`'s power, `scale_up_switch_power_w` for every rack share of a domain begun (hN2-71,
`cluster.power.scale_up_switches_w`): 100 GB200 fill an NVL72 rack and 7 trays of a second, which draws its 9 switch
trays in full (3.6 kW a rack, 7.2 kW), as every tray's GPU needs all 18 NVSwitch chips. hN2-71's NVL144 example (one
144-GPU domain over 2 racks, 7.2 kW of trays) at 100 GPUs begins both racks' shares: 7.2 kW, as at 144. Its
scale-out fabric at 100 is the part of a rail unit `network --gpus 100` builds (4 leaves + 3 spines, $1.13 M), in
`network` and `facility --system` alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_system
from infraplan.facility.facility import size_facility
from infraplan.network.costs import describe_fabric

NVL144 = Path(__file__).resolve().parents[2] / "examples" / "hardware" / "gb200-nvl144-superpod.yaml"


@pytest.mark.parametrize(("gpus", "switches", "trays_w"), [(100, 7, 7200.0), (144, 7, 7200.0), (288, 14, 14400.0)])
def test_the_nvl144_example_in_part_prices_one_fabric_and_whole_rack_trays(tmp_path: Path, gpus: int, switches: int,
                                                                          trays_w: float) -> None:
    path = tmp_path / f"nvl144-{gpus}.yaml"
    path.write_text(f"extends: {NVL144}\ntotal_accelerators: {gpus}\n")
    spec = load_system(str(path))
    net, fac = describe_fabric(spec), size_facility(system=str(path))
    assert (net.switches_total, fac.network.switches) == (switches, switches)
    assert fac.capex_usd["network"] == pytest.approx(net.capex_usd, rel=1e-12)
    assert fac.power_breakdown_w["network"] == pytest.approx(net.power_w, rel=1e-12)
    assert fac.power_breakdown_w["scale_up_switches"] == trays_w
    assert describe_fabric(load_system(str(NVL144)), gpus).capex_usd == pytest.approx(net.capex_usd, rel=1e-12)


def test_a_part_filled_nvl72_rack_draws_its_nine_switch_trays_and_one_fabric() -> None:
    fac = size_facility(accelerator="gb200", count=100)
    net = describe_fabric(load_system("gb200-nvl72-superpod"), 100)
    assert (fac.racks, fac.power_breakdown_w["scale_up_switches"]) == (2, 7200.0)
    assert (fac.network.switches, fac.capex_usd["network"], fac.power_breakdown_w["network"]) == (
        net.switches_total, net.capex_usd, net.power_w)
