"""Mutation wave hM21 (session 44): the one schedule a stack ships, run where the plan names none
(`training.stack_limits.sole_schedule`, hU53).

Expectations: only a stack shipping exactly one schedule other than 1F1B and the interleave has one to pick (its
docstring; DeepSeek's HAI-LLM ships DualPipe alone); a plan that names --vpp has asked for the interleave
(Megatron's virtual stages), so the stack's DualPipe is not put in its place.
"""

from __future__ import annotations

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import estimate_training
from infraplan.training.stack_limits import sole_schedule

DEEPSEEK = load_stack("deepseek-v3")


def test_only_one_shipped_schedule_is_picked() -> None:
    assert sole_schedule(DEEPSEEK, 16)[0] == "dualpipe"
    two = DEEPSEEK.model_copy(update={"pipeline_schedules": ("dualpipe", "zb-v")})
    assert sole_schedule(two, 16) == (None, [])
    interleave = DEEPSEEK.model_copy(update={"pipeline_schedules": ("interleaved",)})
    assert sole_schedule(interleave, 16) == (None, [])


def test_a_named_vpp_keeps_the_interleave() -> None:
    result = estimate_training("deepseek-v3", Cluster.for_accelerator("h800", 2048), 2048, tp=1, pp=16, vpp=2, ep=64,
                               seq_len=4096, global_batch=16384, micro_batch=1, dtype="fp8", stack="deepseek-v3",
                               recompute="selective")
    assert (result.config.schedule, result.config.vpp) == ("interleaved", 2)
    assert not any(n.startswith("no --schedule") for n in result.notes)
