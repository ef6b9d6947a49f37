"""Scenario and fleet-mix specs are checked whole when they are loaded (the CLI and the web validate them the same
way): an LLM service's unknown model, workload, stack or dtype, a power beyond its stated limit, a depreciation
period outside 0.5-50 years and a boolean given for a number are each one line, exit code 2, before anything runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.loader import validated
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.limits import MAX_HOST_POWER_W, MAX_LIFETIME_YEARS, MAX_SITE_POWER_W, MIN_LIFETIME_YEARS
from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario_spec import ScenarioSpec

ROOT = Path(__file__).resolve().parents[2]
FLEET = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text(encoding="utf-8"))
SCENARIO = yaml.safe_load((ROOT / "examples" / "plan-minimal.yaml").read_text(encoding="utf-8"))
LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}


def spec_with(spec: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `spec` with the item at `path` (keys and list indices) set to `value` (also the web's twin
    of these checks', tests/web/test_web_spec_bounds_hC3.py)."""
    out: dict[str, Any] = yaml.safe_load(yaml.safe_dump(spec))  # a deep copy
    part: Any = out
    for key in path[:-1]:
        part = part[key]
    part[path[-1]] = value
    return out


def _fleet(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    return spec_with(FLEET, path, value)


def _scenario(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    spec = spec_with(SCENARIO, ("services",), [*SCENARIO["services"], LLM])
    return spec_with(spec, path, value)


def _cli_line(command: str, spec: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line of `infraplan COMMAND FILE`, which must exit 2."""
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    capsys.readouterr()
    assert cli_main([command, str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infraplan: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


LLM_NAMES = [
    ("model", "llama3-70bx", "services.4: unknown model 'llama3-70bx'; did you mean llama3-70b"),
    ("workload", "chatx", "services.4: unknown workload 'chatx'; did you mean chat?"),
    ("stack", "nosuch", "services.4: unknown serving stack 'nosuch'; choose from pytorch-mtia, sglang-0.x"),
    ("stack", "nemo-26.04", "services.4: stack nemo-26.04 is a training stack without a `serving:` block"),
    ("dtypes", ["bf16", "bf17"], "services.4: unknown dtype 'bf17'; choose from bf16, fp8"),
]


@pytest.mark.parametrize(("field", "value", "line"), LLM_NAMES)
def test_a_fleet_llm_service_naming_nothing_is_refused_when_loaded(
        field: str, value: Any, line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_search(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the serve-plan search ran: the name was not checked when the spec was loaded")

    monkeypatch.setattr(fleet_mix_llm, "search_capacity", no_search)
    spec = _fleet(("services", 4, field), value)
    with pytest.raises(InputError, match=re.escape(line)):
        validated(FleetSpec, spec, "spec.yaml", "fleet spec")
    assert line in _cli_line("fleet-mix", spec, tmp_path, capsys)


@pytest.mark.parametrize(("field", "value", "line"), LLM_NAMES)
def test_a_scenario_llm_service_naming_nothing_is_refused_when_loaded(
        field: str, value: Any, line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _scenario(("services", 1, field), value)
    line = line.replace("services.4", "services.1")
    with pytest.raises(InputError, match=re.escape(line)):
        validated(ScenarioSpec, spec, "spec.yaml", "scenario")
    assert line in _cli_line("plan", spec, tmp_path, capsys)


def test_a_scenario_training_model_is_checked_too() -> None:
    spec = spec_with(SCENARIO, ("services",), [*SCENARIO["services"], {
        "name": "t", "kind": "training", "model": "llama3-70bx", "tokens": "1T", "deadline": "30d"}])
    with pytest.raises(InputError, match=r"services\.1: unknown model 'llama3-70bx'"):
        validated(ScenarioSpec, spec, "spec.yaml", "scenario")


def test_names_that_exist_and_paths_still_load() -> None:
    """Preset names, a versioned engine name, and file paths (read by the run, not by the check) validate."""
    for field, value in (("stack", "vllm-0.12.0"), ("stack", "sglang-0.x"), ("model", "my/config.json"),
                         ("workload", "my-workload.yaml"), ("dtypes", ["fp8", "nvfp4"])):
        validated(FleetSpec, _fleet(("services", 4, field), value), "spec.yaml", "fleet spec")
    validated(ScenarioSpec, _scenario(("services", 1, "stack"), "trtllm-0.x"), "spec.yaml", "scenario")


def test_a_huge_host_power_is_refused_in_power_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for spec, command in ((_fleet(("pools", 0, "host_power_w"), "1e300W"), "fleet-mix"),
                          (_scenario(("pools", 0, "host_power_w"), 1e300), "plan")):
        err = _cli_line(command, spec, tmp_path, capsys)
        assert "pools.0.host_power_w: 1e+300 W is above the 1 MW limit of a device's host share" in err, err
        assert not re.search(r"\d{20}", err), err  # no 300-digit number
    assert MAX_HOST_POWER_W == 1e6
    ok = validated(FleetSpec, _fleet(("pools", 0, "host_power_w"), "1MW"), "spec.yaml", "fleet spec")
    assert ok.pools[0].host_power_w == 1e6


def test_a_huge_site_power_is_refused() -> None:
    with pytest.raises(InputError, match=r"sites\.0\.power: 1e\+300 W is above the 1 TW limit of one site"):
        validated(ScenarioSpec, _scenario(("sites", 0, "power"), "1e300W"), "spec.yaml", "scenario")
    assert validated(ScenarioSpec, _scenario(("sites", 0, "power"), "1TW"), "s.yaml").sites[0].power == \
        MAX_SITE_POWER_W


def test_a_rack_power_message_has_no_300_digit_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["facility", "--system", "dgx-h100-superpod", "--rack-power", "1e300W"]) == 2
    err = capsys.readouterr().err
    # without --cooling the density picks the first cooling that allows it (hN72): none does, immersion's limit named
    assert "rack power 1e+300 W exceeds the 200.0 kW per rack that immersion" in err, err
    assert not re.search(r"\d{20}", err), err


@pytest.mark.parametrize("years", [1e-300, 0.49, 50.5, 1e300])
def test_lifetime_years_outside_its_range_is_one_line(years: float, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    want = f"pools.0.lifetime_years: {years:.4g} years is outside the 0.5-50 years a depreciation period may be"
    err = _cli_line("fleet-mix", spec_with(_fleet(("pools", 0, "lifetime_years"), years), ("objective",), "tco"),
                    tmp_path, capsys)
    assert want in err, err
    assert want in _cli_line("plan", _scenario(("pools", 0, "lifetime_years"), years), tmp_path, capsys)


def test_lifetime_years_at_its_ends_loads() -> None:
    for years in (MIN_LIFETIME_YEARS, MAX_LIFETIME_YEARS):
        assert validated(FleetSpec, _fleet(("pools", 0, "lifetime_years"), years), "f.yaml").pools[0] \
            .lifetime_years == years
        assert validated(ScenarioSpec, _scenario(("pools", 0, "lifetime_years"), years), "s.yaml").pools[0] \
            .lifetime_years == years


@pytest.mark.parametrize("path", [
    ("services", 0, "qps"), ("services", 0, "latency_slo"), ("services", 3, "daily_hours"),
    ("services", 3, "ladder"), ("services", 3, "peak_to_average"), ("services", 4, "rate"),
    ("services", 4, "ttft_slo"), ("pools", 0, "available"), ("pools", 0, "price_usd_per_device"),
    ("pools", 0, "lifetime_years"), ("pools", 0, "host_power_w"), ("pue",), ("electricity_usd_per_kwh",),
    ("load_factor",),
])
@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_not_a_fleet_number(path: tuple[Any, ...], flag: bool) -> None:
    where = ".".join(map(str, path))
    with pytest.raises(InputError, match=re.escape(f"{where}: a boolean (true/false) is not a number")):
        validated(FleetSpec, _fleet(path, flag), "f.yaml", "fleet spec")


@pytest.mark.parametrize(("path", "value", "where"), [
    (("services", 0, "qps"), True, "services.0.qps"),
    (("services", 1, "rate"), True, "services.1.rate"),
    (("services", 1, "growth"), {"2025": True}, "services.1.growth"),
    (("pools", 0, "available"), True, "pools.0.available"),
    (("pools", 0, "installed"), False, "pools.0.installed"),
    (("pools", 0, "from_year"), True, "pools.0.from_year"),
    (("sites", 0, "power"), True, "sites.0.power"),
    (("phases", 0, "year"), True, "phases.0.year"),
    (("policy",), {"headroom": True}, "policy.headroom"),
    (("policy",), {"redundancy_racks": True}, "policy.redundancy_racks"),
    (("published",), {"devices": True}, "published"),
])
def test_a_boolean_is_not_a_scenario_number(path: tuple[Any, ...], value: Any, where: str) -> None:
    with pytest.raises(InputError, match=re.escape(f"{where}: a boolean (true/false) is not a number")):
        validated(ScenarioSpec, _scenario(path, value), "s.yaml", "scenario")


def test_qps_true_was_read_as_one_and_is_now_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _cli_line("fleet-mix", _fleet(("services", 0, "qps"), True), tmp_path, capsys)
    assert err == ("infraplan: error: invalid fleet spec 'spec.yaml': services.0.qps: a boolean (true/false) is not "
                   "a number; write the number")


def test_a_repair_time_beyond_the_longest_lifetime_is_one_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`repair_time: 1e300` made the spare-node Poisson quantile NaN: a traceback (exit 1). At the bound it plans."""
    spec = spec_with(SCENARIO, ("policy",), {"spare_probability": 0.9, "repair_time": 1e300})
    err = _cli_line("plan", spec, tmp_path, capsys)
    assert "policy.repair_time: 3.17e+292 years is above the 50 years limit of a repair time" in err, err
    spec["policy"]["repair_time"] = MAX_LIFETIME_YEARS * 365.25 * 86400
    file = tmp_path / "ok.yaml"
    file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert cli_main(["plan", str(file), "--json"]) == 0
