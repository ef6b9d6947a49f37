"""Host issue time of a training step: the kernels the host launches and what of their issue time the GPU waits for.

Between synchronisation points the CPU runs ahead of the GPU, so the GPU idles only for host issue time that no
queued GPU work covers: per interval, exposed = max(0, host issue time - GPU time already queued) + one dispatch
after each sync (the emptied queue waits for the first launch; `host_exposed_time`). Host issue = kernels x
`Node.host_kernel_dispatch_s` (eager PyTorch, 26 us per kernel measured on the lent H100 host), or one graph launch
per layer and phase with CUDA graphs (`CUDA_GRAPH_LAUNCH_S`). The kernels per layer are those of the op table
(`ops.layer`) plus what eager stacks and the activation-checkpoint machinery add (`kernel_counts`); the host calls
per micro-batch outside the layers are the stack's (`micro_batch_host_time`). `training.step_time` prices them.
Dropless MoE layers sync the host with the device once per layer forward (Megatron-Core's dispatcher needs the
split sizes on the CPU); under CUDA graphs they then issue their MoE block eagerly, an interval of its own that only
the block's GPU work hides (`dropless_moe_host`, `add_dropless_moe_terms`); in eager stacks each layer's forward is
the interval. Transformer Engine's GroupedLinear adds host work per local expert (cuBLAS and quantize launches from
C++, Python calls per expert: `expert_host_work`, counted in TE 2.14 / Megatron-Core 0.16.1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import ArrayLike, LayerOps
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS, MathOps, is_plain, pick
from infraplan.training.enums import Attention, Dtype, Recompute
from infraplan.training.plan import PlanArrays

# Eager (unfused) layers launch more kernels than the op table lists: bias adds and bias-gradient reductions,
# dropout masks, layout copies around unfused attention, two-kernel norm backward. A GPT layer (unfused attention,
# biases, dropout, GELU MLP) profiled fwd+bwd in eager PyTorch launches 70 CUDA kernels
# (validation/calibration/h100_host_dispatch.json) where the op table counts 42 (16 fwd, 26 bwd): the 28 extra
# are split 10 forward / 18 backward. Fused stacks (Transformer Engine: bias and norm in the GEMM epilogue) do
# not launch them.
EAGER_EXTRA_KERNELS = (10.0, 18.0)
# Gradient accumulation into the fp32 main-grad buffer, one kernel per parameter tensor per micro-batch backward,
# which the single-pass profile above (gradients None) does not launch: Megatron-LM's local DDP registers a hook
# per parameter, `param.main_grad.add_(param.grad.data)` (megatron/model/distributed.py `_make_param_hook`,
# v2.x-v3.0); with gradient-accumulation fusion the 4 weight matrices accumulate inside their wgrad GEMM, leaving
# the 8 bias / norm tensors of a GPT layer (QKV, projection, FC1, FC2 biases; two norms' weight and bias).
# PyTorch's AccumulateGrad launches the same add for every micro-batch after the first in other eager stacks.
MAIN_GRAD_ADD_KERNELS = 8.0
# Full activation recompute runs each layer through Megatron's `CheckpointFunction` (megatron/mpu/random.py in
# Megatron-LM v2.x-v3.0; unchanged in megatron/core/tensor_parallel/random.py of megatron-core 0.1.0), whose host
# calls are not kernels: forward, the autograd Function `apply` and three RNG-state reads before the no-grad run
# (`torch.get_rng_state`, `torch.cuda.get_rng_state`, the tracker's `get_states`) and `save_for_backward`;
# backward, `_is_checkpoint_valid`, the saved-tensor unpack, three RNG-state reads, three restores before the
# recompute (`torch.set_rng_state`, `_set_cuda_rng_state`, tracker `set_states`), `detach_variable` on the two
# tensor inputs (hidden states, attention mask), three restores after it and the nested `torch.autograd.backward`.
# Each is one Python -> ATen call priced at one eager dispatch (no per-call measurement is at hand): 5 forward, 14
# backward (`torch.utils.checkpoint` with `preserve_rng_state` forks and restores the same states).
CHECKPOINT_HOST_CALLS = (5.0, 14.0)
# One blocking pipeline p2p call of Megatron-LM v3.0 (`Stack.p2p_synchronize`; megatron/schedules.py 1F1B,
# megatron/p2p_communication.py `_communicate`): the schedule's timer start / stop around it (2 device syncs,
# `_Timer` in megatron/global_vars.py), the receive buffer (`torch.empty`), `batch_isend_irecv` (one NCCL group
# launch), `req.wait()` on the send and the receive, and the `torch.cuda.synchronize()` "to protect against race
# condition": 7 host calls, each priced at one eager dispatch. They follow a sync, with nothing queued, so the
# GPU waits for all of them (sequence parallel sends the s / TP shard as is: no scatter / gather calls).
BLOCKING_P2P_HOST_CALLS = 7.0
# Context parallelism's ring (Transformer Engine's `AttnFuncWithCPAndKVP2P`, Megatron-Core's default cp_comm_type
# "p2p") runs the attention core as CP steps, each its own host calls (transformer_engine 2.14
# pytorch/attention/dot_product_attention/context_parallel.py, sbhd, causal, fused attention, bf16): forward per
# step (:1571-1590, :1768-1840, :1843-1860) the two `req.wait()` of the previous exchange, `torch.empty_like` of the
# receive buffer, `batch_isend_irecv`, the causal section's `.contiguous()` copies (lower triangle K and V, upper
# triangle Q: ~1 a step), the fused-attention call, then the step's softmax-LSE correction (`squeeze_`, the jit
# correction, `wait_event`, `record_event`) and its output correction after the loop: 11; backward per step
# (:2310-2345, :2470-2640) four `req.wait()`, `batch_isend_irecv` (KV and dKV), the K / V slices and views (2),
# the section's copies (~1), the fused backward, the dQ update (slice + copy / add: 2), dK / dV views (2) and
# their updates (2), ~1 view of dK_ / dV_: 16. Each priced at one eager dispatch (as `CHECKPOINT_HOST_CALLS`;
# waits and event calls cost less: an upper reading). ASSUMPTION: TE 1.x of the NeMo 24.x containers runs the same
# loop (its `flash_attn_p2p_communicate` and corrections are the same functions; not readable here). Replaces the
# one attention launch (fwd; 3 bwd) and the one CP collective launch the op table counts. Under CUDA graphs the
# stack's graph launch stands for all of it (unchanged). Toggle `CP_RING_HOST_CALLS_ON` (hL, session 56).
CP_RING_HOST_CALLS = (11.0, 16.0)
CP_RING_HOST_CALLS_ON = True
CUDA_GRAPH_LAUNCH_S = 5.0e-6  # host cost of one cudaGraphLaunch (a few us; NVIDIA "Getting Started with CUDA Graphs")
# enum codes as ints (an enum member's lookup and int() cost more than the comparison; issue 18)
_UNFUSED, _FULL, _SELECTIVE = int(Attention.UNFUSED), int(Recompute.FULL), int(Recompute.SELECTIVE)
_PLAIN = (int, float, bool)  # `scalar_path.is_plain`'s types, tested inline


def micro_batch_host_time(stack: Stack, dispatch_s: float) -> tuple[float, float]:
    """Host seconds per micro-batch outside the layers and the LM head: (batch on every stage, loss on the last).

    Counted from Megatron-LM v3.0 (2022) as calls into PyTorch, each priced at one eager dispatch (CUDA graphs
    capture neither: the data pipeline and the loss bookkeeping stay in Python); the counts are the stack's
    `batch_host_ops` / `loss_host_ops` (`catalog.stacks`, sourced in each YAML).
    """
    return stack.batch_host_ops * dispatch_s, stack.loss_host_ops * dispatch_s


def host_exposed_time(host_fwd: ArrayLike, host_bwd: ArrayLike, gpu_fwd: ArrayLike, gpu_bwd: ArrayLike,
                      micro_batches: ArrayLike, synced: ArrayLike, dispatch_s: float) -> np.ndarray:
    """Seconds per step the GPU waits for the host, on one pipeline stage.

    The host issues a phase's kernels in `host_*` seconds; the GPU needs `gpu_*` seconds for them and runs
    whatever is queued. Between synchronisation points the host runs ahead and the queued GPU work ("bank")
    hides later host time; at a sync the queue empties and the first kernel waits one dispatch.
    * `synced` (pipeline parallel: Megatron synchronises the device after every batched p2p exchange,
      `batch_p2p_sync`): each stage's forward and each backward of a micro-batch is its own interval:
      m * (max(0, Hf - Gf) + max(0, Hb - Gb) + 2 dispatches).
    * otherwise the whole forward-backward of the step is one interval (the step ends at the optimizer's host
      sync): the first forward has no bank, its backward uses the forward's, and every later micro-batch hides
      behind the previous one's: max(0, Hf - Gf) + max(0, Hb - Gb - max(0, Gf - Hf)) + (m - 1) max(0, H - G)
      + one dispatch.
    """
    if (type(host_fwd) in _PLAIN and type(host_bwd) in _PLAIN and type(gpu_fwd) in _PLAIN  # one plan's floats
            and type(gpu_bwd) in _PLAIN and type(micro_batches) in _PLAIN and type(synced) in _PLAIN):
        exposed: np.ndarray = _host_exposed(FLOAT_OPS, float(host_fwd), float(host_bwd), float(gpu_fwd),
                                            float(gpu_bwd), float(micro_batches), bool(synced), dispatch_s)
        return exposed  # a float: the annotation is the array path's
    hf, hb, gf, gb = (np.asarray(x, dtype=np.float64) for x in (host_fwd, host_bwd, gpu_fwd, gpu_bwd))
    return np.asarray(_host_exposed(NUMPY_OPS, hf, hb, gf, gb, np.asarray(micro_batches, dtype=np.float64),
                                    np.asarray(synced, dtype=bool), dispatch_s), dtype=np.float64)


def host_exposed_floats(hf: float, hb: float, gf: float, gb: float, m: float, synced: bool,
                        dispatch_s: float) -> float:
    """`host_exposed_time` of one plan's Python floats (and its bool `synced`), as a float: `_host_exposed` on
    FLOAT_OPS without the type checks (`step_assembly` passes floats), spelled out: its operations in its order with
    FLOAT_OPS' max written inline (`max(a, b)` is `b if b > a else a`; a single estimate prices ~5 of these;
    tests/training/test_single_estimate_cuts_hQ75.py holds it to `_host_exposed`'s bits)."""
    excess = hf - gf
    fwd_excess = 0.0 if excess < 0.0 else excess
    if synced:
        excess = hb - gb
        return m * (fwd_excess + (0.0 if excess < 0.0 else excess) + 2.0 * dispatch_s)
    bank = gf - hf
    excess = hb - gb - (0.0 if bank < 0.0 else bank)
    excess_all = hf + hb - gf - gb
    return ((fwd_excess + (0.0 if excess < 0.0 else excess)) + (m - 1.0) * (0.0 if excess_all < 0.0 else excess_all)
            + dispatch_s)


def _host_exposed(ops: MathOps, hf: Any, hb: Any, gf: Any, gb: Any, m: Any, synced: Any, dispatch_s: float) -> Any:
    """`host_exposed_time` in arrays (NUMPY_OPS) or one plan's floats (FLOAT_OPS). One plan's plain bool `synced`
    prices only the term `where` picks (FLOAT_OPS' `where(c, a, b)` is `a if c else b`); the forward's excess is
    priced once for both terms (the same value)."""
    fwd_excess = ops.maximum(hf - gf, 0.0)
    if synced is not False:
        per_phase = fwd_excess + ops.maximum(hb - gb, 0.0) + 2.0 * dispatch_s
        if synced is True:
            return m * per_phase
    first = fwd_excess + ops.maximum(hb - gb - ops.maximum(gf - hf, 0.0), 0.0)
    banked = first + (m - 1.0) * ops.maximum(hf + hb - gf - gb, 0.0) + dispatch_s
    if synced is False:
        return banked
    return ops.where(synced, m * per_phase, banked)


def host_exposed_phases(ops: MathOps, hf: Any, hb: Any, gf: Any, gb: Any, m: Any, synced: Any,
                        dispatch_s: float) -> tuple[Any, Any, Any]:
    """`host_exposed_time` per step by the intervals it prices (arrays or one plan's floats): (forward, backward,
    forward_backward). Synced: every forward and every backward is an interval, the dispatch after its sync in it.
    Otherwise the first micro-batch's forward (with the dispatch after the optimizer's sync) and its backward (less
    the forward's bank), then the later micro-batches, each forward + backward one interval the host runs ahead
    in (`forward_backward`). They add up to `host_exposed_time` to rounding."""
    fwd_excess, bwd_excess = ops.maximum(hf - gf, 0.0), ops.maximum(hb - gb, 0.0)
    first_fwd = fwd_excess + dispatch_s
    first_bwd = ops.maximum(hb - gb - ops.maximum(gf - hf, 0.0), 0.0)
    later = (m - 1.0) * ops.maximum(hf + hb - gf - gb, 0.0)
    if synced is True:
        return m * first_fwd, m * (bwd_excess + dispatch_s), 0.0 * later
    if synced is False:
        return first_fwd, first_bwd, later
    return (ops.where(synced, m * first_fwd, first_fwd), ops.where(synced, m * (bwd_excess + dispatch_s), first_bwd),
            ops.where(synced, 0.0, later))


# the phases of a step's exposed host time: the heaviest stage's intervals (`stage_host_phases`), the optimizer's
# launches and a blocking pipeline's p2p host calls (`host_row.with_host_row`); `PlanMetrics.host_exposed_phases_s`
# keys
HOST_PHASES = ("forward", "backward", "forward_backward", "moe_syncs", "optimizer", "pp_comm")
HOST_PHASE_KEYS = tuple(f"host_exposed_{p}" for p in HOST_PHASES)  # (the step time's output keys)


def stage_host_phases(ops: MathOps, lt: dict[str, Any], work: tuple[Any, Any, Any, Any], m: Any,
                      host_terms: tuple[Any, Any, float, float], tail: Any, moe_layers: Any,
                      dispatch_s: float) -> dict[str, Any]:
    """The heaviest stage's exposed host time per step (`stage_seconds.stage_seconds`' `host_exposed` x m) by phase,
    keyed `host_exposed_<phase>` (`HOST_PHASES`): `work` its forward's host and GPU time less the tail and its
    backward's (`stage_seconds.stage_work`), `tail` 1 where the LM head + loss close a synced forward, `moe_layers`
    its layers x a dropless MoE layer's exposed sync and eager block (`moe_syncs`). The forward holds the batch's host
    calls between syncs and the loss calls after the LM head; the rest is `host_exposed_phases`'."""
    synced = host_terms[0]
    fwd, bwd, both = host_exposed_phases(ops, work[0], work[2], work[1], work[3], m, synced, dispatch_s)
    batch, loss = forward_host_calls(ops, lt, m, host_terms, tail)
    return dict(zip(HOST_PHASE_KEYS[:4], (fwd + batch + loss, bwd, both, m * moe_layers), strict=True))


def forward_host_calls(ops: MathOps, lt: dict[str, Any], m: Any, host_terms: tuple[Any, Any, float, float],
                       tail: Any) -> tuple[Any, Any]:
    """A stage's exposed host time per step outside its layers' intervals (`stage_seconds.stage_seconds` adds both
    to `host_exposed_time`, `stage_host_phases` to the forward): the batch's host calls, which nothing queued hides
    between syncs, and the loss calls after the LM head + loss kernels less what those cover (`tail` 1 where they
    close a synced forward)."""
    synced, _, batch_host, loss_host = host_terms
    return (m * ops.where(synced, batch_host, 0.0),
            m * tail * ops.maximum(lt["head_host_fwd"] + loss_host - lt["head_gpu_fwd"], 0.0))


def kernel_counts(ops: LayerOps, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (and collectives) the host launches per layer and micro-batch of a layer's op table, forward and
    backward (`training.layer_time.layer_kernel_counts`), with the checkpoint machinery's host calls under full
    recompute."""
    unfused = plan.attention == _UNFUSED
    plain = is_plain(unfused)  # one plan (`PlanArrays.one_row`): Python floats
    attn_fwd = pick(unfused, 4.0, 1.0)
    collectives = ops.collective_launches_fwd(plain)
    elem_bwd = ops.elementwise_kernels(ops.elementwise_bwd, plain)
    gemms = ops.gemm_kernels()
    fwd = ops.forward_kernels(attn_fwd)
    full = plan.recompute == _FULL
    recompute = pick(full, fwd, pick(plan.recompute == _SELECTIVE, attn_fwd, 0.0))  # np.select's
    bwd = 2.0 * gemms + pick(unfused, 6.0, 3.0) + elem_bwd + collectives + recompute
    if CP_RING_HOST_CALLS_ON:  # the ring's steps for the one attention (+ CP collective) launch counted above
        ring = plan.cp > 1
        cp = plan.cp if plain else np.asarray(plan.cp, dtype=np.float64)
        ring_fwd = pick(ring, cp * CP_RING_HOST_CALLS[0] - attn_fwd - 1.0, 0.0)
        fwd = fwd + ring_fwd
        bwd = bwd + pick(ring, cp * CP_RING_HOST_CALLS[1] - pick(unfused, 6.0, 3.0) - 1.0, 0.0) + pick(
            full, ring_fwd, 0.0)
    return fwd + pick(full, CHECKPOINT_HOST_CALLS[0], 0.0), bwd + pick(full, CHECKPOINT_HOST_CALLS[1], 0.0)


# Dropless MoE layers. Megatron-Core 0.16.1's all-to-all dispatcher needs the split sizes on the CPU before the
# EP all-to-all, and the experts their row counts (`tokens_per_expert.tolist()`, moe/experts.py:645): the host
# copies them off the device and waits for the copy once per MoE layer forward, in eager runs too
# (token_dispatcher.py:438-443 copy point `before_permutation_1` without graphs, `before_ep_alltoall` with the
# moe_preprocess graph; :562-564 sync point `before_ep_alltoall`; :897-899 `d2h_event.synchronize()`). The backward
# keeps the split sizes (no sync). Drop-and-pad routing sets its counts on the CPU and never syncs (:490-510).
# Under CUDA graphs Megatron-Core 0.16.1 refuses to graph a dropless MoE block (transformer_config.py:1764-1771,
# "moe cuda graph is only supported with drop-padding MoE"): attention, the router and the MoE preprocess are
# graphed (`cuda_graph_scope` attn / moe_router / moe_preprocess), the token dispatch, the experts and the combine
# run eagerly after the sync, one Python -> ATen dispatch each (`Node.host_kernel_dispatch_s`).
MOE_PERMUTE_KERNELS = 5.0  # eager of `ops.moe_routing`'s 9: row-id map, permute, sort, unsort, unpermute
MOE_ROUTING_KERNELS = 9.0  # its 4 router kernels run in the router's graph
MOE_SYNC_HOST_CALLS = 1.0  # the device-to-host copy of the split sizes, forward
# Transformer Engine's GroupedLinear is one Python call per grouped GEMM; its `general_grouped_gemm` loops over the
# local experts in C++ (transformer_engine/pytorch/module/grouped_linear.py:207-218, 411, 468 in TE 2.14: one
# cuBLAS GEMM per expert, forward 1, backward dgrad + wgrad). Each GEMM builds its cuBLASLt descriptors and asks
# cublasLtMatmulAlgoGetHeuristic before cublasLtMatmul, no cache between (transformer_engine::cublas_gemm in the
# transformer-engine-cu12 2.14.0 wheel's libtransformer_engine.so, read in its disassembly). ASSUMPTION: a launch
# from C++ costs the host what a graph launch does, a few us (`CUDA_GRAPH_LAUNCH_S`, NVIDIA "Getting Started with
# CUDA Graphs"); no measurement.
CPP_GEMM_LAUNCH_S = CUDA_GRAPH_LAUNCH_S
# Host work per local expert of one MoE layer and micro-batch in TE 2.14's GroupedLinear (Megatron-Core 0.16.1
# `TEGroupedMLP`, fc1 and fc2), where the stack runs it (`MoeRouting.expert_gemm` per_expert), forward / backward:
# * cuBLAS GEMMs launched from C++: fprop of each; dgrad + wgrad of each (above);
# * quantised tensors: `tex.split_quantize` of each GEMM's input forward (grouped_linear.py:151-156) and of its
#   output gradient backward (:356-366) quantises expert by expert in C++ for every recipe but delayed scaling
#   (transformer_engine_torch 2.14 csrc/extensions/cast.cpp:316-361 fuses only `Float8Quantizer`s): MXFP8 and
#   blockwise one `nvte_quantize_v2` each (csrc/quantizer.cpp:1645-1657, :1257-1270), NVFP4 one each after one
#   group amax (cast.cpp:1227-1248), current scaling three (amax, scale, cast: quantizer.cpp:857-896);
# * with expert biases (GPT-OSS) the output gradient goes through `tex.bgrad_quantize`, one Python call per expert
#   (grouped_linear.py:346-351, replacing that split_quantize), or in bf16 the wgrad GEMM's bias gradient gets a
#   `torch.empty` per expert (pytorch/cpp_extensions/gemm.py:220-223): one Python call per expert and GEMM;
# * Megatron's DDP marks each expert weight `grad_added_to_main_grad` (distributed_data_parallel.py:119), so the
#   backward hands autograd `get_dummy_wgrad(...).detach()` per expert weight (grouped_linear.py:497-514): one
#   Python -> ATen call each.
# Python calls are priced at one eager dispatch each (as `CHECKPOINT_HOST_CALLS`), C++ launches at
# `CPP_GEMM_LAUNCH_S`. Not priced (pure Python, no ATen call, no per-call cost at hand): the per-expert list
# building, quantizer set-up, `prepare_for_saving` / `restore_from_saved`, the MXFP8 storage objects built per
# expert, and Megatron's DDP hook per expert parameter (distributed_data_parallel.py:426-446).
EXPERT_GEMM_LAUNCHES = (2.0, 4.0)
EXPERT_QUANTIZED_TENSORS = (2.0, 2.0)
QUANTIZE_LAUNCHES = {"delayed": 0.0, "current": 3.0, "blockwise": 1.0}  # per tensor, fp8 by recipe (MXFP8: 1.0)
EXPERT_DUMMY_WGRAD_CALLS = 2.0
EXPERT_BIAS_GRAD_CALLS = 2.0
_BF16, _FP8 = int(Dtype.BF16), int(Dtype.FP8)


def expert_quantize_launches(dtype: Any, fp8_recipe: str) -> Any:
    """C++ quantize launches per expert-GEMM operand (see above): none in bf16, the stack's fp8 recipe's for fp8,
    one for MXFP8 / NVFP4 (their block scales are found inside the cast kernel)."""
    return pick(dtype == _BF16, 0.0, pick(dtype == _FP8, QUANTIZE_LAUNCHES[fp8_recipe], 1.0))


def expert_host_work(ops: LayerOps, quantize: Any, biases: bool) -> tuple[Any, Any, Any, Any]:
    """Host work of a (mean) layer's local experts per micro-batch in TE's GroupedLinear: (Python calls forward,
    backward; C++ launches forward, backward), the per-expert counts above times the local experts in the MoE share
    of the layers; `quantize` from `expert_quantize_launches`. Zeros without experts."""
    up = [g for g in ops.gemms if g.role == "expert_up"]
    if not up:
        return 0.0, 0.0, 0.0, 0.0
    local = up[0].count * up[0].share
    bias_calls = EXPERT_BIAS_GRAD_CALLS if biases else 0.0
    gradient_casts = 0.0 if biases else EXPERT_QUANTIZED_TENSORS[1]  # bgrad_quantize casts them (a call)
    launches_fwd = EXPERT_GEMM_LAUNCHES[0] + EXPERT_QUANTIZED_TENSORS[0] * quantize
    launches_bwd = EXPERT_GEMM_LAUNCHES[1] + gradient_casts * quantize
    return 0.0, local * (EXPERT_DUMMY_WGRAD_CALLS + bias_calls), local * launches_fwd, local * launches_bwd


def dropless_moe_host(ops: LayerOps, full: Any, quantize: Any = 0.0, biases: bool = False,
                      per_expert: bool = True) -> tuple[Any, Any, Any, Any, Any]:
    """Host work of a (mean) layer's eager MoE block per micro-batch under CUDA graphs: (Python calls forward,
    backward; C++ launches forward, backward; the layers' MoE share, each MoE layer's forward one sync), from the
    op table (`ops.layer`): the EP all-to-alls, one call per grouped GEMM (backward 2), the local experts' work in
    GroupedLinear where it runs expert by expert (`per_expert`; `expert_host_work`: a cuBLAS launch per expert and
    GEMM, the quantize launches of `quantize`, the dummy wgrads and, with `biases`, the bias-gradient calls), the
    permute kernels of the routing passes, the experts' activation (1 each way), the shared expert (its 2 GEMMs +
    activation; backward 4 + 1), the GPT-OSS bias loop and clamp (`ops.gpt_oss_experts`, per local expert in
    Python), the casts of the 2 expert GEMM inputs (forward) / output gradients (backward; per expert with biases),
    the sync's copy; full recompute runs the forward again in backward. Python floats for one plan, arrays
    otherwise."""
    experts = [g for g in ops.gemms if g.role in ("expert_up", "expert_down")]
    if not experts:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    share = experts[0].share
    calls: Any = sum((g.share for g in experts), 0.0)  # one per grouped GEMM (`Gemm.kernels`)
    shared: Any = sum((g.count for g in ops.gemms if g.role in ("shared_up", "shared_down")), 0.0)
    ep: Any = sum((pick(c.mask, pick(c.group > 1, c.count, 0.0), 0.0) for c in ops.collectives_fwd if c.role == "ep"),
                  0.0)
    passes = {e.role: e for e in ops.elementwise_fwd}
    passes_bwd = {e.role: e for e in ops.elementwise_bwd}
    routing = passes["moe_routing"].kernels * (MOE_PERMUTE_KERNELS / MOE_ROUTING_KERNELS) if "moe_routing" in passes \
        else 0.0
    casts = pick(passes["fp8_cast"].mask, 2.0, 0.0) * share if "fp8_cast" in passes else 0.0
    bias_fwd = passes["gpt_oss_experts"].kernels if "gpt_oss_experts" in passes else 0.0
    bias_bwd = passes_bwd["gpt_oss_experts"].kernels if "gpt_oss_experts" in passes_bwd else 0.0
    expert_fwd, expert_bwd, launches_fwd, launches_bwd = (expert_host_work(ops, quantize, biases) if per_expert
                                                          else (0.0, 0.0, 0.0, 0.0))
    fwd = ep + calls + routing + share * (1.0 + MOE_SYNC_HOST_CALLS) + 1.5 * shared + bias_fwd + casts + expert_fwd
    gradient_casts = 0.0 if biases and per_expert else casts  # with biases TE's bgrad_quantize casts them per expert
    bwd = ep + 2.0 * calls + routing + share + 2.5 * shared + bias_bwd + gradient_casts + expert_bwd
    return (fwd, bwd + pick(full, fwd, 0.0), launches_fwd, launches_bwd + pick(full, launches_fwd, 0.0), share)


def add_dropless_moe_terms(out: dict[str, Any], ops: LayerOps, expert_gpu_fwd: Any, full: Any, dispatch_s: float,
                           one: bool, stack: Stack, dtype: Any, biases: bool,
                           offset_syncs: tuple[Any, Any] = (0.0, 0.0), graphs: bool | None = None) -> None:
    """Set a layer's MoE host terms in `out` (`training.layer_time`); `biases`: the experts' linear biases; `graphs`:
    the plans' CUDA graphs (`training.cuda_graph_rule`; None: the stack's `cuda_graphs`).

    Under CUDA graphs with dropless routing (`Stack.moe_cuda_graph` dropless_eager) the host syncs with the device
    before each MoE layer's all-to-all and then issues the MoE block eagerly (`dropless_moe_host`); that issue is
    its own interval, which only the block's GPU work (the all-to-alls, `expert_gpu_fwd` of the experts' GEMMs and
    quantisation, `training.expert_quantize`) can hide: the graphed attention is issued after it. The backward has
    no sync: its eager issue joins `host_bwd`.
    Eager stacks that run TE's GroupedLinear expert by expert (`MoeRouting.expert_gemm` per_expert) add the local
    experts' host work (`expert_host_work`) to the layer's `host_fwd` / `host_bwd`, and with dropless routing each
    MoE layer's forward syncs all the same in Megatron stacks (`stack_class` megatron; Megatron-Core 0.8.0 syncs
    too, moe/token_dispatcher.py:173, :478-520): the interval runs from one MoE layer's sync to the next, i.e. each
    layer's forward (`training.step_assembly` makes the phases their own intervals), plus the dispatch the emptied
    queue waits for after each sync. `moe_host_fwd`, `moe_gpu_fwd` and `moe_host_sync` (the MoE layers' share, one
    sync each) go to `training.step_assembly`; zeros for a dense layer or drop-and-pad routing under graphs.
    `offset_syncs` (forward, backward per MoE layer: `ops.gpt_oss_experts.geglu_offset_syncs`) are further host-device
    syncs inside an eagerly issued MoE block of a Megatron stack; `moe_sync_waits` counts them over the MoE share,
    each a dispatch the emptied queue waits for (the intervals they split are not re-priced)."""
    experts = [g for g in ops.gemms if g.role in ("expert_up", "expert_down")]
    if one and not experts:  # a dense layer of one plan: the zeros below, without the stack's MoE reads (hS59)
        out["host_fwd"], out["host_bwd"] = float(out["host_fwd"]), float(out["host_bwd"])
        out.update(moe_host_fwd=0.0, moe_gpu_fwd=0.0, moe_host_sync=0.0, moe_sync_waits=0.0)
        return
    graphs = stack.cuda_graphs if graphs is None else graphs
    dropless = stack.moe_cuda_graph == "dropless_eager"
    per_expert = stack.moe.expert_gemm == "per_expert"
    quantize = expert_quantize_launches(dtype, stack.fp8.recipe) if per_expert else 0.0
    terms: tuple[Any, Any, Any] = (0.0, 0.0, 0.0)
    if experts and graphs and dropless:
        calls_fwd, calls_bwd, gemms_fwd, gemms_bwd, share = dropless_moe_host(ops, full, quantize, biases, per_expert)
        out["host_bwd"] = out["host_bwd"] + calls_bwd * dispatch_s + gemms_bwd * CPP_GEMM_LAUNCH_S
        terms = (calls_fwd * dispatch_s + gemms_fwd * CPP_GEMM_LAUNCH_S, expert_gpu_fwd, share)
    elif experts and not graphs:
        calls_fwd, calls_bwd, launches_fwd, launches_bwd = (expert_host_work(ops, quantize, biases) if per_expert
                                                            else (0.0, 0.0, 0.0, 0.0))
        host_fwd = calls_fwd * dispatch_s + launches_fwd * CPP_GEMM_LAUNCH_S
        out["host_fwd"] = out["host_fwd"] + host_fwd
        out["host_bwd"] = (out["host_bwd"] + calls_bwd * dispatch_s + launches_bwd * CPP_GEMM_LAUNCH_S
                           + pick(full, host_fwd, 0.0))
        synced = dropless and stack.stack_class == "megatron"  # Megatron-Core's dispatchers (read: 0.8.0, 0.16.1)
        terms = (0.0, 0.0, experts[0].share if synced else 0.0)  # the sync alone: its interval is the layer's
    eager_block = bool(experts) and (dropless or not graphs) and stack.stack_class == "megatron"
    waits = experts[0].share * (offset_syncs[0] + offset_syncs[1]) if eager_block else 0.0
    for key in ("host_fwd", "host_bwd"):
        out[key] = float(out[key]) if one else np.asarray(out[key], dtype=np.float64)
    for key, value in zip(("moe_host_fwd", "moe_gpu_fwd", "moe_host_sync", "moe_sync_waits"), (*terms, waits),
                          strict=True):
        out[key] = float(value) if one else np.asarray(value + np.zeros(np.shape(out["host_fwd"])), dtype=np.float64)
