"""hV54 (session 54): a plan retires hardware at its `lifetime_years` and refreshes what demand still needs.

Before hV54 `plan` kept every device it bought in every later phase (a warning said so, scenario_report.past_lifetime).
Now (planning/retirement.py, policy.retire_at_lifetime, default true) devices bought in phase year y leave service in
the first phase at or after y + lifetime_years; the phase buys what its survivors lack, of the pool's device or of a
pool's `refresh_with` successor (a pool `<name>-refresh` from that phase); phase and pool rows count devices bought
(`new_devices`), retired (`retired_devices`) and in service (`devices`). A plan in which nothing retires is the plan
before hV54. Checked failing on the session's base (6f42eaa): the spec refused `refresh_with`, `installed_year`
and `retire_at_lifetime` (unknown keys), and the 2031 phase of the default scenario kept the 2025 server (bought 0,
no `retired_devices`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}


def _raw(years: list[int], policy: dict[str, Any] | None = None, **pool: Any) -> dict[str, Any]:
    return {"name": "life", "phases": [{"name": str(y), "year": y} for y in years], "services": [RANKING],
            "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}], "policy": policy or {}}


def _spec(years: list[int], policy: dict[str, Any] | None = None, **pool: Any) -> ScenarioSpec:
    return ScenarioSpec.model_validate(_raw(years, policy, **pool))


def test_a_server_past_its_life_retires_and_is_bought_again() -> None:
    plan = plan_scenario(_spec([2025, 2028, 2031]))  # lifetime_years 5.5: the 2025 server is out in 2031
    got = [(ph.phase, ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases]
    assert got == [("2025", 8, 8, 0), ("2028", 8, 0, 0), ("2031", 8, 8, 8)]
    first, mid, last = plan.phases
    # the refresh pays its server and network again, not the building (hN57, planning/site_building.py): $498,037
    # then $362,200, the server's 10.06 kW x $13.50/W = $135,837 of facility less (both $498,037 until then)
    assert mid.capex_usd == 0.0 and first.capex_usd == pytest.approx(498037.0, abs=1.0)
    assert last.capex_usd == pytest.approx(362200.0, abs=1.0)
    for ph in plan.phases:  # the phase's power is the facility power of the fleet in service
        assert ph.facility_power_w == pytest.approx(sum(r.facility_power_w for r in plan.pools if r.phase == ph.phase))
    assert not any("lifetime_years" in w for w in plan.warnings)


def test_refresh_with_buys_the_successor_from_the_retiring_phase() -> None:
    plan = plan_scenario(_spec([2025, 2028, 2031], lifetime_years=3, refresh_with="b200"))
    rows = [(r.phase, r.pool, r.device, r.devices, r.new_devices, r.retired_devices) for r in plan.pools]
    # 2028: the H100 pool's whole fleet retires; its row of 0 in service carries the 8 retired (hW54: it had none)
    assert rows == [("2025", "h100", "h100-sxm", 8, 8, 0), ("2028", "h100", "h100-sxm", 0, 0, 8),
                    ("2028", "h100-refresh", "b200", 8, 8, 0), ("2031", "h100-refresh", "b200", 8, 8, 8)]
    assert [ph.retired_devices for ph in plan.phases] == [0, 8, 8]  # 2028: the H100 pool's whole fleet
    assert any("pool h100's last 8 devices retire at their 3-year lifetime_years" in n for n in plan.notes)
    b200 = [r for r in plan.pools if r.pool == "h100-refresh"]
    # bought at the catalog's B200 price; hN57: less the building the retired H100 server held (10.06 kW x $13.50/W
    # = $135,837; planning/site_building.py): $515,813.5 of its $651,650.5 fleet value (all of it until then)
    assert b200[0].fleet_value_usd == pytest.approx(651650.5, abs=1.0)
    assert plan.phases[1].capex_usd == pytest.approx(515813.5, abs=1.0)
    assert b200[0].fleet_value_usd != pytest.approx(plan.pools[0].fleet_value_usd)


def test_an_installed_base_retires_from_its_installed_year() -> None:
    plan = plan_scenario(_spec([2025, 2028], installed=16, installed_year=2022))  # 2028: 6 years on, past 5.5
    got = [(ph.phase, ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases]
    assert got == [("2025", 16, 0, 0), ("2028", 8, 8, 16)]
    assert plan.phases[0].capex_usd == 0.0 and (plan.phases[1].capex_usd or 0.0) > 0


def test_no_phase_past_the_life_is_the_plan_without_retirement() -> None:
    on = plan_scenario(_spec([2025, 2028])).model_dump(exclude={"wall_time_s"})
    off = plan_scenario(_spec([2025, 2028], {"retire_at_lifetime": False})).model_dump(exclude={"wall_time_s"})
    assert on == off


@pytest.mark.parametrize(("pool", "policy", "said"), [
    ({"refresh_with": "b2000"}, {}, "pool 'h100': refresh_with: unknown system or accelerator 'b2000'; did you "
                                    "mean b200"),
    ({"refresh_with": "b200"}, {"retire_at_lifetime": False}, "refresh_with replaces retired devices, and "
                                                             "policy.retire_at_lifetime is false"),
    ({"lifetime_years": 2}, {}, "lifetime_years 2 is shorter than the 3 years from phase 2025 to 2028"),
    ({"installed": 8, "installed_year": 2026}, {}, "installed_year 2026 is after the first phase (2025)"),
    ({"installed": 8, "installed_year": 2010}, {}, "its installed base, bought in 2010, is past its 5.5-year"),
])
def test_bad_lifecycle_input_is_one_line(pool: dict[str, Any], policy: dict[str, Any], said: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(_raw([2025, 2028], policy, **pool)), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infraplan: error: ") and "\n" not in err and "Traceback" not in err, err
    assert said in err, err


def test_devices_stay_in_service_until_they_retire() -> None:
    """Demand halves in 2028: the 2025 servers, within their life, stay (the MILP's cohort rows, not only the
    report's); in 2031 they retire and the phase buys what its demand needs."""
    spec = ScenarioSpec.model_validate({**_raw([2025, 2028, 2031]), "services": [
        {**RANKING, "qps": "1G", "growth": {"2028": 0.5, "2031": 1.0}}]})
    plan = plan_scenario(spec)
    devices = {ph.phase: (ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases}
    n = devices["2025"][0]
    assert n > 8 and devices["2028"] == (n, 0, 0) and devices["2031"] == (n, n, n)
    used = {s.phase: s.devices for s in plan.services}
    assert used["2028"] < used["2025"]  # the survivors are kept, not all used
    site = spec.sites[0]
    for r in plan.pools:  # a phase's power is `facility`'s of the fleet in service (the one power chain)
        assert r.facility_power_w == pytest.approx(pool_money(spec, spec.pools[0], site, r.devices).facility_w)


def test_the_refresh_example_as_the_readme_prints_it() -> None:
    """examples/plan-refresh.yaml (README "Plan a fleet"): the 2024 H100 base retires in 2030, the 2028 H100 serve
    on, B200 replace the rest; the H100 pool buys none of its own device from 2030 (refresh_with)."""
    plan = plan_scenario(str(EXAMPLES / "plan-refresh.yaml"))
    assert [(ph.phase, ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases] == [
        ("2025", 64, 0, 0), ("2028", 72, 8, 0), ("2030", 64, 56, 64)]
    assert [(r.phase, r.pool, r.devices, r.new_devices, r.retired_devices) for r in plan.pools] == [
        ("2025", "h100", 64, 0, 0), ("2028", "h100", 72, 8, 0), ("2030", "h100", 8, 0, 64),
        ("2030", "h100-refresh", 56, 56, 0)]
    # $4.33 M until hN57 (the building reused); $3.26 M until hB66 (the generic B200's rail unit, optics)
    assert plan.phases[2].capex_usd == pytest.approx(3.233e6, rel=2e-3)
    assert plan.phases[2].facility_power_w == pytest.approx(129.2e3, rel=1e-3)
