"""fleet-mix and plan buy MSVP modules in whole host servers of the device file's `modules_per_host` (MSVP: 12, an
ASSUMPTION, as its 40 W host share assumes; fleet-mix bought one server per module), and say so in the answer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from infraplan.catalog.facility_loader import load_network_cost
from infraplan.catalog.loader import preset_files
from infraplan.planning.fleet_mix import plan_fleet

SERVICE = {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264", "quality": "high",
           "daily_hours": 5000}

MISC = 1.0 + load_network_cost().misc_it_power_fraction  # hK57: + storage / front-end / management, as every pool


def _fleet(tmp_path: Path, device: str) -> Path:
    spec = {"name": "video", "objective": "power", "services": [SERVICE],
            "pools": [{"name": "asic", "device": device, "price_usd_per_device": 1500}]}
    path = tmp_path / f"fleet-{Path(device).stem}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _msvp_copy(tmp_path: Path, modules: int) -> str:
    data = yaml.safe_load(preset_files("video/devices")["msvp"].read_text())
    data.update(modules_per_host=modules, display_name=f"MSVP, {modules} per host")
    path = tmp_path / f"msvp-{modules}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_msvp_servers_hold_modules_per_host_and_the_answer_says_so(tmp_path: Path) -> None:
    r = plan_fleet(str(_fleet(tmp_path, "msvp")))
    pool = r.pools[0]
    assert pool.devices_per_server == 12
    assert pool.servers == math.ceil(pool.used / 12) and pool.devices_bought == pool.servers * 12
    assert pool.power_w == pytest.approx(pool.devices_bought * (10 + 40) * MISC)  # module + host share, a module
    assert "12 msvp modules per server" in (r.figures_note or "") and "ASSUMPTIONS" in (r.figures_note or "")


def test_a_device_file_sets_the_server_size(tmp_path: Path) -> None:
    twelve = plan_fleet(str(_fleet(tmp_path, "msvp"))).pools[0]
    four = plan_fleet(str(_fleet(tmp_path, _msvp_copy(tmp_path, 4)))).pools[0]
    assert four.used == twelve.used  # the same modules serve the same ingest
    assert four.devices_per_server == 4 and four.servers == math.ceil(four.used / 4)
    assert four.devices_bought <= twelve.devices_bought  # a smaller server rounds up less
