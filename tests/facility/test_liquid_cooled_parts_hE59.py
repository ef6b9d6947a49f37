"""A part built for liquid cooling only is housed in liquid, and air is refused (hE59).

Before, the default cooling read the server's draw alone (`cluster.cost.default_cooling`): an 8-GPU MI355X server,
14.7 kW, and the generic 8-GPU node of Rubin, 22 kW, fit a 30 kW air rack, so `facility` and `campus` housed both
in air (PUE 1.10 / 1.20 hot, 16 and 8 a rack), where MI355X's datasheet (its catalog file) says liquid-cooled and
Rubin is announced only as the 190-230 kW Vera Rubin NVL72 rack. A 5 GW Rubin campus in Texas was 1,302,504 GPUs
in 162,813 air racks at PUE 1.20; it is 1,371,520 in liquid racks at 1.14.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from infraplan.catalog import load_accelerator
from infraplan.catalog.loader import is_what_if
from infraplan.catalog.schemas import Accelerator
from infraplan.cli import main


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("part", ["mi355x", "rubin"])
def test_facility_houses_a_liquid_only_part_in_liquid(capsys: pytest.CaptureFixture[str], part: str) -> None:
    out = _json(capsys, ["facility", "--accelerator", part, "--count", "1024", "--json"])
    assert out["cooling"] == "liquid"
    assert out["pue"] == pytest.approx(1.09)  # liquid at the default location's temperate climate (air: 1.10)
    assert out["accelerators_per_rack"] > 16  # a 140 kW rack, not one or two servers in 30 kW


def test_campus_of_rubin_is_liquid(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["campus", "--power", "1GW", "--accelerator", "rubin", "--location", "texas",
                         "--server-price", "60000", "--json"])
    assert out["facility"]["cooling"] == "liquid"
    assert out["facility"]["pue"] == pytest.approx(1.14)  # liquid, hot climate (air: 1.20)


def test_an_air_cooled_part_keeps_air(capsys: pytest.CaptureFixture[str]) -> None:
    assert not load_accelerator("b300").liquid_cooled  # HGX B300 fits a 30 kW air rack: unchanged
    assert _json(capsys, ["facility", "--accelerator", "b300", "--count", "1024", "--json"])["cooling"] == "air"


def test_air_refused_for_a_liquid_only_part(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facility", "--accelerator", "mi355x", "--count", "1024", "--cooling", "air"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "cooling air: mi355x is built for liquid cooling only" in err and "give liquid or immersion" in err
    assert main(["campus", "--power", "100MW", "--accelerator", "rubin", "--cooling", "air"]) == 2


def test_a_plan_site_in_air_refuses_a_liquid_only_pool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"name": "mi-air", "phases": [{"name": "2026", "year": 2026}],
            "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-high", "qps": "1M",
                          "latency_slo": "20ms"}],
            "pools": [{"name": "mi", "device": "mi355x", "site": "s1", "price_usd_per_device": 30000}],
            "sites": [{"name": "s1", "power": "10MW", "location": "ohio", "cooling": "air"}],
            "policy": {"objective": "power"}}
    path = tmp_path / "mi-air.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["plan", str(path)]) == 2
    assert "built for liquid cooling only" in capsys.readouterr().err


def test_liquid_cooled_needs_its_source() -> None:
    data = load_accelerator("mi355x").model_dump()
    data.update(name="x", liquid_cooled=True, liquid_cooled_source="")
    with pytest.raises(ValidationError, match="liquid_cooled needs liquid_cooled_source"):
        Accelerator.model_validate(data)


def test_a_copy_that_says_liquid_cooled_is_still_its_preset(tmp_path: Path) -> None:
    """hN59's mutant (`liquid_cooled` dropped from loader._LABELS): a copy of h100-sxm.yaml under another name that
    adds only `liquid_cooled` is an H100 (its measured tables, bands and price: loader._twin), housed in liquid."""
    raw = yaml.safe_load((Path(__file__).parents[2] / "src/infraplan/catalog/accelerators/h100-sxm.yaml").read_text())
    raw.update(name="my-h100", liquid_cooled=True, liquid_cooled_source="our cold plates")
    (tmp_path / "my-h100.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    mine = load_accelerator(str(tmp_path / "my-h100.yaml"))
    assert mine.extends == "h100-sxm" and not is_what_if(mine) and mine.liquid_cooled
