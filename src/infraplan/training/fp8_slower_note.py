"""The `train` note where a plan in a lower precision comes out slower than the same plan in a higher one (fp8
slower than bf16, NVFP4 slower than fp8, ...), and which step terms make it so.

fp8 halves the GEMMs' time at best, but each quantised GEMM operand is cast (a bf16 read, the fp8 copies written),
per-tensor current scaling reads it once more for its amax and launches an amax and a scale kernel beside the cast,
a per-expert stack quantises expert by expert (Transformer Engine 2.14 `split_quantize`, `training.expert_quantize`)
and Megatron-Core's TEGroupedMLP pads the routed rows for it (`ops.moe_routing`). Where the GEMMs are small (a
fine-grained MoE at micro-batch 1: Qwen3-30B-A3B on 64 B200 with EP8, 15.5 k vs 17.6 k tokens/s/GPU, validation/
notes/training_sets_tried.md round 15q) these costs outweigh the GEMMs' saving, and the model says so rather than
leaving a user to find it: `estimate_training` prices the same plan in bf16 (`dtype_twin`: one more one-plan
estimate, kept in the one-plan memo; ~0.2 ms) and, where bf16 is faster, the note states both throughputs
and the step components (`training.step_assembly.COMPONENTS`) in which fp8 costs more and those in which it saves,
largest first. It is the model's result, labelled so: no measured row of this kind backs it (the repo holds no
B200 Qwen3-30B-A3B measurement; NVIDIA's perf configs run it at micro-batch 4 with the HybridEP dispatcher, where the
model has fp8 ahead, round 15q).

The same rule holds for every precision against every higher one the accelerator runs (`higher_precisions`:
element width, `ELEMENT_BITS`, strictly wider, and a catalog peak for it): NVFP4 on B200 can come out slower than
fp8 (llama3-70b, 8 GPUs TP8, seq 4,096, batch 64, full recompute: 14.9 vs 14.3 s per step; its quantised TP
all-gathers and amax all-reduces and the casts cost more than the fp4 GEMMs save, validation/notes/
product_review_tried.md "hA (session 33)"). `estimate_training` prices the plan once per higher precision
(`dtype_twin`) and `slower_precision_note` names the fastest of those that beat it, the others that do listed.
Only the note: the plan, its result and `search`'s ranking are unchanged; `search` says the note of its best plan,
as `train` of that plan's `train_command` does (`searched_plan_note`, hF53). A bf16 plan, and a plan at least as
fast as every higher precision, get no note; a higher precision faster by less than `TIE_FRACTION` is a tie (a
step bound by exposed communication keeps its time whatever the GEMMs save: DeepSeek-V3 NVFP4 vs MXFP8 on 576
`rubin`, EP 64 over 8-GPU domains, 4,524.765878373905 vs ...906 tokens/s/GPU, was said "slower ... (-0.0 %)", hF57).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.identity_memo import IdentityMemo
from infraplan.ops.precision import recipe
from infraplan.training.enums import Dtype
from infraplan.training.one_plan_memo import PLAN_FIELDS
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_outputs import evaluate_plans
from infraplan.training.step_assembly import COMPONENTS

# what each step component holds, as the note names it (`training.step_assembly`), with the lower precision's terms
COMPONENT_TERMS = {
    "compute": "GEMMs and attention, the GEMMs at the lower precision's rate",
    "tp_comm": "TP collectives, for a quantised format its quantised all-gathers and amax all-reduces",
    "cp_comm": "CP collectives",
    "ep_comm": "EP all-to-all",
    "pp_bubble": "pipeline bubble",
    "pp_comm": "pipeline transfers",
    "dp_comm_exposed": "exposed data-parallel traffic",
    "optimizer": "optimizer",
    "other": ("element-wise passes, for a quantised format the casts, amax reads, per-expert quantise kernels and "
              "quantisation padding copies"),
    "host_exposed": ("host issue no queued GPU work covers, for a quantised format the casts' and quantise kernels' "
                     "launches"),
}
# bits per element of each training format, block scales aside: bf16 16; fp8 e4m3/e5m2 8 (Micikevicius et al.,
# arXiv:2209.05433); MXFP8 8-bit elements (OCP Microscaling Formats v1.0, sec. 5); NVFP4 e2m1 4-bit elements
# (arXiv:2509.25149, sec. 2). A format is lower than another when its elements are narrower (fp8 and MXFP8: neither)
ELEMENT_BITS = {str(Dtype.BF16): 16, str(Dtype.FP8): 8, str(Dtype.MXFP8): 8, str(Dtype.NVFP4): 4}
_DTYPE = PLAN_FIELDS.index("dtype")
# a search's pricing of plans (`search_rows.Pricing.outputs`): `evaluate_plans` keys, one value a plan
Outputs = Callable[[TransformerShape, Cluster, PlanArrays, Stack], Mapping[str, np.ndarray]]


def plan_dtype(plan: PlanArrays) -> str:
    """The training dtype label of a one-element plan."""
    return str(Dtype.from_code(int(plan.one_row.dtype) if plan.is_one else int(np.ravel(plan.dtype)[0])))


def higher_precisions(plan: PlanArrays, accelerator: Accelerator) -> list[str]:
    """The dtypes with wider elements than the plan's that the accelerator has a peak for (module docstring); kept
    per accelerator (frozen; by identity, the entry holding it) and dtype: a single estimate asks every time."""
    dtype = plan_dtype(plan)
    kept = _HIGHER.get(accelerator, dtype)
    if kept is not None:
        return list(kept)
    bits = ELEMENT_BITS[dtype]
    return list(_HIGHER.put(accelerator, dtype, tuple(d for d in Dtype.labels()
                                                     if ELEMENT_BITS[d] > bits and recipe(d).supported(accelerator))))


_HIGHER: IdentityMemo[tuple[str, ...]] = IdentityMemo(256)  # `higher_precisions` by accelerator and dtype


def dtype_twin(plan: PlanArrays, dtype: str) -> PlanArrays:
    """The same one-element plan with its GEMMs in `dtype`."""
    code = int(Dtype.parse(dtype, "--dtype"))
    if plan.is_one:
        values = list(plan.row_key)
        values[_DTYPE] = code
        return PlanArrays.one_plan(**dict(zip(PLAN_FIELDS, values, strict=True)))
    return replace(plan, dtype=np.full_like(plan.dtype, code))


# below half the note's printed resolution (0.1 %) a difference is a tie, not a slower plan: the note never says
# "slower" beside "-0.0 %" (float noise of two equal step times included)
TIE_FRACTION = 5e-4


def slower_precision_note(low: Mapping[str, Any], low_dtype: str,
                          higher: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The note for a plan in `low_dtype` slower than the same plan in a higher precision (module docstring); None
    where none is faster. `low`, and each of `higher` by dtype: the outputs of the plan and of its `dtype_twin`
    (`evaluate_plans` keys: the step components, `tokens_per_s_per_gpu`, `fits`)."""
    low_rate = float(low["tokens_per_s_per_gpu"])
    faster = sorted((d for d, out in higher.items()
                     if float(out["tokens_per_s_per_gpu"]) > low_rate * (1.0 + TIE_FRACTION)),
                    key=lambda d: -float(higher[d]["tokens_per_s_per_gpu"]))
    if not faster:
        return None
    high_dtype, high = faster[0], higher[faster[0]]
    high_rate = float(high["tokens_per_s_per_gpu"])
    deltas = {k: float(low[k]) - float(high[k]) for k in COMPONENTS}
    costs = sorted((k for k in COMPONENTS if deltas[k] > 0.0), key=lambda k: -deltas[k])
    savings = sorted((k for k in COMPONENTS if deltas[k] < 0.0), key=lambda k: deltas[k])

    def terms(keys: list[str]) -> str:
        return "; ".join(f"{k} {deltas[k]:+.3f} s ({COMPONENT_TERMS[k]})" for k in keys) or "nothing"

    fit = "" if bool(high["fits"]) else f", though the {high_dtype} plan does not fit in memory"
    also = "".join(f"; slower than {d} too ({float(higher[d]['tokens_per_s_per_gpu']):,.0f} tokens/s/GPU)"
                   for d in faster[1:])
    return (f"{low_dtype} is slower than {high_dtype} on this plan (the model's estimate, not a measurement): "
            f"{low_rate:,.0f} vs {high_rate:,.0f} tokens/s/GPU in {high_dtype} "
            f"({100.0 * (low_rate / high_rate - 1.0):+.1f} %){fit}{also}. Per step, {low_dtype} costs more in "
            f"{terms(costs)}; it saves in {terms(savings)}")


def searched_plan_note(shape: TransformerShape, cluster: Cluster, best_plans: PlanArrays, profile: Stack,
                       outputs: Outputs = evaluate_plans) -> str | None:
    """`slower_precision_note` of a search's best plan (the first of `best_plans`; None where there is none), as
    `estimate_training` says it of the same plan: each priced by `outputs` (`evaluate_plans`, one plan: the one-plan
    memo; a LoRA search's, `train --lora-rank`'s frozen-base step, hL76)."""
    if not len(best_plans):
        return None
    plan = best_plans.take([0])
    higher = higher_precisions(plan, cluster.accelerator)
    if not higher:
        return None

    def price(one: PlanArrays) -> dict[str, Any]:
        return {k: v[0] for k, v in outputs(shape, cluster, one, profile).items()}

    return slower_precision_note(price(plan), plan_dtype(plan), {d: price(dtype_twin(plan, d)) for d in higher})
