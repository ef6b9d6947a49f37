"""The disaggregated closed loop's steady window (hO59, `serving.pair_loop`, `serving.window_marks.ClosedCuts`).

Before: a prefill/decode pair in closed loop took the whole run's dynamic joules per token (ramp and drain in) at
the served rate over all its sends, and said "whole run's" in its `per_token_basis`: Llama 3 8B fp8 on 2 H100 (1
prefill + 1 decode), 64 clients of 2,048 / 128 tokens, read J/token 5.4 % apart at 320 and 5,120 requests. Now the
pair reads the pool's window (the middle request's send to the earliest end of a client's last request), every
engine's work recorded at both cuts as the one pass finds them: 0.04 % apart. Each pool's window rate equals its
engines run alone over their final arrivals with those cuts given up front (tests/serving/test_disaggregated_loop.py,
`_pair_run`, rel 1e-9 over every stack and routing there). The aggregated closed loop's engine is now held short of
running to its end while its window's end is still to come: with fixed lengths its last send came before that end
and its work at the cut read the whole run's (1.2e-3 over the replay at 400 requests, 16 clients). Checked failing
on the base tree (b9a1292): the flat and basis tests (5.4 %; "whole run's"), the replay test (1.2e-3 apart), and the
tests reading `ClosedCuts.noted` / `settle`, `next_cut`'s stretch or `SteppedEngine.held` (none exist there)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.network.collectives import Fabric
from infraplan.serving.client_loop import closed_loop_engine
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost
from infraplan.serving.pair_loop import PoolSpec, SteppedEngine, pool_tables
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.window_marks import ClosedCuts, next_cut

PAIR = dict(dtype="fp8", input_len=2048, output_len=128, concurrency=64, prefill_gpus=1)


def test_pair_energy_per_token_is_flat_in_the_requests() -> None:
    small = estimate_serving("llama3-8b", "h100-sxm", 2, requests=320, **PAIR)
    large = estimate_serving("llama3-8b", "h100-sxm", 2, requests=5120, **PAIR)
    assert small.joules_per_token == pytest.approx(large.joules_per_token, rel=1e-3)  # 0.04 % (whole run's: 5.4 %)
    assert small.steady_power_w_per_gpu is not None and large.steady_power_w_per_gpu is not None
    assert small.steady_power_w_per_gpu == pytest.approx(large.steady_power_w_per_gpu, rel=1e-3)
    for r in (small, large):  # the identity of the per-token figures holds over the window
        assert r.assumptions is not None and "closed loop's window" in (r.assumptions.per_token_basis or "")
        per_gpu = r.joules_per_token * r.steady_output_tokens_per_s / 2  # (2 GPUs)
        assert r.steady_power_w_per_gpu == pytest.approx(per_gpu, rel=1e-9)


def _cost() -> tuple[IterationCost, Deployment]:
    sys_ = load_system("dgx-h100-superpod")
    acc = load_accelerator(sys_.accelerator)
    dep = Deployment(max_batch=64, token_budget=2048)
    return build_iteration_cost(load_model("llama3-8b"), acc, Fabric.from_system(sys_, acc), dep), dep


def test_fixed_length_engine_window_is_its_replay() -> None:
    """Fixed lengths: the last send comes before the first client's last end; the engine, held until that end is
    in, records its work there as the same engine given its final arrivals and both cuts up front does."""
    cost, dep = _cost()
    n, clients = 400, 16
    inp, steps, zeros = np.full(n, 512), np.full(n, 255), np.zeros(n, dtype=np.int64)
    r = closed_loop_engine(PoolSpec(cost, dep, 20000, 1, "fcfs", "reserve_full"), np.zeros(n), inp, zeros, steps,
                           clients, 1e-3)
    c0 = float(r.arrival_s[max(clients, (n - clients) // 2)])
    c1 = float(np.min(r.finish_s[n - clients:]))
    assert float(np.max(r.arrival_s)) < c1  # the case: every request sent before the window ends
    order = np.argsort(r.arrival_s, kind="stable")
    again = simulate_engine(cost, r.arrival_s[order], inp[order], zeros[order], steps[order], dep.max_batch,
                            dep.token_budget, 20000, dep.block_tokens, cuts=[c0, c1])
    assert again.window_work is not None and r.window_rate is not None
    assert r.window_rate == pytest.approx((again.window_work[1] - again.window_work[0]) / (c1 - c0), rel=1e-9)


def test_ends_reported_out_of_order_settle_at_the_earliest() -> None:
    w = ClosedCuts(40, 4)  # the middle request: 18
    assert w.noted(9.0)  # an end before the middle send is known: kept, the window not closed
    w.sent(18, 2.0)
    assert w.noted(7.0) and not w.noted(8.0)  # only an earlier end moves it
    assert w.cuts == [2.0] and w.open
    w.settle()
    assert w.cuts == [2.0, 7.0] and not w.open
    w.sent(18, 3.0)
    assert not w.noted(1.0) and w.cuts == [2.0, 7.0]  # settled: nothing moves it
    late = ClosedCuts(40, 4)
    late.noted(1.0)
    late.sent(18, 2.0)  # the earliest end before the middle send: no window (`closed_window`'s rule)
    late.settle()
    assert late.cuts == [2.0] and late.rate([0.5], 3.0) is None


def test_a_cut_the_engine_ran_past_takes_its_last_steps_share() -> None:
    """An engine yields at clock 10 after a stretch of 4 s (work 4 + 2) and an iteration of 1 s (work 1 + 0.5):
    work 20 now, 18.5 at the stretch's end, 12.5 at its start (5 s)."""
    marks: list[float] = []
    assert next_cut(marks, [9.5, 7.0], 10.0, 20.0, 1.0, 0.5, 4.0, 2.0) == math.inf
    assert marks == pytest.approx([18.5 + 0.5 * 1.5, 12.5 + 0.5 * 6.0])
    marks = []
    assert next_cut(marks, [9.5, 12.0], 10.0, 20.0, 1.0, 0.5) == 12.0  # a later cut waits for its step
    assert marks == pytest.approx([18.5 + 0.5 * 1.5])
    idle: list[float] = []
    next_cut(idle, [10.0], 10.0, 20.0)  # no step given (an idle engine): the work now
    assert idle == [20.0]


def test_a_held_engine_is_not_told_its_arrivals_are_all_in() -> None:
    cost, dep = _cost()
    pool = PoolSpec(cost, dep, 20000, 1, "fcfs", "reserve_full")
    ones = np.ones(2, dtype=np.int64)
    engine = SteppedEngine(pool, 2, pool_tables(pool, 100 * ones, 0 * ones, 10 * ones, True), True, held=True)
    engine.give([(0.0, 0), (0.5, 1)])
    assert engine.arr_open[-1] == -math.inf  # (the bound as it was: the driver moves it)
    engine.release()
    assert engine.arr_open[-1] == math.inf
    free = SteppedEngine(pool, 2, pool_tables(pool, 100 * ones, 0 * ones, 10 * ones, True), True)
    free.give([(0.0, 0), (0.5, 1)])
    assert free.arr_open[-1] == math.inf
