"""DCN-v2 cross layers: the per-layer pointwise gate / residual pass and the cross network's own precision."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile
from infraplan.recsys import estimate
from infraplan.recsys.estimate import evaluate_batches

BATCHES = np.array([1024, 65536])


def _h200(model_update: dict[str, str]) -> dict:
    model = load_recsys_model("mlperf-dlrm-dcnv2").model_copy(update=model_update)
    return evaluate_batches(model, load_accelerator("h200"), load_recsys_profile("h200"), BATCHES)


def test_h200_has_its_own_recsys_profile() -> None:
    profile = load_recsys_profile("h200")
    assert profile.source.strip() and profile.tiers[0].label == "HBM3e"
    assert estimate.estimate_recsys("mlperf-dlrm-dcnv2", "h200").profile == "h200"


def test_dcn_pointwise_pass_reads_three_tensors_and_writes_one() -> None:
    """x_{l+1} = x0 * y + x_l: 4 x width bytes per layer and sample at the activation bandwidth (memory-bound)."""
    model = load_recsys_model("mlperf-dlrm-dcnv2").model_copy(update={"dtype": "int8", "embedding_dtype": "int8"})
    acc = load_accelerator("h200")
    out = evaluate_batches(model, acc, load_recsys_profile("h200"), BATCHES)
    act_bw = acc.memory_bandwidth_bytes_per_s * acc.efficiency.memory_bandwidth_fraction
    expected = BATCHES * 3 * 4 * 3456 * 1.0 / act_bw
    assert out["breakdown_s"]["interaction"] == pytest.approx(expected, rel=1e-12)


def test_dcn_pointwise_pass_slows_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    update = {"dtype": "int8", "embedding_dtype": "int8"}
    with_pass = _h200(update)
    monkeypatch.setattr(estimate, "DCN_POINTWISE_PASS", False)
    without = _h200(update)
    assert np.all(without["breakdown_s"]["interaction"] == 0.0)
    assert np.all(with_pass["qps"] < without["qps"])
    # the element-wise FLOPs are counted once: in the pass when priced, in the vector term otherwise
    assert np.all(with_pass["breakdown_s"]["vector"] < without["breakdown_s"]["vector"])


def test_interaction_dtype_prices_the_cross_layers_in_their_own_precision() -> None:
    int8, fp16 = _h200({"dtype": "int8"}), _h200({"dtype": "fp16"})
    mixed = _h200({"dtype": "int8", "interaction_dtype": "fp16"})
    for key in ("mlp_gemm", "interaction"):
        low, mid, high = (x["breakdown_s"][key] for x in (int8, mixed, fp16))
        assert np.all(low <= mid) and np.all(mid <= high)
    assert np.all(int8["breakdown_s"]["mlp_gemm"] < mixed["breakdown_s"]["mlp_gemm"])
    assert np.all(mixed["breakdown_s"]["mlp_gemm"] < fp16["breakdown_s"]["mlp_gemm"])
    m = load_recsys_model("mlperf-dlrm-dcnv2")
    int8_bytes = m.model_copy(update={"dtype": "int8"}).dense_bytes()
    mixed_bytes = m.model_copy(update={"dtype": "int8", "interaction_dtype": "fp16"}).dense_bytes()
    cross = sum(k * n + n for part, k, n in m.gemms() if part == "interaction")
    assert mixed_bytes == int8_bytes + cross  # int8 everywhere + one more byte per cross weight
    assert m.gemm_dtype("interaction") == m.dtype == "fp16"  # the preset: no separate cross precision
