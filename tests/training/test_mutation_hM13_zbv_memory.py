"""Mutation wave 13 (hM13, session 41) on ZB-V's chunks in flight below 2p - 1 micro-batches
(`activation_memory.zb_v_rank_chunks`, hY40): rank 0's chunk-0 count (only priced where the embedding counts as a
layer, its chunk 0 one layer short) and rank p - 1's 2 min(p, m) below p micro-batches (the tests before tried m 4
and 6 at p 4 only, where min(p, m) = p, and no stack counting the embedding).

The counts are taken from torch 2.14.1's ScheduleZBVZeroBubble order itself (`_in_flight` of
tests/training/test_zbv_memory_hY40.py over the transcription in tests/training/test_zbv_kinds_hZ3.py: the most
chunks rank r holds between a chunk's F and its W, and rank 0's chunk-0s at that peak), not from the module.
"""

from __future__ import annotations

import pytest
from test_zbv_memory_hY40 import _in_flight
from tests.training.conftest import TORCHTITAN_EVEN, overhead_bytes

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.ops import params as ops_params
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.memory import grad_buffer_bytes, memory_breakdown
from infraplan.training.plan import PlanArrays

LLAMA_8B = load_model("llama3-8b")
TORCHTITAN = TORCHTITAN_EVEN
ZB_V, ONE_F_ONE_B = int(Schedule.ZB_V), int(Schedule.ONE_F_ONE_B)
FULL = int(Recompute.FULL)
P = 4


def _plan(m: int, recompute: int, schedule: int = ZB_V) -> PlanArrays:
    """llama3-8b-like TP2 (sequence parallel) PP4 DP8, micro-batch 1 of 8192 tokens, m micro-batches, ZeRO 2."""
    return PlanArrays.build(tp=2, pp=P, dp=8, cp=1, ep=1, vpp=2 if schedule == ZB_V else 1, micro_batch=1,
                            global_batch=8 * m, seq_len=8192, recompute=recompute, zero=2, dtype=0, schedule=schedule)


def _activations(shape: TransformerShape, m: int, stack: Stack, recompute: int = FULL, schedule: int = ZB_V) -> float:
    return float(memory_breakdown(shape, _plan(m, recompute, schedule), stack)["activations"][0])


@pytest.mark.parametrize("m", range(1, 2 * P - 1))
def test_a_counted_embedding_makes_each_chunk_0_in_flight_one_layer_input_short(m: int) -> None:
    """Full recompute (a layer-micro-batch in flight is its input, 8192 tokens x 4096 x 2 B / TP 2): rank 0 (both
    tables, the logits: the heaviest rank) holds m + 1 chunks. Without counted ends (llama3-8b, 32 layers) each is
    4 layers; with the embedding counted as a layer (31 layers: L' = 32, the even split's chunks of 4) chunk 0 holds
    3. The two differ by one layer input per chunk 0 in flight: m of them (torch's order) below 2p - 1."""
    layer_input = 8192 * 4096 * 2.0 / 2
    counted = TORCHTITAN.model_copy(update={"account_for_embedding_in_pipeline_split": True})
    shorter = LLAMA_8B.model_copy(update={"num_layers": 31})
    held, chunk_0s = _in_flight(P, m, 0)
    assert (held, chunk_0s) == (m + 1, m)  # (the order's own count)
    plain = _activations(LLAMA_8B, m, TORCHTITAN)
    short = _activations(shorter, m, counted)
    assert plain - short == pytest.approx(chunk_0s * layer_input, rel=1e-9)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_below_p_micro_batches_the_last_rank_holds_two_chunks_per_micro_batch(m: int) -> None:
    """Below p micro-batches rank p - 1 holds 2m chunks (both of its chunks of every micro-batch), rank 0 m + 1 with
    both tables and the logits; the memory per GPU is the heavier (no recompute, a layer-micro-batch's bytes from
    1F1B's first stage: 4 micro-batches of 8 layers in flight at m 4; states at ZeRO 2 over DP 8)."""
    counts = [_in_flight(P, m, r)[0] for r in range(P)]
    assert counts[0] == m + 1 and counts[-1] == max(counts) == 2 * m  # (the order's own counts)
    layer = _activations(LLAMA_8B, 4, TORCHTITAN, 0, ONE_F_ONE_B) / (4 * 8)
    chunk = 4 * layer  # 4 layers of one micro-batch
    logits = 8192 * LLAMA_8B.vocab_size / 2 * 4.0  # fp32, over TP2
    # (hF69: FSDP2 under torch's pipelining keeps the stage's unsharded gradient at fp32, 4 B a weight, and a block's
    # fresh bf16 gradients, 2 B a weight of one layer at TP2: `training.fsdp2_grad_memory`)
    per_param = 2.0 + (grad_buffer_bytes(TORCHTITAN) + 12.0) / 8 + 4.0
    unit = 2.0 * float(ops_params.local_layer_params(LLAMA_8B, 2))
    table = LLAMA_8B.vocab_size * LLAMA_8B.hidden_size / 2
    middle_state = float(ops_params.local_params(LLAMA_8B, 2, 4, layers=8.0, tables=False)) * per_param + unit
    first_state = (float(ops_params.local_params(LLAMA_8B, 2, 4)) + table) * per_param + unit  # 8 layers, both tables
    rank_0 = first_state + counts[0] * chunk + logits
    last = middle_state + counts[-1] * chunk
    got = memory_breakdown(LLAMA_8B, _plan(m, 0), TORCHTITAN)
    total = sum(float(v[0]) for v in got.values())
    assert total == pytest.approx(max(rank_0, last) + overhead_bytes(LLAMA_8B, _plan(m, 0)), rel=1e-12)
    # the priced peak is below rank 0's extras on 2p chunks (every rank's count from 2p - 1 micro-batches on)
    assert total < first_state + 2 * P * chunk + logits + overhead_bytes(LLAMA_8B, _plan(m, 0))
