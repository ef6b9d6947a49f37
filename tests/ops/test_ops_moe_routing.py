"""MoE router and token-permutation passes of the training layer table (Megatron-Core all-to-all dispatcher)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.moe_routing import moe_routing_passes


def test_permutation_bytes_follow_top_k_hidden_and_local_experts() -> None:
    shape = load_model("gpt-oss-120b")  # h 2880, top-4, 128 experts
    one = moe_routing_passes(shape, 4096.0, 8)
    h, k = 2880.0, 4.0
    permute = 2.0 * 4096 * h * (2.0 + 2.0 * k + 4.0 * k)  # permute, sort, unsort, unpermute (bf16)
    assert float(one[0]) == pytest.approx(permute + 16.0 * 4096 * 128)
    # one local expert per rank (EP = E): no chunk sort / unsort after the all-to-all
    alone = moe_routing_passes(shape, 4096.0, 128)
    assert float(alone[0]) == pytest.approx(2.0 * 4096 * h * (2.0 + 2.0 * k) + 16.0 * 4096 * 128)
    # the busiest rank sorts its larger share under imbalanced routing
    assert float(moe_routing_passes(shape, 4096.0, 8, 1.25)[0]) > float(one[0])


def test_dense_models_have_no_routing_pass_and_dense_kinds_weigh_zero() -> None:
    dense = layer_ops(load_model("llama3-8b"), Layout(tokens=4096.0, seq_len=4096))
    assert all(e.role != "moe_routing" for e in dense.elementwise_fwd)
    dsv3 = load_model("deepseek-v3")  # 3 of 61 layers dense: the mean table carries 58/61 of the routed pass
    (mean,) = [e for e in layer_ops(dsv3, Layout(tokens=4096.0, seq_len=4096)).elementwise_fwd
               if e.role == "moe_routing"]
    routed = moe_routing_passes(dsv3, 4096.0, 1)
    assert float(mean.bytes) == pytest.approx(float(routed[0]) * 58 / 61)
    assert np.isclose(mean.kernels, 9.0 * 58 / 61)


def test_backward_moves_the_same_routing_bytes() -> None:
    ops = layer_ops(load_model("qwen3-30b-a3b"), Layout(tokens=np.array([2048.0, 4096.0]), ep=8, seq_len=4096))
    (fwd,) = [e for e in ops.elementwise_fwd if e.role == "moe_routing"]
    (bwd,) = [e for e in ops.elementwise_bwd if e.role == "moe_routing"]
    assert np.allclose(fwd.bytes, bwd.bytes) and fwd.bytes[1] == pytest.approx(2.0 * fwd.bytes[0])
