"""The steady draw and J/token from the dynamic power over the later half of the arrival window (hA58, hO57's recipe,
`serving.window_marks`).

Before: `steady_power_w_per_gpu` = (idle + host) W + the whole run's dynamic joules per token x the steady served
rate, which carries the ramp and drain's small batches: README's serve-plan example (Llama 3 70B fp8 chat at 2,000
requests/s on 632 H100, 124,265 requests) read 1,341.3 W per H100, above the 1,275 W (TDP 700 + host 575) its power
model can draw, and 1,207.7 W at 4x the requests (-10 %). Now the engine loops record their work at the window's mid
and last arrival (the straddling step split pro rata): 1,156.7 / 1,160.4 W (hO57's research copy: 1,157 / 1,160).
Checked failing on the base tree (cb3776b): test_readme_example_draws_at_most_tdp_and_host (1,341 W),
test_steady_draw_is_flat_in_the_requests (10 %), and every test reading `window_work`, `cuts` or
`serving.window_marks` (none exist there). test_one_replica_steady_run_keeps_its_whole_run_joules passes there too
(a guard: the window changes a one-replica steady run by 0.01 %)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric
from infraplan.serving import engine_memo, wide_ep_lockstep, window_marks
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_engine import fcfs_engine, simulate_engine
from infraplan.serving.serving_metrics import power_terms
from infraplan.serving.serving_sim import pool_memory
from infraplan.serving.window_marks import WINDOW_BASIS, pass_cuts, window_cuts
from infraplan.serving.workloads import workload_requests

SYSTEM = "dgx-h100-superpod"
README = dict(tp=1, pp=4, dtype="fp8", kv_dtype="fp8", workload="chat", rate=2000)  # serve-plan's answer, README
SYS = load_system(SYSTEM)
ACC = load_accelerator(SYS.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYS, ACC),
                            Deployment(max_batch=64, token_budget=2048))
REQ = workload_requests(load_workload("chat"), 600, 12.0, seed=5)
ZEROS = np.zeros_like(REQ.input_tokens)
STEPS = REQ.output_tokens - 1


def _ceiling_w() -> float:
    cluster = Cluster.resolve(SYSTEM)
    return cluster.accelerator.tdp_w + power_terms(cluster.accelerator, cluster.system)[1]


def test_readme_example_draws_at_most_tdp_and_host() -> None:
    r = estimate_serving("llama3-70b", SYSTEM, 632, requests=124265, **README)
    assert r.steady_power_w_per_gpu is not None and r.steady_output_tokens_per_s is not None
    assert r.steady_power_w_per_gpu <= _ceiling_w()  # 1,156.7 W (was 1,341.3 W)
    assert r.steady_power_w_per_gpu == pytest.approx(1156.7, abs=1.0)
    assert r.joules_per_token == pytest.approx(1.894, abs=0.002)  # (was 2.197)
    assert r.steady_power_w_per_gpu == pytest.approx(
        r.joules_per_token * r.steady_output_tokens_per_s / 632, rel=1e-9)
    assert not [n for n in r.warnings if "steady_power_w_per_gpu" in n]
    assert r.assumptions is not None and WINDOW_BASIS in (r.assumptions.per_token_basis or "")


def test_steady_draw_is_flat_in_the_requests() -> None:
    """hO57's table: the whole run's figure fell 10 % from 1x to 4x the requests; the window's stays within 2 %."""
    one = estimate_serving("llama3-70b", SYSTEM, 632, requests=124265, **README)
    four = estimate_serving("llama3-70b", SYSTEM, 632, requests=4 * 124265, **README)
    assert one.steady_power_w_per_gpu is not None and four.steady_power_w_per_gpu is not None
    assert one.steady_power_w_per_gpu == pytest.approx(four.steady_power_w_per_gpu, rel=0.02)
    assert one.joules_per_token == pytest.approx(four.joules_per_token, rel=0.02)
    assert four.steady_power_w_per_gpu <= _ceiling_w()


def test_one_replica_steady_run_keeps_its_whole_run_joules() -> None:
    """A run that keeps up on one replica has no many-replica ramp: the window's J/token is the whole run's."""
    r = estimate_serving("llama3-8b", SYSTEM, 1, dtype="fp8", workload="chat", rate=5, requests=4000)
    assert r.steady_output_tokens_per_s is not None and r.joules_per_token is not None and r.energy_j is not None
    idle_w, host_w = power_terms(ACC, SYS)
    always_j = (idle_w + host_w) * r.duration_s
    whole = (idle_w + host_w) / r.steady_output_tokens_per_s + (r.energy_j - always_j) / (
        r.output_tokens_per_s * r.duration_s)
    assert r.joules_per_token == pytest.approx(whole, rel=0.02)


def test_pass_cuts_splits_the_straddling_step_pro_rata() -> None:
    marks: list[float] = []
    # a 4 s step ending at 10 s (from 6 s) that added 6 s of work (now 16): the cuts at 7 s and 9 s take 1/4, 3/4
    assert pass_cuts(marks, [7.0, 9.0], 10.0, 4.0, 16.0, 6.0) == math.inf
    assert marks == [pytest.approx(11.5), pytest.approx(14.5)]
    marks = []  # the engine idled past the cut before the step: the work before it
    assert pass_cuts(marks, [3.0, 12.0], 10.0, 4.0, 16.0, 6.0) == 12.0 and marks == [10.0]
    assert window_cuts(np.array([2.0, 4.0, 10.0])) == [6.0, 10.0]
    assert window_cuts(np.zeros(5)) == []  # offline: no window


def _marked(jump: bool, cuts: list[float]) -> tuple[float, ...]:
    r = simulate_engine(COST, REQ.arrival_s, REQ.input_tokens, ZEROS, STEPS, 64, 2048, 100_000, 16, jump=jump,
                        cuts=cuts)
    assert r.window_work is not None
    return r.window_work


def test_leapt_marks_match_the_one_by_one_loop() -> None:
    """The FCFS loop's leaps split pro rata read the work the general loop reads stepping every iteration; the work
    between the cuts is at most busy + tensor-core time of one engine over their span."""
    cuts = window_cuts(REQ.arrival_s)
    leapt, one_by_one = _marked(True, cuts), _marked(False, cuts)
    assert leapt == pytest.approx(one_by_one, rel=1e-4)
    assert 0.0 < leapt[1] - leapt[0] <= 2.0 * (cuts[1] - cuts[0])
    whole = simulate_engine(COST, REQ.arrival_s, REQ.input_tokens, ZEROS, STEPS, 64, 2048, 100_000, 16)
    assert whole.window_work is None  # no cuts asked: none kept
    late = _marked(True, [1e9, 2e9])  # cuts after the engine's last step: its whole work
    assert late == (whole.busy_s + whole.compute_s,) * 2


def test_one_lockstep_rank_marks_as_the_engine_loop() -> None:
    h200, v3 = Cluster.resolve("hgx-h200"), load_model("deepseek-v3")
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192,
                     engine="sglang", stack="sglang-0.x")
    cost = wide_ep_lockstep.with_others(build_iteration_cost(v3, h200.accelerator, h200.fabric, dep), 0.0)
    blocks = pool_memory(v3, h200.accelerator, dep)[0].blocks
    rng = np.random.default_rng(1)
    arrival = np.cumsum(rng.exponential(1.0 / 3.0, 300))
    prompt, steps = rng.integers(200, 3000, 300), dep.decode_steps(rng.integers(2, 400, 300))
    cuts = window_cuts(arrival)
    alone = simulate_engine(cost, arrival, prompt, np.zeros_like(prompt), steps, dep.max_batch, dep.token_budget,
                            blocks, dep.block_tokens, scheduler="prefill-first", kv_admission="on_demand", cuts=cuts)
    ranked = lockstep_replica(cost, arrival, prompt, np.zeros_like(prompt), steps, np.zeros(300, dtype=int), 1,
                              dep.max_batch, dep.token_budget, blocks, dep.block_tokens, "prefill-first", "on_demand",
                              cuts=cuts)
    assert alone.window_work is not None and ranked.window_work is not None
    assert ranked.window_work == pytest.approx(alone.window_work, rel=1e-4)


def test_cuts_enter_the_memo_key() -> None:
    """`plan`'s engine memo recalls a run's marks only under the same cuts."""
    args = (COST, REQ.arrival_s, REQ.input_tokens, ZEROS, STEPS, 64, 2048, 100_000, 16, 0)
    cuts_a, cuts_b = window_cuts(REQ.arrival_s), [10.0, 20.0]
    with engine_memo.kept_engine_runs():
        a = fcfs_engine(*args, cuts=cuts_a)
        b = fcfs_engine(*args, cuts=cuts_b)
        again = fcfs_engine(*args, cuts=cuts_a)
        assert engine_memo.kept_runs() == 2
    assert a is not None and b is not None and again is not None
    assert a[9] != b[9] and again[9] == a[9] == _marked(True, cuts_a)


def test_closed_loop_falls_back_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # moved by hO58: an aggregated closed loop reads its own window now (`window_marks.ClosedCuts`,
    # tests/serving/test_closed_window_hO58.py); moved by hO59: so does the disaggregated closed loop
    # (`serving.pair_loop`, tests/serving/test_pair_window_hO59.py), which falls back with the toggle off
    pair = estimate_serving("llama3-8b", SYSTEM, 2, dtype="fp8", input_len=500, output_len=200, requests=400,
                            concurrency=8, prefill_gpus=1)
    assert pair.assumptions is not None and "closed loop's window" in (pair.assumptions.per_token_basis or "")
    with monkeypatch.context() as m:
        m.setattr(window_marks, "WINDOW_DYNAMIC_POWER", False)
        r = estimate_serving("llama3-8b", SYSTEM, 2, dtype="fp8", input_len=500, output_len=200, requests=400,
                             concurrency=8, prefill_gpus=1)
    assert r.assumptions is not None and "whole run's dynamic joules per token" in (r.assumptions.per_token_basis or "")
    closed = estimate_serving("llama3-8b", SYSTEM, 1, dtype="fp8", input_len=500, output_len=200, requests=400,
                              concurrency=8)
    assert closed.assumptions is not None and "closed loop's window" in (closed.assumptions.per_token_basis or "")
    opened = estimate_serving("llama3-8b", SYSTEM, 1, dtype="fp8", workload="chat", rate=5, requests=400)
    assert opened.assumptions is not None
    assert WINDOW_BASIS in (opened.assumptions.per_token_basis or "")


def test_disaggregated_open_loop_reads_both_pools_window() -> None:
    r = estimate_serving("llama3-8b", SYSTEM, 4, dtype="fp8", workload="chat", rate=40, requests=3000, prefill_gpus=1)
    assert r.assumptions is not None and WINDOW_BASIS in (r.assumptions.per_token_basis or "")
    assert r.steady_power_w_per_gpu is not None and r.steady_power_w_per_gpu <= _ceiling_w()
