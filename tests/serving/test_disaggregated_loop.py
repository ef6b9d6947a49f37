"""The disaggregated closed loop in one pass (`serving.pair_loop`): a stepped engine runs as the engine given its
arrivals up front, and the one pass's arrivals are the closed loop's fixed point, checked from its definition:
every request's successor is sent when it ends, and every engine of both pools, simulated alone over its final
arrivals, gives the same times to the bit."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.serving.disaggregated import DisaggregatedDeployment, kv_transfer_s, pool_costs
from infraplan.serving.engines import load_engine
from infraplan.serving.kv_cache import kv_capacity
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.loop_stepping import IDLE, LEAP, engine_policy, fcfs_path
from infraplan.serving.pair_loop import PoolSpec, SteppedEngine, closed_pair_loop, pool_tables
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.window_marks import closed_window

H100 = Cluster.resolve("dgx-h100-superpod")
LLAMA = load_model("llama3-8b")
DEP = Deployment(max_batch=16, token_budget=2048, dtype="fp8", kv_dtype="fp8")
COST = build_iteration_cost(LLAMA, H100.accelerator, H100.fabric, DEP)


def _spec(stack: str, dep: Deployment = DEP, blocks: int = 600, engines: int = 1) -> PoolSpec:
    engine = load_engine(stack)
    return PoolSpec(COST, replace(dep, stack=stack), blocks, engines, engine.scheduler, engine.kv_admission)


def _drive(engine: SteppedEngine, arrivals: list[tuple[float, int]], seed: int) -> None:
    """Answer each wait from the full (sorted) arrival list; the bound is either just past the wait's end or the
    next arrival (every arrival before it given), at random: the engine must not depend on which."""
    rng = np.random.default_rng(seed)
    i = 0
    need = engine.resume()
    while need is not None:
        kind, t = need
        nxt = arrivals[i][0] if i < len(arrivals) else math.inf
        end = nxt if kind == IDLE else min(t, nxt) if kind == LEAP else t
        given = []
        while i < len(arrivals) and arrivals[i][0] <= end:
            given.append(arrivals[i])
            i += 1
        later = arrivals[i][0] if i < len(arrivals) else math.inf
        bound = later if rng.random() < 0.5 and later > end else math.nextafter(end, math.inf)
        engine.give(given)
        if engine.arr_open[-1] != math.inf:
            engine.arr_open[-1] = bound
        need = engine.resume()


@pytest.mark.parametrize("stack", ["trtllm-0.x", "sglang-0.x", "vllm-0.x"])
@pytest.mark.parametrize("blocks", [600, 140])
def test_a_stepped_engine_runs_as_the_engine_given_its_arrivals_up_front(stack: str, blocks: int) -> None:
    rng = np.random.default_rng(7)
    n = 300
    arrival = np.sort(rng.exponential(0.05, n).cumsum())
    arrival[40:44] = arrival[40]  # equal arrival times keep their request order
    prompt = rng.integers(1, 1500, n)
    steps = rng.integers(0, 200, n)  # 0: a prefill-only request
    cached = np.where(rng.random(n) < 0.2, rng.integers(1, 500, n), 0)
    prompt[::9] = 0  # decode-only requests (KV already cached)
    cached[::9] = np.maximum(cached[::9], 1)
    spec = _spec(stack, blocks=blocks)
    policy = engine_policy(COST, spec.dep.max_batch, spec.dep.token_budget, spec.scheduler, spec.kv_admission)
    fcfs = fcfs_path(policy, True, spec.kv_admission)
    assert fcfs == (stack == "trtllm-0.x")  # both loops are stepped
    engine = SteppedEngine(spec, n, pool_tables(spec, prompt, cached, steps, fcfs), fcfs)
    _drive(engine, [(float(t), k) for k, t in enumerate(arrival)], seed=blocks)
    batch = simulate_engine(COST, arrival, prompt, cached, steps, spec.dep.max_batch, spec.dep.token_budget, blocks,
                            spec.dep.block_tokens, scheduler=spec.scheduler, kv_admission=spec.kv_admission)
    assert engine.requests == list(range(n))
    np.testing.assert_array_equal(np.array(engine.first), batch.first_token_s)
    np.testing.assert_array_equal(np.array(engine.finish), batch.finish_s)
    assert engine.totals == (batch.busy_s, batch.compute_s, batch.iterations)


@pytest.mark.parametrize("kv_admission", ["reserve_full", "on_demand"])
def test_an_empty_last_request_ends_the_engine(kv_admission: str) -> None:
    """A decode engine's one-token output (no decode step, KV cached) ends as it is admitted, also when it is
    the engine's last request and nothing else runs (the general loop read past its arrivals there)."""
    r = simulate_engine(COST, np.array([0.0, 1.0]), np.array([0, 0]), np.array([100, 100]), np.array([5, 0]), 8,
                        2048, 100, 16, scheduler="prefill-first", kv_admission=kv_admission)
    assert r.finish_s[1] == r.first_token_s[1] == 1.0 and 0 < r.finish_s[0] < 1.0


def _pair_run(stack: str, pre: Deployment, dec: Deployment, clients: int, n: int, seed: int,
              shape: TransformerShape = LLAMA, cluster: Cluster = H100, max_blocks: int = 400,
              round_robin: bool = False, least_loaded: bool = False) -> None:
    """Run the pair in one pass and check the fixed point from its definition (module docstring); `round_robin`:
    both pools route round-robin over their workers (`closed_pair_loop`), checked from the hand-over order; and
    `least_loaded`: each worker to its least loaded rank."""
    rng = np.random.default_rng(seed)
    inp = rng.integers(100, 3000, n)
    out = np.where(rng.random(n) < 0.1, 1, rng.integers(2, 300, n))  # one-token outputs send on at the KV
    first_sent = np.sort(rng.uniform(0.0, 0.5, n))
    first_sent[:3] = 0.0
    pair = DisaggregatedDeployment(replace(pre, stack=stack), replace(dec, stack=stack))
    pre_cost, dec_cost = pool_costs(shape, cluster.accelerator, cluster.fabric, pair)
    engine = load_engine(stack)
    specs = []
    for dep, cost in ((pair.prefill, pre_cost), (pair.decode, dec_cost)):
        cap = kv_capacity(shape, cluster.accelerator, dep.tp, dep.pp, dep.dtype, dep.kv_dtype, dep.token_budget,
                          dep.max_batch, dep.block_tokens, engine=dep.stack, ep=dep.expert_shards)
        blocks = min(cap.blocks // dep.pp, max_blocks)  # a small cache: decode engines queue (on demand: preempt)
        specs.append(PoolSpec(cost, dep, blocks, dep.replicas * dep.engines_per_replica, engine.scheduler,
                              engine.kv_admission))
    transfer = kv_transfer_s(shape, cluster.fabric, pair.prefill, pair.decode, inp, dep.kv_dtype, False)
    steps = pair.decode.decode_steps(out)
    workers = (pair.decode.replicas, pair.prefill.replicas) if round_robin else (0, 0)
    sent, pre_run, dec_run = closed_pair_loop(specs[0], specs[1], first_sent, inp, out, steps, transfer, clients,
                                              *workers, least_loaded)
    # every request's successor is sent when it ends: its last token, or its first token and KV
    ends = np.where(out > 1, dec_run.finish_s, pre_run.first_token_s + transfer)
    np.testing.assert_array_equal(sent[:clients], first_sent[:clients])
    np.testing.assert_array_equal(sent[clients:], ends[:n - clients])
    np.testing.assert_array_equal(dec_run.arrival_s, pre_run.first_token_s + transfer)
    # the routing: client-sticky, or the k-th request to reach a pool (sent; its prefill result handed over, before
    # the KV moves) on worker k mod W, then on its next rank
    k = np.arange(n)
    for spec, run, reach in ((specs[0], pre_run, sent), (specs[1], dec_run, pre_run.first_token_s)):
        if not round_robin:
            np.testing.assert_array_equal(run.engine, (k % clients) % spec.engines)
            continue
        order = np.lexsort((k, reach))
        workers_of = spec.dep.replicas
        ranks = spec.engines // workers_of
        worker = np.arange(n) % workers_of
        rank = np.array([np.sum(worker[:i] == worker[i]) % ranks for i in range(n)])
        if least_loaded:  # the worker in turn, then the rank by load
            np.testing.assert_array_equal(run.engine[order] // ranks, worker)
            continue
        np.testing.assert_array_equal(run.engine[order], worker * ranks + rank)
    # every engine alone over its final arrivals (stably sorted) gives the same times, and (hO59) its work per second
    # over the pair's window (`window_marks.closed_window`, given up front as the open loop's cuts) the pool's rate
    zeros = np.zeros_like(inp)
    window = closed_window(sent, ends, clients)
    for spec, run, pool_inputs in ((specs[0], pre_run, (inp, zeros, zeros)), (specs[1], dec_run, (zeros, inp, steps))):
        busy = rate = 0.0
        for e in range(spec.engines):
            idx = np.flatnonzero(run.engine == e)
            if idx.size == 0:
                continue
            idx = idx[np.argsort(run.arrival_s[idx], kind="stable")]
            prefill, cached, decode = (a[idx] for a in pool_inputs)
            alone = simulate_engine(spec.cost, run.arrival_s[idx], prefill, cached, decode, spec.dep.max_batch,
                                    spec.dep.token_budget, spec.blocks, spec.dep.block_tokens,
                                    scheduler=spec.scheduler, kv_admission=spec.kv_admission,
                                    cuts=list(window) if window is not None else ())
            if least_loaded:  # the padding's arrival cuts a leap: the same sums in another order (ulps)
                np.testing.assert_allclose(alone.finish_s, run.finish_s[idx], rtol=1e-12)
            else:
                np.testing.assert_array_equal(alone.finish_s, run.finish_s[idx])
            busy += alone.busy_s
            if window is not None:
                assert alone.window_work is not None
                rate += (alone.window_work[1] - alone.window_work[0]) / (window[1] - window[0])
        assert busy == pytest.approx(run.busy_s, rel=1e-12) if least_loaded else busy == run.busy_s
        if window is None:
            assert run.window_rate is None
        else:
            assert run.window_rate == pytest.approx(rate, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("stack", ["trtllm-0.x", "sglang-0.x", "vllm-0.x"])
def test_the_one_pass_is_the_closed_loops_fixed_point(stack: str) -> None:
    pre = replace(DEP, replicas=2, max_batch=2, token_budget=4096)
    dec = replace(DEP, replicas=3, max_batch=8)
    _pair_run(stack, pre, dec, clients=7, n=140, seed=1)  # clients not a multiple of either pool's engines
    _pair_run(stack, pre, dec, clients=2, n=60, seed=2)  # fewer clients than decode engines: one stays idle


def test_a_wide_ep_decode_pool_of_attention_dp_engines_is_the_fixed_point() -> None:
    """DeepSeek-V3 fp8 on H200 as the Hopper disaggregated rows deploy it: TP8/EP8 prefill workers, one prompt
    each; a decode worker of 8 attention-DP ranks (8 engines) with EP8."""
    fp8 = replace(DEP, token_budget=4096)
    _pair_run("trtllm-0.x", replace(fp8, tp=8, ep=8, replicas=2, max_batch=1),
              replace(fp8, tp=1, ep=8, attention_dp=8, max_batch=16), clients=96, n=600, seed=4,
              shape=load_model("deepseek-v3"), cluster=Cluster.resolve("hgx-h200"), max_blocks=10**9)


@pytest.mark.parametrize("stack", ["trtllm-0.x", "sglang-0.x"])
def test_round_robin_routing_is_the_fixed_point_in_hand_over_order(stack: str) -> None:
    """NVIDIA Dynamo's frontend routes round-robin (`serving.disaggregated`): each pool's k-th request to reach it
    goes to worker k mod W; the one pass is still the fixed point, each engine alone over its arrivals."""
    pre = replace(DEP, replicas=2, max_batch=2, token_budget=4096)
    _pair_run(stack, pre, replace(DEP, replicas=3, max_batch=8), clients=7, n=140, seed=1, round_robin=True)
    fp8 = replace(DEP, token_budget=4096)
    for least_loaded in (False, True):  # a worker's ranks in turn, or the least loaded first (empty padding)
        _pair_run(stack, replace(fp8, tp=8, ep=8, replicas=2, max_batch=1),
                  replace(fp8, tp=1, ep=8, attention_dp=8, replicas=2, max_batch=4), clients=64, n=400, seed=6,
                  shape=load_model("deepseek-v3"), cluster=Cluster.resolve("hgx-h200"), max_blocks=10**9,
                  round_robin=True, least_loaded=least_loaded)


def test_two_hundred_clients_reach_the_fixed_point_the_rounds_did_not() -> None:
    """200 clients over 2 + 4 engines: iterating the fixed point stopped at its 70-round cap 0.2-0.5 s from it on
    such loads (up to 7 % off in mean TTFT / TPOT); the one pass is the fixed point itself."""
    _pair_run("trtllm-0.x", replace(DEP, replicas=2, max_batch=8, token_budget=8192),
              replace(DEP, replicas=4, max_batch=64, token_budget=8192), clients=200, n=2000, seed=5,
              max_blocks=10**9)


def test_one_client_runs_its_requests_back_to_back_in_one_pass() -> None:
    """One client sending 2,000 requests: the fixed point that took one round per request."""
    _pair_run("trtllm-0.x", replace(DEP, max_batch=1, token_budget=4096), DEP, clients=1, n=2000, seed=3)
