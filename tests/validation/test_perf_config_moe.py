"""The GB200 26.06 rows' MoE settings (`validation.perf_config_moe`, round 13c) and the fused grouped MLP's
epilogues (`MoeRouting.fused_grouped_mlp`)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.validation import perf_config_moe, sets


def _rows() -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in sets.load_frontier_rows()}


def test_the_columns_set_the_hybridep_sms_the_fused_experts_and_the_recipe_layout() -> None:
    rows = _rows()
    update, moe = perf_config_moe.moe_perf_settings(rows["H015"], {"deepseek-v3": sets.DEEPSEEK_V3_RECIPE_TRAINING})
    assert moe["overlap_sm_fraction"] == pytest.approx(32 / 148) and moe["expert_gemm"] == "grouped"
    assert moe["fused_grouped_mlp"] is perf_config_moe.FUSED_GROUPED_MLP_EPILOGUES
    assert update["moe_cuda_graph"] == "graphed" and update["mtp_num_layers"] == 1
    assert update["pipeline_layouts"] == sets.DEEPSEEK_V3_RECIPE_TRAINING["pipeline_layouts"]
    update, _ = perf_config_moe.moe_perf_settings(rows["H025"], {})
    assert "pipeline_layouts" not in update  # Qwen3: the recipe's even split with embedding and loss as layers
    assert perf_config_moe.moe_perf_settings(rows["H017"], {}) == ({}, {})  # a row without the columns


def test_the_fused_grouped_mlp_drops_the_routed_activation_and_cast_reads_on_mxfp8_only() -> None:
    base = load_stack("nemo-26.04")
    plan = dict(tp=1, pp=1, ep=8, seq_len=4096, global_batch=64, micro_batch=1, order="tp-cp-dp-pp",
                recompute="none")
    found = {}
    for dtype in ("mxfp8", "bf16"):
        for flag in (False, True):
            stack = base.model_copy(update={"moe": base.moe.model_copy(update={"fused_grouped_mlp": flag})})
            found[dtype, flag] = estimate_training("qwen3-30b-a3b", "gb200-nvl72", 8, dtype=dtype, stack=stack,
                                                   **plan)
    off, on = found["mxfp8", False].breakdown_s, found["mxfp8", True].breakdown_s
    assert on.other < off.other and on.compute == off.compute
    assert found["bf16", False].step_time_s == found["bf16", True].step_time_s
