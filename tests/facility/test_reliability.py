"""Reliability: job MTTF vs size (Kokolis), Daly/Young intervals, goodput, checkpoint size, component mix."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.errors import InputError
from infraplan.facility.checkpoint_goodput import daly_interval_s, goodput, job_mttf_s, young_interval_s
from infraplan.facility.reliability import checkpoint_bytes, component_mix, job_reliability, reliability_report


@pytest.mark.parametrize(("gpus", "hours"), [(16384, 1.8), (131072, 0.23)])
def test_rsc1_projected_job_mttf(gpus, hours):
    assert float(job_mttf_s(gpus, load_failure_rate("rsc-1"))) / 3600 == pytest.approx(hours, rel=0.03)


def test_llama3_interruption_every_three_hours():
    # Llama 3: 419 unexpected interruptions in 54 days on 16,384 H100 -> ~3.1 h
    for rate in ("llama3-h100", "epoch-h100"):
        assert float(job_mttf_s(16384, load_failure_rate(rate))) / 3600 == pytest.approx(54 * 24 / 419, rel=0.02)
    report = reliability_report("meta-genai-roce-24k", 16384, days=54)
    assert report.expected_unexpected_interruptions == pytest.approx(419, rel=0.01)
    assert report.expected_interruptions == pytest.approx(466, rel=0.01)
    assert report.goodput > 0.90  # ">90% effective training time"


def test_mttf_is_inverse_in_job_size():
    rate = load_failure_rate("rsc-2")
    n = np.array([64, 128, 1024, 8192])
    mttf = job_mttf_s(n, rate)
    assert np.allclose(mttf * n, mttf[0] * n[0])


@pytest.mark.parametrize(("mttf_h", "minutes"), [(24, 117), (6, 57), (0.25, 9.1)])
def test_daly_interval_matches_the_paper_captions(mttf_h, minutes):
    assert float(daly_interval_s(300, mttf_h * 3600)) / 60 == pytest.approx(minutes, rel=0.01)


def test_daly_tends_to_young_for_cheap_checkpoints_and_caps_at_mttf():
    assert float(daly_interval_s(1.0, 1e6)) == pytest.approx(float(young_interval_s(1.0, 1e6)), rel=0.01)
    assert float(daly_interval_s(1000.0, 400.0)) == pytest.approx(400.0)


def test_goodput_matches_first_order_waste_when_failures_are_rare():
    m, d, r = 100 * 3600.0, 10.0, 300.0
    tau = float(daly_interval_s(d, m))
    first_order = 1 - (d / tau + (tau / 2 + r) / m)
    assert float(goodput(tau, d, r, m)) == pytest.approx(first_order, abs=2e-3)


def test_goodput_falls_with_job_size_restart_cost_and_planned_stops():
    g = [job_reliability("h100-sxm", n, 405e9)["goodput"] for n in (1024, 16384, 131072)]
    assert g[0] > g[1] > g[2] > 0
    fast = job_reliability("h100-sxm", 16384, 405e9, restart_s=60)["goodput"]
    slow = job_reliability("h100-sxm", 16384, 405e9, restart_s=3600)["goodput"]
    assert fast > slow
    tau, d, r, m = 250.0, 3.0, 600.0, 11000.0
    assert float(goodput(tau, d, r, m, planned_per_s=1e-5)) < float(goodput(tau, d, r, m))


def test_checkpoint_size_and_write_time():
    assert checkpoint_bytes(405e9) == pytest.approx(405e9 * 14)
    job = job_reliability("h100-sxm", 16384, 405e9)
    assert job["checkpoint_write_s"] == pytest.approx(405e9 * 14 / 2e12)  # Tectonic 2 TB/s sustained
    slower = job_reliability("h100-sxm", 16384, 405e9, storage_bytes_per_s=0.5e12)
    assert slower["checkpoint_interval_s"] > job["checkpoint_interval_s"]
    assert slower["goodput"] < job["goodput"]


def test_component_mix_keeps_the_total_and_the_llama3_shares():
    mix = component_mix(419.0)
    assert sum(mix.values()) == pytest.approx(419.0)
    assert mix["faulty_gpu"] == pytest.approx(148.0)


def test_bad_reliability_input():
    with pytest.raises(InputError, match="has 16,000"):
        reliability_report("meta-rsc", 20000)
    with pytest.raises(InputError, match="days"):
        reliability_report("meta-rsc", 8, days=0)
    with pytest.raises(InputError, match="unknown failure rate"):
        job_reliability("h100-sxm", 8, 1e9, failure_rate="rsc-9")


def test_a_job_that_never_completes_an_interval_has_goodput_zero_without_a_numpy_warning() -> None:
    """A restart of 1,000 MTTFs: exp(1000) overflows; the limit is goodput 0, said without a RuntimeWarning (hU42)."""
    import warnings

    from infraplan.facility.checkpoint_goodput import goodput

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = goodput(interval_s=10.0, write_s=1.0, restart_s=1000.0, mttf_s=1.0)
    assert float(value) == 0.0
    assert 0.0 < float(goodput(interval_s=10.0, write_s=1.0, restart_s=1.0, mttf_s=100.0)) < 1.0
