"""FSDP2's gradient tensors in memory (hF, session 69; `training.fsdp2_grad_memory`), by hand from torch 2.9.1's
source: without a pipeline a unit's whole unsharded bf16 gradients (_fsdp_param_group.py:478-512) beside the
previous unit's reduce-scatter input at fp32, kept in `comm_ctx.reduce_scatter_state` until the next post-backward
(:515-523, :560-563; _fsdp_collectives.py:508-517); under torch's pipelining (stage.py:645-666, no gradient sync until
the last backward) the stage's unsharded gradient kept at fp32 (_fsdp_param.py:627-646). On fcbf9868 (the lead's
HEAD) every difference asserted here is 0 (no such term), so each test fails there.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training import fsdp2_grad_memory
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.stage_params import is_mirrored

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggle)
TITAN = load_stack("torchtitan")
# Llama 3 8B: h 4,096, 32 q / 8 kv heads of 128, FFN 14,336, vocab 128,256 (untied)
LAYER = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 3 * 4096 * 14336  # 218,103,808 matrix weights a block
TABLE = 128256 * 4096  # 525,336,576


def _plan(shape: object, pp: int, zero: int) -> PlanArrays:
    """One plan of 64 GPUs: TP1 CP1 PP `pp` (no interleaving), micro-batch 1, no recompute, bf16, seq 8,192."""
    rows = enumerate_plans(shape, 64, 8192, 512, ["bf16"], 8)  # type: ignore[arg-type]
    keep = (valid_mask(shape, rows) & (rows.tp == 1) & (rows.pp == pp) & (rows.cp == 1) & (rows.vpp == 1)  # type: ignore[arg-type]
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.zero == zero))
    return rows.take(np.flatnonzero(keep)[:1])


def _added(shape: object, plan: PlanArrays, stack: Stack) -> dict[str, float]:
    """Each memory term with the FSDP2 gradients less without them (bytes per GPU)."""
    clear_one_plan_memo()
    on = memory_breakdown(shape, plan, stack)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fsdp2_grad_memory, "FSDP2_GRAD_MEMORY", False)
        clear_one_plan_memo()
        off = memory_breakdown(shape, plan, stack)  # type: ignore[arg-type]
    clear_one_plan_memo()
    return {k: float(on[k][0] - off[k][0]) for k in ("weights", "gradients", "optimizer", "activations")}


def test_unit_gradients_without_pipeline() -> None:
    """torchtitan, Llama 3 8B TP1 PP1, ZeRO-3 and ZeRO-2 (both reduce-scatter per unit every micro-batch): the
    backward adds a block's bf16 gradients (2 B x 218.1 M) and the previous unit's fp32 reduce-scatter input, the
    output layer's the larger (4 B x 525.3 M, held through the last block's backward): 2.5376 GB; ZeRO-0 too
    (torchtitan 0.3.0 runs FSDP2 over a shard group of 1). nemo-26.04 (Megatron, not FSDP2): nothing. Priced with
    the gradients (the search broadcasts ZeRO over the activations)."""
    shape = load_model("llama3-8b")
    for zero in (3, 2, 0):
        added = _added(shape, _plan(shape, 1, zero), TITAN)
        assert added["gradients"] == pytest.approx(2.0 * LAYER + 4.0 * TABLE, rel=1e-12)
        assert added["activations"] == 0.0 and added["weights"] == 0.0
    nemo = load_stack("nemo-26.04")
    assert _added(shape, _plan(shape, 1, 3), nemo) == {"weights": 0.0, "gradients": 0.0, "optimizer": 0.0,
                                                       "activations": 0.0}


def test_pipeline_keeps_the_stage_gradient() -> None:
    """torchtitan PP4 ZeRO-2 (its default under a pipeline): the heaviest stage (8 blocks + the embedding,
    2,270,167,040 weights) keeps its unsharded gradient at fp32 through the step, 4 B each (9.081 GB), and a block's
    fresh bf16 gradients before the `+=` (2 B x 218.1 M); at a bf16 reduce 2 B each kept and no transient. ZeRO-0
    (FSDP2 over a shard group of 1) the same: its whole fp32 gradient stays allocated across steps beside it
    (torchtitan 0.3.0 trainer.py:874 zeroes it in place)."""
    shape = load_model("llama3-8b")
    plan = _plan(shape, 4, 2)
    stage = 8 * LAYER + TABLE
    added = _added(shape, plan, TITAN)
    assert added["gradients"] == pytest.approx(4.0 * stage + 2.0 * LAYER, rel=1e-12)
    assert added["activations"] == 0.0
    assert _added(shape, _plan(shape, 4, 0), TITAN)["gradients"] == pytest.approx(4.0 * stage + 2.0 * LAYER,
                                                                                  rel=1e-12)
    bf16 = TITAN.model_copy(update={"grad_reduce_dtype": "bf16"})
    assert _added(shape, plan, bf16)["gradients"] == pytest.approx(2.0 * stage, rel=1e-12)


def test_grid_equals_each_plan() -> None:
    """A grid of torchtitan plans (PP 1 and > 1, ZeRO 0 / 2 / 3) prices each as alone, and the search's bounds
    bracket the plans of one parameter copy (the bounds' own scope: no mirrored schedule)."""
    shape = load_model("llama3-8b")
    rows = enumerate_plans(shape, 64, 8192, 512, ["bf16"], 8)
    rows = rows.take(np.flatnonzero(valid_mask(shape, rows))[::11][:50])
    assert {int(z) for z in rows.zero} >= {0, 2, 3} and int(np.max(rows.pp)) > 1
    clear_one_plan_memo()
    grid = memory_breakdown(shape, rows, TITAN)
    for i in range(len(rows)):
        alone = memory_breakdown(shape, rows.take([i]), TITAN)
        for term in ("gradients", "activations"):
            assert float(grid[term][i]) == float(alone[term][0])
    single = np.flatnonzero(~np.asarray(is_mirrored(rows)))
    rows = rows.take(single)
    assert int(np.max(rows.pp)) > 1 and {int(z) for z in rows.zero} >= {2, 3}
    total = (grid["weights"] + grid["gradients"] + grid["optimizer"] + grid["activations"])[single]
    state = memory_bound_terms(shape, rows, TITAN, "states")
    acts = memory_bound_terms(shape, rows, TITAN, "activations")
    assert np.all(state["state_low"] + acts["activations_low"] <= total * (1 + 1e-12))
    assert np.all(state["state_high"] + acts["activations_high"] >= total * (1 - 1e-12))
