"""Engine runs remembered within `plan`'s scope (`serving.engine_memo`, hS session 55): a repeated run answers bit
for bit what a fresh run answers; a run whose any input changed (an arrival by one ulp, a prompt, a cost figure,
the batch cap, the KV blocks, the closed-loop clients, the KV-bind stop) is not answered from memory; outside a
scope nothing is kept; a caller writing into a returned array does not change what is kept; the kept arrays stay
within MAX_BYTES; `plan` keeps runs only where two pools name different systems of one part. Checked failing
before: on the base tree `infraplan.serving.engine_memo` does not exist (every test errors on the import), and
with the key's inputs cut to the cost alone (or the cost's fields left out) the changed-input cases fail."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.planning.scenario_sizing import repeated_parts
from infraplan.planning.scenario_spec import load_scenario
from infraplan.serving import engine_memo
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_engine import EngineResult, fcfs_engine, simulate_engine
from infraplan.serving.workloads import workload_requests

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))
REQ = workload_requests(load_workload("chat"), 400, 30.0, seed=3)
ZEROS = np.zeros_like(REQ.input_tokens)
STEPS = REQ.output_tokens - 1


def run(cost=COST, arrival=REQ.arrival_s, prompt=REQ.input_tokens, steps=STEPS, max_batch: int = 64,
        blocks: int = 100_000, clients: int = 0) -> EngineResult:
    return simulate_engine(cost, arrival, prompt, ZEROS, steps, max_batch, 2048, blocks, 16, clients=clients)


def same(a: EngineResult, b: EngineResult) -> bool:
    arrays = all(np.array_equal(x, y, equal_nan=True) for x, y in ((a.first_token_s, b.first_token_s),
                                                                  (a.finish_s, b.finish_s),
                                                                  (a.arrival_s, b.arrival_s)))
    return arrays and (a.busy_s, a.compute_s, a.iterations, a.leapt_iterations) == (
        b.busy_s, b.compute_s, b.iterations, b.leapt_iterations)


def test_outside_a_scope_nothing_is_kept() -> None:
    run()
    assert engine_memo.kept_runs() == 0
    assert engine_memo.run_key(COST, REQ.arrival_s) is None


@pytest.mark.parametrize("clients", [0, 24], ids=["open loop", "closed loop"])
def test_a_repeated_run_is_recalled_bit_for_bit(clients: int) -> None:
    fresh = run(clients=clients)
    with engine_memo.kept_engine_runs():
        first = run(clients=clients)
        assert engine_memo.kept_runs() == 1
        again = run(clients=clients)
        assert engine_memo.kept_runs() == 1  # recalled, not run and kept again
        assert same(first, fresh) and same(again, fresh)
    assert engine_memo.kept_runs() == 0  # the scope closed: dropped


def _later(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    b[200] = np.nextafter(b[200], np.inf)  # one arrival one ulp later
    return b


def _longer_prompt(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    b[5] += 1
    return b


CHANGED = {  # name: the arguments of `run` that differ from the first run's
    "an arrival one ulp later": {"arrival": _later(REQ.arrival_s)},
    "one prompt a token longer": {"prompt": _longer_prompt(REQ.input_tokens)},
    "one fewer decode step": {"steps": STEPS - (np.arange(STEPS.size) == 7)},
    "a KV-token cost higher": {"cost": replace(COST, kv_token_s=COST.kv_token_s * 1.5)},
    "a cost table entry changed": {"cost": replace(COST, body_s=COST.body_s * (1 + 1e-12))},
    "a cost's extra figure": {"cost": replace(COST, extra={**COST.extra, "decode_wait_s": 1e-3})},
    "the batch cap": {"max_batch": 32},
    "the KV blocks": {"blocks": 3_000},
    "closed loop": {"clients": 24},
}


@pytest.mark.parametrize("name", list(CHANGED))
def test_a_changed_input_is_not_answered_from_memory(name: str) -> None:
    changed = CHANGED[name]
    fresh = run(**changed)
    with engine_memo.kept_engine_runs():
        run()
        got = run(**changed)
        assert engine_memo.kept_runs() == 2  # a second entry: its own run
    assert same(got, fresh)
    if name != "a cost's extra figure":  # (a figure the loop does not read: kept apart all the same)
        assert not same(got, run())  # (the change moves the answer: a stale entry would show)


def test_kv_bind_stop_is_part_of_the_key() -> None:
    args = (COST, REQ.arrival_s, REQ.input_tokens, ZEROS, STEPS, 64, 2048, 3_000, 16, 0)
    with engine_memo.kept_engine_runs():
        assert fcfs_engine(*args, stop_if_kv_binds=True) is None  # the cache binds: stopped
        ran = fcfs_engine(*args)
        assert ran is not None and np.isfinite(ran[1]).all()  # not the kept stop
        assert fcfs_engine(*args, stop_if_kv_binds=True) is None  # the stop recalled
        assert engine_memo.kept_runs() == 2


def test_writing_into_a_returned_array_leaves_the_kept_run() -> None:
    with engine_memo.kept_engine_runs():
        first = run()
        want = first.finish_s.copy()
        first.finish_s[:] = -1.0
        first.first_token_s[:] = -1.0
        assert np.array_equal(run().finish_s, want)


def test_kept_arrays_stay_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    one = 2 * REQ.arrival_s.nbytes  # first-token and finish times of one open-loop run
    monkeypatch.setattr(engine_memo, "MAX_BYTES", int(2.5 * one))
    with engine_memo.kept_engine_runs():
        for cap in (16, 32, 48, 64):
            run(max_batch=cap)
        assert engine_memo.kept_runs() == 2  # the two most recent
        assert engine_memo._BYTES[0] <= engine_memo.MAX_BYTES


@pytest.mark.parametrize(("example", "repeats"), [("meta-2024", True), ("gigawatt-2027", False),
                                                 ("mtia-vs-gpu", False), ("plan-minimal", False)])
def test_plan_keeps_runs_where_two_systems_share_a_part(example: str, repeats: bool) -> None:
    """meta-2024 sizes its LLM service on `meta-rsc` and `dgx-a100-superpod` (both A100 80GB): its serve-plan
    searches share engine runs; the other examples' pools are of distinct parts (or one system), where keeping
    runs would cost their digests for nothing."""
    spec = load_scenario(str(EXAMPLES / f"{example}.yaml"))
    assert repeated_parts(spec.services, spec.pools) is repeats


def test_no_llm_service_keeps_nothing() -> None:
    spec = load_scenario(str(EXAMPLES / "meta-2024.yaml"))
    assert not repeated_parts([s for s in spec.services if s.kind != "llm"], spec.pools)
