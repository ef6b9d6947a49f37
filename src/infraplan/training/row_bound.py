"""The plan search's row bound below the branch and bound's grid size (`search.BOUND_MIN_PLANS`), time objective.

Each search row stands for its (vpp, schedule) pairs and ZeRO stages (`row_grid.RowGrid`); its cheap bound
(`step_time.stage_work_bound_s`: the heaviest stage's layer work from the row's stride-free layer terms) is below the
step time of each of its plans (Land & Doig 1960, branch and bound, as `training.search_bounds` uses it). A block's
rows are priced lowest-bounded first, then every row whose bound is within the K-th best step time found (the bar);
the others only when `Found.best` asks for more plans (`Found.resume`). Every key at or below the bar is priced, so
the search's answer is a stable sort of every plan (tests/training/test_search_row_bound_hS40.py). The search's
`RowMemo` keeps the stride-free layer rows the bounds price, so the step time reads them again without pricing.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.expert_dispatch import with_flex_dispatcher
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import Found, GridPart, grid_plan, take_rows
from infraplan.training.row_memo import RowMemo
from infraplan.training.step_time import FREE_KEYS, stage_work_bound_s, step_time

# share of a block's rows, those of the lowest cheap bounds, priced first for that bar (at least those holding K
# fitting plans): a pricing pass costs about as much as ~1,700 rows (instructions per GPT-3 175B search on 4,096 H100,
# whose 1,075 lowest-bounded rows hold the top K: 512 then 563 more 175 M, 1,100 in one pass 153 M, 2,048 164 M, every
# row 185 M; rows within the final bar elsewhere 4-73 %, hS40)
FIRST_BOUND_SHARE = 0.3
# `Found.best` asking for more than K plans (the MFU guard): the skipped rows that can hold this many times as many
# are priced
RESUME_TAKE_FACTOR = 4


def keys_into(found: Found, buffer: np.ndarray, used: int, key_values: np.ndarray, fits: np.ndarray,
               part: GridPart) -> int:
    """A priced part's keys into `buffer` from `used` (inf where no plan fits), its `take` smallest into
    `found.smallest`; returns the keys used after it."""
    n = fits.size
    key = buffer[used:used + n].reshape(fits.shape)
    # the priced key where the plan fits, inf elsewhere: `np.where`'s values, written in place (inf, then the fitting
    # keys copied under the mask: 0.19 ms against where's 0.38 ms on GPT-3's grid, a quarter of it fitting; a masked
    # store of inf after the copy was ~1.3x; hP9)
    key.fill(np.inf)
    np.copyto(key, key_values, where=fits)
    finite = key[fits]
    take = found.take
    found.smallest.append(np.partition(finite, take - 1)[:take] if finite.size > take else finite)
    found.parts.append(part)
    return used + n


def bar_s(found: Found) -> float:
    """The `take`-th smallest key priced so far (inf: fewer fitting plans priced yet)."""
    smallest = np.concatenate(found.smallest) if found.smallest else np.zeros(0)
    return float(np.partition(smallest, found.take - 1)[found.take - 1]) if smallest.size >= found.take else np.inf


def _guardbar_s(found: Found, used: int) -> float:
    """The take-th smallest key priced so far where `Found.best` would find its plans within it (at least
    `found.top` of the plans within it inside the MFU guard, as `best` checks them), else inf: `best` would then
    price the skipped rows anyway, a pass of its own (Llama 3 405B on 131,072 H100: the best plans beyond the
    guard, 4 passes for ~2,600 rows against one for 4,224), so every row is priced now."""
    bar = bar_s(found)  # (the take-th smallest finite key is among each part's `take` smallest: `keys_into`)
    if not bar < np.inf:  # (fewer than `take` fitting plans priced)
        return np.inf
    if found.beyond is None:
        return bar
    keys = found.keys[:used]
    pool = np.flatnonzero(keys <= bar)
    found.flags = pool, np.asarray(found.beyond(found.plans(pool), keys[pool]), dtype=bool)  # (`Found.best` reads them)
    return bar if pool.size - int(np.count_nonzero(found.flags[1])) >= found.top else np.inf


def fitting_counts(fits: np.ndarray) -> np.ndarray:
    """`np.count_nonzero(fits, axis=(0, 1))` of a C-ordered (ZeRO, pairs, rows) mask: each row's fitting plans, its
    (ZeRO x pairs, rows) bytes summed row by row in uint16 (exact below 2^16 plans a row; GPT-3's grid: ~24 against
    ~100 us), as intp."""
    z, k, n = fits.shape
    counts: np.ndarray
    if z * k >= 1 << 16 or not fits.flags.c_contiguous:
        counts = np.count_nonzero(fits, axis=(0, 1))
    else:
        counts = fits.reshape(z * k, n).view(np.uint8).sum(axis=0, dtype=np.uint16).astype(np.intp)
    return counts


def price_by_bound(shape: TransformerShape, cluster: Cluster, profile: Stack, found: Found, rows: PlanArrays,
                    block: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None], used: int) -> int:
    """Step times of a block's rows that hold a fitting plan, under the time objective, only where they can reach
    the top `found.take`; returns the keys used.

    Each row's cheap bound (`step_time.stage_work_bound_s`: its stride-free layer terms, priced once for the step
    time too through the search's `RowMemo`) is below every plan's step time of the row. Without `take` fitting
    plans priced yet, the rows of the lowest bounds holding `take` fitting plans are priced first; then every row
    whose bound is within the bar (the take-th smallest key priced) is, and the others only when `Found.best` needs
    more plans (`found.resume`, as `search_bounds.bound_and_price` leaves them). Every key at or below the bar is
    priced, so the answer is a stable sort of every plan (GPT-3 175B on 4,096 H100: 1,279 of 4,266 rows priced).
    `block`: the rows with a fitting plan (`index`), and the block's pairs and masks with the column of each (`kept`;
    None: its columns in order), read where a row is priced."""
    index, vpp, schedule, fits, kept = block
    buffer = found.keys
    stack = with_flex_dispatcher(profile, cluster.accelerator.catalog_name)  # as `step_time` prices the rows
    bound = stage_work_bound_s(shape, cluster, take_rows(rows, index), stack)

    def price(at: np.ndarray, to: int) -> int:
        column = at if kept is None else kept[at]
        part = GridPart(to, index[at], vpp[column], schedule[column])
        plan = grid_plan(rows, part.rows, part.vpp, part.schedule, found.grid.zero)
        return keys_into(found, buffer, to, step_time(shape, cluster, plan, profile, breakdown=False)["step_time_s"],
                          fits[:, :, column], part)

    bar = bar_s(found)
    priced = np.zeros(index.size, dtype=bool)
    if bar == np.inf:  # no bar yet: the fewest lowest-bounded rows holding `take` fitting plans first
        order = np.argsort(bound, kind="stable")
        counts = fitting_counts(fits)
        reach = np.cumsum((counts if kept is None else counts[kept])[order])
        first = np.sort(order[:max(int(np.searchsorted(reach, found.take)) + 1,
                                   int(FIRST_BOUND_SHARE * index.size))])
        used = price(first, used)
        priced[first] = True
        bar = _guardbar_s(found, used)
    within = np.flatnonzero(~priced & (bound <= bar))
    if within.size:
        used = price(within, used)
    skipped = np.flatnonzero(~priced & (bound > bar))
    if skipped.size:
        earlier = found.resume

        def resume(take: int) -> None:
            """Price the skipped rows whose bound is within the take-th smallest key priced (every one while
            fewer are priced): every key at or below it is then priced (`Found.best`)."""
            nonlocal skipped, earlier
            if earlier is not None:  # (an earlier block's rows first; it leaves `resume` None once all are priced)
                earlier(take)
                earlier = earlier if found.resume is not None else None
            priced_keys = found.keys[found.keys < np.inf]
            wide = RESUME_TAKE_FACTOR * take  # (any bar at or above the take-th smallest key: a few doublings at once)
            within = bound[skipped] <= (np.partition(priced_keys, wide - 1)[wide - 1] if priced_keys.size >= wide
                                        else np.inf)
            if within.any():
                with RowMemo.shared(rows, FREE_KEYS):
                    end = price(skipped[within], found.keys.size)
                found.keys = found.step_s = buffer[:end]
            skipped = skipped[~within]
            found.resume = resume if skipped.size or earlier is not None else None

        found.resume = resume
    return used

