"""One plan is evaluated on Python floats (`PlanArrays.one_row`, `scalar_path` helpers); a grid on numpy arrays.

The two paths run the same formulas: every output of a plan evaluated alone must carry the bits the array path
gives the same plan inside a grid, across dense and MoE models, precisions, recompute modes, pipeline schedules
and the stacks' even and balanced stage splits (issue 18: a single estimate without numpy's per-call cost).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster.cluster import Cluster
from infraplan.training.enums import Recompute
from infraplan.training.estimate import evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

CASES = [  # model, system, GPUs, sequence, global batch, dtypes, stack
    ("llama3-8b", "dgx-h100-superpod", 64, 4096, 256, ["bf16", "fp8"], "megatron-core-0.8"),
    ("llama3-70b", "meta-genai-roce-24k", 512, 8192, 512, ["bf16"], "meta-llama3"),
    ("mixtral-8x7b", "dgx-h100-superpod", 128, 4096, 512, ["bf16", "fp8"], "nemo-24.12"),
    ("deepseek-v3", "gb200-nvl72-superpod", 1024, 4096, 2048, ["fp8"], "deepseek-v3"),
    ("gpt3-175b", "dgx-a100-superpod", 1024, 2048, 1536, ["bf16"], "megatron-lm-2022"),
    # GPT-OSS's clamp, recompute copies and GeGLU offset syncs in the eager MoE block (`moe_sync_waits`)
    ("gpt-oss-120b", "dgx-b200", 64, 4096, 1280, ["bf16"], "nemo-26.04"),
]


def _sample(shape_name: str, gpus: int, seq_len: int, batch: int, dtypes: list[str], stack_name: str,
            count: int) -> PlanArrays:
    shape = load_model(shape_name)
    plans = enumerate_plans(shape, gpus, seq_len, batch, dtypes, 8)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0])
    rng = np.random.default_rng(18)
    picked = plans.take(np.sort(rng.choice(len(plans), size=min(count, len(plans)), replace=False)))
    # every recompute mode, block recompute included, over the sample
    modes = np.array([int(Recompute.NONE), int(Recompute.SELECTIVE), int(Recompute.FULL), int(Recompute.FULL)])
    recompute = modes[np.arange(len(picked)) % 4]
    layers = np.where(np.arange(len(picked)) % 4 == 3, 1, 0)
    return dataclasses.replace(picked, recompute=recompute.astype(np.int64), recompute_layers=layers.astype(np.int64))


@pytest.mark.parametrize(("model", "system", "gpus", "seq_len", "batch", "dtypes", "stack"), CASES)
def test_one_plan_on_floats_equals_the_array_path_bit_for_bit(model: str, system: str, gpus: int, seq_len: int,
                                                             batch: int, dtypes: list[str], stack: str) -> None:
    shape, cluster, profile = load_model(model), Cluster.resolve(system).for_gpus(gpus), load_stack(stack)
    plans = _sample(model, gpus, seq_len, batch, dtypes, stack, 24)
    assert len(plans) >= 8
    grid = evaluate_plans(shape, cluster, plans, profile)
    for i in range(len(plans)):
        clear_one_plan_memo()
        one = plans.take([i])
        assert one.is_one and type(one.one_row.tp) is int
        alone = evaluate_plans(shape, cluster, one, profile)
        assert alone.keys() == grid.keys()
        for key, value in alone.items():
            assert value.shape == (1,), key
            assert value[0] == grid[key][i] or (np.isnan(value[0]) and np.isnan(grid[key][i])), (key, plans.row(i))


def test_one_row_holds_python_ints_and_the_derived_columns() -> None:
    plan = PlanArrays.build(tp=8, pp=4, dp=16, cp=2, ep=4, etp=2, vpp=2, micro_batch=1, global_batch=512,
                            seq_len=8192, recompute=0, zero=1, dtype=0)
    row = plan.one_row
    for name in ("tp", "pp", "dp", "etp", "gpus", "pp_stride", "dp_stride", "expert_tp", "ep_stride", "edp",
                 "edp_stride", "micro_batches"):
        assert type(getattr(row, name)) is int and getattr(row, name) == int(getattr(plan, name)[0]), name
    assert type(row.folded) is bool and row.folded == bool(plan.folded[0])
    assert len(row) == 1 and not row.is_one and plan.is_one
    assert not PlanArrays.build(tp=[1, 2], pp=1, dp=1, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8,
                                seq_len=128, recompute=0, zero=0, dtype=0).is_one
