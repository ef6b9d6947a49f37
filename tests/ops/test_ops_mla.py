"""MLA, shared experts, first-k dense layers and sliding windows in the one layer model (issue 13 item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops import params
from infraplan.ops.layer import Layout, attention_keys, layer_ops
from infraplan.serving.kv_cache import kv_bytes_per_token, kv_bytes_per_token_model

H, HEADS, Q_LORA, KV_LORA, ROPE, NOPE, V = 7168, 128, 1536, 512, 64, 128, 128


def test_deepseek_v3_kv_cache_is_the_compressed_latent() -> None:
    """61 layers x (512 + 64) x 2 B = 70.3 KB per token in bf16 (DeepSeek-V2 sec. 2.1.2), whatever the TP."""
    shape = load_model("deepseek-v3")
    assert kv_bytes_per_token_model(shape, "bf16") == 61 * 576 * 2 == 70272
    assert kv_bytes_per_token(shape, 8, 1, "bf16") == kv_bytes_per_token(shape, 1, 1, "bf16") == 70272
    mha = 61 * 2 * HEADS * (NOPE + ROPE) * 2  # the decompressed heads would be 4.8 MB
    assert kv_bytes_per_token_model(shape, "bf16") < mha / 60
    assert kv_bytes_per_token_model(shape, "fp8") == 35136


def test_mla_routed_layer_training_flops_equal_the_hand_count() -> None:
    shape = load_model("deepseek-v3")
    routed, _ = shape.layer_kinds()[0]
    m, tp = 8192.0, 4
    ops = layer_ops(routed, Layout(tokens=m, tp=tp))
    attention = (H * (Q_LORA + KV_LORA + ROPE) + (Q_LORA * HEADS * (NOPE + ROPE) + KV_LORA * HEADS * (NOPE + V)
                                                    + HEADS * V * H) / tp)
    ffn = 3 * H * 2048 * (8 + 1) / tp + H * 256  # top-8 routed + 1 shared, each over TP; the router replicated
    assert float(ops.gemm_flops()) == pytest.approx(2.0 * m * (attention + ffn), rel=1e-12)
    # attention core over the decompressed heads: 2 (d_qk + d_v) per pair and head, causal
    core = layer_ops(routed, Layout(tokens=m, tp=tp, seq_len=m)).attention
    assert float(core.flops()) == pytest.approx(2.0 * (NOPE + ROPE + V) * m * m * HEADS / tp * 0.5)


def test_weight_absorption_keeps_the_flops_of_the_kv_up_projection() -> None:
    shape = load_model("deepseek-v3")
    train = layer_ops(shape, Layout(tokens=64.0, tp=8))
    serve = layer_ops(shape, Layout(tokens=64.0, tp=8, phase="inference"))
    assert {g.role for g in serve.gemms} >= {"q_absorb", "v_absorb"} and "kv_up" not in {g.role for g in serve.gemms}
    kv_up = sum(float(g.flops()) for g in train.gemms if g.role == "kv_up")
    absorbed = sum(float(g.flops()) for g in serve.gemms if g.role in ("q_absorb", "v_absorb"))
    assert absorbed == pytest.approx(kv_up)


def test_two_layer_kinds_sum_to_the_model() -> None:
    """L x the mean-layer table = 58 routed layers + 3 dense layers, each priced as its own kind."""
    shape = load_model("deepseek-v3")
    lay = Layout(tokens=4096.0 * 256, tp=1)
    (routed, n_routed), (dense, n_dense) = shape.layer_kinds()
    assert (n_routed, n_dense, dense.ffn_hidden_size, dense.is_moe) == (58, 3, 18432, False)
    kinds = n_routed * float(layer_ops(routed, lay).gemm_flops()) + n_dense * float(layer_ops(dense, lay).gemm_flops())
    assert shape.num_layers * float(layer_ops(shape, lay).gemm_flops()) == pytest.approx(kinds, rel=1e-12)
    # the dense layers have no EP all-to-all: its count is the routed share
    ep = [c for c in layer_ops(shape, Layout(tokens=4096.0, ep=8)).collectives_fwd if c.role == "ep"]
    assert sum(c.count for c in ep) == pytest.approx(2.0 * 58 / 61)


def test_mla_parameters_replicate_the_down_projections_over_tp() -> None:
    shape = load_model("deepseek-v3")
    down = H * (Q_LORA + KV_LORA + ROPE)
    full = shape.attention_params_per_layer()
    assert float(params.attention_params_local(shape, 1)) == full
    assert float(params.attention_params_local(shape, 8)) == pytest.approx(down + (full - down) / 8)
    # the heaviest PP16 stage holds 4 routed layers (the 3 dense layers sit on the lighter first stage)
    stage = float(params.stage_params_local(shape, 1, 16))
    assert stage == pytest.approx(4 * float(params.local_layer_params(shape, 1)))
    layers = shape.total_params() - shape.embedding_params()
    assert float(params.stage_params_local(shape, 1, 1)) == pytest.approx(layers)


def test_mla_activations_keep_the_latents_not_replicated_kv_heads() -> None:
    shape = load_model("deepseek-v3")
    one = float(params.activation_bytes_per_token_layer(shape, 1, 0, 4096, False))
    eight = float(params.activation_bytes_per_token_layer(shape, 8, 1, 4096, False))
    latents = 2.0 * (Q_LORA + KV_LORA + ROPE)
    assert eight > latents and eight < one / 6


def test_sliding_window_layers_see_fewer_keys() -> None:
    shape = load_model("gpt-oss-120b")  # 18 of 36 layers slide over 128 keys
    s, w = 8192.0, 128.0
    assert float(attention_keys(shape, s)) == pytest.approx(0.5 * s + 0.5 * (2 * w - w * w / s))
    assert float(attention_keys(shape, 64.0)) == 64.0  # shorter than the window: every key
    dense = load_model("llama3-8b")
    assert np.array_equal(attention_keys(dense, np.array([1024, 4096])), np.array([1024.0, 4096.0]))


def test_training_model_flops_count_the_active_layers() -> None:
    from infraplan.training.flops import forward_flops_per_token_layer

    shape = load_model("deepseek-v3")
    weights, _ = forward_flops_per_token_layer(shape, 4096)
    layers = shape.active_params(input_embedding=False) - shape.vocab_size * shape.hidden_size
    assert shape.num_layers * weights == pytest.approx(2.0 * layers, rel=1e-12)
