"""Mutation wave hM22 (session 45): `ops.gemm_scale_work`'s blockwise -> MXFP8 conversions behind their toggle.

The toggle is off (no shipped stack runs Transformer Engine's blockwise recipe), so the counted branch runs only
when the notes' measurement turns it on; this checks it counts what the module docstring says, by hand:
Transformer Engine 2.14 csrc/extensions/swizzle.cpp:272-334 converts each operand's block scales, one kernel per
operand, 2 per GEMM (fprop) forward and 4 backward (dgrad, wgrad); a grouped GEMM converts every expert's tensor
(gemm.cpp:549-579): count x share tensors, the grouped flag notwithstanding; the router's bf16 GEMM none; only on a
part that emulates blockwise (non-TN fp8 layouts) under the blockwise recipe.
"""

from __future__ import annotations

import pytest

import infraplan.ops.gemm_scale_work as gemm_scale_work
from infraplan.ops.layer_records import Gemm

BLACKWELL = ("tn", "nn", "nt")  # b200 / gb200 `fp8_gemm_layouts`
GEMMS = [Gemm("qkv", 8.0, 8.0, 8.0), Gemm("fc1", 8.0, 8.0, 8.0, count=16.0, grouped=True, share=0.5),
         Gemm("router", 8.0, 8.0, 8.0)]


def test_blockwise_conversions_count_every_tensor_of_a_blockwise_gemm(monkeypatch: pytest.MonkeyPatch) -> None:
    """qkv: 1 tensor; the grouped fc1: 16 experts in half the layers, 8; the router: none. 9 tensors: 18 forward,
    36 backward; none under per-tensor (current) scaling, none in bf16."""
    monkeypatch.setattr(gemm_scale_work, "BLOCKWISE_CONVERSION_KERNELS", True)
    assert gemm_scale_work.scale_kernels(GEMMS, "fp8", "blockwise", BLACKWELL) == (18.0, 36.0)
    assert gemm_scale_work.scale_kernels(GEMMS, "fp8", "current", BLACKWELL) == (0.0, 0.0)
    assert gemm_scale_work.scale_kernels(GEMMS, "bf16", "blockwise", BLACKWELL) == (0.0, 0.0)
