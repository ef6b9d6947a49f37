"""The plan search's grid: search rows (`row_grid.RowGrid`) times the broadcast axes ((virtual stages, schedule) pairs
of the row's PP, ZeRO stages) as one (Z, K, B) array of plans, and the keys found on it.

`Found` holds every evaluated block's keys back to back and ranks plans as a stable sort of the full cartesian
enumeration (`enumerate_plans`, every plan of `axes.AXES` as one PlanArrays) would: by key, ties by each plan's
position in that enumeration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.training.axes import SearchSpace, enumerate_axes
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.row_grid import RowGrid

# float64 grid arrays alive at once while one block of plans is evaluated (memory terms, step-time terms)
GRID_ARRAYS = 40


def take_rows(plans: PlanArrays, index: np.ndarray) -> PlanArrays:
    """`plans.take(index)` of 1-D plans, keeping a one-value view (`row_grid.enumerate_rows`' fixed columns) a view."""
    index = index if index.dtype.kind in "iu" else np.flatnonzero(index)  # (a mask: its positions)
    # (`c[index]`'s values: `take` gathers a 1-D column ~1.4x faster than fancy indexing; a one-value view as long
    # as the rows taken is sliced, the same read-only stride-0 view `np.broadcast_to` builds at ~10x its cost)
    size = index.size
    return PlanArrays(**{f.name: (c.take(index) if c.strides[0] else c[:size] if c.size >= size
                                  else np.broadcast_to(c[:1], index.shape))
                         for f in fields(plans) for c in (getattr(plans, f.name),)})


def one_plans(plans: PlanArrays) -> list[PlanArrays]:
    """Each plan of 1-D `plans` as its own one-element plan (`PlanArrays.is_one`), in order: `plans.take([i])`'s
    fields and `one_row`, built by `PlanArrays.one_plan` from the columns' Python ints (a single plan's `take` gathers
    20 one-element columns and converts each back, ~5x the cost: the search's best plans and their memory guard)."""
    columns = [getattr(plans, name).tolist() for name in PLAN_FIELDS]
    return [PlanArrays.one_plan(*row) for row in zip(*columns, strict=True)]


def grid_plan(rows: PlanArrays, index: np.ndarray, vpp: np.ndarray, schedule: np.ndarray,
               zero: np.ndarray) -> PlanArrays:
    """ZeRO stages x the rows' (vpp, schedule) pairs ((B, K) given) x rows `index`, as one broadcastable (Z, K, B)
    PlanArrays: the rows vary fastest, so every element-wise pass over the grid runs inner loops of B elements
    (numpy's broadcasting over a short last axis costs ~3-5x a contiguous pass)."""
    taken = take_rows(rows, index)
    columns = {f.name: getattr(taken, f.name)[None, None, :] for f in fields(rows)}
    columns.update(vpp=vpp.T[None], schedule=schedule.T[None], zero=zero[:, None, None])
    return PlanArrays(**columns)


@dataclass
class GridPart:
    """One evaluated block: its rows, their (vpp, schedule) pairs, and where its (Z, K, B) keys start."""

    start: int
    rows: np.ndarray  # (B,) row indices
    vpp: np.ndarray  # (B, K)
    schedule: np.ndarray  # (B, K)


@dataclass
class Found:
    """The surviving rows, their (vpp, schedule) pairs, keys and step times; ranks plans as a stable sort of the
    full enumeration would.

    `keys` holds every part's (Z, K, B) grid flattened, back to back (inf: not a fitting plan); `step_s` the
    step times in the same layout (the keys themselves under the time objective).
    """

    grid: RowGrid
    evaluated: int = 0
    feasible: int = 0
    parts: list[GridPart] = field(default_factory=list)
    take: int = 1  # the first pool size `best` asks for
    smallest: list[np.ndarray] = field(default_factory=list)  # each block's `take` smallest keys
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0))
    step_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # rows the bound skipped and the call that prices those that can hold the `take` (its argument) smallest keys
    # (`best` needs them only past the first pool); None once every row is priced
    resume: Callable[[int], None] | None = None
    # the MFU guard `best` applies and the plans it returns, where known while pricing (`search._guard_bar_s`)
    beyond: Callable[[PlanArrays, np.ndarray], np.ndarray] | None = None
    top: int = 1
    # flat positions `beyond` has flagged while pricing and its flags (`row_bound._guardbar_s`), not checked again
    flags: tuple[np.ndarray, np.ndarray] | None = None
    # flat positions of the plans `best` ranked after its first for `beyond`'s flags though their keys are below its
    # (what the guard did: `search_guard.guard_effect`); set by `best`
    passed_over: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # plans within the guard's flags keyed below `best`'s first that its tie band ranked after it (a simpler layout
    # within GUARD_TIE_SHARE; hG85); set by `best`
    tie_passed: int = 0
    # one line per framework refusal that pruned rows (`plan_rules.framework_refusals`)
    refused: list[str] = field(default_factory=list)

    def _locate(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(row index, pair position, vpp, schedule, ZeRO position) of each flat position."""
        starts = np.array([p.start for p in self.parts], dtype=np.int64)
        which = np.searchsorted(starts, flat, side="right") - 1
        row, pair, vpp, schedule, z = (np.zeros(flat.size, dtype=np.int64) for _ in range(5))
        for i, part in enumerate(self.parts):
            at = np.flatnonzero(which == i)
            if at.size:
                z[at], pair[at], b = np.unravel_index(flat[at] - part.start,
                                                      (self.grid.zero.size, part.vpp.shape[1], part.rows.size))
                row[at], vpp[at], schedule[at] = part.rows[b], part.vpp[b, pair[at]], part.schedule[b, pair[at]]
        return row, pair, vpp, schedule, z

    def plans(self, flat: np.ndarray) -> PlanArrays:
        """The plans at these flat positions."""
        row, _, vpp, schedule, z = self._locate(flat)
        return replace(self.grid.rows.take(row), vpp=vpp, schedule=schedule, zero=self.grid.zero[z])

    def _ranked(self, pool: np.ndarray) -> np.ndarray:
        """`pool` sorted by key, ties in the order of the full cartesian enumeration."""
        g = self.grid
        row, pair, _, _, z = self._locate(pool)
        rank = g.rank[row] + pair * g.pair_stride[row] + z * g.zero_stride[row]
        return pool[np.lexsort((rank, self.keys[pool]))]

    def _band_open(self, pool: np.ndarray, over: np.ndarray, within: np.ndarray, bar: float) -> bool:
        """Whether `best` must widen its pool for the guard's tie band: a flagged plan (for either flag: a pool a
        little wider than needed costs pricing only) is keyed below the first within the ceiling and keys up to
        GUARD_TIE_SHARE above that first one may lie beyond the pool's `bar`."""
        if not within.size or bar == np.inf:
            return False
        first = float(self.keys[within].min())
        return bool(np.any(self.keys[pool[over]] < first)) and bar < first * (1.0 + GUARD_TIE_SHARE)

    def _simplest(self, ranked: np.ndarray) -> np.ndarray:
        """`ranked` (in `_ranked`'s order) stably re-sorted toward the simpler layout: no recompute first, then
        the smaller CP, then fewer of TP and PP above 1, then the smaller PP (hG85). The order of published
        recipe plans: Megatron-Bridge 0.3.1 recipes/llama/llama3.py's pretrain configs recompute nothing
        (`recompute_granularity = None`) and raise CP with the sequence (8B: CP2 at 8k, CP4 at 64k; 70B: CP2 at 8k
        and 16k, CP8 at 64k; 405B: CP4 at 128k); Llama 3 (arXiv:2407.21783) Table 4 runs 405B at 8k with CP1
        (TP8 PP16) and takes CP16 only at 128k; NVIDIA's measured rows (frontier_measured.csv H004 405B TP4 PP16
        CP1, H012 70B TP4 PP8 CP1, H010 70B FSDP TP1 PP1) add a dimension only where memory needs it."""
        plans = self.plans(ranked)
        tp, cp, pp, recompute = (np.broadcast_to(getattr(plans, name), ranked.shape)
                                 for name in ("tp", "cp", "pp", "recompute"))
        dims = (tp > 1).astype(np.int64) + (pp > 1)
        return ranked[np.lexsort((pp, dims, cp, recompute))]  # (stable: equal layouts keep their key order)

    def best(self, top: int, beyond: Callable[[PlanArrays, np.ndarray], np.ndarray],
             pinned: Callable[[PlanArrays, np.ndarray], np.ndarray] | None = None) -> PlanArrays:
        """The `top` fitting plans: within the published MFU first, then by key, then in enumeration order.

        `beyond(plans, step_s)` flags plans over the MFU ceiling; it runs only on the plans with the lowest
        keys (doubling their number until `top` are within the ceiling or every fitting plan is checked).
        `pinned(plans, step_s)` (None: no tie band) flags those of `beyond`'s plans that are over the MFU ceiling:
        where one is keyed below the first plan within (the ceiling, not the model, chose the answer: that plan's
        time is pinned just under the ceiling's), the plans within GUARD_TIE_SHARE of it come first in
        `_simplest`'s order (hG85); the pool then holds every key up to that band.
        """
        keys = self.keys
        take = max(4 * top, 1)
        # each plan's flag is its own (`beyond` is element-wise): a plan checked in an earlier round is not checked
        # again (keys are appended by `resume`, never moved; hP17, session 41)
        checked, flagged = np.zeros(keys.size, dtype=bool), np.zeros(keys.size, dtype=bool)
        if self.flags is not None:  # (positions and keys never move: the same plans and step times, the same flags)
            checked[self.flags[0]], flagged[self.flags[0]] = True, self.flags[1]
        head: tuple[np.ndarray, np.ndarray] | None = None
        while True:
            if take > self.take and self.resume is not None:  # past the bound's pool: price the skipped rows
                self.resume(take)  # (those that can hold the take smallest keys, or every one)
                keys = self.keys
            if self.feasible > take:  # everything tying with the take-th key stays in: ties break by rank below
                # the take smallest of all are among each block's take smallest (kept while evaluating)
                if take <= self.take:
                    bar = float(np.partition(np.concatenate(self.smallest), take - 1)[take - 1])
                else:  # (the take-th smallest of all keys: `head`'s, see `_head_of`)
                    head = _head_of(keys, take, head)
                    bar = float(head[1][take - 1])
                pool = np.flatnonzero(keys <= bar)
            else:
                bar, pool = np.inf, np.flatnonzero(keys < np.inf)
            if checked.size < keys.size:
                checked, flagged = (np.concatenate([a, np.zeros(keys.size - a.size, dtype=bool)])
                                    for a in (checked, flagged))
            fresh = pool[~checked[pool]]
            if fresh.size:
                flagged[fresh], checked[fresh] = beyond(self.plans(fresh), self.step_s[fresh]), True
            over = flagged[pool]
            within = pool[~over]
            if pool.size == self.feasible or within.size >= top and not (
                    pinned is not None and self._band_open(pool, over, within, bar)):
                break
            take *= 2
        picked = self._ranked(within)
        first, self.tie_passed = (keys[picked[0]] if picked.size else np.inf), 0
        below = pool[over][keys[pool[over]] < first]  # (flagged plans keyed below the first within)
        if (GUARD_TIE_SHARE > 0 and pinned is not None and picked.size and below.size
                and np.any(pinned(self.plans(below), self.step_s[below]))):
            # the MFU ceiling chose: the plans within its tie band, simplest layout first
            tied = keys[picked] <= first * (1.0 + GUARD_TIE_SHARE)
            picked = np.concatenate([self._simplest(picked[tied]), picked[~tied]])
            self.tie_passed = int(np.count_nonzero(keys[picked] < keys[picked[0]]))
        picked = picked[:top]
        # every plan keyed below the first within the ceiling is in the pool (its key is at most the pool's bar) and
        # flagged (else it would come first): the plans the guard ranked after it
        flagged_pool = pool[over]
        self.passed_over = (flagged_pool[keys[flagged_pool] < keys[picked[0]]] if picked.size
                            else np.zeros(0, dtype=np.int64))
        if picked.size < top:  # every fitting plan was checked: the rest are over the ceiling
            picked = np.concatenate([picked, self._ranked(pool[over])[:top - picked.size]])
        return self.plans(picked)


# the guard's tie band: where the guard chose the answer, plans within this share of its first plan within the
# ceiling are ranked simplest layout first (`Found._simplest`; hG85). ASSUMPTION: 1 %, a fifth of the gated training
# set's mean error (5.9 %): the model cannot order plans this close, and the guard pins their reported time at the
# ceiling anyway
GUARD_TIE_SHARE = 0.01

# `Found.best`'s order statistics: the smallest HEAD_FACTOR x take keys, sorted once for the rounds after
HEAD_FACTOR = 64


def _head_of(keys: np.ndarray, take: int,
             head: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """(`keys`, the smallest HEAD_FACTOR x `take` finite keys sorted): `head` itself while it is of these keys and
    holds `take` of them. Its take-th is the take-th smallest finite key, as `np.partition(finite, take - 1)` gives
    it (the same value); one partition of every key for `best`'s doubling rounds instead of one a round (Mixtral
    8x7B on 128 H100: 6 partitions of 331k keys, ~a fifth of the search; hP17, session 41)."""
    if head is not None and head[0] is keys and head[1].size >= take:
        return head
    finite = keys[keys < np.inf]
    k = min(HEAD_FACTOR * take, finite.size)
    return keys, np.sort(np.partition(finite, k - 1)[:k] if k < finite.size else finite)


def enumerate_plans(shape: TransformerShape, gpus: int, seq_len: int, global_batch: int,
                    dtypes: Sequence[str | Dtype], max_tp: int, max_vpp: int = 16,
                    schedules: Sequence[str | Schedule] = (), context_parallel: bool = True) -> PlanArrays:
    """Every candidate plan (valid or not yet checked) as PlanArrays, from the axes declared in `axes.AXES`.

    `schedules` restricts the pipeline schedules tried (default: every registered one), `context_parallel` False
    keeps CP 1 (a stack without CP, `training.stack_limits`; its refused ZeRO stages stay, as in the search).
    """
    chosen = tuple(d if isinstance(d, Dtype) else Dtype.parse(d, "--dtype") for d in dtypes)
    pipelines = tuple(s if isinstance(s, Schedule) else Schedule.parse(s, "--schedule") for s in schedules)
    return enumerate_axes(SearchSpace(shape, gpus, seq_len, global_batch, chosen, max_tp, max_vpp, pipelines,
                                      context_parallel=context_parallel))
