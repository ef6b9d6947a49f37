"""Parallel plans as arrays: one element per configuration, the same code for one plan or millions.

A plan maps a model onto `tp * cp * pp * dp` accelerators. Ranks are placed on nodes in order; TP is
innermost, then CP, then either PP and DP outermost (`tp-cp-pp-dp`, the Llama 3 order, keeps pipeline
neighbours close and lets DP cross pods) or DP and PP outermost (`tp-cp-dp-pp`, Megatron-LM's default).
Expert parallelism (EP) is the innermost factor of DP while the experts are split like the attention (expert
tensor parallelism ETP = TP, Megatron-Core's default). MoE parallel folding (Liu et al. 2025, arXiv:2504.14960;
Megatron-Core `--expert-tensor-parallel-size`): when ETP differs from TP, the ranks of one pipeline stage
(TP x CP x DP of the attention) are re-read for the expert layers as ETP (innermost), EP, then expert data
parallelism (EDP = TP x CP x DP / (EP x ETP)); `ep_stride`, `edp` and `edp_stride` place those groups, and EP
need not divide DP (EP x ETP must divide TP x CP x DP). With ETP = TP, EP stays inside DP (the layer times then
do not depend on DP, which the search's per-layer cache relies on), unless the stack lays its experts over the
stage at any ETP (`expert_layout`, the stack's `expert_parallel_layout`, hE3 session 39): megatron-core >= 0.10.0
builds a separate expert rank generator (ETP, EP, EDP, PP; parallel_state.py 0.10.0:643-663, 0.16.1:785-806), so
EP x ETP | TP x CP x DP at ETP = TP too (0.9.0 parallel_state.py:536 still required EP | DP), and torchtitan 0.3.0
lays EP innermost over dp_shard x CP x TP (distributed/parallel_dims.py:278-279, sparse mesh (pp, dp_replicate,
efsdp, ep)). `experts_over_stage` is that layout; `folded` stays "expert TP differs from TP" (the layer kernels'
question). The folded strides depend on TP, CP, PP, the order and ETP, never on DP either. Variants (dtype,
recompute, attention kernels, rank order, pipeline schedule) are integer codes of the enums in `training.enums`.

Pipeline model chunks (PP x VPP) may not exceed the layers to split: the transformer layers, plus the embedding
and the LM head + loss where the stack's even split counts them as layers (Megatron-Core
`account_for_embedding_in_pipeline_split` / `account_for_loss_in_pipeline_split`; NeMo's Llama 3.1 405B NVFP4
recipe runs PP16 x VP8 = 128 chunks over 126 layers + embedding + loss; `pipeline_extra_layers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from infraplan.training.enums import STACK_ORDER, Attention, Dtype, LabelledEnum, RankOrder, Recompute, Schedule
from infraplan.training.plan_columns import TP_CP_PP_DP as _TP_CP_PP_DP  # (its code as an int)
from infraplan.training.plan_columns import cached_property, derive_one_row
from infraplan.training.schedules import default_schedule
from infraplan.training.stack_limits import EP_INSIDE_DP

# CLI strings in code order (kept for callers that index them; the enums are the source)
RECOMPUTE_MODES = Recompute.labels()
DTYPES = Dtype.labels()
ATTENTION_KINDS = Attention.labels()
ORDERS = RankOrder.labels()
SCHEDULES = Schedule.labels()

IntArray = NDArray[np.int64]
_PLAIN: tuple[type[Any], ...] = (int, float, bool)  # `scalar_path.is_plain`'s types, tested inline (issue 18)


@dataclass(frozen=True)
class PlanArrays:
    """Struct of integer arrays, all of one length.

    `recompute` holds `Recompute` codes, `dtype` `Dtype`, `attention` `Attention` (fused FlashAttention-style
    kernels, or the unfused score matrix of Megatron-LM before 2023), `order` `RankOrder`, `schedule`
    `Schedule` (the pipeline schedule, see `training.schedules`), `sequence_parallel` 1/0 (Korthikanti et al.
    2022; earlier Megatron replicated norms and dropout over TP).
    """

    tp: IntArray
    pp: IntArray
    dp: IntArray
    cp: IntArray
    ep: IntArray
    etp: IntArray
    vpp: IntArray
    micro_batch: IntArray
    global_batch: IntArray
    seq_len: IntArray
    recompute: IntArray
    zero: IntArray
    dtype: IntArray
    attention: IntArray
    order: IntArray
    sequence_parallel: IntArray
    schedule: IntArray
    # block recompute (Megatron-Core `--recompute-method block --recompute-num-layers k`): with full recompute,
    # only the first k layers of each model chunk are recomputed; 0 = every layer (uniform). Optional: it
    # takes the shape of `tp` when not given.
    recompute_layers: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    # how the stack lays the routed experts' groups (`EP_INSIDE_DP`, `EP_OVER_STAGE`, `EP_OVER_STAGE_SAME_PP`:
    # `stack_limits.expert_layout`); optional like `recompute_layers` (0: EP inside DP at ETP = TP, as before)
    expert_layout: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    # the ranks ZeRO shards over (hybrid sharding, `training.hybrid_shard`); optional, 0: all of DP x CP, as before
    zero_shard: IntArray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    def __post_init__(self) -> None:
        if type(self.tp) is np.ndarray and self.recompute_layers.shape == self.tp.shape and (
                self.expert_layout.shape == self.tp.shape) and self.zero_shard.shape == self.tp.shape:
            return  # the usual case, without np.shape's per-call cost
        for name in ("recompute_layers", "expert_layout", "zero_shard"):
            column = getattr(self, name)
            if column.size == 1 and np.shape(column) != np.shape(self.tp):
                object.__setattr__(self, name, np.broadcast_to(column.reshape(()), np.shape(self.tp)).copy())

    @classmethod
    def build(cls, **columns: Any) -> PlanArrays:
        """Broadcast scalars and sequences to arrays of one length.

        Defaults: flash attention, the order of the stack pricing it (`STACK_ORDER`), sequence parallelism on,
        expert TP = TP (Megatron-Core's default when `--expert-tensor-parallel-size` is unset), and the schedule of
        today's Megatron-LM: interleaved 1F1B with virtual stages (vpp > 1), plain 1F1B without.
        """
        if columns.get("etp") is None:
            columns["etp"] = 0  # follows TP (see `expert_tp`)
        columns.setdefault("attention", Attention.FLASH)
        columns.setdefault("order", STACK_ORDER)
        columns.setdefault("sequence_parallel", 1)
        columns.setdefault("recompute_layers", 0)
        columns.setdefault("expert_layout", EP_INSIDE_DP)
        columns.setdefault("zero_shard", 0)
        if columns.get("schedule") is None:
            vpp = columns["vpp"]
            columns["schedule"] = (int(Schedule.INTERLEAVED) if vpp > 1 else int(Schedule.ONE_F_ONE_B)) if (
                isinstance(vpp, int | np.integer)) else default_schedule(np.asarray(vpp, dtype=np.int64))
        values = columns.values()
        if _INT_TYPES.issuperset(map(type, values)) or all(
                isinstance(v, (int, np.integer)) or (type(v) is np.ndarray and v.shape == ()) for v in values):
            # one plan of scalars: one array, each field a one-element view of it (fields are never written in
            # place: every change is a new PlanArrays); its plain ints are at hand, so `one_row` is kept at once
            ints = list(map(int, values))
            array = np.array(ints, dtype=np.int64)
            if columns.keys() != _FIELD_SET:  # a field missing or unknown: the constructor says which
                return cls(**{k: array[i:i + 1] for i, k in enumerate(columns)})
            # every field, each of shape (1,) (nothing for __post_init__ to broadcast): the frozen dataclass's
            # __dict__ is filled directly, and its plain ints kept as `one_row` (`cached_property` reads __dict__)
            plan, row = object.__new__(cls), object.__new__(cls)
            plan.__dict__.update(zip(columns, array.reshape(-1, 1), strict=True))  # rows of an (n, 1) view: (1,) views
            row.__dict__.update(zip(columns, ints, strict=True))
            derive_one_row(row.__dict__)
            plan.__dict__["is_one"], plan.__dict__["one_row"] = True, row
            return plan
        arrays = {k: np.atleast_1d(np.asarray(v, dtype=np.int64)) for k, v in columns.items()}
        length = max(a.size for a in arrays.values())
        # (a one-element column needs no broadcast: np.broadcast_to costs more than the rest of a single build)
        return cls(**{k: a.reshape(1).copy() if length == 1 else np.broadcast_to(a, (length,)).copy()
                      for k, a in arrays.items()})

    @classmethod
    def one_plan(cls, tp: int, pp: int, dp: int, cp: int, ep: int, etp: int | None, vpp: int, micro_batch: int,
                 global_batch: int, seq_len: int, recompute: int, zero: int, dtype: int, attention: int, order: int,
                 sequence_parallel: int, schedule: int | None = None, recompute_layers: int = 0,
                 expert_layout: int = 0, zero_shard: int = 0) -> PlanArrays:
        """`build` of a single estimate's plan, every field given (`etp` and `schedule` None: `build`'s defaults):
        the same one-element PlanArrays, its `one_row` and `row_key` kept at once, without `build`'s generic
        checks (issue 18). Values that are not Python ints or enum members go through `build`."""
        if schedule is None and type(vpp) is int:  # (any other vpp: `build` picks the default)
            schedule = int(Schedule.INTERLEAVED) if vpp > 1 else int(Schedule.ONE_F_ONE_B)
        values = (tp, pp, dp, cp, ep, 0 if etp is None else etp, vpp, micro_batch, global_batch, seq_len,
                  recompute, zero, dtype, attention, order, sequence_parallel, schedule, recompute_layers,
                  expert_layout, zero_shard)
        if not _INT_TYPES.issuperset(map(type, values)):
            return cls.build(**dict(zip(PLAN_FIELDS, values, strict=True)))
        ints: list[int] = list(map(int, values))  # type: ignore[arg-type]  # (None went to `build`)
        # the plan a `_LazyOnePlan` (its one-element arrays made on first read: a single estimate reads only
        # `one_row`), its `one_row` a plain PlanArrays (no `__getattr__` on its type: its attributes are read a few
        # hundred times per estimate, each through CPython's slower lookup hook where the type has one; hP13)
        plan, row = object.__new__(_LazyOnePlan), object.__new__(cls)
        row.__dict__.update(zip(PLAN_FIELDS, ints, strict=True))
        derive_one_row(row.__dict__)
        plan.__dict__.update(is_one=True, one_row=row, row_key=tuple(ints))  # (`cached_property` reads __dict__)
        return plan

    def __len__(self) -> int:
        return 1 if type(self.tp) in _PLAIN else int(self.tp.size)  # `one_row`: one plan

    # The derived columns below are computed once per PlanArrays (`cached_property`): the columns are never
    # written in place (every change is a new PlanArrays through `dataclasses.replace` or `take`), and a single
    # estimate reads `expert_tp` and `folded` a few dozen times.

    @cached_property
    def is_one(self) -> bool:
        """One plan with every field of shape (1,) (a single estimate's plan; `one_row` applies)."""
        if type(self.tp) in _PLAIN:  # a `one_row` itself
            return False
        return all(getattr(self, name).shape == (1,) for name in PLAN_FIELDS)

    @cached_property
    def row_key(self) -> tuple[int, ...]:
        """The fields of a one-element plan (`is_one`) as Python ints, in field order (a memo key)."""
        key: tuple[int, ...] = _ROW_KEY(self.one_row)
        return key

    @cached_property
    def one_row(self) -> PlanArrays:
        """This one-element plan with plain Python ints for fields (and derived columns): the same formulas then
        run on Python floats (`scalar_path.FLOAT_OPS`) without numpy's per-call cost (issue 18). Only for
        `len(self) == 1` with every field of shape (1,); the result is typed as a PlanArrays for the formulas."""
        row = object.__new__(PlanArrays)
        row.__dict__.update((name, int(getattr(self, name)[0])) for name in PLAN_FIELDS)  # frozen: its __dict__
        derive_one_row(row.__dict__)
        return row

    def with_expert_layout(self, code: int | None, order: int = STACK_ORDER) -> PlanArrays:
        """This plan with `code` (None: its own) in its `expert_layout` field (`stack_limits.expert_layout`) and `order`
        where it has none (`STACK_ORDER`; hN53): a stack-less grid priced as its stack lays experts and ranks."""
        one, unset = self.is_one, (self.one_row.order if self.is_one else self.order) == STACK_ORDER
        layout: Any = (self.one_row.expert_layout if one else self.expert_layout) if code is None else code
        if (self.one_row.expert_layout == layout if one else bool(np.all(self.expert_layout == layout))) and (
                order == STACK_ORDER or not (unset if one else unset.any())):
            return self
        return (PlanArrays.one_plan(**{**dict(zip(PLAN_FIELDS, self.row_key, strict=True)), "expert_layout": layout,
                                       "order": order if unset else self.one_row.order}) if one else replace(
            self, expert_layout=np.full(self.tp.shape, layout), order=np.where(unset, order, self.order)))

    def _where(self, condition: Any, a: Any, b: Any) -> Any:
        """np.where, or its plain-Python pick on a `one_row` plan."""
        if type(self.tp) in _PLAIN:
            return a if condition else b
        return np.where(condition, a, b)

    def _at_least_one(self, value: Any) -> Any:
        return (1 if value < 1 else value) if type(self.tp) in _PLAIN else np.maximum(value, 1)  # max(value, 1)

    @cached_property
    def gpus(self) -> IntArray:
        return self.tp * self.cp * self.pp * self.dp

    @cached_property
    def pp_stride(self) -> IntArray:
        """Rank distance between pipeline neighbours."""
        return self._int(self._where(self.order == _TP_CP_PP_DP, self.tp * self.cp,
                                     self.tp * self.cp * self.dp))

    @cached_property
    def dp_stride(self) -> IntArray:
        """Rank distance between data-parallel (and expert-parallel) peers."""
        return self._int(self._where(self.order == _TP_CP_PP_DP, self.tp * self.cp * self.pp,
                                     self.tp * self.cp))

    @cached_property
    def expert_tp(self) -> IntArray:
        """Ranks each expert is split over: `etp`, or TP where `etp` is 0 (the default: it follows TP, so a plan
        copied with another TP keeps the unfolded layout)."""
        if type(self.tp) in _PLAIN:
            return self.tp if self.etp == 0 else self.etp
        return np.asarray(np.where(self.etp == 0, self.tp, self.etp), dtype=np.int64)

    @cached_property
    def folded(self) -> NDArray[np.bool_]:
        """MoE parallel folding: expert groups laid over the stage's TP x CP x DP ranks, not inside DP."""
        if type(self.tp) in _PLAIN:
            return self.expert_tp != self.tp  # type: ignore[no-any-return]  # a one-plan row's bool
        return np.asarray(self.expert_tp != self.tp, dtype=bool)

    @cached_property
    def experts_over_stage(self) -> NDArray[np.bool_]:
        """The expert groups laid over the stage's TP x CP x DP ranks (ETP innermost, then EP, then EDP), not EP
        inside DP: MoE parallel folding (`folded`), or a stack laying them so at any ETP (`expert_layout`) with
        EP > 1 (at EP 1 both layouts hold the same groups)."""
        if type(self.tp) in _PLAIN:
            return self.folded or (self.expert_layout != EP_INSIDE_DP and self.ep > 1)
        return np.asarray(self.folded | ((self.expert_layout != EP_INSIDE_DP) & (self.ep > 1)), dtype=bool)

    def _stage_stride(self, span: IntArray, stride: IntArray) -> IntArray:
        """Global rank stride of a group whose peers are `stride` apart among one stage's ranks, spanning `span`
        of them: the stage is contiguous under tp-cp-dp-pp; under tp-cp-pp-dp its TP x CP blocks sit PP apart,
        so a group reaching past one block spreads PP times wider (priced as a uniform stride)."""
        spread = (self.order == _TP_CP_PP_DP) & (span > self.tp * self.cp)
        return self._int(self._where(spread, stride * self.pp, stride))

    def _int(self, value: Any) -> IntArray:
        """`value` as an int64 array, or the plain int itself on a `one_row` plan."""
        if type(self.tp) in _PLAIN:
            return value  # type: ignore[no-any-return]  # (no `typing.cast` call on the one-plan path)
        return np.asarray(value, dtype=np.int64)

    @cached_property
    def ep_stride(self) -> IntArray:
        """Rank distance between expert-parallel peers: DP peers, or ETP apart within the stage when laid over it
        (`experts_over_stage`)."""
        etp = self.expert_tp
        folded = self._stage_stride(self.ep * etp, etp)
        return self._int(self._where(self.experts_over_stage, folded, self.dp_stride))

    @cached_property
    def edp(self) -> IntArray:
        """Expert data-parallel degree: the ranks holding the same expert shard (DP / EP, or TP x CP x DP /
        (EP x ETP) when laid over the stage)."""
        folded = self.tp * self.cp * self.dp // self._at_least_one(self.ep * self.expert_tp)
        return self._int(self._where(self.experts_over_stage, folded, self.dp // self._at_least_one(self.ep)))

    @cached_property
    def edp_stride(self) -> IntArray:
        """Rank distance between expert data-parallel peers."""
        folded = self._stage_stride(self.tp * self.cp * self.dp, self.ep * self.expert_tp)
        return self._int(self._where(self.experts_over_stage, folded, self.dp_stride * self.ep))

    @cached_property
    def micro_batches(self) -> IntArray:
        """Micro-batches per DP replica per step (gradient-accumulation steps)."""
        return self._int(self.global_batch // self._at_least_one(self.dp * self.micro_batch))

    def take(self, index: Any) -> PlanArrays:
        return PlanArrays(**{name: getattr(self, name)[index] for name in PLAN_FIELDS})  # (`fields` in order)

    def row(self, i: int) -> dict[str, Any]:
        """One plan as a plain dict with the CLI names of its variants."""
        one = self.one_row if self.is_one and i == 0 else None  # one plan: its Python ints, no indexing
        out: dict[str, Any] = (dict(zip(PLAN_FIELDS, _ROW_KEY(one), strict=True)) if one is not None
                               else {name: int(getattr(self, name)[i]) for name in PLAN_FIELDS})
        for name, kind, labels in _LABEL_TABLES:
            code = out[name]
            out[name] = labels[code] if 0 <= code < len(labels) else "stack" if code == STACK_ORDER else (
                kind.from_code(code).label)  # (an order built without one: the stack's, where it is priced)
        del out["expert_layout"]  # the stack's (`stack_limits.expert_layout`), not a choice of the plan
        out["sequence_parallel"] = bool(out["sequence_parallel"])
        out["zero_shard"] = out["zero_shard"] or out["dp"] * out["cp"]  # (0: all of DP x CP)
        out["etp"] = int(one.expert_tp if one is not None else self.expert_tp[i])
        out["gpus"] = int(one.gpus if one is not None else self.gpus[i])
        out["micro_batches"] = int(one.micro_batches if one is not None else self.micro_batches[i])
        return out


class _LazyOnePlan(PlanArrays):
    """A plan made by `PlanArrays.one_plan`: its array fields made on first read (`__getattr__`), on this subclass
    alone, so that other plans' and every `one_row`'s attribute reads skip the hook (`one_plan`)."""

    if not TYPE_CHECKING:  # (the checker keeps seeing the declared fields only)
        def __getattr__(self, name: str) -> Any:
            """The array fields of a plan made by `one_plan`, on first read: each a one-element view of one array
            of its `row_key` (as `build` makes them); called only when `name` is not in the instance's __dict__."""
            kept = self.__dict__
            if name in _FIELD_SET and "row_key" in kept:
                kept.update(zip(PLAN_FIELDS, np.array(kept["row_key"], dtype=np.int64).reshape(-1, 1), strict=True))
                return kept[name]
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


# plan fields holding enum codes, printed by `row` as their CLI strings
_LABELLED: dict[str, type[LabelledEnum]] = {
    "recompute": Recompute, "dtype": Dtype, "attention": Attention, "order": RankOrder, "schedule": Schedule,
}
# their CLI strings by code, where the codes run 0, 1, 2, ... (`row`; any other code goes through `from_code`)
_LABELS: dict[str, tuple[str, ...]] = {
    name: kind.labels() for name, kind in _LABELLED.items() if [int(m) for m in kind] == list(range(len(kind)))}
# (field, its enum, its strings by code or none) for `row`'s loop
_LABEL_TABLES = tuple((name, kind, _LABELS.get(name, ())) for name, kind in _LABELLED.items())


PLAN_FIELDS = tuple(f.name for f in fields(PlanArrays))  # the fields of a plan, in order (public: the memos')
_FIELD_SET = frozenset(PLAN_FIELDS)
_ROW_KEY = attrgetter(*PLAN_FIELDS)  # the fields of a plan as a tuple, in field order (`row_key`)
# the types a single plan's fields arrive as (`build`; checked in one pass over the values' types)
_INT_TYPES = frozenset({int, bool, np.int64, Attention, Dtype, RankOrder, Recompute, Schedule})
