"""torch.distributed.pipelining's deferred FSDP reduce-scatter (hZ, session 53; `training.zero3_edges.
deferred_zero2_form`, `Stack.pipeline_grad_reduce_deferred`).

Under torch's pipelining every backward of an FSDP stage runs with gradient sync off and the stage's reduce-scatter
runs after its last backward (torch 2.5.1 pipelining/stage.py:522-536), so the first stage's whole reduce-scatter
follows the step's last compute. Before this change the pipelined ZeRO-2 form hid it behind one micro-batch's
backward window (checked: with `pipeline_grad_reduce_deferred` off, the stack the base tree had, the first two
tests fail: the DP exposure is the same on and off, and below the reduce-scatter).
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

ON = load_stack("torchtitan")
OFF = ON.model_copy(update={"pipeline_grad_reduce_deferred": False})
PIPED: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, tp=2, pp=4, seq_len=8192,
                             schedule="1f1b", global_batch=256)


def _dp(stack: Any, **plan: Any) -> float:
    return float(estimate_training(**{**PIPED, **plan}, stack=stack).breakdown_s.dp_comm_exposed)


def test_the_first_stage_reduce_scatter_is_exposed_whole() -> None:
    """ZeRO-2, TP2 PP4 DP8: a stage of 8 layers and a table over TP 2 (1.14e9 weights) reduce-scattered in fp32 over
    8 ranks; the exposure with the deferral is at least that collective's bandwidth term on the DGX's 8 x 400 Gb/s
    rail-optimised scale-out (bound below by its bytes over the fastest link: 7/8 x 4.55 GB / 100 GB/s)."""
    on, off = _dp(ON, zero=2), _dp(OFF, zero=2)
    layer = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336 + 2 * 4096
    stage = (8 * layer + 128256 * 4096) / 2.0
    assert on > off
    assert on >= 7.0 / 8.0 * stage * 4.0 / 450e9  # the NVLink bound (450 GB/s a direction), far below the rail's


def test_zero3_under_the_pipeline_exposes_the_deferred_tail() -> None:
    assert _dp(ON, zero=3) > _dp(OFF, zero=3)


def test_without_a_pipeline_and_on_other_stacks_nothing_moves() -> None:
    single = dict(gpus=8, tp=1, pp=1, global_batch=8, schedule="1f1b")
    assert _dp(ON, zero=2, **single) == _dp(OFF, zero=2, **single)
    assert _dp(ON, zero=3, **single) == _dp(OFF, zero=3, **single)
    assert ON.pipeline_grad_reduce_deferred and ON.pipeline_grad_reduce_source
    assert not any(load_stack(s).pipeline_grad_reduce_deferred for s in ("deepspeed", "nemo-26.04", "meta-llama3"))


@pytest.mark.parametrize("zero", [2, 3])
def test_the_toggle_restores_the_old_form(zero: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from infraplan.training import zero3_edges
    clear_one_plan_memo()
    monkeypatch.setattr(zero3_edges, "DEFERRED_PIPELINE_REDUCE", False)
    try:
        assert _dp(ON, zero=zero) == _dp(OFF, zero=zero)
    finally:
        clear_one_plan_memo()


def test_the_edge_tables_are_a_stack_fact_not_the_copy_flag() -> None:
    """ZeRO-3's edge units hold FSDP2's root (both tables) where `zero3_edge_tables` is root (torchtitan), whatever
    `fsdp2_copy_passes` says (before, that flag picked the root: with it off the edges fell to the embedding's)."""
    assert ON.zero3_edge_tables == "root"
    assert all(load_stack(s).zero3_edge_tables == "embedding" for s in ("deepspeed", "nemo-26.04", "meta-llama3"))
    plan = dict(gpus=8, tp=1, pp=1, global_batch=8, schedule="1f1b", zero=3)
    no_copies = ON.model_copy(update={"fsdp2_copy_passes": False})
    embedding_only = ON.model_copy(update={"zero3_edge_tables": "embedding"})
    assert _dp(no_copies, **plan) == _dp(ON, **plan)
    assert _dp(embedding_only, **plan) < _dp(ON, **plan)
