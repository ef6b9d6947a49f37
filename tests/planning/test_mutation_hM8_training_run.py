"""hM8 (mutation wave 8): a training run's totals by hand from planning/training_run.py's docstring.

Energy = GPU-hours x each GPU's share of the cluster's peak IT load x PUE; the embodied CO2 is the share of the
servers' life the run's wall clock takes (not its compute time); interruptions are failures (wall / MTTF) plus the
planned ones per day; a run trains whole steps, so one step's tokens are a run, up to MAX_TRAINING_TOKENS.
"""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.cluster.cost import CostOverrides, cluster_site_cost, site_inputs
from infraplan.errors import InputError
from infraplan.facility.carbon import amortised_embodied_co2_t
from infraplan.facility.facility import embodied_per_accelerator_kg
from infraplan.facility.reliability import job_reliability
from infraplan.limits import MAX_TRAINING_TOKENS
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training

SYSTEM = "dgx-h100-superpod"


@pytest.fixture(scope="module")
def run():
    est = estimate_training("llama3-8b", SYSTEM, 64, tp=1, pp=1, seq_len=8192, global_batch=512, zero=1)
    return est, training_run_totals(est, SYSTEM, 1e12)


def test_energy_is_the_it_share_times_pue_and_embodied_co2_follows_the_wall_clock(run) -> None:
    est, t = run
    cluster = Cluster.resolve(SYSTEM).for_gpus(64)
    site = site_inputs(cluster.layout)
    load = cluster_site_cost(cluster, site).load
    assert t.pue == site.pue > 1.0
    assert t.facility_power_w_per_gpu == pytest.approx(load.it_w / load.accelerators * site.pue, rel=1e-12)
    # at the average draw, peak x the site's one load factor (hC57: the peak before)
    assert t.load_factor == site.load_factor == 0.8
    assert t.energy_mwh == pytest.approx(t.gpu_hours * t.facility_power_w_per_gpu * t.load_factor / 1e6, rel=1e-12)
    kg = embodied_per_accelerator_kg(cluster.accelerator, CostOverrides())
    assert kg is not None and t.goodput < 1.0
    hours = t.time_to_train_s / 3600.0  # the wall clock, failures and checkpoints included
    assert t.co2_embodied_t == pytest.approx(
        float(amortised_embodied_co2_t(64, kg, hours, site.lives_years["servers"])), rel=1e-12)


def test_interruptions_are_failures_plus_the_planned_ones(run) -> None:
    est, t = run
    rel = job_reliability("h100-sxm", 64, float(est.parameters), None, "tectonic", None, None)
    assert rel["planned_interruptions_per_day"] > 0.0
    days = t.time_to_train_s / 86400.0
    assert t.expected_interruptions == pytest.approx(
        t.time_to_train_s / t.job_mttf_s + rel["planned_interruptions_per_day"] * days, rel=1e-12)


def test_one_step_and_the_token_limit_are_runs(run) -> None:
    est, _ = run
    step = 512 * 8192
    assert training_run_totals(est, SYSTEM, float(step)).tokens == step
    with pytest.raises(InputError, match="less than one step"):
        training_run_totals(est, SYSTEM, float(step - 1))
    assert training_run_totals(est, SYSTEM, MAX_TRAINING_TOKENS).tokens == MAX_TRAINING_TOKENS
    with pytest.raises(InputError, match="at most"):
        training_run_totals(est, SYSTEM, MAX_TRAINING_TOKENS * 1.001)
