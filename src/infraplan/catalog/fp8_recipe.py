"""An fp8 scaling recipe of a training stack (`catalog.stacks.Stack.fp8`): what it costs beyond the casts.

Split out of `catalog.stacks` (hL, session 57: that module at the 400-line cap); `catalog.stacks` re-exports it.
Consumers: `ops.precision` (amax passes, extra kernels, rate multiplier), `training.fp8_dpa` and
`training.attention_core` (fp8 dot-product attention).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from infraplan.catalog.schemas import Spec

Fp8RecipeName = Literal["delayed", "current", "blockwise"]  # MXFP8: `--dtype mxfp8` (`_mx_is_a_precision`)


class Fp8Recipe(Spec):
    """An fp8 scaling recipe and the costs it adds beyond the cast + transpose of every GEMM operand.

    `amax_read_passes`: extra reads of each cast tensor (in units of its bf16 bytes) to find its scale before
    casting (current scaling: one; delayed scaling reuses last step's amax: zero; block/MX scales are found
    inside the cast kernel: zero). `extra_kernels_per_gemm`: kernels launched per GEMM besides the fused
    cast-transpose (current scaling: the amax kernel before the cast; delayed scaling folds the amax into the
    cast and updates all scales in one kernel per step, Transformer Engine). `gemm_rate_multiplier`: fp8 GEMM
    rate relative to the accelerator's tensor-wise fp8 rate, beyond the accelerator's measured
    `fp8_block_matmul_ratio` that `blockwise` already takes (`ops.precision.scaling_rate_ratio`).
    """

    recipe: Fp8RecipeName
    amax_read_passes: float = Field(0.0, ge=0)
    extra_kernels_per_gemm: float = Field(0.0, ge=0)
    gemm_rate_multiplier: float = Field(1.0, gt=0, le=1.5)
    dot_product_attention: bool = Field(
        False, description="fp8 plans under a delayed / current recipe run the attention core in fp8 (Transformer "
        "Engine's fp8_dpa, Megatron's fp8_dot_product_attention: cuDNN's FP8 fused attention, its casts and saved "
        "tensors; `training.fp8_dpa`, `training.attention_core.fp8_cast_times`)")

    @field_validator("recipe", mode="before")
    @classmethod
    def _mx_is_a_precision(cls, value: object) -> object:
        """`mx` names MXFP8, which is a precision of its own here (`--dtype mxfp8`, `ops.precision.RECIPES`), not a
        scaling of `--dtype fp8`: a stack file's `fp8: {recipe: mx}` was priced as per-tensor fp8 (1.217 s a step of
        Llama 3 8B on 8 B200 where `--dtype mxfp8` prices 1.137 s) and ran on Hopper, where Transformer Engine
        refuses MXFP8 ("Device compute capability 10.0 or higher required for MXFP8 execution", TE 2.14
        pytorch/quantization.py:62-68, `check_mxfp8_support`). Refused in one line (hF58)."""
        if value == "mx":
            raise ValueError("mx is MXFP8, a precision of its own: give --dtype mxfp8 (Blackwell: Transformer Engine "
                             "needs compute capability 10.0, TE 2.14 pytorch/quantization.py:62-68); a stack's fp8 "
                             "recipe scales --dtype fp8 plans: delayed, current or blockwise")
        return value
