"""Mutation wave 12 (hM12): the element-wise bytes, CP gather bytes and LM-head loss bytes `train` and `serve`
both take from `ops.layer` / `ops.head`, by hand from the module docstrings (Korthikanti et al. 2022 for the
training passes; the serving engine's 10 h + 3 f per token), and `ops.params.split_stage_layers`' end stages."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops.head import head_ops
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.params import split_stage_layers


def _main(ops, forward: bool = True) -> float:  # type: ignore[no-untyped-def]
    passes = ops.elementwise_fwd if forward else ops.elementwise_bwd
    return float(next(e.bytes for e in passes if e.role == "norms_residuals_rotary_activation"))


def test_training_passes_are_norms_rotary_on_q_and_k_and_the_gated_activation() -> None:
    """llama3-8b, TP 1, no SP, 4,096 tokens: 2 B x (10 h + 2 (q + kv / 2) + (g + 1) f) per token, with h = q =
    4,096, kv = 2 x 8 x 128 = 2,048 (rotary on K only, not V), f = 14,336, g = 2; backward twice the bytes."""
    ops = layer_ops(load_model("llama3-8b"), Layout(tokens=4096.0))
    per_token = 10 * 4096 + 2 * (4096 + 2048 / 2) + 3 * 14336
    assert _main(ops) == 2.0 * 4096 * per_token
    assert _main(ops, forward=False) == 2.0 * _main(ops)


@pytest.mark.parametrize(("model", "tp", "f_act"), [("mixtral-8x7b", 2, 14336 * 2 / 2),
                                                    ("deepseek-v3", 8, (2048 * 8 + 2048) / 8)])
def test_serving_passes_count_every_routed_experts_activation(model: str, tp: int, f_act: float) -> None:
    """Inference: 10 h + 3 f_act per token in 6 kernels, f_act = (f x top-k + shared width) / TP: mixtral top 2 of
    14,336 at TP 2, DeepSeek-V3 top 8 of 2,048 plus a 2,048 shared expert at TP 8."""
    shape = load_model(model)
    ops = layer_ops(shape, Layout(tokens=64.0, tp=tp, phase="inference"))
    assert _main(ops) == pytest.approx(64.0 * (10.0 * shape.hidden_size + 3.0 * f_act) * 2.0, rel=1e-12)
    assert ops.elementwise_fwd[0].kernels == 6.0


def test_cp_gathers_k_and_v_of_every_sequence_of_the_micro_batch() -> None:
    """CP all-gathers K and V forward, reduce-scatters their gradients backward: batch x seq x (K + V width) x 2 B,
    2 x 8,192 x 2,048 x 2 for llama3-8b at TP 1, CP 2."""
    ops = layer_ops(load_model("llama3-8b"), Layout(tokens=8192.0, cp=2, seq_len=8192, batch=2))
    gather = next(c for c in ops.collectives_fwd if c.role == "cp")
    scatter = next(c for c in ops.collectives_bwd if c.role == "cp")
    assert (gather.kind, scatter.kind) == ("all_gather", "reduce_scatter")
    assert gather.bytes == scatter.bytes == 2 * 8192 * 2048 * 2.0
    assert gather.group == 2


def test_training_loss_moves_16_bytes_per_local_logit_and_sampling_8() -> None:
    """fp32 logits, softmax cross-entropy forward and backward over the TP shard of the vocabulary: 16 B per local
    logit in 6 kernels; inference writes and reads the fp32 logits: 8 B in 2 (llama3-8b, 128,256 / 4 per rank)."""
    shape = load_model("llama3-8b")
    local = 128256 / 4
    train = head_ops(shape, 512.0, 4)
    assert (train.elementwise.bytes, train.elementwise.kernels) == (512.0 * local * 16.0, 6.0)
    serve = head_ops(shape, 512.0, 4, "inference")
    assert (serve.elementwise.bytes, serve.elementwise.kernels) == (512.0 * local * 8.0, 2.0)


def test_a_group_of_one_launches_no_collective() -> None:
    """Collective kernels launched: none for a group of one. llama3-8b without SP all-reduces twice per forward
    over TP: 0 launches at TP 1, 2 at TP 2 (CP 1: no gather), on arrays as on one plan's numbers."""
    shape = load_model("llama3-8b")
    arrays = layer_ops(shape, Layout(tokens=np.array([4096.0, 4096.0]), tp=np.array([1, 2])))
    assert list(arrays.collective_launches_fwd(False)) == [0.0, 2.0]
    for tp, launches in ((1, 0.0), (2, 2.0)):
        assert layer_ops(shape, Layout(tokens=4096.0, tp=tp)).collective_launches_fwd(True) == launches


@pytest.mark.parametrize(("tokens", "active"), [(2.0, 8 * (1 - 0.75**2)), (4.0, 8 * (1 - 0.75**4))])
def test_serving_experts_hit_by_t_tokens_each_picking_k_of_e(tokens: float, active: float) -> None:
    """E (1 - (1 - k / E)^T) experts hit by T tokens each picking k of E (mixtral: 2 of 8): 3.5 experts for 2
    tokens (4 routed rows), 5.47 for 4 tokens (8 rows); each hit expert's GEMM takes rows / hit experts."""
    ops = layer_ops(load_model("mixtral-8x7b"), Layout(tokens=tokens, phase="inference"))
    up = next(g for g in ops.gemms if g.role == "expert_up")
    assert up.count == pytest.approx(active, rel=1e-12)
    assert up.m == pytest.approx(2.0 * tokens / active, rel=1e-12)


def test_the_stage_that_holds_the_embedding_builds_a_layer_fewer() -> None:
    """Megatron-Core's even split of L' = L + 1 (the embedding counted) over p stages, the first stage one layer
    fewer (transformer_block.py `get_num_layers_to_build`): 31 layers on 4 stages are 8 / 8 / 8 / 7 with the loss
    counted (last stage short) and 7 / 8 / 8 / 8 with the embedding counted (first stage short)."""
    middle, first, last = split_stage_layers(31, 4, embedding_is_layer=True)
    assert (float(middle), float(first), float(last)) == (8.0, 7.0, 8.0)
    middle, first, last = split_stage_layers(31, 4, loss_is_layer=True)
    assert (float(middle), float(first), float(last)) == (8.0, 8.0, 7.0)
