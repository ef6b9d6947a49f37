"""A mutant of `training.fsdp2_grad_memory` the suite let live (hI, session 70): `fsdp2_stage_unsharded` priced
ZeRO-3's stage unsharded under a pipeline on a stack that does not run FSDP2. The unsharded turn comes from FSDP2's
`set_reshard_after_backward(False)` under torch's pipelining (pipelining/stage.py:645-649, torch 2.9.1); a stack
without FSDP2 per unit (a user's torchtitan copy with `fsdp2_copy_passes: false`), or FSDP2's memory toggled off
(`FSDP2_GRAD_MEMORY` False: the memory before session 69), holds ZeRO-3's shard and two gathered layers."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training import fsdp2_grad_memory
from infraplan.training.memory import memory_breakdown
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (a test patches the toggle)
TITAN = load_stack("torchtitan")
# Llama 3 8B: h 4,096, 32 q / 8 kv heads of 128, FFN 14,336, vocab 128,256 (untied)
LAYER = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 3 * 4096 * 14336  # 218,103,808 matrix weights a block
STAGE = 8 * LAYER + 128256 * 4096  # PP4's heaviest stage: 8 blocks + the embedding


def _pp4_zero3() -> PlanArrays:
    shape = load_model("llama3-8b")
    rows = enumerate_plans(shape, 64, 8192, 512, ["bf16"], 8)
    keep = (valid_mask(shape, rows) & (rows.tp == 1) & (rows.pp == 4) & (rows.cp == 1) & (rows.vpp == 1)
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.zero == 3))
    return rows.take(np.flatnonzero(keep)[:1])


def _weights(stack: Stack) -> float:
    clear_one_plan_memo()
    out = memory_breakdown(load_model("llama3-8b"), _pp4_zero3(), stack)
    clear_one_plan_memo()
    return float(out["weights"][0])


def test_zero3_under_a_pipeline_without_fsdp2_holds_its_shard_and_two_layers() -> None:
    """TP1 PP4 DP16 ZeRO-3: torchtitan holds the stage unsharded, 2 B x 2,270,167,040 (hF2); without FSDP2 the
    1 / 16 shard and two gathered blocks, 2 B x (STAGE / 16 + 2 x 218,103,808) = 1.156 GB."""
    assert _weights(TITAN) == pytest.approx(2.0 * STAGE, rel=1e-9)
    shard_and_two = 2.0 * STAGE / 16 + 2.0 * 2.0 * LAYER
    assert _weights(TITAN.model_copy(update={"fsdp2_copy_passes": False})) == pytest.approx(shard_and_two, rel=1e-9)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fsdp2_grad_memory, "FSDP2_GRAD_MEMORY", False)
        assert _weights(TITAN) == pytest.approx(shard_and_two, rel=1e-9)
