"""Mutation wave hI75 on `--no-spare-policy` as `train --tokens` prices it (hR74: planning/training_run.py,
limits.check_policy, training/run_options.py).

A plan's shrink unit is one data-parallel replica, TP x CP x PP GPUs (`spare_policy.plan_shrink_unit`; here no EP):
TP2 CP2 PP1 sheds 4 GPUs at a time. Under shrink the job keeps running while short of spares, so every second of its
wall clock can be interrupted: expected interruptions = wall / MTTF + planned a day x wall / 86,400 s (only a waiting
job, idle while a domain is out, is interrupted less: hR74's wait test). The policies are shrink and wait, nothing
else, and a policy named without --tokens is refused for what it is before it is refused for lacking --tokens.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.cli.main import main
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

NVL72 = "gb200-nvl72-superpod"


@pytest.fixture(scope="module")
def run():
    """Llama 3 8B TP2 CP2 DP144 on all 576 GPUs of the SuperPOD (8 NVL72 domains, none spare), shrink (default)."""
    estimate = estimate_training("llama3-8b", NVL72, 576, tp=2, cp=2, pp=1, seq_len=8192, global_batch=576,
                                 dtype="fp8")
    return training_run_totals(estimate, NVL72, 1e12)


def test_a_context_parallel_plan_sheds_whole_tp_x_cp_replicas(run) -> None:
    assert run.no_spare_policy == "shrink" and run.full_size_fraction is not None and run.full_size_fraction < 0.6
    line = next(n for n in run.notes if "--no-spare-policy shrink" in n)
    assert "whole shrink units of 4 GPUs" in line


def test_a_shrinking_job_is_interruptible_all_its_wall_clock(run) -> None:
    planned = load_failure_rate(run.failure_rate).planned_interruptions_per_day / 86400.0
    assert run.expected_interruptions == pytest.approx(run.time_to_train_s * (1.0 / run.job_mttf_s + planned),
                                                       rel=1e-9)


@pytest.mark.parametrize("policy", ["grow", "none", "Shrink", "restart"])
def test_only_shrink_and_wait_are_policies(policy: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reliability", "--system", NVL72, "--gpus", "576", "--no-spare-policy", policy])
    err = capsys.readouterr().err
    assert code == 2 and f"--no-spare-policy must be one of shrink | wait, got '{policy}'" in err
    assert "Traceback" not in err


def test_an_unknown_policy_without_tokens_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "8", "--no-spare-policy", "idle"])
    err = capsys.readouterr().err
    assert code == 2 and "--no-spare-policy must be one of shrink | wait, got 'idle'" in err
