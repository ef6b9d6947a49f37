"""The engine loops' per-cost tables (`serving.loop_stepping.cost_tables`, issue 18): kept only inside a
`kept_cost_tables` scope (the capacity search), never shared between costs, and the runs that reuse them give the
same bits as runs that build their own."""

from __future__ import annotations

import dataclasses
import gc

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving import loop_stepping
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.loop_stepping import cost_tables, kept_cost_tables
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


def test_tables_are_the_cost_arrays_and_the_loops_sums() -> None:
    body, head, body_flop, decode_s, decode_flop_s, decode_head_s, half_kv, twice, four, head0, rows_s = cost_tables(
        COST, 64)
    assert body == COST.body_s.tolist() and head == COST.head_s.tolist() and body_flop == COST.body_flop_s.tolist()
    assert COST.decode_row_s is None and head0 == head and rows_s == [0.0] * len(head)  # (no per-row attention, hC65)
    assert len(decode_s) == len(decode_flop_s) == len(decode_head_s) == len(half_kv) == 65
    k = 37
    assert decode_s[k] == body[k] + head[k] + COST.decode_fixed_s + COST.overhead_s  # the loops' order of sums
    assert decode_head_s[k] == body[k] + head[k] and decode_flop_s[k] == min(body_flop[k], decode_s[k])
    assert half_kv[k] == COST.kv_token_s * k / 2.0 and twice[k] == 2.0 * half_kv[k] and four[k] == 4.0 * half_kv[k]


def test_kept_only_inside_a_scope_and_per_cost_object() -> None:
    assert cost_tables(COST, 64) is not cost_tables(COST, 64)  # outside: each run builds its own
    with kept_cost_tables():
        first = cost_tables(COST, 64)
        assert cost_tables(COST, 64) is first
        assert cost_tables(COST, 32) is not first and len(cost_tables(COST, 32)[3]) == 33  # per batch cap
        other = dataclasses.replace(COST, overhead_s=COST.overhead_s * 2)  # equal arrays, another cost
        assert cost_tables(other, 64)[3] != first[3]
        with kept_cost_tables():  # nested (a search inside the validation report)
            assert cost_tables(COST, 64) is first
        assert cost_tables(COST, 64) is first  # the inner scope's end keeps the outer's tables
        del other
        gc.collect()
        assert len(loop_stepping._TABLES) == 2  # a dead cost's tables go with it
    assert not loop_stepping._TABLES  # dropped when the last scope closes


@pytest.mark.parametrize("clients", [0, 24], ids=["open loop", "closed loop"])
def test_runs_on_kept_tables_equal_runs_on_their_own(clients: int) -> None:
    req = workload_requests(load_workload("chat"), 300, 30.0, seed=5)
    zeros = np.zeros_like(req.input_tokens)
    args = (COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1, 64, 2048, 100_000, 16)
    alone = [simulate_engine(*args, clients=clients, scheduler=s) for s in ("fcfs", "prefill-first")]
    with kept_cost_tables():
        kept = [simulate_engine(*args, clients=clients, scheduler=s) for s in ("fcfs", "prefill-first") * 2]
    for got, want in zip(kept, alone * 2, strict=True):
        assert np.array_equal(got.first_token_s, want.first_token_s) and np.array_equal(got.finish_s, want.finish_s)
        assert (got.busy_s, got.compute_s, got.iterations) == (want.busy_s, want.compute_s, want.iterations)


def test_numpy_tables_equal_the_loop_sums_at_every_batch_size() -> None:
    """The tables are built elementwise in numpy: every entry the float a Python loop over k gives (bit-equal)."""
    _, _, _, decode_s, decode_flop_s, decode_head_s, half_kv, twice, four, _, _ = cost_tables(COST, 64)
    body, head, body_flop = COST.body_s.tolist(), COST.head_s.tolist(), COST.body_flop_s.tolist()
    for k in range(65):
        a = body[k] + head[k] + COST.decode_fixed_s + COST.overhead_s
        assert decode_s[k] == a and decode_head_s[k] == body[k] + head[k]
        assert decode_flop_s[k] == (body_flop[k] if body_flop[k] <= a else a)
        assert half_kv[k] == COST.kv_token_s * k / 2.0 and twice[k] == 2.0 * half_kv[k] and four[k] == 4.0 * half_kv[k]
        assert all(type(x) is float for x in (decode_s[k], decode_flop_s[k], half_kv[k]))


def _stretch_by_iteration(grow: list[int], steps_done: int, free: int, n_dec: int, k_max: int) -> tuple[int, int]:
    """The on-demand stretch bound as the loop computed it before (one iteration of the block cycle at a time)."""
    bt = len(grow)
    cycles, rest = divmod(free, n_dec)
    m = acc = 0
    for i in range(1, bt):
        acc += grow[(steps_done + i) % bt]
        if acc > rest:
            break
        m = i
    k_max = min(k_max, cycles * bt + m)
    if k_max <= 0:
        return k_max, 0
    q, r = divmod(k_max, bt)
    return k_max, q * n_dec + sum(grow[(steps_done + i) % bt] for i in range(1, r + 1))


def test_on_demand_stretch_equals_the_iteration_by_iteration_bound() -> None:
    rng = np.random.default_rng(7)
    for _ in range(3000):
        bt = int(rng.choice([1, 2, 16, 64]))
        grow = rng.integers(0, 4, bt).tolist()
        n_dec = max(1, sum(grow))
        args = (grow, int(rng.integers(0, 500)), int(rng.integers(0, 3 * n_dec + 5)), n_dec, int(rng.integers(1, 300)))
        assert loop_stepping.on_demand_stretch(*args) == _stretch_by_iteration(*args)
