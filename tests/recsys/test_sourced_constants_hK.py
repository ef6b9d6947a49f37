"""DCN-v2's pointwise FLOPs and the vector rate of a part without a recsys profile (hK, session 34)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile
from infraplan.recsys import estimate
from infraplan.recsys.estimate import dcn_pointwise_flops, estimate_recsys, evaluate_batches, vector_rate

BATCHES = np.array([1024.0, 4096.0])
WIDTH = 26 * 128 + 128  # MLPerf DLRM-v2's cross width: 26 pooled tables of 128 plus the bottom MLP's 128 = 3456


def test_dcn_pointwise_work_is_bias_gate_and_residual_three_flops_an_element() -> None:
    """TorchRec's LowRankCrossNet (the MLPerf DLRM-v2 reference's cross net) computes x0 * (W V x + b) + x with
    bias-free GEMMs: the bias add, the product and the residual add, 3 FLOPs per element and layer. 3 layers of
    3456: 31,104 FLOPs per sample, also inside the model's element-wise total."""
    model = load_recsys_model("mlperf-dlrm-dcnv2")
    assert dcn_pointwise_flops(model) == 3 * WIDTH * 3 == 31_104
    pooling = sum(t.count * t.pooling * t.dim for t in model.tables)
    activations = sum(model.bottom_mlp) + sum(model.top_mlp)
    assert model.vector_flops_per_sample() == pooling + activations + 31_104


def test_a_slow_vector_unit_prices_the_dcn_pass_by_its_three_flops_an_element() -> None:
    """At 1 GFLOP/s of vector rate the pass is compute-bound: B x 31,104 FLOPs / 1e9 FLOP/s (2 an element would
    give two thirds of it)."""
    profile = load_recsys_profile("h200").model_copy(update={"vector_flops_per_s": 1e9})
    out = evaluate_batches(load_recsys_model("mlperf-dlrm-dcnv2"), load_accelerator("h200"), profile, BATCHES)
    assert out["breakdown_s"]["interaction"] == pytest.approx(BATCHES * 31_104 / 1e9, rel=1e-12)


def test_the_vector_rate_is_the_profiles_then_the_catalog_fp32_then_a_sixteenth_of_the_peak() -> None:
    h200, h800, b200 = (load_accelerator(a) for a in ("h200", "h800", "b200"))
    default = load_recsys_profile("default")
    assert vector_rate(h200, load_recsys_profile("h200"), "fp16") == (133.8e12, None)  # H100 datasheet fp16 non-tensor
    rate, note = vector_rate(h800, default, "fp16")
    assert rate == 67e12  # H800's catalog fp32 (CUDA-core) peak, not 989 / 16 = 61.8 TFLOP/s
    assert note is not None and "ASSUMED" in note and "fp32" in note and "67 TFLOP/s" in note
    rate, note = vector_rate(b200, default, "fp16")  # B200 lists no fp32: 2,250 / 16 TFLOP/s
    assert rate == pytest.approx(2250e12 / 16)
    assert note is not None and "1/16" in note and "140.6 TFLOP/s" in note


def test_the_answer_names_the_assumed_vector_rate_and_a_profiled_part_has_none() -> None:
    assert estimate_recsys("mlperf-dlrm-dcnv2", "h200").figures_note is None
    note = estimate_recsys("mlperf-dlrm-dcnv2", "mi300x").figures_note
    assert note is not None and "mi300x: vector (element-wise) rate ASSUMED" in note and "163.4 TFLOP/s" in note


def test_the_fallback_rate_is_the_one_the_batch_is_priced_at() -> None:
    """H800 on the default profile (no vector rate), element-wise work at its 67 TFLOP/s fp32 peak: the vector term
    is B x the non-DCN element-wise FLOPs / 67e12."""
    model = load_recsys_model("mlperf-dlrm-dcnv2")
    out = evaluate_batches(model, load_accelerator("h800"), load_recsys_profile("default"), BATCHES)
    flops = model.vector_flops_per_sample() - (31_104 if estimate.DCN_POINTWISE_PASS else 0)
    assert out["breakdown_s"]["vector"] == pytest.approx(BATCHES * flops / 67e12, rel=1e-12)
