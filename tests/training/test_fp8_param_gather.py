"""`Stack.fp8_param_gather`: Megatron-Bridge's fp8 / MXFP8 presets keep the GEMM weights only in their quantised copy
(Megatron-Core `fp8_param`), and megatron-bridge 0.6.0's NVFP4 preset its NVFP4 copy (`fp4_param_gather` ->
`fp4_param`), so no bf16 weights stay beside it; bf16 keeps its weights."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.ops.precision import RECIPES
from infraplan.training.estimate import estimate_training

NEMO = load_stack("nemo-26.04")
KEPT = NEMO.model_copy(update={"fp8_param_gather": False})
PLAN = dict(tp=4, pp=4, cp=1, vpp=1, seq_len=8192, global_batch=64, micro_batch=1, recompute="full", zero=1)


def _weights(dtype: str, stack: object) -> float:
    result = estimate_training("llama3-70b", "gb200-nvl72", 64, dtype=dtype, stack=stack, **PLAN)  # type: ignore[arg-type]
    return result.memory_breakdown_bytes.weights


def test_the_presets_keep_only_the_quantised_weights() -> None:
    assert NEMO.fp8_param_gather and not load_stack("megatron-core-0.8").fp8_param_gather
    for dtype in ("fp8", "mxfp8", "nvfp4"):
        copy = RECIPES[dtype].weight_copy_bytes
        assert _weights(dtype, NEMO) == pytest.approx(_weights(dtype, KEPT) * copy / (2.0 + copy), rel=1e-12)
    assert _weights("bf16", NEMO) == _weights("bf16", KEPT)  # bf16 has no copy


def test_only_memory_changes() -> None:
    a = estimate_training("llama3-70b", "gb200-nvl72", 64, dtype="fp8", stack=NEMO, **PLAN)  # type: ignore[arg-type]
    b = estimate_training("llama3-70b", "gb200-nvl72", 64, dtype="fp8", stack=KEPT, **PLAN)  # type: ignore[arg-type]
    assert a.step_time_s == b.step_time_s
    assert a.memory_per_gpu_bytes < b.memory_per_gpu_bytes
