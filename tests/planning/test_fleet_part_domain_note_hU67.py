"""fleet-mix says plan's part-filled scale-up domain note, from the one place both read (hU67).

`plan` said of a pool whose whole servers leave its last scale-up domain part-filled that the domain's switches are
drawn in full (hH53: `scenario_report.part_domain_note`); fleet-mix prices the same switches (`device_money`) and
said nothing. Both now read `device_money.part_domain_note`.
"""

from __future__ import annotations

from pathlib import Path

from infraplan.planning.device_money import part_domain_note
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.scenario_report import part_domain_note as plan_note
from infraplan.planning.scenario_spec import PoolSpec

FLEET = """name: part-domain
services:
  - {name: ranking, kind: recsys, model: dlrm-medium, qps: 200M, latency_slo: 20ms}
pools:
  - {name: m400, device: mtia-400-rack, price_usd_per_device: 30000}
"""


def test_fleet_mix_says_the_part_filled_domain_as_plan_does(tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(FLEET)
    result = plan_fleet(str(spec))
    (pool,) = result.pools
    bought = pool.devices_bought
    assert bought % 72 > 0  # the 72-chip domain is part-filled (4-chip trays bought whole)
    note = part_domain_note("m400", "mtia-400-rack", bought)
    assert note is not None and note in result.notes
    assert note == plan_note(PoolSpec(name="m400", device="mtia-400-rack", site="s"), bought)  # one text, both
    assert "whose switches are drawn in full" in note


def test_the_note_in_whole_and_part_domains() -> None:
    assert part_domain_note("p", "mtia-400-rack", 144) is None  # whole domains
    assert part_domain_note("p", "h100-sxm", 100) is None  # one server is the packing unit
    assert part_domain_note("p", "msvp", 100) is None  # a video ASIC has no scale-up domain
    assert part_domain_note("p", "gb200", 148) == ("pool p: its 148 devices fill 2 whole 72-device scale-up domains "
                                                   "and one part-filled with 4, whose switches are drawn in full; "
                                                   "`campus` builds whole domains only")
    assert part_domain_note("p", "mtia-400-rack", 8) == ("pool p: its 8 devices part-fill one 72-device scale-up "
                                                         "domain, whose switches are drawn in full; `campus` builds "
                                                         "whole domains only")
