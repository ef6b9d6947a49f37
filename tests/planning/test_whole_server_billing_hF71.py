"""A job on part of a server is billed its whole servers, as `facility --count` counts them (hF71).

`train --tokens` billed 12 GPU-hours an hour for 12 GPUs on 8-GPU servers while `facility --accelerator h100-sxm
--count 12` counts 16 in every figure (power, capex, energy) and the job's failures were already counted on its 2
servers (`facility.reliability.accelerators_held`): the run's GPU-hours, energy, CO2 and cost now count the 16.
"""

from __future__ import annotations

import pytest

from infraplan.facility import size_facility
from infraplan.planning import training_run
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training

TOKENS = 1e9


def _run(system: str, gpus: int):  # type: ignore[no-untyped-def]
    estimate = estimate_training("llama3-8b", system, gpus, tp=4, seq_len=4096, global_batch=gpus * 4)
    return training_run_totals(estimate, system, TOKENS)


def test_twelve_h100_are_billed_as_facility_counts_their_two_servers() -> None:
    run = _run("h100-sxm", 12)
    facility = size_facility(accelerator="h100-sxm", count=12)
    hours = run.time_to_train_s / 3600.0
    assert facility.accelerators == run.billed_accelerators_count == 16
    assert run.gpu_hours == pytest.approx(16 * hours, rel=1e-12)
    # the facility's average draw for the wall clock, and its $/GPU-h on all 16
    assert run.energy_mwh == pytest.approx(facility.facility_power_average_w * hours / 1e6, rel=1e-9)
    assert run.cost_usd == pytest.approx(facility.usd_per_gpu_hour * 16 * hours, rel=1e-9)
    said = [n for n in run.notes if n.startswith("a partial server is billed whole")]
    assert said and "holds 2 servers of 8 (16 h100-sxm)" in said[0] and "--count 12" in said[0], run.notes


def test_a_catalog_system_bills_whole_servers_too_and_a_full_server_job_is_unchanged() -> None:
    part, whole = _run("dgx-b200", 12), _run("dgx-b200", 16)
    assert (part.billed_accelerators_count, whole.billed_accelerators_count) == (16, 16)
    assert part.gpu_hours == pytest.approx(16 * part.time_to_train_s / 3600.0, rel=1e-12)
    assert any(n.startswith("a partial server is billed whole") and "facility" not in n for n in part.notes)
    assert not any(n.startswith("a partial server") for n in whole.notes)
    assert whole.gpu_hours == pytest.approx(16 * whole.time_to_train_s / 3600.0, rel=1e-12)


def test_the_switch_off_bills_the_jobs_own_accelerators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training_run, "WHOLE_SERVERS", False)
    run = _run("h100-sxm", 12)
    assert run.billed_accelerators_count == 12
    assert run.gpu_hours == pytest.approx(12 * run.time_to_train_s / 3600.0, rel=1e-12)
    assert not any(n.startswith("a partial server") for n in run.notes)
