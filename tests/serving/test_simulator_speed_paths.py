"""The serving simulator's speed paths (issue 18, "1 M requests <= 3 s online"; session 36, hP3) leave every answer
unchanged: a pool builds its engines' cost tables once and drops them after, hands each open-loop engine a strided
view of its requests (the values an index array would copy), and the specialised loop keeps its state in fast
locals (no closure cells) and finishes an event iteration's sequences without a list."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving import fcfs_loop, fcfs_setup, loop_stepping, serving_sim
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.schedulers import FcfsScheduler
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
DEP = Deployment(replicas=8, max_batch=64, token_budget=4096)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC), DEP)


def test_a_pool_builds_its_engines_tables_once_and_drops_them(monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    build = loop_stepping.cost_tables

    def counted(cost: Any, max_batch: int) -> Any:
        builds.append((id(cost), max_batch) not in loop_stepping._TABLES)
        return build(cost, max_batch)

    monkeypatch.setattr(fcfs_setup, "cost_tables", counted)  # the FCFS loop's, through `fcfs_constants` (hA58)
    req = workload_requests(load_workload("chat"), 800, 40.0, seed=3)
    zeros = np.zeros_like(req.input_tokens)
    pool = serving_sim.run_pool(COST, DEP, 100_000, req.arrival_s, req.input_tokens, zeros, req.output_tokens - 1,
                                engines=8)
    assert len(builds) == 8 and sum(builds) == 1  # eight engines, one build (before: one each)
    assert not loop_stepping._TABLES  # outside a caller's scope they live for the pool's run only
    assert np.isfinite(pool.finish_s).all()


@pytest.mark.parametrize("engines", [1, 3, 8, 900])  # 900: more engines than requests, some get none
def test_open_loop_engines_take_every_engines_th_request(engines: int) -> None:
    req = workload_requests(load_workload("chat"), 800, 40.0, seed=4)
    zeros = np.zeros_like(req.input_tokens)
    steps = req.output_tokens - 1
    pool = serving_sim.run_pool(COST, DEP, 100_000, req.arrival_s, req.input_tokens, zeros, steps, engines)
    first, finish = np.full(800, np.nan), np.full(800, np.nan)
    busy = 0.0
    for e in range(min(engines, 800)):  # the index arrays the pool routed by before, engine by engine
        idx = np.arange(e, 800, engines)
        r = simulate_engine(COST, req.arrival_s[idx], req.input_tokens[idx], zeros[idx], steps[idx], DEP.max_batch,
                            DEP.token_budget, 100_000, DEP.block_tokens)
        first[idx], finish[idx] = r.first_token_s, r.finish_s
        busy += r.busy_s
    assert np.array_equal(pool.first_token_s, first) and np.array_equal(pool.finish_s, finish)  # bit for bit
    assert pool.busy_s == busy and np.array_equal(pool.arrival_s, req.arrival_s)


def test_the_specialised_loop_keeps_its_state_in_fast_locals() -> None:
    """The ending request's release is bound to the loop's lists by default arguments, not closed over: the loop's
    own reads of `n` (every heap key) and `waiting` (every pass) stay fast locals."""
    cells = set(fcfs_loop.fcfs_steps.__code__.co_cellvars)
    assert not cells & {"n", "waiting", "arr", "log", "clients"}


def test_the_loop_sums_cached_tokens_as_floats_with_the_answers_of_ints() -> None:
    """Without drafts the requests' final cached tokens come as whole floats (hP7): the loop's sum of cached
    tokens is float-float arithmetic (the interpreter's fast path), exact below 2^53, so the times are those of
    the same run on int tokens."""
    req = workload_requests(load_workload("chat"), 600, 30.0, seed=5)
    zeros = np.zeros_like(req.input_tokens)
    lists = loop_stepping.fcfs_request_lists(req.input_tokens, zeros, req.output_tokens - 1, DEP.block_tokens)
    end_ctx = lists[4]
    assert all(type(x) is float and x == int(x) for x in end_ctx)
    runs = []
    for tokens in (end_ctx, [int(x) for x in end_ctx]):
        arr = req.arrival_s.tolist()
        first, finish = [np.nan] * len(arr), [np.nan] * len(arr)
        totals = loop_stepping.run_to_end(fcfs_loop.fcfs_steps(
            COST, arr, arr + [np.inf], *lists[:4], tokens, lists[5], DEP.max_batch, DEP.token_budget, 100_000, 0,
            first, finish, None))
        runs.append((totals, first, finish))
    assert runs[0] == runs[1] and runs[0][0][0] > 0


def test_the_loop_counts_free_blocks_as_floats_with_the_answers_of_ints() -> None:
    """`fcfs_steps` counts its free KV blocks as a float (hP8): the requests' blocks come as whole floats, so its
    admissions and releases are float-float arithmetic; exact below 2^53, the same admissions and times as int
    blocks. A cache that binds (600 requests on 2,000 blocks) exercises the comparisons."""
    req = workload_requests(load_workload("chat"), 600, 30.0, seed=5)
    zeros = np.zeros_like(req.input_tokens)
    lists = loop_stepping.fcfs_request_lists(req.input_tokens, zeros, req.output_tokens - 1, DEP.block_tokens)
    need = lists[3]
    assert all(type(x) is float for x in need)
    assert need == loop_stepping.request_tokens(req.input_tokens, zeros, req.output_tokens - 1, DEP.block_tokens,
                                                1.0, 0)[1]
    runs = []
    variants: tuple[list[Any], ...] = (need, [int(x) for x in need])
    for blocks in variants:
        arr = req.arrival_s.tolist()
        first, finish = [np.nan] * len(arr), [np.nan] * len(arr)
        totals = loop_stepping.run_to_end(fcfs_loop.fcfs_steps(
            COST, arr, arr + [np.inf], *lists[:3], blocks, *lists[4:], DEP.max_batch, DEP.token_budget, 2_000, 0,
            first, finish, None))
        runs.append((totals, first, finish))
    assert runs[0] == runs[1] and runs[0][0][0] > 0



def test_an_idle_engine_restarts_at_the_next_arrival_as_the_general_loop_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """hS66: an idle engine's clock moves to the next arrival it already holds (no `max` call: the arrivals test
    stopped before it), and a lone prompt with no decode batch sums without the general sums' `+ 0.0` terms; at a
    light load (most requests find the engine idle, prefill-only prompts among them) the times are the general
    loop's bit for bit (stepped pairs: tests/serving/test_serving_engine_fcfs_loop.py)."""
    req = workload_requests(load_workload("chat"), 400, 0.5, seed=11)
    steps = req.output_tokens - 1
    steps[::3] = 0  # one-token outputs: prefill-only iterations with nothing decoding
    zeros = np.zeros_like(steps)
    args = (COST, req.arrival_s, req.input_tokens, zeros, steps, DEP.max_batch, DEP.token_budget, 100_000, 16)
    calls = [0]

    def counted_max(*a: Any) -> Any:
        calls[0] += 1
        return max(*a)

    # shadows the builtin where the loop's set-up runs (`fcfs_setup.fcfs_constants` since hA58's split)
    monkeypatch.setattr(fcfs_setup, "max", counted_max, raising=False)
    fast = simulate_engine(*args)
    assert calls == [1]  # the loop's set-up (its float table's size), none per idle restart
    monkeypatch.undo()
    general = simulate_engine(*args, scheduler=_General())
    idle = int(np.count_nonzero(fast.first_token_s[1:] > fast.finish_s[:-1]))
    assert idle > 200  # most of the 400 requests found the engine idle
    for got, want in ((fast.first_token_s, general.first_token_s), (fast.finish_s, general.finish_s)):
        assert np.array_equal(got, want)
    assert (fast.busy_s, fast.iterations) == (general.busy_s, general.iterations)


class _General(FcfsScheduler):
    """FCFS through its methods: the engine runs its general loop on the same policy."""

    def pick(self, waiting: Any, need: list[int], free: int) -> int | None:
        return super().pick(waiting, need, free)
