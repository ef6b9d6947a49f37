"""The routed experts' per-expert quantisation kernels on the GPU (`training.expert_quantize`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import infraplan.training.expert_quantize as expert_quantize
from infraplan.catalog.loader import load_model
from infraplan.catalog.stacks import Fp8Recipe, load_stack
from infraplan.ops.layer import Gemm
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.expert_quantize import expert_block_quantize_s, expert_quantize_kernels
from infraplan.training.one_plan_memo import clear_one_plan_memo

NEMO = load_stack("nemo-26.04")
FP8, BF16, MX = int(Dtype.FP8), int(Dtype.BF16), int(Dtype.MXFP8)


def _experts(local: Any, share: float = 1.0) -> Any:
    """An op table holding only the fc1 / fc2 expert GEMMs (Qwen3-30B-A3B's at EP16: 8 local experts)."""
    return SimpleNamespace(gemms=[Gemm("expert_up", 4096.0, 1536.0, 2048.0, local, True, share),
                                  Gemm("expert_down", 4096.0, 2048.0, 768.0, local, True, share)])


def test_current_scaling_launches_three_kernels_per_expert_and_operand() -> None:
    # 8 experts x (amax, scale, cast) per operand, less the cast and the amax kernel the layer counts (backward:
    # two extra kernels per GEMM counted), two operands each way
    assert NEMO.fp8.recipe == "current" and NEMO.fp8.extra_kernels_per_gemm == 1.0
    assert expert_quantize_kernels(_experts(8.0), FP8, NEMO, 1.0) == (2.0 * 22.0, 2.0 * 21.0)
    # the MoE share of the layers scales them; one local expert adds what its three kernels exceed
    fwd, bwd = expert_quantize_kernels(_experts(8.0, 0.5), FP8, NEMO, 1.0)
    assert (fwd, bwd) == (22.0, 21.0)
    assert expert_quantize_kernels(_experts(1.0), FP8, NEMO, 1.0) == (2.0, 0.0)


def test_one_kernel_recipes_fused_delayed_casts_and_bf16_add_what_the_count_misses_or_nothing() -> None:
    # MXFP8 (no amax kernel): one cast per expert, one counted
    assert expert_quantize_kernels(_experts(32.0), MX, NEMO, 0.0) == (62.0, 62.0)
    assert expert_quantize_kernels(_experts(8.0), BF16, NEMO, 0.0) == (0.0, 0.0)
    delayed = NEMO.model_copy(update={"fp8": Fp8Recipe(recipe="delayed")})  # one fused multi-tensor cast
    assert expert_quantize_kernels(_experts(8.0), FP8, delayed, 0.0) == (0.0, 0.0)
    grouped = NEMO.model_copy(update={"moe": NEMO.moe.model_copy(update={"expert_gemm": "grouped"})})
    assert expert_quantize_kernels(_experts(8.0), FP8, grouped, 1.0) == (0.0, 0.0)
    dense = SimpleNamespace(gemms=[Gemm("qkv", 1.0, 1.0, 1.0)])
    assert expert_quantize_kernels(dense, FP8, NEMO, 1.0) == (0.0, 0.0)  # type: ignore[arg-type]


def test_arrays_over_plans_match_the_plain_numbers() -> None:
    fwd, bwd = expert_quantize_kernels(_experts(np.array([8.0, 1.0, 8.0])), np.array([FP8, FP8, BF16]), NEMO,
                                       np.array([1.0, 1.0, 0.0]))
    assert np.array_equal(fwd, [44.0, 2.0, 0.0]) and np.array_equal(bwd, [42.0, 0.0, 0.0])


def _step(monkeypatch: pytest.MonkeyPatch, on: bool, dtype: str) -> tuple[float, float]:
    monkeypatch.setattr(expert_quantize, "PER_EXPERT_QUANTIZE_KERNELS", on)
    clear_one_plan_memo()
    eager = NEMO.model_copy(update={"cuda_graphs": False})
    r = estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 16, tp=1, pp=1, ep=16, seq_len=4096,
                          global_batch=1024, micro_batch=1, recompute="none", dtype=dtype, stack=eager)
    return r.step_time_s, r.breakdown_s.other


def test_an_fp8_qwen3_step_pays_the_kernels_on_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    (off, other_off), (on, other_on) = _step(monkeypatch, False, "fp8"), _step(monkeypatch, True, "fp8")
    # 86 kernels per layer and micro-batch, 48 layers, 64 micro-batches, at the H100's per-kernel cost (4 us)
    assert other_on - other_off == pytest.approx(86 * 48 * 64 * 4e-6, rel=1e-6)
    assert on - off == pytest.approx(other_on - other_off, rel=1e-6)
    assert _step(monkeypatch, True, "bf16") == _step(monkeypatch, False, "bf16")


def test_block_quantize_work_is_its_kernels_and_the_routed_casts_where_the_plan_casts() -> None:
    shape = load_model("qwen3-30b-a3b")
    rates = SimpleNamespace(kernel_overhead_s=4e-6, memory_bytes_per_s=1e12)
    lay = SimpleNamespace(cast_bytes=4.0, amax_bytes=2.0, quantization_padding=True, fp8_casts=True)
    # 8 experts x 4,096 rows x h 2,048 at (cast 4 + amax 2 + padding 8) B, plus 44 kernels at 4 us
    rows_bytes = 8 * 4096 * 2048 * 14.0
    got = expert_block_quantize_s(shape, _experts(8.0), lay, rates, 44.0)  # type: ignore[arg-type]
    assert got == pytest.approx(44 * 4e-6 + rows_bytes / 1e12)
    # half the layers with experts: half the bytes; bf16 (no casts, no kernels): nothing
    half = expert_block_quantize_s(shape, _experts(8.0, 0.5), lay, rates, 22.0)  # type: ignore[arg-type]
    assert half == pytest.approx(got / 2)
    bf16 = SimpleNamespace(cast_bytes=0.0, amax_bytes=0.0, quantization_padding=True, fp8_casts=False)
    assert expert_block_quantize_s(shape, _experts(8.0), bf16, rates, 0.0) == 0.0  # type: ignore[arg-type]
    dense = SimpleNamespace(gemms=[Gemm("qkv", 1.0, 1.0, 1.0)])
    assert expert_block_quantize_s(shape, dense, lay, rates, 44.0) == 0.0  # type: ignore[arg-type]


def _qwen3_b200(monkeypatch: pytest.MonkeyPatch, on: bool, dtype: str) -> tuple[float, float]:
    monkeypatch.setattr(expert_quantize, "QUANTIZE_IN_BLOCK", on)
    clear_one_plan_memo()
    r = estimate_training("qwen3-30b-a3b", "dgx-b200", 64, ep=8, seq_len=4096, global_batch=512, dtype=dtype)
    # with the DP exposure: the DP gather runs on while the GPU waits for the block's issue (its window, hX1)
    # (the exposed host issue time: its own component since hK58, in `other` before)
    return r.step_time_s, r.breakdown_s.other + r.breakdown_s.host_exposed + r.breakdown_s.dp_comm_exposed


def test_the_quantise_kernels_hide_the_eager_moe_blocks_host_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    # Qwen3-30B-A3B on 64 B200 (EP8, 16 local experts, CUDA graphs with the dropless block eager): the fp8 block's
    # host issue (~0.98 ms per layer) exceeds its GEMMs + all-to-all (~0.77 ms) but not with its quantise work
    (off, other_off), (on, other_on) = _qwen3_b200(monkeypatch, False, "fp8"), _qwen3_b200(monkeypatch, True, "fp8")
    assert on < off and on - off == pytest.approx(other_on - other_off, rel=1e-6)
    assert 0.05 < off - on < 0.1
    # bf16: the block's host issue is hidden by its GEMMs and all-to-all already
    assert _qwen3_b200(monkeypatch, True, "bf16") == _qwen3_b200(monkeypatch, False, "bf16")
