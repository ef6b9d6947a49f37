"""Spare nodes sized on the failures that take a node out of service (hF41, session 41; planning/spares.py).

Llama 3's rate (llama3-h100) counts its 419 unexpected job interruptions of 54 days (arXiv:2407.21783 Table 5),
software bugs, NCCL timeouts and the fabric's switches and cables included; only server parts put a node in the
repair shop. By hand from Table 5's counts: the GPU category 148 + 72 + 19 + 17 + 6 + 6 = 268 (faulty GPU, HBM3,
SRAM, system processor, silent data corruption, thermal interface + sensor), the Host category 7 + 3 + 3 + 2 + 2 +
2 + 2 = 21 (NIC, SSD, power supply, chassis, IO expansion board, CPU, system memory) and host maintenance 32
(ASSUMPTION in reliability.yaml): 321 of 419 = 0.766. Network switch / cable 35, software bug 54, dependency 2
and NCCL watchdog timeouts 7 (98) are not counted. A node-failure rate is used as is; a job-interruption rate no
component mix describes (rsc-1-jobs, a user's file) is refused with one line naming the node-failure rate.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError
from test_stepped_prices_hW4 import MONEY, _plan_spec

from infraplan.catalog.reliability_loader import ComponentMix, load_failure_rate, load_reliability
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.planning.pool_money import pool_money, pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import size
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, spare_nodes

SERVER_PARTS = {"faulty_gpu": 148, "gpu_hbm3_memory": 72, "gpu_sram_memory": 19, "gpu_system_processor": 17,
                "silent_data_corruption": 6, "gpu_thermal_interface_sensor": 6, "nic": 7, "ssd": 3,
                "power_supply": 3, "server_chassis": 2, "io_expansion_board": 2, "cpu": 2, "system_memory": 2,
                "host_maintenance": 32}
NOT_COUNTED = {"network_switch_cable": 35, "software_bug": 54, "dependency": 2, "nccl_watchdog_timeouts": 7}
SHARE = 321 / 419


def test_the_share_by_hand_from_table_5() -> None:
    mix = load_reliability().component_mix
    assert sum(SERVER_PARTS.values()) == 321 and sum(SERVER_PARTS.values()) + sum(NOT_COUNTED.values()) == 419
    assert mix.counts == {**SERVER_PARTS, **NOT_COUNTED}
    assert set(mix.node_out_of_service) == set(SERVER_PARTS) and mix.failure_rates == ["llama3-h100"]
    assert all(load_failure_rate(r).counts == "job_interruptions" for r in mix.failure_rates)
    s = spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S)  # 2,048 nodes at llama3-h100
    assert s.node_out_of_service_fraction == pytest.approx(SHARE, rel=1e-12)
    # 3.789 per 1,000 node-days x 0.766 = 2.903 per 1,000 node-days, per node-hour
    assert s.node_failures_per_hour == pytest.approx(3.789e-3 * SHARE / 24, rel=1e-12)
    assert s.expected_nodes_down == pytest.approx(2048 * 3.789e-3 * SHARE * 3, rel=1e-12)  # 17.83, was 23.28
    assert s.spare_nodes == 28  # Poisson(17.83) 99 % quantile; 35 at the whole rate
    assert "0.766" in s.rate_basis and "321 of 419" in s.rate_basis and "2.903" in s.rate_basis


def test_a_node_failure_rate_is_used_as_is(tmp_path: Path) -> None:
    for name, per_1000 in (("rsc-1", 6.50), ("rsc-2", 2.34), ("epoch-h100", 3.84)):
        s = spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, name)
        assert s.node_out_of_service_fraction == 1.0 and "used as is" in s.rate_basis
        assert s.node_failures_per_hour == load_failure_rate(name).per_accelerator_hour * 8  # bit for bit
        assert s.expected_nodes_down == pytest.approx(2048 * per_1000 / 1000 * 3, rel=1e-12)
    assert spare_nodes(16384, 8, "a100-80gb", 0.99, DEFAULT_REPAIR_S).failure_rate == "rsc-1"  # its default
    unstated = tmp_path / "mine.yaml"  # a user's file may leave what it counts unstated: taken as node failures
    unstated.write_text("failures_per_1000_node_days: 4\naccelerators_per_node: 8\nsource: mine\n")
    s = spare_nodes(800, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, str(unstated))
    assert s.node_out_of_service_fraction == 1.0 and s.expected_nodes_down == pytest.approx(100 * 4e-3 * 3)


def test_a_job_interruption_rate_without_a_mix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"rsc-1-jobs counts job interruptions.*failure_rate rsc-1\)"):
        spare_nodes(16384, 8, "a100-80gb", 0.99, DEFAULT_REPAIR_S, "rsc-1-jobs")
    jobs = tmp_path / "jobs.yaml"  # a user's job rate: no partner to name
    jobs.write_text("failures_per_1000_node_days: 4\naccelerators_per_node: 8\ncounts: job_interruptions\n"
                    "source: mine\n")
    with pytest.raises(InputError, match=r"counts job interruptions.*spares need a node-failure rate$"):
        spare_nodes(800, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, str(jobs))
    with pytest.raises(ValidationError, match="not in counts: gpu_fan"):
        ComponentMix.model_validate({"source": "s", "counts": {"faulty_gpu": 1}, "node_out_of_service": ["gpu_fan"]})


def test_plan_refuses_rsc_1_jobs_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _plan_spec("1M", 18_000)
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(ScenarioSpec.model_validate({
        **spec.model_dump(), "policy": {"objective": "tco", **MONEY, "spare_probability": 0.99,
                                        "failure_rate": "rsc-1-jobs"}}).model_dump_json())
    assert main(["plan", str(scenario), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "failure_rate rsc-1" in err
    assert "Traceback" not in err


def test_plan_rows_name_the_rate_and_the_share(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = _plan_spec("15M", 18_000)  # 64 H100 (2 spare nodes) + 16 A100 (1)
    spared = ScenarioSpec.model_validate({**spec.model_dump(),
                                          "policy": {"objective": "tco", **MONEY, "spare_probability": 0.999}})
    plan = plan_scenario(spared, optimality_gap=True)
    rows = {r.pool: r for r in plan.pools}
    h100, a100 = rows["h100"], rows["a100"]
    assert h100.node_out_of_service_fraction == pytest.approx(SHARE) and a100.node_out_of_service_fraction == 1.0
    assert (h100.spare_rate_basis or "").startswith("llama3-h100: 3.789 job interruptions")
    assert (a100.spare_rate_basis or "").startswith("rsc-1: 6.5 node failures")
    assert plan_scenario(spec).pools[0].node_out_of_service_fraction is None  # no spares asked
    # the bound stays below the answer and below the brute-force optimum with spares (E(n) = F(n + spares(n)))
    site, q = spared.sites[0], 15e6
    caps = [size(spared.services[0], p, q).capacity for p in spared.pools]  # type: ignore[union-attr]

    def cost(p: int, n: int) -> float:
        sp = pool_spares(spared, spared.pools[p], 8 * n)
        total = n + (0 if sp is None else sp.spare_nodes)
        return 0.0 if n == 0 else float(pool_money(spared, spared.pools[p], site, 8 * total).tco_usd_per_year or 0)
    brute = min(cost(0, a) + cost(1, b) for a in range(math.ceil(q / caps[0] / 8) + 1)
                for b in range(math.ceil(q / caps[1] / 8) + 1) if 8 * (a * caps[0] + b * caps[1]) >= q)
    assert plan.objective_lower_bound is not None and plan.objective_value is not None
    assert plan.objective_lower_bound <= brute * (1 + 1e-9) <= plan.objective_value * (1 + 1e-9)
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(spared.model_dump_json())
    assert main(["plan", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "spares on llama3-h100: 3.789 job interruptions per 1,000 node-days x 0.766" in out.replace("\n", " ")
