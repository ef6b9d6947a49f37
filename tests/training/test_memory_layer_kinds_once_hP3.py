"""A single estimate's memory prices each layer kind's parameters once, not once per pipeline stage kind.

`memory.memory_breakdown` of one plan (`PlanArrays.one_row`) sums the state of up to three stage kinds (first,
middle, last; `memory._peak_candidates`) and the ZeRO-3 gathered layer; each multiplies the same per-layer
parameters (`ops.params.layer_kind_params`), kept on the row and passed to `ops.params.local_params` as
`per_layer` (issue 18: the single estimate's time). The values keep the bits of the array path.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops import params as ops_params
from infraplan.training import memory
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

CASES = [  # model, GPUs, sequence, global batch, dtypes, stack (a split that counts the ends: three stage kinds)
    ("llama3-70b", 512, 8192, 512, ["bf16"], "nemo-26.04"),
    ("mixtral-8x7b", 128, 4096, 512, ["bf16", "fp8"], "nemo-24.12"),
    ("deepseek-v3", 1024, 4096, 2048, ["fp8"], "deepseek-v3"),  # dense first-k layers: two layer kinds
]


@pytest.mark.parametrize(("model", "tp", "ep", "etp"), [("llama3-70b", 8, 1, None), ("mixtral-8x7b", 2, 4, None),
                                                        ("deepseek-v3", 2, 8, 1)])
def test_local_params_with_per_layer_given_are_the_same_bits(model: str, tp: int, ep: int, etp: int | None) -> None:
    shape = load_model(model)
    per_layer = ops_params.layer_kind_params(shape, tp, ep, etp)
    assert len(per_layer) == len(shape.layer_kinds())
    for pp, layers, tables in [(4, None, True), (8, 7.0, True), (8, 6.0, False), (1, None, True)]:
        alone = ops_params.local_params(shape, tp, pp, ep, etp, layers, tables)
        given = ops_params.local_params(shape, tp, pp, ep, etp, layers, tables, per_layer)
        assert type(given) is float and given == alone
    arrays = (np.array([tp, tp]), np.array([4, 8]), np.array([ep, ep]))
    kinds = ops_params.layer_kind_params(shape, arrays[0], arrays[2], None if etp is None else np.array([etp, etp]))
    alone = ops_params.local_params(shape, *arrays, None if etp is None else np.array([etp, etp]))
    given = ops_params.local_params(shape, *arrays, None if etp is None else np.array([etp, etp]), per_layer=kinds)
    assert np.array_equal(alone, given)


@pytest.mark.parametrize(("model", "gpus", "seq_len", "batch", "dtypes", "stack"), CASES)
def test_one_plan_memory_prices_each_layer_kind_once_with_the_array_bits(
        model: str, gpus: int, seq_len: int, batch: int, dtypes: list[str], stack: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    shape, profile = load_model(model), load_stack(stack)
    plans = enumerate_plans(shape, gpus, seq_len, batch, dtypes, 8)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0])
    rng = np.random.default_rng(34)
    plans = plans.take(np.sort(rng.choice(len(plans), size=min(12, len(plans)), replace=False)))
    plans = dataclasses.replace(plans, zero=(np.arange(len(plans)) % 4).astype(np.int64))  # every ZeRO stage
    grid = memory.memory_breakdown(shape, plans, profile)
    calls: list[tuple[object, ...]] = []
    priced = ops_params.local_layer_params

    def counted(*args: object) -> object:
        calls.append(args)
        return priced(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ops_params, "local_layer_params", counted)
    for i in range(len(plans)):
        row = plans.take([i]).one_row
        calls.clear()
        ops_params.forget_plan_shape_counts()  # (plans of one model and axes share them: hP6's memo)
        alone = memory.memory_breakdown(shape, row, profile)
        assert len(calls) == len(shape.layer_kinds())  # once per layer kind, whatever the stage kinds and ZeRO
        for key, value in alone.items():
            assert type(value) is float and value == float(grid[key][i]), (key, i)
