"""The shared layer op table: FLOPs from the real shapes, GQA/MoE/TP layouts, collectives by layout."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops.head import flops_per_token, head_ops
from infraplan.ops.layer import Layout, layer_ops

DENSE_AND_MOE = ["llama3-8b", "llama3-70b", "gpt3-175b", "bloom-176b", "mixtral-8x7b", "mixtral-8x22b"]


@pytest.mark.parametrize("name", DENSE_AND_MOE)
def test_training_flops_per_token_are_six_times_the_active_matrix_parameters(name: str) -> None:
    """3 x forward GEMM FLOPs = 6 N_active, N_active without the input embedding (a lookup, no FLOPs)."""
    shape = load_model(name)
    lookup = 0 if shape.tied_embeddings else shape.vocab_size * shape.hidden_size
    assert 3.0 * flops_per_token(shape) == pytest.approx(6.0 * (shape.active_params() - lookup), rel=1e-12)


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_tp_splits_the_layer_gemm_flops(tp: int) -> None:
    shape = load_model("llama3-70b")  # 8 KV heads: replicated at TP 16, split below
    one = layer_ops(shape, Layout(tokens=4096.0)).gemm_flops()
    assert layer_ops(shape, Layout(tokens=4096.0, tp=tp)).gemm_flops() == pytest.approx(one / tp, rel=1e-12)


def test_kv_heads_below_tp_are_replicated_in_the_qkv_gemm() -> None:
    shape = load_model("llama3-70b")  # 64 query heads, 8 KV heads, head_dim 128
    qkv = {tp: layer_ops(shape, Layout(tokens=1.0, tp=tp)).gemms[0] for tp in (8, 16)}
    assert qkv[8].n == 64 * 128 / 8 + 2 * 1 * 128
    assert qkv[16].n == 64 * 128 / 16 + 2 * 1 * 128  # still one K and one V head per GPU


def test_moe_training_feeds_each_local_expert_its_share_of_the_ep_group() -> None:
    shape = load_model("mixtral-8x7b")  # 8 experts, top 2
    ops = layer_ops(shape, Layout(tokens=np.array([4096.0]), ep=np.array([2])))
    up = next(g for g in ops.gemms if g.role == "expert_up")
    assert up.count == 4.0  # E / EP local experts
    assert up.m[0] == 4096 * 2 * 2 / 8  # tokens * top_k * EP / E
    assert any(g.role == "router" and g.n == 8 for g in ops.gemms)


def test_moe_inference_activates_at_most_the_routed_experts() -> None:
    shape = load_model("mixtral-8x7b")
    one_token = layer_ops(shape, Layout(tokens=np.array([1.0]), phase="inference"))
    up = next(g for g in one_token.gemms if g.role == "expert_up")
    assert up.count[0] == 2.0 and up.m[0] == 1.0  # one token reads 2 experts' weights, not 8
    many = layer_ops(shape, Layout(tokens=np.array([1024.0]), phase="inference"))
    assert next(g for g in many.gemms if g.role == "expert_up").count[0] == 8.0


def test_serving_ep_inside_tp_has_no_all_to_all_but_wide_ep_and_training_do() -> None:
    """EP inside the TP group (no attention DP): tokens are replicated, the TP all-reduce combines the experts."""
    shape = load_model("mixtral-8x7b")
    m = np.array([1024.0])

    def a2a(lay: Layout) -> float:
        (c,) = [c for c in layer_ops(shape, lay).collectives_fwd if c.role == "ep"]
        return float(np.sum(c.launches()))

    assert a2a(Layout(tokens=m, tp=8, ep_inside_tp=8, phase="inference")) == 0.0
    assert a2a(Layout(tokens=m, tp=1, ep=8, ep_inside_tp=1, phase="inference")) == 2.0  # wide EP: dispatch + combine
    assert a2a(Layout(tokens=m, ep=np.array([8]))) == 2.0  # training EP
    tp_ar = [c for c in layer_ops(shape, Layout(tokens=m, tp=8, ep_inside_tp=8, phase="inference")).collectives_fwd
             if c.role == "tp" and c.kind == "all_reduce"]
    assert sum(float(np.sum(c.launches())) for c in tp_ar) == 2.0  # attention + MoE output all-reduces remain


def test_tp_collectives_follow_sequence_parallelism_and_phase() -> None:
    shape = load_model("llama3-8b")
    lay = Layout(tokens=np.array([8192.0, 8192.0]), tp=np.array([8, 8]), sequence_parallel=np.array([True, False]))
    by_kind = {c.kind: c.launches() for c in layer_ops(shape, lay).collectives_fwd if c.role == "tp"}
    assert list(by_kind["all_gather"]) == [2.0, 0.0] and list(by_kind["reduce_scatter"]) == [2.0, 0.0]
    assert list(by_kind["all_reduce"]) == [0.0, 2.0]
    inference = layer_ops(shape, Layout(tokens=np.array([64.0]), tp=8, phase="inference"))
    assert {c.kind for c in inference.collectives_fwd if c.role == "tp" and c.launches().any()} == {"all_reduce"}
    assert not any(c.role == "ep" for c in inference.collectives_fwd)  # dense: no all-to-all


def test_cp_gathers_k_and_v_forward_and_scatters_their_gradients_backward() -> None:
    shape = load_model("llama3-70b")
    lay = Layout(tokens=4096.0, tp=8, cp=2, seq_len=8192, batch=1)
    ops = layer_ops(shape, lay)
    (fwd,) = [c for c in ops.collectives_fwd if c.role == "cp"]
    (bwd,) = [c for c in ops.collectives_bwd if c.role == "cp"]
    assert (fwd.kind, bwd.kind) == ("all_gather", "reduce_scatter")
    assert fwd.bytes == 8192 * 2 * 1 * 128 * 2.0  # whole sequence of the local K and V head, bf16
    assert fwd.stride == 8  # CP peers sit TP ranks apart


def test_fp8_casts_only_when_asked_and_backward_moves_twice_the_bytes() -> None:
    shape = load_model("llama3-8b")
    ops = layer_ops(shape, Layout(tokens=np.array([4096.0, 4096.0]), fp8_casts=np.array([False, True])))
    main_fwd, cast_fwd, _ = ops.elementwise_fwd  # (and the casts on the sequence shard)
    main_bwd, *_ = ops.elementwise_bwd
    assert list(np.broadcast_to(cast_fwd.mask, (2,))) == [False, True]
    assert np.allclose(main_bwd.bytes, 2.0 * main_fwd.bytes)


def test_attention_core_counts_causal_pairs() -> None:
    shape = load_model("llama3-8b")
    core = layer_ops(shape, Layout(tokens=2048.0, tp=2, seq_len=2048)).attention
    assert core.heads == 16 and core.head_dim == 128
    assert core.flops() == 4.0 * 2048 * 2048 * 16 * 128 / 2


def test_lm_head_is_vocab_parallel() -> None:
    shape = load_model("llama3-8b")
    train = head_ops(shape, 4096.0, 8)
    assert train.gemm.n == shape.vocab_size / 8 and not train.collectives
    infer = head_ops(shape, 16.0, 8, phase="inference")
    (gather,) = infer.collectives
    assert gather.kind == "all_gather" and gather.bytes == 16 * shape.vocab_size * 2.0
