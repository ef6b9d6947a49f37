"""Session 44's physics on the single-estimate float path (hP23): the shortcuts keep the bits of the array path.

`plan_outputs.one_plan_memory` (the search's memory-headroom check, one plan at a time) must give the bits of
`plan_memory` on the same one-plan arrays; a plan in MXFP8 / fp8 on Blackwell (whose GEMM calls run scale kernels,
`ops.gemm_scale_work`, skipped on the float path for the dtypes the plan does not train in) and its executed FLOPs
(`training.flops.executed_flops_per_step`, its one-plan branch) must carry the bits its row has in a grid.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster.cluster import Cluster
from infraplan.ops.gemm_scale_work import scale_kernels
from infraplan.ops.layer import Layout, layer_ops
from infraplan.training.enums import Attention, Recompute
from infraplan.training.estimate import evaluate_plans
from infraplan.training.flops import executed_flops_per_step
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_outputs import one_plan_memory, plan_memory
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans


def _sample(model: str, gpus: int, seq_len: int, batch: int, dtypes: list[str], count: int) -> PlanArrays:
    shape = load_model(model)
    plans = enumerate_plans(shape, gpus, seq_len, batch, dtypes, 8)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0])
    rng = np.random.default_rng(23)
    return plans.take(np.sort(rng.choice(len(plans), size=min(count, len(plans)), replace=False)))


@pytest.mark.parametrize(("model", "system", "gpus", "seq_len", "batch", "dtypes", "stack"), [
    ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048, ["bf16"], "nemo-24.12"),
    ("llama3-405b", "meta-genai-roce-24k", 4096, 8192, 2048, ["bf16"], "torchtitan"),
    ("mixtral-8x22b", "dgx-h100-superpod", 512, 4096, 1024, ["bf16"], "deepspeed"),
    ("llama3-70b", "meta-genai-roce-24k", 512, 8192, 512, ["bf16"], "meta-llama3"),
])
def test_one_plan_memory_is_plan_memory_bit_for_bit(model: str, system: str, gpus: int, seq_len: int, batch: int,
                                                    dtypes: list[str], stack: str) -> None:
    shape, cluster, profile = load_model(model), Cluster.resolve(system), load_stack(stack)
    plans = _sample(model, gpus, seq_len, batch, dtypes, 30)
    assert len(plans) >= 10
    totals = []
    for i in range(len(plans)):
        one = plans.take([i])
        expected = plan_memory(shape, cluster, one, profile)["memory_per_gpu_bytes"][0]
        assert one_plan_memory(shape, cluster, one, profile) == expected, plans.row(i)
        totals.append(float(expected))
    assert len(set(totals)) > 1  # the sample spans layouts whose memory differs


@pytest.mark.parametrize("dtypes", [["mxfp8"], ["fp8"], ["mxfp8", "fp8", "bf16"]])
def test_blackwell_scale_kernels_one_plan_equals_its_grid_row(dtypes: list[str]) -> None:
    shape, profile = load_model("llama3-70b"), load_stack("nemo-26.04")
    cluster = Cluster.resolve("dgx-b200").for_gpus(256)
    gemms = layer_ops(shape, Layout(tokens=8192.0, tp=4)).gemms
    assert scale_kernels(gemms, "mxfp8", profile.fp8.recipe, cluster.accelerator.fp8_gemm_layouts)[0] > 0
    plans = _sample("llama3-70b", 256, 8192, 512, dtypes, 12)
    grid = evaluate_plans(shape, cluster, plans, profile)
    for i in range(len(plans)):
        clear_one_plan_memo()
        alone = evaluate_plans(shape, cluster, plans.take([i]), profile)
        for key, value in alone.items():
            assert value[0] == grid[key][i] or (np.isnan(value[0]) and np.isnan(grid[key][i])), (key, plans.row(i))


def test_executed_flops_one_plan_branch_equals_the_array_path() -> None:
    shape, profile = load_model("gpt-oss-120b"), load_stack("nemo-26.04")
    plans = _sample("gpt-oss-120b", 64, 4096, 1280, ["bf16"], 16)
    n = len(plans)
    recompute = np.array([int(Recompute.NONE), int(Recompute.SELECTIVE), int(Recompute.FULL), int(Recompute.FULL)])
    attention = np.array([int(Attention.UNFUSED), int(Attention.FLASH)])
    plans = dataclasses.replace(plans, recompute=recompute[np.arange(n) % 4].astype(np.int64),
                                recompute_layers=np.where(np.arange(n) % 4 == 3, 1, 0).astype(np.int64),
                                attention=attention[np.arange(n) // 4 % 2].astype(np.int64))
    for stack in (profile, None):
        grid = executed_flops_per_step(shape, plans, stack)
        alone = [executed_flops_per_step(shape, plans.take([i]).one_row, stack) for i in range(n)]
        assert all(type(a) is float for a in alone)
        assert alone == grid.tolist()
        assert len(set(alone)) > 2  # recompute and attention modes move the count
