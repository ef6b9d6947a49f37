"""hR55 review of hV55's plan dates (planning/plan_dates.py) and binding sites (phased_mix._explain_phased), caf76bb.

Fixed (each fails on caf76bb):
1. A whole number too large for a float (`year: 99...9`, 400 digits, YAML reads it as an int) died in
   `parse_year`'s float() with an OverflowError traceback (exit 1); before hV55 `Year` was a bounded int, one line.
   Now "... is outside the years 2000-2200 a plan may date", exit 2.
2. `year_text` of a date within 1e-6 month of the next year (2025.99999999) printed "2025-13".
Mutant killers (hand mutants of plan_dates / retirement that hV55's tests left alive; validation/notes/
product_review_tried.md, hR55): a day 0, a time of day, a boolean, a phase step a float makes a hair longer than
the life, a base whose age a float makes a hair shorter than its life, a successor's year a float puts a hair after
its phase, a date past 2200; a cap that binds only with another (a site's cap in two phases: hardware stays), and
the (site, phase) row each cap lifts (two sites x two phases).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.planning.phased_mix import MixOption, PhasedMix, solve_phased_mix
from infraplan.planning.plan_dates import parse_year, year_text
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}


def _raw(years: list[Any], **pool: Any) -> dict[str, Any]:
    return {"name": "dates", "phases": [{"name": f"p{i}", "year": y} for i, y in enumerate(years)],
            "services": [RANKING], "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}


def _one_line(file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert cli_main(["plan", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infraplan: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_a_year_too_large_for_a_float_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="outside the years 2000-2200"):
        parse_year(10 ** 400)
    file = tmp_path / "huge.yaml"
    file.write_text(yaml.safe_dump(_raw([2025])).replace("year: 2025", "year: " + "9" * 400), encoding="utf-8")
    assert "phases.0.year: 9999" in _one_line(file, capsys)
    file.write_text(yaml.safe_dump(_raw([2025], installed=8)).replace("installed: 8", "installed: 8, "
                                                                      "installed_year: -" + "9" * 400))
    assert "installed_year" in _one_line(file, capsys)


def test_a_date_a_hair_before_the_next_year_is_not_month_13() -> None:
    assert year_text(2026 - 1e-8) == "2026" and year_text(2025 + 11 / 12) == "2025-12"


@pytest.mark.parametrize(("given", "said"), [
    ("2025-07-00", "day 0 is not in month 7 of 2025"),
    (datetime.datetime(2025, 7, 1, 12, 0), "is a time of day"),
    (True, "a boolean (true/false) is not a number"),
])
def test_a_day_0_a_time_of_day_and_a_boolean_are_refused(given: object, said: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        ScenarioSpec.model_validate(_raw([given]))
    assert said in str(caught.value)


def test_a_step_a_float_makes_a_hair_longer_than_the_life_is_not_refused() -> None:
    """2025.7 - 2025 is 0.70000000000005 in floats: a 0.7-year life covers the step, and retires there."""
    assert 2025.7 - 2025 > 0.7
    plan = plan_scenario(ScenarioSpec.model_validate(_raw([2025, 2025.7], lifetime_years=0.7)))
    assert [(ph.new_devices, ph.retired_devices) for ph in plan.phases] == [(8, 0), (8, 8)]


def test_a_base_a_float_makes_a_hair_younger_than_its_life_is_past_it() -> None:
    """A base installed 2019.7 on a 5.3-year life is exactly its life old in 2025: 2025 - 2019.7 is 5.2999999999 in
    floats, and it is refused as past its life (as a whole-year base exactly its life old, hI54)."""
    assert 2025 - 2019.7 < 5.3
    with pytest.raises(InputError, match="past its 5.3-year lifetime_years in the first phase"):
        plan_scenario(ScenarioSpec.model_validate(_raw([2025, 2026], installed=8, installed_year=2019.7,
                                                       lifetime_years=5.3)))


def test_a_successor_opens_where_a_float_puts_the_life_a_hair_after_the_phase() -> None:
    """2024.2 + 1.9 is 2026.1000000000001 in floats: the base retires in the 2026.1 phase (`alive`, with the
    tolerance) and its successor opens there too (`successor_year`), not never."""
    assert 2024.2 + 1.9 > 2026.1
    plan = plan_scenario(ScenarioSpec.model_validate(_raw([2025, 2026.1], installed=8, installed_year=2024.2,
                                                          lifetime_years=1.9, refresh_with="b200")))
    rows = [(r.phase, r.pool, r.retired_devices) for r in plan.pools if r.devices or r.retired_devices]
    assert ("p1", "h100", 8) in rows and any(r[:2] == ("p1", "h100-refresh") for r in rows), rows


@pytest.mark.parametrize("year", [2200.5, "2201", "2200-12-31"])
def test_a_date_past_2200_is_refused(year: object) -> None:
    with pytest.raises(ValueError, match="outside the years 2000-2200 a plan may date"):
        ScenarioSpec.model_validate(_raw([year]))


def _short(mix: PhasedMix) -> str:
    with pytest.raises(InputError) as err:
        solve_phased_mix(mix)
    return str(err.value)


def _one_site(demand: list[float]) -> PhasedMix:
    """One site, one pool of one-watt devices, 10 W in both phases."""
    return PhasedMix(
        demand=np.array([demand]), options=[MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 0, 1, 1.0, 1, False)],
        cost=np.zeros((1, 2)), available=[None], pool_open=np.ones((1, 2), dtype=bool), pool_site=[0],
        watts_per_device=np.array([1.0]), site_cap_w=np.array([[10.0, 10.0]]), service_names=["ranking"],
        pool_names=["a"], site_names=["a"], phase_names=["p0", "p1"])


def test_a_first_phases_cap_that_binds_with_the_caps_after_it_is_named() -> None:
    """30 devices' demand in both phases: lifting p0's cap alone buys servers p1's cap cannot hold (bought hardware
    stays), so hV55 named p1's cap only, though p0 is short by its own cap. Now a cap is lifted with the site's
    later ones: both named. With 5 in p1 (short in p0 only) p0's alone."""
    said = _short(_one_site([30.0, 30.0]))
    assert "ranking in p0 short by 67 %" in said and "ranking in p1 short by 67 %" in said, said
    assert "site a at its power cap of 10 W in p0" in said and "site a at its power cap of 10 W in p1" in said, said
    said = _short(_one_site([30.0, 5.0]))
    assert "ranking in p0 short by 67 %" in said and "in p0" in said.split("binding: ")[1], said
    assert "in p1" not in said, said


def test_the_cap_lifted_is_the_sites_in_its_phase() -> None:
    """Two sites x two phases: site a's pool serves (10 W caps, 30 devices' demand in p1), site b's base of 8 one-watt
    devices fills its 8 W caps and serves nothing. Only site a binds (the rows are site-major: a transposed index
    lifted site b's rows for site a's, and named site b)."""
    said = _short(PhasedMix(
        demand=np.array([[5.0, 30.0]]), options=[MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 0, 1, 1.0, 1, False)],
        cost=np.zeros((2, 2)), available=[None, None], pool_open=np.ones((2, 2), dtype=bool), pool_site=[0, 1],
        watts_per_device=np.array([1.0, 1.0]), site_cap_w=np.array([[10.0, 10.0], [8.0, 8.0]]),
        service_names=["ranking"], pool_names=["a", "b"], site_names=["a", "b"], phase_names=["p0", "p1"],
        installed=[0, 8]))
    assert "ranking in p1 short by 67 %" in said, said
    assert "site a at its power cap of 10 W in p1" in said and "site b" not in said, said
