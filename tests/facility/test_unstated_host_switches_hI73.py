"""A system file without `node.host_power_w` takes the part's host share, not host + scale-up switches (hI73 mutant
of `cluster.host_share.with_stated_host`).

GB200 NVL72 (catalog/systems/gb200-nvl72.yaml): 1,800 W of host a 4-GPU compute tray (450 W a GPU, ASSUMED there)
and 3,600 W of NVSwitch trays a 72-GPU rack (50 W a GPU), which `facility` charges per rack begun
(`cluster.power.scale_up_switches_w`). The file with its host lines removed must take 4 x 450 = 1,800 W a tray:
taking the part's whole share (500 W a GPU, 2,000 W a tray) counts the switch trays twice, once in the trays and
once per rack, 200 W a tray too many (+3,600 W a rack).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.cluster import Cluster

SYSTEMS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "systems"


def _without_host(tmp_path: Path) -> str:
    text = (SYSTEMS / "gb200-nvl72.yaml").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(("host_power_w:", "host_power_source:"))]
    assert len(kept) == len(text.splitlines()) - 2
    path = tmp_path / "gb200-nohost.yaml"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return str(path)


def _hosts_w(capsys: pytest.CaptureFixture[str], system: str) -> float:
    capsys.readouterr()
    assert cli_main(["facility", "--system", system, "--json"]) == 0
    return float(json.loads(capsys.readouterr().out)["power_breakdown_w"]["hosts"])


def test_the_unstated_host_is_the_trays_not_the_trays_and_switches(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = _without_host(tmp_path)
    node = Cluster.resolve(path).system.node
    assert node.host_power_w == pytest.approx(4 * 450.0)
    assert node.scale_up_switch_power_w == pytest.approx(3600.0)
    assert _hosts_w(capsys, path) == pytest.approx(_hosts_w(capsys, "gb200-nvl72")) == pytest.approx(9216 * 450.0)
