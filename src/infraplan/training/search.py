"""Exhaustive parallel-plan search, vectorised through the same `evaluate_plans` as a single estimate.

The space: TP (divisors of the attention heads, up to the scale-up domain unless asked to cross it),
PP, virtual stages, CP, DP (what is left), EP (MoE, dividing experts and DP), micro-batch, recompute
mode, ZeRO stage, dtype, the rank-to-node order (PP or DP outermost) where both axes exceed 1, and the
pipeline schedule (every registered one, or those asked for). The axes are declared once, in `training.axes`.
Plans are rows (`row_grid.enumerate_rows`: every axis but the broadcast ones) times the broadcast axes as extra
array dimensions: (vpp, schedule) pairs of the row's PP and the ZeRO stages, so a grid of (ZeRO, pairs, rows)
runs through the single estimate's element-wise model code, the per-layer and traffic terms once per row (the
per-layer GEMMs, attention and element-wise work once per row without PP and rank order: `layer_terms.per_layer_terms`).
The grid goes in blocks of about `CHUNK_PLANS` plans, their temporaries reused heap memory between blocks and
searches (`keep_freed_heap`); the keys of all blocks share one buffer. Invalid plans are masked by the same rules
that reject a user's plan; memory is priced first (its total alone, `memory.memory_total`) and rows with no
fitting plan are dropped before the step time; under the time objective a branch and bound
(`training.search_bounds`) counts each row's fitting plans from memory bounds (per-plan memory only where they
straddle the accelerator's) and prices the step time only of rows whose floor is within the K-th best step time
found (floors only for rows whose cheap bound, `step_time.stage_work_bound_s`, is within it; the rest when the MFU
fallback needs them); its bounds work on rows, not on the grid, so it takes blocks of `BOUND_ROWS` rows rather than
`CHUNK_PLANS` plans; the top K come from a partition of each block's smallest keys, ties broken in the order of the
full cartesian enumeration (`plan_grid.enumerate_plans`), so the answer equals a stable sort of every plan. Smaller
grids price a block's rows by the same cheap bound (`training.row_bound`): the lowest-bounded first, then those within
the K-th best step time, the rest only when `Found.best` needs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cache, partial

import numpy as np

from infraplan import bounds
from infraplan.budget import require_memory
from infraplan.catalog import load_model
from infraplan.catalog.answer_bands import band_stack
from infraplan.catalog.figures import figures_notes
from infraplan.catalog.loader import is_what_if
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import System
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.cluster.generic import generic_part_notes
from infraplan.errors import InputError
from infraplan.network.tier_bandwidth import job_crossing_notes
from infraplan.training.activation_offload import offloaded_layers
from infraplan.training.axes import LAYER_KEYS, SearchSpace
from infraplan.training.collnet import search_sharp_note, sharp_note, sharp_profile
from infraplan.training.communicator_buffers import check_memory_margin
from infraplan.training.dsa_warmup import stage_of
from infraplan.training.dtype_choice import AUTO_DTYPE, auto_dtypes, dtype_choice
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.ep_choice import EVERY_EP, EpMask, ep_choice
from infraplan.training.estimate import result_row, training_band
from infraplan.training.flops import causal_flops_ratio
from infraplan.training.freed_heap import keep_freed_heap
from infraplan.training.moe_notes import search_notes
from infraplan.training.no_plan_reason import why_no_plan
from infraplan.training.optimizers import training_stack
from infraplan.training.pipeline_split_rule import pipeline_split_rule
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import GRID_ARRAYS, Found, GridPart, grid_plan
from infraplan.training.plan_grid import enumerate_plans as enumerate_plans  # (callers import it from search)
from infraplan.training.plan_notes import train_plan_notes
from infraplan.training.plan_rules import framework_refusals, nearest_multiples, pipeline_extra_layers, valid_mask
from infraplan.training.results import PlanMetrics, PlanSearchResult
from infraplan.training.row_bound import keys_into, price_by_bound
from infraplan.training.row_grid import RowGrid, enumerate_rows
from infraplan.training.row_memo import RowMemo
from infraplan.training.schedules import searched_schedules
from infraplan.training.search_bounds import bound_and_price, invalid_pairs
from infraplan.training.search_guard import frozen_guard, guard_effect, search_guard
from infraplan.training.search_rows import FULL, Pricing, pricing_of
from infraplan.training.search_rows import train_command as train_command
from infraplan.training.stack_limits import (
    expert_layout,
    expert_split,
    micro_batch_rules,
    refused_zero,
    searched_dtypes,
    searched_limits,
)
from infraplan.training.step_time import STRIDE_ONLY_KEYS, balanced_split

# PP values whose (vpp, schedule) pair count is at least this share of the bucket's widest share its grid
BUCKET_FILL = 0.5
# plans per evaluated block (rows x pairs x ZeRO stages): ~8 MB float64 temporaries
CHUNK_PLANS = 1 << 20
# time objective: price the step time only of rows whose floor can reach the top K (`training.search_bounds`)
BRANCH_AND_BOUND = True
# grids of fewer plans price every row: there the bound's floors and counts cost more than they save (CPU seconds,
# Mixtral 8x7B on 512 H100, 1.2 M plans: 0.14 plain, 0.24 bounded; DeepSeek-V3 on 8,192 GB200, 8.5 M: 1.13 vs 0.32)
BOUND_MIN_PLANS = 1 << 21
# time objective below BOUND_MIN_PLANS: price the step time only of rows whose cheap bound can reach the top K
# (`row_bound.price_by_bound`)
ROW_BOUND = True
# rows per block of the branch and bound's memory bounds and cheap bounds (one numpy pass each): fewer blocks price
# more shared stride-free rows at once (CPU seconds, DeepSeek-V3 on 8,192 GB200, 252k rows: 0.19 at 2^16 rows,
# 0.18 at 2^17, 0.17 at 2^18; peak RSS 134, 150, 158 MB)
BOUND_ROWS = 1 << 18


def _search_grid(shape: TransformerShape, cluster: Cluster, grid: RowGrid, profile: Stack, objective: str,
                 progress: Callable[[int, int], None] | None, take: int = 1,
                 guard: tuple[Callable[[PlanArrays, np.ndarray], np.ndarray], int] | None = None,
                 pricing: Pricing = FULL, ep_mask: EpMask | None = None) -> Found:
    """Evaluate every plan of the grid as one (ZeRO stages, (vpp, schedule) pairs, rows) array.

    Each row's pairs are those of its PP, padded to the longest list with masked entries. Memory first: rows
    with no fitting plan are dropped before the step time is priced. The single estimate's code runs on the
    grid (`plan_memory`, `step_time`, `model_tflops_per_gpu` are element-wise in the plan fields; the cached
    layer and traffic terms are computed once per row, indexed by grid order without sorting). `pricing`: the kind
    of step every plan is priced as (`search_rows.Pricing`); the bounds drop rows only where its floors hold
    (`Pricing.bounded`: a LoRA search and a DSA warm-up price every row).
    """
    found = Found(grid, take=take)
    if guard is not None:  # (`Found.best`'s MFU guard, for the bar of `row_bound.price_by_bound`)
        found.beyond, found.top = guard
    rows = grid.rows
    # every rule but the broadcast axes' (rows: vpp 1, 1F1B, ZeRO 0), over the stack's pipeline slots
    valid = valid_mask(shape, rows, pipeline_extra_layers(profile), micro_batch_rules(profile), expert_split(profile))
    valid = valid if ep_mask is None else valid & ep_mask(rows.ep)  # (`training.ep_choice`'s search of one kind)
    for bad, why in framework_refusals(shape, rows, profile, pricing.lora, "search"):  # plans its libraries raise on
        if (pruned := int(np.count_nonzero(valid & bad))):
            found.refused.append(f"{pruned:,} plans not proposed: {why}")
            valid &= ~bad
    pps = sorted(grid.stages, key=lambda p: -grid.stages[p].shape[1])
    if not valid.any():
        return found
    width = grid.stages[pps[0]].shape[1]
    one_f_one_b = int(Schedule.ONE_F_ONE_B)
    # each PP's pairs, padded to the widest with (1, 1F1B) (`np.pad`'s values, without its ~20 us per call)
    vpp_table = np.ones((len(pps), width), dtype=np.int64)
    schedule_table = np.full((len(pps), width), one_f_one_b, dtype=np.int64)
    for i, p in enumerate(pps):
        vpp_table[i, :grid.stages[p].shape[1]], schedule_table[i, :grid.stages[p].shape[1]] = grid.stages[p]
    real = np.arange(width) < np.array([grid.stages[p].shape[1] for p in pps])[:, None]
    by_pp = np.asarray(pps)
    sorter = np.argsort(by_pp)
    table_of = np.zeros(rows.pp.shape, dtype=np.int64)  # each row's line in the pair tables
    table_of[valid] = sorter[np.searchsorted(by_pp[sorter], rows.pp[valid])]
    # PP values with similar pair counts share one padded grid (each grid is one pass of the model code), and so
    # do any while the padded grid stays within one block (a pass costs more than a small block's padding)
    line_rows = np.bincount(table_of[valid], minlength=len(pps))
    buckets: list[list[int]] = []
    for i, p in enumerate(pps):
        widest = grid.stages[pps[buckets[-1][0]]].shape[1] if buckets else 0
        small = buckets and (line_rows[buckets[-1]].sum() + line_rows[i]) * widest * grid.zero.size <= CHUNK_PLANS
        if buckets and (small or grid.stages[p].shape[1] >= BUCKET_FILL * widest):
            buckets[-1].append(i)
        else:
            buckets.append([i])
    members = [np.flatnonzero(valid & np.isin(table_of, bucket)) for bucket in buckets]
    widths = [grid.stages[pps[bucket[0]]].shape[1] for bucket in buckets]
    # one buffer for every bucket's keys (and step times under the memory objective), filled bucket by bucket
    capacity = sum(index.size * k for index, k in zip(members, widths, strict=True)) * grid.zero.size
    require_memory(capacity * 8.0 * (1 if objective == "time" else 2), f"a search over {capacity:,} plans",
                   "narrow it with --dtype or --schedule, or search fewer GPU counts")
    found.keys = np.empty(capacity)
    found.step_s = found.keys if objective == "time" else np.empty(capacity)
    used, done, total = 0, 0, int(valid.sum())
    # rows in chunks of at most CHUNK_PLANS plans: the grid's temporaries then come from (and go back to) the
    # allocator's heap instead of fresh pages from the kernel for every array
    chunks = [(piece, k) for index, k in zip(members, widths, strict=True)
              for piece in np.array_split(index, max(1, -(-index.size * k * grid.zero.size // CHUNK_PLANS)))]
    # the blocks share their priced per-layer rows: each stride-free layer row is priced once per search
    if objective == "time" and BRANCH_AND_BOUND and capacity >= BOUND_MIN_PLANS and pricing.bounded:
        # the bounds work on rows, not on the (ZeRO, pairs, rows) grid: larger blocks, fewer passes; every PP in the
        # same blocks, at the widest pair count (the bound's passes cost per block, the padding only on the few rows
        # priced: CPU ms, DeepSeek-V3 on 8,192 GB200 285 -> 206, 4 blocks -> 1; on 512 GB200 ~210 -> ~130)
        bounded = np.flatnonzero(valid)
        bound_chunks = [(piece, width) for piece in np.array_split(bounded, max(1, -(-bounded.size // BOUND_ROWS)))]
        bound_and_price(shape, cluster, profile, found, bound_chunks, table_of, (vpp_table, schedule_table, real),
                         progress, total)
        return found
    with RowMemo.shared(rows, tuple(k for k in LAYER_KEYS if k not in STRIDE_ONLY_KEYS)):
        for index, k in chunks:
            used, done = _search_block(shape, cluster, profile, objective, found, rows, index, k, table_of,
                                       (vpp_table, schedule_table, real), used, done, pricing)
            if progress is not None:
                progress(done, total)
    found.keys, found.step_s = found.keys[:used], found.step_s[:used]
    return found


def _search_block(shape: TransformerShape, cluster: Cluster, profile: Stack, objective: str, found: Found,
                  rows: PlanArrays, index: np.ndarray, k: int, table_of: np.ndarray,
                  tables: tuple[np.ndarray, np.ndarray, np.ndarray], used: int, done: int,
                  pricing: Pricing = FULL) -> tuple[int, int]:
    """Price one block of rows (memory first, step time for rows with a fitting plan) into `found`; returns the
    keys used and the rows done so far."""
    vpp_table, schedule_table, real = tables
    grid = found.grid
    if index.size:
        done += index.size
        at = table_of[index]
        size = index.size * k * grid.zero.size
        require_memory(size * 8.0 * GRID_ARRAYS, f"a search over {size:,} plans",
                       "narrow it with --dtype or --schedule, or search fewer GPU counts")
        vpp, schedule = vpp_table[at, :k], schedule_table[at, :k]
        plan = grid_plan(rows, index, vpp, schedule, grid.zero)
        slots = shape.num_layers + pipeline_extra_layers(profile)  # as `train` checks it (`plan_rules`)
        bad = invalid_pairs(plan, at, real[at, :k], slots, micro_batch_rules(profile))
        found.evaluated += (bad.size - int(np.count_nonzero(bad))) * grid.zero.size  # (a bool sum: ~8x slower)
        # a ZeRO stage the stack refuses at the plan's PP or model parallelism: checked, never feasible (as memory)
        bad = bad | refused_zero(profile, grid, plan, 2)
        # `plan_memory`'s total, in fewer grid passes (a balanced split's stages: `step_time.balanced_split`)
        split = balanced_split(shape, cluster, plan, profile)
        memory = pricing.memory_total(shape, plan, profile, split)
        fits = ~bad & (memory <= cluster.accelerator.memory_bytes)
        found.feasible += int(np.count_nonzero(fits))
        keep = fits.any(axis=(0, 1))
        if keep.any():
            # (the kept rows' pairs and masks read where priced, not copied; a LoRA search's unbounded: `search_rows`)
            if objective == "time" and ROW_BOUND and pricing.bounded:
                kept = None if keep.all() else np.flatnonzero(keep)
                return price_by_bound(shape, cluster, profile, found, rows, (
                    index if kept is None else index[kept], vpp, schedule, fits, kept), used), done
            if not keep.all():  # (every row kept: the grid as it is, with the derived columns it computed; hP2)
                index, vpp, schedule, fits = index[keep], vpp[keep], schedule[keep], fits[:, :, keep]
                memory = memory if objective == "time" else memory[:, :, keep]
            plan = plan if keep.all() else grid_plan(rows, index, vpp, schedule, grid.zero)
            t = pricing.step_time(shape, cluster, plan, profile)
            if objective != "time":
                np.copyto(found.step_s[used:used + fits.size].reshape(fits.shape), t)
            used = keys_into(found, found.keys, used, t if objective == "time" else memory, fits,
                              GridPart(used, index, vpp, schedule))
    return used, done


def no_valid_plan_reason(gpus: int, global_batch: int) -> str:
    """Why no plan was enumerated, with the batches that have one where the batch is the cause (hU53: 1,152 GB200 at
    DeepSeek-V3's 15,360 sequences said only "no valid plan for 1152 GPUs with global batch 15360"): every data-
    parallel degree divides the GPU count, so a multiple of it is divisible by each."""
    text = f"no valid plan for {gpus:,} GPUs with global batch {global_batch:,}"
    if global_batch % gpus == 0:
        return text
    return (f"{text}: each plan's data-parallel degree (GPUs / (TP x CP x PP)) must divide the global batch; a "
            f"multiple of {gpus:,} ({' or '.join(f'{b:,}' for b in nearest_multiples(global_batch, gpus))}) is "
            "divisible by every one")


def search_plans(model: str | TransformerShape, system: str | System | Cluster, gpus: int, seq_len: int,
                 global_batch: int, dtype: str = "auto", top: int = 5, objective: str = "time",
                 cross_node_tp: bool = False, progress: Callable[[int, int], None] | None = None,
                 schedules: Sequence[str | Schedule] = (), stack: str | Stack | None = None,
                 leave_out: Sequence[str] = (), mfu_guard: bool | None = None, sharp: bool = False,
                 memory_margin: float | None = None, compare_dtypes: bool = True, lora_rank: int | None = None,
                 lora_targets: str | None = None, ep_mask: EpMask | None = None,
                 optimizer: str | None = None, dsa_stage: str = "sparse",
                 in_order: list[Callable[[Sequence[int]], PlanSearchResult]] | None = None) -> PlanSearchResult:
    """Search every valid plan; return the best, the top K, and how many were evaluated and fit.

    Every plan is priced under one software stack, as given (None: the default training stack); the search
    never switches on overlap or CUDA graphs the stack does not have, nor tries a pipeline schedule its framework
    does not ship (`schedules` intersected with `Stack.pipeline_schedules`), a ZeRO stage it refuses at the plan's
    pipeline depth or CP it lacks (`training.stack_limits`). `leave_out`: validation case ids whose own
    measurement must not be their published-MFU ceiling (`published_mfu_ceiling`). `mfu_guard`: rank plans above
    that ceiling after those within it; None: on, except on what-if hardware (`catalog.loader.is_what_if`: nothing
    was measured on it, and the guard would pin its best plan at its preset's published MFU); the result names each
    searched precision's ceiling and the plans it ranked after the best (`search_guard.guard_effect`). `sharp`: NCCL
    CollNet on for every plan (`train --sharp`, `training.collnet.sharp_profile`; one line unless the switches do
    SHARP), so ZeRO 0's DP all-reduce reduces in the switches. `memory_margin`: the share of HBM a plan's headroom
    should keep (None: `communicator_buffers.MEMORY_MARGIN_FRACTION`, an ASSUMPTION); plans below it are ranked
    after those with it, as plans beyond the MFU guard are (the two flags one tier). `compare_dtypes`: auto's
    `dtype_choice` names the best plan in each other precision (a top-1 search each; `training.dtype_choice`), as
    `infraplan search` on one GPU count does (the default since hU67: the API's answer is the command's; a caller
    reading only `best`, as validation, passes False).
    `lora_rank`: a frozen base with LoRA adapters on `lora_targets`, as `train --lora-rank` (`search_rows`; a MoE
    model refused); no MFU ceiling, as `train --lora-rank` applies none (`search_guard.frozen_guard`). `ep_mask`:
    the plans of those EP degrees only, no `ep_choice` line (`training.ep_choice`). `optimizer`: as `train`'s.
    `dsa_stage`: sparse | warmup, as `train --dsa-stage` (warmup: every plan priced as DSA's dense warm-up step,
    `dsa_warmup_grid`; no MFU ceiling, as for LoRA). The three choose one pricing kind up front
    (`search_rows.pricing_of`), which the search reads for every kind-specific step. `in_order`: a list the search
    appends its answer in another order to (`said`: every row's index once; `search --tokens`'s runs,
    `planning.search_run.search_with_run`), the lines about the best plan (`dtype_choice`, `ep_choice`, `train`'s
    notes) said of its first row without a second search (hR76; hL75's `first` ran the whole search again).
    """
    seq_len = bounds.TOKENS.check(seq_len, "--seq-len")  # the CLI's bounds, one line as it says them (hK66: top=0
    global_batch = bounds.SEQUENCES.check(global_batch, "--global-batch")  # ran, seq_len=nan was numpy's
    top = bounds.TOP_PLANS_API.check(top, "--top")  # ValueError)
    shape = model if isinstance(model, TransformerShape) else load_model(model)
    pricing = pricing_of(shape, lora_rank, lora_targets, dsa_stage)  # (one line: MoE, bad rank, no indexer, ...)
    profile = training_stack(stack, shape, optimizer)  # with the stack's recipe for the model, --optimizer
    cluster = Cluster.resolve(system, purpose="LLM training").for_gpus(gpus).placed(gpus)  # the job's rank placement
    sys_spec, accelerator = cluster.system, cluster.accelerator
    cluster.check_gpus(gpus)
    cluster.check_layout(gpus)  # (its placement's domains within the system's: hZ2 77)
    cluster.require_accelerator("LLM training")
    profile = sharp_profile(profile, cluster) if sharp else profile  # NCCL CollNet on, as `train --sharp`
    if objective not in ("time", "memory"):
        raise InputError(f"--objective must be time or memory, got {str(objective)[:40]!r}")
    offered = [d.label for d in Dtype if accelerator.supports(d.label)]
    if dtype != AUTO_DTYPE and dtype not in offered:
        raise InputError(f"--dtype {dtype}: {accelerator.name} supports {', '.join(offered)}")
    dtypes, left_out = auto_dtypes(shape, searched_dtypes(profile, offered, dtype), dtype == AUTO_DTYPE)  # the class's
    keep_freed_heap()
    start = time.perf_counter()
    max_tp = gpus if cross_node_tp else sys_spec.node.scale_up_domain
    chosen = tuple(Dtype.parse(d, "--dtype") for d in dtypes)
    pipelines = searched_schedules(profile, tuple(s if isinstance(s, Schedule) else Schedule.parse(s, "--schedule")
                                                  for s in schedules))  # those the stack's framework ships
    flat_zero, piped_zero, cp = searched_limits(profile)  # ZeRO stages (PP = 1, PP > 1), CP its framework ships
    space = SearchSpace(shape, gpus, seq_len, global_batch, chosen, max_tp, 16, pipelines, piped_zero, cp, flat_zero,
                        pipeline_extra_layers(profile), expert_layout(profile),
                        pipeline_split_rule(profile),  # (the even split's PP x VPP: `axes._vpp`)
                        pricing.recompute)  # (a warm-up's modes tie: none alone)
    grid = enumerate_rows(space)
    unguarded = (is_what_if(accelerator) if mfu_guard is None else not mfu_guard) or not pricing.guarded
    # (a what-if part is not held to what its preset was measured at; a causal-scores figure compared like with like)
    guard = search_guard(accelerator.catalog_name, band_stack(profile), leave_out, not unguarded,
                         float(causal_flops_ratio(shape, seq_len)), check_memory_margin(memory_margin), pricing)
    guard = guard if pricing.guarded else frozen_guard(guard.margin, pricing)
    beyond = partial(guard.beyond, shape, cluster, profile)  # (plans, step_s): `Found.best`'s flags
    found = _search_grid(shape, cluster, grid, profile, objective, progress, max(4 * top, 1), (beyond, top),
                         pricing, ep_mask)
    evaluated = found.evaluated
    best_plans = found.best(top, beyond, guard.pinned(shape, cluster) if objective == "time" else None)
    rows: list[PlanMetrics] = []
    if len(best_plans):
        res = pricing.outputs(shape, cluster, best_plans, profile)  # (on `train`'s float path, as its kind)
        band = training_band(accelerator.catalog_name, band_stack(profile), seq_len)
        rows = [pricing.row(guard.row(result_row(res, best_plans, i, accelerator.memory_bytes), band))
                for i in range(len(best_plans))]
        if profile.cpu_offload_layers:  # the layers each plan offloads under the stack (0 where Megatron would not)
            offloaded = np.broadcast_to(offloaded_layers(profile, best_plans, float(shape.num_layers)), len(rows))
            rows = [row.model_copy(update={"config": row.config.model_copy(update={"offload_layers": int(n)})})
                    for row, n in zip(rows, offloaded, strict=True)]
        args = (model if isinstance(model, str) else shape.name, system if isinstance(system, str) else sys_spec.name,
                stack if isinstance(stack, str) else profile.name)
        rows = [row.model_copy(update={"train_command": train_command(args[0], args[1], row.config, args[2], sharp,
                                                                    memory_margin, pricing, optimizer)})
                for row in rows]
    effect = guard_effect(guard, dtypes, shape, cluster, found, profile)  # what the guard and the margin ranked after
    seconds = time.perf_counter() - start
    reason = None
    if not rows:
        reason = (f"{shape.name} ({shape.total_params() / 1e9:.0f}B) in {'/'.join(dtypes)} does not fit "
                  f"{gpus:,} GPU{'s' if gpus != 1 else ''} of {accelerator.memory_bytes / 2**30:.0f} GiB with any plan"
                  if evaluated else why_no_plan(shape, profile, space, cross_node_tp,  # the binding rule, changes
                                                no_valid_plan_reason(gpus, global_batch), pricing.lora))
    other_dtype = cache(lambda d: search_plans(  # each other precision's best (once per search, any order)
        model, system, gpus, seq_len, global_batch, d, 1, objective, cross_node_tp, None, schedules, stack, leave_out,
        mfu_guard, sharp, memory_margin, False, lora_rank, lora_targets, EVERY_EP, optimizer, dsa_stage))
    other_ep = cache(lambda mask, d: search_plans(  # the other kind's best (`ep_choice.other_kind`'s two masks)
        model, system, gpus, seq_len, global_batch, d, 1, objective, cross_node_tp, None, schedules, stack, leave_out,
        mfu_guard, sharp, memory_margin, False, lora_rank, lora_targets, mask, optimizer, dsa_stage).best)

    def said(order: Sequence[int]) -> PlanSearchResult:
        """The answer with the rows in `order`, its lines about the best plan said of the first (`in_order`)."""
        ranked, plans = [rows[i] for i in order], best_plans
        if list(order) != list(range(len(rows))):  # (the order searched: its own plans)
            plans = best_plans.take(np.asarray(order))
        choice = dtype_choice(shape, dtypes, left_out, ranked[0], other_dtype, objective,
                              compare_dtypes) if dtype == AUTO_DTYPE and ranked else None
        why_ep = ep_choice(shape, ranked, other_ep) if ep_mask is None else None
        return PlanSearchResult(
            model=shape.name, system=sys_spec.name, gpus=gpus, objective=objective, stack=profile.name,
            best=ranked[0] if ranked else None, top=ranked, reason=reason, mfu_guard=not unguarded,
            dtype_choice=choice, ep_choice=why_ep, optimizer=profile.optimizer,
            lora_rank=lora_rank, lora_targets=None if pricing.lora is None else pricing.lora.targets,
            dsa_stage=stage_of(shape, pricing.dsa_stage == "warmup"),
            **effect, tie_ranked_after_count=found.tie_passed, evaluated_count=evaluated, feasible_count=found.feasible,
            wall_time_s=seconds, configs_per_s=evaluated / seconds if seconds > 0 else float("inf"),
            # SECONDARY / PRELIMINARY figures, a part for other work; what --sharp moves; what `train` says of the best
            notes=[*figures_notes(accelerator, "training", collectives=gpus > 1),
                   *([search_sharp_note(profile)] if sharp else []),  # then `train`'s, of the best plan (hF53)
                   *pricing.notes(shape, accelerator, profile),  # what `train` says of a LoRA or warm-up step
                   *([sharp_note(ranked[0].config.zero, profile.grad_reduce_all_reduce)] if sharp and ranked else []),
                   *pricing.best_plan_notes(shape, cluster, plans, profile),  # a slower low precision, as `train`
                   *(guard.idle_notes(ranked[0], profile) if ranked else []),  # idle GPUs, host-bound step, as `train`
                   *found.refused, *search_notes(shape, profile, cluster.fabric, sys_spec.node, gpus, bool(ranked)),
                   *job_crossing_notes(sys_spec, gpus),  # NICs slower or faster than the leaf ports, as `train`
                   *(generic_part_notes(accelerator, host=False, node=True) if cluster.generic else []),  # as `train`
                   # the rest `train` says of the best plan: context extension, TP / CP across a domain edge (hW76),
                   # its stack's (MoE routing, Muon, DSA's stage, ...): `plan_notes.train_plan_notes` (hL76), the
                   # lines no other source here says (hD77)
                   *(pricing.kept_notes(train_plan_notes(shape, cluster, plans, profile)) if ranked else [])],
        )

    if in_order is not None:
        in_order.append(said)
    return said(range(len(rows)))
