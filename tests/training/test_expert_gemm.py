"""Routed experts' GEMMs as Transformer Engine 2.14 runs them (`MoeRouting.expert_gemm`): one cuBLAS GEMM per
local expert (`te_general_grouped_gemm`, multi-stream cuBLAS), or one grouped kernel over every expert's tiles."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.hardware.gemm_seconds import gemm_seconds, grouped_gemm_seconds
from infraplan.ops.precision import recipe
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import layer_times, step_time

NEMO = load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False})  # 61 layers, PP8
GROUPED = NEMO.model_copy(update={"moe": NEMO.moe.model_copy(update={"expert_gemm": "grouped"})})


def _plan(**over: int) -> PlanArrays:
    fields = dict(tp=1, pp=1, dp=8, cp=1, ep=8, etp=None, vpp=1, micro_batch=1, global_batch=64, seq_len=4096,
                  recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.MXFP8), attention=0,
                  order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=1)
    fields.update(over)
    return PlanArrays.one_plan(**fields)  # type: ignore[arg-type]


def test_nemo_runs_one_gemm_per_expert_other_stacks_one_grouped_kernel() -> None:
    assert NEMO.moe.expert_gemm == "per_expert"
    assert load_stack("megatron-core-0.8").moe.expert_gemm == "grouped"


def test_per_expert_prices_each_local_experts_gemm_at_its_own_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    # DeepSeek-V3 at EP8 on one DGX B200: 32 local experts of 1,024 tokens each (H017's layout), at the mean count
    # (the counts' spread, `training.expert_counts`, is priced apart: tests/training/test_expert_counts.py)
    monkeypatch.setattr("infraplan.training.expert_counts.ROUTED_COUNT_SPREAD", False)
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-b200").for_gpus(8)
    mx = recipe("mxfp8")
    rates = KernelRates.for_dtype(cluster.accelerator, "mxfp8")
    rate, width = mx.gemm_flops_per_s(cluster.accelerator), mx.operand_bytes
    plan = _plan().one_row
    per = layer_times(shape, rates, cluster.fabric, plan, (rate, width), 0.0, NEMO)
    one = layer_times(shape, rates, cluster.fabric, plan, (rate, width), 0.0, GROUPED)
    experts, tokens = shape.num_experts / 8, 4096 * shape.experts_per_token * 8 / shape.num_experts
    share = (shape.num_layers - shape.num_dense_layers) / shape.num_layers  # the MoE layers' share
    f, h = shape.ffn_hidden_size, shape.hidden_size
    extra = 0.0
    for n, k in ((2 * f, h), (h, f)):  # FC1 (gate + up), FC2: forward GEMM of every local expert
        extra += share * (experts * gemm_seconds(rates, tokens, n, k, width, rate)
                          - grouped_gemm_seconds(rates, tokens, n, k, experts, width, rate))
    assert extra > 0.0  # small per-expert GEMMs lose wave fill the grouped kernel keeps
    assert float(per["compute_fwd"]) - float(one["compute_fwd"]) == pytest.approx(extra, rel=1e-9)
    # 32 GEMMs of 1,024 rows each run well below the grouped kernel: > 25 % more expert time forward
    assert extra > 0.25 * share * sum(grouped_gemm_seconds(rates, tokens, n, k, experts, width, rate)
                                      for n, k in ((2 * f, h), (h, f)))


def test_dense_models_and_the_array_path_agree() -> None:
    dense = dict(tp=1, pp=1, cp=1, vpp=1, seq_len=4096, global_batch=64, micro_batch=1, recompute="none", zero=1,
                 dtype="mxfp8")
    a = estimate_training("llama3-8b", "dgx-b200", 8, stack=NEMO, **dense)  # type: ignore[arg-type]
    b = estimate_training("llama3-8b", "dgx-b200", 8, stack=GROUPED, **dense)  # type: ignore[arg-type]
    assert a.step_time_s == b.step_time_s
    # a search's arrays price the per-expert GEMMs as the single estimate does
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-b200").for_gpus(64)
    grid = PlanArrays.build(tp=np.array([1, 1]), pp=np.array([8, 8]), dp=np.array([8, 8]), cp=np.array([1, 1]),
                            ep=np.array([8, 8]), vpp=np.array([1, 1]), micro_batch=np.array([1, 1]),
                            global_batch=np.array([64, 64]), seq_len=np.array([4096, 4096]),
                            recompute=np.array([int(Recompute.FULL)] * 2), zero=np.array([1, 1]),
                            dtype=np.array([int(Dtype.MXFP8), int(Dtype.BF16)]), attention=np.array([0, 0]),
                            order=np.array([int(RankOrder.TP_CP_DP_PP)] * 2), sequence_parallel=np.array([1, 1]))
    arrays = step_time(shape, cluster, grid, NEMO)["step_time_s"]
    for i, dtype in enumerate(("mxfp8", "bf16")):
        single = estimate_training("deepseek-v3", "dgx-b200", 64, tp=1, pp=8, cp=1, vpp=1, seq_len=4096,
                                   global_batch=64, micro_batch=1, recompute="full", zero=1, dtype=dtype, ep=8,
                                   order="tp-cp-dp-pp", stack=NEMO)
        assert single.step_time_s == pytest.approx(float(arrays[i]), rel=1e-9)
