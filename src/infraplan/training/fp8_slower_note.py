"""The `train` note where an fp8 plan comes out slower than the same plan in bf16, and which step terms make it so.

fp8 halves the GEMMs' time at best, but each quantised GEMM operand is cast (a bf16 read, the fp8 copies written),
per-tensor current scaling reads it once more for its amax and launches an amax and a scale kernel beside the cast,
a per-expert stack quantises expert by expert (Transformer Engine 2.14 `split_quantize`, `training.expert_quantize`)
and Megatron-Core's TEGroupedMLP pads the routed rows for it (`ops.moe_routing`). Where the GEMMs are small (a
fine-grained MoE at micro-batch 1: Qwen3-30B-A3B on 64 B200 with EP8, 15.5 k vs 17.6 k tokens/s/GPU, validation/
notes/training_sets_tried.md round 15q) these costs outweigh the GEMMs' saving, and the model says so rather than
leaving a user to find it: `estimate_training` prices the same plan in bf16 (`bf16_twin`: one more one-plan
estimate, kept in the one-plan memo; ~0.2 ms) and, where bf16 is faster, `fp8_slower_note` states both throughputs
and the step components (`training.step_assembly.COMPONENTS`) in which fp8 costs more and those in which it saves,
largest first. It is the model's result, labelled so: no measured row of this kind backs it (the repo holds no
B200 Qwen3-30B-A3B measurement; NVIDIA's perf configs run it at micro-batch 4 with the HybridEP dispatcher, where the
model has fp8 ahead, round 15q). Plans in another dtype, and fp8 plans at least as fast as bf16, get no note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.training.enums import Dtype
from infraplan.training.one_plan_memo import PLAN_FIELDS
from infraplan.training.plan import PlanArrays
from infraplan.training.step_assembly import COMPONENTS

# what each step component holds, as the note names it (`training.step_assembly`), with fp8's own terms
COMPONENT_TERMS = {
    "compute": "GEMMs and attention, the GEMMs at the fp8 rate",
    "tp_comm": "TP collectives, for fp8 quantised all-gathers and amax all-reduces",
    "cp_comm": "CP collectives",
    "ep_comm": "EP all-to-all",
    "pp_bubble": "pipeline bubble",
    "pp_comm": "pipeline transfers",
    "dp_comm_exposed": "exposed data-parallel traffic",
    "optimizer": "optimizer",
    "other": ("element-wise passes and host issue, for fp8 the casts, amax reads, per-expert quantise kernels, "
              "quantisation padding copies and their launches"),
}
_FP8, _BF16 = int(Dtype.FP8), int(Dtype.BF16)
_DTYPE = PLAN_FIELDS.index("dtype")


def is_fp8(plan: PlanArrays) -> bool:
    """Whether a one-element plan's GEMMs run in fp8."""
    return (plan.one_row.dtype if plan.is_one else int(np.ravel(plan.dtype)[0])) == _FP8


def bf16_twin(plan: PlanArrays) -> PlanArrays:
    """The same one-element plan with its GEMMs in bf16."""
    if plan.is_one:
        values = list(plan.row_key)
        values[_DTYPE] = _BF16
        return PlanArrays.one_plan(**dict(zip(PLAN_FIELDS, values, strict=True)))
    return replace(plan, dtype=np.full_like(plan.dtype, _BF16))


def fp8_slower_note(fp8: Mapping[str, Any], bf16: Mapping[str, Any]) -> str | None:
    """The note for an fp8 plan slower than its bf16 twin (module docstring); None where it is not. `fp8`, `bf16`:
    the outputs of the plan and of its `bf16_twin` (`evaluate_plans` keys: the step components,
    `tokens_per_s_per_gpu`, `fits`)."""
    fp8_rate, bf16_rate = float(fp8["tokens_per_s_per_gpu"]), float(bf16["tokens_per_s_per_gpu"])
    if fp8_rate >= bf16_rate:
        return None
    deltas = {k: float(fp8[k]) - float(bf16[k]) for k in COMPONENTS}
    costs = sorted((k for k in COMPONENTS if deltas[k] > 0.0), key=lambda k: -deltas[k])
    savings = sorted((k for k in COMPONENTS if deltas[k] < 0.0), key=lambda k: deltas[k])

    def terms(keys: list[str]) -> str:
        return "; ".join(f"{k} {deltas[k]:+.3f} s ({COMPONENT_TERMS[k]})" for k in keys) or "nothing"

    fit = "" if bool(bf16["fits"]) else ", though the bf16 plan does not fit in memory"
    return (f"fp8 is slower than bf16 on this plan (the model's estimate, not a measurement): {fp8_rate:,.0f} vs "
            f"{bf16_rate:,.0f} tokens/s/GPU in bf16 ({100.0 * (fp8_rate / bf16_rate - 1.0):+.1f} %){fit}. Per step, "
            f"fp8 costs more in {terms(costs)}; it saves in {terms(savings)}")
