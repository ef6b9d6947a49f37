"""The precision-recipe terms of a layer (`training.layer_time`): the recipe's values by `Dtype` code
(`ops.precision`), the bf16 layer share and the cast bytes per element, and a single estimate's terms of its
precision and stack, kept once per stack and dtype (`one_plan_terms`; hP13, session 38). Moved from
training/layer_time.py, which re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import ArrayLike
from infraplan.ops.params import PLAN_SHAPE_COUNTS
from infraplan.ops.precision import (
    GATHERED_TRANSPOSE_RECIPES,
    RECIPES,
    PrecisionRecipe,
    shard_cast_terms,
    skips_transposed_copy,
)
from infraplan.scalar_path import larger, pick
from infraplan.training.enums import Dtype
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes
from infraplan.training.plan import PlanArrays

ACT = 2.0  # bf16 activations and communication payloads
_RECIPE_VALUES: dict[str, Callable[[PrecisionRecipe], float]] = {
    "cast_bytes": lambda r: r.cast_bytes,
    "operand_bytes": lambda r: r.operand_bytes,
    "bf16_layer_share": lambda r: r.bf16_layer_share,
    "amax_read_passes": lambda r: r.amax_read_passes,
    "transposed_copy_bytes": lambda r: r.transposed_copy_bytes,
}
_RECIPE_TABLES: dict[str, np.ndarray] = {}  # per-dtype code tables, built once (RECIPES is a constant)
_RECIPE_FLOATS: dict[str, tuple[float, ...]] = {}  # the same tables as Python floats, for one plan's code


def recipe_column(plan: PlanArrays, name: str) -> np.ndarray:
    """`_RECIPE_VALUES[name]` of each plan's precision recipe (`ops.precision`), as an array over plans (one plan's
    code, a Python int: the float, looked up without numpy indexing)."""
    if type(plan.dtype) is int:  # type: ignore[comparison-overlap]
        floats = _RECIPE_FLOATS.get(name)
        if floats is None:
            floats = _RECIPE_FLOATS[name] = tuple(_recipe_table(name).tolist())
        return floats[plan.dtype]
    return _recipe_table(name)[plan.dtype]


def _recipe_table(name: str) -> np.ndarray:
    """`_RECIPE_VALUES[name]` by `Dtype` code."""
    table = _RECIPE_TABLES.get(name)
    if table is None:
        table = np.array([_RECIPE_VALUES[name](RECIPES[d.label]) for d in Dtype], dtype=np.float64)
        _RECIPE_TABLES[name] = table
    return table


def bf16_layer_share(plan: PlanArrays, stack: Stack) -> ArrayLike:
    """Share of the layers whose GEMMs stay in bf16: the recipe's (`ops.precision`), for NVFP4 the stack's
    `nvfp4_bf16_layer_share` where it sets one."""
    share = recipe_column(plan, "bf16_layer_share")
    if stack.nvfp4_bf16_layer_share is None:
        return share
    chosen: ArrayLike = pick(plan.dtype == int(Dtype.NVFP4), stack.nvfp4_bf16_layer_share, share)
    return chosen


def cast_bytes_per_element(plan: PlanArrays, stack: Stack, fp8_gemm_layouts: tuple[str, ...]) -> ArrayLike:
    """Bytes moved per element a plan's recipe casts, less the transposed copy where the accelerator's fp8 GEMMs take
    non-TN layouts and the stack's fp8 scaling is per-tensor (`ops.precision.PrecisionRecipe.cast_bytes_on`, by
    plan)."""
    cast_bytes: ArrayLike = recipe_column(plan, "cast_bytes")
    if skips_transposed_copy(fp8_gemm_layouts, stack.fp8.recipe):
        cast_bytes = cast_bytes - recipe_column(plan, "transposed_copy_bytes")
    return cast_bytes


def one_plan_terms(plan: PlanArrays, fp8: Any, stack: Stack, fp8_gemm_layouts: tuple[str, ...]) -> tuple[Any, ...]:
    """The terms of a `one_row` plan that `_layout` and `layer_times_but_ep` derive from its dtype code, `fp8`, the
    stack and `fp8_gemm_layouts` alone, by the same calls the array path makes, kept by the stack's identity
    (frozen; the entry holds it) and those three in `ops.params.PLAN_SHAPE_COUNTS`, emptied with the one-plan memo's
    pricings (tests that patch a recipe switch clear it): a single estimate's plan of a stack and precision seen
    before reads them in one lookup (hP13, issue 18). The terms: `_layout`'s
    (bf16 share, cast bytes on the quantised layers, shard cast terms (amax, norm amax, transposed copy), MoE
    fields), then the layer's (picked bf16 share, per-GEMM amax passes and extra kernels, cast bytes per element
    for the element-wise passes, main-gradient wgrad bytes, and the quantised TP all-gathers' forward and backward
    byte ratios, None on stacks that gather in bf16). Python floats, bools and strings (immutable)."""
    key = ("layer_recipe", plan.dtype, fp8, fp8_gemm_layouts)
    kept = PLAN_SHAPE_COUNTS.get(stack, key)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    share = bf16_layer_share(plan, stack)
    moe = stack.moe
    layout = (share, cast_bytes_per_element(plan, stack, fp8_gemm_layouts) * (1.0 - share),
              *shard_cast_terms(plan.dtype == int(Dtype.FP8), stack.fp8.recipe, stack.fp8.amax_read_passes,
                                recipe_column(plan, "amax_read_passes"), share,
                                skips_transposed_copy(fp8_gemm_layouts, stack.fp8.recipe)),
              moe.load_factor, moe.flex_backend or moe.dispatcher,
              (stack.stack_class == "megatron" and moe.expert_gemm == "per_expert" and moe.flex_backend != "hybridep"),
              (plan.dtype == int(Dtype.MXFP8)) & moe.fused_grouped_mlp if moe.fused_grouped_mlp else False,
              stack.qkv_split_copies)
    bf16_share = pick(fp8, bf16_layer_share(plan, stack), 0.0)
    is_fp8 = plan.dtype == int(Dtype.FP8)
    layer = (bf16_share, pick(is_fp8, stack.fp8.amax_read_passes, recipe_column(plan, "amax_read_passes")),
             pick(is_fp8, stack.fp8.extra_kernels_per_gemm, recipe_column(plan, "amax_read_passes")),
             larger(cast_bytes_per_element(plan, stack, fp8_gemm_layouts), 1e-9), main_grad_wgrad_bytes(stack),
             quantised_gather_ratios(plan, fp8, stack, bf16_share))
    return PLAN_SHAPE_COUNTS.put(stack, key, (layout, layer))  # type: ignore[no-any-return]


def quantised_gather_ratios(plan: PlanArrays, fp8: Any, stack: Stack, bf16_share: Any) -> tuple[Any, Any] | None:
    """(forward, backward) bytes of the SP all-gathers over bf16's where the stack gathers in the GEMMs' format
    (`Stack.quantized_tp_all_gather`, `training.tp_quantised_collectives`): the recipe's operand bytes on the quantised
    layers and bf16 on the `bf16_share` (the picked share: 0 where not `fp8`), the backward's fp8 transposed copy where
    the recipe does not gather the transpose; None on a stack that gathers in bf16. The one implementation of
    `one_plan_terms`' kept ratios, `layer_time`'s grid path and `sp_regather.frozen_regather_s`: one plan's floats or
    arrays over plans."""
    if not stack.quantized_tp_all_gather:
        return None
    operand, kept_bf16 = recipe_column(plan, "operand_bytes") * (1.0 - bf16_share), ACT * bf16_share
    per_tensor = 1.0 if stack.fp8.recipe in GATHERED_TRANSPOSE_RECIPES else 2.0  # fp8: transpose after the gather
    copies = pick(plan.dtype == int(Dtype.FP8), per_tensor, 2.0)
    return pick(fp8, (operand + kept_bf16) / ACT, 1.0), pick(fp8, (copies * operand + kept_bf16) / ACT, 1.0)
