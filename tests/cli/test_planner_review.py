"""A capacity planner's review of `plan --vary`, `campus --phases` (helper hG5): the tornado's ranges carry their
units (`low_value` 16,000,000 printed bare was 16 MW), a ±P% electricity range over sites with different prices is
refused (it varied the first site's price and set it on every site), and a campus whose phases leave part of it
unscheduled says so. Each test failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.planning.compare import tornado
from infraplan.planning.scenario_spec import ScenarioSpec

SCENARIO = """name: tornado-units
phases: [{name: "2026", year: 2026}]
services:
  - {name: ranking, kind: recsys, model: dlrm-low, qps: 10M, latency_slo: 10ms}
pools:
  - {name: h100, device: h100-sxm, site: ohio}
sites:
  - {name: ohio, power: 10MW, location: ohio}
"""


def test_the_tornado_states_the_unit_of_every_range(cli, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    vary = ["--vary", "ohio.power=±20%", "--vary", "h100.price=±30%", "--vary", "electricity=0.05..0.12",
            "--vary", "pue=1.1..1.3", "--vary", "headroom=0..0.3"]
    code, out, err = cli(["plan", str(path), *vary, "--json"])
    assert code == 0, err
    units = {row["parameter"]: row["unit"] for row in json.loads(out)["tornado"]}
    assert units == {"ohio.power": "W", "h100.price": "USD per device", "electricity": "USD/kWh",
                     "pue": "facility W / IT W", "headroom": "fraction of demand"}
    code, out, err = cli(["plan", str(path), *vary])
    assert code == 0, err
    assert "8 MW" in out and "12 MW" in out and "8,000,000" not in out  # 10 MW +- 20 %
    assert "$0.05/kWh" in out and "$0.12/kWh" in out
    assert "$29.4 k" in out  # the catalog's $42,000 H100 - 30 %


def test_a_relative_electricity_range_over_sites_with_different_prices_is_refused() -> None:
    spec = ScenarioSpec.model_validate({
        "name": "two-sites", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": 1e6, "latency_slo": "10ms"}],
        "pools": [{"name": "p", "device": "h100-sxm", "site": "a"}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"},
                  {"name": "b", "power": "10MW", "location": "texas"}]})
    with pytest.raises(InputError, match=r"sites a \(\$70.3/MWh\) and b \(\$66/MWh\).*LOW..HIGH"):
        tornado(spec, ["electricity=±30%"])
    assert tornado(spec, ["electricity=0.05..0.12"])[0].low_value == 0.05  # one price for every site: fine


def test_a_campus_whose_phases_leave_part_unscheduled_says_so(cli) -> None:
    code, out, err = cli(["campus", "--power", "1GW", "--accelerator", "h100-sxm", "--phases", "2026:0.3,2027:0.3"])
    assert code == 0, err
    out = " ".join(out.split())  # a phase line (peak and average since hL57) wraps at the terminal's width
    assert "cumulative 30 %)" in out and "cumulative 60 %)" in out
    assert "40 % of the campus" in out and "no phase" in out
    code, out, err = cli(["campus", "--power", "1GW", "--accelerator", "h100-sxm", "--phases", "2026:0.3,2027:0.7"])
    assert code == 0 and "no phase" not in out


@pytest.mark.parametrize("args", [
    ["facility", "--accelerator", "h100-sxm", "--count", "8", "--plot"],
    ["campus", "--power", "100MW", "--accelerator", "h100-sxm", "--plot"],
    ["plan", "examples/plan-minimal.yaml", "--report"],
])
def test_an_html_output_not_named_html_is_refused_as_search_and_results_refuse_it(cli, tmp_path: Path,
                                                                                  args: list[str]) -> None:
    target = tmp_path / "chart.txt"  # facility wrote a 4.8 MB HTML page into it, exit 0
    code, out, err = cli([*args, str(target)])
    assert code == 2 and not out and err.count("\n") == 1, err
    assert f"must name an .html file, got '{target}'" in err
    assert not target.exists()


@pytest.mark.parametrize(("power", "wanted"), [
    ("1TW", "--power 1 TW holds more than 10,000,000 accelerators"),  # was "--power 1e+12 W"
    # "145345 W"; hN65: 149.3 -> 149 kW, the generic rack's leaf at gb200-nvl72's radix 144 (was 72); hB66: 151.5 kW,
    # the rack's 72 NIC links on optics to the rail leaves of its SuperPOD unit
    ("1kW", "--power 1 kW is below one 72-accelerator unit of gb200 (151.5 kW of facility power)"),
])
def test_a_campus_power_refusal_writes_watts_with_a_prefix(cli, power: str, wanted: str) -> None:
    code, _, err = cli(["campus", "--power", power, "--accelerator", "gb200"])
    assert code == 2 and wanted in err and "e+" not in err, err


@pytest.mark.parametrize("command", ["facility", "campus", "reliability", "fleet-mix", "plan", "compare",
                                     "train --tokens"])
def test_every_field_of_the_planner_commands_is_described(command: str) -> None:
    """`infraplan schema COMMAND` documents each field (its unit where it has one): campus, facility, reliability and
    fleet-mix left 107 fields bare (`days_per_run_per_job`, `CampusPhase.fraction`, `goodput`, `pue`, ...);
    tests/cli/test_schema.py checks only the training, serving and network commands, and only their $defs."""
    from infraplan.cli.commands.schema import json_schema

    schema = json_schema(command)
    models = {**schema.get("$defs", {}), str(schema.get("title")): schema}
    bare = [f"{name}.{prop}" for name, model in models.items()
            for prop, spec in model.get("properties", {}).items() if not spec.get("description")]
    assert not bare, bare


def test_campus_runs_per_year_reconcile_with_the_jobs_the_line_names(cli) -> None:
    """262 runs/year "(29 jobs of 16,384 GPUs, 41 days each)" read as 29 x 365.25 / 41.15 = 257: the count also
    takes the 8,200 GPUs beyond whole jobs at the job's rate; the line now says so."""
    from infraplan.cluster.cost import SECONDS_PER_YEAR

    code, out, _ = cli(["campus", "--power", "1GW", "--accelerator", "gb200", "--json"])
    d = json.loads(out)
    cap = d["training_capacity"]
    rest = d["accelerators"] - cap["concurrent_jobs"] * cap["job_gpus"]
    whole = cap["concurrent_jobs"] * SECONDS_PER_YEAR / (cap["days_per_run_per_job"] * 86400)
    # hN55: the runs a year are the whole jobs' (a 16,384-GPU job does not run on the 8,200 beyond them); the count
    # with every GPU at the job's rate is `all_accelerator_runs_per_year`, and the line says both
    assert cap["runs_per_year"] == pytest.approx(whole)
    assert cap["all_accelerator_runs_per_year"] == pytest.approx(
        whole * (1 + rest / (cap["concurrent_jobs"] * cap["job_gpus"])))
    code, out, _ = cli(["campus", "--power", "1GW", "--accelerator", "gb200"])
    words = out.replace("│", " ").split()  # the table wraps the line at the terminal's width
    assert f"{rest:,}" in words and "beyond" in words and "counting" in words
