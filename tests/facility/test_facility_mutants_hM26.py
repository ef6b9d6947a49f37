"""Mutation wave hM26 on the scale-up switch roll-up (session 47, hN52: `facility.rack_rows`, `cluster.power`): a
part-filled rack pays the switches of the domains it begins, not a full rack's.

On an NVL72 rack the two are the same (a domain spanning servers fills its rack: every rack begins one domain), so
the hN52 tests could not tell them apart. A user's node whose domain is half a server (8 GPUs, domains of 4, 100 W
of switches each outside the node's figure; a made-up what-if on the DGX H100 file) draws 8 x 700 + 4,600 W of host
+ 2 x 100 W = 10,400 W a server; at a 31.2 kW rack limit (--rack-power, liquid cooling) 3 servers a rack, so its
2,048 servers fill 682 racks (31,200 W each) and a last one of 2 servers: by hand 2 x 10,200 + 4 x 100 = 20,800 W
(a full rack's 6 domains would read 21,000 W). The rows' watts add up to the IT load's accelerators, hosts and
scale-up switches (`cluster.power.it_load`, counted there per domain begun over all servers).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog.loader import preset_files
from infraplan.facility.facility import size_facility


def test_a_part_filled_rack_pays_its_own_domains_switches(tmp_path: Path) -> None:
    data = yaml.safe_load(preset_files("systems")["dgx-h100-superpod"].read_text())
    assert data["node"]["accelerators_per_node"] == 8 and data["node"]["host_power_w"] == "4600W"
    data["node"].update(scale_up_domain=4, scale_up_switch_power_w="100W", scale_up_switch_source="test what-if")
    data["name"] = "halves"
    path = tmp_path / "halves.yaml"
    path.write_text(yaml.safe_dump(data))
    r = size_facility(system=str(path), cooling="liquid", rack_power_w=31_200.0)
    rows = [(row.racks, row.servers_per_rack, row.rack_power_w) for row in r.racks_by_fill]
    assert rows == [(682, 3, pytest.approx(31_200.0)), (1, 2, pytest.approx(20_800.0))]
    p = r.power_breakdown_w
    assert p["scale_up_switches"] == pytest.approx(2048 * 2 * 100.0)
    assert sum(n * w for n, _, w in rows) == pytest.approx(p["accelerators"] + p["hosts"] + p["scale_up_switches"])
