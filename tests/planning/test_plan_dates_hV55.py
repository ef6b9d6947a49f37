"""hV55 (session 55): a plan's phases, deliveries, installed bases and site energisation are dated finer than a year.

Before, every date of a scenario was a whole calendar year (`year: 2025`; 2025.5, "2025-07", "2025Q3" refused as not
an integer), while `lifetime_years` is fractional: a 5.5-year server bought in 2025 retired in the first whole-year
phase at or after 2030.5. Now (planning/plan_dates.py) a date is a year, a fractional year, a month, a day, a
quarter or a half, a float year inside (an int where whole, so a file of whole years plans and dumps as before); a
lifetime lands on the phase it reaches (`YEAR_TOLERANCE`: 2025 + 1.6 is 2026.6, while the float 2026.6 - 2025 is
1.5999999999999); the objective weights a phase by the years to the next (0.5 for a half-year step, where
max(1, step) was written for whole years). Checked failing on the session's base (bca011f): every test here that
uses a fractional date is refused by the spec ("Input should be a valid integer"); `name: 2025` and a growth key
`2026:` unquoted were refused as "Input should be a valid string".
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.planning.plan_dates import parse_year, year_text
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}


def _raw(phases: list[Any], policy: dict[str, Any] | None = None, service: dict[str, Any] | None = None,
         pools: list[dict[str, Any]] | None = None, **pool: Any) -> dict[str, Any]:
    return {"name": "dates", "phases": [{"name": str(p), "year": p} for p in phases],
            "services": [{**RANKING, **(service or {})}],
            "pools": pools or [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}], "policy": policy or {}}


@pytest.mark.parametrize(("given", "year"), [
    (2025, 2025), ("2025", 2025), (2025.5, 2025.5), ("2025.25", 2025.25), ("2025-07", 2025.5), ("2025-7", 2025.5),
    ("2025-07-01", 2025.5), (datetime.date(2025, 10, 1), 2025.75), ("2025Q3", 2025.5), ("2025-Q4", 2025.75),
    ("2025H2", 2025.5), ("2025-07-16", 2025 + (6 + 15 / 31) / 12)])
def test_a_date_is_a_float_year(given: object, year: float) -> None:
    got = parse_year(given)
    assert got == pytest.approx(year, abs=1e-12)
    assert isinstance(got, int) == (year == int(year))  # a whole year stays an int: it dumps as 2025, not 2025.0


def test_a_date_is_written_back_as_a_month() -> None:
    assert [year_text(y) for y in (2025, 2025.5, 2025 + 1 / 12, 2025.1234)] == ["2025", "2025-07", "2025-02",
                                                                               "2025.1234"]


def test_a_lifetime_lands_on_the_half_year_phase() -> None:
    """5.5 years from 2025: the server retires in the 2030H2 phase and is bought again there (before: a 2031 phase
    was the first a whole-year plan could have)."""
    plan = plan_scenario(ScenarioSpec.model_validate(_raw(["2025", "2028", "2030H2"])))
    got = [(ph.phase, ph.year, ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases]
    assert got == [("2025", 2025, 8, 8, 0), ("2028", 2028, 8, 0, 0), ("2030H2", 2030.5, 8, 8, 8)]
    one_earlier = plan_scenario(ScenarioSpec.model_validate(_raw(["2025", "2028", "2030Q2"])))  # 5.25 years on
    assert [ph.retired_devices for ph in one_earlier.phases] == [0, 0, 0]


def test_a_lifetime_that_a_float_misses_by_an_ulp_still_retires() -> None:
    """2026.6 - 2025 is 1.5999999999999 in floats: without the tolerance the server bought in 2025 on a 1.6-year life
    served on in 2026.6."""
    plan = plan_scenario(ScenarioSpec.model_validate(_raw([2025, 2025.8, 2026.6], lifetime_years=1.6)))
    assert [(ph.new_devices, ph.retired_devices) for ph in plan.phases] == [(8, 0), (0, 0), (8, 8)]


def test_a_pool_delivered_and_a_base_installed_within_a_year() -> None:
    """B200 from 2025Q3: not in the 2025 phase, open in 2025H2; an H100 base installed 2020-07 on a 5-year life
    retires in 2025H2 (4.5 years on in 2025: in service), and that phase buys its replacement."""
    pools: list[dict[str, Any]] = [
        {"name": "h100", "device": "h100-sxm", "site": "ohio", "installed": 8, "installed_year": "2020-07",
         "lifetime_years": 5},
        {"name": "b200", "device": "b200", "site": "ohio", "from_year": "2025Q3"}]
    plan = plan_scenario(ScenarioSpec.model_validate(_raw(["2025", "2025H2"], {"objective": "power"}, pools=pools)))
    rows = [(r.phase, r.pool, r.devices, r.retired_devices) for r in plan.pools]
    assert ("2025", "h100", 8, 0) in rows and not any(r[:2] == ("2025", "b200") for r in rows)
    assert any(r[:2] == ("2025H2", "h100") and r[3] == 8 for r in rows) and plan.phases[1].new_devices > 0
    assert not any("b200" in e and "2025H2" in e for e in plan.excluded), plan.excluded


def test_a_site_online_within_a_year() -> None:
    """A site energised in 2025-10 has no power in a 2025H2 phase and its cap from 2026."""
    raw = _raw(["2025H2", "2026"], {"objective": "power"}, pools=[
        {"name": "old", "device": "h100-sxm", "site": "ohio"}, {"name": "new", "device": "b200", "site": "new"}])
    raw["sites"].append({"name": "new", "power": "10MW", "location": "ohio", "online_year": "2025-10"})
    plan = plan_scenario(ScenarioSpec.model_validate(raw))
    caps = {(s.phase, s.site): s.power_cap_w for s in plan.sites}
    assert caps[("2025H2", "new")] == 0.0 and caps[("2026", "new")] == 10e6


def test_a_half_year_phase_weighs_half_a_year() -> None:
    """The power objective is facility W x the years to the next phase: 0.5 for 2025 -> 2025H2 (max(1, step) was 1)."""
    plan = plan_scenario(ScenarioSpec.model_validate(_raw(["2025", "2025H2"], {"objective": "power"},
                                                          {"growth": {"2025H2": 2}})))
    first, second = plan.phases
    assert plan.objective_value == pytest.approx(0.5 * first.facility_power_w + second.facility_power_w, rel=1e-6)


def test_yaml_numbers_and_dates_name_phases() -> None:
    """`name: 2025` and growth keys `2026:` / `2025-07-01:` unquoted are YAML numbers and dates: read as written."""
    spec = ScenarioSpec.model_validate(yaml.safe_load("""
name: yaml
phases: [{name: 2025, year: 2025}, {name: 2025-07-01, year: 2025-07-01}, {name: 2026, year: 2026Q1}]
services: [{name: r, kind: recsys, model: dlrm-low, qps: 10M, latency_slo: 10ms, growth: {2025-07-01: 1.5, 2026: 2}}]
pools: [{name: h100, device: h100-sxm, site: ohio}]
sites: [{name: ohio, power: 10MW}]
"""))
    assert [(p.name, p.year) for p in spec.phases] == [("2025", 2025), ("2025-07-01", 2025.5), ("2026", 2026)]
    assert spec.services[0].growth == {"2025-07-01": 1.5, "2026": 2}


def test_the_json_year_is_fractional_only_where_the_date_is(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "dates.yaml"
    file.write_text(yaml.safe_dump(_raw(["2025", "2025H2"])), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file), "--json"]) == 0
    out = capsys.readouterr().out
    assert [ph["year"] for ph in json.loads(out)["phases"]] == [2025, 2025.5]
    assert '"year": 2025,' in out  # an int, as before hV55


@pytest.mark.parametrize(("phases", "pool", "said"), [
    (["soon"], {}, "phases.0.year: cannot read date 'soon': give a year (2025, 2025.5), a month (2025-07)"),
    (["2025-13"], {}, "phases.0.year: cannot read date '2025-13': month 13 is not 1-12"),
    (["2025-02-30"], {}, "day 30 is not in month 2 of 2025 (28 days)"),
    (["2025Q5"], {}, "cannot read date '2025Q5'"),
    (["1999H2"], {}, "1999H2 is outside the years 2000-2200 a plan may date"),
    (["2025H2", "2025-07"], {}, "phase years must be strictly increasing, got 2025-07, 2025-07"),
    (["2025Q3", "2025Q2"], {}, "phase years must be strictly increasing, got 2025-07, 2025-04"),
    (["2025", "2025H2"], {"from_year": "2026Q1"}, "pool 'h100' is delivered in 2026, after the last phase (2025-07)"),
    (["2025", "2026"], {"installed": 8, "installed_year": "2025-04"},
     "installed_year 2025-04 is after the first phase (2025)"),
    (["2025", "2026"], {"lifetime_years": 0.5}, "lifetime_years 0.5 is shorter than the 1 years from phase 2025"),
])
def test_bad_dates_are_one_line(phases: list[str], pool: dict[str, Any], said: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(_raw(phases, **pool)), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infraplan: error: ") and "\n" not in err and "Traceback" not in err, err
    assert said in err, err


def test_plan_refresh_retires_at_its_half_year() -> None:
    """The README's example: examples/plan-refresh.yaml with its last phase at 2029-07 (2024 + 5.5) retires the 64
    H100 there and opens h100-refresh there, the same fleet the 2030 phase has."""
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "plan-refresh.yaml").read_text())
    raw["phases"][-1] = {"name": "2029H2", "year": "2029-07"}
    raw["services"][0]["growth"] = {"2028": 1.5, "2029H2": 2}
    plan = plan_scenario(ScenarioSpec.model_validate(raw))
    rows = [(r.phase, r.pool, r.devices, r.new_devices, r.retired_devices) for r in plan.pools]
    assert rows[-2:] == [("2029H2", "h100", 8, 0, 64), ("2029H2", "h100-refresh", 56, 56, 0)]
    # hN57: $5,146,487.3 until the B200 refresh reused the site's building (planning/site_building.py); hB66:
    # $4,074,954.5 until the generic H100 / B200 fabric was built of rail units with optics
    assert plan.phases[-1].year == 2029.5 and plan.capex_usd == pytest.approx(4176754.5, abs=1.0)
