"""The derived columns of a parallel plan, computed once: the lockless `cached_property` that keeps each of a
`PlanArrays`' derived columns (`gpus`, the strides, `expert_tp`, `folded`, `edp`, `micro_batches`) on first read, and
`derive_one_row`, which puts all of a one-plan row's at once on its Python ints.

The formulas are `training.plan.PlanArrays`' properties (that module's docstring: the rank order, expert tensor
parallelism and MoE parallel folding, Liu et al. 2025, arXiv:2504.14960; the expert layouts of
`stack_limits.expert_layout`); a single estimate reads them a few dozen times (issue 18). Split from
training/plan.py (hE60, the module at the 400-line cap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from infraplan.training.enums import RankOrder
from infraplan.training.stack_limits import EP_INSIDE_DP

TP_CP_PP_DP = int(RankOrder.TP_CP_PP_DP)  # its code as an int (an enum member's lookup costs more than a compare)
_T = TypeVar("_T")


class cached_property(Generic[_T]):  # noqa: N801 (functools.cached_property's name and use)
    """`functools.cached_property` without its lock: the value is computed on first access and kept in the
    instance's __dict__ (later reads never reach the descriptor). Python 3.11's version takes an RLock on every
    first access, ~0.5 us a single estimate pays a dozen times (issue 18; 3.12 dropped the lock: two threads
    computing one value at once both get the same value, as a PlanArrays is never changed in place)."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _T | cached_property[_T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


def derive_one_row(row: dict[str, Any]) -> None:
    """The derived columns of a `one_row` plan (`gpus`, the strides, `expert_tp`, `folded`, `edp`,
    `micro_batches`), put into its __dict__ at once (`cached_property` reads them there): the properties' formulas
    on its Python ints in one pass, each `_where` taking the branch its condition picks and `_at_least_one` the
    builtin max's (issue 18: a single estimate reads them a few dozen times, the properties' type dispatch cost
    ~0.5 us each; tests/training/test_single_estimate_twins.py holds them to the array columns)."""
    tp, cp, pp, dp, ep, etp = row["tp"], row["cp"], row["pp"], row["dp"], row["ep"], row["etp"]
    stage = tp * cp  # a stage's TP x CP block
    inner = row["order"] == TP_CP_PP_DP  # tp-cp-pp-dp: the blocks of one stage sit PP apart
    dp_stride = stage * pp if inner else stage
    expert_tp = tp if etp == 0 else etp
    folded = expert_tp != tp
    over = folded or (row["expert_layout"] != EP_INSIDE_DP and ep > 1)  # `experts_over_stage`
    experts = ep * expert_tp
    replicas = tp * cp * dp  # the stage's ranks (`_stage_stride`: a group spanning more of them spreads PP wider)
    row.update(
        gpus=tp * cp * pp * dp, pp_stride=stage if inner else stage * dp, dp_stride=dp_stride, expert_tp=expert_tp,
        folded=folded, experts_over_stage=over,
        ep_stride=(expert_tp * pp if inner and experts > stage else expert_tp) if over else dp_stride,
        edp=replicas // (1 if experts < 1 else experts) if over else dp // (1 if ep < 1 else ep),
        edp_stride=(experts * pp if inner and replicas > stage else experts) if over else dp_stride * ep,
        micro_batches=row["global_batch"] // (1 if dp * row["micro_batch"] < 1 else dp * row["micro_batch"]))
