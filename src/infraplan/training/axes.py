"""The plan axes, declared once: how the search enumerates each `PlanArrays` field, and what it changes.

Every `PlanArrays` field is one `Axis` in `AXES`, with
* `candidates(space, chosen)`: the values the search tries, given the search request and the values
  already chosen for the outer axes (TP, CP, PP and DP are nested Python loops; the other axes form one
  numpy grid per outer combination);
* `layer`: whether the per-layer and LM-head times depend on it (so `step_time` caches them per distinct
  combination of these fields: `LAYER_KEYS`);
* `comm`: whether the pipeline p2p and data-parallel collective times depend on it (`COMM_KEYS`).
A field missing from a key set would let plans that differ in it silently share cached rows;
tests/training/test_axes.py perturbs every field to catch that.
The rows the search prices (every axis but the broadcast ones) are `row_grid.enumerate_rows`'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from infraplan.budget import require_memory
from infraplan.catalog.model_config import TransformerShape
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.pipeline_split_rule import searched_vpps as _vpp
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES
from infraplan.training.stack_limits import ZERO_STAGES as ZERO_STAGES

MICRO_BATCHES = (1, 2, 4, 8, 16)
CONTEXT_PARALLEL = (1, 2, 4, 8, 16)
# the enums' members, listed once (iterating an Enum costs microseconds, once per outer combination otherwise)
RECOMPUTE_MODES = tuple(Recompute)
RANK_ORDERS = tuple(RankOrder)


@dataclass(frozen=True)
class SearchSpace:
    """What the search was asked: the model, GPU count, sequence, batch, dtypes and limits."""

    shape: TransformerShape
    gpus: int
    seq_len: int
    global_batch: int
    dtypes: tuple[Dtype, ...]
    max_tp: int
    max_vpp: int = 16
    schedules: tuple[int, ...] = ()  # pipeline schedules to try at PP > 1 (PP = 1 runs none); empty: every one
    pipeline_zero: tuple[int, ...] = ()  # ZeRO stages the stack runs with PP > 1 (`training.stack_limits`); (): all
    context_parallel: bool = True  # False: the stack ships no CP, only CP 1 is tried
    zero_stages: tuple[int, ...] = ()  # ZeRO stages the stack runs with PP = 1 (`training.stack_limits`); (): all
    extra_layers: int = 0  # pipeline slots beyond the layers (embedding / loss: `plan_rules.pipeline_extra_layers`)
    expert_layout: int = 0  # where the stack lays the expert groups (`stack_limits.expert_layout`; one per search)
    divisible: tuple[tuple[int, int], ...] | None = None  # the even split's rule (`pipeline_split_rule`: LaidOut)
    recompute: tuple[int, ...] = ()  # the recompute modes tried (`Recompute` codes); (): every one


Chosen = Mapping[str, int]


@dataclass(frozen=True)
class Axis:
    """One plan field: its candidate values in a search and the cached times it changes."""

    field: str
    candidates: Callable[[SearchSpace, Chosen], Sequence[int]]
    layer: bool
    comm: bool
    outer: bool = False  # enumerated in a Python loop: later axes' candidates may depend on its value
    given: str | None = None  # an earlier inner axis this one's candidates depend on (enumerated jointly)
    # the (given value, candidate) pairs for a list of given values at once, in the order `candidates` per value
    # would list them (the same pairs; one vectorised call instead of one per value)
    pairs: Callable[[SearchSpace, Chosen, Sequence[int]], list[tuple[int, int]]] | None = None
    broadcast: bool = False  # the search evaluates it as an extra array dimension, not as enumerated rows
    # the outer fields `candidates` reads of `chosen` (None: any): `enumerate_rows` lists the candidates once per
    # distinct value of those (once per search where it reads none; tests/training/test_axes_reads_hP19.py)
    reads: tuple[str, ...] | None = None


@lru_cache(maxsize=4096)
def _divisors(n: int) -> tuple[int, ...]:
    """The divisors of n, ascending (kept: a search asks for the same few numbers once per outer combination)."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(small + [n // d for d in reversed(small) if d * d != n])


def _tp(s: SearchSpace, c: Chosen) -> list[int]:
    return [t for t in _divisors(s.shape.num_heads) if t <= s.max_tp and s.gpus % t == 0]


def _cp(s: SearchSpace, c: Chosen) -> list[int]:
    # CP 1 splits nothing (any length); CP > 1 cuts 2 x CP load-balanced chunks (`plan_rules`)
    return [x for x in CONTEXT_PARALLEL if x == 1 or (s.seq_len % (2 * x) == 0 and s.context_parallel)]


def _pp(s: SearchSpace, c: Chosen) -> list[int]:
    rest, cp, slots = s.gpus // c["tp"], c["cp"], s.shape.num_layers + s.extra_layers
    return [p for p in _divisors(rest) if rest % (p * cp) == 0 and p <= slots and _vpp(s, {"pp": p})]


def _dp(s: SearchSpace, c: Chosen) -> list[int]:
    return [s.gpus // (c["tp"] * c["pp"] * c["cp"])]


def _ep(s: SearchSpace, c: Chosen) -> list[int]:
    """EP degrees dividing the experts and the stage's TP x CP x DP ranks (MoE parallel folding lets EP span TP
    and CP; with expert TP = TP the plan rules keep only those dividing DP)."""
    ranks = c["tp"] * c["cp"] * c["dp"]
    return [e for e in _divisors(ranks) if s.shape.num_experts % e == 0] if s.shape.is_moe else [1]


def _etp(s: SearchSpace, c: Chosen) -> list[int]:
    """Expert TP: 0, following the attention's TP (Megatron-Core's default), or 1 (the Megatron-Bridge MoE
    recipes' choice with folding) where TP > 1; dense models: 0."""
    return [0, 1] if s.shape.is_moe and c["tp"] > 1 else [0]


def _micro_batch(s: SearchSpace, c: Chosen) -> list[int]:
    return [m for m in MICRO_BATCHES if s.global_batch % (c["dp"] * m) == 0]


def _order(s: SearchSpace, c: Chosen) -> list[int]:
    both = c["pp"] > 1 and c["dp"] > 1  # the order only matters then
    return list(RANK_ORDERS) if both else [RankOrder.TP_CP_PP_DP]


def _tried(s: SearchSpace, code: int, pp: int) -> bool:
    """Whether the search tries `code` at this PP: asked for (or none asked), or PP = 1, where no pipeline schedule
    runs (the plan carries 1F1B's code; `training.schedules.searched_schedules` leaves 1F1B out of DualPipe-only
    stacks)."""
    return not s.schedules or code in s.schedules or pp == 1


def _schedule(s: SearchSpace, c: Chosen) -> list[int]:
    """Each asked-for (or registered) schedule that can run this PP and VPP."""
    return [code for code, model in PIPELINE_SCHEDULES.items()
            if _tried(s, code, c["pp"]) and bool(model.valid(c["pp"], c["vpp"]))]


def _schedule_pairs(s: SearchSpace, c: Chosen, vpps: Sequence[int]) -> list[tuple[int, int]]:
    """`(vpp, schedule)` for each of `vpps` and each of its `_schedule` candidates, in that order: every schedule's
    rule evaluated once on all the VPP values (the rules are element-wise)."""
    models = [(code, model) for code, model in PIPELINE_SCHEDULES.items() if _tried(s, code, c["pp"])]
    vpp = np.asarray(vpps, dtype=np.int64)
    valid = [_bools(model.valid(c["pp"], vpp), vpp.shape) for _, model in models]
    return [(int(v), int(code)) for i, v in enumerate(vpp) for (code, _), ok in zip(models, valid, strict=True)
            if ok[i]]


def _bools(verdict: object, shape: tuple[int, ...]) -> np.ndarray:
    """A rule's verdict as bools of `shape`: an array of that shape as it is (the listing above only indexes it), else
    broadcast (`np.broadcast_to`, ~3 us a call, asked once per rule and outer combination)."""
    ok = np.asarray(verdict, dtype=bool)
    return ok if ok.shape == shape else np.broadcast_to(ok, shape)


def _fixed(value: Callable[[SearchSpace], int]) -> Callable[[SearchSpace, Chosen], list[int]]:
    return lambda s, c: [value(s)]


AXES: tuple[Axis, ...] = (
    Axis("tp", _tp, layer=True, comm=True, outer=True),
    Axis("cp", _cp, layer=True, comm=True, outer=True),
    Axis("pp", _pp, layer=True, comm=True, outer=True),
    Axis("dp", _dp, layer=False, comm=True, outer=True),  # DP collectives (the EP stride is tp, cp, pp, order)
    Axis("vpp", _vpp, layer=False, comm=False, broadcast=True),
    Axis("ep", _ep, layer=True, comm=True, reads=("tp", "cp", "dp")),
    Axis("etp", _etp, layer=True, comm=True, reads=("tp",)),  # expert GEMM widths, TP pairs, EP stride; expert DP
    Axis("micro_batch", _micro_batch, layer=True, comm=True, reads=("dp",)),
    Axis("recompute", lambda s, c: list(s.recompute or RECOMPUTE_MODES), layer=True, comm=False, reads=()),
    Axis("zero", lambda s, c: list(ZERO_STAGES), layer=False, comm=False, broadcast=True),
    Axis("dtype", lambda s, c: list(s.dtypes), layer=True, comm=False, reads=()),
    Axis("order", _order, layer=True, comm=True, reads=("pp", "dp")),
    Axis("schedule", _schedule, layer=False, comm=False, given="vpp", broadcast=True, pairs=_schedule_pairs),
    Axis("global_batch", _fixed(lambda s: s.global_batch), layer=False, comm=False, reads=()),
    Axis("seq_len", _fixed(lambda s: s.seq_len), layer=True, comm=True, reads=()),
    Axis("attention", lambda s, c: [Attention.FLASH], layer=True, comm=False, reads=()),
    Axis("sequence_parallel", lambda s, c: [1], layer=True, comm=False, reads=()),
    # block recompute depth: the search recomputes whole layers (0); step_time mixes the per-layer times
    Axis("recompute_layers", lambda s, c: [0], layer=False, comm=False, reads=()),
    # the stack's expert layout (one per search): the EP stride and the expert DP group (`PlanArrays.ep_stride`)
    Axis("expert_layout", lambda s, c: [s.expert_layout], layer=True, comm=True, reads=()),
    # the ZeRO shard group (`training.hybrid_shard`): not searched (0: all of DP x CP); the DP traffic reads it
    Axis("zero_shard", lambda s, c: [0], layer=False, comm=True, reads=()),
)

# the fields per-layer and LM-head times depend on; plans differing only in the others share them
LAYER_KEYS: tuple[str, ...] = tuple(a.field for a in AXES if a.layer)
# the fields pipeline p2p and data-parallel traffic depend on
COMM_KEYS: tuple[str, ...] = tuple(a.field for a in AXES if a.comm)

if {a.field for a in AXES} != {f.name for f in fields(PlanArrays)} or len(AXES) != len(fields(PlanArrays)):
    raise AssertionError("AXES must declare every PlanArrays field exactly once")
# the axes the search broadcasts: no cached term depends on them, and their candidates depend only on PP
BROADCAST_KEYS: tuple[str, ...] = tuple(a.field for a in AXES if a.broadcast)
_OUTER_AXES: tuple[Axis, ...] = tuple(a for a in AXES if a.outer)  # the looped axes, in loop order
if any(a.layer or a.comm or a.outer for a in AXES if a.broadcast):
    raise AssertionError("a broadcast axis must change no cached layer or communication term")


def inner_grid(space: SearchSpace, chosen: Chosen,
                inner: list[Axis]) -> list[tuple[tuple[str, ...], NDArray[np.int64]]]:
    """The inner axes as grid dimensions: (fields, candidate values as rows of a (fields, k) array).

    An axis `given` another is enumerated jointly with it: one dimension of (value, dependent value) pairs,
    at the position of the axis it depends on.
    """
    dims: list[tuple[tuple[str, ...], NDArray[np.int64]]] = []
    dependents = {a.given: a for a in inner if a.given is not None}
    for axis in inner:
        if axis.given is not None:
            continue
        values = list(axis.candidates(space, chosen))
        dependent = dependents.get(axis.field)
        if dependent is None:
            dims.append(((axis.field,), np.asarray([values], dtype=np.int64).reshape(1, -1)))
            continue
        pairs = (dependent.pairs(space, chosen, values) if dependent.pairs is not None else
                 [(v, d) for v in values for d in dependent.candidates(space, {**chosen, axis.field: int(v)})])
        dims.append(((axis.field, dependent.field), np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T))
    return dims


def outer_combinations(space: SearchSpace, level: int = 0,
                        chosen: dict[str, int] | None = None) -> Iterator[dict[str, int]]:
    """Every combination of the outer (looped) axes in loop order (level by level), each axis's given those before."""
    combinations = [chosen or {}]
    for axis in _OUTER_AXES[level:]:
        field, candidates = axis.field, axis.candidates
        combinations = [{**before, field: int(value)} for before in combinations
                        for value in candidates(space, before)]
    return iter(combinations)


def enumerate_axes(space: SearchSpace) -> PlanArrays:
    """Every candidate plan (valid or not yet checked): outer axes looped, inner axes as one grid per loop.

    Plans come in loop order, the grid in C order (the last inner axis varies fastest).
    """
    inner = [a for a in AXES if not a.outer]
    blocks: list[tuple[dict[str, int], list[tuple[tuple[str, ...], NDArray[np.int64]]], int]] = []
    for chosen in outer_combinations(space):
        dims = inner_grid(space, chosen, inner)
        n = int(np.prod([values.shape[1] for _, values in dims]))
        if n:
            blocks.append((chosen, dims, n))
    total = sum(n for _, _, n in blocks)
    # the candidate columns (int64 per axis), their valid copy and the kept index/key: ~2 x 8 B per axis + 16 B
    require_memory(total * (16.0 * len(AXES) + 16.0), f"a search over {total:,} candidate plans",
                   "narrow it with --dtype or --schedule, or search fewer GPU counts")
    columns = {a.field: np.empty(total, dtype=np.int64) for a in AXES}
    lo = 0
    for chosen, dims, n in blocks:
        hi = lo + n
        for name, value in chosen.items():
            columns[name][lo:hi] = value
        before = 1
        for names, values in dims:
            k = values.shape[1]
            if k == 1:
                for name, row in zip(names, values, strict=True):
                    columns[name][lo:hi] = row[0]
                continue
            index = np.tile(np.repeat(np.arange(k), n // (before * k)), before)
            for name, row in zip(names, values, strict=True):
                columns[name][lo:hi] = row[index]
            before *= k
        lo = hi
    return PlanArrays(**columns)
