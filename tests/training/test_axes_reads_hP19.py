"""`Axis.reads` (hP19, session 42): the outer fields an inner axis's candidates read, so `row_grid.enumerate_rows` lists
them once per distinct value of those fields (once per search where it reads none), and the outer walk built level
by level. The declarations must be honest and the rows those of the plain enumeration."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.training import axes, row_grid
from infraplan.training.axes import AXES, SearchSpace, enumerate_axes
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.row_grid import enumerate_rows


def _spaces() -> list[SearchSpace]:
    gpt3, mixtral, deepseek = load_model("gpt3-175b"), load_model("mixtral-8x7b"), load_model("deepseek-v3")
    return [
        SearchSpace(gpt3, 4096, 2048, 2048, (Dtype.BF16, Dtype.FP8), 8),
        SearchSpace(mixtral, 128, 4096, 512, (Dtype.BF16,), 8, zero_stages=(0, 1), pipeline_zero=(0, 1)),
        SearchSpace(deepseek, 512, 4096, 4096, (Dtype.FP8,), 8, context_parallel=False, extra_layers=2,
                    expert_layout=1),
        SearchSpace(gpt3, 1000, 2048, 2000, (Dtype.BF16,), 8, schedules=(int(Schedule.ONE_F_ONE_B),)),
    ]


def _nested(space: SearchSpace, level: int = 0, chosen: dict[str, int] | None = None) -> Iterator[dict[str, int]]:
    """The outer combinations as nested loops (the walk's reference)."""
    outer = [a for a in AXES if a.outer]
    chosen = chosen or {}
    if level == len(outer):
        yield chosen
        return
    for value in outer[level].candidates(space, chosen):
        yield from _nested(space, level + 1, {**chosen, outer[level].field: int(value)})


@pytest.mark.parametrize("space", _spaces(), ids=["gpt3", "mixtral", "deepseek", "gpt3-1000"])
def test_declared_reads_are_all_an_axis_reads(space: SearchSpace) -> None:
    """Each declared axis gives the same candidates from only the fields it declares (a read of any other field
    raises KeyError), at every outer combination; the walk is the nested loops' order."""
    combinations = list(axes.outer_combinations(space))
    assert combinations == list(_nested(space)) and len(combinations) > 1
    declared = [a for a in AXES if not a.outer and not a.broadcast and a.reads is not None]
    assert {a.field for a in declared} >= {"ep", "etp", "micro_batch", "order", "recompute", "dtype"}
    for chosen in combinations:
        for axis in declared:
            assert list(axis.candidates(space, {f: chosen[f] for f in axis.reads or ()})) == \
                list(axis.candidates(space, chosen)), (axis.field, chosen)


def _grid_arrays(space: SearchSpace) -> dict[str, tuple[str, tuple[int, ...], tuple[int, ...], bytes]]:
    grid = enumerate_rows(space)
    out = {f"rows.{f.name}": getattr(grid.rows, f.name) for f in dataclasses.fields(grid.rows)}
    out.update(rank=grid.rank, pair_stride=grid.pair_stride, zero_stride=grid.zero_stride, zero=grid.zero)
    out.update({f"stages.{p}": v for p, v in grid.stages.items()})
    return {k: (v.dtype.str, v.shape, v.strides, v.tobytes()) for k, v in out.items()}


@pytest.mark.parametrize("space", _spaces(), ids=["gpt3", "mixtral", "deepseek", "gpt3-1000"])
def test_rows_as_without_declarations(space: SearchSpace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows (values, dtypes, strides: one-value columns stay zero-stride views), ranks and pair tables are those
    of every inner axis listed at every combination (no declaration), and each row is the plan of `enumerate_axes`
    at its rank with the broadcast axes at their first candidates."""
    declared = _grid_arrays(space)
    monkeypatch.setattr(row_grid, "AXES", tuple(dataclasses.replace(a, reads=None) for a in AXES))
    assert _grid_arrays(space) == declared
    monkeypatch.undo()
    grid, plans = enumerate_rows(space), enumerate_axes(space)
    first = {"vpp": 1, "schedule": int(Schedule.ONE_F_ONE_B), "zero": 0}
    for f in dataclasses.fields(grid.rows):
        np.testing.assert_array_equal(getattr(grid.rows, f.name),
                                      first[f.name] if f.name in first else getattr(plans, f.name)[grid.rank])


def test_fixed_axes_listed_once_per_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """An axis reading no outer field is asked once per search, one reading DP once per distinct DP (GPT-3 175B on
    4,096 GPUs: 139 outer combinations, each asked before)."""
    space = _spaces()[0]
    calls: dict[str, int] = {}

    def counted(axis: axes.Axis) -> axes.Axis:
        def candidates(s: SearchSpace, c: axes.Chosen) -> list[int]:
            calls[axis.field] = calls.get(axis.field, 0) + 1
            return list(axis.candidates(s, c))
        return dataclasses.replace(axis, candidates=candidates)

    monkeypatch.setattr(row_grid, "AXES", tuple(counted(a) if a.field in ("recompute", "micro_batch") else a
                                            for a in AXES))
    enumerate_rows(space)
    dps = {c["dp"] for c in axes.outer_combinations(space)}
    assert calls == {"recompute": 1, "micro_batch": len(dps)} and len(dps) < 139
