"""`host_rack_units` at the rack's own height (hR, session 56): a 42U host fits a 42U rack, one host (12 modules)
a rack, not the one-line refusal of a 43U one (hF56's test); a mutant refusing 42U (`>=`) passed every test."""

from __future__ import annotations

from pathlib import Path

import yaml

from infraplan.catalog.loader import preset_files
from infraplan.cluster.power import servers_by_space
from infraplan.planning.device_money import cost_overrides, device_money, device_site


def test_a_42u_host_is_one_host_a_rack(tmp_path: Path) -> None:
    data = yaml.safe_load(preset_files("video/devices")["msvp"].read_text())
    data["host_rack_units"] = 42
    path = tmp_path / "msvp-42u.yaml"
    path.write_text(yaml.safe_dump(data))
    assert servers_by_space(42) == 1  # (`device_money` racks a video host so; was `video_hosts_by_space`, hS56)
    money = device_money(str(path), 24, device_site(str(path), cost_overrides(None, None, 1500.0, 5.5, None)))
    assert (money.racks, money.devices_per_rack) == (2, 12)
