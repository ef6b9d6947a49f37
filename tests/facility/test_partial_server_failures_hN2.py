"""A job on part of a server is ended by a failure anywhere in it (hN2, session 70).

`reliability --system meta-rsc --gpus 12` said the job holds 2 domains = 16 GPUs (8-GPU DGX A100 servers) and that
each failure takes one server out of service, yet counted the failures of 12 GPUs, 1.5 servers: job MTTF
1,000 / (6.5 x 12 / 8) = 102.6 days where either server's failure stops it, 1,000 / (6.5 x 2) = 76.9 days. The
failures are now counted on the servers the job occupies (`reliability.accelerators_held`), as `facility --count 12`
("2 servers house 16 a100-80gb, which every figure counts") and the held domains count; `train --tokens` prices its
goodput on the same MTTF.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.facility.reliability import job_reliability, reliability_report

DAY = 86400.0
RSC_1 = 6.5  # node failures per 1,000 node-days (Kokolis et al., HPCA 2025; catalog/facility/reliability.yaml)


def test_twelve_gpus_on_eight_gpu_servers_fail_as_two_servers() -> None:
    twelve = reliability_report("meta-rsc", 12, days=30.0)
    sixteen = reliability_report("meta-rsc", 16, days=30.0)
    assert twelve.gpus_held == 16 and twelve.domains == 2
    assert twelve.job_mttf_s / DAY == pytest.approx(1000.0 / (RSC_1 * 2))  # 76.9 days (was 102.6: 1.5 servers)
    assert twelve.job_mttf_s == sixteen.job_mttf_s
    assert twelve.expected_interruptions == pytest.approx(30.0 * RSC_1 * 2 / 1000.0)  # 0.39 (was 0.2925)
    said = [n for n in twelve.notes if "occupies 2 servers of 8 GPUs (16 GPUs)" in n]
    assert len(said) == 1 and "76.9 days" in said[0]
    assert not any("occupies" in n for n in sixteen.notes)
    # the all-cause rate's MTTF in the same answer is counted on the same 16 GPUs: 1,000 / (23.73 x 2) = 21.1 days
    assert any("job MTTF 21.1 days at 12 GPUs (16 held)" in n for n in twelve.notes)


def test_train_tokens_charges_the_same_servers(capsys: pytest.CaptureFixture[str]) -> None:
    line = "train llama3-8b --system meta-rsc --seq-len 4096 --global-batch 48 --tokens 1e10 --gpus"
    twelve, sixteen = cli_json(capsys, f"{line} 12"), cli_json(capsys, f"{line} 16")
    assert twelve["job_mttf_s"] == sixteen["job_mttf_s"] == pytest.approx(1000.0 / (RSC_1 * 2) * DAY)
    assert twelve["job_mttf_s"] == reliability_report("meta-rsc", 12).job_mttf_s
    assert any("the 12-GPU job occupies 2 servers" in n for n in twelve["notes"])


def test_whole_servers_and_the_per_accelerator_default_are_unchanged() -> None:
    from infraplan.facility.reliability import accelerators_held

    assert [accelerators_held(g, 8) for g in (1, 8, 9, 16, 17)] == [8, 8, 16, 16, 24]
    assert [accelerators_held(g, 4) for g in (6, 72)] == [8, 72]  # a GB200 tray holds 4
    alone = job_reliability("a100-80gb", 12, 8e9, failure_rate="rsc-1")  # no server given: the job's own 12
    assert alone["accelerators_held"] == 12
    assert alone["job_mttf_s"] / DAY == pytest.approx(1000.0 * 8 / (RSC_1 * 12))
    held = job_reliability("a100-80gb", 12, 8e9, failure_rate="rsc-1", server_accelerators=8)
    assert held["job_mttf_s"] == job_reliability("a100-80gb", 16, 8e9, failure_rate="rsc-1")["job_mttf_s"]


def test_campus_runs_charge_the_servers_of_a_24_device_chassis() -> None:
    """`campus`'s reference job (16,384 devices) on MTIA v2's 24-device chassis (catalog/systems/mtia-v2-rack.yaml)
    occupies 683 of them, 16,392 devices (job MTTF 11,134 s -> 11,129 s); on 8-GPU servers nothing moves."""
    from infraplan.facility.checkpoint_goodput import job_mttf_s
    from infraplan.facility.reliability import resolve_failure_rate
    from infraplan.planning.campus_runs import training_capacity

    mtia = training_capacity("mtia-v2", 20000)
    assert mtia.job_gpus == 16384
    assert mtia.job_mttf_s == pytest.approx(float(job_mttf_s(16392, resolve_failure_rate("mtia-v2", None)[1])))
    h100 = training_capacity("h100-sxm", 20000)
    assert h100.job_mttf_s == pytest.approx(float(job_mttf_s(16384, resolve_failure_rate("h100-sxm", None)[1])))
