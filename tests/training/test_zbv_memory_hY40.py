"""ZB-V's activation memory below 2p - 1 micro-batches, as torch's order holds it (hY40, session 40).

torch 2.14.1's ScheduleZBVZeroBubble (the order transcribed in tests/training/test_zbv_kinds_hZ3.py) holds on rank r
min(2p, m + 1 + r, 2m) chunks in flight (F done, W not): rank 0 (the embedding's chunk 0, the loss's chunk 2p - 1,
both tables) min(2p - 1, m) chunk-0s and one chunk 2p - 1 with its logits, rank p - 1 (two plain chunks, no table)
2 min(p, m). The memory per GPU is the heavier of the two rank kinds; before, rank 0's tables and logits were priced
on top of 2 min(p, m) chunks (over below 2p - 1 micro-batches)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from test_zbv_kinds_hZ3 import _zbv_order
from tests.training.conftest import TORCHTITAN_EVEN, overhead_bytes

from infraplan.catalog import load_model
from infraplan.ops import params as ops_params
from infraplan.training import search, search_bounds
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.memory import grad_buffer_bytes, memory_breakdown, memory_total
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.search import search_plans

LLAMA_8B = load_model("llama3-8b")
TORCHTITAN = TORCHTITAN_EVEN
ZB_V, ONE_F_ONE_B = int(Schedule.ZB_V), int(Schedule.ONE_F_ONE_B)
# chunks in flight per rank at p 4, counted by hand on torch's order (the F of a chunk to its W)
HAND_COUNTED = {4: (5, 6, 7, 8), 6: (7, 8, 8, 8)}


def _in_flight(p: int, m: int, rank: int) -> tuple[int, int]:
    """(the most chunks rank `rank` holds, chunk-0s among them at rank 0's peak) on torch's order."""
    held: dict[int, int] = {}
    peak, first = 0, 0
    for kind, stage, _ in _zbv_order(p, m, rank):
        held[stage] = held.get(stage, 0) + {"F": 1, "W": -1}.get(kind, 0)
        if sum(held.values()) > peak:
            peak, first = sum(held.values()), held.get(rank, 0)
    return peak, first


def test_chunks_in_flight_per_rank_on_torchs_order() -> None:
    """p 4 at m 4 and 6 as counted by hand; at p 2-12, m 1..4p: rank r holds min(2p, m + 1 + r, 2m), rank 0's peak
    min(2p - 1, m) chunk-0s and one chunk 2p - 1, rank p - 1 the most: 2 min(p, m)."""
    for m, counts in HAND_COUNTED.items():
        assert tuple(_in_flight(4, m, r)[0] for r in range(4)) == counts
    for p in range(2, 13):
        for m in range(1, 4 * p + 1):
            held = [_in_flight(p, m, r) for r in range(p)]
            assert [h for h, _ in held] == [min(2 * p, m + 1 + r, 2 * m) for r in range(p)], (p, m)
            assert held[0][1] == min(2 * p - 1, m) and max(h for h, _ in held) == 2 * min(p, m), (p, m)


def _plan(m: int, recompute: int = 0, pp: int = 4, schedule: int = ZB_V) -> PlanArrays:
    """llama3-8b TP2 (sequence parallel) PP4 DP8 micro-batch 1 (m = the global batch / 8), ZeRO 2 (torchtitan's with
    a pipeline), no counted ends (torchtitan)."""
    return PlanArrays.build(tp=2, pp=pp, dp=8, cp=1, ep=1, vpp=2 if schedule == ZB_V else 1, micro_batch=1,
                            global_batch=8 * m, seq_len=8192, recompute=recompute, zero=2, dtype=0, schedule=schedule)


def _total(plan: PlanArrays) -> float:
    return float(sum(v[0] for v in memory_breakdown(LLAMA_8B, plan, TORCHTITAN).values()))


def _by_hand(m: int, recompute: int) -> dict[str, float]:
    """The two rank kinds' memory from the hand counts (8 layers a rank, 4 a chunk): a layer-micro-batch's bytes
    from 1F1B's first stage without recompute (4 micro-batches of 8 layers in flight at m >= 4), under full
    recompute a layer's input (8192 tokens x 4096 / TP2 bf16) and one layer rebuilt; states at ZeRO 2 (bf16
    weights whole, fp32 gradients and Adam over DP 8)."""
    counts = HAND_COUNTED[m]
    none = memory_breakdown(LLAMA_8B, _plan(m, schedule=ONE_F_ONE_B), TORCHTITAN)
    layer = float(none["activations"][0]) / (4 * 8)
    full = recompute == int(Recompute.FULL)
    stage_mb = 8 * (8192 * 2.0 * LLAMA_8B.hidden_size / 2 if full else layer)  # 8 layers of one micro-batch
    rebuilt = layer if full else 0.0
    logits = 8192 * LLAMA_8B.vocab_size / 2 * 4.0  # fp32, over TP2
    # (hF69: FSDP2 under torch's pipelining keeps the stage's unsharded gradient at fp32, 4 B a weight, and a block's
    # fresh bf16 gradients, 2 B a weight of one layer at TP2: `training.fsdp2_grad_memory`)
    per_param = 2.0 + (grad_buffer_bytes(TORCHTITAN) + 12.0) / 8 + 4.0
    unit = 2.0 * float(ops_params.local_layer_params(LLAMA_8B, 2))
    table = LLAMA_8B.vocab_size * LLAMA_8B.hidden_size / 2
    middle_state = float(ops_params.local_params(LLAMA_8B, 2, 4, layers=8.0, tables=False)) * per_param + unit
    first_state = (float(ops_params.local_params(LLAMA_8B, 2, 4)) + table) * per_param + unit  # 8 layers, both tables
    overhead = overhead_bytes(LLAMA_8B, _plan(m, schedule=ONE_F_ONE_B))  # (the reserve and the NCCL buffers)
    return {"rank0": first_state + counts[0] / 2 * stage_mb + rebuilt + logits + overhead,
            "middle": middle_state + counts[-1] / 2 * stage_mb + rebuilt + overhead,
            "before": first_state + 4 * stage_mb + rebuilt + logits + overhead}


@pytest.mark.parametrize(("m", "recompute", "heavier"), [(4, 0, "middle"), (6, 0, "rank0"),
                                                         (4, int(Recompute.FULL), "rank0"),
                                                         (6, int(Recompute.FULL), "rank0")])
def test_priced_peak_is_the_heavier_rank_kind_below_2p_minus_1(m: int, recompute: int, heavier: str) -> None:
    """p 4: rank 0 holds m + 1 chunks (5, 7) with both tables and the logits, rank 3 eight plain chunks; the memory
    per GPU is the heavier (rank 3 at m 4 without recompute: 1.5 stage micro-batches more than rank 0's extras;
    rank 0 at m 6, or under full recompute, where a stage micro-batch is layer inputs), below the price before
    (rank 0's extras on eight chunks)."""
    hand = _by_hand(m, recompute)
    got = _total(_plan(m, recompute))
    assert got == pytest.approx(max(hand["rank0"], hand["middle"]), rel=1e-12)
    assert hand[heavier] == max(hand["rank0"], hand["middle"])
    assert got < hand["before"] * (1 - 1e-3)
    # from 2p - 1 = 7 micro-batches on both hold 8 chunks: rank 0, as before
    assert _total(_plan(7, recompute)) == pytest.approx(hand["before"], rel=1e-12)


def test_grid_rows_are_the_single_plans_bit_for_bit() -> None:
    """ZB-V ramp and steady plans, 1F1B and interleaved rows in one grid: each row's terms and `memory_total` equal
    the plan priced alone (its Python-float path) bit for bit."""
    rows: list[dict[str, Any]] = []
    for pp, m, recompute in ((4, 4, 0), (4, 6, 1), (4, 8, 2), (2, 2, 0), (8, 4, 2), (8, 16, 0), (4, 1, 0)):
        for schedule, vpp in ((ZB_V, 2), (ONE_F_ONE_B, 1), (int(Schedule.INTERLEAVED), 2)):
            rows.append(dict(tp=2, pp=pp, dp=64 // (2 * pp), cp=1, ep=1, vpp=vpp, micro_batch=1,
                             global_batch=64 // (2 * pp) * m, seq_len=8192, recompute=recompute, zero=2, dtype=0,
                             schedule=schedule))
    grid = PlanArrays.build(**{k: np.array([r[k] for r in rows]) for k in rows[0]})
    terms = memory_breakdown(LLAMA_8B, grid, TORCHTITAN)
    totals = memory_total(LLAMA_8B, grid, TORCHTITAN)
    for i in range(len(rows)):
        clear_one_plan_memo()
        alone = memory_breakdown(LLAMA_8B, grid.take([i]), TORCHTITAN)
        assert {k: v[0] for k, v in alone.items()} == {k: v[i] for k, v in terms.items()}, rows[i]
        total = alone["weights"] + alone["gradients"] + alone["optimizer"] + alone["activations"] + alone["overhead"]
        assert totals[i] == total[0], rows[i]


def test_bounded_zb_v_search_below_2p_minus_1_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search's memory bounds hold on ZB-V's ramp (rank 0's m + 1 chunks under the rows' low bound): llama3-70b on
    128 H100 at global batch 64, seq 4096, torchtitan, ZB-V: the bounded search's answer and counts are those of
    pricing every plan (with the rows' low bound at 1F1B's f = min(p, m): 4,302 of 4,344 feasible plans)."""
    args = ("llama3-70b", "dgx-h100-superpod", 128, 4096, 64)
    kw: dict[str, Any] = dict(stack=TORCHTITAN_EVEN, schedules=["zb-v"], top=5)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)
    bounded = search_plans(*args, **kw)
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*args, **kw)
    assert (bounded.evaluated_count, bounded.feasible_count) == (full.evaluated_count, full.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in full.top]


def test_memory_bounds_hold_below_every_ramp_plan() -> None:
    """`memory_bound_terms`'s low activations under torchtitan stay at or below every ZB-V ramp plan's (the
    1F1B row's f = min(p, m) micro-batches would be over rank 0's (m + 1) / 2 and rank p - 1's smaller state)."""
    from infraplan.training.memory import memory_bound_terms
    for pp, m in ((4, 4), (4, 6), (8, 4), (8, 12), (2, 2)):
        zb_v = replace(_plan(m, pp=pp), dp=np.array([64 // (2 * pp)]), global_batch=np.array([64 // (2 * pp) * m]))
        row = replace(zb_v, vpp=np.array([1]), schedule=np.array([ONE_F_ONE_B]))
        low = memory_bound_terms(LLAMA_8B, row, TORCHTITAN, "activations")["activations_low"]
        state = memory_bound_terms(LLAMA_8B, row, TORCHTITAN, "states")["state_low"]
        assert float(np.ravel(low + state)[0]) + overhead_bytes(LLAMA_8B, row) <= _total(zb_v), (pp, m)


def test_cli_ramp_plan_answers_the_heavier_rank() -> None:
    """One plan through the estimate: llama3-8b TP2 PP4 on 64 H100 at global batch 32 (m 4), torchtitan, ZB-V: the
    memory is rank 3's (8 chunks, no table), below rank 0's tables and logits on 8 chunks (before)."""
    from infraplan.training.estimate import estimate_training
    est = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=4, vpp=2, schedule="zb-v", seq_len=8192,
                            global_batch=32, stack=TORCHTITAN_EVEN)
    one_f_one_b = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=4, seq_len=8192,
                                    global_batch=32, stack=TORCHTITAN_EVEN)
    # rank 3 holds what 1F1B's first stage holds less its table (4 micro-batches of 8 layers, ZeRO 2 by default)
    assert est.memory_breakdown_bytes.activations == pytest.approx(
        one_f_one_b.memory_breakdown_bytes.activations, rel=1e-12)
    assert est.memory_breakdown_bytes.weights < one_f_one_b.memory_breakdown_bytes.weights
