"""hI69's mutation wave on hU68's unit checks of the planners' files: `units.bare_number`, a site's stated power
(`facility_loader.stated_power`, `scenario_types.SitePowerW`), the policy's repair time, a recsys model file left to
the run, and `scenario_types.not_the_other_spec`. Each answer is the docstring's rule, worked by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.facility_loader import Fleet, FleetSite
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.scenario_types import not_the_other_spec
from infraplan.units import bare_number

MINIMAL = yaml.safe_load((Path(__file__).parents[2] / "examples" / "plan-minimal.yaml").read_text())


@pytest.mark.parametrize(("value", "bare"), [
    ("50000", True), ("1e9", True), ("-5", True), ("+7", True), (" 7 ", True), ("1_000", True), ("2.5", True),
    (50000, True), (2.5e7, True), ("10MW", False), ("50 kW", False), ("", False), ("1_000W", False),
    (True, False), (False, False), (None, False), ([5], False), ({"w": 5}, False)])
def test_bare_number_is_a_number_without_a_unit(value: object, bare: bool) -> None:
    assert bare_number(value) is bare


def _scenario(**changes: Any) -> dict[str, Any]:
    data = {**MINIMAL, **changes}
    data["sites"] = [{**MINIMAL["sites"][0], **changes.get("site", {})}]
    data.pop("site", None)
    return data


@pytest.mark.parametrize(("power", "line"), [
    (5e4, "50000 has no unit; write the power with one, e.g. 10MW or 1GW (50000W is 50 kW)"),  # a float, whole
    (2.5, "2.5 has no unit; write the power with one, e.g. 10MW or 1GW (2.5W is 2.5 W)"),
    ("-5", "-5"),  # parse_power_w's own refusal first
    (0, "0 has no unit; write the power with one, e.g. 10MW or 1GW [^(]"),  # no "(0W is 0 W)"
    ("1_000", "cannot read quantity '1_000'"),
])
def test_a_bare_site_power_names_what_was_typed(power: object, line: str) -> None:
    with pytest.raises(ValueError, match=line.replace("(", r"\(").replace(")", r"\)")):
        ScenarioSpec.model_validate(_scenario(site={"power": power}))
    with pytest.raises(ValueError, match="has no unit" if "no unit" in line else line.split()[-1]):  # fleet's
        FleetSite.model_validate({"name": "a", "accelerator": "h100-sxm", "power": power})


def test_a_boolean_power_keeps_the_types_line() -> None:
    for target in (lambda p: ScenarioSpec.model_validate(_scenario(site={"power": p})),
                   lambda p: FleetSite.model_validate({"name": "a", "accelerator": "h100-sxm", "power": p})):
        with pytest.raises(ValueError) as refused:
            target(True)
        assert "has no unit" not in str(refused.value)


def test_a_dumped_site_power_keeps_every_watt() -> None:
    # 12,345,678.9 W: the dump writes the float exactly ("12345678.9W", not "1.23457e+07W"), so it reads back equal
    spec = ScenarioSpec.model_validate(_scenario(site={"power": "12345678.9W"}))
    dumped = spec.model_dump()
    assert dumped["sites"][0]["power"] == "12345678.9W"
    assert ScenarioSpec.model_validate(yaml.safe_load(yaml.safe_dump(dumped))) == spec


def test_a_dumped_half_hour_repair_reads_back() -> None:
    # `repair_time: 30min` is 1800 s, below the hour a bare number is taken for a slip: the spec `compare --vary`
    # dumps and re-reads (si_dump) keeps it; typed bare it is refused
    data = _scenario(policy={"spare_probability": 0.99, "repair_time": "30min"})
    dumped = ScenarioSpec.model_validate(data).model_dump()
    assert ScenarioSpec.model_validate(dumped, context={"si_dump": True}).policy.repair_time == 1800.0
    with pytest.raises(ValueError, match="1800 is 1800 s from a failure"):
        ScenarioSpec.model_validate(_scenario(policy={"spare_probability": 0.99, "repair_time": 1800}))


def test_a_recsys_model_file_is_left_to_the_run(tmp_path: Path) -> None:
    # a path is not a catalog name: validation does not look it up (the run reads the file)
    service = {**MINIMAL["services"][0], "model": str(tmp_path / "my-dlrm.yaml")}
    spec = ScenarioSpec.model_validate(_scenario(services=[service]))
    assert spec.services[0].model == str(tmp_path / "my-dlrm.yaml")


FLEET_KEYS = {"name": "f", "services": [], "pools": []}


@pytest.mark.parametrize(("data", "spec", "refused"), [
    ({**FLEET_KEYS, "objective": "tco"}, "scenario", "this is a fleet-mix spec"),
    ({**FLEET_KEYS, "pue": 1.2}, "scenario", "this is a fleet-mix spec"),
    ({**FLEET_KEYS, "electricity_usd_per_kwh": 0.08}, "scenario", "this is a fleet-mix spec"),
    ({**FLEET_KEYS}, "scenario", None),  # nothing of a fleet-mix spec's own: the schema's line
    ({**FLEET_KEYS, "phases": [], "pue": 1.2}, "scenario", None),  # a scenario with a stray key
    ({**FLEET_KEYS, "sites": [], "objective": "tco"}, "scenario", None),
    ({**FLEET_KEYS, "sites": []}, "fleet", "this is a plan scenario"),
    ({**FLEET_KEYS, "phases": []}, "fleet", "this is a plan scenario"),
    ({**FLEET_KEYS, "objective": "tco"}, "fleet", None),
    ({1: "x", "pue": 1.2}, "scenario", None),  # not a spec's mapping: the schema's line
    (["phases"], "fleet", None),
])
def test_the_other_planners_file(data: Any, spec: str, refused: str | None) -> None:
    if refused is None:
        assert not_the_other_spec(data, spec) is data
    else:
        with pytest.raises(ValueError, match=refused):
            not_the_other_spec(data, spec)


def test_a_fleet_site_without_a_unit_in_a_fleet_file() -> None:
    fleet = {"name": "f", "sites": [{"name": "a", "accelerator": "h100-sxm", "power": 20_000_000}]}
    with pytest.raises(ValueError, match="20000000 has no unit"):
        Fleet.model_validate(fleet)
    assert Fleet.model_validate({**fleet, "sites": [{**fleet["sites"][0], "power": "20MW"}]}).sites[0].power_w == 2e7
