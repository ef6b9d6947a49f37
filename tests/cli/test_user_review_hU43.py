"""hU43 (session 42): a planner's review of the infrastructure commands (validation/notes/product_review_tried.md,
section "hU43 (session 42)").

- A scenario's `policy.pue` and `policy.electricity_usd_per_kwh` had no upper bound, where the cost model they feed
  has the CLI's (PUE <= 10, <= $1e6/MWh): `pue: 1e300`, or `plan --vary pue=1..1e9`, crashed `plan` with a pydantic
  traceback (a 500 from the web). The spec now carries fleet-mix's bounds.
- A pool's installed base was reported as delivered in the first phase (`new_devices` = every device; meta-2024 said
  24,576 new GPUs for each 24K cluster it lists as installed).
- `peak_to_average` on a service whose demand is stated at its peak (recsys `qps`, an llm or image `rate`) was read
  by nothing: the fleet was sized for the stated figure, silently.
- A cost file (`--costs`) took any grid intensity and any positive life: 1e300 g/kWh gave CO2 "-" and a numpy
  overflow warning, a 1e-300-year life $inf/GPU-h; it now takes a location file's and a pool's bounds.
- A recsys model or video device file with `extends: PRESET` (what system and accelerator files take) said
  "source: Field required"; it now says `extends` is not read there and how to get the preset's fields.
- A sweep axis written as `{log: {...}}` or `{range: {...}}` with a bad bound said "Input should be a valid list";
  an axis listing no value ran a sweep of 0 points (exit 0, an empty results folder).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun

PLAN = Path(__file__).resolve().parents[2] / "examples" / "plan-minimal.yaml"


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("policy", "field"), [("pue: 11", "policy.pue"),
                                               ("pue: 1e300", "policy.pue"),
                                               ("electricity_usd_per_kwh: 1001", "policy.electricity_usd_per_kwh")])
def test_a_policy_price_or_pue_beyond_the_cost_models_bound_is_one_line(cli: CliRun, tmp_path: Path, policy: str,
                                                                       field: str) -> None:
    scenario = _scenario(tmp_path, PLAN.read_text() + f"policy: {{{policy}}}\n")
    code, out, err = cli(["plan", str(scenario), "--json"])
    assert code == 2 and out == ""
    bound = "USD/MWh?" if "electricity" in field else "less than or equal"  # a price above 10 USD/kWh: the unit
    assert err.count("\n") == 1 and field in err and bound in err


def test_vary_pue_beyond_its_bound_is_one_line(cli: CliRun) -> None:
    code, out, err = cli(["plan", str(PLAN), "--vary", "pue=1..1e9", "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--vary pue=1e+09" in err


def test_the_web_answers_400_not_500_for_a_policy_pue_beyond_its_bound() -> None:
    import yaml
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    spec = {**yaml.safe_load(PLAN.read_text()), "policy": {"pue": 1e300}}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        got = client.post("/api/plan", json={"scenario": {"spec": spec}})
    assert got.status_code == 400, got.text
    assert "policy.pue" in got.json()["detail"]


@pytest.mark.parametrize(("installed", "devices", "new"), [(16, 16, 0), (3, 8, 8), (0, 8, 8)])
def test_an_installed_base_is_not_delivered_in_the_first_phase(cli: CliRun, tmp_path: Path, installed: int,
                                                               devices: int, new: int) -> None:
    """plan-minimal's ranking needs one H100 server (8 devices); an installed base of 16 is kept whole; 3 are not
    a whole server (hL44: not usable in the layout, a warning), so one server is delivered (8)."""
    scenario = _scenario(tmp_path, PLAN.read_text().replace("site: ohio}", f"site: ohio, installed: {installed}}}"))
    code, out, err = cli(["plan", str(scenario), "--json"])
    assert code == 0, err
    (pool,) = json.loads(out)["pools"]
    assert (pool["devices"], pool["new_devices"]) == (devices, new)


@pytest.mark.parametrize("command", ["plan", "fleet-mix"])
def test_peak_to_average_on_a_peak_demand_is_refused(cli: CliRun, tmp_path: Path, command: str) -> None:
    if command == "plan":
        text = PLAN.read_text().replace("qps: 10M,", "qps: 10M, peak_to_average: 3,")
    else:
        text = ("name: f\nservices:\n  - {name: r, kind: recsys, model: dlrm-low, qps: 10M, latency_slo: 10ms, "
                "peak_to_average: 3}\npools:\n  - {name: h100, device: h100-sxm, price_usd_per_device: 42000}\n")
    code, out, err = cli([command, str(_scenario(tmp_path, text)), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "peak_to_average" in err and "qps is its peak already" in err


def test_peak_to_average_of_a_per_day_demand_is_still_read(cli: CliRun, tmp_path: Path) -> None:
    """A video service's daily hours are an average: x2 peak doubles the streams it is sized for."""
    streams = []
    for peak in (1, 2):
        text = ("name: f\nservices:\n  - {name: v, kind: video, daily_hours: 24000, input: 1080p30, "
                f"peak_to_average: {peak}}}\npools:\n  - {{name: msvp, device: msvp, price_usd_per_device: 1500}}\n")
        code, out, err = cli(["fleet-mix", str(_scenario(tmp_path, text)), "--json"])
        assert code == 0, err
        streams.append(sum(a["served"] for a in json.loads(out)["assignment"]))
    assert streams[1] == pytest.approx(2 * streams[0], rel=1e-9)


@pytest.mark.parametrize(("axis", "where"), [("{log: {start: 1e8, stop: 1e9, num: 0}}", "power.log.num"),
                                             ("{log: {start: 0, stop: 1e9, num: 4}}", "power.log.start"),
                                             ("{range: {start: 1, stop: 0, step: 1}}", "power.range: range from")])
def test_a_bad_log_or_range_axis_names_its_field(cli: CliRun, tmp_path: Path, axis: str, where: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"function: campus\nfixed: {{accelerator: gb200}}\naxes:\n  - product: {{power: {axis}}}\n")
    code, out, err = cli(["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and where in err and "valid list" not in err and "function-after" not in err
    assert not (tmp_path / "out").exists()


def test_an_axis_listing_no_value_is_refused(cli: CliRun, tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("function: campus\nfixed: {power: 1GW}\naxes:\n  - product: {accelerator: []}\n")
    code, out, err = cli(["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "axis 'accelerator' lists no value" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("line", "field"), [("grid_gco2_per_kwh: 1e300", "grid_gco2_per_kwh"),
                                             ("server_life_years: 1e-300", "server_life_years"),
                                             ("facility_life_years: 1000", "facility_life_years")])
def test_a_cost_file_takes_a_location_files_and_a_pools_bounds(cli: CliRun, tmp_path: Path, line: str,
                                                               field: str) -> None:
    """A cost file's grid intensity 1e300 g/kWh printed a numpy overflow warning and CO2 "-"; a 1e-300-year server
    life $inf/GPU-h and an embodied CO2 of 7.9e303 t/year, both with exit 0."""
    costs = tmp_path / "costs.yaml"
    costs.write_text(f"source: a user's figure\n{line}\n")
    code, out, err = cli(["facility", "--system", "meta-genai-roce-24k", "--costs", str(costs), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and field in err and "overflow" not in err


def test_a_cost_file_at_its_bounds_is_still_priced(cli: CliRun, tmp_path: Path) -> None:
    costs = tmp_path / "costs.yaml"
    costs.write_text("source: a user's figure\ngrid_gco2_per_kwh: 10000\nserver_life_years: 0.5\n"
                     "facility_life_years: 50\n")
    code, out, err = cli(["facility", "--system", "meta-genai-roce-24k", "--costs", str(costs), "--json"])
    assert code == 0, err
    got = json.loads(out)
    assert got["assumptions"]["grid_gco2_per_kwh"] == 10000 and got["co2_t_per_year"] > 0


@pytest.mark.parametrize(("args", "text", "what"), [
    (["recsys", "{f}", "--accelerator", "mtia-v2"], "extends: dlrm-high\n", "catalog recsys dlrm-high"),
    (["video", "--device", "{f}"], "extends: msvp\nkind: video-asic\n", "catalog video-devices msvp"),
])
def test_an_inference_file_that_extends_a_preset_is_told_why(cli: CliRun, tmp_path: Path, args: list[str],
                                                             text: str, what: str) -> None:
    """Recsys model and video device files have no `extends` (system, accelerator and stack files do): the error
    was the schema's first, "source: Field required", which did not say why."""
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    code, out, err = cli([a.replace("{f}", str(path)) for a in args] + ["--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "`extends`" in err and what in err
