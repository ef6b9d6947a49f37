"""hM73's mutation wave on hN73's facility / cluster code: a part-filled last domain's spares in `check_held_fits`'
most, and `cluster.part_of` on a system file whose host share is its part's but whose switches are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.facility.test_product_walk_hN73 import SYSTEM, _system_with

from infraplan.cluster.cluster import part_of
from infraplan.cluster.host_share import accelerator_host_share
from infraplan.cluster.power import RackFit
from infraplan.errors import InputError
from infraplan.facility.facility import rack_fit_result
from infraplan.facility.reliability import reliability_report


@pytest.mark.parametrize(("spares", "most"), [
    (1, 127 * (72 - 4) + (36 - 4)),  # 127 full domains of 17 working trays, the 36-GPU domain's 8 of its 9 trays
    (10, 127 * (72 - 40) + 0),       # 10 spare trays are more than the last domain's 9: it holds none of the job
])
def test_a_part_filled_last_domain_loses_its_own_spares(tmp_path: Path, spares: int, most: int) -> None:
    """9,180 GPUs = 127 domains of 72 + one of 36 (9 trays of 4): the most a job holds at K spare trays a domain is
    127 x (72 - 4K) + max(36 - 4K, 0); the system has 128 domains, the part-filled one counted."""
    path = tmp_path / "part_filled.yaml"
    path.write_text(SYSTEM.replace("total_accelerators: 9216", "total_accelerators: 9180"))
    with pytest.raises(InputError, match=f"has 128 \\(9,180 GPUs\\): at most {most:,} GPUs a job with {spares} spare"):
        reliability_report(str(path), 9180, 30, spare_trays_per_domain=spares)
    if spares == 1:  # the most it holds runs, in all 128 domains (the part-filled one counted)
        assert reliability_report(str(path), most, 30, spare_trays_per_domain=1).domains == 128


@pytest.mark.parametrize(("switches", "watts"), [("0W", 450.0), ("7200W", 450.0 + 100.0)])
def test_a_file_of_its_parts_host_share_still_prices_its_own_switches(tmp_path: Path, switches: str,
                                                                       watts: float) -> None:
    """1,800 W of host for 4 GB200 is 450 W a GPU, the part's own (gb200-nvl72's node), but the file's switch trays
    (0 W, or 7,200 W a 72-GPU domain = 100 W a GPU) are not gb200-nvl72's 3,600 W / 72 = 50 W: its part carries the
    file's node, host and switches, and says so."""
    part = part_of(_system_with(tmp_path, "same_host", "1800W", switches))
    share = accelerator_host_share(part)
    assert share.watts == pytest.approx(watts, rel=1e-12)
    assert part.host_source.startswith("own node of same_host: 1800 W of host for 4 accelerators")
    assert ("plus 100 W per accelerator of scale-up switches" in part.host_source) == (switches != "0W")
    assert accelerator_host_share(part_of("gb200-nvl72")).watts == pytest.approx(450.0 + 50.0)


@pytest.mark.parametrize(("servers", "limited_by", "said"), [
    (10, "power", True),             # hN72's Z1: 10 servers of 13.1 kW a 140 kW rack, their height unknown
    (1, "power", False),             # one server a rack: no several servers whose space goes unchecked
    (4, "scale-up domain", False),   # a domain fills the rack: power did not set the count
])
def test_rack_space_not_counted_only_where_power_alone_set_several(servers: int, limited_by: str,
                                                                   said: bool) -> None:
    fit = RackFit(servers_per_rack=servers, rack_power_w=servers * 13_100.0, power_limit_w=140_000.0,
                  power_limit_source="liquid cooling", servers_by_power=10, servers_by_space=None,
                  server_rack_units=None, limited_by=limited_by)
    result = rack_fit_result(fit)
    assert result is not None
    note = result.note
    assert (note is not None and note.startswith("rack space not counted")) == said, note
    if said:
        assert f"so {servers} servers a rack are set by power alone (131.0 kW of the 140.0 kW liquid cooling" in note
