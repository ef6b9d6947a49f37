"""Frozen-base fine-tuning (LoRA, Hu et al. 2021, arXiv:2106.09685): a plan's step with the base weights frozen.

A LoRA run trains rank-R adapters W + B A (A: in x R, B: R x out) beside the frozen base projections it names
(`LoraSpec.targets`: "attention", the query / key / value and output projections, as MLPerf Training's Llama 2 70B
LoRA reference and NeMo's `target_modules=["linear_qkv", "linear_proj"]` adapt them; "all": every linear layer
of the block but the router, a MoE's experts as below; on MLA each of Megatron-Core's attention projections, its two
down projections replicated over TP: `training.adapter_sites`, hT56). Priced by the step model itself (`step_time.
one_plan_step_time(..., lora=spec)`, as `forward_pass` prices an evaluation), on one plan's floats or a search
grid's arrays (`adapter_host.frozen_grid`: the same terms element-wise, the same bits; `search --lora-rank`):
* compute: each frozen GEMM's backward is its data gradient alone (the input gradient the layers below need; no
  weight gradient is computed for a weight without `requires_grad`), so its weight-gradient GEMM, priced as the
  full step prices it (`layer_kernels`: (k x m) @ (m x n) at the main gradient's width), is taken out of the
  layer's backward; each adapter adds its two small GEMMs forward (T x in @ in x R, then T x R @ R x out) and
  their data- and weight-gradient GEMMs backward at their small-shape efficiency (`hardware.gemm_seconds.gemm_seconds`:
  the tile / wave model and the fixed per-GEMM time), in bf16 (ASSUMPTION: NeMo / PEFT adapters are plain bf16
  linears, not fp8 Transformer Engine modules), re-run forward under full recompute.
* tensor parallel (`adapter_collectives`), as Megatron-Bridge 0.6.0's `ParallelLinearAdapter` splits and joins
  them (peft/utils.py:999-1050, forward :1183-1239; SP is off inside the adapter, :999): on a column-parallel
  projection (QKV, FFN up) A is split over R (`linear_in` ColumnParallelLinear(in, R, gather_output=True): x A's
  T x R all-gathered forward; no input-gradient all-reduce under SP, `disable_grad_reduce`) and B over its output
  (`linear_out`: its T x R input gradient all-reduced backward); its input is the layer norm's output the base
  layer already gathered (utils.py:598-624: TE's `return_layernorm_output_gathered`, no adapter T x h gather),
  but with Transformer Engine's userbuffers all-gather (the stack's `tp_comm_overlap_fraction` > 0) the adapter
  gathers the T x in input itself forward and reduce-scatters its gradient backward (`gather_from_sequence_
  parallel_region`, :1207-1212); without SP its T x in input gradient is all-reduced backward. On a row-parallel
  projection (attention output, FFN down) A's input is split (`linear_in` RowParallelLinear: the T x R partial sum
  all-reduced forward) and B's output all-gathered to the full T x out (`linear_out` gather_output=True, :1030)
  forward, then scattered to the SP region, whose backward all-gathers the T x out gradient (:1223-1230; none
  without SP); the `a2a_experimental` all-to-all (default False, peft/lora.py:111) is not priced. Each is a plain
  autograd collective, outside TE's userbuffers, priced by the layer's TP collective model (`layer_kernels.
  collective_times`, bf16 bytes), its forward re-run under full recompute, exposed but the input-gradient all-reduces
  (B's T x R, A's T x in without SP) of the adapters' trained ColumnParallelLinears (`allreduce_dgrad`: utils.py:
  998-999, :1019-1027, :1047-1054; megatron-core 0.16.1 tensor_parallel/layers.py:920-922): issued async after the
  dgrad GEMM, waited after the wgrad (:531, :542-545, :569 / :614, :623-624; 0.2.0 :271, :287-291, :310, :324-325),
  each hides up to its own wgrad (`adapter_dgrad_hidden`, hN63); a frozen TE linear runs no GEMM between its async
  reduction and the wait (TE 2.14 linear.py:744-754, :768, :941-943) nor a wgrad re-gather (`sp_regather`). Per GPU
  the adapter holds R x in / TP + R x out / TP of a column-parallel projection's in x out (A and B split), R x in /
  TP + R x out / TP of a row-parallel or replicated one likewise (`adapter_params`; a replicated MLA down projection's
  forward also all-gathers B's T x out and, under SP, its T x in input: `adapter_sites`).
* host issue: the adapters' calls and the frozen wgrads' missing launches, `training.adapter_host` (hL56).
* DP traffic, optimizer and memory: `training.frozen_traffic`.
* FLOPs (`frozen_model_flops_per_step`): Megatron-Bridge 0.6.0's LoRA convention
  (megatron/bridge/training/utils/flop_utils.py:815-824): the frozen model's training FLOPs times 2/3 (forward and
  data gradient, no weight gradient), the attention core at its full training count, the adapters not counted.
* MoE (`--lora-targets all`), as Megatron-Bridge 0.6.0's `LoRA` builds adapters by default: the module-name
  match (peft/module_matcher.py:138: `name == pattern`) puts `linear_fc1` / `linear_fc2` adapters on the routed
  experts' grouped linears and on the shared experts'; a shared expert's is a dense `ParallelLinearAdapter` over TP
  (peft/utils.py:655-673: `is_expert_linear` is False under `.shared_experts.`); the routed experts' grouped
  linear takes ONE `ParallelLinearAdapter` shared by all the rank's local experts (`share_expert_adapters=True`,
  peft/lora.py:114, :163-182), run as one plain GEMM over every token the local experts serve (`ops.layer`'s
  expert rows x local experts), split over the expert-TP group (utils.py:318-325), kept equal across EP by a
  broadcast and a gradient all-reduce over EP before the expert-DP reduction (utils.py:1069-1071, :1271-1283:
  priced as the dense adapters' DP reduction); Megatron-Core's `explicit_expert_comm` (tensor_parallel/
  layers.py:841, :996-1011, :1286) leaves it only its `gather_output` all-gathers forward (T x R on fc1's A,
  T x out on fc2's B: `adapter_collectives`, none at expert TP 1), no SP gather or backward reduction (utils.py:
  1213, :1231). The per-expert (`share_expert_adapters=False`) and router adapters (not in the default targets)
  are not priced, nor the MTP modules' adapters. `attention` on a MoE model: the attention projections alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.moe_routing import MoeRouting
from infraplan.catalog.stacks import Stack
from infraplan.errors import InputError
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Gemm, layer_ops
from infraplan.ops.layer_records import Collective
from infraplan.scalar_path import FLOAT_OPS, anywhere, negate, pick, smaller, to_bool, to_float
from infraplan.training.adapter_sites import (
    LORA_TARGETS,
    REPLICATED,
    ROW_PARALLEL,
    adapter_shapes,
    adapter_sides,
    adapter_site,
)
from infraplan.training.adapter_sites import LoraSpec as LoraSpec  # (re-exported: the CLI's and tests' import)
from infraplan.training.adapter_sites import adapted_gemms as sited_gemms
from infraplan.training.adapter_sites import rank_notes as rank_notes  # (re-exported)
from infraplan.training.enums import Recompute
from infraplan.training.expert_counts import expert_wgrad_time
from infraplan.training.layer_kernels import collective_times, gemm_fwd_bwd, output_width
from infraplan.training.layer_time import layer_layout
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes, wgrad_width
from infraplan.training.plan import PlanArrays
from infraplan.training.sp_regather import frozen_regather_s
from infraplan.training.tp_overlap import ASYNC_HIDDEN, te_linear_records, userbuffer_overlap

ADAPTER_BYTES = 2.0  # bf16 adapter weights (ASSUMPTION, module docstring)
ADAPTER_TP_COLLECTIVES = True  # the adapters' own TP collectives (`adapter_collectives`, hX55); off: hF55's step
# with userbuffers (`tp_comm_overlap_fraction` > 0) a column-parallel adapter gathers its T x in input itself
# (Megatron-Bridge 0.6.0 peft/utils.py:602-624: TE's gathered layer-norm output is kept only without ub_overlap_ag)
ADAPTER_USERBUFFERS_GATHER = True
ADAPTER_ASYNC_DGRAD = True  # adapters' dgrad all-reduces under their wgrads, TE's frozen ones under none (hN63)
FROZEN_SKIPS_REGATHER = True  # a frozen linear re-gathers no wgrad input (`sp_regather.frozen_regather_s`, hN63)
KEPT_WINDOW = True  # give back TE's async window as `layer_time` took it (`tp_overlap.ASYNC_HIDDEN`), hD64
FLOP_CONVENTION = ("megatron-bridge-lora: frozen GEMMs and LM head 2x forward (forward + data gradient), attention "
                   "core 3x forward, adapters not counted (Megatron-Bridge 0.6.0 flop_utils.py:815-824)")


def lora_spec(shape: TransformerShape, rank: int, targets: str = "attention") -> LoraSpec:
    """A checked spec: one-line InputError for a rank <= 0 or above the hidden size or unknown targets."""
    if targets not in LORA_TARGETS:
        raise InputError(f"--lora-targets must be one of {', '.join(LORA_TARGETS)} (got {targets!r})")
    if isinstance(rank, bool) or not isinstance(rank, int | np.integer):  # (a sweep's "16", 1.5, true: hR56)
        raise InputError(f"--lora-rank must be a whole number (got {rank!r})")
    if not 0 < rank <= shape.hidden_size:
        raise InputError(f"--lora-rank must be in 1..{shape.hidden_size} (the hidden size; got {rank})")
    return LoraSpec(rank, targets)


def lora_of(shape: TransformerShape, rank: int | None, targets: str | None) -> LoraSpec | None:
    """`--lora-rank` / `--lora-targets` as given (None: not given): a checked spec, None for a full fine-tune, one line
    for targets without a rank (hI55: priced as a full fine-tune in silence before); targets default to attention."""
    if rank is None:
        if targets is not None:
            raise InputError(f"--lora-targets needs --lora-rank (got --lora-targets {targets} alone: every weight "
                             "trained)")
        return None
    return lora_spec(shape, rank, targets or "attention")


def adapted_gemms(gemms: tuple[Gemm, ...], spec: LoraSpec, shape: TransformerShape) -> list[Gemm]:
    """The projections of `gemms` that `spec` adapts, one per Megatron-Core layer (`adapter_sites.adapted_gemms`: MLA's
    fused down projection as its two): the step, the memory and the host calls'."""
    return sited_gemms(gemms, spec.targets, shape)


def adapter_params(shape: TransformerShape, row: PlanArrays, spec: LoraSpec) -> tuple[float, float]:
    """(adapter parameters of one layer on one GPU, of one layer in all): R (in + out) per adapted projection, its
    TP-split sides local (`adapter_sites.adapter_sides`). A `one_row` plan's floats, or arrays over plans."""
    local = total = 0.0
    for g in adapted_gemms(layer_ops(shape, layer_layout(row, False)).gemms, spec, shape):
        _, w, tp = adapter_site(g, row)
        one, whole = adapter_sides(g, float(spec.rank), tp)
        local, total = local + to_float(w * one), total + to_float(w * whole)  # (a layer kind's share of the layers)
    return local, total


def adapter_collectives(shape: TransformerShape, row: PlanArrays, spec: LoraSpec, stack: Stack,
                        gemms: tuple[Gemm, ...] | None = None) -> tuple[tuple[Collective, ...], tuple[Collective, ...]]:
    """(forward, backward) TP collectives of one layer's adapters (module docstring: Megatron-Bridge 0.6.0
    `ParallelLinearAdapter`), `ops.layer.Collective` records over the plan's TP group (one plan's or a grid's)."""
    if gemms is None:
        gemms = layer_ops(shape, layer_layout(row, False)).gemms
    tp, r = row.tp, float(spec.rank)
    sp = to_bool(row.sequence_parallel)
    not_sp = negate(sp)
    userbuffers = ADAPTER_USERBUFFERS_GATHER and userbuffer_overlap(stack, shape, sp)[0] > 0.0  # (adapter gathers)
    fwd: list[Collective] = []
    bwd: list[Collective] = []
    for g in adapted_gemms(gemms, spec, shape):
        m, w, _ = adapter_site(g, row)
        w = float(w)  # (a layer kind's share of the layers: a plain number)
        low = m * r * ADAPTER_BYTES  # T x R
        if g.grouped:  # routed experts: `explicit_expert_comm`, only the gather_output all-gathers (docstring)
            out = m * to_float(g.n) * ADAPTER_BYTES if g.role in ROW_PARALLEL else low
            fwd.append(Collective("all_gather", "tp", out, row.expert_tp, 1, w))
        elif g.role in ROW_PARALLEL:
            out = m * to_float(g.n) * ADAPTER_BYTES  # T x out, B's gathered output
            fwd += [Collective("all_reduce", "tp", low, tp, 1, w), Collective("all_gather", "tp", out, tp, 1, w)]
            bwd += [Collective("all_gather", "tp", out, tp, 1, w, sp), Collective("all_reduce", "tp", low, tp, 1, w)]
        else:
            inp = m * to_float(g.k) * ADAPTER_BYTES  # T x in, the adapter's input
            replicated = g.role in REPLICATED  # (a `TELinear`: the adapter gathers under SP, B's T x out gathered)
            gathered = sp if replicated else sp & userbuffers  # (a plain bool, or a grid's column)
            fwd += [Collective("all_gather", "tp", inp, tp, 1, w, gathered),
                    Collective("all_gather", "tp", low, tp, 1, w)]
            if replicated:
                fwd.append(Collective("all_gather", "tp", m * to_float(g.n) * ADAPTER_BYTES, tp, 1, w))
            bwd += [Collective("reduce_scatter", "tp", inp, tp, 1, w, gathered),
                    Collective("all_reduce", "tp", inp, tp, 1, w, not_sp),
                    Collective("all_reduce", "tp", low, tp, 1, w)]
    return tuple(fwd), tuple(bwd)


def adapter_dgrad_hidden(shape: TransformerShape, rates: KernelRates, row: PlanArrays, spec: LoraSpec,
                         fabric: Fabric) -> Any:
    """Seconds per layer and micro-batch of the adapters' input-gradient all-reduces (B's T x R, A's T x in without SP:
    `adapter_collectives`) hidden each up to its own linear's wgrad GEMM (module docstring), priced as `gemm_fwd_bwd`
    prices it in `frozen_layer_terms` (bf16). A `one_row` plan's floats, or arrays over plans."""
    one = type(row.tp) is int  # type: ignore[comparison-overlap]
    r, rate, sp = float(spec.rank), rates.matmul_flops_per_s, to_bool(row.sequence_parallel)
    hidden: Any = 0.0
    for g in adapted_gemms(layer_ops(shape, layer_layout(row, False)).gemms, spec, shape):
        if g.grouped:  # (a routed experts' adapter reduces nothing backward: `explicit_expert_comm`)
            continue
        m, w, tp = adapter_site(g, row)
        (a_n, a_k), (b_n, b_k) = adapter_shapes(g, r, tp)
        reduced = [(m * r * ADAPTER_BYTES, b_n, b_k, True)]  # B's input gradient, T x R
        if g.role not in ROW_PARALLEL:  # A's, T x in, without SP (`disable_grad_reduce` under SP)
            reduced.append((m * to_float(g.k) * ADAPTER_BYTES, a_n, a_k, negate(sp)))
        for size, n, k, mask in reduced:  # (the wgrad: (k x m) @ (m x n), `gemm_fwd_bwd`'s)
            reduce = collective_times(fabric, (Collective("all_reduce", "tp", size, row.tp, 1, 1.0, mask),), "tp", one)
            wgrad = gemm_seconds(rates, k, n, m, 2.0, rate) if one else gemm_time(rates, k, n, m, 2.0, rate)
            hidden = hidden + float(w) * smaller(reduce, wgrad)
    return hidden


def frozen_layer_terms(shape: TransformerShape, rates: KernelRates, row: PlanArrays,
                       precision: tuple[Any, Any], stack: Stack, spec: LoraSpec) -> tuple[float, float, float]:
    """(weight-gradient seconds the frozen GEMMs skip, adapters' forward, adapters' backward) per layer and
    micro-batch on one GPU (module docstring); a `one_row` plan's floats, or arrays over a search's plans (the same
    GEMMs through `hardware.kernels`' array forms: `_grid_layer_terms`)."""
    gemms = layer_ops(shape, layer_layout(row, precision[1] < 2.0, stack, rates.fp8_gemm_layouts)).gemms
    rate, width = precision
    grad_bytes = main_grad_wgrad_bytes(stack)
    if type(row.tp) is not int:  # type: ignore[comparison-overlap]  # a grid of plans
        return _grid_layer_terms(gemms, rates, precision, grad_bytes, spec, row, stack.moe, shape)
    skipped = 0.0
    for g in gemms:  # `layer_kernels.gemm_fwd_bwd`'s weight-gradient GEMM of each
        m, n, k = float(g.m), float(g.n), float(g.k)
        w_grad = output_width(width, k, n, m) if grad_bytes is None else wgrad_width(width, m, n, k, grad_bytes)
        skipped += (expert_wgrad_time(rates, m, n, k, float(g.count), float(g.share), w_grad, rate, stack.moe, True)
                    if g.grouped else float(g.count) * gemm_seconds(rates, k, n, m, w_grad, rate))
    bf16 = (rates.matmul_flops_per_s, 2.0)
    fwd = bwd = 0.0
    r = float(spec.rank)
    for g in adapted_gemms(gemms, spec, shape):
        m, w, tp = (float(x) for x in adapter_site(g, row))
        for a_n, a_k in adapter_shapes(g, r, tp):  # x A, then (x A) B
            f, b = gemm_fwd_bwd(rates, bf16, m, float(a_n), float(a_k), 1.0, False, 1.0, True)
            fwd, bwd = fwd + w * float(f), bwd + w * float(b)
    return skipped, fwd, bwd


def _grid_layer_terms(gemms: tuple[Gemm, ...], rates: KernelRates, precision: tuple[Any, Any],
                      grad_bytes: float | None, spec: LoraSpec, row: PlanArrays,
                      routing: MoeRouting, shape: TransformerShape) -> tuple[Any, Any, Any]:
    """`frozen_layer_terms` on arrays over plans: each term as the float path prices it, in `gemm_time` /
    `grouped_gemm_time` and `gemm_fwd_bwd`'s array form."""
    rate, width = precision
    skipped: Any = 0.0
    for g in gemms:
        m, n, k = to_float(g.m), to_float(g.n), to_float(g.k)
        w_grad = output_width(width, k, n, m) if grad_bytes is None else wgrad_width(width, m, n, k, grad_bytes)
        skipped = skipped + (expert_wgrad_time(rates, m, n, k, g.count, g.share, w_grad, rate, routing, False)
                             if g.grouped else g.count * gemm_time(rates, k, n, m, w_grad, rate))
    bf16 = (rates.matmul_flops_per_s, 2.0)
    fwd: Any = 0.0
    bwd: Any = 0.0
    r = float(spec.rank)
    for g in adapted_gemms(gemms, spec, shape):
        m, w, tp = adapter_site(g, row)
        for a_n, a_k in adapter_shapes(g, r, tp):  # x A, then (x A) B
            f, b = gemm_fwd_bwd(rates, bf16, m, a_n, a_k, 1.0, False, 1.0, False)
            fwd, bwd = fwd + w * f, bwd + w * b
    return skipped, fwd, bwd


def with_frozen_layers(terms: dict[str, Any], shape: TransformerShape, rates: KernelRates, row: PlanArrays,
                       precision: tuple[Any, Any], stack: Stack, spec: LoraSpec, fabric: Fabric) -> dict[str, Any]:
    """One plan's per-layer terms (`step_time`'s floats) with the frozen base's backward and the adapters' GEMMs.
    A stack whose dgrad TP reductions hide under the wgrad GEMMs (`tp_async_backward` without TP overlap,
    `layer_time`) loses that window whole: the seconds `layer_time` took off (`tp_overlap.ASYNC_HIDDEN`, hD64; TE's
    linears' only); no wgrad input is re-gathered (`sp_regather.frozen_regather_s`, hN63). The adapters' own TP
    collectives (`adapter_collectives`) are exposed but what their own wgrads hide (`adapter_dgrad_hidden`, hN63)."""
    skipped, fwd, bwd = frozen_layer_terms(shape, rates, row, precision, stack, spec)
    rerun = pick(row.recompute == int(Recompute.FULL), fwd, 0.0)
    out = dict(terms)
    no_userbuffers = userbuffer_overlap(stack, shape, row.sequence_parallel == 1)[0] == 0.0  # (per plan: SP off too)
    if stack.tp_async_backward and KEPT_WINDOW and ADAPTER_ASYNC_DGRAD:  # (TE's wait: no wgrad GEMM before it)
        out["tp_bwd"] = terms["tp_bwd"] + terms.get(ASYNC_HIDDEN, 0.0)
    elif stack.tp_async_backward and anywhere(no_userbuffers):  # (hD63's window: the skipped wgrads)
        lay = layer_layout(row, precision[1] < 2.0, stack, rates.fp8_gemm_layouts)
        reductions = te_linear_records(tuple(c for c in layer_ops(shape, lay).collectives_bwd
                                             if c.role == "tp" and c.kind != "all_gather"))
        one = type(row.tp) is int  # type: ignore[comparison-overlap]  # (a `one_row` plan: floats; a grid: arrays)
        seconds: Any = collective_times(fabric, reductions, "tp", one)
        seconds, least = (float(seconds), FLOAT_OPS.minimum) if one else (seconds, np.minimum)
        rehidden = 0.0 if ADAPTER_ASYNC_DGRAD else least(seconds, 0.5 * bwd)  # (hD63's: under the adapters' wgrads)
        out["tp_bwd"] = terms["tp_bwd"] + pick(no_userbuffers, least(seconds, skipped) - rehidden, 0.0)
    if FROZEN_SKIPS_REGATHER:  # no wgrad, no re-gather of its input (`sp_regather`, hN63)
        out["tp_bwd"] = out["tp_bwd"] - frozen_regather_s(shape, rates, fabric, row, precision, stack)
    # the adapters' own TP collectives (module docstring), their forward re-run under full recompute
    if ADAPTER_TP_COLLECTIVES:
        one = type(row.tp) is int  # type: ignore[comparison-overlap]
        comm_fwd, comm_bwd = (collective_times(fabric, c, "tp", one)
                              for c in adapter_collectives(shape, row, spec, stack))
        if ADAPTER_ASYNC_DGRAD:  # their input-gradient all-reduces under their wgrad GEMMs (`adapter_dgrad_hidden`)
            comm_bwd = comm_bwd - adapter_dgrad_hidden(shape, rates, row, spec, fabric)
        out["tp_fwd"] = out["tp_fwd"] + comm_fwd
        out["tp_bwd"] = out["tp_bwd"] + comm_bwd + pick(row.recompute == int(Recompute.FULL), comm_fwd, 0.0)
    out["compute_fwd"] = terms["compute_fwd"] + fwd
    out["compute_bwd"] = terms["compute_bwd"] - skipped + bwd + rerun
    if "compute_paired" in terms:  # (DualPipe's paired chunk: both phases)
        out["compute_paired"] = terms["compute_paired"] + fwd - skipped + bwd + rerun
    return out  # (the adapters' host calls: `adapter_host.frozen_layers`, hL56)


def frozen_model_flops_per_step(shape: TransformerShape, row: PlanArrays, weights: float, scores: float) -> Any:
    """Model FLOPs of a frozen-base step (`FLOP_CONVENTION`) from `flops.forward_flops_per_token_layer`'s
    (weights, scores) per token and layer: 2x the forward GEMMs and LM head, 3x the attention scores."""
    per_token = shape.num_layers * (2.0 * weights + 3.0 * scores) + 2.0 * 2.0 * shape.hidden_size * shape.vocab_size
    return per_token * float(row.global_batch * row.seq_len)


def trainable_params(shape: TransformerShape, row: PlanArrays, spec: LoraSpec) -> int:
    """Adapter parameters of the whole model (rounded: two layer kinds' shares sum to a float a hair below it)."""
    return round(adapter_params(shape, row, spec)[1] * shape.num_layers)


def lora_note(spec: LoraSpec) -> str:
    """The note of a frozen-base estimate: what is trained and the FLOP count its MFU uses."""
    return (f"LoRA rank {spec.rank} on the {spec.targets} projections of a frozen base: no weight gradients, "
            "optimizer states or DP gradient reduction for the base weights; MFU counts Megatron-Bridge's LoRA model "
            "FLOPs (frozen GEMMs 2x forward, attention core 3x, adapters not counted), not the 6N of pre-training")
