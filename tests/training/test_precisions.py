"""Training precisions (`ops.precision`): fp8, MXFP8 and NVFP4 recipes on the accelerators that have them."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.ops.precision import RECIPES, recipe
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

DENSE = dict(tp=4, pp=4, seq_len=8192, global_batch=256, stack="nemo-26.04")


def test_b200_nvfp4_beats_fp8_beats_bf16_on_a_large_dense_model() -> None:
    steps = {d: estimate_training("llama3-70b", "dgx-b200", 64, dtype=d, **DENSE) for d in Dtype.labels()}
    assert steps["nvfp4"].step_time_s < steps["fp8"].step_time_s < steps["bf16"].step_time_s
    assert steps["mxfp8"].step_time_s < steps["bf16"].step_time_s
    # MFU is quoted against the peak of the format the GEMMs run in
    b200 = load_accelerator("b200")
    for d in ("bf16", "fp8", "nvfp4"):
        r = steps[d]
        assert r.mfu == pytest.approx(r.model_tflops_per_gpu * 1e12 / b200.peak(d), rel=1e-9)


def test_nvfp4_keeps_some_layers_in_bf16_so_it_is_not_twice_fp8() -> None:
    """The NVFP4 recipe keeps 10 of 62 blocks in bf16 (arXiv:2509.25149): its GEMMs are not 2x fp8's."""
    fp8 = estimate_training("llama3-70b", "dgx-b200", 64, dtype="fp8", **DENSE)
    fp4 = estimate_training("llama3-70b", "dgx-b200", 64, dtype="nvfp4", **DENSE)
    speedup = fp8.breakdown_s.compute / fp4.breakdown_s.compute
    assert 1.0 < speedup < 1.9
    assert RECIPES["nvfp4"].bf16_layer_share == pytest.approx(10 / 62)


def test_hopper_refuses_nvfp4_and_mxfp8_in_one_line() -> None:
    for d in ("nvfp4", "mxfp8"):
        with pytest.raises(InputError) as err:
            estimate_training("llama3-70b", "dgx-h100-superpod", 64, dtype=d, **DENSE)
        assert "h100-sxm" in str(err.value) and d in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="--dtype must be one of"):
        recipe("fp6")


def test_low_precision_weight_copies_cost_memory() -> None:
    # beside the bf16 weights (a stack without `fp8_param_gather`: tests/training/test_fp8_param_gather.py)
    kept = {**DENSE, "stack": load_stack("nemo-26.04").model_copy(update={"fp8_param_gather": False})}
    bf16 = estimate_training("llama3-70b", "dgx-b200", 64, dtype="bf16", **kept).memory_breakdown_bytes
    fp8 = estimate_training("llama3-70b", "dgx-b200", 64, dtype="fp8", **kept).memory_breakdown_bytes
    mx = estimate_training("llama3-70b", "dgx-b200", 64, dtype="mxfp8", **kept).memory_breakdown_bytes
    assert fp8.weights == pytest.approx(bf16.weights * 3 / 2)  # bf16 + one 1-byte copy
    assert mx.weights == pytest.approx(bf16.weights * (2 + 2 * (1 + 1 / 32)) / 2)  # row- and column-wise copies


def test_the_search_offers_the_formats_the_accelerator_has() -> None:
    kw = dict(seq_len=4096, global_batch=64, top=1, dtype="auto")
    b200 = search_plans("llama3-8b", "dgx-b200", 8, **kw)
    assert b200.best is not None and b200.best.config.dtype in ("nvfp4", "mxfp8")
    with pytest.raises(InputError, match="h100-sxm supports bf16, fp8"):
        search_plans("llama3-8b", "dgx-h100-superpod", 8, seq_len=4096, global_batch=64, dtype="nvfp4")
