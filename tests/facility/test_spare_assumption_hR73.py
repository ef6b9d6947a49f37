"""hR (session 73): `train --tokens` and `reliability` give one answer about the hardware a failure takes out.

hW73 found `train llama3-70b --system gb200-nvl72-superpod --gpus 576 --tp 4 --pp 2 --seq-len 8192 --global-batch
576 --dtype fp8 --tokens 2T` answering 99.0 % goodput with nothing said, while `reliability --system
gb200-nvl72-superpod --gpus 576 --days 11.6 --model llama3-70b` said 45.1 GPUs out of service on average and 91.8 %
goodput of GPUs held. Both goodputs are Daly's (the same 99.04 %), which restarts the job within its 600 s on
hardware in service: a failed tray's 72-GPU domain replaced by a spare outside the job, as Llama 3's 16,384-GPU job
ran on a 24,576-GPU cluster (arXiv:2407.21783 Sec. 3.3.4). The job fills the SuperPOD's 8 domains, so there is no
spare: all 8 are in service P(Poisson(8 x 0.0784) = 0) = 53.4 % of the time. Now both commands carry the same line
saying so, and `train --tokens` the same GPUs out of service and goodput of GPUs held as `reliability`.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import poisson

from infraplan.facility.reliability import poisson_cdf, reliability_report
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

NVL72 = "gb200-nvl72-superpod"


@pytest.fixture(scope="module")
def nvl72_run():
    estimate = estimate_training("llama3-70b", NVL72, 576, tp=4, pp=2, seq_len=8192, global_batch=576, dtype="fp8")
    return training_run_totals(estimate, NVL72, 2e12)


def spare_lines(notes: list[str]) -> list[str]:
    return [n for n in notes if n.startswith("the goodput (")]


def test_train_tokens_and_reliability_give_the_same_figures_and_line(nvl72_run) -> None:
    report = reliability_report(NVL72, 576, days=11.6, model="llama3-70b",
                                shrink_unit_gpus=8)  # hR74: the plan's shrink unit, one TP4 x PP2 replica
    assert nvl72_run.goodput == pytest.approx(report.goodput, rel=1e-12)
    assert nvl72_run.expected_gpus_out_of_service == pytest.approx(report.expected_gpus_out_of_service, rel=1e-12)
    assert nvl72_run.goodput_of_gpus_held == pytest.approx(report.goodput_of_gpus_held, rel=1e-12)
    assert nvl72_run.expected_gpus_out_of_service == pytest.approx(45.14, abs=0.01)
    assert nvl72_run.goodput_of_gpus_held == pytest.approx(0.9184, abs=1e-4)
    (train_line,) = spare_lines(nvl72_run.notes)
    (reliability_line,) = spare_lines(report.notes)
    policy = "; --no-spare-policy shrink (the default)"  # hR2: train prices the smaller plans, reliability the share
    assert train_line.split(policy)[0] == reliability_line.split(policy)[0]
    assert "each smaller plan's step priced" in train_line and "each replica at full speed" in reliability_line
    # no spare domain: the job's 8 domains all in service e^-m of the time, m = 8 domains x their mean out each
    up = math.exp(-nvl72_run.expected_gpus_out_of_service / 72.0)
    assert "0 72-GPU domains beyond the job's 8" in train_line
    assert f"{100 * up:.1f}" == "53.4" and "53.4 % of the time" in train_line
    # hR74: the wall clock now counts it (facility/spare_policy.py): 1.87x waiting, 1.09x shrinking (the default);
    # hR2: 1.11x with the smaller plans' steps priced (reliability, without a plan, keeps 1.09x)
    assert "--no-spare-policy shrink (the default)" in train_line and "1.11x as long" in train_line
    assert "1.09x as long" in reliability_line
    assert "goodput of the GPUs held (out of service included): 91.8%" in train_line
    # and the domain's hold, as `reliability` says it
    assert any("the 576-GPU job holds 8 domains = 576 GPUs; 45.1 GPUs out of service" in n for n in nvl72_run.notes)


def test_spare_domains_in_the_system_are_counted() -> None:
    """432 GPUs hold 6 of the 8 domains: 2 spares, all 6 in service P(Poisson(8 x 0.0784) <= 2) of the time."""
    report = reliability_report(NVL72, 432, days=10, model="llama3-70b")
    (line,) = spare_lines(report.notes)
    per_domain = report.expected_gpus_out_of_service / (6 * 72)
    up = poisson.cdf(2, 8 * per_domain)
    assert "2 72-GPU domains beyond the job's 6" in line
    assert f"{100 * up:.1f} % of the time" in line
    assert "the job idles" not in line  # hR74: the default shrinks (to 5 domains while 3 are out)


def test_a_job_with_spare_servers_says_nothing_more() -> None:
    """Llama 3's case: 16,384 H100 of a 24,576-GPU cluster, 8-GPU servers: its servers all in service (> 99 %)."""
    estimate = estimate_training("llama3-8b", "meta-genai-roce-24k", 16384, tp=8, seq_len=8192, global_batch=2048)
    run = training_run_totals(estimate, "meta-genai-roce-24k", 1e12)
    assert spare_lines(run.notes) == []
    assert run.expected_gpus_out_of_service is not None and run.expected_gpus_out_of_service > 0
    # a job filling the 16,384-GPU SuperPOD has no spare server: said, not assumed
    report = reliability_report("dgx-h100-superpod", 16384, days=10, model="llama3-405b")
    (line,) = spare_lines(report.notes)
    assert "0 servers beyond the job's 2,048" in line and "--no-spare-policy shrink" in line


@pytest.mark.parametrize("k, mean", [(0, 0.627), (2, 0.627), (5, 17.8), (30, 17.8), (800, 780.0), (3, 1e-9)])
def test_poisson_cdf_matches_scipy(k: int, mean: float) -> None:
    assert poisson_cdf(k, mean) == pytest.approx(float(poisson.cdf(k, mean)), rel=1e-9, abs=1e-15)
