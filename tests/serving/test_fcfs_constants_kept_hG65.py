"""The FCFS loop's per-run constants (`serving.fcfs_setup.fcfs_constants`): the next run on the same cost, engine and
kept tables reads the last run's constants (a pool's engines, a candidate's probes, inside `kept_cost_tables`), not
new lists; another cost, batch cap or token budget, or tables not kept, gets its own; and the values are the ones
built fresh (hG, session 65)."""

from __future__ import annotations

import dataclasses

import numpy as np

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving.fcfs_setup import fcfs_constants
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.loop_stepping import cost_tables, kept_cost_tables
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


def test_the_same_cost_and_kept_tables_read_the_last_constants() -> None:
    with kept_cost_tables():
        first = fcfs_constants(COST, 64, 2048)
        assert fcfs_constants(COST, 64, 2048) is first  # (built per run before: new lists each time)
        assert first.grow is fcfs_constants(COST, 64, 2048).grow


def test_another_cost_cap_budget_or_unkept_tables_build_their_own() -> None:
    with kept_cost_tables():
        first = fcfs_constants(COST, 64, 2048)
        assert fcfs_constants(COST, 32, 2048) is not first and len(fcfs_constants(COST, 32, 2048).grow) == 33
        wide = fcfs_constants(COST, 64, 4096)
        assert wide is not first and len(wide.wholes) >= 4097
        other = dataclasses.replace(COST, overhead_s=COST.overhead_s * 2)
        assert fcfs_constants(other, 64, 2048).over == 2 * first.over
    assert fcfs_constants(COST, 64, 2048) is not fcfs_constants(COST, 64, 2048)  # outside: tables per run


def test_kept_constants_equal_constants_built_fresh() -> None:
    fresh = fcfs_constants(COST, 64, 2048)  # outside a scope: built from tables of its own
    with kept_cost_tables():
        fcfs_constants(COST, 64, 2048)
        kept = fcfs_constants(COST, 64, 2048)
        assert kept.body is cost_tables(COST, 64)[0]  # the kept tables themselves
    assert kept == fresh
    assert kept.head1 == fresh.head[1:] and kept.grow == [COST.decode_growth_tokens * k for k in range(65)]


def test_runs_reading_kept_constants_equal_runs_alone() -> None:
    req = workload_requests(load_workload("chat"), 300, 30.0, seed=7)
    zeros = np.zeros_like(req.input_tokens)
    args = (COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1, 64, 2048, 100_000, 16)
    alone = [simulate_engine(*args, clients=c) for c in (0, 24)]
    with kept_cost_tables():
        kept = [simulate_engine(*args, clients=c) for c in (0, 24, 0, 24)]
    for a, b in zip(alone + alone, kept, strict=True):
        assert np.array_equal(a.first_token_s, b.first_token_s) and np.array_equal(a.finish_s, b.finish_s)
        assert (a.busy_s, a.compute_s, a.iterations) == (b.busy_s, b.compute_s, b.iterations)
