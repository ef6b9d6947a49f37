"""The transposed fp8 copy by accelerator (`ops.precision.skips_transposed_copy`): Transformer Engine 2.14's
per-tensor quantizers write no transposed copy where the fp8 GEMMs take non-TN layouts (Blackwell), so a cast moves
3 B per element there and 4 B on Hopper; blockwise fp8, MXFP8 and bf16 are unchanged, and no transpose is built
after TP's fp8 all-gather."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import infraplan.ops.precision as precision
from infraplan.catalog import load_accelerator
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.precision import RECIPES, shard_cast_terms, skips_transposed_copy
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_time import cast_bytes_per_element
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays

BLACKWELL = ("b200", "gb200", "b300", "gb300")
DENSE = dict(tp=4, pp=4, vpp=5, seq_len=8192, global_batch=256)


def test_the_catalog_says_which_accelerators_take_non_tn_fp8_gemms() -> None:
    for name in BLACKWELL:
        accelerator = load_accelerator(name)
        assert accelerator.fp8_gemm_layouts == ("tn", "nn", "nt")
        assert "is_non_tn_fp8_gemm_supported" in accelerator.fp8_gemm_layouts_source
        assert KernelRates.for_dtype(accelerator, "bf16").fp8_gemm_layouts == ("tn", "nn", "nt")
    for name in ("h100-sxm", "h200", "h800"):  # unset: TN only
        assert load_accelerator(name).fp8_gemm_layouts == ("tn",)
    spec = load_accelerator("b200").model_dump()
    with pytest.raises(ValidationError, match="fp8_gemm_layouts_source"):
        Accelerator.model_validate({**spec, "fp8_gemm_layouts_source": ""})


def test_only_per_tensor_fp8_on_non_tn_layouts_skips_the_transposed_copy() -> None:
    blackwell, hopper = ("tn", "nn", "nt"), ("tn",)
    assert skips_transposed_copy(blackwell, "current") and skips_transposed_copy(blackwell, "delayed")
    assert not skips_transposed_copy(blackwell, "blockwise")  # its column-wise copy has its own scales
    assert not skips_transposed_copy(hopper, "current") and not skips_transposed_copy(("tn", "nn"), "current")
    # no transpose after the all-gather either (distributed.py:1058-1067)
    assert shard_cast_terms(True, "current", 1.0, 0.0, 0.0, no_transpose=True) == (2.0, 0.0, 0.0)


def _plan(dtype: Dtype) -> PlanArrays:
    return PlanArrays.one_plan(tp=4, pp=1, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=4096, recompute=0, zero=1, dtype=int(dtype), attention=0, order=0,
                               sequence_parallel=1).one_row


def test_cast_bytes_per_element_by_accelerator_and_recipe() -> None:
    current, blockwise = load_stack("nemo-26.04"), load_stack("deepseek-v3")
    blackwell, hopper = ("tn", "nn", "nt"), ("tn",)
    assert cast_bytes_per_element(_plan(Dtype.FP8), current, hopper) == 4.0  # read 2, write 1 + 1 transposed
    assert cast_bytes_per_element(_plan(Dtype.FP8), current, blackwell) == 3.0  # read 2, write 1
    assert cast_bytes_per_element(_plan(Dtype.FP8), blockwise, blackwell) == 4.0
    for dtype in (Dtype.BF16, Dtype.MXFP8, Dtype.NVFP4):
        assert cast_bytes_per_element(_plan(dtype), current, blackwell) == RECIPES[dtype.label].cast_bytes
    for dtype in Dtype:  # the recipe table's own figure, plan by plan
        for stack in (current, blockwise):
            for layouts in (blackwell, hopper):
                assert cast_bytes_per_element(_plan(dtype), stack, layouts) == RECIPES[dtype.label].cast_bytes_on(
                    layouts, stack.fp8.recipe)


def test_blackwell_fp8_steps_are_faster_without_the_copy_and_nothing_else_moves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def steps() -> dict[tuple[str, str], float]:
        clear_one_plan_memo()
        return {(system, dtype): estimate_training("llama3-70b", system, 64, dtype=dtype, **DENSE).step_time_s
                for system, dtype in (("dgx-b200", "fp8"), ("dgx-b200", "bf16"), ("dgx-b200", "mxfp8"),
                                      ("dgx-h100-superpod", "fp8"))}
    on = steps()
    monkeypatch.setattr(precision, "NON_TN_FP8_COPIES", False)
    off = steps()
    clear_one_plan_memo()
    assert on[("dgx-b200", "fp8")] < off[("dgx-b200", "fp8")] < 1.05 * on[("dgx-b200", "fp8")]
    for key in (("dgx-b200", "bf16"), ("dgx-b200", "mxfp8"), ("dgx-h100-superpod", "fp8")):
        assert on[key] == off[key]
