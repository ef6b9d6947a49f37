"""Mutant-killing check of `planning.search_run.best_plan_estimate` (hJ, session 62): a row priced with the unfused
attention kernel, without sequence parallelism or with full recompute is re-estimated as `train` of that row
(`estimate_training` with every axis its config names), not at the default kernel, SP or recompute: each of these
moves the step or the memory from the default's, so dropping one from the re-estimate shows."""

from __future__ import annotations

import pytest

from infraplan.planning.search_run import best_plan_estimate
from infraplan.training.estimate import estimate_training

PLAN = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=16, tp=2, pp=2, dp=4, seq_len=4096, global_batch=64,
            micro_batch=1, stack="nemo-26.04")


@pytest.mark.parametrize("asked", [{"attention": "unfused"}, {"sequence_parallel": False},
                                   {"recompute": "full"}])
def test_the_rows_kernel_sp_and_recompute_are_kept(asked: dict[str, object]) -> None:
    row = estimate_training(**PLAN, **asked)  # type: ignore[arg-type]
    plain = estimate_training(**PLAN)  # type: ignore[arg-type]
    assert (plain.step_time_s, plain.memory_per_gpu_bytes) != (row.step_time_s, row.memory_per_gpu_bytes)
    again = best_plan_estimate("llama3-8b", "dgx-h100-superpod", row, "nemo-26.04", False, None, None, None)  # type: ignore[arg-type]
    assert again.config == row.config
    assert (again.step_time_s, again.memory_per_gpu_bytes) == (row.step_time_s, row.memory_per_gpu_bytes)
