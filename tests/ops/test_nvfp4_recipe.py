"""`ops.nvfp4_recipe`: Transformer Engine 2.14's NVFP4 training recipe's per-GEMM kernels, scale swizzles and
column-wise gather fixes, on NVFP4 training plans only."""

from __future__ import annotations

import pytest

import infraplan.training.layer_time as layer_time
from infraplan.catalog.stacks import load_stack
from infraplan.ops.layer_records import Collective, Gemm
from infraplan.ops.nvfp4_recipe import (
    GATHER_FIX_BYTES_PER_ELEMENT,
    GATHER_FIX_KERNELS,
    gather_fix_work,
    gemm_work,
    nvfp4_recipe_seconds,
)
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

NEMO = load_stack("nemo-26.04")
PLAN = dict(tp=2, pp=4, cp=1, vpp=5, seq_len=8192, global_batch=256, micro_batch=1, recompute="none", zero=1)


def test_gemm_work_counts_both_operands_scales_and_the_kernels() -> None:
    g = Gemm("ffn_up", 8192.0, 4096.0, 1024.0)
    b_fwd, b_bwd, k_fwd, k_bwd = gemm_work([g, Gemm("router", 8192.0, 64.0, 1024.0)])  # the router stays bf16
    m, n, k = 8192.0, 4096.0, 1024.0
    assert b_fwd == pytest.approx(2.0 / 16.0 * (m * k + n * k))  # fprop: X and W scales, read + write
    assert b_bwd == pytest.approx(2.0 / 16.0 * (2.0 * m * n + n * k + m * k))  # dgrad dY, W^T; wgrad dY^T, X^T
    assert (k_fwd, k_bwd) == (4.0, 7.0)  # 2 swizzles + alpha per GEMM, the amax zeroing per quantised tensor


def test_gather_fixes_run_backward_on_both_column_wise_gathers_of_each_record() -> None:
    elements = 8192.0 * 8192.0
    gathers = [Collective("all_gather", "tp", 2.0 * elements, 2, 1, 2.0)]
    nbytes, kernels = gather_fix_work(gathers, 2.0)
    assert nbytes == pytest.approx(4.0 * elements * GATHER_FIX_BYTES_PER_ELEMENT)
    assert kernels == 4.0 * GATHER_FIX_KERNELS
    assert gather_fix_work([Collective("all_gather", "tp", 2.0 * elements, 1, 1, 2.0)], 2.0) == (0.0, 0.0)
    fwd, bwd = nvfp4_recipe_seconds([], gathers, 2.0, 1e12, 0.0)
    assert fwd == 0.0 and bwd == pytest.approx(nbytes / 1e12)


def _step(dtype: str) -> float:
    return estimate_training("llama3-70b", "gb200-nvl72", 64, dtype=dtype, stack=NEMO,  # type: ignore[arg-type]
                             **PLAN).step_time_s


def test_only_nvfp4_training_plans_pay_it(monkeypatch: pytest.MonkeyPatch) -> None:
    on = {d: _step(d) for d in ("nvfp4", "mxfp8", "fp8", "bf16")}
    monkeypatch.setattr(layer_time, "NVFP4_RECIPE_WORK", False)
    clear_one_plan_memo()  # the memo holds the priced rows
    try:
        off = {d: _step(d) for d in on}
    finally:
        clear_one_plan_memo()
    assert on["nvfp4"] > off["nvfp4"] * 1.005  # per layer and micro-batch: a few tens of kernels and ~1 B/element
    assert on["nvfp4"] < off["nvfp4"] * 1.10
    for d in ("mxfp8", "fp8", "bf16"):
        assert on[d] == off[d]
