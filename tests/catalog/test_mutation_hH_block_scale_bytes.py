"""Block-scaled formats carry their scale's share of a byte per element (hH mutation spot-check, session 33).

- NVFP4: 4-bit E2M1 elements in 16-element blocks, one FP8 E4M3 scale per block (NVIDIA, "Introducing NVFP4 for
  Efficient and Accurate Low-Precision Inference", 2025; TE 2.14 NVFP4BlockScaling): 0.5 + 1/16 = 0.5625 B.
- MXFP8 / MXFP4: OCP Microscaling Formats (MX) v1.0, blocks of 32 elements with one 8-bit E8M0 scale:
  1 + 1/32 and 0.5 + 1/32 B.
An NVFP4 block of 32 (0.53125 B) survived tests/ops, tests/catalog and the training precision tests.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.ops.precision import RECIPES


@pytest.mark.parametrize(("dtype", "element_bits", "block", "scale_bits"),
                         [("nvfp4", 4, 16, 8), ("mxfp8", 8, 32, 8), ("mxfp4", 4, 32, 8)])
def test_block_scaled_bytes_per_element(dtype: str, element_bits: int, block: int, scale_bits: int) -> None:
    assert DTYPE_BYTES[dtype] == pytest.approx((element_bits + scale_bits / block) / 8.0, rel=1e-12)


def test_nvfp4_gemm_operands_are_0_5625_bytes() -> None:
    assert RECIPES["nvfp4"].operand_bytes == pytest.approx(0.5625, rel=1e-12)
