"""hN (session 76): a planner's walk of facility / campus / plan with a user's own cooling, location and build type.

1. A cooling file stating its PUE and WUE for fewer climates than the three (`pue: {temperate: 1.12}`), at a
   location of another climate (a cool one), raised KeyError 'cool' from `cluster.cost.site_inputs` (a traceback,
   exit 1) in `facility`, `campus` and `plan`, even with `--pue` given. Now one line naming the file, the climate and
   what it states (`catalog.facility_loader.CoolingType.climate`); an override skips the file's figure.
2. A cooling or build type file took what a cost file may not say: a PUE of 1e300 (31 digits of facility power), a
   floor area of 1e300 m2 a rack, a facility at 1e300 $/W, a life of 0.001 years ($831 an A100 hour) or 1e300 years,
   each answered with exit 0. Now the cost file's bounds (`CostOverrides`, `infraplan.limits`).
3. A failure-rate file's `all_causes: jobs.yaml` was read from the working folder, not beside the file (as `extends`
   and a part's `accelerator` are): "no such file: jobs.yaml" run from elsewhere. One naming a node-failure rate
   (`all_causes: rsc-1`) was reported as "jobs on its cluster were ended by all causes at 6.5 per 1,000 node-days"
   (rsc-1's node failures); one naming no rate was never read unless `counts: node_failures`. Now read beside the
   file and checked to count job interruptions (`catalog.reliability_loader.load_failure_rate`).
4. The same for a cooling file's `default_build_type` (`load_cooling`), a plan's sites' `location` / `cooling` /
   `build_type` and its policy's `failure_rate`, and a `campus --fleet` file's sites' `system` / `accelerator` /
   `location` / `cooling`: each was read from the working folder where a plan's pools and services are read beside
   the file (hU50, hU54): "no such file: rdhx.yaml" (`catalog.loader.pool_files_beside`, now also for `load_fleet`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main as cli_main

COOLING = """description: rear-door heat exchangers
max_rack_power_w: 60kW
pue: {PUE}
wue_l_per_kwh: {WUE}
floor_area_m2_per_rack: {FLOOR}
default_build_type: hyperscale
source: a user's figures
"""
CLIMATES = "{cool: 1.06, temperate: 1.12, hot: 1.18}"
COOL_SITE = """climate: cool
electricity_usd_per_mwh: 45
grid_gco2_per_kwh: 30
source: a user's hydro site
"""
SCENARIO = """name: nordic
phases: [{{name: "2025", year: 2025}}]
services: [{{name: ranking, kind: recsys, model: dlrm-low, qps: 10M, latency_slo: 10ms}}]
pools: [{{name: h100, device: h100-sxm, site: nordic}}]
sites: [{{name: nordic, power: 10MW, location: {LOCATION}, cooling: {COOLING}}}]
{POLICY}"""
BUILD = """usd_per_w: {USD}
life_years: {LIFE}
build_months: 14
source: a user's figures
"""


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    import json

    assert cli_main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_cooling_file_without_the_sites_climate_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cooling = _file(tmp_path, "rdhx.yaml", COOLING.format(PUE="{temperate: 1.12}", WUE="{temperate: 0.2}", FLOOR=2.8))
    cool = _file(tmp_path, "nordic.yaml", COOL_SITE)
    facility = ["facility", "--system", "meta-rsc", "--cooling", cooling, "--location", cool]
    err = _refused(facility, capsys)
    assert "states no pue for a cool climate" in err and "it states temperate" in err and "add `cool:`" in err
    # --pue replaces the file's PUE; its WUE for the climate is still asked
    err = _refused([*facility, "--pue", "1.2"], capsys)
    assert "states no wue_l_per_kwh for a cool climate" in err
    err = _refused(["campus", "--power", "20MW", "--accelerator", "h100-sxm", "--cooling", cooling,
                    "--location", cool], capsys)
    assert "states no pue for a cool climate" in err
    scenario = _file(tmp_path, "plan.yaml", SCENARIO.format(LOCATION=cool, COOLING=cooling, POLICY=""))
    assert "states no pue for a cool climate" in _refused(["plan", scenario], capsys)
    # the climate it states answers, at its own PUE; a --costs file's PUE and WUE replace both at the cool site
    assert _json(["facility", "--system", "meta-rsc", "--cooling", cooling], capsys)["pue"] == pytest.approx(1.12)
    costs = _file(tmp_path, "costs.yaml", "pue: 1.3\nwue_l_per_kwh: 0.5\n")
    answer = _json([*facility, "--costs", costs], capsys)
    assert (answer["pue"], answer["assumptions"]["wue_l_per_kwh"]) == (pytest.approx(1.3), pytest.approx(0.5))


@pytest.mark.parametrize(("kind", "text", "field"), [
    ("cooling", COOLING.format(PUE="{cool: 1.06, temperate: 1e300, hot: 1.18}", WUE=CLIMATES, FLOOR=2.8), "pue"),
    ("cooling", COOLING.format(PUE=CLIMATES, WUE=CLIMATES, FLOOR="1e300"), "floor_area_m2_per_rack"),
    ("build-type", BUILD.format(USD="1e300", LIFE=14), "usd_per_w"),
    ("build-type", BUILD.format(USD=8, LIFE=0.001), "life_years"),
    ("build-type", BUILD.format(USD=8, LIFE="1e300"), "life_years"),
], ids=["pue-1e300", "floor-1e300", "usd-per-w-1e300", "life-0.001", "life-1e300"])
def test_cooling_and_build_type_files_take_a_cost_files_bounds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, text: str, field: str) -> None:
    path = _file(tmp_path, "mine.yaml", text)
    err = _refused(["facility", "--system", "meta-rsc", f"--{kind}", path], capsys)
    assert err.startswith(f"infraplan: error: invalid {'cooling type' if kind == 'cooling' else 'build type'} file")
    assert f"{field}" in err


def test_files_within_the_bounds_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the bounds' ends answer: PUE 10 and 100 m2 a rack, $1,000/W, lives of 0.5 and 50 years
    cooling = _file(tmp_path, "c.yaml", COOLING.format(PUE="{cool: 1.0, temperate: 10, hot: 1.2}", WUE=CLIMATES,
                                                        FLOOR=100))
    answer = _json(["facility", "--system", "meta-rsc", "--cooling", cooling], capsys)
    assert answer["pue"] == pytest.approx(10.0)
    assert answer["floor_area_m2"] == pytest.approx(100.0 * answer["racks"])
    short = _json(["facility", "--system", "meta-rsc", "--build-type",
                   _file(tmp_path, "b.yaml", BUILD.format(USD=1000, LIFE=0.5))], capsys)
    long = _json(["facility", "--system", "meta-rsc", "--build-type",
                  _file(tmp_path, "l.yaml", BUILD.format(USD=1000, LIFE=50))], capsys)
    assert short["assumptions"]["lives_years"]["facility"] == 0.5
    assert short["annualized_capex_usd_per_year"]["facility"] == pytest.approx(
        100 * long["annualized_capex_usd_per_year"]["facility"])


NODE_RATE = """failures_per_1000_node_days: 5
accelerators_per_node: 8
counts: node_failures
all_causes: {ALL}
source: a user's cluster
"""


def test_a_failure_rate_files_all_causes_is_read_beside_it_and_counts_jobs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    rates = tmp_path / "rates"
    rates.mkdir()
    _file(rates, "jobs.yaml", "failures_per_1000_node_days: 23.73\naccelerators_per_node: 8\n"
          "counts: job_interruptions\nsource: a user's cluster, every cause\n")
    nodes = _file(rates, "nodes.yaml", NODE_RATE.format(ALL="jobs.yaml"))
    monkeypatch.chdir(tmp_path)  # not the files' folder
    reliability = ["reliability", "--system", "meta-rsc", "--gpus", "4096", "--failure-rate"]
    answer = _json([*reliability, nodes], capsys)
    line = next(n for n in answer["notes"] if "ended by all causes at 23.73 per 1,000 node-days" in n)
    assert "job MTTF 1.98 h at 4,096 GPUs" in line  # 86,400 x 1,000 / 23.73 / 512 nodes = 1.98 h
    for named, said in (("rsc-1", "all_causes rsc-1 counts node failures"),
                        (nodes, "counts node failures"),  # itself
                        ("nope", "all_causes: unknown failure rate 'nope'")):
        err = _refused([*reliability, _file(rates, "bad.yaml", NODE_RATE.format(ALL=named))], capsys)
        assert said in err and "bad.yaml" in err
    # a node of more accelerators than the product's limit (infraplan.limits.MAX_ACCELERATORS): 1e21 gave 0 failures
    huge = NODE_RATE.format(ALL="rsc-1-jobs").replace("accelerators_per_node: 8", "accelerators_per_node: 10000001")
    assert "accelerators_per_node" in _refused([*reliability, _file(rates, "huge.yaml", huge)], capsys)
    at_limit = _json([*reliability, _file(rates, "ok.yaml", huge.replace("10000001", "10000000"))], capsys)
    assert 0 < at_limit["expected_interruptions_per_day"] < 1e-3


def test_files_named_inside_a_file_are_read_beside_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _file(site, "cheap.yaml", BUILD.format(USD=8, LIFE=20))
    _file(site, "rdhx.yaml", COOLING.format(PUE=CLIMATES, WUE=CLIMATES, FLOOR=2.8).replace(
        "default_build_type: hyperscale", "default_build_type: cheap.yaml"))
    _file(site, "nordic.yaml", COOL_SITE)
    _file(site, "nodes.yaml", NODE_RATE.format(ALL="rsc-1-jobs").replace("failures_per_1000_node_days: 5",
                                                                         "failures_per_1000_node_days: 50"))
    plan = _file(site, "plan.yaml", SCENARIO.format(LOCATION="nordic.yaml", COOLING="rdhx.yaml", POLICY=(
        "policy: {spare_probability: 0.99, failure_rate: nodes.yaml}\n")))
    fleet = _file(site, "fleet.yaml", "name: nordic\nsites:\n  - {name: a, accelerator: h100-sxm, count: 1024, "
                  "location: nordic.yaml, cooling: rdhx.yaml}\n")
    monkeypatch.chdir(tmp_path)  # not the files' folder
    facility = _json(["facility", "--accelerator", "h100-sxm", "--count", "1024", "--cooling", str(site / "rdhx.yaml"),
                      "--location", str(site / "nordic.yaml")], capsys)
    # the cooling file's own build type: $8/W over 20 years, PUE 1.06 at the cool site
    assert (facility["assumptions"]["facility_usd_per_w"], facility["assumptions"]["lives_years"]["facility"],
            facility["pue"]) == (8.0, 20.0, pytest.approx(1.06))
    campus = _json(["campus", "--fleet", fleet], capsys)
    assert campus["sites"][0]["facility_power_w"] == pytest.approx(facility["facility_power_w"])
    planned = _json(["plan", plan], capsys)
    assert planned["sites"][0]["location"].endswith("nordic.yaml")
    assert any("nodes.yaml: 50 node failures" in line for row in planned["pools"] for line in [row["spare_rate_basis"]])
    bad = COOLING.format(PUE=CLIMATES, WUE=CLIMATES, FLOOR=2.8).replace("hyperscale", "nosuch")
    err = _refused(["facility", "--system", "meta-rsc", "--cooling", _file(site, "bad.yaml", bad)], capsys)
    assert "bad.yaml: default_build_type: unknown build type 'nosuch'" in err
