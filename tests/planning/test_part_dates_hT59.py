"""A part bought before it ships is refused (hT59, hE59's leftover): `Accelerator.available_year` (with its
`available_source`) dates a part's first shipment; `campus --phases` and `plan` refuse a phase, a pool's
`from_year`, an installed base or a refresh successor dated before it, in one line naming the part, the phase (or the
field) and the date. Before, a Rubin in a 2026 plan phase and a GB300 in a 2023 campus phase were priced without a
word. A part without a date (a user's own accelerator file) is not checked. Also: a plan site's unknown cooling or
location names the site and the field (was the CLI's "--cooling must be one of ..."), and a fractional campus phase
is labelled as the CLI prints it on the chart and the web page (`CampusPhase.date`, was str(2026.5)).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.loader import load_accelerator, validated
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.facility.plots import facility_figure
from infraplan.planning.scenario_checks import check_part_dates
from infraplan.planning.scenario_spec import ScenarioSpec

ACCELERATORS = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "accelerators"


def _spec(pool: dict[str, Any], years: tuple[object, ...] = (2026, 2027), **site: Any) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "t", "phases": [{"name": str(y), "year": y} for y in years],
        "services": [{"name": "r", "kind": "recsys", "model": "dlrm-high", "qps": "1M", "latency_slo": "20ms"}],
        "pools": [{"name": "g", "site": "s", **pool}],
        "sites": [{"name": "s", "power": "100MW", **site}]})


def test_the_catalog_dates_a_part_with_its_source() -> None:
    rubin, gb300 = load_accelerator("rubin"), load_accelerator("gb300")
    assert rubin.available_year == 2026.5 and "ASSUMPTION" in rubin.available_source
    assert gb300.available_year == 2025.5 and "recalled" in gb300.available_source
    assert load_accelerator("mtia-400").available_year is None  # the reference dates no shipment: no check
    data = safe_load_yaml((ACCELERATORS / "h100-sxm.yaml").read_text())  # YAML 1.2 numbers, as the catalog reads it
    data.update(name="h100-sxm", available_source="")
    with pytest.raises(InputError, match="available_year needs available_source"):
        validated(Accelerator, data, "h100-sxm.yaml")


def test_campus_refuses_a_phase_before_the_part_ships(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campus", "--power", "1GW", "--accelerator", "gb300", "--phases", "2023:0.3,2027:0.7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--phases buys gb300 in 2023, before it ships (2025-07" in err
    assert main(["campus", "--power", "100MW", "--accelerator", "rubin", "--phases", "2026H2:0.5,2027:0.5"]) == 0


def test_plan_refuses_a_pool_that_buys_before_its_part_ships() -> None:
    with pytest.raises(InputError, match=r"pool 'g' in phase '2026' buys rubin in 2026, before it ships \(2026-07"
                                         r".*give the pool from_year: 2026-07 or later"):
        check_part_dates(_spec({"device": "rubin"}))
    check_part_dates(_spec({"device": "rubin", "from_year": "2026H2"}))  # the fix it names
    with pytest.raises(InputError, match=r"pool 'g' \(from_year\) buys gb300 in 2025, before it ships \(2025-07"):
        check_part_dates(_spec({"device": "gb300", "from_year": 2025}, years=(2025, 2026)))
    check_part_dates(_spec({"device": "h200", "installed": 64, "installed_year": 2023, "from_year": 2026}))  # a
    # base is the user's record, not a purchase: not checked (retirement tests date H100 bases 2020-2022)
    with pytest.raises(InputError, match="refresh_with successor buys rubin in 2024, before it ships"):
        check_part_dates(_spec({"device": "h100-sxm", "installed": 64, "installed_year": 2023,
                                "lifetime_years": 1, "refresh_with": "rubin"}, years=(2023, 2024)))
    check_part_dates(_spec({"device": "h100-sxm", "installed": 64, "installed_year": 2024, "refresh_with": "b200"},
                           years=(2025, 2028, 2030)))  # examples/plan-refresh.yaml's pool


def test_a_users_part_without_a_date_is_not_checked(tmp_path: Path) -> None:
    data = safe_load_yaml((ACCELERATORS / "rubin.yaml").read_text())
    for key in ("available_year", "available_source"):
        data.pop(key)
    mine = tmp_path / "my-part.yaml"
    mine.write_text(yaml.safe_dump({**data, "name": "my-part"}))
    assert load_accelerator(str(mine)).available_year is None
    check_part_dates(_spec({"device": str(mine)}, years=(2020, 2021)))


@pytest.mark.parametrize(("site", "needle"), [
    ({"cooling": "water"}, "site 's': cooling must be one of air, immersion, liquid, got 'water'"),
    ({"location": "mars"}, "site 's': unknown location 'mars'"),
])
def test_a_sites_unknown_cooling_or_location_names_the_site(site: dict[str, str], needle: str) -> None:
    with pytest.raises(Exception, match=needle):
        _spec({"device": "h100-sxm"}, **site)


def test_a_fractional_campus_phase_is_labelled_as_the_cli_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campus", "--power", "100MW", "--accelerator", "gb200", "--phases", "2026H2:0.5,2027:0.5",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [ph["date"] for ph in out["phases"]] == ["2026-07", "2027"]
    fig = facility_figure(out["facility"], out["phases"])  # what `campus --plot` draws
    assert list(fig.data[-1].x) == ["2026-07", "2027"]
    page = (Path(__file__).parents[2] / "src" / "infraplan" / "web" / "static" / "facility.html").read_text()
    assert "[ph.date," in page and "String(ph.year)" not in page


def test_a_plan_says_which_site_it_leaves_unused_and_why(tmp_path: Path) -> None:
    """hE59's gigawatt plan left its 5 GW site empty (its 2030 demand drew 14 MW) without a word; a small copy: a
    10M-QPS ranking service fits 8 H100 at the Ohio site, and the Texas site's B200 at $1M each is never bought."""
    from infraplan.planning.scenario import plan_scenario

    path = tmp_path / "unused.yaml"
    path.write_text(yaml.safe_dump({
        "name": "unused-site", "phases": [{"name": "2025", "year": 2025}, {"name": "2027", "year": 2027}],
        "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio"},
                  {"name": "b200-far", "device": "b200", "site": "texas", "price_usd_per_device": 1e6}],
        "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"},
                  {"name": "texas", "power": "5GW", "location": "texas", "online_year": 2027}]}))
    notes = [n for n in plan_scenario(str(path)).notes if n.startswith("site ")]
    assert notes == ["site texas (5 GW, online in 2027) is unused: the plan buys nothing on its pool b200-far (b200): "
                     "the tco objective meets every phase's demand on other sites' pools; while it is online the "
                     "other sites draw at most 12.77 kW of ohio's 10 MW cap (0.1%) in 2027"]
