"""The TP communication overlap a model runs under its stack: userbuffers off on MLA models under Megatron-Core.

What is modelled: a stack's `tp_comm_overlap_fraction` / `tp_overlap_sm_fraction` (Transformer Engine userbuffers,
`training.layer_time`) are what its Megatron-Core recipes switch on with `tp_comm_overlap`. Megatron-Core does not run
them on a model with multi-head latent attention, whatever the recipe asks:

* megatron-core 0.16.1 extensions/transformer_engine.py:531-541 (`TELinear.__init__`; the same in 0.14.0, :260-270):
  a TE linear built with a userbuffer name outside qkv / proj / fc1 / fc2 sets the SHARED
  `config.tp_comm_overlap = False` ("Disabling TP communication overlap"), and every module built after it reads the
  switched-off config (:544, `TELayerNormColumnParallelLinear` :782). MLA builds `linear_q_down_proj` with
  `tp_comm_buffer_name='q_down_proj'` (transformer/multi_latent_attention.py:428; `q_proj` :403 where q_lora_rank is
  None, `kv_down_proj` :473 always), in its first layer, before the up projections, the experts and every later
  layer (one module keeps userbuffers: the first layer's `linear_proj`, built before it, :179; not priced: one
  reduce-scatter of one layer per rank). megatron-core 0.12.2 built MLA's linears with no buffer name, which Megatron's
  `ub_name` assertion refuses under `tp_comm_overlap` (0.12.2 extensions/transformer_engine.py:176-180, :356-359): no
  MLA run ever had the overlap.
* The recipes agree: NeMo 2.5.0 (the 25.09 container's; the H018 row) recipes/deepseek_v3.py:144-146 and :184-186
  `MegatronCommOverlapCallback(tp_comm_overlap=False)` (2.3.0 scripts/performance/llm/pretrain_deepseek_v3.py:85-88
  likewise); Megatron-Bridge 0.3.1 recipes/deepseek/deepseek_v3.py:168, :313 and 0.6.0 recipes/deepseek/h100/
  deepseek_v3.py:213, :369 `CommOverlapConfig(tp_comm_overlap=False)`.

So a Megatron-family stack (`stack_class` megatron) prices an MLA model with no userbuffer overlap and no SMs taken
(`userbuffer_overlap`); TE's NCCL path then runs as the stack says without userbuffers (`tp_async_backward`: the
column-parallel dgrad reduce-scatter async under the wgrad GEMM, TE 2.14 module/linear.py:748-754, :941,
layernorm_linear.py:760-766; the wgrad input re-gather under the dgrad GEMM, `training.sp_regather`); the forward
gathers and reduce-scatters (linear.py:211-215, :357) and the row-parallel output-gradient gathers (module/base.py:
1229-1233) are synchronous NCCL calls, exposed. `MLA_DISABLES_USERBUFFERS` = False prices the stack's overlap on
every model (before hM58).

Which collectives the userbuffers run (hK, session 62; `outside_userbuffer_seconds`): only TE linears' own SP
all-gathers / reduce-scatters, those Megatron-Core builds with a userbuffer name qkv / proj / fc1 / fc2
(extensions/transformer_engine.py:531-576; attention.py:359 `proj`, :1276 `qkv`; mlp.py:131 `fc1`, :151 `fc2`): the
attention's T x h pair in every layer, a dense layer's FFN pair and a shared expert's (`SharedExpertMLP(MLP)`,
is_expert False). Not the routed path: the experts' TE linears are built with their userbuffers off (`is_expert`,
transformer_engine.py:557-560; TE 2.14 `GroupedLinear` refuses userbuffers, grouped_linear.py:655-656) and their
tokens move by the dispatcher's own calls: the all-to-all dispatcher's all-gather / reduce-scatter over expert TP
(token_dispatcher.py:691-701, :774-783) are Megatron's `gather_from_sequence_parallel_region` /
`reduce_scatter_to_sequence_parallel_region`, plain `all_gather_into_tensor` / `reduce_scatter_tensor` on the
group (tensor_parallel/mappings.py:114-150, :155-193); so are the shared expert's pair under
`moe_shared_expert_overlap`, whose linears lose their parallel mode and userbuffer flags (shared_experts.py:92-101)
and whose gather / scatter the dispatcher issues (:167-170, :250-253). `ops.layer` marks those records
(`Collective.outside_te`: the ETP pair, the overlapped shared pair, and the FFN half of the T x h pair it prices for a
routed layer where no shared expert owns it); the stack's `tp_comm_overlap_fraction` hides its share of the rest.
The same holds without userbuffers: TE's async dgrad reduce-scatter / all-reduce (`tp_async_backward`) is its own
linears' (`te_linear_records`); the dispatcher's are synchronous NCCL calls in Megatron's autograd functions
(mappings.py `_GatherFromSequenceParallelRegion.backward`, `_ReduceScatterToSequenceParallelRegion.backward`).
(megatron-core 0.16.1; 0.10.0 the same: token_dispatcher.py :508-516, :560-567, shared_experts.py:54-62.)
`TE_LINEARS_ONLY` = False hides the share of every TP record, as before hK62.

Sequence parallelism off (hV, session 62; `SP_GATES_USERBUFFERS`): no userbuffers run, per plan. TE 2.14 sets each
linear's userbuffer flags only under SP (module/linear.py:1137-1165, layernorm_linear.py:1208-1236,
layernorm_mlp.py:1849-1860: every `ub_*` is `... and self.sequence_parallel`), and Megatron-Core hands TE the
config's `sequence_parallel` (0.16.1 extensions/transformer_engine.py:625, :827; 0.8.0 custom_layers/
transformer_engine.py:163, :273); the recipes of the overlap stacks switch `tp_comm_overlap` off without SP: NeMo
1.19.0 (nemo-23.05) nlp/models/language_modeling/megatron_base_model.py:564-570, NeMo 2.5.0 (nemo-24.12)
lightning/pytorch/callbacks/megatron_comm_overlap.py:141-148, Megatron-Bridge 0.6.0 (nemo-26.04) training/
comm_overlap.py:441-448 ("Disabling tensor parallel communication overlap due to sequence_parallel=False").
(megatron-core's own configs 0.8.0 / 0.10.0 / 0.16.1 refuse nothing: model_parallel_config.py `__post_init__`;
Megatron-LM's training/arguments.py is not in the megatron-core wheel, not read.) So an SP-off plan prices no
overlap and no SMs taken, and takes TE's NCCL path where its stack prices it (`tp_async_backward`: the
column-parallel dgrad all-reduce async under the wgrad GEMM, linear.py:744-754): its all-reduces otherwise exposed.
The search only runs SP on (`training.axes`); a grid's SP-off rows (`train --no-sequence-parallel`, or a caller's
grid) take the rule per row. False: the stack's overlap hides its share of the SP-off all-reduces, as before.

Three more records and rules (hD, session 63). MLA's decoupled RoPE key: under SP Megatron-Core gathers k_pos_emb
itself (0.16.1 transformer/multi_latent_attention.py:620-622, `gather_from_sequence_parallel_region`; mappings.py
:296-346, its backward a synchronous reduce-scatter): `ops.layer` marks its byte share of the latent record
`outside_te` (its own record under `MLA_LATENT_TE_GATHERS`), so TE's async dgrad path hides the up projections'
reduce-scatters of the q / kv latents, not the rope key's; and the MLA layer's T x h records carry the FFN half's mark
as the GQA layer's do. A frozen base (LoRA, `frozen_base.with_frozen_layers`): TE issues a frozen linear's dgrad
reduction async and waits for it with no wgrad GEMM between (TE 2.14 module/linear.py:744-754, :768 `if
ctx.requires_wgrad`, :941-943), so the window is given back whole (the adapters' wgrads hide only their own
all-reduces: `frozen_base.adapter_dgrad_hidden`, hN63), and only the window TE gave (`te_linear_records`): on a
MoE model the dispatcher's expert-TP scatter stays exposed as under full training (the routed experts' grouped
linears and their adapters run no TE TP collective: `explicit_expert_comm`, Megatron-Bridge 0.6.0 peft/utils.py:
557-564). nemo-23.05 / nemo-24.12 run TE's async path too (`tp_async_backward` in their stack files: transformer-engine
1.13.0 module/linear.py:506-514, :581-583; 23.05's TE 0.x an ASSUMPTION there).

One window, one rule (hD, session 64). `layer_time` hides min(TE's linears' dgrad reductions, half the backward GEMMs)
and keeps the seconds it took off in the layer term `ASYNC_HIDDEN`; a frozen base gives exactly those back
(`frozen_base.KEPT_WINDOW`): TE issues a frozen linear's reduction async and waits for it before anything else runs,
its wgrad GEMM skipped (TE 2.14 linear.py:477 `ctx.requires_wgrad = weight.requires_grad`, :744-754, :768, :941-943;
layernorm_linear.py:475, :751-766, :780, :954-956, the norm's backward only after the wait, :968; layernorm_mlp.py
:792, :1403-1419, :1431, :1546-1548), so none of the window is left. Before, the give-back was min(reductions, the
skipped wgrads): near the window, not equal (wgrads at the main gradient's width against half the GEMMs' backward).
ASSUMPTION, bounded: both async overlaps priced here (TE's dgrad reduction under the wgrad GEMM, and the LoRA
adapters' input-gradient all-reduce in Megatron's `LinearWithGradAccumulationAndAsyncCommunication`,
`frozen_base.adapter_dgrad_hidden`) need CUDA_DEVICE_MAX_CONNECTIONS=1 so that the collective is scheduled before the
GEMM: "necessary for a speedup but not for correctness" (megatron-core 0.16.1 tensor_parallel/layers.py:542-546,
:657-664; it warns otherwise, :727-743; TE 2.14 module/base.py:1154-1169 warns "To guarantee overlapping TP and SP
collectives with the backward GEMMs, set ... CUDA_DEVICE_MAX_CONNECTIONS = 1"). With more connections the overlap is
not guaranteed: anywhere from none to what is priced. It is a launch environment per GPU and plan, not a stack
profile's: Megatron-Bridge 0.6.0's performance recipes set 1 on H100 at TP > 1 (perf_recipes/llama/h100/llama3.py
:143, :184, :323, :380, and its LoRA fp8 TP2 recipe :482; 32 at TP 1, :436), but 8 / 32 for the H100 MoE plans at
TP 2 (qwen/h100/qwen3_moe.py:158, TP2 without userbuffers: TE's async path runs there unguaranteed) and 32 on every
Blackwell recipe, TP 4 included (llama/gb200/llama31.py:55, under userbuffers), and its own FSDP asserts it is not 1
(training/config.py:1101-1102). Priced as 1 on every stack; the bound (what the overlap is worth) on Llama 3 70B TP8
SP off, 64 B200, nemo-26.04: full training 2.833 s a step with TE's path, 3.158 without; its LoRA 16 "all" step
2.879 s, 2.922 without the adapters' overlap (hD64's figures, the window pooled).

The window per linear (hD, session 65; `async_dgrad_window_s`, `PER_LINEAR_WINDOW`). TE's async reduction belongs to
one linear's backward: it is issued after that linear's dgrad GEMM, only that linear's wgrad GEMM runs before the
wait, and the wait is inside the same autograd function (TE 2.14 module/linear.py:744-754 issue, :768 the wgrad
under `ctx.requires_wgrad`, :941-943 wait; layernorm_linear.py, Megatron-Core's QKV / FC1: :732 dgrad GEMM,
:757-766 issue, :893-894 wgrad GEMM, :954-956 wait; layernorm_mlp.py: FC2's wgrad :1247 runs before FC1's dgrad
GEMM :1385 and its reduction :1403-1419, then FC1's wgrad :1499 and the wait :1546-1548). So QKV's reduction hides
under QKV's wgrad only, FC1's (or a shared expert's FC1's, or MLA's up projections' latent reductions) under its own,
never under the row-parallel output projection's or FC2's wgrads, which run in other autograd functions with no
reduction of TE's in flight. `layer_time` hides, per column-parallel TE linear (`sp_regather.column_parallel_roles`),
min(its T x k input gradient's reduce-scatter (SP) / all-reduce (SP off) in bf16, its wgrad GEMM: half the GEMM's
backward, as `sp_regather` splits it), summed, and never more than TE's reductions as priced (`te_linear_records`;
MLA's one latent record prices the two latents as one collective). The forward's gathers and reduce-scatters and the
row-parallel output-gradient gathers stay synchronous on this path (no window). A frozen base (LoRA) runs none of its
linears' wgrads, so none of the window exists: `frozen_base` gives back exactly what is kept (`ASYNC_HIDDEN`), now the
per-linear sum. False: min(TE's reductions, half of all the layer's backward GEMMs), as before.

The deferred wgrad (hM, session 65; `wgrad_deferred`, `DEFERRED_WGRAD_EMPTIES_WINDOW`). Under Megatron-Core's
`delay_wgrad_compute` (`MoeRouting.delay_wgrad_compute`; Megatron-Bridge 0.6.0 perf_recipes/qwen/h100/qwen3_moe.py
:199-203, H026's configuration) Megatron-Core builds every TE linear with it (0.16.1 extensions/transformer_engine.py
:525-529, :766-770, grouped :1496-1501) and TE puts the wgrad GEMM in the module's store instead of running it (TE 2.14
module/linear.py:888-899, layernorm_linear.py:899-910; the wgrad input's SP re-gather is still waited for first,
linear.py:768-775, so `sp_regather` is unchanged) while the dgrad reduction's wait stays at the end of the same
backward (linear.py:941-943, layernorm_linear.py:954-956): nothing runs between issue and wait, so the window is empty
and the reduction exposed, as for a frozen linear. The stored wgrads run later, in the combined 1F1B's layer step
(models/common/model_chunk_schedule_plan.py:190-254): the experts' (`mlp.backward_dw`, :231) on the compute stream
while the communication stream runs the other micro-batch's dispatch and this one's dispatch backward; the
attention's and a shared expert's (`attn.backward_dw`, :252; models/gpt/fine_grained_callables.py:363-383) after the
attention's backward, beside the other micro-batch's combine and the next layer's combine backward. Megatron-Core
takes `delay_wgrad_compute` only with `overlap_moe_expert_parallel_comm` (transformer_config.py:1908-1912), so the
field acts on the plans that run the combined 1F1B (`combined_1f1b.combined_1f1b_plans`). The wgrad GEMMs themselves
stay priced as before: the pair (`expert_dispatch.with_ep_comm`) already hides the all-to-alls under the whole
layer's compute, deferred wgrads included. False: the window as without the field.

The deferral refused with userbuffers (hD, session 66; `deferred_wgrad_userbuffers_refused`,
`DEFERRED_WGRAD_USERBUFFERS_REFUSED`). TE 2.14 builds each linear's store with `WeightGradStore(delay_wgrad_compute,
ub_bulk_wgrad)` (module/linear.py:1114, layernorm_linear.py:1180, layernorm_mlp.py:1833), which asserts "ub_bulk_wgrad
is not supported when enabling delay_wgrad_compute" (module/_common.py:212-216); Megatron-Core 0.16.1 hands QKV's and
FC1's TELayerNormColumnParallelLinear `ub_bulk_wgrad = tp_comm_bulk_wgrad` (True by default, model_parallel_config.py
:192) whenever `tp_comm_overlap` is on (extensions/transformer_engine.py:782-783), and Megatron-Bridge's userbuffer
configs overlap QKV's and FC1's wgrad in bulk (0.6.0 training/comm_overlap.py:99-102); at run time a deferred wgrad
GEMM with a userbuffer raises NotImplementedError (linear.py:888-898, layernorm_linear.py:899-909, layernorm_mlp.py
:1510). Megatron-Bridge keeps `tp_comm_overlap` only at TP > 1 with sequence parallelism (comm_overlap.py:442-451),
so its own recipe that asks for both (perf_recipes/qwen/common.py:56-60, the GB200 Qwen3 configurations) runs at TP 1
(H025): the refusal is per plan, where the deferral runs (`combined_1f1b_plans`) and userbuffers run
(`userbuffer_overlap` above 0: not on MLA, not without SP) at TP > 1. `train` refuses such a plan (one line, exit 2),
`search` prunes its rows (`plan_rules.framework_refusals`; a row stands for its VP pairs: the VP condition taken as
met, since Megatron-Core refuses the EP overlap at PP > 1 without VP, transformer_config.py:1855-1877).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.network.collectives import Fabric
from infraplan.ops.layer_records import Collective, LayerOps, Layout
from infraplan.scalar_path import anywhere, pick
from infraplan.training.combined_1f1b import combined_1f1b_plans
from infraplan.training.enums import Recompute
from infraplan.training.layer_kernels import collective_times
from infraplan.training.plan import PlanArrays
from infraplan.training.sp_regather import column_parallel_terms

MLA_DISABLES_USERBUFFERS = True  # Megatron-Core switches TP userbuffers off on MLA models (module docstring)
# TE's userbuffers (and its async dgrad path) run only its linears' TP collectives, not Megatron-Core's own
# (module docstring)
TE_LINEARS_ONLY = True
# TE runs its userbuffers only under sequence parallelism and the recipes switch the overlap off without it
# (module docstring): a plan with SP off runs TE's NCCL path (hV, session 62)
SP_GATES_USERBUFFERS = True
# the layer term `layer_time` keeps TE's async dgrad window in (the seconds it took off `tp_bwd`), for a frozen base to
# give back whole (hD, session 64)
ASYNC_HIDDEN = "tp_async_hidden"
# TE's async dgrad reduction of each column-parallel linear hides under that linear's own wgrad GEMM, not under a pool
# of all the layer's backward GEMMs (module docstring; hD, session 65)
PER_LINEAR_WINDOW = True
# under `MoeRouting.delay_wgrad_compute` TE defers each linear's wgrad GEMM and waits for its dgrad reduction with
# none run: the async window is empty (module docstring; hM, session 65)
DEFERRED_WGRAD_EMPTIES_WINDOW = True
_FULL = int(Recompute.FULL)


def userbuffer_overlap(stack: Stack, shape: TransformerShape, sequence_parallel: Any = True) -> tuple[Any, Any]:
    """(`tp_comm_overlap_fraction`, `tp_overlap_sm_fraction`) the model runs on `stack`: both 0 for an MLA model on a
    Megatron-family stack (`MLA_DISABLES_USERBUFFERS`) and for a plan without sequence parallelism
    (`sequence_parallel`: a plain bool, or a boolean array over plans: arrays there; `SP_GATES_USERBUFFERS`), else
    the stack's."""
    if MLA_DISABLES_USERBUFFERS and shape.is_mla and stack.stack_class == "megatron":
        return 0.0, 0.0
    overlap, sm = stack.tp_comm_overlap_fraction, stack.tp_overlap_sm_fraction
    if not SP_GATES_USERBUFFERS or not overlap:
        return overlap, sm
    return pick(sequence_parallel, overlap, 0.0), pick(sequence_parallel, sm, 0.0)


def outside_userbuffer_seconds(fabric: Fabric, records: tuple[tuple[Collective, ...], tuple[Collective, ...]],
                               full: Any, one: bool) -> tuple[Any, Any]:
    """(forward, backward) seconds per layer of the TP collectives no TE userbuffer runs (module docstring): each
    (forward, backward) record's `outside_te` share of its count, at its bf16 bytes; the backward under full recompute
    also the re-run forward's (as `layer_time` adds it). (0.0, 0.0) where no record is marked, so the stack's overlap
    hides its share of the whole TP time there, as before."""
    if not TE_LINEARS_ONLY:
        return 0.0, 0.0
    fwd_records, bwd_records = (tuple(replace(c, count=c.count * c.outside_te)  # (every other field kept: its twin's
                                      for c in rs if c.outside_te and c.role == "tp")  # rule, `te_linear_records`)
                                for rs in records)
    if not fwd_records and not bwd_records:
        return 0.0, 0.0
    fwd = collective_times(fabric, fwd_records, "tp", one)
    return fwd, collective_times(fabric, bwd_records, "tp", one) + pick(full, fwd, 0.0)


def te_linear_records(records: tuple[Collective, ...]) -> tuple[Collective, ...]:
    """`records` as TE's linears issue them: each count less its `outside_te` share (module docstring); the records
    themselves where none is marked or `TE_LINEARS_ONLY` is off."""
    if not TE_LINEARS_ONLY:
        return records
    return tuple(replace(c, count=c.count * (1.0 - c.outside_te)) if c.outside_te else c for c in records)


def async_dgrad_window_s(fabric: Fabric, ops: LayerOps, gemm_times: list[tuple[Any, Any]], lay: Layout,
                         one: bool) -> Any:
    """Seconds per layer and micro-batch of TE's async dgrad reductions that their own linears' wgrad GEMMs can hide
    (module docstring, hD65): for each column-parallel TE linear (`sp_regather.column_parallel_roles`: QKV, FC1, a
    shared expert's FC1, MLA's up projections), the reduce-scatter (SP) or all-reduce (SP off) of its T x k input
    gradient in bf16, at most its wgrad GEMM (half its backward: dgrad and wgrad have the same FLOPs, as
    `sp_regather` splits it), summed. `gemm_times`: the (forward, backward) time of each of `ops.gemms`; `one`: one
    plan's floats (the same operations, each input size priced once). The walk is `sp_regather.column_parallel_terms`'
    (one for both terms: `layer_time` takes them together)."""
    return column_parallel_terms(fabric, ops, gemm_times, lay, 1.0, one, regather=False)[0]  # (one walk: hD66)


def wgrad_deferred(plan: PlanArrays, stack: Stack) -> Any:
    """Where TE's linears defer their wgrad GEMMs (module docstring, hM65): the plans that run the stack's combined
    1F1B (`combined_1f1b_plans`: bools over plans, or one plan's bool) on a stack with
    `MoeRouting.delay_wgrad_compute`; False elsewhere (and with `DEFERRED_WGRAD_EMPTIES_WINDOW` off)."""
    if not DEFERRED_WGRAD_EMPTIES_WINDOW or not stack.moe.delay_wgrad_compute:
        return False
    return combined_1f1b_plans(plan, stack)


# TE refuses `delay_wgrad_compute` where its linears run userbuffers (module docstring; hD, session 66): such a plan
# does not run, `train` refuses it and `search` prunes it (`plan_rules.framework_refusals`). False: priced as if it ran
DEFERRED_WGRAD_USERBUFFERS_REFUSED = True
DEFERRED_WGRAD_UB_REASON = (
    "delay_wgrad_compute does not run with TP userbuffers (the stack's tp_comm_overlap_fraction, run at TP > 1 with "
    "sequence parallelism): Transformer Engine 2.14 asserts 'ub_bulk_wgrad is not supported when enabling "
    "delay_wgrad_compute' (module/_common.py:212-216; Megatron-Core 0.16.1 builds QKV / FC1 with "
    "tp_comm_bulk_wgrad, extensions/transformer_engine.py:782-783) and raises NotImplementedError on a userbuffer "
    "wgrad GEMM (module/linear.py:888-898)")
# what each command's user can do about it (`plan_rules.framework_refusals`)
DEFERRED_WGRAD_UB_FIX = {
    "train": "use TP 1, --no-sequence-parallel, or a stack with tp_comm_overlap_fraction 0 (as Megatron-Bridge 0.6.0 "
             "runs delay_wgrad_compute at TP 2: perf_recipes/qwen/h100/qwen3_moe.py:199-203)",
    "search": "search runs sequence parallelism at every TP > 1, so it proposes TP 1 (or EP 1, or full recompute) "
              "for them; a stack with tp_comm_overlap_fraction 0 keeps TP > 1"}


def deferred_wgrad_userbuffers_refused(shape: TransformerShape, plan: PlanArrays, stack: Stack | None,
                                       any_vpp: bool = False) -> Any:
    """Where a plan defers its wgrads (`MoeRouting.delay_wgrad_compute` on a plan running the combined 1F1B,
    `combined_1f1b_plans`) while TE's linears run userbuffers (`userbuffer_overlap` above 0 at TP > 1), which TE
    refuses (`DEFERRED_WGRAD_UB_REASON`), per plan (one plan: a bool); plain False where the stack sets no such
    pair. `any_vpp`: a search's rows, each standing for its (VP, schedule) pairs: the VP condition taken as met
    (Megatron-Core refuses the EP overlap at PP > 1 without VP, transformer_config.py:1855-1877)."""
    if (not DEFERRED_WGRAD_USERBUFFERS_REFUSED or stack is None or not stack.moe.delay_wgrad_compute
            or not stack.moe.overlap_ep_comm or not stack.tp_comm_overlap_fraction):
        return False
    overlap, _ = userbuffer_overlap(stack, shape, plan.sequence_parallel == 1)
    if not anywhere(overlap):  # (an MLA model under Megatron-Core: no userbuffers)
        return False
    runs = ((plan.recompute != _FULL) & (plan.ep > 1)) if any_vpp else combined_1f1b_plans(plan, stack)
    return runs & (overlap > 0.0) & (plan.tp > 1)
