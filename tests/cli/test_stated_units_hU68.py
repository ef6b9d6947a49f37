"""A scenario's or fleet's bare number where the key names no unit, and the planners' files read as they are (hU68).

- A site's `power: 50000` was 50 kW (watts) while `campus --power 50000` is refused for having no unit: the key
  names no unit, so a bare number is refused in one line saying which unit to write (`facility_loader.
  stated_power`), in a plan scenario, a `campus --fleet` file and `--vary SITE.power`. A dumped spec writes the
  watts with their unit, so `ScenarioSpec.model_validate(spec.model_dump())` still reads it.
- An LLM service's bare `ttft_slo: 2000` / `tpot_slo: 50` (plan and fleet-mix) and a policy's `repair_time: 3` were
  planned as 2,000 s, 50 s a token and a 3 s repair, where serve-plan's `--tpot-slo 50` and reliability's
  `--repair-time 3` are refused as a slip of the unit: refused alike.
- An unknown recsys model in a fleet-mix spec said "infeasible: no pool can serve" it, once per pool: now the
  `recsys --model` line at validation. A fleet-mix spec given to `plan` (or a scenario to `fleet-mix`) listed every
  field the other file lacks: now one line naming the command that reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.facility_loader import load_fleet
from infraplan.errors import InputError
from infraplan.planning.compare import parse_vary
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLES = Path(__file__).parents[2] / "examples"
MINIMAL = (EXAMPLES / "plan-minimal.yaml").read_text()
FLEET_MIX = (EXAMPLES / "fleet-mix.yaml").read_text()


def _refused(cli: Any, args: list[str]) -> str:
    code, out, err = cli(args)
    assert code == 2 and not out.strip() and err.count("\n") == 1 and "Traceback" not in err, (code, out, err)
    return err


@pytest.mark.parametrize(("power", "typed", "watts"), [("50000", "50000", "50 kW"), ("1e9", "1000000000", "1 GW"),
                                                        ("'7'", "7", "7 W")])
def test_a_site_power_without_a_unit_is_refused(cli: Any, tmp_path: Path, power: str, typed: str, watts: str) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(MINIMAL.replace("power: 10MW", f"power: {power}"))
    err = _refused(cli, ["plan", str(scenario)])
    assert err.endswith(f"sites.0.power: {typed} has no unit; write the power with one, e.g. 10MW or 1GW ({typed}W "
                        f"is {watts})\n"), err
    fleet = tmp_path / "f.yaml"
    fleet.write_text(f"name: f\nsites:\n  - {{name: a, accelerator: h100-sxm, power: {power}}}\n")
    assert f"sites.0.power: {typed} has no unit" in _refused(cli, ["campus", "--fleet", str(fleet)])
    fleet.write_text("name: f\nsites:\n  - {name: a, accelerator: h100-sxm, power: 50kW}\n")
    assert load_fleet(str(fleet)).sites[0].power_w == 50e3  # with its unit: read as before


def test_a_dumped_scenario_validates_again_with_its_watts_stated() -> None:
    for name in ("plan-minimal", "gigawatt-2027"):
        spec = load_scenario(EXAMPLES / f"{name}.yaml")
        dumped = spec.model_dump()
        assert all(isinstance(s["power"], str) and s["power"].endswith("W") for s in dumped["sites"])
        assert ScenarioSpec.model_validate(dumped) == spec
        assert ScenarioSpec.model_validate(yaml.safe_load(yaml.safe_dump(dumped))) == spec  # as a file, too
    assert load_scenario(EXAMPLES / "plan-minimal.yaml").sites[0].power == 10e6
    # `compare --vary` re-validates a dump with a varied power in watts (`si_dump`): still read
    data = load_scenario(EXAMPLES / "plan-minimal.yaml").model_dump()
    data["sites"][0]["power"] = 2.5e7
    assert ScenarioSpec.model_validate(data, context={"si_dump": True}).sites[0].power == 2.5e7
    with pytest.raises(ValueError, match="25000000 has no unit"):
        ScenarioSpec.model_validate(data)


def test_vary_site_power_takes_its_unit() -> None:
    spec = load_scenario(EXAMPLES / "plan-minimal.yaml")
    assert parse_vary(spec, "ohio.power=50kW..60MW") == ("ohio.power", 5e4, 6e7)
    for bare in ("ohio.power=50000..60000", "ohio.power=50kW..6e7"):
        with pytest.raises(InputError, match="a site's power takes its unit, as its `power:` does; write each end"):
            parse_vary(spec, bare)
    assert parse_vary(spec, "ohio.power=±20%") == ("ohio.power", pytest.approx(8e6), pytest.approx(12e6))


LLM = "  - {name: chat, kind: llm, model: llama3-8b, workload: chat, rate: 1, SLO}\n"


@pytest.mark.parametrize(("slo", "wanted"), [
    ("ttft_slo: 2000", "services.1.ttft_slo: 2000 is 2000 s to the first token (an image's end to end): did you "
                       "mean 2000ms?"),
    ("tpot_slo: 50", "services.1.tpot_slo: 50 is 50 s per output token: did you mean 50ms?"),
])
def test_llm_slos_without_a_unit_slip_as_serve_plans(cli: Any, tmp_path: Path, slo: str, wanted: str) -> None:
    scenario = tmp_path / "s.yaml"
    text = MINIMAL.replace("pools:\n", LLM.replace("SLO", slo) + "pools:\n")
    scenario.write_text(text)
    assert wanted in _refused(cli, ["plan", str(scenario)])
    fleet = tmp_path / "f.yaml"
    fleet.write_text(FLEET_MIX.replace("ttft_slo: 2s", slo.replace("tpot_slo", "ttft_slo"))
                     if slo.startswith("ttft") else FLEET_MIX.replace("tpot_slo: 200ms", slo))
    assert wanted.split(": ", 1)[1] in _refused(cli, ["fleet-mix", str(fleet)])
    # with the unit the figure is taken as written, and a number within the ceiling as seconds
    for ok in (slo + "ms", slo + "s", slo.split(":")[0] + ": 0.5"):
        scenario.write_text(text.replace(slo, ok))
        spec = load_scenario(scenario)
        assert getattr(spec.services[1], slo.split(":")[0]) == {"ms": float(slo.split()[1]) / 1e3, "s": float(
            slo.split()[1])}.get(ok[len(slo):], 0.5)


def test_a_repair_time_without_a_unit_slips_as_reliabilitys(cli: Any, tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(MINIMAL + "policy: {spare_probability: 0.99, repair_time: 3}\n")
    assert _refused(cli, ["plan", str(scenario)]).endswith(
        "policy.repair_time: 3 is 3 s from a failure to the server back in service: did you mean 3d or 3h? (a bare "
        "number is seconds, below 3600 s taken for a slip; write 3s to mean seconds)\n")
    for text, seconds in (("3d", 3 * 86400.0), ("3s", 3.0), ("7200", 7200.0)):
        scenario.write_text(MINIMAL + f"policy: {{spare_probability: 0.99, repair_time: {text}}}\n")
        assert load_scenario(scenario).policy.repair_time == seconds


def test_an_unknown_recsys_model_is_the_recsys_line_at_validation(cli: Any, tmp_path: Path) -> None:
    line = "services.0: unknown recsys model 'dlrm-nope'; did you mean dlrm-low or dlrm-medium or dlrm-high?\n"
    scenario, fleet = tmp_path / "s.yaml", tmp_path / "f.yaml"
    scenario.write_text(MINIMAL.replace("model: dlrm-low", "model: dlrm-nope"))
    fleet.write_text(FLEET_MIX.replace("model: dlrm-low", "model: dlrm-nope", 1))
    assert _refused(cli, ["plan", str(scenario)]).endswith(line)
    err = _refused(cli, ["fleet-mix", str(fleet)])
    assert err.endswith(line) and "infeasible" not in err and err.count("dlrm-nope") == 1, err


def test_the_other_planners_file_is_named(cli: Any) -> None:
    err = _refused(cli, ["plan", str(EXAMPLES / "fleet-mix.yaml")])
    assert "this is a fleet-mix spec" in err and "`infraplan fleet-mix FILE` sizes it" in err
    assert "Field required" not in err and "Extra inputs" not in err
    err = _refused(cli, ["fleet-mix", str(EXAMPLES / "plan-minimal.yaml")])
    assert "this is a plan scenario (it has phases or sites): `infraplan plan FILE` plans it" in err
    assert "did you mean system" not in err
