"""Where LoRA adapters sit and how each is split over tensor parallelism (hT, session 56).

The projections a target set adapts (`LORA_TARGETS`, `ops.layer` roles) and the per-GPU shape of each adapter, as
Megatron-Bridge 0.6.0 builds a `ParallelLinearAdapter` beside Megatron-Core 0.16.1's layers (peft/utils.py:522-652
`get_adapter_attributes_from_linear`, :999-1050):
* column-parallel (QKV, FFN up, MLA's q_up / kv_up, and q_proj where q_lora_rank is 0): A split over R, B over the
  projection's output, which `ops.layer` already holds at out / TP;
* row-parallel (attention output, FFN down): A split over its input (in / TP), B over R's output (`ROW_PARALLEL`);
* replicated (`REPLICATED`: MLA's down projections, TE `TELinear` with parallel_mode="duplicated", multi_latent_
  attention.py:407-409, :453-454 of Megatron-Core 0.16.1; not split in `ops.layer` either): Bridge reads them as
  `input_is_parallel=False, base_linear_is_parallel=False` (peft/utils.py:629-633), so A is split over R
  (ColumnParallelLinear(in, R, gather_output=True)) and B over its whole output (ColumnParallelLinear(R, out,
  gather_output=True), :1037-1038): R (in + out) / TP on each GPU, R (in + out) in all; its forward all-gathers
  x A's T x R and B's T x out; a `TELinear` has no fused layer norm, so under SP the adapter gathers its T x in
  input itself (:1209-1214, `disable_sequence_parallel_comm` is `not sequence_parallel`, :554).
MLA's down projections are two layers in Megatron-Core (`linear_q_down_proj` h x q_lora_rank, `linear_kv_down_proj`
h x (kv_lora_rank + qk_pos_emb_head_dim), multi_latent_attention.py:419-425, :464-468), as `ops.mla_gemms` lists
them in training; where a table has one fused GEMM (`qkv_down`, the same FLOPs: serving, or `ops.mla_gemms.
MLA_TWO_DOWN_GEMMS` off) `adapted_gemms` splits it, so DeepSeek-V3's down projections carry
R (7,168 + 1,536) + R (7,168 + 576) parameters, not R (7,168 + 2,112) (hM56's finding).
Target sets. "attention": the query / key / value and output projections: on GQA Megatron's `linear_qkv` and
`linear_proj` (NeMo's and MLPerf's Llama 2 70B LoRA); on MLA every attention projection, as Megatron-Bridge
0.6.0's MLA recipes list them (recipes/glm/h100/glm5.py:325-331: linear_q_down_proj, linear_q_up_proj,
linear_kv_down_proj, linear_kv_up_proj, linear_proj; recipes/moonlight/h100/moonlight_16b.py:890 with linear_q_proj
where q_lora_rank is None). Bridge's default target list (peft/lora.py:106-108: linear_qkv, linear_proj,
linear_fc1, linear_fc2, matched by exact name, peft/module_matcher.py:143-146) names no MLA projection but
linear_proj: an MLA run on Bridge's defaults adapts only the output projection of its attention, which no target
set here prices. "all": every linear layer of the block but the router (the attention set and linear_fc1 /
linear_fc2 of the dense FFN, the shared experts and the routed experts, `frozen_base`'s MoE paragraph).
`LoraSpec` (a rank on a target set) and `rank_notes` (a rank above an adapted linear's narrow side) live here,
`frozen_base` prices the step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer import layer_ops
from infraplan.ops.layer_records import Gemm
from infraplan.ops.mla_gemms import DOWN_ROLES
from infraplan.scalar_path import to_float
from infraplan.training.layer_time import layer_layout
from infraplan.training.plan import PlanArrays

# the projections each target set adapts (`ops.layer` roles, MLA's fused down projection split as `adapted_gemms`)
LORA_TARGETS = {"attention": ("qkv", "attention_out", "q_down", "kv_down", "q_up", "kv_up"),
                "all": ("qkv", "attention_out", "q_down", "kv_down", "q_up", "kv_up", "ffn_up", "ffn_down",
                        "shared_up", "shared_down", "expert_up", "expert_down")}
# row-parallel projections: their input is split over TP (Megatron-Core RowParallelLinear)
ROW_PARALLEL = ("attention_out", "ffn_down", "shared_down", "expert_down")
# replicated projections (TE parallel_mode="duplicated"): whole on every GPU of the TP group (module docstring)
REPLICATED = ("q_down", "kv_down")


def adapted_gemms(gemms: tuple[Gemm, ...], targets: str, shape: TransformerShape) -> list[Gemm]:
    """The projections of `gemms` that the `targets` set adapts, one per Megatron-Core layer: MLA's fused
    `qkv_down` (n = q_lora + kv_lora + rope) as its q-down (n = q_lora) and kv-down (n = kv_lora + rope) layers."""
    out: list[Gemm] = []
    # a down adapter runs on all T tokens (it gathers its input under SP) where the frozen down projection may run
    # on the sequence shard (`ops.layer.MLA_DOWN_ON_SEQUENCE_SHARD`): the layer's tokens, as the up projection's
    tokens = next((g.m for g in gemms if g.role == "q_up"), None)
    for g in gemms:
        if g.role in DOWN_ROLES and tokens is not None:
            g = replace(g, m=tokens)
        if g.role == "qkv_down":
            q = float(shape.q_lora_rank)
            out += [replace(g, role="q_down", n=q), replace(g, role="kv_down", n=to_float(g.n) - q)]
        else:
            out.append(g)
    return [g for g in out if g.role in LORA_TARGETS[targets]]


def adapter_site(g: Gemm, row: Any) -> tuple[Any, Any, Any]:
    """(tokens, share of the layers, TP ways) of one adapted projection: a routed experts' grouped GEMM has one
    adapter over all the tokens its local experts serve, split over expert TP (`frozen_base`'s MoE paragraph; its
    share of the layers in `share`); a plain GEMM's share of the layers is in `count` (`ops.layer._mean_ops`), split
    over TP."""
    if g.grouped:
        return to_float(g.m * g.count), g.share, to_float(row.expert_tp)
    return to_float(g.m), g.count * g.share, to_float(row.tp)


def adapter_sides(g: Gemm, r: float, tp: Any) -> tuple[Any, Any]:
    """(adapter parameters on one GPU, in all) of one adapted projection, per its share of the layers (module
    docstring): `g.n` / `g.k` are as `ops.layer` holds them on one GPU (a column-parallel n and a row-parallel k
    at 1 / TP, a replicated projection whole)."""
    n, k = to_float(g.n), to_float(g.k)
    if g.role in REPLICATED:
        return r * (k + n) / tp, r * (k + n)
    if g.role in ROW_PARALLEL:
        return r * (k + n / tp), r * (k * tp + n)
    return r * (k / tp + n), r * (k + n * tp)


def adapter_shapes(g: Gemm, r: float, tp: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(N, K) of x A and of (x A) B on one GPU (module docstring: A split over R on a column-parallel or replicated
    projection, B over its output on a row-parallel or replicated one)."""
    n, k = to_float(g.n), to_float(g.k)
    if g.role in REPLICATED:
        return (r / tp, k), (n / tp, r)
    return ((r, k), (n / tp, r)) if g.role in ROW_PARALLEL else ((r / tp, k), (n, r))


@dataclass(frozen=True)
class LoraSpec:
    """Adapters of rank `rank` on the projections of `targets` (a `LORA_TARGETS` key)."""

    rank: int
    targets: str = "attention"


# Megatron-Bridge 0.6.0: under sequence parallelism at TP > 1 a replicated (down-projection) adapter gathers its
# input to T x in (peft/utils.py:1213-1218) and returns B's gathered T x out (no scatter: it is not input-parallel,
# :1231), while the TELinear beside it returns its SP shard, (T / TP) x out; `LoRALinear.forward` then reshapes the
# adapter's output to the base's shape (peft/lora_layers.py:83), which fails (T x out elements into (T / TP) x out).
# Bridge's MLA PEFT recipes run TP 1 or SP off (recipes/glm/h100/glm5.py:281; moonlight_16b.py:73, :80). Such a
# plan does not run: `train` refuses it, `search` prunes it (hW, session 56). False: priced with the gathers (hT56).
DOWN_ADAPTERS_SP_REFUSED = True
DOWN_ADAPTERS_SP_REASON = ("LoRA on MLA's down projections (q_down / kv_down, --lora-targets attention or all) "
                           "does not run with sequence parallelism at TP > 1: Megatron-Bridge 0.6.0 reshapes the "
                           "adapter's gathered output to the base layer's sequence shard (peft/lora_layers.py:83)")
# what each command's user can do about it (`plan_rules.framework_refusals`): `search` runs SP at every TP > 1
# (`training.axes`: sequence_parallel [1]) and has no --no-sequence-parallel, so only `train` can take that way out
DOWN_ADAPTERS_SP_FIX = {"train": "use TP 1 or --no-sequence-parallel, as Bridge's MLA recipes do",
                        "search": "search runs sequence parallelism at every TP > 1, so it proposes TP 1 for them, "
                                  "as Bridge's MLA recipes run (`train --no-sequence-parallel` prices a TP > 1 plan "
                                  "with SP off)"}


def down_adapters_sp_refused(shape: TransformerShape, plan: Any, spec: LoraSpec | None) -> Any:
    """Where LoRA adapts MLA's replicated down projections at TP > 1 with sequence parallelism
    (`DOWN_ADAPTERS_SP_REFUSED`), per plan (one plan: a bool)."""
    if not DOWN_ADAPTERS_SP_REFUSED or spec is None or not shape.is_mla:
        return False
    if not any(role in REPLICATED for role in LORA_TARGETS[spec.targets]):
        return False
    return (plan.tp > 1) & (plan.sequence_parallel == 1)


def rank_notes(shape: TransformerShape, spec: LoraSpec) -> list[str]:
    """A note where the rank is above an adapted projection's narrow side (the smaller of its whole weight's input
    and output, at TP 1): that adapter's update has at most that rank, yet Megatron-Bridge 0.6.0 builds A and B at
    the rank given (peft/lora.py:212 `adapter_cls(in_features, out_features, dim)`; no bound but dim > 0:
    peft/utils.py:357), and it is priced so (hM56: DeepSeek-V3's kv_up is 512 wide, its hidden size 7,168)."""
    whole = PlanArrays.one_plan(tp=1, pp=1, dp=1, cp=1, ep=1, etp=1, vpp=1, micro_batch=1, global_batch=1,
                                seq_len=1, recompute=0, zero=0, dtype=0, attention=0, order=0,
                                sequence_parallel=0).one_row  # (one token: only the weights' sides are read)
    narrow: dict[str, int] = {}
    for g in adapted_gemms(layer_ops(shape, layer_layout(whole, False)).gemms, spec.targets, shape):
        narrow[g.role] = min(narrow.get(g.role, spec.rank), int(to_float(g.n)), int(to_float(g.k)))
    below = [f"{role} ({width:,})" for role, width in narrow.items() if width < spec.rank]
    if not below:
        return []
    return [f"LoRA rank {spec.rank:,} is above the narrow side of {', '.join(below)}: those adapters' updates have "
            "at most that rank; Megatron-Bridge builds them at the rank given (peft/lora.py:212), priced so"]
