"""ZB-V from 2p - 1 micro-batches on, as torch's order holds it (hZ41, session 41).

torch 2.14.1's ScheduleZBVZeroBubble (the order transcribed in tests/training/test_zbv_kinds_hZ3.py; chunks held from
their F to their W, `_in_flight` of tests/training/test_zbv_memory_hY40.py) holds 2p chunks on every rank from
2p - 1 micro-batches on: rank 0's heaviest peak 2p - 1 chunk 0s (the embedding's) and one chunk 2p - 1, rank p - 1
two plain chunks per micro-batch. Before, `schedules._mirrored_chunks` priced p chunk 0s on rank 0 (its chunk 0s
one layer short only where the stack counts the embedding as a layer) and no chunks on rank p - 1, so a stack
counting the embedding saw rank 0 overstated by p - 1 layer-micro-batches and rank p - 1 (more layers, no table)
dropped from the peak: the memory fell at m = 2p - 1 where every rank's count rises or stays. The counts here are
taken from the order, not from the module.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_zbv_kinds_hZ3 import _zbv_order
from tests.training.conftest import TORCHTITAN_EVEN, overhead_bytes

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.ops import params as ops_params
from infraplan.training import fsdp2_grad_memory
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.memory import grad_buffer_bytes, memory_bound_terms, memory_breakdown
from infraplan.training.plan import PlanArrays

LLAMA_8B = load_model("llama3-8b")
SHORTER = LLAMA_8B.model_copy(update={"num_layers": 31})  # L' = 32 with the embedding counted: the same chunks
TORCHTITAN = TORCHTITAN_EVEN
COUNTED = TORCHTITAN.model_copy(update={"account_for_embedding_in_pipeline_split": True})
ZB_V, ONE_F_ONE_B = int(Schedule.ZB_V), int(Schedule.ONE_F_ONE_B)
FULL = int(Recompute.FULL)


def _rank_layer_micro_batches(p: int, m: int, rank: int, per_chunk: int, short_chunk_0: bool) -> int:
    """The most layer-micro-batches rank `rank` holds on torch's order (chunks from F to W), each chunk `per_chunk`
    layers, chunk 0 one fewer where `short_chunk_0` (the embedding counted as a layer)."""
    held: dict[int, int] = {}
    most = 0
    for kind, stage, _ in _zbv_order(p, m, rank):
        held[stage] = held.get(stage, 0) + {"F": 1, "W": -1}.get(kind, 0)
        layers = sum(n * (per_chunk - (1 if stage == 0 and short_chunk_0 else 0)) for stage, n in held.items())
        most = max(most, layers)
    return most


def _plan(m: int, pp: int, recompute: int = FULL, schedule: int = ZB_V) -> PlanArrays:
    """llama3-8b-like TP2 (sequence parallel) on PP `pp`, DP 8, micro-batch 1 of 8192 tokens, m micro-batches."""
    return PlanArrays.build(tp=2, pp=pp, dp=8, cp=1, ep=1, vpp=2 if schedule == ZB_V else 1, micro_batch=1,
                            global_batch=8 * m, seq_len=8192, recompute=recompute, zero=2, dtype=0, schedule=schedule)


def _memory(shape: TransformerShape, plan: PlanArrays, stack: Stack) -> dict[str, float]:
    return {k: float(v[0]) for k, v in memory_breakdown(shape, plan, stack).items()}


@pytest.mark.parametrize("pp", [2, 4, 8])
def test_counted_embedding_saves_rank_0_the_chunk_0s_of_torchs_order_at_every_m(pp: int) -> None:
    """Full recompute (a layer-micro-batch in flight is its input, 8192 x 4096 x 2 B / TP2; rank 0, with both tables
    and the logits, the heaviest rank): llama3-8b (32 layers) against 31 layers with the embedding counted (L' = 32:
    the same chunks of 32 / 2p layers, chunk 0 one fewer). The activations differ by the order's own difference of
    rank 0's most layer-micro-batches: m below 2p - 1, 2p - 1 from there on (p chunk 0s before: p - 1 short)."""
    layer_input = 8192 * 4096 * 2.0 / 2
    per_chunk = 32 // (2 * pp)
    for m in range(1, 3 * pp + 1):
        gap = (_rank_layer_micro_batches(pp, m, 0, per_chunk, False)
               - _rank_layer_micro_batches(pp, m, 0, per_chunk, True))
        assert gap == min(2 * pp - 1, m)  # (the order's count)
        plain = _memory(LLAMA_8B, _plan(m, pp), TORCHTITAN)["activations"]
        short = _memory(SHORTER, _plan(m, pp), COUNTED)["activations"]
        assert plain - short == pytest.approx(gap * layer_input, rel=1e-9), (pp, m)


@pytest.mark.usefixtures("fresh_one_plan_memo")
def test_rank_p_minus_1_stays_in_the_peak_from_2p_minus_1_micro_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """No recompute, the embedding counted (31 layers, PP4): rank 3 holds 8 chunks of 4 layers (32 layer-micro-
    batches) at every m from 4 on, rank 0 (7 layers, both tables, the logits) 25 from m = 7 (both counted on the
    order). The memory per GPU is the heavier of the two by hand (a layer-micro-batch's bytes from 1F1B's first
    stage of 8 layers at m 4; states at ZeRO 2 over DP 8): rank 3's here, the same at m = 6 (below 2p - 1) and
    from m = 7 on (before: rank 0's alone from m = 7, on 28 layer-micro-batches: 23.03 GiB for 21.65). Priced
    without FSDP2's kept unsharded gradient (hF69, `training.fsdp2_grad_memory`: its 4 B a weight make rank 0, with
    both tables, the heavier at this plan; this test is about the ranks' chunks in flight)."""
    monkeypatch.setattr(fsdp2_grad_memory, "FSDP2_GRAD_MEMORY", False)
    assert [_rank_layer_micro_batches(4, m, 3, 4, True) for m in (6, 7, 12)] == [32, 32, 32]
    assert [_rank_layer_micro_batches(4, m, 0, 4, True) for m in (7, 12)] == [25, 25]
    layer = _memory(SHORTER, _plan(4, 4, 0, ONE_F_ONE_B), TORCHTITAN)["activations"] / (4 * 8)
    logits = 8192 * LLAMA_8B.vocab_size / 2 * 4.0  # fp32, over TP2
    per_param = 2.0 + (grad_buffer_bytes(TORCHTITAN) + 12.0) / 8
    table = LLAMA_8B.vocab_size * LLAMA_8B.hidden_size / 2
    middle_state = float(ops_params.local_params(SHORTER, 2, 4, layers=8.0, tables=False)) * per_param
    first_state = (float(ops_params.local_params(SHORTER, 2, 4, layers=7.0)) + table) * per_param  # both tables
    rank_3 = middle_state + 32 * layer + overhead_bytes(SHORTER, _plan(4, 4, 0))
    rank_0 = first_state + 25 * layer + logits + overhead_bytes(SHORTER, _plan(4, 4, 0))
    assert rank_3 > rank_0
    for m in (6, 7, 8, 12):
        assert sum(_memory(SHORTER, _plan(m, 4, 0), COUNTED).values()) == pytest.approx(rank_3, rel=1e-12), m


@pytest.mark.parametrize(("pp", "recompute"), [(2, 0), (4, 0), (4, FULL), (8, 0), (8, FULL)])
def test_search_memory_bounds_hold_on_counted_zb_v_plans(pp: int, recompute: int) -> None:
    """`memory_bound_terms` (the search's branch and bound) under a stack counting the embedding: the 1F1B row's
    low bound at or below every ZB-V plan of it and its high bound at or above, across 2p - 1 micro-batches."""
    for m in range(1, 3 * pp + 1):
        zb_v = _plan(m, pp, recompute)
        total = sum(_memory(SHORTER, zb_v, COUNTED).values())
        row = replace(zb_v, vpp=np.array([1]), schedule=np.array([ONE_F_ONE_B]))
        states = memory_bound_terms(SHORTER, row, COUNTED, "states")
        acts = memory_bound_terms(SHORTER, replace(row, vpp=zb_v.vpp, schedule=zb_v.schedule), COUNTED, "activations")
        low = float(np.ravel(states["state_low"] + acts["activations_low"])[0]) + overhead_bytes(SHORTER, row)
        high = float(np.ravel(states["state_high"] + acts["activations_high"])[0]) + overhead_bytes(SHORTER, row)
        assert low <= total <= high, (pp, m)


def test_bounded_counted_zb_v_search_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search's branch and bound under a stack counting the embedding, ZB-V at micro-batch counts on both sides
    of 2p - 1: llama3-70b on 128 H100 at global batch 64, seq 4096: the bounded search's answer and counts are those
    of pricing every plan."""
    from infraplan.training import search, search_bounds
    from infraplan.training.search import search_plans
    args = ("llama3-70b", "dgx-h100-superpod", 128, 4096, 64)
    kw: dict[str, object] = dict(stack=COUNTED, schedules=["zb-v"], top=5)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)
    bounded = search_plans(*args, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*args, **kw)  # type: ignore[arg-type]
    assert bounded.feasible_count > 0
    assert (bounded.evaluated_count, bounded.feasible_count) == (full.evaluated_count, full.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in full.top]


@pytest.mark.parametrize("pp", [4, 8, 16])
def test_counted_zb_v_memory_never_falls_as_micro_batches_grow(pp: int) -> None:
    """No recompute, the embedding counted (31 layers): on torch's order every rank's most layer-micro-batches is
    non-decreasing in m, so the memory per GPU is too, across 2p - 1 (before, it fell there where rank p - 1 is the
    heavier: PP8 20.02 -> 19.28 GiB, PP16 19.21 -> 14.22 GiB)."""
    per_chunk = 32 // (2 * pp)
    for rank in range(pp):
        held = [_rank_layer_micro_batches(pp, m, rank, per_chunk, rank == 0) for m in range(1, 3 * pp + 1)]
        assert held == sorted(held), rank
    totals = [sum(_memory(SHORTER, _plan(m, pp, 0), COUNTED).values()) for m in range(1, 3 * pp + 1)]
    assert all(b >= a * (1 - 1e-12) for a, b in zip(totals, totals[1:], strict=False)), totals
