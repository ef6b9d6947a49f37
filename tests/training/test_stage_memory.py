"""Training memory prices the pipeline stage that peaks: the first, a middle and the last stage under the stack's
layer split (Megatron-Core `get_num_layers_to_build`) with their tables and their in-flight activations under the
schedule (Megatron-Core's per-rank warm-up in `get_schedule_table` order), on arrays and on one plan alike."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.training.conftest import overhead_bytes

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.ops import params as ops_params
from infraplan.training import search, search_bounds
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.memory import (
    activation_bytes_per_token_layer,
    grad_buffer_bytes,
    memory_bound_terms,
    memory_breakdown,
    memory_total,
)
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import in_flight_micro_batches
from infraplan.training.search import search_plans
from infraplan.training.stage_split import interleaved_chunks, one_f_one_b_chunks

LLAMA_405B = load_model("llama3-405b")
LLAMA_8B = load_model("llama3-8b")


def _stack(counted: bool) -> Stack:
    return resolve_stack(None, "training").model_copy(update={
        "pipeline_split": "even", "account_for_embedding_in_pipeline_split": counted,
        "account_for_loss_in_pipeline_split": counted})


def _peaks(layers: list[list[int]], p: int, v: int, m: int) -> list[int]:
    """Layer-micro-batches each rank holds at its peak, by playing Megatron-Core's schedule: the chunk order of
    `get_schedule_table` (groups of p micro-batches through chunks 0..v-1), backward in reverse chunk order, rank r
    running its warm-up forwards (`get_pp_rank_microbatches`), then one forward and one backward each step."""
    table = [(mb, c) for start in range(0, m, p) for c in range(v) for mb in range(start, min(start + p, m))]
    peaks = []
    for r in range(p):
        warm = min(p - r - 1 if v == 1 else 2 * (p - r - 1) + (v - 1) * p, m * v)
        held = peak = 0
        backward = 0
        for f, (_, chunk) in enumerate(table):
            held += layers[r][chunk]
            peak = max(peak, held)
            if f >= warm:
                held -= layers[r][v - 1 - table[backward][1]]
                backward += 1
        peaks.append(peak)
    return peaks


@pytest.mark.parametrize("p", [2, 3, 4, 8])
@pytest.mark.parametrize("v", [1, 2, 4])
@pytest.mark.parametrize("counted", [False, True])
def test_in_flight_chunks_per_stage_kind_match_megatrons_schedule(p: int, v: int, counted: bool) -> None:
    per_chunk = 2
    for m in ([p, 2 * p, 3 * p] if v > 1 else list(range(1, 2 * p + 2))):
        layers = [[per_chunk] * v for _ in range(p)]
        if counted:
            layers[0][0] -= 1
            layers[-1][-1] -= 1
        want = _peaks(layers, p, v, m)
        first, first_end, second, last, last_end = (interleaved_chunks if v > 1 else one_f_one_b_chunks)(
            float(p), float(v), float(m))
        end = float(counted)
        assert first * per_chunk - end * first_end == want[0]
        assert last * per_chunk - end * last_end == want[-1]
        if p > 2:
            assert second * per_chunk == want[1] == max(want[1:-1])


def test_split_stage_layers_follow_get_num_layers_to_build() -> None:
    # Llama 3.1 405B on PP16 with the embedding and loss counted: 128 / 16 = 8, the end stages 7
    assert ops_params.split_stage_layers(126, 16, True, True) == (8.0, 7.0, 7.0)
    assert ops_params.split_stage_layers(126, 16) == (8.0, 8.0, 8.0)  # ceil(126 / 16) on every stage
    assert ops_params.split_stage_layers(126, 1, True, True) == (126.0, 126.0, 126.0)
    middle, first, last = ops_params.split_stage_layers(126, np.array([2, 16]), True, False)
    assert middle.tolist() == [64.0, 8.0] and first.tolist() == [63.0, 7.0] and last.tolist() == [64.0, 8.0]


def _h004(**kw: object) -> PlanArrays:
    """Frontier row H004's plan: Llama 3.1 405B on 256 GB200, TP4 PP16 VP4, GBS 1536, MBS 1, seq 8192."""
    cols: dict[str, object] = dict(tp=4, pp=16, dp=4, cp=1, ep=1, vpp=4, micro_batch=1, global_batch=1536,
                                   seq_len=8192, recompute=0, zero=1, dtype=0)
    cols.update(kw)
    return PlanArrays.build(**cols)


def test_h004_peaks_on_the_second_stage_with_the_recipes_split() -> None:
    """With the embedding and loss counted as layers, the second stage holds 8 layers and no table and 77 chunks of
    2 layers in flight (154 layer-micro-batches); the first 7 layers + the embedding and 31 one-layer + 48 two-layer
    chunks (127); before, 8 layers + a table and 79 x 2 = 158 were priced together."""
    plan = _h004()
    stack = _stack(True)
    got = memory_breakdown(LLAMA_405B, plan, stack)
    middle = ops_params.local_params(LLAMA_405B, 4, 16, layers=8.0, tables=False)
    assert got["gradients"][0] == pytest.approx(middle * grad_buffer_bytes(stack) / 1.0, rel=1e-12)
    legacy = memory_breakdown(LLAMA_405B, plan, _stack(False))  # ceil(126 / 16) = 8 layers + a table
    table = LLAMA_405B.vocab_size * LLAMA_405B.hidden_size / 4
    assert legacy["gradients"][0] - got["gradients"][0] == pytest.approx(table * grad_buffer_bytes(stack), rel=1e-9)
    # activations: 154 of 158 layer-micro-batches (the one rebuilt layer and the logits: none without recompute)
    assert got["activations"][0] / legacy["activations"][0] == pytest.approx(154 / 158, rel=1e-12)
    assert in_flight_micro_batches(plan.schedule, plan.pp, plan.vpp, plan.micro_batches)[0] == 79 / 4


def test_without_counted_ends_the_first_stage_is_priced_as_before() -> None:
    """Even split without counted ends (and the balanced split): ceil(L / p) layers + a table and the first stage's
    in-flight micro-batches, the heaviest stage's memory before the stage kinds."""
    for schedule, vpp in ((Schedule.ONE_F_ONE_B, 1), (Schedule.INTERLEAVED, 2), (Schedule.ZB_V, 2),
                          (Schedule.DUALPIPE, 1)):
        plan = PlanArrays.build(tp=2, pp=4, dp=8, cp=1, ep=1, vpp=vpp, micro_batch=1, global_batch=256,
                                seq_len=4096, recompute=0, zero=1, dtype=0, schedule=int(schedule))
        for stack in (_stack(False), resolve_stack(None, "training").model_copy(update={"pipeline_split": "balanced"})):
            got = memory_breakdown(LLAMA_8B, plan, stack)
            held = ops_params.local_params(LLAMA_8B, 2, 4)  # ceil(32 / 4) = 8 layers + one table
            copies = 2.0 if schedule == Schedule.DUALPIPE else 1.0
            # ZB-V's rank 0 also builds the (untied) LM head's table (hZ2); DualPipe's second copy holds it
            head = LLAMA_8B.vocab_size * LLAMA_8B.hidden_size / 2 if schedule == Schedule.ZB_V else 0.0
            assert got["gradients"][0] == pytest.approx((held * copies + head) * grad_buffer_bytes(stack), rel=1e-12)
            flight = in_flight_micro_batches(plan.schedule, plan.pp, plan.vpp, plan.micro_batches)[0]
            one = memory_breakdown(LLAMA_8B, replace(plan, schedule=np.array([int(Schedule.ONE_F_ONE_B)]),
                                                     vpp=np.array([1])), stack)
            # a mirrored schedule's first rank also runs the loss: one micro-batch of fp32 logits (session 35, hZ)
            logits = 4096 * LLAMA_8B.vocab_size / 2 * 4.0 if schedule in (Schedule.ZB_V, Schedule.DUALPIPE) else 0.0
            assert got["activations"][0] == pytest.approx(one["activations"][0] * flight / 4 + logits, rel=1e-12)


def test_the_last_stage_holds_the_fp32_logits_of_one_micro_batch() -> None:
    """Full recompute on two stages: the first holds 2 micro-batches of layer inputs, the last one and the loss's
    fp32 softmax of a micro-batch (megatron-core tensor_parallel/cross_entropy.py), which then peaks."""
    plan = PlanArrays.build(tp=1, pp=2, dp=1, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8, seq_len=8192,
                            recompute=int(Recompute.FULL), zero=1, dtype=0)
    stack = _stack(False)
    got = memory_breakdown(LLAMA_8B, plan, stack)["activations"][0]
    tokens, h, layers = 8192, LLAMA_8B.hidden_size, 16
    rebuilt = tokens * float(activation_bytes_per_token_layer(LLAMA_8B, replace(plan, recompute=np.array([0])),
                                                              stack)[0])  # one layer's activations
    first = 2 * layers * tokens * h * 2.0 + rebuilt
    last = layers * tokens * h * 2.0 + rebuilt + tokens * LLAMA_8B.vocab_size * 4.0
    assert last > first and got == pytest.approx(last, rel=1e-12)


def _grid() -> PlanArrays:
    tp, pp, vpp, mb, rc = np.meshgrid([1, 2, 8], [1, 2, 4, 8], [1, 2, 4], [1, 2], [0, 1, 2], indexing="ij")
    keep = (pp > 1) | (vpp == 1)  # interleaving needs a pipeline
    tp, pp, vpp, mb, rc = (x[keep] for x in (tp, pp, vpp, mb, rc))
    n = tp.size
    schedule = np.where(vpp.ravel() > 1, int(Schedule.INTERLEAVED), int(Schedule.ONE_F_ONE_B))
    return PlanArrays.build(tp=tp.ravel(), pp=pp.ravel(), dp=np.full(n, 4), cp=np.ones(n, dtype=int),
                            ep=np.ones(n, dtype=int), vpp=vpp.ravel(), micro_batch=mb.ravel(),
                            global_batch=np.full(n, 512), seq_len=np.full(n, 8192), recompute=rc.ravel(),
                            zero=np.full(n, 1), dtype=np.zeros(n, dtype=int), schedule=schedule)


@pytest.mark.parametrize("counted", [False, True])
def test_arrays_and_one_plan_agree_and_the_total_is_the_breakdowns_sum(counted: bool) -> None:
    stack, plans = _stack(counted), _grid()
    arrays = memory_breakdown(LLAMA_405B, plans, stack)
    total = memory_total(LLAMA_405B, plans, stack)
    summed = (arrays["weights"] + arrays["gradients"] + arrays["optimizer"] + arrays["activations"]
              + arrays["overhead"])
    np.testing.assert_array_equal(total, summed)
    for i in range(0, len(plans), 7):
        one = memory_breakdown(LLAMA_405B, plans.take(np.array([i])), stack)
        for key, value in one.items():
            assert value[0] == arrays[key][i], (i, key)


@pytest.mark.parametrize("counted", [False, True])
def test_bound_terms_bracket_every_plans_memory(counted: bool) -> None:
    stack, plans = _stack(counted), _grid()
    plans = replace(plans, recompute=np.where(plans.recompute == int(Recompute.FULL), plans.recompute, 0))
    total = memory_total(LLAMA_405B, plans, stack) - overhead_bytes(LLAMA_405B, plans)  # (the reserve, NCCL: hY45)
    bounds = memory_bound_terms(LLAMA_405B, plans, stack, "states") | memory_bound_terms(LLAMA_405B, plans, stack,
                                                                                          "activations")
    assert np.all(bounds["state_low"] + bounds["activations_low"] <= total * (1 + 1e-12))
    assert np.all(bounds["state_high"] + bounds["activations_high"] >= total * (1 - 1e-12))


def test_bounded_search_equals_pricing_every_plan_with_counted_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("llama3-8b", Cluster.resolve("dgx-h100-superpod"), 64, 8192, 128)
    monkeypatch.setattr(search, "BOUND_ROWS", 401)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = search_plans(*args, top=5, stack=_stack(True))
    monkeypatch.undo()
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*args, top=5, stack=_stack(True))
    assert (bounded.evaluated_count, bounded.feasible_count) == (full.evaluated_count, full.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in full.top]
