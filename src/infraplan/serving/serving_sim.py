"""Serving simulation of a deployment: replicas of engines, optional prefill/decode disaggregation, metrics.

Routing: requests go round-robin in arrival order to the engines (replicas x PP virtual engines), which are
independent, so each is simulated on its own (`serving_engine.simulate_engine`).

Closed loop (`clients` > 0, `serve --concurrency N`): N clients, each sending its next request when its last
one ends, as genai-perf, vLLM `benchmark_serving --max-concurrency` and SGLang `bench_serving` measure. Request
k belongs to client k mod N; client c is routed to engine c mod engines, so every engine runs its own closed
loop of its clients (`simulate_engine(clients=...)`) and the arrival times come out of the simulation; the first
wave reaches the engines in client order, an idle engine stepping on the first (`serving.client_loop.first_wave`).

Disaggregation (Splitwise, Patel et al. ISCA'24; DistServe, Zhong et al. OSDI'24; `serving.disaggregated`): a
prefill pool computes prompts and the first token; the prompt's KV cache then moves to a decode pool, over the
scale-up fabric when both pools share one scale-up domain, otherwise over the NICs, every GPU moving its share
in parallel, priced from the two pools' layouts; decode engines admit it like a request whose prompt is already
cached. `simulate_disaggregated` runs two `Deployment`s, each with its own TP / PP / EP / attention DP, workers
and batch cap; `simulate_deployment(prefill_replicas=k)` splits one layout into k prefill and the rest decode
replicas. Open loop: round-robin in arrival order (prefill) and in KV-arrival order (decode). Closed loop: client
c on prefill engine c mod E_p and decode engine c mod E_d, both pools' engines stepped in one event loop
(`serving.pair_loop`), whose arrivals are the loop's fixed point.

The run's metrics (per request and totals, power, energy and cost) are `serving.serving_metrics`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.cluster import Cluster
from infraplan.serving import (
    chunked_attention,
    disaggregated,
    mla_decode,
    request_intake,
    run_progress,
    speculative,
    wide_ep_lockstep,
)
from infraplan.serving.client_loop import CLIENT_ROUND_TRIP_S, client_cycle, closed_loop_engine, first_wave
from infraplan.serving.deployment import weight_format
from infraplan.serving.disaggregated import (
    DisaggregatedDeployment,
    decode_first_token_s,
    decode_pickup_iterations,
    pool_costs,
    pool_layout,
    prefill_pool_cost,
    relay_s,
    without_decode_wait,
)
from infraplan.serving.engines import ServingEngine, load_engine
from infraplan.serving.expert_slots import redundant_experts
from infraplan.serving.kv_cache import KvCapacity, kv_capacity
from infraplan.serving.kv_handoff import handoff_transfer_s
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost
from infraplan.serving.loop_stepping import kept_cost_tables
from infraplan.serving.miss_stop import MissWatch, colocated_times, disaggregated_times
from infraplan.serving.pair_loop import PoolSpec, closed_pair_loop
from infraplan.serving.replica_packing import held_field
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.serving_metrics import PoolResult, summarize
from infraplan.serving.window_marks import closed_window, summed, summed_rate, window_cuts
from infraplan.serving.workloads import Requests


@lru_cache(maxsize=64)
def _shipped_engine(ref: str | None) -> ServingEngine:
    return load_engine(ref)


def pool_engine(ref: str | None) -> ServingEngine:
    """`load_engine(ref)`, cached per process for shipped stack names (package data, fixed while the process runs;
    resolving a name globs the catalog); a YAML path is read again on every call."""
    if ref is None or ("/" not in ref and not ref.endswith((".yaml", ".yml"))):
        return _shipped_engine(ref)
    return load_engine(ref)


def front_end_s(dep: Deployment) -> float:
    """Seconds of the deployment's stack front end in every request's TTFT and end-to-end latency (module
    docstring); the capacity search's probes count the same figure."""
    return pool_engine(dep.stack).request_latency_s


@kept_cost_tables()  # the engines' tables, built once for all of them (`serving.loop_stepping`)
def run_pool(cost: IterationCost, dep: Deployment, blocks_per_engine: int, arrival: np.ndarray,
             prefill: np.ndarray, cached: np.ndarray, steps: np.ndarray, engines: int,
             clients: int = 0, round_trip_s: float = 0.0, lag: bool = False,
             cuts: Sequence[float] = (), watch: MissWatch | None = None) -> PoolResult:
    """Round-robin the (arrival-sorted) requests over `engines` identical engines and simulate each.

    `clients` > 0: closed loop; client c (requests c, c + clients, ...) on engine c mod engines (`round_trip_s`,
    `lag`: the client's cycle, `serving.client_loop.next_request_s`). `cuts` (open loop): the engines' work at them,
    summed (`serving.window_marks`); closed loop: the engines' own window rates, summed (`window_marks.ClosedCuts`).
    """
    n = len(arrival)
    first, finish, sent = np.full(n, np.nan), np.full(n, np.nan), np.array(arrival, dtype=np.float64)
    busy, compute, iterations, works, rates = 0.0, 0.0, 0, [], []
    cuts = cuts if clients <= 0 else ()  # a closed loop's window is its run's output (`serving.window_marks`)
    engine = pool_engine(dep.stack)
    scheduler = request_intake.loop_scheduler(engine, dep.speculative_tokens)  # SGLang's drafts: prefill-first
    client_engine = (np.arange(n) % clients) % engines if clients > 0 else None
    tally = run_progress.current()  # (None: nobody asked)
    for e in range(engines if clients > 0 else min(engines, n)):
        # open loop: every engines-th request from e, a strided view (the values an index array would copy)
        idx = np.flatnonzero(client_engine == e) if client_engine is not None else slice(e, None, engines)
        if isinstance(idx, np.ndarray) and idx.size == 0:
            continue
        local_clients = len(range(e, min(clients, n), engines)) if clients > 0 else 0
        if local_clients and (round_trip_s > 0 or lag):
            r = closed_loop_engine(PoolSpec(cost, dep, blocks_per_engine, 1, scheduler, engine.kv_admission),
                                   arrival[idx], prefill[idx], cached[idx], steps[idx], local_clients, round_trip_s,
                                   lag)
        else:
            r = simulate_engine(cost, arrival[idx], prefill[idx], cached[idx], steps[idx], dep.max_batch,
                                dep.token_budget, blocks_per_engine, dep.block_tokens, clients=local_clients,
                                scheduler=scheduler, kv_admission=engine.kv_admission, cuts=cuts)
            if tally is not None:  # its requests, ended (a stepped closed loop counts its own as they end)
                tally.ended(len(r.finish_s))
        first[idx], finish[idx] = r.first_token_s, r.finish_s
        if watch is not None:
            watch(idx, first, finish)
        if clients > 0:  # (open loop: the arrivals as given)
            sent[idx] = r.arrival_s
        busy += r.busy_s
        compute += r.compute_s
        iterations += r.iterations
        works.append(r.window_work)
        rates.append(r.window_rate)
    return PoolResult(first, finish, busy, compute, iterations, sent, summed(works) if cuts else None,
                      summed_rate(rates) if clients > 0 else None)


def fit_check(shape: TransformerShape, cap: KvCapacity, dep: Deployment, requests: Requests,
              accelerator: Accelerator) -> str | None:
    """Why the deployment cannot serve these requests, or None."""
    gib, per = 2.0**30, f"per {accelerator.device_word}"  # the part's word: "per GPU" on an MTIA read wrong (hU56)
    if cap.blocks <= 0 and cap.kv_cache_bytes > 0 and shape.sliding_window and shape.num_sliding_layers:
        # the weights fit: the sliding layers' windows, held back for every sequence of the batch cap (the engine's
        # pool rule, `kv_capacity`), took the rest; "weights ... exceed the usable" was said here (hU, session 52)
        return (f"the {cap.kv_cache_bytes / gib:.1f} GiB {per} left for the KV cache after weights "
                f"{cap.weights_bytes / gib:.1f} GiB and workspace go to the sliding-window layers' windows "
                f"({shape.sliding_window:,} tokens) held for {cap.window_sequences:,} sequences (the batch cap "
                f"{dep.max_batch:,}, or fewer where fewer run at once): no room for the full-attention layers' "
                f"cache; a smaller --max-batch leaves some")
    if cap.blocks <= 0:
        need = cap.weights_bytes + cap.workspace_bytes + cap.reserve_bytes
        return (f"weights {cap.weights_bytes / gib:.1f} GiB + workspace and reserve "
                f"{(cap.workspace_bytes + cap.reserve_bytes) / gib:.1f} GiB {per} = {need / gib:.1f} GiB exceed "
                f"the usable {cap.usable_bytes / gib:.1f} GiB of {accelerator.name} at TP{dep.tp} PP{dep.pp} "
                f"{dep.dtype}: no room for a KV cache")
    per_engine = (cap.blocks // dep.pp) * cap.block_tokens
    longest = int((requests.input_tokens + requests.output_tokens).max()) + speculative.reserved_past_output(dep)
    if longest > per_engine:
        return (f"the KV cache holds {per_engine} tokens per engine ({cap.kv_cache_bytes / gib:.1f} GiB {per}), "
                f"the longest request needs {longest}")
    return None


def simulate_deployment(shape: TransformerShape, cluster: Cluster, dep: Deployment, requests: Requests, *,
                        prefill_replicas: int = 0, ttft_slo_s: float | None = None,
                        tpot_slo_s: float | None = None, usd_per_hour: float | None = None,
                        cost: IterationCost | None = None, clients: int = 0,
                        front_end: bool = True, cached_tokens: np.ndarray | None = None,
                        client_round_trip_s: float = CLIENT_ROUND_TRIP_S, wait_split: bool = False,
                        stop_over: tuple[int, int] | None = None, held_gpus: int | None = None) -> dict[str, Any]:
    """Simulate `requests` on the deployment; `prefill_replicas` > 0 splits off a prefill pool (`wait_split`:
    `simulate_disaggregated`'s). `stop_over` (open loop, both SLOs): raise `miss_stop.ShownMissed` once the TTFT
    count over its SLO reaches `stop_over[0]` or the TPOT count `stop_over[1]` (`serving.miss_stop`). `held_gpus`:
    the accelerators charged, power and cost, where the replicas leave some of their scale-up domains' idle
    (`serving.replica_packing`; None: the replicas' own).

    `front_end`: add the stack's per-request front-end time to TTFT and end-to-end latency (module docstring;
    False measures the engine alone).

    `clients` > 0: closed loop of that many clients (module docstring); the requests' arrival times are then
    used only for the first `clients` requests, the rest arrive as earlier ones finish.

    `cached_tokens` (aggregated only): per request (in the order of `requests`), prompt tokens already in the
    engine's prefix cache on arrival (not computed; their KV is held like the prompt's).
    `client_round_trip_s` (closed loop, both pool kinds): the client's own seconds from reading a request's last token
    to its next request reaching the engine, beside the front end and the schedule-ahead lag, which the cycle holds
    too (`serving.client_loop.next_request_s`; all 0: the same instant).
    """
    accelerator, system, fabric = cluster.accelerator, cluster.system, cluster.fabric
    if prefill_replicas > 0:
        if prefill_replicas >= dep.replicas:
            cap, memory = pool_memory(shape, accelerator, dep, *held_sequences(dep, requests, clients))
            reason = fit_check(shape, cap, dep, requests, accelerator) or (
                f"disaggregation needs decode replicas: {prefill_replicas} prefill of {dep.replicas} replicas")
            stated = {**dep.as_dict(), **memory, "weight_format": weight_format(accelerator, dep.dtype, shape),
                      **mla_decode.kernel_field(shape, accelerator, dep),
                      "front_end_s": front_end_s(dep) if front_end else 0.0}  # the stack's, fits or not
            return {"fits": False, "why": reason, "deployment": {**stated, "disaggregated": True}}
        pair = DisaggregatedDeployment(replace(dep, replicas=prefill_replicas, speculative_tokens=0, acceptance=0.0),
                                       replace(dep, replicas=dep.replicas - prefill_replicas))
        given = (prefill_pool_cost(cost, dep), cost) if cost and not dep.speculative_tokens else None
        return simulate_disaggregated(shape, cluster, pair, requests, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s,
                                      usd_per_hour=usd_per_hour, costs=given, clients=clients, front_end=front_end,
                                      client_round_trip_s=client_round_trip_s, wait_split=wait_split,
                                      stop_over=stop_over, held_gpus=held_gpus)
    cap, memory = pool_memory(shape, accelerator, dep, *held_sequences(dep, requests, clients))
    deployment = {**dep.as_dict(), **memory, "weight_format": weight_format(accelerator, dep.dtype, shape),
                  **mla_decode.kernel_field(shape, accelerator, dep), "disaggregated": False,
                  "front_end_s": front_end_s(dep) if front_end else 0.0, **held_field(held_gpus, dep.gpus)}
    why = fit_check(shape, cap, dep, requests, accelerator)
    if why is not None:
        return {"fits": False, "why": why, "deployment": deployment}
    cost = cost or build_iteration_cost(shape, accelerator, fabric, dep)
    blocks = cap.blocks // dep.pp
    arrival, inp, out = requests.arrival_s, requests.input_tokens, requests.output_tokens
    if clients > 0:  # the first wave reaches the engine in client order (`serving.client_loop.first_wave`)
        arrival = first_wave(arrival, clients)
    hit = np.zeros_like(inp) if cached_tokens is None else np.minimum(np.asarray(cached_tokens, np.int64), inp - 1)
    gap_s, lag = client_cycle(client_round_trip_s, deployment["front_end_s"],  # the client's (`serving.client_loop`)
                              request_intake.schedules_ahead(dep.stack, dep.speculative_tokens))
    steps = dep.decode_steps(out)
    cost = chunked_attention.for_requests(cost, shape, inp, hit, steps)  # Llama 4's chunks: the run's mean keys
    cuts = window_cuts(arrival) if clients <= 0 else []  # the arrival window's mid and end (`serving.window_marks`)
    watch = None if stop_over is None or clients > 0 or ttft_slo_s is None or tpot_slo_s is None else MissWatch(
        colocated_times(dep.stack, dep.speculative_tokens, deployment["front_end_s"], arrival, out, steps),
        (ttft_slo_s, tpot_slo_s), stop_over)
    run_progress.expect(len(arrival))  # the pool's pass begins (`serving.run_progress`)
    pool = wide_ep_lockstep.run_lockstep_pool(partial(run_pool, round_trip_s=gap_s, lag=lag, cuts=cuts),  # wide EP
                                              cost, dep, blocks, arrival, inp - hit, hit, steps,
                                              dep.replicas * dep.engines_per_replica, clients, gap_s, lag, cuts, watch)
    first, finish, pools = pool.first_token_s, pool.finish_s, [pool]
    first, finish = request_intake.lagged(dep.stack, first, finish, steps, dep.speculative_tokens)  # behind i + 1
    first, finish = request_intake.polled(dep.stack, first, finish, steps)  # the next receive poll
    window = closed_window(pool.arrival_s, finish, clients) if clients > 0 else None  # (`serving.window_marks`)
    if clients > 0:
        requests = Requests(pool.arrival_s, inp, out)  # Requests re-sorts by arrival: keep the order
        order = np.argsort(pool.arrival_s, kind="stable")
        first, finish = first[order], finish[order]
    transfer = np.zeros(len(inp))
    client_s = deployment["front_end_s"]
    first += client_s  # in place: arrays of this run's own (the pool's times are not read again)
    finish += client_s
    return summarize(requests, first, finish, pools, transfer, dep, accelerator, system, deployment, ttft_slo_s,
                     tpot_slo_s, usd_per_hour, gpus=held_gpus, cuts=cuts, closed_window=window)


def held_sequences(dep: Deployment, requests: Requests, clients: int, prompts_only: bool = False,
                   sticky: bool = True) -> tuple[int, int]:
    """(sequences one GPU of the pool runs at once at most, the shortest sequence's tokens) for `kv_capacity`'s
    sliding-window hold (`serving.kv_pool_window.window_sequences`): each engine's share of the clients (closed
    loop) or of the requests (open loop), times the PP virtual engines whose sequences one GPU holds; all of them
    where the clients are not sticky to an engine (`sticky` False: a disaggregated decode pool's round robin); a
    prefill pool's sequences are the prompts and their first token (`prompts_only`)."""
    engines = max(dep.replicas * dep.engines_per_replica, 1) if sticky else 1
    total = min(clients, len(requests)) if clients > 0 else len(requests)  # (more clients than requests: the requests)
    lengths = requests.input_tokens + (1 if prompts_only else requests.output_tokens)
    return -(-total // engines) * dep.pp, int(lengths.min()) if len(lengths) else 0


def pool_memory(shape: TransformerShape, accelerator: Accelerator, dep: Deployment, running: int = 0,
                shortest_tokens: int = 0) -> tuple[KvCapacity, dict[str, Any]]:
    """The deployment's KV capacity and its memory as the result states it, per GPU and per replica (`running`,
    `shortest_tokens`: `held_sequences`, the sliding layers' windows; 0: the batch cap's)."""
    cap = kv_capacity(shape, accelerator, dep.tp, dep.pp, dep.dtype, dep.kv_dtype, dep.token_budget,
                      dep.max_batch, dep.block_tokens, engine=dep.stack, ep=dep.expert_shards,
                      draft_layers=speculative.memory_draft_layers(dep), running=running,
                      shortest_tokens=shortest_tokens, redundant=redundant_experts(dep.stack, dep.ep))
    memory = {"weights_bytes_per_gpu": cap.weights_bytes, "kv_cache_bytes_per_gpu": cap.kv_cache_bytes,
              "kv_cache_tokens_per_replica": (cap.blocks // dep.pp) * cap.block_tokens * dep.engines_per_replica,
              "memory_capacity_bytes": accelerator.memory_bytes}
    return cap, memory


def simulate_disaggregated(shape: TransformerShape, cluster: Cluster, pair: DisaggregatedDeployment,
                           requests: Requests, *, ttft_slo_s: float | None = None, tpot_slo_s: float | None = None,
                           usd_per_hour: float | None = None,
                           costs: tuple[IterationCost, IterationCost] | None = None, clients: int = 0,
                           front_end: bool = True, serial_front_ends: int = 1,
                           client_round_trip_s: float = CLIENT_ROUND_TRIP_S, wait_split: bool = False,
                           stop_over: tuple[int, int] | None = None, held_gpus: int | None = None) -> dict[str, Any]:
    """Simulate `requests` on a prefill pool and a decode pool, each with its own layout (`serving.disaggregated`;
    `held_gpus`: `simulate_deployment`'s).

    Open loop: the prefill pool routes round-robin in arrival order, the decode pool in order of KV arrival.
    `clients` > 0: closed loop over the pair, both pools in one pass (`serving.pair_loop`): the prefill pool
    client-sticky, the decode pool round-robin over its workers (`serving.disaggregated`, `ROUND_ROBIN_DECODE`).
    `serial_front_ends` 2: a prefill-first router (NVIDIA Dynamo's) passes the request through a second worker
    front end between the pools (`serving.disaggregated.relay_s`); the first token leaves the decode worker.
    `wait_split` (open loop, a TTFT SLO): also count the requests over the TTFT SLO had each started decoding as its
    KV arrived, its wait at the decode engine's admission beyond the iteration boundary taken out
    ("ttft_over_slo_without_decode_wait_count", `without_decode_wait`): serve-plan's retry grows the pool that holds
    the misses (`replica_search.grown`, hJ66). `stop_over`: `simulate_deployment`'s (the decode pool watched).
    """
    accelerator, system, fabric = cluster.accelerator, cluster.system, cluster.fabric
    pre_dep, dec_dep = pair.prefill, pair.decode
    pre_cap, pre_memory = pool_memory(shape, accelerator, pre_dep, *held_sequences(pre_dep, requests, clients, True))
    dec_cap, dec_memory = pool_memory(shape, accelerator, dec_dep,
                                      *held_sequences(dec_dep, requests, clients, sticky=False))
    client_s = front_end_s(dec_dep) if front_end else 0.0  # stated whether the pools fit or not
    deployment = {**dec_dep.as_dict(), "replicas": pre_dep.replicas + dec_dep.replicas, "gpus": pair.gpus,
                  "front_end_s": client_s,
                  **dec_memory, "weight_format": weight_format(accelerator, dec_dep.dtype, shape),
                  **mla_decode.kernel_field(shape, accelerator, dec_dep),
                  "disaggregated": True,
                  "prefill_replicas": pre_dep.replicas, "decode_replicas": dec_dep.replicas,
                  "prefill": pool_layout(pre_dep, pre_memory),
                  "decode": pool_layout(dec_dep, dec_memory), **held_field(held_gpus, pair.gpus)}
    arrival, inp, out = requests.arrival_s, requests.input_tokens, requests.output_tokens
    if clients > 0:  # the first wave reaches the prefill pool in client order (`serving.client_loop.first_wave`)
        arrival = first_wave(arrival, clients)
    prompts_only = Requests(arrival, inp, np.ones_like(out))
    why = next((f"{name} pool: {w}" for name, w in (
        ("prefill", fit_check(shape, pre_cap, pre_dep, prompts_only, accelerator)),
        ("decode", fit_check(shape, dec_cap, dec_dep, requests, accelerator))) if w is not None), None)
    if why is not None:
        return {"fits": False, "why": why, "deployment": deployment}
    pre_cost, dec_cost = costs or pool_costs(shape, accelerator, fabric, pair)
    pre_blocks, dec_blocks = pre_cap.blocks // pre_dep.pp, dec_cap.blocks // dec_dep.pp
    pre_engines = pre_dep.replicas * pre_dep.engines_per_replica
    dec_engines = dec_dep.replicas * dec_dep.engines_per_replica
    zeros = np.zeros_like(inp)
    transfer = handoff_transfer_s(shape, fabric, pair, inp)  # the link per stack and placement (`kv_handoff`)
    steps = dec_dep.decode_steps(out)
    pre_cost = chunked_attention.for_requests(pre_cost, shape, inp, zeros, zeros)  # Llama 4's chunks: prompts
    dec_cost = chunked_attention.for_requests(dec_cost, shape, inp, inp, steps)  # and decode steps alone
    hand_off = transfer + relay_s(client_s, serial_front_ends)  # prefill's first token -> decode worker's arrival
    cuts: list[float] = []  # closed loop: each pool's window rate instead (`serving.window_marks`)
    window = None  # closed loop: the pair's window (`window_marks.closed_window`), its served rate read over it
    split: int | None = None  # `wait_split`'s count
    run_progress.expect(2 * len(inp))  # both pools' passes begin (`serving.run_progress`)
    if clients > 0:  # one pass over both pools (`serving.pair_loop`)
        pre_stack, dec_stack = pool_engine(pre_dep.stack), pool_engine(dec_dep.stack)
        sent, pre_run, dec_run = closed_pair_loop(
            PoolSpec(pre_cost, pre_dep, pre_blocks, pre_engines, pre_stack.scheduler, pre_stack.kv_admission),
            PoolSpec(dec_cost, dec_dep, dec_blocks, dec_engines,
                     request_intake.loop_scheduler(dec_stack, dec_dep.speculative_tokens), dec_stack.kv_admission),
            arrival, inp, out, steps, hand_off, clients,
            dec_dep.replicas if disaggregated.ROUND_ROBIN_DECODE else 0,
            pre_dep.replicas if disaggregated.ROUND_ROBIN_PREFILL else 0, disaggregated.least_loaded_ranks(dec_dep),
            client_cycle(client_round_trip_s, client_s, False)[0])  # the client's cycle (no schedule-ahead lag here)
        pre, dec = (PoolResult(r.first_token_s, r.finish_s, r.busy_s, r.compute_s, r.iterations, r.arrival_s,
                               window_rate=r.window_rate) for r in (pre_run, dec_run))
        ready = pre.first_token_s + hand_off
        finish = np.where(out > 1, dec.finish_s, ready)
        first = decode_first_token_s(pre.first_token_s, ready, finish, steps, out, decode_pickup_iterations(dec_dep),
                                     dec.first_token_s)
        window = closed_window(sent, finish, clients)  # the cuts the pair's engines recorded their work at
        order = np.argsort(sent, kind="stable")
        requests = Requests(sent, inp, out)  # re-sorted by arrival: keep the order
        first, finish, transfer = first[order], finish[order], transfer[order]
    else:  # open loop: the prefill pool round-robin in arrival order, the decode pool in KV-arrival order
        cuts = window_cuts(arrival)  # the arrival window's mid and end, both pools (`serving.window_marks`)
        pre = run_pool(pre_cost, pre_dep, pre_blocks, arrival, inp, zeros, zeros, pre_engines, cuts=cuts)
        ready = pre.first_token_s + hand_off
        by_ready = np.argsort(ready, kind="stable")
        watch = None if stop_over is None or ttft_slo_s is None or tpot_slo_s is None else MissWatch(
            disaggregated_times(by_ready, pre.first_token_s, ready, arrival, out, steps,
                                decode_pickup_iterations(dec_dep), client_s), (ttft_slo_s, tpot_slo_s), stop_over)
        dec = run_pool(dec_cost, dec_dep, dec_blocks, ready[by_ready], zeros, inp[by_ready], steps[by_ready],
                       dec_engines, cuts=cuts, watch=watch)
        finish = np.empty_like(ready)
        finish[by_ready] = np.where(out[by_ready] > 1, dec.finish_s, ready[by_ready])
        admitted = np.empty_like(ready)
        admitted[by_ready] = dec.first_token_s
        first = decode_first_token_s(pre.first_token_s, ready, finish, steps, out, decode_pickup_iterations(dec_dep),
                                     admitted)
        if wait_split and ttft_slo_s is not None:
            unwaited = without_decode_wait(first, ready, admitted, finish, steps, out,
                                           decode_pickup_iterations(dec_dep))
            split = int(np.count_nonzero(unwaited + client_s - arrival > ttft_slo_s))
    result = summarize(requests, first + client_s, finish + client_s, [pre, dec], transfer, dec_dep, accelerator,
                       system, deployment, ttft_slo_s, tpot_slo_s, usd_per_hour, gpus=held_gpus or pair.gpus,
                       pool_tp=[pre_dep.tp, dec_dep.tp], cuts=cuts, closed_window=window)
    if split is not None:
        result["ttft_over_slo_without_decode_wait_count"] = split
    if clients > 0:  # how the closed loop routes (`serving.disaggregated`)
        decode_routing = ("decode workers in turn (a worker's attention-DP ranks: the least loaded first)"
                          if disaggregated.least_loaded_ranks(dec_dep) else "decode workers in turn, then their ranks")
        result["assumptions"]["scheduler"] += (
            "; disaggregated closed loop: client c on prefill engine c mod engines, "
            + (decode_routing if disaggregated.ROUND_ROBIN_DECODE else "on decode engine c mod engines"))
    return result


