"""FSDP2 leftovers of hF69 (hF2, session 69; `training.fsdp2_grad_memory`), by hand from torch 2.9.1 / torchtitan
0.3.0 source: ZeRO-3 under torch's pipelining leaves every unit unsharded from its backward to its next forward
(pipelining/stage.py:645-649 `set_reshard_after_backward(False)`; _fsdp_param_group.py:488-490, :302-303, :443-447),
so the stage's whole unsharded bf16 weights are held, as ZeRO-2's; a tied table's unit (torchtitan distributed/
fsdp.py:180-192) keeps the output layer's bf16 gradient from the first backward to its post-backward, the last.
On 49c1c88f (the lead's HEAD) ZeRO-3 under a pipeline priced the shard and two gathered layers and the tied unit
nothing: each test fails there.
"""

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

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggles)
TITAN = load_stack("torchtitan")
# Llama 3 8B: h 4,096, 32 q / 8 kv heads of 128, FFN 14,336, vocab 128,256
LAYER = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 3 * 4096 * 14336  # 218,103,808 matrix weights a block
TABLE = 128256 * 4096  # 525,336,576


def _plan(shape: object, pp: int, zero: int, schedule: int | None = None) -> PlanArrays:
    """One plan of 64 GPUs: TP1 CP1 PP `pp` (no interleaving), micro-batch 1, no recompute, bf16, seq 8,192."""
    rows = enumerate_plans(shape, 64, 8192, 512, ["bf16"], 8)  # type: ignore[arg-type]
    keep = (valid_mask(shape, rows) & (rows.tp == 1) & (rows.pp == pp) & (rows.cp == 1) & (rows.vpp == 1)  # type: ignore[arg-type]
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.zero == zero))
    if schedule is not None:
        keep &= rows.schedule == schedule
    return rows.take(np.flatnonzero(keep)[:1])


def _terms(shape: object, plan: PlanArrays, stack: Stack, **toggles: bool) -> dict[str, float]:
    """The memory terms (bytes per GPU) with `fsdp2_grad_memory`'s toggles set as given."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in toggles.items():
            patch.setattr(fsdp2_grad_memory, name, value)
        clear_one_plan_memo()
        out = memory_breakdown(shape, plan, stack)  # type: ignore[arg-type]
    clear_one_plan_memo()
    return {k: float(out[k][0]) for k in ("weights", "gradients", "optimizer", "activations")}


def test_zero3_under_pipeline_holds_the_stage_unsharded() -> None:
    """torchtitan Llama 3 8B TP1 PP4 DP16 ZeRO-3: the heaviest stage (8 blocks + the embedding, 2,270,167,040
    weights) holds its bf16 weights unsharded, 2 B each (4.540 GB), not its 1 / 16 shard (0.284 GB) and two gathered
    blocks (0.872 GB): + 3.384 GB, and ZeRO-3's weights equal ZeRO-2's there. Without a pipeline (PP1) and on a
    Megatron stack (nemo-26.04) nothing moves."""
    shape = load_model("llama3-8b")
    plan = _plan(shape, 4, 3)
    stage = 8 * LAYER + TABLE
    on = _terms(shape, plan, TITAN)
    assert on["weights"] == pytest.approx(2.0 * stage, rel=1e-9)
    off = _terms(shape, plan, TITAN, FSDP2_PIPELINE_UNSHARDED=False)
    assert on["weights"] - off["weights"] == pytest.approx(2.0 * stage - 2.0 * stage / 16 - 2.0 * 2.0 * LAYER,
                                                           rel=1e-9)
    assert (on["gradients"], on["optimizer"], on["activations"]) == (off["gradients"], off["optimizer"],
                                                                    off["activations"])
    zero2 = _terms(shape, _plan(shape, 4, 2, int(plan.schedule[0])), TITAN)
    assert on["weights"] == zero2["weights"]
    single = _plan(shape, 1, 3)
    assert _terms(shape, single, TITAN) == _terms(shape, single, TITAN, FSDP2_PIPELINE_UNSHARDED=False)
    nemo = load_stack("nemo-26.04")
    assert _terms(shape, plan, nemo)["weights"] == pytest.approx(2.0 * stage / 16 + 2.0 * 2.0 * LAYER, rel=1e-9)


def test_tied_table_gradient_held_through_the_backward() -> None:
    """Llama 3 8B with its table tied (one unit: tok_embeddings, norm, lm_head), TP1 PP1 ZeRO-3 on torchtitan:
    FSDP2's gradients add a block's bf16 gradients (2 B x 218.1 M), the previous block's fp32 reduce-scatter input
    (4 B x 218.1 M: no output unit before the first block's) and the tied table's bf16 gradient, held from the
    output layer's backward to the unit's post-backward at the end (2 B x 525.3 M): 2.3593 GB. Untied: 2.5376 GB
    (the output unit's fp32 input, hF69)."""
    shape = load_model("llama3-8b")
    tied = shape.model_copy(update={"tied_embeddings": True})
    plan = _plan(tied, 1, 3)
    added = _terms(tied, plan, TITAN)["gradients"] - _terms(tied, plan, TITAN, FSDP2_GRAD_MEMORY=False)["gradients"]
    assert added == pytest.approx(2.0 * LAYER + 4.0 * LAYER + 2.0 * TABLE, rel=1e-12)
    untied = _terms(shape, plan, TITAN)["gradients"] - _terms(shape, plan, TITAN, FSDP2_GRAD_MEMORY=False)["gradients"]
    assert untied == pytest.approx(2.0 * LAYER + 4.0 * TABLE, rel=1e-12)
