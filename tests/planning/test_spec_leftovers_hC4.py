"""Stated bounds on durations in scenario / fleet-mix specs and on powers in the user's facility catalog files
(cooling types, fleets): one line, exit code 2, the number in the project's duration or power units."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.facility_loader import CoolingType, Economics, FleetSite
from infraplan.catalog.loader import validated
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.limits import MAX_DEADLINE_S, MAX_RACK_POWER_W, MAX_SITE_POWER_W
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.scenario_types import duration_text

ROOT = Path(__file__).resolve().parents[2]
GIGAWATT = yaml.safe_load((ROOT / "examples" / "gigawatt-2027.yaml").read_text(encoding="utf-8"))
FLEET = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text(encoding="utf-8"))
TRAINING = next(i for i, s in enumerate(GIGAWATT["services"]) if s.get("deadline"))


def _set(spec: dict[str, Any], index: int, key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = yaml.safe_load(yaml.safe_dump(spec))  # a deep copy
    out["services"][index][key] = value
    return out


def _line(command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> str:
    """The one stderr line of `infraplan COMMAND... FILE` (the file holding `text`), which must exit 2."""
    file = tmp_path / "user.yaml"
    file.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert cli_main([*command, str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infraplan: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_duration_text_stays_short_for_any_finite_duration() -> None:
    assert duration_text(MAX_DEADLINE_S) == "100 years"
    assert duration_text(1e300) == "3.17e+292 years"
    assert duration_text(30 * 86400) == "30.0 days"  # unchanged below 10,000 days
    assert duration_text(9_999 * 86400) == "9,999.0 days"


def test_a_1e300_deadline_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It planned as if no deadline were given (exit 0)."""
    spec = _set(GIGAWATT, TRAINING, "deadline", 1e300)
    err = _line(["plan"], tmp_path, capsys, yaml.safe_dump(spec))
    assert err.endswith(f"services.{TRAINING}.deadline: 3.17e+292 years is above the 100 years limit of a deadline, "
                        "which no device or facility outlasts (infraplan.limits)"), err


@pytest.mark.parametrize(("value", "refusal"), [
    ("36525d", None), (3e9, None), ("30d", None),
    ("36526d", "deadline: 100 years (3.15585e+09 s) is above the 100 years limit"),
    (4e9, "deadline: 127 years is above the 100 years limit")])
def test_deadline_bound_is_100_years(value: Any, refusal: str | None) -> None:
    spec = _set(GIGAWATT, TRAINING, "deadline", value)
    if refusal is None:
        assert validated(ScenarioSpec, spec, "s.yaml", "scenario").services[TRAINING].deadline is not None
    else:
        with pytest.raises(InputError, match=re.escape(refusal)):
            validated(ScenarioSpec, spec, "s.yaml", "scenario")


@pytest.mark.parametrize(("index", "key"), [(0, "latency_slo"), (4, "ttft_slo"), (4, "tpot_slo")])
def test_fleet_slos_are_bounded(index: int, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 1e300 s recsys SLO was "infeasible: no pool can serve" after the estimates; an LLM one went unchecked."""
    assert FLEET["services"][index].get(key) is not None
    err = _line(["fleet-mix"], tmp_path, capsys, yaml.safe_dump(_set(FLEET, index, key, "1e300s")))
    assert err.endswith(f"services.{index}.{key}: 3.17e+292 years is above the 31.7 years limit of a latency SLO "
                        "(infraplan.limits)"), err


@pytest.mark.parametrize(("value", "ok"), [("1e9s", True), ("2s", True), ("1.5e9s", False)])
def test_scenario_slo_bound_is_the_clis(value: Any, ok: bool) -> None:
    """(A bare 1e9 is refused as milliseconds written for seconds since hU68, as --ttft-slo 1e9 is: in seconds.)"""
    spec = _set(GIGAWATT, TRAINING, "kind", "llm")
    spec["services"][TRAINING] = {"name": "chat-hc4", "kind": "llm", "model": "llama3-8b", "workload": "chat",
                                  "rate": 5, "ttft_slo": value}
    if ok:
        assert validated(ScenarioSpec, spec, "s.yaml", "scenario").services[TRAINING].ttft_slo == float(
            value.removesuffix("s"))
    else:
        with pytest.raises(InputError, match=re.escape("ttft_slo: 47.5 years is above the 31.7 years limit")):
            validated(ScenarioSpec, spec, "s.yaml", "scenario")


COOLING = """description: a what-if cooling
max_rack_power_w: {power}
pue: {{cool: 1.1, temperate: 1.2, hot: 1.3}}
wue_l_per_kwh: {{cool: 0, temperate: 0, hot: 0}}
floor_area_m2_per_rack: 2.5
default_build_type: hyperscale
source: a test
"""


def test_a_cooling_file_rack_power_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """1e300 W was taken: `facility` printed a 300-digit kW rack limit and a 300-digit server count."""
    err = _line(["facility", "--system", "dgx-h100-superpod", "--cooling"], tmp_path, capsys,
                COOLING.format(power="1e300W"))
    assert err.endswith("max_rack_power_w: 1e+300 W is above the 10 MW limit of one rack (infraplan.limits)"), err
    spec = yaml.safe_load(COOLING.format(power="10MW"))
    assert validated(CoolingType, spec, "c.yaml").max_rack_power_w == MAX_RACK_POWER_W


def test_a_fleet_file_site_power_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 2 TW site was refused only by the accelerators it would hold, 1e300 W likewise."""
    text = "name: f\nsites:\n  - {name: a, accelerator: h100-sxm, power: 2TW}\n"
    err = _line(["campus", "--fleet"], tmp_path, capsys, text)
    assert err.endswith("sites.0.power: 2 TW is above the 1 TW limit of one site (infraplan.limits)"), err
    site = validated(FleetSite, {"name": "a", "accelerator": "h100-sxm", "power": "1TW"}, "f.yaml")
    assert site.power_w == MAX_SITE_POWER_W


def test_economics_building_power_is_bounded() -> None:
    data = {"source": "s", "server_life_years": 5, "network_life_years": 5,
            "maintenance_fraction_of_capex_per_year": 0.02, "load_factor": 0.8, "cost_of_capital_per_year": 0.1,
            "building_it_power_w": "1e300W"}
    with pytest.raises(InputError, match="building_it_power_w: 1e[+]300 W is above the 1 TW limit of one site"):
        validated(Economics, data, "economics.yaml")


def test_a_cooling_file_in_the_working_folder_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`--cooling mycool.yaml` (no folder in the name) was refused as "must be one of air, immersion, liquid" while
    `--cooling ./mycool.yaml` was read (hX, session 53): a name with a file suffix is a file, as everywhere else."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mycool.yaml").write_text(COOLING.format(power="40kW"))
    from tests.cli.conftest import cli_json
    bare = cli_json(capsys, ["facility", "--system", "dgx-h100-superpod", "--cooling", "mycool.yaml"])
    dotted = cli_json(capsys, ["facility", "--system", "dgx-h100-superpod", "--cooling", "./mycool.yaml"])
    for answer in (bare, dotted):  # the name as given, in two places
        answer.pop("cooling")
        answer["rack_fit"].pop("rack_power_limit_source")
    assert bare == dotted
    assert bare["rack_fit"]["rack_power_limit_w"] == 40e3
