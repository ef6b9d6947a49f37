"""Per-row bounds for the plan search's branch and bound: step-time floors and memory bounds of a row's plans.

A search row (`row_grid.RowGrid`) stands for every (virtual stages, schedule) pair of its PP and every ZeRO stage. The
bounds run the single estimate's own model code on the rows alone (or on rows x one broadcast axis) and hold for
every plan of the row, so the search can skip the grid for rows they settle:
* Step time: `step_time.step_time` adds, per step, the micro-batches' stage work (compute, TP/CP/EP collectives,
  element-wise work and exposed host time: set by the row's layer keys and micro-batch count only) and four terms
  that the broadcast axes change and that are never negative (pipeline bubble, p2p chain, exposed DP traffic,
  optimizer). The stage work alone, priced on the row at vpp 1, 1F1B, ZeRO 0, is a floor for every plan of the
  row; a row whose floor exceeds the K-th best step time found cannot place a plan in the top K (Land & Doig 1960,
  branch and bound). The floor prices the EP all-to-all and the stage split on every row; a cheaper bound below
  it (`step_time.stage_work_bound_s`: the row's stride-free layer terms alone, no per-row pricing) comes first,
  and only rows whose cheap bound is within the bar get a floor.
* Memory: bounds per (ZeRO stage, row) on the memory per GPU of the row's plans (`training.memory_bounds`, whose
  names are importable from here).
`bound_and_price` runs the search's time objective with them (`search._search_grid` above `BOUND_MIN_PLANS` plans):
every block's plans counted from the memory bounds and its rows given cheap bounds; the rows of the lowest cheap
bounds floored and the lowest-floored of them priced (`step_time` on their grid) for a first bar (the K-th best
step time priced so far); every row whose cheap bound is within it floored; then rows priced by rising floor in
batches, the bar falling after each batch, until the next floor is above it (DeepSeek-V3 with EP on 8,192 GB200:
778 of 253k rows priced, ~27k floored; 2026-12-03).
Rows repeating the row before them but in the rank order (`MEMORY_FREE_KEYS`) share its memory bounds, per-plan
memory and counts; where a (ZeRO stage, row) straddles the accelerator's memory its plans are priced one by one
(`memory_bounds.priced_fits`), in slices of `STRADDLE_PLANS`.
Each bound is widened by `ROUNDING_MARGIN` (relative) over the float rounding of the few additions it reorders, so
the search's answer, scores and counts are bitwise those of pricing every plan (tests/training/test_search_bounds.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from infraplan.budget import require_memory
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Schedule
from infraplan.training.main_grad_accumulation import layer_reads_zero, least_work_zero
from infraplan.training.memory_bounds import MEMORY_FREE_KEYS as MEMORY_FREE_KEYS
from infraplan.training.memory_bounds import ROUNDING_MARGIN, memory_bounds_bytes, memory_rows, priced_fits
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import GRID_ARRAYS, Found, GridPart, grid_plan, take_rows
from infraplan.training.plan_rules import pipeline_extra_layers
from infraplan.training.row_memo import RowMemo
from infraplan.training.schedules import in_flight_micro_batches, pair_violations, parameter_copies
from infraplan.training.stack_limits import micro_batch_rules, refused_zero, stack_schedules
from infraplan.training.step_time import FREE_KEYS, balanced_split, stage_work_bound_s, step_time

# plans per slice of the per-plan memory of (ZeRO stage, row) pairs whose bounds straddle the accelerator's memory
STRADDLE_PLANS = 1 << 17
# share of a block's rows with a fitting plan above which every row is floored (the others' floors dropped)
FLOOR_ALL_SHARE = 0.9
# rows priced in the branch and bound's second batch (later batches grow with the rows priced)
FIRST_BATCH_ROWS = 256
# rows of the lowest cheap bounds (`step_time.stage_work_bound_s`) floored to choose the first rows priced
FIRST_FLOOR_ROWS = 2048
# step-time components that the broadcast axes (vpp, schedule, ZeRO) do not change (`step_time.COMPONENTS`)
STAGE_COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "other")


def step_time_floor_s(shape: TransformerShape, cluster: Cluster, rows: PlanArrays, stack: Stack) -> np.ndarray:
    """Per row (1-D rows at vpp 1, 1F1B, ZeRO 0): a lower bound on the step time of each of its plans (seconds).
    Where the stack ships DualPipe, whose ranks pace on a mirrored pair of stages and pair each layer's EP
    all-to-all with the other direction's compute (`mirrored_stages.mirrored_pair_stage`, `step_assembly`), the rows of
    an even PP are priced under it too and the lower of the two kept."""
    if layer_reads_zero(stack):  # (the least layer terms of any ZeRO stage: `least_work_zero`)
        rows = replace(rows, zero=np.full_like(rows.zero, least_work_zero(stack)))
    out = step_time(shape, cluster, rows, stack, stage_only=True)
    floor = out[STAGE_COMPONENTS[0]]
    for k in STAGE_COMPONENTS[1:]:
        floor = floor + out[k]
    mirrored = (rows.pp > 1) & (rows.pp % 2 == 0)
    if Schedule.DUALPIPE in stack_schedules(stack) and np.any(mirrored):
        at = np.flatnonzero(mirrored)
        paired = take_rows(rows, at)
        paired = replace(paired, schedule=np.full(at.size, int(Schedule.DUALPIPE), dtype=paired.schedule.dtype))
        out = step_time(shape, cluster, paired, stack, stage_only=True)
        floor = np.array(floor, dtype=np.float64)
        floor[at] = np.minimum(floor[at], sum(out[k] for k in STAGE_COMPONENTS))
    if stack.pipeline_layouts:  # a layout is chosen by p x v chunks: the vpp-1 stage work bounds no other vpp
        floor = np.where(rows.pp > 1, 0.0, floor)  # (`training.pipeline_layout`; those rows are priced)
    return np.asarray(floor * (1.0 - ROUNDING_MARGIN), dtype=np.float64)


def distinct_combinations(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a row of each distinct non-negative `key`, each row's distinct-key number), numbered in rising key order:
    a table over the key range when it is small against the rows (no sort), else `np.unique`."""
    if not key.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    span = int(key.max()) + 1
    if span > 4 * key.size:
        _, first, combo = np.unique(key, return_index=True, return_inverse=True)
        return first, combo.reshape(-1)
    seen = np.zeros(span, dtype=bool)
    seen[key] = True
    number = np.cumsum(seen) - 1
    combo = number[key]
    first = np.empty(int(number[-1]) + 1, dtype=np.int64)
    first[combo] = np.arange(key.size)  # some row of each key (any: the caller reads only what they share)
    return first, combo


def invalid_pairs(plan: PlanArrays, at: np.ndarray, real: np.ndarray, slots: int, rules: str) -> np.ndarray:
    """The (1, pairs, rows) mask of a search block's invalid (vpp, schedule) pairs (`schedules.pair_violations`).

    Each term reads only the row's pair-table line `at` (its PP, whose pairs the line holds) and its micro-batch count,
    so the mask is computed once per distinct (line, micro-batches) of the block's rows (GPT-3 175B on 4,096 H100:
    a few dozen for 7,026 rows) and gathered onto the rows: element-wise, the same bools (hP9, session 37), as the
    branch and bound's blocks check them (`_bound_block`)."""
    pp, micro_batches = plan.pp.reshape(-1), plan.micro_batches.reshape(-1)  # (the rows' columns, (1, 1, B))
    first, inverse = distinct_combinations(at * (int(micro_batches.max()) + 1) + micro_batches)
    pp, micro_batches = pp[first][None, None], micro_batches[first][None, None]
    vpp, schedule = plan.vpp[..., first], plan.schedule[..., first]  # (1, pairs, distinct)
    bad = pair_violations(real[first].T[None], pp, vpp, schedule, micro_batches, slots, rules)
    return np.take(bad, inverse, axis=-1)  # (C-ordered, rows inner: as the grid terms it meets; hP19)


@dataclass
class BoundBlock:
    """A block's rows that hold a fitting plan, before their step time: pairs, which plans fit, floors.

    Rows of one PP line and micro-batch count share their valid pairs (`usable[:, combo]`). Memory is settled per
    (ZeRO stage, memory row): every valid plan fits (`within`), none does, or the bounds straddle the accelerator's
    memory and the plans that fit are in `exact[:, slot]` (slot -1: settled by the bounds); rows repeating a memory
    row but in `MEMORY_FREE_KEYS` share its entries (`memory_row`).
    """

    index: np.ndarray  # (B,) row indices
    line: np.ndarray  # (B,) each row's line in the (vpp, schedule) pair tables
    width: int  # K: pairs per row (padded)
    usable: np.ndarray  # (K, C) bool
    combo: np.ndarray  # (B,)
    memory_row: np.ndarray  # (B,) each row's memory row (`memory_rows`: its bounds, counts and per-plan memory)
    within: np.ndarray  # (Z, R) bool: every valid plan of this ZeRO stage and memory row fits
    exact: np.ndarray  # (K, S) bool
    slot: np.ndarray  # (Z, R)
    floor_s: np.ndarray  # (B,) lower bound on each row's step times: its floor where `floored`, else a cheap one
    floored: np.ndarray  # (B,) bool: `floor_s` is the row's floor (`search_bounds.step_time_floor_s`)
    fitting: np.ndarray  # (B,) fitting plans per row
    priced: np.ndarray  # (B,) bool: keys computed

    def fits(self, at: np.ndarray) -> np.ndarray:
        """(Z, K, len(at)) fitting plans of rows `at`."""
        held = self.memory_row[at]
        fits: np.ndarray = self.usable[:, self.combo[at]][None] & self.within[:, held][:, None, :]
        zs, bs = np.nonzero(self.slot[:, held] >= 0)
        fits[zs, :, bs] = self.exact[:, self.slot[zs, held[bs]]].T
        return fits


def _bound_block(shape: TransformerShape, cluster: Cluster, profile: Stack, found: Found, index: np.ndarray,
                 k: int, table_of: np.ndarray, tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> BoundBlock | None:
    """Count one block's valid and fitting plans and floor its rows' step times (`training.search_bounds`).

    A row's valid pairs depend only on its PP line and micro-batch count: checked once per such combination.
    Memory per plan is priced only for the (ZeRO stage, row) pairs whose memory bounds straddle the accelerator's
    memory; pairs wholly within it fit with every valid plan, pairs wholly over it with none.
    """
    vpp_table, schedule_table, real = tables
    grid, rows, cap = found.grid, found.grid.rows, cluster.accelerator.memory_bytes
    z = grid.zero.size
    # the bounds' arrays are (Z, rows) and (2, rows); per-plan memory goes in slices of `STRADDLE_PLANS`
    require_memory((index.size * z + STRADDLE_PLANS) * 8.0 * GRID_ARRAYS, f"a search over {index.size * k * z:,} plans",
                   "narrow it with --dtype or --schedule, or search fewer GPU counts")
    line = table_of[index]
    row_plans = take_rows(rows, index)
    batches = row_plans.micro_batches
    first, combo = distinct_combinations(line * (int(batches.max()) + 1) + batches)
    pairs = replace(row_plans.take(first), vpp=vpp_table[line[first], :k].T,
                    schedule=schedule_table[line[first], :k].T)  # (K, C)
    slots = shape.num_layers + pipeline_extra_layers(profile)  # as `train` checks it (`plan_rules`)
    usable = ~pair_violations(real[line[first], :k].T, pairs.pp, pairs.vpp, pairs.schedule, pairs.micro_batches,
                              slots, micro_batch_rules(profile))
    count = usable.sum(axis=0)
    found.evaluated += int(count[combo].sum()) * z
    flight = np.broadcast_to(in_flight_micro_batches(pairs.schedule, pairs.pp, pairs.vpp, pairs.micro_batches),
                             usable.shape)
    copies = np.broadcast_to(parameter_copies(pairs.schedule), usable.shape)
    columns = np.arange(usable.shape[1])
    least = np.where(usable, flight, np.inf).argmin(axis=0)
    most = np.where(usable, flight, -np.inf).argmax(axis=0)
    # memory once per row of another memory row: a row repeating the one before it but in `MEMORY_FREE_KEYS`
    # (the rank order, enumerated last) shares its bounds, per-plan memory and counts
    split = balanced_split(shape, cluster, row_plans, profile)  # (a balanced split's stages: per row)
    fresh = memory_rows(row_plans, split)
    reps, own = np.flatnonzero(fresh), np.cumsum(fresh) - 1  # memory rows; each row's position among them
    held = take_rows(row_plans, reps)
    joint = combo[reps]
    low, high, high_one = memory_bounds_bytes(
        shape, held, (pairs.vpp[least, columns][joint], pairs.schedule[least, columns][joint]),
        (pairs.vpp[most, columns][joint], pairs.schedule[most, columns][joint]),
        np.where(usable, copies, 1.0).max(axis=0)[joint], grid.zero, profile,
        None if split is None else tuple(np.broadcast_to(x, fresh.shape)[reps] for x in split))  # (Z, R)
    if grid.zero_refused is not None or profile.model_parallel_zero_stages is not None:
        refused = refused_zero(profile, grid, held, 1)  # a ZeRO stage the stack refuses there fits no plan
        low, high = np.where(refused, np.inf, low), np.where(refused, np.inf, high)
    valid_row = count[joint] > 0
    within = (high <= cap) & valid_row
    zs, bs = np.nonzero((low <= cap) & (high > cap) & valid_row)  # (ZeRO stage, row) pairs to price per plan
    exact = np.zeros((k, 0), dtype=bool)
    fitting = count[joint] * within.sum(axis=0)
    if bs.size:  # per-plan memory, in slices of about STRADDLE_PLANS plans
        exact = np.empty((k, bs.size), dtype=bool)
        # where even the one-copy plans' upper bound fits, those all fit: only the others (DualPipe) are priced
        multi = usable & (copies > 1.0)
        easy = high_one[zs, bs] <= cap
        for cut, pick in ((np.flatnonzero(easy), multi), (np.flatnonzero(~easy), usable)):
            step = max(1, STRADDLE_PLANS // k)
            for lo in range(0, cut.size, step):
                c = cut[lo:lo + step]
                b = bs[c]
                exact[:, c] = priced_fits(shape, cluster, profile, held.take(b), grid.zero[zs[c]],
                                           (vpp_table[line[reps[b]], :k].T, schedule_table[line[reps[b]], :k].T),
                                           usable[:, joint[b]], pick[:, joint[b]])
        fitting = fitting + np.bincount(bs, weights=exact.sum(axis=0), minlength=reps.size).astype(np.int64)
    slot = np.full(within.shape, -1, dtype=np.int64)
    slot[zs, bs] = np.arange(bs.size)
    fitting = fitting[own]
    found.feasible += int(fitting.sum())
    keep = fitting > 0
    if not keep.any():
        return None
    if keep.all():
        floor_s = stage_work_bound_s(shape, cluster, row_plans, profile)
    else:
        at = np.flatnonzero(keep)
        # most rows fit: bound them all and drop the rest (cheaper than gathering every plan field of the fitting)
        floor_s = stage_work_bound_s(shape, cluster, row_plans, profile)[at] if at.size >= FLOOR_ALL_SHARE * keep.size \
            else stage_work_bound_s(shape, cluster, take_rows(row_plans, at), profile)
        index, line, combo, fitting, own = index[at], line[at], combo[at], fitting[at], own[at]
    return BoundBlock(index, line, k, usable, combo, own, within, exact, slot, floor_s,
                      np.zeros(index.size, dtype=bool), fitting, np.zeros(index.size, dtype=bool))


def _price(shape: TransformerShape, cluster: Cluster, profile: Stack, found: Found, block: BoundBlock,
           chosen: np.ndarray, buffer: np.ndarray, tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Step times of the `chosen` rows of a bounded block into the keys (inf: not a fitting plan)."""
    at = np.flatnonzero(chosen & ~block.priced)
    if not at.size:
        return
    block.priced[at] = True
    grid = found.grid
    fits = block.fits(at)
    vpp_table, schedule_table, _ = tables
    vpp, schedule = vpp_table[block.line[at], :block.width], schedule_table[block.line[at], :block.width]
    plan = grid_plan(grid.rows, block.index[at], vpp, schedule, grid.zero)
    used = found.keys.size
    key = buffer[used:used + fits.size].reshape(fits.shape)
    np.copyto(key, step_time(shape, cluster, plan, profile, breakdown=False)["step_time_s"])
    key[~fits] = np.inf
    finite = key[fits]
    found.smallest.append(np.partition(finite, found.take - 1)[:found.take] if finite.size > found.take else finite)
    found.parts.append(GridPart(used, block.index[at], vpp, schedule))
    found.keys = found.step_s = buffer[:used + fits.size]


def bound_and_price(shape: TransformerShape, cluster: Cluster, profile: Stack, found: Found,
                     chunks: list[tuple[np.ndarray, int]], table_of: np.ndarray,
                     tables: tuple[np.ndarray, np.ndarray, np.ndarray],
                     progress: Callable[[int, int], None] | None, total: int) -> list[BoundBlock]:
    """Branch and bound on the step time: count every block's plans, then price rows by rising floor; returns the
    blocks (which rows were priced, their floors).

    First the rows with the lowest floors that hold `found.take` fitting plans; the take-th smallest step time
    among them is a bar no plan of a row floored above it can pass, so the rows floored within it are priced
    and the rest only when `Found.best` needs more (`found.resume`). Every key at or below the bar is priced.
    """
    blocks: list[BoundBlock] = []
    done = 0
    with RowMemo.shared(found.grid.rows, FREE_KEYS):
        for index, k in chunks:
            if index.size:
                block = _bound_block(shape, cluster, profile, found, index, k, table_of, tables)
                blocks += [block] if block is not None else []
            done += index.size
            if progress is not None:
                progress(done, total)
        capacity = sum(b.index.size * b.width for b in blocks) * found.grid.zero.size
        require_memory(capacity * 8.0, f"a search over {capacity:,} plans",
                       "narrow it with --dtype or --schedule, or search fewer GPU counts")
        buffer = np.empty(capacity)
        found.keys = found.step_s = buffer[:0]
        if not blocks:
            return blocks
        floors = np.concatenate([b.floor_s for b in blocks])  # cheap bounds until floored
        fitting = np.concatenate([b.fitting for b in blocks])
        starts = np.cumsum([0] + [b.floor_s.size for b in blocks])
        floored = np.zeros(floors.size, dtype=bool)

        def floor(at: np.ndarray) -> None:
            """The floors of the rows `at` (positions in `floors`) in place of their cheap bounds (one pass a block)."""
            at = np.sort(at[~floored[at]])
            floored[at] = True
            cuts = np.searchsorted(at, starts)
            for i, block in enumerate(blocks):
                if cuts[i + 1] > cuts[i]:
                    rows = at[cuts[i]:cuts[i + 1]]
                    local = rows - starts[i]
                    floors[rows] = block.floor_s[local] = step_time_floor_s(
                        shape, cluster, take_rows(found.grid.rows, block.index[local]), profile)
                    block.floored[local] = True

        def price(at: np.ndarray) -> float:
            """Price the rows `at` (positions in `floors`); the bar after them (inf: fewer than take plans yet)."""
            chosen = np.zeros(floors.size, dtype=bool)
            chosen[at] = True
            for i, block in enumerate(blocks):
                _price(shape, cluster, profile, found, block, chosen[starts[i]:starts[i + 1]], buffer, tables)
            smallest = np.concatenate(found.smallest)
            return float(np.partition(smallest, found.take - 1)[found.take - 1]) if smallest.size >= found.take \
                else np.inf

        # first the fewest lowest-floored rows holding `take` fitting plans, among the rows of the lowest cheap
        # bounds (only those floored; only the lowest sorted)
        m = min(floors.size, max(FIRST_FLOOR_ROWS, found.take))
        while True:
            floor(np.argpartition(floors, m - 1)[:m] if m < floors.size else np.arange(floors.size))
            candidates = np.flatnonzero(floored)
            low = candidates[np.argsort(floors[candidates], kind="stable")]
            reach = np.cumsum(fitting[low])
            if reach[-1] >= found.take or m == floors.size:
                break
            m = min(floors.size, 4 * m)
        bar_s = price(low[:int(np.searchsorted(reach, found.take)) + 1])
        # and the next lowest-floored of those within that bar, before every row whose cheap bound is within the
        # (lower) bar then gets its floor (the others' floors are above it)
        batch = low[:FIRST_BATCH_ROWS]
        bar_s = price(batch[floors[batch] <= bar_s])
        floor(np.flatnonzero(floors <= bar_s))
        # then the rows floored within that bar by rising floor, in batches growing by half the rows priced so far,
        # while the next floor is within the bar (the take-th smallest key priced, falling as the batches find lower
        # keys): the rows floored within the final bar are all priced, no later ones
        order = np.flatnonzero(floors <= bar_s)
        order = order[np.argsort(floors[order], kind="stable")]
        start, end = 0, FIRST_BATCH_ROWS
        while start < order.size and floors[order[start]] <= bar_s:
            batch = order[start:end]
            bar_s = price(batch[floors[batch] <= bar_s])
            start, end = end, end + max(FIRST_BATCH_ROWS, end // 2)

    def resume(take: int) -> None:
        for block in blocks:
            _price(shape, cluster, profile, found, block, np.ones(block.priced.size, dtype=bool), buffer, tables)
        found.resume = None  # (every row priced)

    if any(not b.priced.all() for b in blocks):
        found.resume = resume
    return blocks
