"""Mutation wave 4 (hM4, session 35): campus phases, the budget search, training capacity and fleet totals.

Hand counts from the rules planning/campus.py states; each fails on a one-line mutant the earlier tests let
through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.planning.campus import (
    REFERENCE_JOB_MAX_GPUS,
    REFERENCE_RUN_TOKENS,
    _most_units,
    parse_phases,
    plan_fleet,
    training_capacity,
)


def test_phase_years_run_from_2000_and_must_increase() -> None:
    assert parse_phases("2000:0.5,2200:0.5") == [(2000, 0.5), (2200, 0.5)]  # "a calendar year 2000..2200"
    with pytest.raises(InputError, match="distinct and increasing"):
        parse_phases("2027:0.5,2026:0.5")


def test_the_budget_search_takes_the_most_units_that_fit_exactly() -> None:
    # "the most units n with it_w_of(n) <= budget_w": 10 W a unit, 40 W -> 4; 10 W -> 1; 9 W -> 0
    def ten_watts(n: int) -> float:
        return 10.0 * n

    assert _most_units(ten_watts, 40.0) == 4
    assert _most_units(ten_watts, 10.0) == 1
    assert _most_units(ten_watts, 9.0) == 0
    assert _most_units(ten_watts, 1e4) == 1000


def test_training_capacity_counts_whole_jobs_and_days() -> None:
    # a campus smaller than the 16,384-GPU reference job runs one job of its size; a larger one runs
    # floor(accelerators / 16,384) jobs at once; a run takes 15.6T tokens / (job x tokens/s x goodput) / 86,400 s
    small = training_capacity("h100-sxm", 1024)
    assert small.job_gpus == 1024 and small.concurrent_jobs == 1
    big = training_capacity("h100-sxm", 40_000)
    assert big.job_gpus == REFERENCE_JOB_MAX_GPUS and big.concurrent_jobs == 2
    rate, goodput = big.tokens_per_s_per_gpu, big.goodput
    assert rate is not None and goodput is not None
    days = REFERENCE_RUN_TOKENS / (REFERENCE_JOB_MAX_GPUS * rate * goodput) / 86_400.0
    assert big.days_per_run_per_job == pytest.approx(days)
    # hN55: runs a year of the 2 whole jobs; every device at the rate in all_accelerator_runs_per_year
    assert big.runs_per_year == pytest.approx(2 * 8760 * 3600 / (days * 86_400.0))
    assert big.all_accelerator_runs_per_year == pytest.approx(40_000 * rate * goodput * 8760 * 3600
                                                              / REFERENCE_RUN_TOKENS)


def test_a_fleet_with_an_unpriced_site_totals_its_power_and_leaves_money_null(tmp_path) -> None:
    spec = tmp_path / "fleet.yaml"  # mi325x has no server price in hardware_costs.yaml
    spec.write_text("name: t\nsites:\n  - {name: a, accelerator: h100-sxm, count: 64, cooling: air}\n"
                    "  - {name: b, accelerator: mi325x, count: 64, cooling: liquid}\n")
    r = plan_fleet(str(spec))
    assert r.sites[1].capex_usd is None and r.capex_usd is None and r.opex_usd_per_year is None
    assert r.it_power_w == pytest.approx(r.sites[0].it_power_w + r.sites[1].it_power_w)
