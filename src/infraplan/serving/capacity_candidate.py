"""One capacity-search candidate: its cost tables, KV capacity and replica-level probes, memoised per process.

A candidate is one (dtype, TP, PP, attention DP, batch cap) deployment shape of `serving.capacity`'s search. Its
iteration-cost tables (`llm_iteration.build_iteration_cost`), its prefill-pool cost (`disaggregated.
prefill_pool_cost`: the cost itself unless wide EP stalls prefill) and its KV capacity (`kv_cache.kv_capacity`,
as `serve` sizes it) are built once per process for equal inputs; a replica of it is simulated by
`serving_sim.run_pool` over a seeded request stream, offline (every request present at t = 0: its peak rate) or
online (a probe: do the p-th percentiles of TTFT and TPOT meet the SLOs?). Each run prices its iterations for its
own requests as `simulate_deployment` does (`Candidate.priced`: `chunked_attention.for_requests`, Llama 4's chunked
layers; the cost tables themselves for every other model).

Memoised (exact: every key holds everything the simulation reads, so a hit is the answer a run would give): the
probe verdicts and offline peaks (keyed on a content fingerprint of the cost tables, the batch cap, token budget, KV
blocks, block size, stack, PP, engines, chunked layers' share and chunk and the drafts (K, R), the requests'
fingerprint, mode, SLOs and percentile; a decode or colocated probe's also the lengths its utilisation is taken
over), the candidates, and the seeded request streams. Each store is bounded and cleared whole when full. A probe
on FCFS engines stops once its backlog test or its TTFT percentile has certainly missed (`capacity_probe`: exact,
the verdict of the whole run). """

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.network.collectives import Fabric
from infraplan.serving import chunked_attention, request_intake, speculative, wide_ep_lockstep
from infraplan.serving.adp_balance import balance_of
from infraplan.serving.backlog_growth import backlog_span, keeps_up
from infraplan.serving.capacity_decode import decode_request_s, decode_utilisation, kv_batch
from infraplan.serving.capacity_probe import run_until_miss, steppable
from infraplan.serving.disaggregated import prefill_pool_cost
from infraplan.serving.engines import ServingEngine
from infraplan.serving.expert_slots import redundant_experts
from infraplan.serving.fcfs_setup import KvBinds
from infraplan.serving.handoff_floor import handoff_floor_s
from infraplan.serving.kv_cache import KvCapacity, kv_capacity
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost
from infraplan.serving.request_metrics import tpot_s
from infraplan.serving.serve_results import front_end_floor_reason
from infraplan.serving.serving_sim import front_end_s, pool_engine, run_pool
from infraplan.serving.steady_state import STEADY_SPANS
from infraplan.serving.workloads import Requests

# Steady state (`Candidate.probe_requests`, `steady_window`): a probe starts empty and stops sending, so its first
# requests meet a replica that is filling and its last ones one that is draining, both faster than the steady state
# the SLO is about. A replica holds at most `held` = engines x batch cap requests at once, so by Little's law at most
# `held` requests arrive while it fills (the fill lasts one request latency, during which rate x latency <= held
# arrive), and as many drain at the end. A probe sends at least STEADY_SPANS x `held` requests and judges the SLO on
# those between the first and the last `held` (in arrival order): at least half of them, all in steady state or in
# the queue an overload builds. (Law & Kelton, "Simulation Modeling and Analysis", 5th ed., sec. 9.5: delete the
# warm-up of a steady-state simulation.) Without it a 1,500-request probe of DeepSeek-V3 at 32 req/s with 2,000-token
# outputs ends (47 s) before one request's decode does (~100 s at 49 ms), so no probe ever saw a full batch.
# TTFTs are judged from the warm-up's end to the last request (`ttft_window`, hB49): on FCFS engines a request's
# first token depends only on the requests before it (tests/serving/test_probe_queues_hB49.py runs a probe with and
# without its last `held`: the same first tokens), so a draining replica gives its last requests no faster TTFT,
# and cutting them hid the latest of a queue that builds (gigawatt-2027's 2026 chat, 193 prefill replicas at 0.99 of
# their offline rate: TTFT p99 1.98 s over the steady window, 4.42 s from the warm-up's end, whole run 4.2 s).
MEMO_MAX_ENTRIES = 50_000  # probe verdicts and offline runs kept per process (~300 bytes each)
MEMO_MAX_CANDIDATES = 512  # candidates (cost tables) kept per process
MEMO_MAX_STREAMS = 512  # probe request streams kept per process (24 KB per 1,000 requests)

def ttft_floor(engine: ServingEngine, ttft_slo_s: float) -> str:
    """Why no deployment of any size meets a TTFT SLO at or below `engine`'s front-end time ('' above it;
    `serve_results.front_end_floor_reason`; through Dynamo's disaggregated path the time is paid twice)."""
    return front_end_floor_reason(ttft_slo_s, engine.request_latency_s, engine.name)


_memo: dict[tuple[Any, ...], Any] = {}
_candidates: dict[tuple[Any, ...], Candidate] = {}
_streams: dict[tuple[Any, ...], tuple[Requests, str]] = {}


def clear_caches() -> None:
    """Forget the memoised candidates, probe verdicts and offline peaks (exact; this only frees memory)."""
    _memo.clear()
    _candidates.clear()
    _streams.clear()


def _fingerprint(*parts: Any) -> str:
    """A content digest of arrays and plain values (dataclasses field by field)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if dataclasses.is_dataclass(part) and not isinstance(part, type):
            h.update(_fingerprint(*(getattr(part, f.name) for f in dataclasses.fields(part))).encode())
        elif isinstance(part, np.ndarray):
            h.update(f"{part.dtype}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


def _remember(key: tuple[Any, ...], value: Any) -> Any:
    if len(_memo) >= MEMO_MAX_ENTRIES:
        _memo.clear()
    _memo[key] = value
    return value


def meets_slo(ttft: np.ndarray | None, tpot: np.ndarray | None, slo: tuple[float, float], q: float) -> bool:
    ok = True
    if ttft is not None:
        ok &= bool(np.percentile(ttft, q) <= slo[0])
    if tpot is not None and tpot.size:
        ok &= bool(np.percentile(tpot, q) <= slo[1])
    return ok


class Candidate:
    """One (dtype, TP, PP, attention DP, batch cap) deployment shape: its cost tables and replica-level probes.

    A replica is `dep.engines_per_replica` engines (PP virtual engines of every attention-DP rank); its KV
    capacity and its prefill-pool cost are the ones `simulate_deployment` gives the same deployment, and each
    probe prices its iterations for its own requests as the simulator prices a run's (`priced`: Llama 4's chunked
    layers at the requests' mean keys, `serving.chunked_attention.for_requests`; before hB48 the probes priced
    them as full attention and over-sized llama4-scout's long prompts)."""

    def __init__(self, shape: TransformerShape, acc: Accelerator, fabric: Fabric, dep: Deployment,
                 sample: Requests | None = None) -> None:
        self.dep, self.shape = dep, shape
        self.chunked = bool(chunked_attention.CHUNKED_ATTENTION and shape.chunked_fraction())  # `priced` re-prices
        self.cost = build_iteration_cost(shape, acc, fabric, dep)
        self.prefill_cost = prefill_pool_cost(self.cost, dep)  # the cost itself unless wide EP stalls prefill
        # a sliding-window model's windows: for the cap's sequences or the fewer of the search's `sample`'s shortest
        # length its pool holds (`serving.kv_pool_window.window_sequences`: the probes run open loop; hW52)
        cap = replica_kv(shape, acc, dep, shortest_sequence(sample) if sample is not None else 0)
        self.cap = cap
        self.blocks = cap.blocks // dep.pp
        # everything `run` hands the simulator besides the requests and the mode
        rest = (dep.max_batch, dep.token_budget, dep.block_tokens, dep.stack, dep.pp, self.blocks,
                dep.engines_per_replica, self.chunked and (shape.chunked_fraction(), shape.attention_chunk_size),
                dep.speculative_tokens, dep.acceptance)  # the drafts: `decode_steps` reads them beside the tables
        self.key = (_fingerprint(self.cost), *rest)
        self.prefill_key = self.key if self.prefill_cost is self.cost else (_fingerprint(self.prefill_cost), *rest)
        # a prefill probe's TTFT holds the least hand-off to the decode worker (`handoff_floor`: the model's KV bytes,
        # the fabric, the decode cost), so its verdict is keyed on them too
        self.fabric = fabric
        self.handoff_key = _fingerprint(repr(shape), repr(fabric))
        self.partner: Candidate | None = None  # a prefill pool's decode pool of another layout (`paired`)

    def paired(self, decode: Candidate) -> Candidate:
        """This candidate as the prefill pool of `decode`, a decode pool of another layout (`capacity_layouts`, hY53):
        its prefill probes' hand-off floor priced on the decode pool's cost, and keyed on it; the tables shared."""
        twin = copy.copy(self)
        twin.partner = decode
        twin.handoff_key = _fingerprint(self.handoff_key, decode.key)
        return twin

    def _key(self, mode: str) -> tuple[Any, ...]:
        return self.prefill_key if mode == "prefill" else self.key

    def priced(self, req: Requests, mode: str) -> IterationCost:
        """The iteration cost a run of `req` in `mode` prices with, as `simulate_deployment` and
        `simulate_disaggregated` price theirs (`chunked_attention.for_requests`: the cost itself for a model
        without chunked layers): the prefill pool on the prompts alone, the decode pool on the handed-over
        prompts' decode steps, a colocated replica on both."""
        if not self.chunked:  # (the common case, without the arrays)
            return self.prefill_cost if mode == "prefill" else self.cost
        inp, zeros = req.input_tokens, np.zeros_like(req.input_tokens)
        if mode == "prefill":
            return chunked_attention.for_requests(self.prefill_cost, self.shape, inp, zeros, zeros)
        steps = self.dep.decode_steps(req.output_tokens)
        return chunked_attention.for_requests(self.cost, self.shape, inp, inp if mode == "decode" else zeros, steps)

    def run(self, req: Requests, mode: str):
        zeros = np.zeros_like(req.input_tokens)
        inp, out = req.input_tokens, req.output_tokens
        engines = self.dep.engines_per_replica
        cost = self.priced(req, mode)
        if mode == "prefill":
            return run_pool(cost, self.dep, self.blocks, req.arrival_s, inp, zeros, zeros, engines)
        if mode == "decode":
            return run_pool(cost, self.dep, self.blocks, req.arrival_s, zeros, inp, self.dep.decode_steps(out),
                            engines)  # decode steps: fewer than the tokens with drafts (`serving.speculative`)
        return wide_ep_lockstep.run_lockstep_pool(run_pool, cost, self.dep, self.blocks, req.arrival_s, inp, zeros,
                                                  self.dep.decode_steps(out), engines)  # as `serve` runs it

    def offline_s(self, req: Requests, req_key: str, mode: str = "mixed") -> float:
        """Seconds one replica takes to finish `req` offline in `mode`, every request present at t = 0
        (memoised): its peak rate is the requests (or output tokens) over these seconds."""
        key = ("offline", *self._key(mode), req_key, mode)
        if key not in _memo:
            _remember(key, float(np.nanmax(self.run(req, mode).finish_s)))
        return float(_memo[key])

    def meets(self, req: Requests, req_key: str, mode: str, slo: tuple[float, float], q: float,
              law: tuple[Requests, str] | None = None) -> bool:
        """`_meets_now`, memoised on the candidate, the requests' fingerprint, the mode, SLOs and percentile (and the
        long sample of lengths a decode pool's utilisation is taken over, `decode_utilisation`)."""
        key = ("meets", *self._key(mode), req_key, mode, slo, q, self.handoff_key if mode == "prefill" else None,
               law[1] if law is not None and mode != "prefill" else None)
        if key not in _memo:
            _remember(key, self._meets_now(req, mode, slo, q, law))
        return bool(_memo[key])

    @property
    def held(self) -> int:
        """The most requests one replica holds at once: every engine's batch cap (the probe's windows and length,
        module comment; its backlog test takes `runs_at_once`, at most this)."""
        return self.dep.engines_per_replica * self.dep.max_batch

    def runs_at_once(self, req: Requests, mode: str) -> int:
        """The requests one replica runs at once on `req`'s lengths in `mode`, `keeps_up`'s concurrency: every
        engine's batch cap or, fewer, the sequences its KV blocks hold (`kv_batch`, the one count `capacity_horizon`
        prices decode with; hR80: Llama 3 70B fp8 TP1 on one H100 at batch 256, 1,000 / 500 tokens, holds 27). A
        prefill pool's prompts leave no KV behind: its caps."""
        if mode == "prefill":
            return self.held
        return self.dep.engines_per_replica * kv_batch(self.cost, self.dep, req, self.blocks)

    def probe_requests(self, requests: int) -> int:
        """Requests an online probe sends: at least `requests` and STEADY_SPANS x `held` (module comment)."""
        return max(requests, STEADY_SPANS * self.held)

    def _decode_utilisation(self, req: Requests, steady: np.ndarray, law: tuple[Requests, str] | None,
                            mode: str = "decode") -> float:
        """`decode_utilisation` of one replica on `req` in `mode` (decode; mixed: a colocated replica's, its decode
        steps' share alone), its mean over `law` memoised (per candidate where its cost is the same for every probe:
        a model without chunked layers)."""
        cost, mixed = self.priced(req, mode), mode == "mixed"
        if law is None or self.chunked:
            return decode_utilisation(cost, self.dep, req, steady, law[0] if law is not None else None, mixed=mixed)
        key = (f"{mode}_s", *self.key, law[1])
        if key not in _memo:
            _remember(key, decode_request_s(cost, self.dep, law[0], mixed))
        return decode_utilisation(cost, self.dep, req, steady, request_s=float(_memo[key]))

    def _meets_now(self, req: Requests, mode: str, slo: tuple[float, float], q: float,
                   law: tuple[Requests, str] | None = None) -> bool:
        steady = steady_window(req.arrival_s, self.held)
        if mode != "prefill" and self._decode_utilisation(req, steady, law, mode) > 1.0:
            return False  # more decode work than its engines' seconds even with every slot busy: its queue grows
        front = self._front_s(req, mode)
        judged = ttft_window(req.arrival_s, self.held)  # the TTFTs judged (a decode pool judges none)
        runs = self.runs_at_once(req, mode)  # the backlog test's concurrency (`backlog_growth`)
        got = self._times(req, mode, steady, judged, slo[0], q, front, runs)
        if got is None:  # its backlog or TTFT percentile already missed (`capacity_probe`)
            return False
        first_s, finish_s = got
        if mode == "mixed":  # a schedule-ahead loop's lag, as `simulate_deployment` adds it (>= 0: a miss stands)
            steps = self.dep.decode_steps(req.output_tokens)
            first_s, finish_s = request_intake.lagged(self.dep.stack, first_s, finish_s, steps,
                                                      self.dep.speculative_tokens)
            first_s, finish_s = request_intake.polled(self.dep.stack, first_s, finish_s, steps)  # its next poll
        # the client's TTFT holds the stack's front-end time, as `simulate_deployment` reports it
        ttft = first_s - req.arrival_s + front
        multi = np.zeros(len(req), dtype=bool)
        multi[steady] = req.output_tokens[steady] > 1
        ttft = ttft[judged]
        tpot = tpot_s(first_s[multi], finish_s[multi], req.output_tokens[multi])  # as `summarize` forms it
        if not keeps_up(req.arrival_s, finish_s, steady, runs):
            return False
        if mode == "decode":
            tpot = (finish_s - req.arrival_s)[multi] / (req.output_tokens[multi] - 1)
            return meets_slo(None, tpot, slo, q)
        return meets_slo(ttft, None if mode == "prefill" else tpot, slo, q)

    def _front_s(self, req: Requests, mode: str) -> float | np.ndarray:
        """Seconds each probe TTFT holds beyond the pool's first token: the stack's front end, as
        `simulate_deployment` reports it; a prefill pool's also the least hand-off to a decode worker
        (`handoff_floor`)."""
        front = front_end_s(self.dep)
        if mode != "prefill":
            return front
        # the hand-off's decode step on the decode pool's cost as the whole run prices it for these requests
        decode = self.partner or self
        return front + handoff_floor_s(self.shape, self.fabric, self.dep, decode.priced(req, "decode"),
                                       req.input_tokens, req.output_tokens)

    def _times(self, req: Requests, mode: str, steady: np.ndarray, judged: np.ndarray, ttft_slo: float, q: float,
               front: float | np.ndarray, runs: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The probe's first-token and finish times; on FCFS engines None once its backlog test (`runs` requests
        at once, `runs_at_once`) or (prefill, mixed) its TTFT percentile has certainly missed (`capacity_probe.
        run_until_miss`: the same times otherwise)."""
        engine = pool_engine(self.dep.stack)
        cost = self.priced(req, mode)
        scheduler = request_intake.loop_scheduler(engine, self.dep.speculative_tokens)  # as `run_pool` runs it
        on_demand = engine.kv_admission == "on_demand"  # stepped until its KV binds (`capacity_probe`), then whole
        if not steppable(cost, self.dep, scheduler, engine.kv_admission) or (
                mode == "mixed" and (wide_ep_lockstep.applies(cost) or (  # two passes (`serving.wide_ep_lockstep`)
                    on_demand and balance_of(self.dep) is not None))):  # its ranks in lock-step
            return self._whole(req, mode)
        window = np.zeros(len(req), dtype=bool)
        window[judged] = True  # the TTFTs judged (`ttft_window`)
        zeros = np.zeros_like(req.input_tokens)
        inp, steps = req.input_tokens, self.dep.decode_steps(req.output_tokens)
        prompt, cached = (zeros, inp) if mode == "decode" else (inp, zeros)
        try:
            return run_until_miss(cost, self.dep, self.blocks, req.arrival_s, prompt, cached,
                                  zeros if mode == "prefill" else steps, self.dep.engines_per_replica, window,
                                  front, None if mode == "decode" else ttft_slo, q,
                                  backlog_span(req.arrival_s, steady, runs), on_demand)
        except KvBinds:  # on demand, where its KV binds: preemptions, the general loop's whole run
            return self._whole(req, mode)

    def _whole(self, req: Requests, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """The probe's first-token and finish times, run whole (`run`)."""
        r = self.run(req, mode)
        return r.first_token_s, r.finish_s


def steady_window(arrival_s: np.ndarray, held: int) -> np.ndarray:
    """Indices of the requests a probe judges: all but the first and the last `held` in arrival order, when at
    least as many remain (a shorter stream, an offline one, is judged whole)."""
    after = ttft_window(arrival_s, held)
    return after if len(after) == len(arrival_s) else after[:len(after) - held]


def ttft_window(arrival_s: np.ndarray, held: int) -> np.ndarray:
    """Indices of the requests whose TTFT a probe judges: `steady_window`'s and the last `held` (module comment at
    STEADY_SPANS)."""
    order = np.argsort(arrival_s, kind="stable")
    if len(order) < 4 * held or not np.any(arrival_s > arrival_s[order[0]]):
        return order
    return order[held:]


def replica_kv(shape: TransformerShape, acc: Accelerator, dep: Deployment, shortest_tokens: int = 0) -> KvCapacity:
    """One replica's KV capacity as the search sizes it, and `serve` the same deployment (`kv_cache.kv_capacity`):
    a sliding-window model's windows held for the cap's sequences or the fewer of `shortest_tokens` its pool holds
    (0: unknown; `kv_pool_window.window_sequences`, hW52). The one rule for every candidate and for the wide-EP
    degrees offered (`capacity_space.wide_ep_degrees`, hY53)."""
    return kv_capacity(shape, acc, dep.tp, dep.pp, dep.dtype, dep.kv_dtype, dep.token_budget, dep.max_batch,
                       dep.block_tokens, engine=dep.stack, ep=dep.expert_shards,
                       draft_layers=speculative.memory_draft_layers(dep), shortest_tokens=shortest_tokens,
                       redundant=redundant_experts(dep.stack, dep.ep))


def shortest_sequence(req: Requests) -> int:
    """Tokens (prompt + output) of the shortest request of `req` (0: none)."""
    return int((req.input_tokens + req.output_tokens).min()) if len(req) else 0


def candidate_for(shape: TransformerShape, acc: Accelerator, fabric: Fabric, dep: Deployment,
                  sample: Requests | None = None) -> Candidate:
    """The candidate's cost tables and KV capacity, built once per process for equal inputs (the phases of a
    scenario search the same model and system at other rates); `sample`: the search's requests (`Candidate`: their
    shortest bounds a sliding-window model's windows held)."""
    key = (repr(shape), repr(acc), repr(fabric), dep, shortest_sequence(sample) if sample is not None else 0)
    if key not in _candidates:
        if len(_candidates) >= MEMO_MAX_CANDIDATES:
            _candidates.clear()
        _candidates[key] = Candidate(shape, acc, fabric, dep, sample)
    return _candidates[key]


def request_stream(key: tuple[Any, ...], build: Callable[[], Requests]) -> tuple[Requests, str]:
    """The seeded request stream `build()` makes for `key`, and its content fingerprint (built once per process)."""
    if key not in _streams:
        if len(_streams) >= MEMO_MAX_STREAMS:
            _streams.clear()
        r = build()
        _streams[key] = r, _fingerprint(r.arrival_s, r.input_tokens, r.output_tokens)
    return _streams[key]
