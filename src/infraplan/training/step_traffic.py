"""The pipeline's p2p transfer and the data-parallel and tied-embedding collectives of one training step.

Per distinct communication row (`axes.COMM_KEYS`, `row_memo.computed_once`): the p2p time of one pipeline
boundary transfer (the micro-batch's T x h / TP bf16 activation to the next stage, `network.collectives`
send/receive at the pipeline's rank stride, each hop inside a domain or across its edge by where its pair sits:
`training.pipeline_hops`, hT46, session 43), the local and sharded parameters, and by ZeRO stage the DP
collectives: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (ZeRO 1/2), or all-gather
forward and backward + reduce-scatter per local layer (ZeRO 3/FSDP). Dense parameters are replicated over
DP x CP, routed experts only over the expert data-parallel ranks (`stage_params.dp_groups`, with its sources).
The tied word-embedding gradient all-reduce between the first and last stage (Megatron-LM
`_allreduce_word_embedding_grads`) once per step. How much of it is exposed (overlapped with the first
micro-batch's forward and the last one's backward) is `training.step_assembly`'s. The traffic's DP collectives are
priced on ceil(L / p) layers, a table (both tables, or the tied one, without PP) and the stack's MTP modules: at least
the parameters of any stage of ceil(L / p) layers or fewer, so a bound on their exposure (exact with PP = 1); each
stage that exists gets its own where it can set the most (`EndStageTraffic`: its layers, its table if it is an end
stage, the last's MTP modules: the end stages, hD5, session 39; the heaviest and a middle stage, hT40, session 40); a
DualPipe / ZB-V rank on the two stages it holds (`training.mirrored_dp`, hO45, session 43).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import (
    Fabric,
    collective_seconds,
)
from infraplan.ops import params as ops_params
from infraplan.scalar_path import anywhere, is_plain, larger, ops_of, pick, to_float
from infraplan.training.axes import COMM_KEYS
from infraplan.training.distinct_collectives import distinct_collective_time, distinct_collective_times
from infraplan.training.layer_time import ACT
from infraplan.training.memory import (
    GRAD_BYTES,
    WEIGHT_BYTES,
    local_expert_params,
    local_params,
    mtp_module_params,
    sharded_of,
)
from infraplan.training.one_plan_memo import ClusterPricing
from infraplan.training.pipeline_hops import pipeline_hop_terms
from infraplan.training.plan import PlanArrays
from infraplan.training.row_memo import computed_once, distinct_rows
from infraplan.training.stage_params import dp_groups, replica_group, row_layer_kind_params

FORMS = ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers")  # (`_dp_collective_times`' terms)

__all__ = ["EndStageTraffic", "dp_collectives", "dp_collectives_once", "end_stage_params", "pipeline_and_dp_traffic",
           "tied_embedding_sync"]


def pipeline_and_dp_traffic(shape: TransformerShape, fabric: Fabric, plan: PlanArrays, grad_bytes: float = GRAD_BYTES,
                             pricing: ClusterPricing | None = None, mtp_num_layers: int = 0,
                             grad_all_reduce: bool = False) -> dict[str, Any]:
    """p2p time per pipeline transfer and the DP collectives of one step, once per distinct COMM_KEYS row (arrays;
    a single estimate's floats). A single estimate's plan gets its row without the DP collectives (a kind of its own
    in the one-plan memo): `step_time.one_plan_step_time` prices those of its ZeRO stage (`dp_collectives`); a
    grid's rows (one distinct row may stand for plans of every stage) carry every stage's. `mtp_num_layers`: the
    stack's MTP modules (`Stack.mtp_num_layers`), counted in the parameters of the stage (their gradients reduced
    and their optimizer step run with its own; the embedding table Megatron-Core builds beside them is not).
    `expert_params`: the routed-expert part of `params`. `grad_all_reduce`: the stack's `grad_reduce_all_reduce`
    (`dp_collectives`)."""
    single = plan.is_one  # the plan itself is priced (`computed_once` hands it to `compute` as it is)

    def compute(rows: PlanArrays) -> dict[str, Any]:
        p = rows.one_row if rows.is_one else rows  # one plan: its Python numbers (`PlanArrays.one_row`)
        boundary = p.micro_batch * p.seq_len / p.cp * shape.hidden_size * ACT / p.tp
        # dense parameters are replicated over DP x CP; experts only over the ranks holding the same expert
        params, experts = local_params(shape, p), local_expert_params(shape, p)
        if mtp_num_layers:  # the stack's MTP modules, on the stage of the LM head (`memory.mtp_module_params`)
            mtp, mtp_experts = mtp_module_params(shape, p, mtp_num_layers)
            params, experts = params + mtp, experts + mtp_experts
        one = p is not rows
        out = {
            # each hop priced where its pair sits, the chain's mean and the crossing share
            # (`training.pipeline_hops`; `training.combined_1f1b.p2p_on_ep_nic_s` reads the share)
            **pipeline_hop_terms(fabric, boundary, p, one),
            **({} if single and rows is plan else dp_collectives(shape, fabric, p, params, experts, grad_bytes,
                                                                 grad_all_reduce=grad_all_reduce)),
            "params": params,
            "expert_params": experts,
            "sharded": sharded_of(p, params, experts),
            # the tables on it and the embedding alone: ZeRO-3's edge units (`training.zero3_edges`)
            "table_params": ops_params.end_params_local(shape, p.tp, p.pp),
            "embedding_params": shape.vocab_size * shape.hidden_size / to_float(p.tp),
            "embedding_sync": tied_embedding_sync(shape, fabric, p, grad_bytes, one),
        }
        return out if p is rows else dict(zip(out, map(float, out.values()), strict=True))  # one plan: Python floats

    return computed_once(plan, COMM_KEYS, compute if pricing is None else
                          pricing.memoised("comm_no_dp" if single else "comm", shape, COMM_KEYS, compute))


def dp_collectives(shape: TransformerShape, fabric: Fabric, p: PlanArrays, params: Any, experts: Any,
                    grad_bytes: float, zero: Any = None, layers: Any = None,
                    grad_all_reduce: bool = False) -> dict[str, Any]:
    """The DP collectives of one step by ZeRO stage (arrays, or a `one_row` plan's floats) from the stage's local
    and expert parameters: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (1/2; with
    `grad_all_reduce`, the stack's `grad_reduce_all_reduce`, the gradients all-reduced instead), ZeRO-3 / FSDP's
    per-layer gathers and scatters (one collective per local layer at its own message size). `zero`: a single
    estimate's stage, whose collectives alone are priced (`assemble_step` picks them; the others 0.0). `layers`:
    the stage's local layers (None: the heaviest stage's ceil(L / p), as the traffic's parameters)."""
    one = type(p.tp) is int  # type: ignore[comparison-overlap]  # a `one_row` plan: floats (`collective_seconds`)
    local_layers = ops_of(p.pp).ceil(shape.num_layers / to_float(p.pp)) if layers is None else layers
    # DP x CP ranks, and the experts' (`stage_params.dp_groups`); hybrid sharding's replicas (`replica_group`)
    replicas = replica_group(p) if anywhere(p.zero_shard > 0) else None
    return _dp_collective_times(shape, fabric, one, dp_groups(p), params, experts, grad_bytes, zero, local_layers,
                                replicas, grad_all_reduce)


def dp_collectives_once(shape: TransformerShape, fabric: Fabric, p: PlanArrays,
                        stages: list[tuple[Any, ...]], grad_bytes: float,
                        rows: list[Any] | None = None, grad_all_reduce: bool = False) -> list[dict[str, Any]]:
    """`dp_collectives` of arrays over plans of stages' parameters, local layers, MTP modules and tables (`stages`:
    (parameters, routed-expert parameters, layers, MTP modules[, tables: 1 an end stage's, 0 a middle one's; 1 if
    left out]), `end_stage_params`) in one pass, once per distinct row of what they read (the counts, TP, PP, EP, ETP
    and the DP groups), broadcast back (exact: the formulas are element-wise): the stages' on a
    search grid, whose layers come per row of the stage split, not per `COMM_KEYS` row as the traffic's
    (`row_memo.computed_once`). `rows`: each stage's plans whose values are read (a mask over plans, None: all),
    the others' left 0.0 (hP15: the plans where an end stage cannot set the most, or is the heaviest, unpriced)."""
    keys = (p.tp, p.pp, p.ep, p.expert_tp)  # (what the parameters and collectives read, with the DP groups)
    groups = dp_groups(p) if shape.is_moe else dp_groups(p)[:2]  # (a dense model's expert groups: read by no formula)
    hybrid = anywhere(p.zero_shard > 0)  # hybrid sharding: its replica groups beside them (`replica_group`)
    groups = (*groups, *replica_group(p)) if hybrid else groups
    g = len(groups)
    # each stage's columns in its own shape, end to end (the counts doubled: DualPipe's mean stages hold half layers)
    parts = [list(np.broadcast_arrays(*(np.asarray(c) for c in (params, experts, layers, *groups, 2.0 * layers,
                                                                2.0 * modules, *keys, *table[:1]))))
             for params, experts, layers, modules, *table in stages]
    if len({len(part) for part in parts}) > 1:  # (some with their tables given: 1 where left out)
        parts = [part if len(part) == 5 + g + len(keys) + 1 else [*part, np.ones(part[0].shape)] for part in parts]
    flat = [np.concatenate([part[i].ravel() for part in parts]) for i in range(len(parts[0]))]
    total = flat[0].size
    read = None if rows is None else np.flatnonzero(np.concatenate([
        np.ones(part[0].size, dtype=bool) if mask is None else _over(np.asarray(mask), part[0].shape).ravel()
        for part, mask in zip(parts, rows, strict=True)]))
    flat = flat if read is None else [c[read] for c in flat]
    if read is not None and read.size == 0:  # (no plan reads them)
        return [{k: np.zeros(part[0].shape) for k in FORMS} for part in parts]
    # the DP groups' sizes and rank strides as they are where they pack into one key (`_narrow_ranges`)
    once = distinct_rows(_narrow_ranges(flat[3:3 + g], [c.astype(np.int64) for c in flat[3 + g:]]))
    picked = flat if once is None else [c[once[0]] for c in flat]
    held = (picked[3], picked[4], picked[5], picked[6]) if shape.is_moe else (picked[3], picked[4], None, None)
    replicas = (picked[g], picked[g + 1], picked[g + 2]) if hybrid else None  # (the last three group columns)
    out = _dp_collective_times(shape, fabric, False, held, picked[0], picked[1], grad_bytes, None, picked[2],
                               replicas, grad_all_reduce)
    spread = {k: v if once is None else np.asarray(v)[once[1]] for k, v in out.items()}
    if read is None:
        full = {k: np.broadcast_to(v, (total,)) for k, v in spread.items()}
    else:  # (the plans not read: 0.0)
        full = {k: np.zeros(total) for k in out}
        for k, v in spread.items():
            full[k][read] = v
    priced, at = [], 0
    for part in parts:
        wide, size = part[0].shape, part[0].size
        priced.append({k: v[at:at + size].reshape(wide) for k, v in full.items()})
        at += size
    return priced


def _over(mask: np.ndarray, wide: tuple[int, ...]) -> np.ndarray:
    """`mask` over plans on the shape `wide` of a stage's columns: a plan read where any of its broadcast copies is."""
    while mask.ndim > len(wide):
        mask = np.asarray(mask.any(axis=0))
    mask = mask.reshape((1,) * (len(wide) - mask.ndim) + mask.shape)
    for axis, (n, m) in enumerate(zip(wide, mask.shape, strict=True)):
        if n == 1 and m > 1:
            mask = np.asarray(mask.any(axis=axis, keepdims=True))
    return np.broadcast_to(mask, wide)


def _narrow_ranges(groups: list[np.ndarray], counts: list[np.ndarray]) -> list[np.ndarray]:
    """The key columns of `dp_collectives_once` (the DP groups' sizes and rank strides, then the integer counts) with
    the widest groups replaced by their values' ranks (one sort each) until `distinct_rows` packs their ranges into
    one int64 key: the same rows are alike either way (hP15, session 39: the four sorts, one per group column, were a
    sixth of the end stages' pass on a 405B search at 131,072 GPUs)."""
    columns = [*groups, *counts]
    sizes = [int(c.max()) - int(c.min()) + 1 if c.size else 1 for c in columns]
    for i in sorted(range(len(groups)), key=lambda j: -sizes[j]):
        if np.prod(np.array(sizes, dtype=np.float64)) < 2.0**62:
            break
        columns[i] = np.unique(columns[i], return_inverse=True)[1].reshape(-1)
        sizes[i] = int(columns[i].max()) + 1 if columns[i].size else 1
    return columns


def _dp_collective_times(shape: TransformerShape, fabric: Fabric, one: bool, groups: tuple[Any, Any, Any, Any],
                         params: Any, experts: Any, grad_bytes: float, zero: Any, local_layers: Any,
                         replicas: tuple[Any, Any, Any] | None = None,
                         grad_all_reduce: bool = False) -> dict[str, Any]:
    """`dp_collectives` on the DP groups (`stage_params.dp_groups`) and the local layers; `replicas`: hybrid
    sharding's (ranks, stride, shard ranks N) (`stage_params.replica_group`), whose all-reduce of the gradients'
    1 / N shard follows the reduce-scatter (`_replica_all_reduce`). `grad_all_reduce`: ZeRO 1/2's gradients
    all-reduced over the whole DP group (DeepSpeed 0.14.4 zero/config.py:112-114 `use_multi_rank_bucket_allreduce`
    True: stage_1_and_2.py:1110-1129 -> :997-1031 `allreduce_bucket`; 0.5.10's stage 1 the same through
    `buffered_reduce_fallback`): the `scatter` term is that all-reduce (hybrid sharding's replica term as before: no
    stack sets both, DeepSpeed names no `zero_shard_stages`)."""
    dense, moe = params - experts, shape.is_moe
    dp, dp_stride, edp, edp_stride = groups
    reduce, sharded, layered = (True,) * 3 if zero is None else (zero == 0, 0 != zero < 3, zero != 0 and zero >= 3)
    # (name, collective, bytes per parameter, one per local layer at its own message size, priced)
    terms = (("allreduce", "all_reduce", grad_bytes, False, reduce),
             ("scatter", "all_reduce" if grad_all_reduce else "reduce_scatter", grad_bytes, False, sharded),
             ("gather", "all_gather", WEIGHT_BYTES, False, sharded),
             ("scatter_layers", "reduce_scatter", grad_bytes, True, layered),
             ("gather_layers", "all_gather", WEIGHT_BYTES, True, layered))
    # dense over DP x CP, then the experts over their replicas; per layer: each local layer's share of the bytes
    held = ((dense, dp, dp_stride), (experts, edp, edp_stride)) if moe else ((dense, dp, dp_stride),)
    requests = [(kind, (part / local_layers if per else part) * bytes_per_param, group, stride)
                for _, kind, bytes_per_param, per, on in terms if on for part, group, stride in held]
    # a search's columns: the requests of one formula priced in one pass (`distinct_collective_times`)
    priced = ([collective_seconds(fabric, *r) for r in requests] if one
              else distinct_collective_times(fabric, requests))
    out: dict[str, Any] = {}
    at, step = 0, (2 if moe else 1)
    for name, _, _, per, on in terms:
        if not on:
            out[name] = 0.0
            continue
        t = local_layers * priced[at] if per else priced[at]
        if moe:
            t = t + (local_layers * priced[at + 1] if per else priced[at + 1])
        at += step
        out[name] = np.asarray(t, dtype=np.float64) if per and not one else t
    return out if replicas is None else _replica_all_reduce(fabric, one, out, dense * grad_bytes, local_layers,
                                                             replicas, (sharded, layered))


def _replica_all_reduce(fabric: Fabric, one: bool, out: dict[str, Any], grad_bytes: Any, local_layers: Any,
                        replicas: tuple[Any, Any, Any], priced: tuple[Any, Any]) -> dict[str, Any]:
    """`out` with hybrid sharding's cross-replica all-reduce of each reduce-scatter's 1 / N output (the dense
    gradients' bytes / N over the DP x CP / N replicas, `stage_params.replica_group`) added to its term: ZeRO 1/2's
    one `scatter`, ZeRO-3's per layer in `scatter_layers` (FSDP2 all-reduces each parameter group's reduce-scatter
    output after it, torch 2.14.1 _fsdp_collectives.py:634-661; Megatron-Core each bucket's shard across the
    distributed-optimizer instances after its reduce-scatter, param_and_grad_buffer.py:460-485): overlapped or
    exposed with the reduce-scatter it follows (`dp_exposure`). One replica (N = DP x CP): 0. `priced`: whether
    the ZeRO stage prices each term (`scatter`, `scatter_layers`)."""
    ranks, stride, shard = replicas
    for (name, per), on in zip((("scatter", False), ("scatter_layers", True)), priced, strict=True):
        if not on:  # (the term not priced at this ZeRO stage)
            continue
        size = (grad_bytes / local_layers if per else grad_bytes) / shard
        seconds = (collective_seconds(fabric, "all_reduce", size, float(ranks), float(stride)) if one
                   else distinct_collective_time(fabric, "all_reduce", *np.broadcast_arrays(
                       np.asarray(size, dtype=np.float64), np.asarray(ranks, dtype=np.float64),
                       np.asarray(stride, dtype=np.float64))))
        seconds = pick(ranks > 1, seconds, 0.0)
        out[name] = out[name] + (local_layers * seconds if per else seconds)
    return out


def end_stage_params(shape: TransformerShape, p: PlanArrays, layers: Any, mtp_modules: Any,
                     table: Any = 1.0) -> tuple[Any, Any]:
    """(parameters, routed-expert parameters) of one GPU on a stage of PP > 1 that holds `layers` decoder layers
    and, where `table` is 1, its table (an end stage: the first stage's embedding, the last's LM head: one V x h / TP
    table, `ops.params.end_params_local`; 0: a middle stage, no table) and, on the last, `mtp_modules` MTP modules
    with the embedding table Megatron-Core builds beside them (`stage_params.mtp_module_params`, the table as
    `training.memory` counts it). Off mirrored schedules. A one-plan row's are kept in `ops.params.PLAN_SHAPE_COUNTS`
    by what they read (TP, PP, EP, ETP, the counts)."""
    if is_plain(p.tp):
        key = ("end_stage_params", p.tp, p.pp, p.ep, p.expert_tp, layers, mtp_modules, table)
        kept = ops_params.PLAN_SHAPE_COUNTS.get(shape, key)
        if kept is None:
            kept = ops_params.PLAN_SHAPE_COUNTS.put(shape, key, _end_stage_params(shape, p, layers, mtp_modules,
                                                                                   table))
        return kept  # type: ignore[no-any-return]
    return _end_stage_params(shape, p, layers, mtp_modules, table)


def _end_stage_params(shape: TransformerShape, p: PlanArrays, layers: Any, mtp_modules: Any,
                      table: Any) -> tuple[Any, Any]:
    per_layer = row_layer_kind_params(shape, p)  # (a one-plan row's, kept; None for arrays)
    # (x 1.0: the bits of `ops.params.local_params` with its table)
    params = (ops_params.local_params(shape, p.tp, p.pp, p.ep, p.expert_tp, layers, False, per_layer)
              + table * ops_params.end_params_local(shape, p.tp, p.pp))
    experts = ops_params.local_expert_params(shape, p.tp, p.pp, p.ep, p.expert_tp, layers)
    if anywhere(mtp_modules > 0.0):
        module, module_experts = mtp_module_params(shape, p, 1)
        mtp_table = shape.vocab_size * shape.hidden_size / to_float(p.tp)
        params = params + mtp_modules * module + pick(mtp_modules > 0.0, mtp_table, 0.0)
        experts = experts + mtp_modules * module_experts
    return params, experts


class EndStageTraffic:
    """The DP traffic of the stages that exist, on their own parameters (`step_assembly` has no model): the end
    stages that are not the heaviest (hD5, session 39), the heaviest where it holds other parameters than the
    traffic's and a middle stage (`table` 0; hT40, session 40): each stage's DP ranks reduce their own stage's
    gradients and gather its parameters (Megatron-Core DDP per model chunk, megatron-core 0.16.1
    distributed/distributed_data_parallel.py:420-446). `price`: `dp_collectives` of (parameters, routed-expert
    parameters, local layers, MTP modules, tables) on the plan (a grid's once per distinct row, `dp_collectives_once`;
    a single estimate's at its ZeRO stage, kept as its heaviest stage's are, `step_time._one_plan_dp_collectives`). A
    plain class with slots: a single estimate builds one (a frozen dataclass's three default factories took 2 us of
    it; hP15, session 39)."""

    __slots__ = ("_ahead", "_held", "_priced", "_priced_rows", "pair", "plan", "price", "shape")

    def __init__(self, shape: TransformerShape, plan: PlanArrays,
                 price: Callable[..., list[dict[str, Any]]], pair: tuple[Fabric, float] | None = None) -> None:
        self.shape, self.plan, self.price = shape, plan, price
        self.pair = pair  # (the DP fabric and gradient bytes of DualPipe's mirror-pair sum, `mirrored_dp`; hO45)
        self._priced: dict[tuple[float, float, float], dict[str, Any]] = {}
        self._priced_rows: list[tuple[Any, Any, Any, Any, dict[str, Any]]] = []
        self._ahead: list[tuple[Any, Any, Any, Any]] = []
        self._held: dict[tuple[float, float, float], tuple[Any, Any]] = {}  # (one plan's stages: `stage_params`)

    def stage_params(self, layers: Any, mtp_modules: Any, table: Any = 1.0) -> tuple[Any, Any]:
        """`end_stage_params` of the stage of `collectives` (one plan's: those it priced, kept): what its optimizer
        steps (`training.optimizer_step`; hO41, session 41)."""
        held = self._held.get((layers, mtp_modules, table)) if is_plain(layers) and is_plain(mtp_modules) else None
        return end_stage_params(self.shape, self.plan, layers, mtp_modules, table) if held is None else held

    def expect(self, layers: Any, mtp_modules: Any, rows: Any = None, table: Any = 1.0) -> None:
        """A stage of arrays over plans that `collectives` may be asked for: priced with the first asked (one pass of
        the collective formulas for the stages expected); `rows`: where it may be asked (None: everywhere)."""
        self._ahead.append((layers, mtp_modules, rows, table))

    def collectives(self, layers: Any, mtp_modules: Any, rows: Any = None, table: Any = 1.0) -> dict[str, Any]:
        """`dp_collectives` of a stage of `layers` decoder layers, `mtp_modules` MTP modules and `table` tables (1:
        an end stage's, 0: a middle stage's; `end_stage_params`), ZeRO-3's gathers and scatters one per layer (one at
        least: a stage of a table alone gathers it once). `rows`: a grid's plans whose values are read (None: all;
        the others' are 0.0)."""
        # (both ends alike, e.g. one layer short each where the embedding and the loss count as layers: priced once)
        if is_plain(layers) and is_plain(mtp_modules):  # one plan
            kept = self._priced.get((layers, mtp_modules, table))
            if kept is None:
                params, experts = self._held[layers, mtp_modules, table] = end_stage_params(
                    self.shape, self.plan, layers, mtp_modules, table)
                kept = self._priced[layers, mtp_modules, table] = self.price(
                    [(params, experts, larger(layers, 1.0), mtp_modules, *_tables(table))])[0]
            return kept
        for held, modules, priced_rows, tables, out in self._priced_rows:
            if (np.array_equal(held, layers) and np.array_equal(modules, mtp_modules)
                    and np.array_equal(tables, table)
                    and (priced_rows is None or (rows is not None and not np.any(rows & ~priced_rows)))):
                return out
        asked = [(layers, mtp_modules, rows, table), *(ahead for ahead in self._ahead if ahead[0] is not layers)]
        self._ahead.clear()  # (the stages expected, priced together)
        stages = [(*end_stage_params(self.shape, self.plan, held, modules, tables), larger(held, 1.0), modules,
                   *_tables(tables)) for held, modules, _, tables in asked]
        masks = [ask[2] for ask in asked]
        outs = self.price(stages) if all(mask is None for mask in masks) else self.price(stages, masks)
        self._priced_rows.extend((*ask, out) for ask, out in zip(asked, outs, strict=True))
        return outs[0]


def _tables(table: Any) -> tuple[Any, ...]:
    """A stage's tables as `price` takes them: left out for an end stage's one (the four numbers of hD5's stages)."""
    return () if is_plain(table) and table == 1.0 else (table,)


def tied_embedding_sync(shape: TransformerShape, fabric: Fabric, p: PlanArrays, grad_bytes: float,
                         one: bool) -> Any:
    """The tied word-embedding gradient all-reduce between the first stage (embedding) and the last (LM head), once
    per step with PP > 1: the V / TP x h gradient over the 2 ranks (PP - 1) stage strides apart (Megatron-LM
    `_allreduce_word_embedding_grads` in `finalize_model_grads`, after the DP gradient sync; untied models, e.g.
    Llama's `tie_word_embeddings: false`, have none). The pair spans the pipeline's PP x stage-stride ranks (a
    group of n at stride s spans n s in `network.collectives`): stride PP x stage stride / 2."""
    size = shape.vocab_size / to_float(p.tp) * shape.hidden_size * grad_bytes
    if one:
        pp = float(p.pp)
        return (collective_seconds(fabric, "all_reduce", size, 2.0, pp * float(p.pp_stride) / 2.0)
                if shape.tied_embeddings and pp > 1.0 else 0.0)
    pp_arr = p.pp.astype(np.float64)
    if not shape.tied_embeddings or not np.any(pp_arr > 1.0):
        return np.zeros(np.shape(pp_arr))
    # once per distinct (size, stride) row (`distinct_collective_time`: a search's rows repeat a few TP x PP pairs; the
    # formula is element-wise, so each row keeps its bits; hP9)
    seconds = distinct_collective_time(fabric, "all_reduce", size, 2.0, pp_arr * p.pp_stride / 2.0)
    return np.asarray(np.where(pp_arr > 1.0, seconds, 0.0), dtype=np.float64)
