"""Training memory on the stages the balanced split builds, and DualPipe's middle ranks (hO42, session 42).

The "balanced" split (meta-llama3 as cut before hZ47, `META_LLAMA3_TIME`; deepspeed) moves whole layers off the end
stages by their times (`stage_split.with_stage_split`); the memory priced every stage at ceil(L / p) layers and a
table, so it was above the stages that exist where the ends hold fewer (Llama 3 405B on PP16: 7 + a table on each
end, 8 on the middle stages) and below them where a stage holds more than ceil(L / p) (Llama 3 8B on PP2: the last
stage, with the LM head, 15 layers; the first 17). Now each stage kind is priced on its own layers of the step
time's split (`step_time.balanced_split`, `stage_params.balanced_stage_layers`, `stage_params.stage_layer_counts`), in
a single estimate, a grid and the search (its memory bounds too).

Hand cases: a layer's parameters on one GPU P, a table T (V h / TP), the stored activation bytes per token and layer
a (`activation_bytes_per_token_layer`), tokens = micro-batch x sequence; Megatron's mixed precision under ZeRO-1:
2 B weights + 4 B fp32 gradients per parameter, 12 B optimizer state over DP.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.training.conftest import (
    META_LLAMA3_TIME,
    assert_grid_points_price_alone_alike,
    counted_split_stack,
    dp_stage_grid,
    overhead_bytes,
)

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import NUMPY_OPS
from infraplan.training import search, search_bounds
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.memory import (
    RUNTIME_OVERHEAD_BYTES,
    activation_bytes_per_token_layer,
    memory_bound_terms,
    memory_breakdown,
    memory_total,
)
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import balanced_stage_layers
from infraplan.training.step_time import balanced_split

LLAMA3 = META_LLAMA3_TIME


def _plan(pp: int, dp: int, tp: int = 8, zero: int = 1, seq_len: int = 8192, micro_batch: int = 1,
          global_batch: int = 2048, schedule: int | None = None) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=pp, dp=dp, cp=1, ep=1, etp=None, vpp=1, micro_batch=micro_batch,
                               global_batch=global_batch, seq_len=seq_len, recompute=0, zero=zero, dtype=0,
                               attention=0, order=0, sequence_parallel=1, schedule=schedule)


def _zero_one_state(params: float, dp: int) -> float:
    """Weights + fp32 gradients + the optimizer's 12 B over DP (ZeRO-1, the stack's fp32 moments)."""
    return params * 2.0 + params * 4.0 + params * 12.0 / dp


def test_balanced_stage_layers_are_the_step_times_stages() -> None:
    """The stage kinds' layers (middle, first, last) of the split the step time prices: a middle stage the heaviest
    (every middle X, the ends share L - (p - 2) X, the odd one on the first), an end the heaviest (the other end as
    many, at most what is left; on PP2 all the rest), one stage."""
    def layers(num: int, pp: int, split: tuple[float, float, float]) -> tuple[float, ...]:
        return tuple(float(x) for x in balanced_stage_layers(num, pp, split, LLAMA3))

    assert layers(126, 16, (8.0, 0.0, 0.0)) == (8.0, 7.0, 7.0)  # Llama 3 405B (arXiv:2407.21783 sec. 3.3.2)
    assert layers(7, 4, (3.0, 0.0, 0.0)) == (3.0, 1.0, 0.0)  # 1 / 3 / 3 / 0: a middle stage above ceil(7 / 4)
    assert layers(32, 2, (15.0, 0.0, 1.0)) == (0.0, 17.0, 15.0)  # the last heaviest with the LM head: 17 / 15
    assert layers(32, 2, (10.0, 1.0, 0.0)) == (0.0, 10.0, 22.0)
    assert layers(32, 4, (9.0, 1.0, 0.0)) == (7.0, 9.0, 9.0)  # the first heaviest: the last 9, the middles 7 of 14
    assert layers(32, 1, (32.0, 1.0, 1.0)) == (32.0, 32.0, 32.0)
    split = (np.array([8.0, 64.0]), np.zeros(2), np.array([0.0, 1.0]))
    arrays = balanced_stage_layers(126, np.array([16.0, 2.0]), split, LLAMA3)
    assert [list(map(float, x)) for x in arrays] == [[8.0, 0.0], [7.0, 62.0], [7.0, 64.0]]


def test_405b_on_pp16_prices_its_middle_stage_not_ceil_with_a_table() -> None:
    """Llama 3 405B, TP8 PP16 DP16, ZeRO-1, meta-llama3: the step time's split is 8 layers on each middle stage and 7
    + a table on each end; the peak is the second stage (8 P, 15 micro-batches of 8 layers) against the first's (7 P
    + T, 16 of 7): 86.94 GB, + 0.29 GB of NCCL buffers (hY45), + FC1's 0.44 GB fresh wgrad (hD67). Before: 8 P + T
    and 16 micro-batches of 8 layers, 92.97 GB (hO41's measure)."""
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(2048).placed(2048)
    plan = _plan(16, 16)
    split = balanced_split(shape, cluster, plan, LLAMA3)
    assert split is not None and tuple(map(float, split[:3])) == (8.0, 0.0, 0.0)  # (the ends' capacities after: hO47)
    p, t = float(local_layer_params(shape, 8)), shape.vocab_size * shape.hidden_size / 8
    a = float(activation_bytes_per_token_layer(shape, plan.one_row, LLAMA3)) * 8192
    # the stack's fresh bf16 wgrad of its largest linear, FC1's h x 2f / TP (unfused accumulation, hD67)
    fresh = shape.hidden_size * 2.0 * shape.ffn_hidden_size / 8 * 2.0
    middle = _zero_one_state(8 * p, 16) + 15 * 8 * a + fresh
    first = _zero_one_state(7 * p + t, 16) + 16 * 7 * a + fresh
    assert middle > first
    memory = memory_breakdown(shape, plan, LLAMA3, split)
    assert float(memory["weights"][0]) == pytest.approx(2.0 * 8 * p, rel=1e-12)
    assert float(memory["activations"][0]) == pytest.approx(15 * 8 * a + fresh, rel=1e-12)
    total = sum(float(v[0]) for v in memory.values())
    assert total == pytest.approx(middle + overhead_bytes(shape, plan), rel=1e-12)
    assert total / 1e9 == pytest.approx(86.94 + 0.285 + 0.436, abs=0.01)  # (+ NCCL buffers, hY45; + fresh, hD67)
    before = _zero_one_state(8 * p + t, 16) + 16 * 8 * a + RUNTIME_OVERHEAD_BYTES
    assert before / 1e9 == pytest.approx(92.97, abs=0.01)
    r = estimate_training("llama3-405b", "meta-genai-roce-24k", 2048, tp=8, pp=16, vpp=1, seq_len=8192,
                          global_batch=2048, zero=1, stack=META_LLAMA3_TIME)
    assert r.memory_per_gpu_bytes == total  # the product's single estimate, bit for bit


def test_8b_on_pp2_prices_the_first_stage_above_ceil() -> None:
    """Llama 3 8B, TP1 PP2, meta-llama3: the LM head makes the last stage the heaviest with 15 layers, so the first
    holds 17 (> ceil(32 / 2) = 16) + the embedding and 2 micro-batches of them (1F1B, m >= 2): the peak. Before:
    16 layers, below the stage that exists."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    plan = _plan(2, 32, tp=1, global_batch=128)
    split = balanced_split(shape, cluster, plan, LLAMA3)
    assert split is not None and tuple(map(float, split[:3])) == (15.0, 0.0, 1.0)
    p, t = float(local_layer_params(shape, 1)), shape.vocab_size * shape.hidden_size
    a = float(activation_bytes_per_token_layer(shape, plan.one_row, LLAMA3)) * 8192
    fresh = shape.hidden_size * 2.0 * shape.ffn_hidden_size * 2.0  # FC1's fresh bf16 wgrad (hD67)
    memory = memory_breakdown(shape, plan, LLAMA3, split)
    assert float(memory["weights"][0]) == pytest.approx(2.0 * (17 * p + t), rel=1e-12)
    assert float(memory["activations"][0]) == pytest.approx(2 * 17 * a + fresh, rel=1e-12)
    assert sum(float(v[0]) for v in memory.values()) == pytest.approx(
        _zero_one_state(17 * p + t, 32) + 2 * 17 * a + fresh + overhead_bytes(shape, plan), rel=1e-12)
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=1, pp=2, seq_len=8192, global_batch=128, zero=1,
                          stack=META_LLAMA3_TIME)
    assert r.memory_per_gpu_bytes == sum(float(v[0]) for v in memory.values())


def test_grid_prices_each_plan_as_alone_and_as_the_search() -> None:
    """deepspeed (balanced) on a grid of 40 rows x 1F1B / interleaved / ZB-H1 / DualPipe x ZeRO 0, 1, 3: each point's
    memory is its single estimate's, bit for bit, where the split moves it and elsewhere; the search's `memory_total`
    gives the same totals; DualPipe's columns move too, on the end and middle ranks of its own balanced split
    (hO44, session 43: they kept ceil(L / p) per copy before)."""
    shape, cluster, profile, plan = dp_stage_grid("llama3-8b", 64, "deepspeed", 2)
    out = evaluate_plans(shape, cluster, plan, profile)
    split = balanced_split(shape, cluster, plan, profile)
    assert split is not None
    before = sum(memory_breakdown(shape, plan, profile).values())
    differs = out["memory_per_gpu_bytes"] != before
    assert np.any(np.broadcast_to(differs, out["memory_per_gpu_bytes"].shape)[:, 3])  # (DualPipe: its split too)
    assert_grid_points_price_alone_alike(shape, cluster, profile, plan, out, "memory_per_gpu_bytes", differs, 42)
    total = memory_total(shape, plan, profile, split)
    assert np.array_equal(np.broadcast_to(total, out["memory_per_gpu_bytes"].shape), out["memory_per_gpu_bytes"])


def test_memory_bounds_hold_on_the_balanced_split() -> None:
    """`memory_bound_terms` with the rows' split: low <= every plan's memory <= high (states at one copy), on the
    grid's rows at the pairs meta-llama3 runs (1F1B, interleaved) and every ZeRO stage; without the split neither holds
    (ceil(L / p) layers + a table: above a first stage of fewer layers, below a stage holding more)."""
    shape, cluster, profile, plan = dp_stage_grid("llama3-8b", 64, META_LLAMA3_TIME, 2)
    memory = np.asarray(evaluate_plans(shape, cluster, plan, profile)["memory_per_gpu_bytes"])[:, :2]
    plan = replace(plan, vpp=plan.vpp[..., :2, :], schedule=plan.schedule[..., :2, :])  # (the stack's schedules)
    rows = replace(plan, vpp=np.ones_like(plan.vpp[..., :1, :]), schedule=np.ones_like(plan.schedule[..., :1, :]))
    split = balanced_split(shape, cluster, rows, profile)
    for given, holds in ((split, True), (None, False)):
        states = memory_bound_terms(shape, rows, profile, "states", given)
        acts = memory_bound_terms(shape, plan, profile, "activations", given)
        low = states["state_low"] + acts["activations_low"] + overhead_bytes(shape, rows)
        high = states["state_high"] + acts["activations_high"] + overhead_bytes(shape, rows)
        assert bool(np.all(np.broadcast_to(low, memory.shape) <= memory * (1 + 1e-12))) is holds
        assert bool(np.all(np.broadcast_to(high, memory.shape) >= memory * (1 - 1e-12))) is holds


@pytest.mark.parametrize("case", [("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64, "deepspeed"),
                                  ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128, META_LLAMA3_TIME)])
def test_bounded_search_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch,
                                                  case: tuple[str, str, int, int, int, object]) -> None:
    """The branch and bound's memory bounds on the balanced split's rows (`memory_bounds.memory_bounds_bytes` with
    the rows' split; rows sharing all but the rank order share it only with the same split) keep the search's answer
    and counts those of pricing every plan (Mixtral: EP rows, whose all-to-all moves with the order)."""
    model, system, gpus, seq_len, batch, stack = case
    monkeypatch.setattr(search, "CHUNK_PLANS", 4099)
    monkeypatch.setattr(search, "BOUND_ROWS", 401)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = search.search_plans(model, system, gpus, seq_len, batch, top=7, stack=stack)
    monkeypatch.undo()
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    every = search.search_plans(model, system, gpus, seq_len, batch, top=7, stack=stack)
    assert (bounded.evaluated_count, bounded.feasible_count) == (every.evaluated_count, every.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == \
        [r.model_dump(exclude={"train_command"}) for r in every.top]


def test_recompute_auto_reads_the_split() -> None:
    """`--recompute auto` takes the least recompute whose memory fits on the stages that exist: Llama 3 405B on 24,576
    GPUs at TP8 PP16 VP1 DP192, ZeRO-1: no recompute fits on the middle stage's 8 layers x 15 in flight (85.47 GB of
    the H100's 79.6 GiB); at ceil(L / p) = 8 layers + a table x 16 it does not (91.32 GB). (hO42 showed it on 8,192
    GPUs, DP64, at 85.43 GB; hD67's fresh FC1 wgrad of the stack's unfused accumulation, 0.44 GB, puts that 0.35 GB
    over: the larger DP's smaller optimizer shard brings it back under.)"""
    r = estimate_training("llama3-405b", "meta-genai-roce-24k", 24576, tp=8, pp=16, vpp=1, seq_len=8192,
                          global_batch=3072, micro_batch=1, zero=1, stack=META_LLAMA3_TIME, recompute="auto")
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(24576).placed(24576)
    plan = _plan(16, 192, global_batch=3072)
    split = balanced_split(shape, cluster, plan, LLAMA3)
    fits = sum(float(v[0]) for v in memory_breakdown(shape, plan, LLAMA3, split).values())
    ceil_priced = sum(float(v[0]) for v in memory_breakdown(shape, plan, LLAMA3).values())
    assert (r.config.recompute, r.config.recompute_layers) == ("none", 0)
    assert r.memory_per_gpu_bytes == fits <= cluster.accelerator.memory_bytes < ceil_priced


def test_dualpipe_middle_ranks_hold_p_plus_one_micro_batches() -> None:
    """DualPipe on a split counting the embedding and the loss as layers (Llama 3 8B: 34 on PP4, 9 a stage, the ends
    8): every rank holds p + 1 micro-batches of its stages at its peak (DeepSeek-V3 Table 2 "PP+1"; dualpipe 1.0.0
    `DualPipe.step`), a middle rank 2 x 9 layers' parameters and 5 x 9 layer-micro-batches, above rank 0's 2 x (8 P
    + T) and 5 x 8 with the loss's logits here. Before: the middle kind held no activations (rank 0 priced)."""
    shape = load_model("llama3-8b")
    stack = counted_split_stack()
    plan = _plan(4, 16, tp=2, zero=3, micro_batch=4, global_batch=512, schedule=int(Schedule.DUALPIPE))
    memory = memory_breakdown(shape, plan, stack)
    a = float(activation_bytes_per_token_layer(shape, plan.one_row, stack)) * 4 * 8192
    assert float(memory["activations"][0]) == pytest.approx(5 * 9 * a, rel=1e-12)
    one_f_one_b = memory_breakdown(shape, replace(plan, schedule=np.array([int(Schedule.ONE_F_ONE_B)])), stack)
    assert float(memory["activations"][0]) > float(one_f_one_b["activations"][0])  # (1F1B: 4 x 8 on its first)


def test_stage_layer_counts_are_the_step_times() -> None:
    """`stage_params.stage_layer_counts` (moved from step_assembly.py) on arrays and one plan's floats alike."""
    from infraplan.scalar_path import FLOAT_OPS
    from infraplan.training.stage_params import stage_layer_counts

    heaviest, first, last = np.array([8.0, 9.0, 15.0]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    pp, other = np.array([16.0, 4.0, 2.0]), np.array([118.0, 23.0, 17.0])  # (126, 32 and 32 layers)
    arrays = stage_layer_counts(LLAMA3, pp, heaviest, other, first, last, NUMPY_OPS)
    for i in range(3):
        floats = stage_layer_counts(LLAMA3, float(pp[i]), float(heaviest[i]), float(other[i]), float(first[i]),
                                    float(last[i]), FLOAT_OPS)
        assert tuple(float(np.asarray(x)[i]) for x in arrays) == floats
    # (first, last, middle): the ends 7 / 7 around middles of 8; the last 9 beside the first's, middles 7; PP2: the
    # first all 17 the heaviest leaves, no middle (15 and 2 on no stage before hO48, session 44)
    assert [list(map(float, x)) for x in arrays] == [[7.0, 0.0, 17.0], [7.0, 9.0, 0.0], [8.0, 7.0, 0.0]]
