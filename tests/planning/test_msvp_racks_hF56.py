"""MSVP hosts racked by space as well as power (hF, session 56): the device file's `host_rack_units` (2U, the
Yosemite V3 system of catalog/systems/mtia-v1-rack.yaml, an ASSUMPTION there and here) holds 42 // 2 = 21 hosts of
12 modules a rack, as `cluster.power.rack_fit` packs a system's servers. Before: power alone, 30 kW of air over a
600 W host, put 50 hosts (600 modules, 84U of servers) in a 42U rack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infraplan.catalog.facility_loader import load_network_cost
from infraplan.catalog.inference_loader import load_video_device
from infraplan.catalog.loader import preset_files
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.planning.device_money import cost_overrides, device_money, device_site

PLAN = {"name": "plan-msvp", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264",
                      "quality": "high", "daily_hours": 50000}],
        "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}

MISC = 1.0 + load_network_cost().misc_it_power_fraction  # hK57: + storage / front-end / management, as every pool


def _money(device: str, devices: int) -> tuple[int, int, float]:
    over = cost_overrides(None, None, 1500.0, 5.5, None)
    m = device_money(device, devices, device_site(device, over))
    return m.racks, m.devices_per_rack, m.it_w


def _copy(tmp_path: Path, **changes: object) -> str:
    data = yaml.safe_load(preset_files("video/devices")["msvp"].read_text())
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    data["assumptions"] = {k: v for k, v in data["assumptions"].items() if k in data}
    path = tmp_path / "msvp-copy.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_a_rack_holds_21_hosts_of_12() -> None:
    assert load_video_device("msvp").host_rack_units == 2
    assert _money("msvp", 1020) == (5, 252, 1020 * 50.0 * MISC)  # 85 hosts, 21 a rack: power unchanged


def test_without_a_height_power_alone_binds(tmp_path: Path) -> None:
    assert _money(_copy(tmp_path, host_rack_units=None), 1020) == (2, 600, 1020 * 50.0 * MISC)


def test_a_host_taller_than_the_rack_is_one_line(tmp_path: Path) -> None:
    """Refused where the file loads (hM56: it was refused at pricing, so `video --device` took it)."""
    with pytest.raises(InputError, match=r"^invalid video device .*: host_rack_units: a 43U server does not fit a "
                       r"42U rack$"):
        _money(_copy(tmp_path, host_rack_units=43), 12)


def test_plan_n_plus_one_adds_a_rack_of_252(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`policy.redundancy_racks: 1` adds one rack's modules: 252 (1,272 in 6 racks), where it added 600 (1,620 in
    3 racks, 81 kW against 63.6 kW)."""
    spec = {**PLAN, "pools": [{"name": "msvp", "device": "msvp", "site": "ohio", "price_usd_per_device": 1500}],
            "policy": {"redundancy_racks": 1}}
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["pools"]
    assert (row["devices"], row["racks"], row["it_power_w"]) == (1272, 6, pytest.approx(1272 * 50.0 * MISC))
