"""`train --stack deepseek-v3` without --schedule / --order runs what HAI-LLM runs (hU53).

Before: 1F1B (a schedule the stack does not ship, noted "priced as asked" though nothing was asked) with the EP64
group strided over 64 nodes (the default rank order tp-cp-pp-dp; the report puts it on 8 nodes): 902 tokens/s per
H800 and no fit, where DeepSeek's plan (DualPipe, EP on 8 nodes, its recompute) gives 1,507 and fits.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import estimate_training
from infraplan.training.stack_limits import sole_schedule

PRETRAIN_GPU_HOURS = 2.664e6  # arXiv:2412.19437 Table 1: 2,664K H800 GPU-hours of pre-training, 14.8T tokens
TOKENS, GPUS = 14.8e12, 2048
PAPER = dict(tp=1, pp=16, ep=64, seq_len=4096, global_batch=15360, micro_batch=1, dtype="fp8", stack="deepseek-v3")


def _h800(gpus: int = GPUS) -> Cluster:
    return Cluster.for_accelerator("h800", gpus)


def test_the_stacks_defaults_are_the_papers_plan() -> None:
    plain = estimate_training("deepseek-v3", _h800(), GPUS, recompute="selective", **PAPER)  # type: ignore[arg-type]
    named = estimate_training("deepseek-v3", _h800(), GPUS, recompute="selective", schedule="dualpipe",
                              order="tp-cp-dp-pp", **PAPER)  # type: ignore[arg-type]
    assert (plain.config.schedule, plain.config.order) == ("dualpipe", "tp-cp-dp-pp")
    assert plain.step_time_s == named.step_time_s and plain.memory_per_gpu_bytes == named.memory_per_gpu_bytes
    assert any(n.startswith("no --schedule: dualpipe") for n in plain.notes)
    assert not any("outside the stack" in n for n in plain.notes)


def test_the_default_plan_lands_on_the_published_gpu_hours() -> None:
    result = estimate_training("deepseek-v3", _h800(), GPUS, recompute="auto", **PAPER)  # type: ignore[arg-type]
    gpu_hours = TOKENS / result.tokens_per_s * GPUS / 3600.0
    assert result.fits and gpu_hours == pytest.approx(PRETRAIN_GPU_HOURS, rel=0.15)


def test_a_named_schedule_is_still_priced_as_asked() -> None:
    asked = estimate_training("deepseek-v3", _h800(), GPUS, recompute="selective", schedule="1f1b",
                              **PAPER)  # type: ignore[arg-type]
    assert asked.config.schedule == "1f1b" and any("outside the stack" in n for n in asked.notes)


def test_a_plan_its_one_schedule_refuses_says_where_the_schedule_came_from() -> None:
    with pytest.raises(InputError, match=r"no --schedule: stack deepseek-v3 ships only dualpipe; --schedule 1f1b"):
        estimate_training("deepseek-v3", _h800(192), 192, **{**PAPER, "pp": 3, "global_batch": 1920})  # type: ignore


@pytest.mark.parametrize("stack", ["nemo-26.04", "torchtitan", "deepspeed", "megatron-core-0.8"])
def test_stacks_with_1f1b_or_several_schedules_keep_their_default(stack: str) -> None:
    assert sole_schedule(load_stack(stack), 8) == (None, [])


def test_no_pipeline_no_schedule() -> None:
    assert sole_schedule(load_stack("deepseek-v3"), 1) == (None, [])
