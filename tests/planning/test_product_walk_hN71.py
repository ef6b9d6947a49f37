"""hN71's product walk of campus / video (session 71): options an answer dropped, phase lines against their devices.

1. `campus --fleet F` with --phases, --cooling, --location, --build-type or --plot answered rc 0 as if they were not
   given (no phases, each site's own cooling and location, no chart file); the web's campus request alike. Now one
   line naming them, exit 2 (`planning.campus.check_fleet_options`), nothing written.
2. `video --peak-to-average 2` without --daily-hours answered exactly as without it (no fleet to size).
3. A phase dated to the day (2026-07-15) printed as 2026.5376 (`units.year_text`).
4. A campus phase's power and capex were its asked share of the campus while its accelerators were whole units:
   2026:1e-9 of 2 GW was "+2 W peak (0 accelerators, capex $74.6)"; 2026:0.5 and 2026H2:0.5, 468,720 and 468,648
   GB200, were 1 GW each. A phase now carries its units' power and capex, and one that adds no unit is refused.
5. A fleet file with two sites of one name, or `published_h100_equivalents: -5` ("itemised sites reach -160.0 %"),
   answered rc 0; phases summing to 1.00000001 were refused as "fractions sum to 1, above the limit of 1".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning.campus import parse_phases, plan_campus, plan_fleet
from infraplan.planning.plan_dates import parse_year, year_text
from infraplan.video.transcode import estimate_video
from infraplan.web.app import create_app

FLEET = "name: two\nsites:\n  - {name: a, accelerator: h100-sxm, count: 1024, cooling: air, location: ohio}\n"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


@pytest.mark.parametrize(("extra", "named"), [
    (["--phases", "2026:0.5,2027:0.5"], "--phases goes with --power"),
    (["--cooling", "liquid"], "--cooling goes with --power"),
    (["--location", "ohio", "--build-type", "low-cost"], "--location and --build-type go with --power"),
    (["--plot", "PLOT"], "--plot goes with --power"),
])
def test_a_fleet_refuses_a_power_campus_options(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                extra: list[str], named: str) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    plot = tmp_path / "chart.html"
    args = ["campus", "--fleet", str(fleet), *[str(plot) if a == "PLOT" else a for a in extra]]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and named in err, err
    assert not plot.exists()
    assert main(["campus", "--fleet", str(fleet), "--json"]) == 0  # the fleet alone answers
    assert json.loads(capsys.readouterr().out)["accelerators"] == 1024


@pytest.mark.parametrize(("body", "named"), [
    ({"phases": "2026:0.5"}, "--phases goes"),
    ({"cooling": "air", "location": "ohio"}, "--cooling and --location go"),
    ({"build_type": "low-cost"}, "--build-type goes"),
])
def test_the_web_refuses_them_beside_a_fleet_too(client: TestClient, body: dict[str, str], named: str) -> None:
    answer = client.post("/api/campus", json={"fleet": "meta-2024", **body})
    assert answer.status_code == 400 and named in answer.json()["detail"], answer.text


def test_peak_to_average_needs_a_daily_ingest(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="--peak-to-average 2 sizes the fleet for a daily ingest: add --daily-hours"):
        estimate_video("msvp", peak_to_average=2.0)
    assert main(["video", "--device", "msvp", "--peak-to-average", "2"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    answer = client.post("/api/video", json={"device": "msvp", "peak_to_average": 2})
    assert answer.status_code == 400 and "add --daily-hours" in answer.json()["detail"]
    once, twice = (estimate_video("msvp", daily_hours=100, peak_to_average=p).fleet for p in (1.0, 2.0))
    assert once is not None and twice is not None and twice.devices > once.devices  # with the ingest it sizes
    assert estimate_video("msvp").fleet is None  # the default factor alone: no fleet, no refusal


@pytest.mark.parametrize("date", ["2026-07-15", "2024-02-29", "2025-12-31", "2099-01-02"])
def test_a_day_prints_as_a_day(date: str) -> None:
    assert year_text(parse_year(date)) == date


def test_a_month_and_a_fraction_print_as_before() -> None:
    assert [year_text(parse_year(t)) for t in ("2025-07-01", "2025Q4", "2025.1234", "2026")] == [
        "2025-07", "2025-10", "2025.1234", "2026"]


def test_a_phase_carries_the_power_and_capex_of_its_units() -> None:
    r = plan_campus(2e9, "gb200", phases="2026:0.5,2026H2:0.5")
    first, second = r.phases
    assert (first.accelerators, second.accelerators) == (468_720, 468_648)  # whole NVL72 racks
    assert first.date == "2026" and second.date == "2026-07"
    f = r.facility
    for ph in r.phases:
        share = ph.accelerators / r.accelerators
        assert ph.facility_power_w == pytest.approx(share * f.facility_power_w, rel=1e-12)
        assert ph.capex_usd == pytest.approx(share * f.capex_total_usd, rel=1e-12)
    assert first.facility_power_w > second.facility_power_w  # one rack more
    assert second.cumulative_facility_power_w == pytest.approx(f.facility_power_w, rel=1e-12)
    part = plan_campus(2e9, "gb200", phases="2026-07-15:0.3").phases[0]
    assert part.date == "2026-07-15"
    assert part.cumulative_facility_power_w == pytest.approx(part.facility_power_w, rel=1e-12)


def test_a_phase_that_adds_no_unit_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match=r"2026's share 1e-09 of the campus adds no whole 72-accelerator unit"):
        plan_campus(2e9, "gb200", phases="2026:1e-9,2027:0.5")
    assert main(["campus", "--power", "2GW", "--accelerator", "gb200", "--phases", "2026:0.5,2027:1e-9"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "2027's share 1e-09" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("extra", "needle"), [
    ("  - {name: a, accelerator: h100-sxm, count: 16}\n", "duplicate site names: a"),
    ("published_h100_equivalents: -5\n", "published_h100_equivalents: Input should be greater than 0"),
])
def test_a_fleet_file_is_checked(tmp_path: Path, extra: str, needle: str) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET + extra)
    with pytest.raises(InputError, match=needle):
        plan_fleet(str(fleet))
    fleet.write_text(FLEET + "published_h100_equivalents: 2048\n")
    assert plan_fleet(str(fleet)).h100_equivalents_vs_published == pytest.approx(0.5)


def test_a_phase_sum_above_one_is_written_as_summed() -> None:
    with pytest.raises(InputError, match=r"fractions sum to 1\.00000001, above the limit of 1"):
        parse_phases("2026:0.7,2027:0.30000001")
