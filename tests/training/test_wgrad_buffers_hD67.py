"""The weight gradients' leftovers in memory (hD, session 67; `training.deferred_wgrad_memory`): the MTP layer's
deferred-wgrad store on the stage that holds it (`mtp_extra_bytes`), and without gradient accumulation fusion the
fresh wgrad buffers: a grouped linear's `wgrad_list` held in its store under the deferral, one module's fresh wgrad
as a transient of the backward without it (`fresh_wgrad_bytes`).

Sources: megatron-core 0.16.1 models/gpt/fine_grained_callables.py:609-689 (the MTP layer's callables; eh_proj in the
attention's `backward_dw`, :684-687), transformer/multi_token_prediction.py:651-661 (eh_proj 2h -> h, column
parallel), extensions/transformer_engine.py:1537 (`fuse_wgrad_accumulation` = `gradient_accumulation_fusion`);
Transformer Engine 2.14 module/grouped_linear.py:432-438 (`wgrad_list`, one bf16 weight per local expert), :485 (held
in the store). On 11c0b649 every behaviour check here fails (none of the terms exists), and with the toggles off.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training import deferred_wgrad_memory
from infraplan.training.activation_memory import mtp_activation_bytes
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggles)
NEMO = load_stack("nemo-26.04")
MODEL = "qwen3-30b-a3b"  # h 2,048, 32 q / 4 kv heads of 128, 128 experts of 768, top 8
H, Q, KV, F, EXPERTS = 2048.0, 32 * 128.0, 4 * 128.0, 768.0, 128.0


def _stack(delay: bool = True, fused: bool = True, mtp: int = 0) -> Stack:
    """nemo-26.04 with the combined 1F1B (its TP userbuffers off), with or without the deferral, gradient
    accumulation fusion and MTP modules."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": delay})
    return NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                   "pipeline_split_divisible": False, "tp_comm_overlap_fraction": 0.0,
                                   "tp_overlap_sm_fraction": 0.0, "gradient_accumulation_fusion": fused,
                                   "mtp_num_layers": mtp})


def _plan(shape: object, tp: int = 2, ep: int = 8) -> PlanArrays:
    """One plan of 64 GPUs: TP `tp` with SP, EP `ep`, PP 1, micro-batch 1, no recompute, bf16, seq 4096."""
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16"], 8)  # type: ignore[arg-type]
    keep = (valid_mask(shape, rows) & (rows.tp == tp) & (rows.ep == ep) & (rows.pp == 1) & (rows.cp == 1)  # type: ignore[arg-type]
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.sequence_parallel == 1) & (rows.zero == 1))
    return rows.take(np.flatnonzero(keep)[:1])


def _activations(shape: object, plan: PlanArrays, stack: Stack) -> float:
    return float(memory_breakdown(shape, plan, stack)["activations"][0])  # type: ignore[arg-type]


def test_grouped_wgrad_list_without_fusion() -> None:
    """Qwen3-30B-A3B TP2 (ETP 2) EP8: 16 local experts. Without fusion, deferred: FC1's and FC2's `wgrad_list`
    (16 x (2,048 x 768 + 384 x 2,048) bf16) join the routed experts' held set, the larger one here; not deferred:
    FC1's 16 x 2,048 x 768 bf16, the largest module's fresh wgrad, a transient. Fused: nothing. The toggle off:
    nothing. A grid of plans equals each alone; the search's bounds bracket it."""
    shape = load_model(MODEL)
    plan = _plan(shape)
    local = EXPERTS / 8
    fc1, fc2 = H * 2 * F / 2, F / 2 * H  # one expert's weights at ETP 2
    deferred = _activations(shape, plan, _stack(fused=False)) - _activations(shape, plan, _stack())
    assert deferred == pytest.approx(local * (fc1 + fc2) * 2.0, rel=1e-12)
    plain = _activations(shape, plan, _stack(False, False)) - _activations(shape, plan, _stack(False))
    assert plain == pytest.approx(local * fc1 * 2.0, rel=1e-12)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deferred_wgrad_memory, "FRESH_WGRAD_BUFFERS", False)
        assert _activations(shape, plan, _stack(fused=False)) == _activations(shape, plan, _stack())
        assert _activations(shape, plan, _stack(False, False)) == _activations(shape, plan, _stack(False))
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16", "fp8"], 8)
    rows = rows.take(np.flatnonzero(valid_mask(shape, rows))[::7][:60])
    for stack in (_stack(fused=False), _stack(False, False)):
        grid = memory_breakdown(shape, rows, stack)["activations"]
        alone = [float(memory_breakdown(shape, rows.take([i]), stack)["activations"][0]) for i in range(len(rows))]
        assert np.array_equal(grid, np.array(alone))
        bounds = memory_bound_terms(shape, rows, stack, "activations")
        assert np.all(bounds["activations_high"] >= grid) and np.all(bounds["activations_low"] <= grid)


def test_mtp_layer_store_on_its_stage() -> None:
    """Qwen3-30B-A3B with one expert a token (routed set below the attention's) and one MTP module, TP2 SP, deferred:
    the MTP layer's attention store holds eh_proj's output gradient (T x h / 2) and its SP-gathered 2h input, both bf16,
    above the decoder layer's; the MTP module adds exactly that beside its activations. With top 8 (the routed set
    the larger) it adds nothing; without the deferral, or the toggle off, nothing."""
    shape = load_model(MODEL).model_copy(update={"experts_per_token": 1})
    plan = _plan(shape)
    tokens = 4096.0

    def added(stack_on: Stack, stack_off: Stack, model: object = shape) -> float:
        return _activations(model, plan, stack_on) - _activations(model, plan, stack_off) \
            - float(mtp_activation_bytes(model, plan, stack_on)[0])  # type: ignore[arg-type]

    eh_proj = tokens * H / 2 * 2.0 + tokens * 2 * H * 2.0
    assert added(_stack(mtp=1), _stack()) == pytest.approx(eh_proj, rel=1e-9)
    top8 = load_model(MODEL)
    assert added(_stack(mtp=1), _stack(), top8) == pytest.approx(0.0, abs=1.0)
    assert added(_stack(False, mtp=1), _stack(False)) == pytest.approx(0.0, abs=1.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deferred_wgrad_memory, "MTP_HELD_WGRADS", False)
        assert added(_stack(mtp=1), _stack()) == pytest.approx(0.0, abs=1.0)
    high = memory_bound_terms(shape, plan, _stack(mtp=1), "activations")["activations_high"]
    assert float(high[0]) >= _activations(shape, plan, _stack(mtp=1))
