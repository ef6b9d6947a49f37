"""hI54: edges of planning/retirement.py that hand mutants showed untested (each test kills the named mutant).

- R2 `_first_year` of a pool without a base: the first phase AT or after its `from_year` (`>=`; as `>` a pool
  delivered from 2025 dated its first devices 2028 and bought its successor from 2031, not 2028);
- R6 an `installed_year` on a pool with no installed base is refused (the mutant took it silently);
- R7 a base exactly `lifetime_years` old in the first phase is past its life (`>=`, as `lifecycles`' `<`);
- R11 a base exactly `lifetime_years` old in a later phase has left service (`base_alive`'s `<`; as `<=` the 2022
  base of a 6-year life served in 2028);
- R18 a pool already named `<pool>-refresh` is refused (the successor's name);
- R21 the successor pool keeps the pool's site, availability, life, spares policy and `serves`;
- P6 the infeasibility explanation's LP minimises the shortfalls only, not the cohorts' purchases after them (with
  them charged, every phase came back "short by 100 %": buying a server cost more than a phase's shortfall);
- C2 `scenario._bought`, the devices the pricing charges, counts the fleet in service, not the running maximum
  (the refresh example's H100 pool in 2030: 8, not 72);
- C3 `scenario._own_sizes`, the sizes each pool is priced at, counts the fleet in service too (as the running
  maximum, the refresh example's --optimality-gap answer was priced at 72 H100 in 2030: objective $5.04 M, 13.9 %
  above its proven bound, where it is $4.33 M and optimal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.planning.retirement import with_successors
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_prices import bought_devices as _bought
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}


def _raw(years: list[int], **pool: Any) -> dict[str, Any]:
    return {"name": "edges", "phases": [{"name": str(y), "year": y} for y in years], "services": [RANKING],
            "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}


def test_a_pool_delivered_in_the_first_phase_dates_its_devices_there() -> None:
    plan = plan_scenario(ScenarioSpec.model_validate(_raw([2025, 2028, 2031], from_year=2025, lifetime_years=3,
                                                          refresh_with="b200")))
    assert [(r.phase, r.pool) for r in plan.pools if r.devices] == [("2025", "h100"), ("2028", "h100-refresh"),
                                                                    ("2031", "h100-refresh")]


def test_a_base_exactly_its_life_old_has_retired() -> None:
    plan = plan_scenario(ScenarioSpec.model_validate(_raw([2025, 2028], installed=16, installed_year=2022,
                                                          lifetime_years=6)))
    assert [(ph.phase, ph.devices, ph.new_devices, ph.retired_devices) for ph in plan.phases] == [
        ("2025", 16, 0, 0), ("2028", 8, 8, 16)]


@pytest.mark.parametrize(("pool", "said"), [
    ({"installed_year": 2024}, "installed_year dates an installed base, and the pool has none (installed: 0)"),
    ({"installed": 8, "installed_year": 2019, "lifetime_years": 6},
     "its installed base, bought in 2019, is past its 6-year lifetime_years in the first phase (2025)"),
])
def test_lifecycle_edges_are_one_line(pool: dict[str, Any], said: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(_raw([2025, 2028], **pool)), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and said in err, err


def test_the_successor_keeps_the_pools_site_and_policies() -> None:
    raw = _raw([2025, 2028, 2031], lifetime_years=3, refresh_with="b200", available=24, serves=["recsys"],
               spare_trays_per_domain=1)
    spec = ScenarioSpec.model_validate({**raw, "policy": {"spare_probability": 0.99}})
    new = with_successors(spec).pools[-1]
    assert (new.name, new.device, new.site, new.available, new.from_year, new.lifetime_years, new.serves,
            new.spare_trays_per_domain) == ("h100-refresh", "b200", "ohio", 24, 2028, 3, ["recsys"], 1)
    clash = _raw([2025, 2028, 2031], lifetime_years=3, refresh_with="b200")
    clash["pools"].append({"name": "h100-refresh", "device": "a100-80gb", "site": "ohio"})
    with pytest.raises(InputError, match="'h100-refresh' is the name of 'h100''s refresh_with successor"):
        with_successors(ScenarioSpec.model_validate(clash))


def test_an_infeasible_refresh_names_only_the_phase_short() -> None:
    raw = _raw([2025, 2028, 2031], lifetime_years=3, available=16)
    raw["services"] = [{**RANKING, "qps": "300M", "growth": {"2031": 3}}]
    with pytest.raises(InputError) as err:
        plan_scenario(ScenarioSpec.model_validate(raw))
    said = str(err.value)
    assert "ranking in 2031 short by" in said and "2025 short" not in said and "2028 short" not in said, said


def test_the_pricing_charges_the_fleet_in_service() -> None:
    spec = with_successors(load_scenario(str(EXAMPLES / "plan-refresh.yaml")))
    used = np.array([[45, 67, 8], [0, 0, 54]])  # the example's devices used (README)
    assert _bought(spec, used).tolist() == [[64, 72, 8], [0, 0, 56]]


def test_the_refresh_example_is_priced_at_its_fleet_in_service() -> None:
    plan = plan_scenario(str(EXAMPLES / "plan-refresh.yaml"), optimality_gap=True)
    # 4.3346e6 until hB66: the 2028 H100 server buys its DGX SuperPOD unit's rail leaves, and its NIC links are
    # optical (plan-refresh capex $4,074,954.5 -> $4,176,754.5; objective 4,334,557.6 -> 4,379,242.6)
    assert plan.objective_value == pytest.approx(4.3792e6, rel=1e-4)
    assert plan.optimality_gap_fraction is not None and plan.optimality_gap_fraction < 1e-6
