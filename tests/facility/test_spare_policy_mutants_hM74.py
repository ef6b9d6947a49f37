"""Mutation tests on hR74's `facility.spare_policy` (hM74): the no-spare policies by hand on a small system.

A system of B = 10 units of 72 GPUs, a job on D = 8 of them (576 GPUs): s = 2 spares. Units out at a random instant
X ~ Poisson(mu) (M/G/infinity), mu = 0.5 here. `wait` runs P(X <= s) of the time; `shrink` runs on the units in
service, (D - (X - s)) / D of full size in whole shrink units; a repair returning a replica (X -> X - 1, at
mu / repair x P(X = x - 1)) is taken back by a restart of its own (checkpoint write + restart) where that costs less
than the replica idling until the job's next interruption, else at that restart (module docstring of
facility/spare_policy.py). Every figure below is counted here from scipy's Poisson law, not read from the code.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from scipy.stats import poisson

from infraplan.facility.checkpoint_goodput import goodput
from infraplan.facility.spare_policy import plan_shrink_unit, policy_note, short_of_spares

UNIT, BUILT, DOMAINS, MU, REPAIR_S = 72, 10, 8, 0.5, 3 * 86400.0
GPUS = DOMAINS * UNIT
NODE = SimpleNamespace(scale_up_domain=UNIT, accelerators_per_node=4, placement="fill")  # (hZ2 77: the layout)
SYSTEM: Any = SimpleNamespace(generic=False, total_accelerators=BUILT * UNIT, system=SimpleNamespace(node=NODE))
HOLD = {"expected_gpus_out_of_service": MU * DOMAINS * UNIT / BUILT, "domain_gpus": UNIT, "domains": DOMAINS}


def _job(mttf_s: float, restart_s: float, write_s: float = 60.0) -> dict[str, Any]:
    interval_s = 3600.0
    return {"planned_interruptions_per_day": 1.0, "restart_s": restart_s, "checkpoint_write_s": write_s,
            "job_mttf_s": mttf_s, "checkpoint_interval_s": interval_s, "device_word": "GPU",
            "goodput": float(goodput(interval_s, write_s, restart_s, mttf_s, 1.0 / 86400.0))}


def _running(x: int, unit: int) -> float:
    """The share of full size with x units out: the units in service past the spares, in whole shrink units."""
    left = max(DOMAINS - max(x - 2, 0), 0) * UNIT
    return (left // unit * unit) / GPUS


def test_wait_runs_while_the_spares_cover_the_units_out() -> None:
    job = _job(mttf_s=86400.0, restart_s=600.0)
    short = short_of_spares(SYSTEM, GPUS, job, HOLD, REPAIR_S, "wait", UNIT)
    assert short is not None and short["spare_units"] == 2 and short["units"] == DOMAINS
    up = poisson.cdf(2, MU)  # 0.98561
    assert short["full_size_fraction"] == pytest.approx(up, rel=1e-9)
    assert short["throughput_fraction"] == pytest.approx(up, rel=1e-9)
    assert short["goodput_with_repairs"] == pytest.approx(job["goodput"] * up, rel=1e-9)
    assert short["grows_per_day"] == 0.0
    note = policy_note(short, job)
    assert f"{1.0 / up:.3g}x as long" in note and "--no-spare-policy shrink for the other policy" in note


@pytest.mark.parametrize("unit", [UNIT, 2 * UNIT])
def test_shrink_grows_back_by_a_restart_where_that_is_cheaper(unit: int) -> None:
    """A day to the next failure, ~17 h to the next interruption: a 10-minute grow costs less than a replica idle."""
    job = _job(mttf_s=86400.0, restart_s=600.0)
    short = short_of_spares(SYSTEM, GPUS, job, HOLD, REPAIR_S, "shrink", unit)
    assert short is not None and short["shrink_unit_gpus"] == unit
    xs = range(3, 80)
    share = 1.0 - sum(poisson.pmf(x, MU) * (1.0 - _running(x, unit)) for x in xs)
    per_s = MU / REPAIR_S
    grows = sum(per_s * poisson.pmf(x - 1, MU) for x in xs if _running(x - 1, unit) > _running(x, unit) > 0.0)
    assert short["full_size_fraction"] == pytest.approx(poisson.cdf(2, MU), rel=1e-9)
    assert short["throughput_fraction"] == pytest.approx(share, rel=1e-9)
    assert short["grows_per_day"] == pytest.approx(grows * 86400.0, rel=1e-9) and grows > 0.0
    extra = float(goodput(3600.0, 60.0, 600.0, 86400.0, 1.0 / 86400.0 + grows))
    assert short["goodput_with_repairs"] == pytest.approx(extra * share, rel=1e-9)


def test_shrink_takes_a_replica_back_at_the_next_restart_where_a_grow_costs_more() -> None:
    """A 2-day restart against ~17 h to the next interruption: the replica idles until then, share x that time."""
    mttf_s, restart_s = 86400.0, 2 * 86400.0
    job = _job(mttf_s, restart_s)
    short = short_of_spares(SYSTEM, GPUS, job, HOLD, REPAIR_S, "shrink", UNIT)
    assert short is not None and short["grows_per_day"] == 0.0
    xs = range(3, 80)
    next_s = 1.0 / (1.0 / mttf_s + 1.0 / 86400.0)
    deferred = sum(MU / REPAIR_S * poisson.pmf(x - 1, MU) * (_running(x - 1, UNIT) - _running(x, UNIT)) * next_s
                   for x in xs if _running(x, UNIT) > 0.0)
    share = 1.0 - sum(poisson.pmf(x, MU) * (1.0 - _running(x, UNIT)) for x in xs) - deferred
    assert deferred > 1e-4
    assert short["throughput_fraction"] == pytest.approx(share, rel=1e-9)
    extra = float(goodput(3600.0, 60.0, restart_s, mttf_s, 1.0 / 86400.0))
    assert short["goodput_with_repairs"] == pytest.approx(extra * share, rel=1e-9)


def test_a_grow_costs_its_checkpoint_write_too() -> None:
    """A replica idle until the next interruption costs 1/8 x 12 h = 5,400 s of the job (MTTF a day, a planned stop a
    day): a 5,000 s restart alone would be cheaper, but with its 600 s checkpoint write (5,600 s) it is not."""
    job = _job(mttf_s=86400.0, restart_s=5000.0, write_s=600.0)
    short = short_of_spares(SYSTEM, GPUS, job, HOLD, REPAIR_S, "shrink", UNIT)
    assert short is not None and short["grows_per_day"] == 0.0
    cheaper = short_of_spares(SYSTEM, GPUS, _job(86400.0, 5000.0, 200.0), HOLD, REPAIR_S, "shrink", UNIT)
    assert cheaper is not None and cheaper["grows_per_day"] > 0.0


def test_a_shrink_unit_above_the_job_is_the_job() -> None:
    """A unit larger than the job: the job is its only unit, so any unit out past the spares stops it (as wait)."""
    job = _job(mttf_s=86400.0, restart_s=600.0)
    short = short_of_spares(SYSTEM, GPUS, job, HOLD, REPAIR_S, "shrink", 4 * GPUS)
    assert short is not None and short["shrink_unit_gpus"] == GPUS
    assert short["throughput_fraction"] == pytest.approx(poisson.cdf(2, MU), rel=1e-9)


@pytest.mark.parametrize(("parallel", "gpus"), [
    ((2, 2, 1, 4, None), 8),  # TP2 CP2: a replica of 4; ETP (= TP) x EP = 8 divides TP x CP x g at g = 2
    ((4, 1, 2, 8, 1), 16),  # TP4 PP2 ETP1 EP8: 8 divides 4 g at g = 2: two replicas of 8
    ((8, 1, 1, 1, None), 8),  # dense: one replica
])
def test_the_shrink_unit_folds_expert_parallelism_over_tp_x_cp(parallel: tuple[int, int, int, int, int | None],
                                                              gpus: int) -> None:
    """Megatron-Core: TP x CP x DP divisible by ETP x EP, so the fewest replicas g with g TP CP divisible by it."""
    assert plan_shrink_unit(*parallel) == gpus
