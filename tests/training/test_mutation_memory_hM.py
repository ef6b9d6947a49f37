"""Mutation spot-checks, third wave (hM, session 34): training memory terms no test pinned to a hand count.

Each test fails on one one-line mutant of training/memory.py, activation_memory.py or memory_bounds.py
(validation/notes/test_suite_cost_tried.md, "hM (session 34)") and asserts a value worked by hand from the rule the
code cites, not the current output."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.memory import (
    activation_bytes_per_token_layer,
    memory_breakdown,
    memory_total,
    recomputed_fraction,
)
from infraplan.training.memory_bounds import memory_bounds_bytes
from infraplan.training.plan import PlanArrays

LLAMA_8B = load_model("llama3-8b")  # h 4,096, 32 layers, 32 heads / 8 KV heads, FFN 14,336, vocab 128,256
LLAMA_405B = load_model("llama3-405b")
# one Llama 3 8B layer's matrices by hand: Q and O 4,096^2 each, K and V 4,096 x 1,024 each, SwiGLU 3 x 4,096 x 14,336
LAYER_8B = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336  # 218,103,808
TABLES_8B = 2 * 128256 * 4096  # untied embedding + LM head, both on the one stage at PP 1


def _plan(**kw: int) -> PlanArrays:
    cols = dict(tp=1, pp=1, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=64, seq_len=8192,
                recompute=int(Recompute.NONE), zero=1, dtype=0)
    cols.update(kw)
    return PlanArrays.build(**cols)


def test_zero3_holds_its_shard_plus_the_layer_in_use_and_the_one_gathered_ahead() -> None:
    """ZeRO-3 / FSDP: bf16 weights sharded over DP, plus two whole layers unsharded (the one computing and the
    next, prefetched: memory.py's "gathers one layer ahead"). Mutant A01 kept one layer."""
    assert LAYER_8B == 218_103_808 and LLAMA_8B.total_params() == 32 * LAYER_8B + TABLES_8B
    weights = memory_breakdown(LLAMA_8B, _plan(zero=3))["weights"][0]
    assert weights == pytest.approx((32 * LAYER_8B + TABLES_8B) / 8 * 2.0 + 2 * LAYER_8B * 2.0, rel=1e-12)


def test_full_recompute_without_sequence_parallelism_keeps_whole_layer_inputs() -> None:
    """Korthikanti et al. 2022: full recompute keeps each layer's input, 2 s b h bytes, split over TP only with
    sequence parallelism. PP 1, TP 2, SP off: 32 inputs of 8,192 x 4,096 x 2 B (not halved), one rebuilt layer, and
    the fp32 logits of the micro-batch over the vocab-parallel half (cross_entropy.py). Mutant A08 halved the
    inputs."""
    plan = _plan(tp=2, dp=4, sequence_parallel=0, recompute=int(Recompute.FULL))
    got = memory_breakdown(LLAMA_8B, plan)["activations"][0]
    tokens, h = 8192, 4096
    rebuilt = tokens * float(activation_bytes_per_token_layer(
        LLAMA_8B, replace(plan, recompute=np.array([int(Recompute.NONE)])))[0])
    want = 32 * tokens * h * 2.0 + rebuilt + tokens * 128256 / 2 * 4.0
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("pp", "vpp", "k", "share"), [(4, 1, 1, 4 / 32), (2, 2, 3, 12 / 32), (8, 4, 2, 1.0)])
def test_block_recompute_share_counts_every_chunk_of_every_stage(pp: int, vpp: int, k: int, share: float) -> None:
    """Megatron-Core block recompute (--recompute-num-layers k): the first k layers of each model chunk, and there
    are PP x VPP chunks, so min(k PP VPP, L) of L layers are recomputed: 4 of 32 at PP 4, 12 at PP 2 x VPP 2 with
    k 3, all at 64 chunk-layers. Mutant A10 dropped PP."""
    plan = _plan(pp=pp, vpp=vpp, dp=1, recompute=int(Recompute.FULL), recompute_layers=k)
    assert recomputed_fraction(LLAMA_8B, plan) == pytest.approx(share, rel=1e-12)


def _counted() -> Stack:
    return resolve_stack(None, "training").model_copy(update={
        "pipeline_split": "even", "account_for_embedding_in_pipeline_split": True,
        "account_for_loss_in_pipeline_split": True})


def test_the_one_copy_bound_holds_a_middle_stage_of_a_counted_split() -> None:
    """Where the stack counts the embedding and the loss as layers, a middle stage holds a whole layer more than the
    first (405B: 3.2 B parameters a layer against a 2.1 B table), so the upper bound of one-copy plans must start
    from the middle stage's state (`state_high`), not the first's. Mutant A14 started from the first's and fell
    below the priced memory of rows whose activations leave little slack (1,024 tokens under full recompute: 0.5-4.7
    GB under the priced memory at TP 4-8, PP 4-16)."""
    stack = _counted()
    n = 6
    tp, pp = np.array([8, 8, 8, 4, 4, 8]), np.array([2, 4, 8, 4, 8, 16])
    rows = PlanArrays.build(tp=tp, pp=pp, dp=np.full(n, 4), cp=np.ones(n, dtype=int), ep=np.ones(n, dtype=int),
                            vpp=np.ones(n, dtype=int), micro_batch=np.ones(n, dtype=int),
                            global_batch=np.full(n, 512), seq_len=np.full(n, 1024),
                            recompute=np.full(n, int(Recompute.FULL)),
                            zero=np.ones(n, dtype=int), dtype=np.zeros(n, dtype=int),
                            schedule=np.full(n, int(Schedule.ONE_F_ONE_B)))
    pair = (np.ones(n, dtype=np.int64), np.full(n, int(Schedule.ONE_F_ONE_B)))
    zero = np.array([0, 1, 2, 3])
    _, high, one = memory_bounds_bytes(LLAMA_405B, rows, pair, pair, np.ones(n), zero, stack)
    for z in zero:
        priced = memory_total(LLAMA_405B, replace(rows, zero=np.full(n, z)), stack)
        assert np.all(one[z] >= priced) and np.all(high[z] >= priced)
