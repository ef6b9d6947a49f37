"""hA58's window marks (`serving.window_marks`) under hand mutants (hN58 review).

Nine mutants of hA58's lines survived its tests (tests/serving/test_window_power_hA58.py), each now failing a test
here: `window_dynamic_w` summing the pools' work unweighted by GPUs per engine, or `summarize` passing TP 1 for them
(a TP 2 run's steady dynamic draw halved: test_a_tp2_steady_run_keeps_its_whole_run_joules); `summed` adding the
engines that have marks when one has none; the lock-step leap's work counting one rank's seconds where every busy rank
ran them (test_dense_cuts_trace_a_continuous_work_curve); the FCFS and the general loop's leaps splitting only their
busy seconds, not their tensor-core ones (hA58 compared leaping and stepping at two cuts no leap straddled:
test_leapt_marks_match_stepping_at_dense_cuts); the window's draw over the whole run's rate where a run is too short
for a served rate; the wide-EP pool's marks dropped; the disaggregated decode pool run without cuts. The last passed
because hA58's basis checks read "later half of the arrival window", which `steady_state.STEADY_BASIS` (the served
rate's fit) always says: the window's own sentence is `WINDOW_BASIS` (hA58's three checks now read it too).
Mutants applied by hand one at a time (/tmp/hN_mut/run.py, session 58); every test passes without them.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric
from infraplan.serving import wide_ep_lockstep
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.serving_metrics import power_terms
from infraplan.serving.serving_sim import pool_memory
from infraplan.serving.window_marks import WINDOW_BASIS, summed, window_dynamic_w

SYSTEM = "dgx-h100-superpod"
SYS = load_system(SYSTEM)
ACC = load_accelerator(SYS.accelerator)


def test_summed_weights_each_engine_and_needs_every_one() -> None:
    assert summed([(1.0, 2.0), (3.0, 5.0)], [2.0, 1.0]) == (5.0, 9.0)
    assert summed([(1.0, 2.0), None]) is None  # an engine without marks: no window figure
    assert summed([]) is None


def test_window_watts_weigh_the_gpus_of_each_engine() -> None:
    """(TDP - idle) x 0.5 x GPU work over the span: two TP-2 engine-seconds of work in 2 s at 100 W dynamic."""
    pool = SimpleNamespace(window_work=(1.0, 3.0))
    assert window_dynamic_w([pool], [2], [0.0, 2.0], 100.0) == pytest.approx(100.0)
    assert window_dynamic_w([pool, SimpleNamespace(window_work=(0.0, 2.0))], [2, 1], [0.0, 2.0], 100.0) == \
        pytest.approx(150.0)
    assert window_dynamic_w([pool], [2], [2.0, 2.0], 100.0) is None  # an empty window


def test_a_tp2_steady_run_keeps_its_whole_run_joules() -> None:
    """hA58's one-replica guard at TP 2: a run that keeps up has no many-replica ramp, so the window's dynamic
    J/token is the whole run's (within 2 %); unweighted by TP it read about half."""
    r = estimate_serving("llama3-8b", SYSTEM, 2, tp=2, dtype="fp8", workload="chat", rate=5, requests=4000)
    assert r.steady_output_tokens_per_s is not None and r.joules_per_token is not None and r.energy_j is not None
    assert r.assumptions is not None and WINDOW_BASIS in (r.assumptions.per_token_basis or "")
    idle_w, host_w = power_terms(ACC, SYS)
    whole_dyn = (r.energy_j - 2 * (idle_w + host_w) * r.duration_s) / (r.output_tokens_per_s * r.duration_s)
    window_dyn = r.joules_per_token - 2 * (idle_w + host_w) / r.steady_output_tokens_per_s
    assert window_dyn == pytest.approx(whole_dyn, rel=0.02)


def test_the_basis_names_the_window_only_where_it_was_read() -> None:
    opened = estimate_serving("llama3-8b", SYSTEM, 1, dtype="fp8", workload="chat", rate=5, requests=400)
    split = estimate_serving("llama3-8b", SYSTEM, 4, dtype="fp8", workload="chat", rate=40, requests=3000,
                             prefill_gpus=1)
    closed = estimate_serving("llama3-8b", SYSTEM, 1, dtype="fp8", input_len=500, output_len=200, requests=400,
                              concurrency=8)
    for r, windowed in ((opened, True), (split, True), (closed, False)):
        assert r.assumptions is not None
        assert (WINDOW_BASIS in (r.assumptions.per_token_basis or "")) is windowed


def _continuous(work: tuple[float, ...], cuts: np.ndarray, engines: int) -> None:
    """The work at dense cuts never falls and grows at most 2 s a second per engine (busy + tensor-core)."""
    step = np.diff(np.asarray(work))
    assert step.min() >= -1e-9
    assert (step <= 2.0 * engines * np.diff(cuts) * (1 + 1e-9) + 1e-12).all()


def _v3() -> tuple[object, Deployment, int]:
    h200, v3 = Cluster.resolve("hgx-h200"), load_model("deepseek-v3")
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192,
                     engine="sglang", stack="sglang-0.x")
    cost = wide_ep_lockstep.with_others(build_iteration_cost(v3, h200.accelerator, h200.fabric, dep), 0.0)
    return cost, dep, pool_memory(v3, h200.accelerator, dep)[0].blocks


def test_dense_cuts_trace_a_continuous_work_curve() -> None:
    """Many cuts over the run: the lock-step replica's leaps over two ranks and the FCFS engine's both split their
    steps at the cuts without a jump (a leap's work short by the other rank's seconds jumps at its end)."""
    cost, dep, blocks = _v3()
    rng = np.random.default_rng(3)
    n = 400
    arrival = np.cumsum(rng.exponential(1.0 / 6.0, n))
    prompt, steps = rng.integers(200, 3000, n), dep.decode_steps(rng.integers(50, 600, n))
    cuts = np.linspace(arrival[0], arrival[-1] + 30.0, 600)
    ranked = lockstep_replica(cost, arrival, prompt, np.zeros_like(prompt), steps, np.arange(n) % 2, 2,
                              dep.max_batch, dep.token_budget, blocks, dep.block_tokens, "prefill-first", "on_demand",
                              cuts=list(cuts))
    assert ranked.window_work is not None and ranked.iterations > 0
    _continuous(ranked.window_work, cuts, 2)
    dense = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYS, ACC),
                                 Deployment(max_batch=64, token_budget=2048))
    alone = simulate_engine(dense, arrival, prompt, np.zeros_like(prompt), steps, 64, 2048, 100_000, 16,
                            cuts=list(cuts))
    assert alone.window_work is not None
    _continuous(alone.window_work, cuts, 1)


@pytest.mark.parametrize("scheduler,admission", [("fcfs", "reserve_full"), ("prefill-first", "on_demand")])
def test_leapt_marks_match_stepping_at_dense_cuts(scheduler: str, admission: str) -> None:
    """hA58 compared the leaping and the one-by-one loop at two cuts, which no leap happened to straddle: at 300 cuts
    the leaps' pro rata work (busy + tensor-core seconds of the stretch) reads what stepping every iteration reads,
    in the FCFS loop and the general one (a leap that split only its busy seconds survived there)."""
    cost = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYS, ACC),
                                Deployment(max_batch=64, token_budget=2048))
    rng = np.random.default_rng(7)
    n = 300
    arrival = np.cumsum(rng.exponential(1.0 / 4.0, n))
    prompt, steps = rng.integers(100, 2000, n), rng.integers(20, 800, n)
    cuts = list(np.linspace(arrival[0], arrival[-1] + 20.0, 300))
    marks = [simulate_engine(cost, arrival, prompt, np.zeros_like(prompt), steps, 64, 2048, 100_000, 16, jump=jump,
                             scheduler=scheduler, kv_admission=admission, cuts=cuts).window_work
             for jump in (True, False)]
    assert marks[0] is not None and marks[1] is not None
    assert np.asarray(marks[0]) == pytest.approx(np.asarray(marks[1]), rel=1e-4, abs=1e-6)


def test_a_run_without_a_served_rate_keeps_the_whole_runs_joules() -> None:
    """20 chat requests at 5/s: too short for a steady served rate, so J/token is the whole run's (the window's draw
    is not divided by the whole run's rate)."""
    r = estimate_serving("llama3-8b", SYSTEM, 1, dtype="fp8", workload="chat", rate=5, requests=20)
    assert r.steady_output_tokens_per_s is None and r.energy_j is not None and r.joules_per_token is not None
    tokens = r.output_tokens_per_s * r.duration_s
    assert r.joules_per_token == pytest.approx(r.energy_j / tokens, rel=1e-9)


def test_the_wide_ep_lockstep_pool_reads_its_window() -> None:
    r = estimate_serving("deepseek-v3", "hgx-h200", 16, tp=1, attention_dp=8, dtype="fp8", workload="chat", rate=10,
                         requests=2000, stack="sglang-0.x")
    assert r.steady_output_tokens_per_s is not None and r.assumptions is not None
    assert WINDOW_BASIS in (r.assumptions.per_token_basis or "")
