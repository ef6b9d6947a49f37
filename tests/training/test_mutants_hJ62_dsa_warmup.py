"""Mutant-killing checks of `training.dsa_warmup` (hJ, session 62): DeepSeek-V3.2's dense warm-up step against hand
counts from the model's config (index_n_heads 64, index_head_dim 128, q_lora_rank 1,536, hidden 7,168, 61 layers,
vocabulary 129,280) and the physics the module docstring names: a CP rank scores its own queries, the fp32 logits
bound the scores on a slow memory, the weight gradients are the transposed GEMMs, the forward half of the p2p chain,
the indexer's own layers on a stage, its gradients' wire dtype, the stack's optimizer bytes, what the backward keeps."""

from __future__ import annotations

import dataclasses
import math

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.training import dsa_warmup
from infraplan.training.attention_core import INDEXER_KERNELS
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.flops import forward_flops_per_token_layer
from infraplan.training.one_plan_memo import cluster_pricing

PLAN = dict(tp=8, global_batch=16, dtype="fp8", recompute="full", zero=1)
H, Q_LORA, HEADS, DIM, LAYERS, VOCAB = 7168, 1536, 64, 128, 61, 129280
PER_LAYER = Q_LORA * HEADS * DIM + H * (DIM + HEADS)  # wq_b, wk, weights_proj: 13,959,168
PAIR = 2.0 * HEADS * DIM  # one indexer score: heads x dim multiply-adds


def _point(seq: int = 4096, gpus: int = 128, stack: object = "deepseek-v3", **kw: object):  # type: ignore[no-untyped-def]
    plan = {**PLAN, "ep": 16, **kw}
    return resolve_training("deepseek-v3.2", "h800", gpus, seq_len=seq, stack=stack, **plan)  # type: ignore[arg-type]


def _rates(point):  # type: ignore[no-untyped-def]
    return cluster_pricing(point.cluster, point.profile).rates


def _warm(seq: int = 4096, gpus: int = 128, stack: object = "deepseek-v3", **kw: object):  # type: ignore[no-untyped-def]
    plan = {**PLAN, "ep": 16, **kw}
    return estimate_training("deepseek-v3.2", "h800", gpus, seq_len=seq, stack=stack, dsa_stage="warmup",  # type: ignore[arg-type]
                             **plan)


def test_a_cp_rank_scores_its_own_queries() -> None:
    """Megatron's context parallelism splits the sequence's queries over the CP ranks: at CP 2 a rank's indexer
    scores (compute-bound at 128K) and its projections are half of CP 1's."""
    runs = load_stack("deepseek-v3").model_copy(update={"sparse_attention": "dsa-allgather-cp",
                                                       "sparse_attention_source": "megatron-core 0.19.0"})
    one, two = (_point(131072, stack=runs, cp=cp, ep=8) for cp in (1, 2))
    assert (int(one.plan.one_row.cp), int(two.plan.one_row.cp)) == (1, 2)
    rates = _rates(one)
    fwd1, bwd1 = dsa_warmup.indexer_layer_seconds(one.shape, rates, one.plan.one_row)
    fwd2, bwd2 = dsa_warmup.indexer_layer_seconds(two.shape, rates, two.plan.one_row)
    assert fwd2 / fwd1 == pytest.approx(0.5, abs=0.02)
    assert bwd2 / bwd1 == pytest.approx(0.5, abs=0.02)


def test_fp32_logits_bound_the_scores_on_a_slow_memory() -> None:
    """Each (query, key) score is an fp32 logit written and read (8 B): on a part with 1 GB/s of memory the scores
    take at least those bytes' time beside the projections (forward) and their weight gradients (backward)."""
    point = _point()
    row = point.plan.one_row
    slow = dataclasses.replace(_rates(point), memory_bytes_per_s=1e9)
    fwd, bwd = dsa_warmup.indexer_layer_seconds(point.shape, slow, row)
    tokens = float(row.micro_batch) * 4096
    pairs = tokens * 4096 / 2.0  # each query over its s / 2 causal keys on average
    shapes = ((Q_LORA, HEADS * DIM), (H, DIM), (H, HEADS))  # (k, n) of wq_b, wk, weights_proj
    rate = slow.matmul_flops_per_s
    projections = sum(gemm_seconds(slow, tokens, float(n), float(k), 2.0, rate) for k, n in shapes)
    wgrads = sum(gemm_seconds(slow, float(k), float(n), tokens, 2.0, rate) for k, n in shapes)
    assert fwd >= projections + pairs * 8.0 / 1e9 and bwd >= wgrads + pairs * 8.0 / 1e9


def test_backward_is_the_transposed_weight_gradients_and_twice_the_scores() -> None:
    """Y = X W (X: tokens x k) has dW = X^T dY: GEMMs of k x n over the tokens, whose priced time differs from the
    forward's shape (the k and weights projections' thin outputs); the scores' dq and dk are 2x the forward's
    FLOPs at the fp8 rate (2x the fused-attention rate on H800)."""
    point = _point(4096)
    rates, row = _rates(point), point.plan.one_row
    tokens, keys = float(row.micro_batch) * 4096, 2048.0
    _, bwd = dsa_warmup.indexer_layer_seconds(point.shape, rates, row)
    shapes = ((Q_LORA, HEADS * DIM), (H, DIM), (H, HEADS))  # (k, n) of wq_b, wk, weights_proj
    wgrads = sum(gemm_seconds(rates, float(k), float(n), tokens, 2.0, rates.matmul_flops_per_s) for k, n in shapes)
    forward_shaped = sum(gemm_seconds(rates, tokens, float(n), float(k), 2.0, rates.matmul_flops_per_s)
                         for k, n in shapes)
    assert abs(wgrads - forward_shaped) > 1e-6  # the shape tells
    scores = tokens * keys * 2.0 * PAIR / (2.0 * rates.attention_flops_per_s)
    assert bwd == pytest.approx(wgrads + scores + INDEXER_KERNELS * rates.kernel_overhead_s, rel=1e-9)


def test_a_pipeline_stage_holds_its_own_layers_indexers_and_sends_forward_only() -> None:
    """At PP 4 the heaviest stage holds ceil(61 / 4) = 16 layers' indexers; the forward-only step sends each
    micro-batch's activations forward and no gradient back: half the training step's p2p time at the same plan."""
    point = _point(4096, pp=4, ep=4, global_batch=64)
    assert dsa_warmup.stage_indexer_params(point.shape, point.plan.one_row) == 16 * PER_LAYER
    plan = {**PLAN, "pp": 4, "ep": 4, "global_batch": 64}
    sparse = estimate_training("deepseek-v3.2", "h800", 128, seq_len=4096, stack="deepseek-v3", **plan)  # type: ignore[arg-type]
    warm = _warm(pp=4, ep=4, global_batch=64)
    assert dict(sparse.breakdown_s)["pp_comm"] > 0.0
    assert dict(warm.breakdown_s)["pp_comm"] == pytest.approx(0.5 * dict(sparse.breakdown_s)["pp_comm"], rel=1e-9)


def test_two_data_parallel_ranks_exchange_the_indexers_gradients() -> None:
    """At DP 2 each rank's indexer gradients differ: they are all-reduced (not free)."""
    warm = _warm(gpus=16, ep=2)
    assert warm.config.dp == 2 and dict(warm.breakdown_s)["dp_comm_exposed"] > 0.0


def test_the_stacks_gradient_dtype_and_optimizer_bytes_are_read() -> None:
    """The indexer's gradient all-reduce moves the stack's wire dtype (0.85 B parameters over DP 16: bandwidth-bound,
    so bf16 is about half fp32's time), and AdamW's memory-bound pass the stack's bytes a parameter (twice the
    bytes: about twice the time)."""
    base = load_stack("deepseek-v3")
    assert base.grad_reduce_dtype == "fp32" and base.adamw_bytes_per_param is None
    fp32, bf16 = (dict(_warm(stack=base.model_copy(update={"grad_reduce_dtype": d})).breakdown_s)["dp_comm_exposed"]
                  for d in ("fp32", "bf16"))
    assert bf16 / fp32 == pytest.approx(0.5, abs=0.05)
    small, large = (dict(_warm(stack=base.model_copy(update={"adamw_bytes_per_param": b})).breakdown_s)["optimizer"]
                    for b in (40.0, 80.0))
    assert large / small == pytest.approx(2.0, rel=0.05)


def test_the_backward_keeps_the_indexers_inputs_per_token() -> None:
    """Beyond one layer's forward working set, each token keeps what the indexer's backward reads, bf16: its inputs
    (the q latent, 1,536, and the hidden state, 7,168), q (64 x 128), k (128) and the head weights (64)."""
    for cp, stack in ((1, "deepseek-v3"), (2, load_stack("deepseek-v3").model_copy(
            update={"sparse_attention": "dsa-allgather-cp", "sparse_attention_source": "megatron-core 0.19.0"}))):
        point = _point(8192, stack=stack, cp=cp, ep=8)
        row = point.plan.one_row
        from infraplan.ops.params import activation_bytes_per_token_layer

        working = float(activation_bytes_per_token_layer(dsa_warmup.dense_shape(point.shape), row.tp,
                                                         row.sequence_parallel, row.seq_len, False))
        tokens = float(row.micro_batch) * 8192 / cp  # the rank's share of the sequence
        saved = 2.0 * (Q_LORA + H + HEADS * DIM + DIM + HEADS)
        held = dsa_warmup.warmup_memory(point)["activations"]
        assert held == pytest.approx(tokens * (working + saved), rel=1e-12)


def test_mfu_counts_the_frozen_forward_the_indexer_and_the_head_by_hand() -> None:
    """`WARMUP_FLOP_CONVENTION` per token: 61 layers of the dense forward (the repo's FLOP count) plus the indexer's
    projections forward and weight gradient (2 x 2 x its parameters), its scores forward (2 x 64 x 128 a key) and
    2x backward, the KL target's score pass over 128 heads of d_qk 192, all over s keys; and the LM head 2 h V."""
    warm = _warm(4096)
    weights, scores = forward_flops_per_token_layer(dsa_warmup.dense_shape(_point().shape), 4096)
    indexer = 4.0 * PER_LAYER + (PAIR + 2.0 * PAIR + 2.0 * 192 * 128) * 4096
    per_token = LAYERS * (weights + float(scores) + indexer) + 2.0 * H * VOCAB
    tokens = 16 * 4096
    assert warm.model_tflops_per_gpu * 1e12 == pytest.approx(per_token * tokens / (warm.step_time_s * 128), rel=1e-9)
    assert math.isclose(warm.mfu, warm.hfu)


def test_a_dualpipe_plan_runs_the_indexer_on_its_stages_layers() -> None:
    """DeepSeek's stack pairs chunks under DualPipe (the step reads the paired compute): the indexer's forward and
    backward still run on each of the heaviest stage's ceil(61 / 4) = 16 layers (and the MTP module's share) for
    every micro-batch, paired or not."""
    from unittest import mock

    point = _point(4096, pp=4, ep=4, global_batch=64)
    row = point.plan.one_row
    fwd, bwd = dsa_warmup.indexer_layer_seconds(point.shape, _rates(point), row)
    with_indexer = dsa_warmup.warmup_step(point)["compute"]
    with mock.patch.object(dsa_warmup, "indexer_layer_seconds", lambda *args: (0.0, 0.0)):
        without = dsa_warmup.warmup_step(point)["compute"]
    layers = (with_indexer - without) / (float(row.micro_batches) * (fwd + bwd))
    assert 16.0 <= layers < 17.5


def test_the_gradient_all_reduce_crosses_a_nic_per_rank() -> None:
    """At TP 8 on 8-GPU H800 nodes the 16 DP ranks of a GPU's indexer sit on 16 nodes: the ring all-reduce of its
    0.85 B fp32 gradients sends 2 (n - 1) / n of their bytes through each GPU's 400 Gb/s NIC, a floor on its time."""
    warm = _warm()
    floor = 2.0 * 15.0 / 16.0 * LAYERS * PER_LAYER * 4.0 / 50e9
    assert warm.config.dp == 16
    assert dict(warm.breakdown_s)["dp_comm_exposed"] >= floor
