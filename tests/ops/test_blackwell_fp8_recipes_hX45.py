"""fp8 (per-tensor / blockwise) vs MXFP8 on Blackwell (hX45): what Transformer Engine 2.14 runs for each recipe.

Each test fails on the tree before hX45: the routed copies' amax read (and their padding copies) counted twice, the
blockwise recipe at Blackwell's per-tensor fp8 rate, and no MXFP8 weight-scale swizzle at the GEMMs.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import Layout, layer_ops
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_kernels import elementwise_time
from infraplan.training.one_plan_memo import clear_one_plan_memo

BLACKWELL = ("tn", "nn", "nt")  # b200 / gb200 `fp8_gemm_layouts`
HOPPER = ("tn",)


def _cast_seconds(routed: bool, monkeypatch: pytest.MonkeyPatch, padding: bool) -> float:
    """Seconds of the forward passes of Qwen3-30B-A3B's layer (TP1 EP16, 4,096 tokens) as fp8 current scaling on
    Blackwell prices them: 3 B per cast element, one amax read pass (2 B) before every cast not made by a norm."""
    import infraplan.ops.moe_routing as moe_routing

    monkeypatch.setattr(moe_routing, "ROUTED_COPY_CASTS", routed)
    lay = Layout(tokens=4096.0, seq_len=4096, ep=16, fp8_casts=True, cast_bytes=3.0, amax_bytes=2.0,
                 quantization_padding=padding)
    ops = layer_ops(load_model("qwen3-30b-a3b"), lay)
    rates = KernelRates.for_dtype(load_accelerator("b200"), "bf16")
    return float(elementwise_time(rates, ops.elementwise_fwd, 1.0, 3.0, one=True))


def test_the_routed_copies_amax_read_and_padding_are_priced_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # GroupedLinear casts fc1's input over the k routed copies, each expert's amax read first (TE 2.14 quantizer.cpp
    # :857-909): k T h elements at 3 + 2 B, in place of one h-wide norm-made operand (3 B: the norm finds its amax);
    # TEGroupedMLP's padding and unpadding copy the rows in bf16, 8 B per element (not casts: no amax read)
    t, h, k = 4096.0, 2048.0, 8.0
    bandwidth = KernelRates.for_dtype(load_accelerator("b200"), "bf16").memory_bytes_per_s
    added = _cast_seconds(True, monkeypatch, False) - _cast_seconds(False, monkeypatch, False)
    assert added * bandwidth == pytest.approx((3.0 + 2.0) * k * t * h - 3.0 * t * h, rel=1e-9)
    padded = _cast_seconds(True, monkeypatch, True) - _cast_seconds(True, monkeypatch, False)
    assert padded * bandwidth == pytest.approx(8.0 * k * t * h, rel=1e-9)


def test_blockwise_fp8_runs_at_the_mxfp8_rate_on_blackwell_only() -> None:
    from infraplan.ops.precision import RECIPES, scaling_rate_ratio

    gb200, b200, h100 = (load_accelerator(n) for n in ("gb200", "b200", "h100-sxm"))
    # TE 2.14 gemm.cpp:288-299: a blockwise GEMM converts its scales and runs as MXFP8 from sm_100 on
    assert scaling_rate_ratio(gb200, "blockwise") * RECIPES["fp8"].gemm_flops_per_s(gb200) == pytest.approx(
        RECIPES["mxfp8"].gemm_flops_per_s(gb200))
    assert scaling_rate_ratio(gb200, "blockwise") == pytest.approx(0.55 / 0.52)  # the catalog's two fractions
    assert scaling_rate_ratio(b200, "blockwise") == pytest.approx(1.0)  # B200 measures them alike
    assert scaling_rate_ratio(gb200, "current") == 1.0 and scaling_rate_ratio(gb200, "delayed") == 1.0
    assert scaling_rate_ratio(h100, "blockwise") == 0.94  # Hopper: the measured main-loop ratio, unchanged


def test_a_blockwise_plan_computes_as_long_as_its_mxfp8_twin_on_gb200(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.precision as precision

    nemo = load_stack("nemo-26.04")
    blockwise = nemo.model_copy(update={"fp8": nemo.fp8.model_copy(update={"recipe": "blockwise"})})

    def compute(dtype: str, system: str) -> float:
        clear_one_plan_memo()
        return estimate_training("llama3-8b", system, 8, seq_len=8192, global_batch=128, micro_batch=2,
                                 dtype=dtype, stack=blockwise).breakdown_s.compute

    assert compute("fp8", "gb200-nvl72") == pytest.approx(compute("mxfp8", "gb200-nvl72"), rel=1e-12)
    monkeypatch.setattr(precision, "BLOCKWISE_AS_MXFP8", False)
    assert compute("fp8", "gb200-nvl72") > compute("mxfp8", "gb200-nvl72")  # per-tensor fp8's 0.52 of peak


def test_mxfp8_weights_swizzle_their_scales_at_every_gemm_call() -> None:
    from infraplan.ops.gemm_scale_work import scale_kernels

    dense = layer_ops(load_model("llama3-8b"), Layout(tokens=4096.0, seq_len=4096)).gemms  # qkv, proj, fc1, fc2
    assert scale_kernels(dense, "mxfp8", "current", BLACKWELL) == (4.0, 4.0)  # fprop W, dgrad W^T
    assert scale_kernels(dense, "mxfp8", "current", HOPPER) == (0.0, 0.0)  # no MXFP8 GEMM there
    assert scale_kernels(dense, "fp8", "current", BLACKWELL) == (0.0, 0.0)  # one fp32 scale per operand
    # a grouped expert GEMM swizzles its experts' list in one kernel; the router (bf16) none
    moe = layer_ops(load_model("qwen3-30b-a3b"), Layout(tokens=4096.0, seq_len=4096, ep=8)).gemms
    assert scale_kernels(moe, "mxfp8", "current", BLACKWELL) == (4.0, 4.0)  # qkv, proj, experts' fc1, fc2


def test_blockwise_conversions_count_every_expert_tensor_when_priced(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.gemm_scale_work as gemm_scale_work
    from infraplan.ops.gemm_scale_work import scale_kernels

    moe = layer_ops(load_model("qwen3-30b-a3b"), Layout(tokens=4096.0, seq_len=4096, ep=8)).gemms  # 16 local
    assert scale_kernels(moe, "fp8", "blockwise", BLACKWELL) == (0.0, 0.0)  # off: no shipped stack runs them
    monkeypatch.setattr(gemm_scale_work, "BLOCKWISE_CONVERSION_KERNELS", True)
    tensors = 2.0 + 2.0 * 16.0  # qkv, proj, and each of the 16 local experts' fc1 and fc2
    assert scale_kernels(moe, "fp8", "blockwise", BLACKWELL) == (2.0 * tensors, 4.0 * tensors)
    assert scale_kernels(moe, "fp8", "blockwise", HOPPER) == (0.0, 0.0)  # Hopper's GEMM takes the block scales


def test_the_swizzles_add_their_kernels_to_an_mxfp8_step_on_b200(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.ops.gemm_scale_work as gemm_scale_work

    def other(on: bool, dtype: str) -> float:
        monkeypatch.setattr(gemm_scale_work, "GEMM_SCALE_KERNELS", on)
        clear_one_plan_memo()
        return estimate_training("llama3-8b", "dgx-b200", 8, seq_len=8192, global_batch=128, micro_batch=2,
                                 dtype=dtype).breakdown_s.other

    # H013's plan: 32 layers x 8 micro-batches x (4 forward + 4 backward) kernels at the part's per-kernel cost
    overhead = load_accelerator("b200").efficiency.kernel_overhead_s
    assert other(True, "mxfp8") - other(False, "mxfp8") == pytest.approx(32 * 8 * 8 * overhead, rel=1e-9)
    assert other(True, "fp8") == other(False, "fp8")  # per-tensor current scaling: nothing at the GEMM
    assert other(True, "bf16") == other(False, "bf16")
