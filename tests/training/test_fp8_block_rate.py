"""Blockwise fp8 on Hopper (`ops.precision.scaling_rate_ratio`): the block scales are applied in the GEMM's main
loop, so the recipe's GEMMs (dense and expert) run at the accelerator's measured `fp8_block_matmul_ratio` times
the per-tensor fp8 rate; Blackwell (block scales in the tensor core) keeps the fp8 rate."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.stacks import Fp8Recipe, Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.ops.precision import scaling_rate_ratio
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import cluster_pricing

DENSE = dict(tp=4, pp=4, seq_len=8192, global_batch=256, dtype="fp8")


def _stack(scaling: str) -> Stack:
    """nemo-26.04 with a scaling recipe that adds no amax pass or kernel (delayed and blockwise both find their
    scales without one) and its TP all-gathers at bf16 bytes (blockwise gathers its column-wise copy too,
    `training.tp_quantised_collectives`), so the two differ only in the GEMM rate."""
    return load_stack("nemo-26.04").model_copy(update={"fp8": Fp8Recipe(recipe=scaling),  # type: ignore[arg-type]
                                                       "quantized_tp_all_gather": False})


def test_only_blockwise_on_hopper_takes_the_measured_ratio() -> None:
    h100, h200, b200 = (load_accelerator(a) for a in ("h100-sxm", "h200", "b200"))
    assert scaling_rate_ratio(h100, "blockwise") == pytest.approx(0.94)
    assert scaling_rate_ratio(h200, "blockwise") == pytest.approx(0.93)
    assert scaling_rate_ratio(load_accelerator("h800"), "blockwise") == pytest.approx(0.94)
    for scaling in ("delayed", "current", "mx"):
        assert scaling_rate_ratio(h100, scaling) == 1.0
    assert scaling_rate_ratio(b200, "blockwise") == 1.0  # no ratio in its catalog entry


def test_the_training_fp8_gemm_rate_is_the_per_tensor_rate_times_the_ratio() -> None:
    cluster = Cluster.for_accelerator("h100-sxm", 8)
    block = cluster_pricing(cluster, _stack("blockwise")).gemm_rates
    tensor = cluster_pricing(cluster, _stack("delayed")).gemm_rates
    assert block[int(Dtype.FP8)] == pytest.approx(0.94 * tensor[int(Dtype.FP8)], rel=1e-12)
    assert block[int(Dtype.BF16)] == tensor[int(Dtype.BF16)]  # bf16 GEMMs (and the rest) are untouched


def test_blockwise_slows_the_gemms_on_hopper_but_not_on_blackwell() -> None:
    block = estimate_training("llama3-70b", "dgx-h100-superpod", 64, stack=_stack("blockwise"), **DENSE)
    tensor = estimate_training("llama3-70b", "dgx-h100-superpod", 64, stack=_stack("delayed"), **DENSE)
    # the GEMMs slow by 1 / 0.94; attention, norms and casts do not, so the compute term grows by less
    assert tensor.breakdown_s.compute < block.breakdown_s.compute < tensor.breakdown_s.compute / 0.94
    assert block.breakdown_s.compute > 1.02 * tensor.breakdown_s.compute
    b_block = estimate_training("llama3-70b", "dgx-b200", 64, stack=_stack("blockwise"), **DENSE)
    b_tensor = estimate_training("llama3-70b", "dgx-b200", 64, stack=_stack("delayed"), **DENSE)
    # (their casts differ: per-tensor fp8 builds its transposed copy after TP's all-gather, `shard_cast_terms`)
    assert b_block.breakdown_s.compute == pytest.approx(b_tensor.breakdown_s.compute, rel=1e-12)
