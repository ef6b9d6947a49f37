"""Prefill/decode disaggregation with a parallel layout per pool, the KV hand-off between them, closed loops.

A disaggregated deployment (Splitwise, Patel et al. ISCA'24; DistServe, Zhong et al. OSDI'24; as NVIDIA Dynamo
and SGLang's PD mode deploy it) is two pools of workers, each its own `Deployment`: the prefill pool computes
prompts and the first token, the decode pool generates the rest. Each pool has its own TP / PP / EP / attention
DP, worker count and batch cap (DeepSeek-V3 on Hopper: prefill at TP8 or attention-DP8 x EP8 with one prompt per
rank, decode at attention-DP8 x EP8 with 8-64 sequences per rank; DeepSeek-V3 technical report sec. 3.4, NVIDIA
AIConfigurator's disaggregated sample). Both pools run the same stack, weights and KV dtype (the KV pages move
as they are).

KV hand-off, priced from the two layouts (`kv_transfer_bytes_per_link`): every GPU moves its share over its own
link at the same time (NIXL / Mooncake transfer engines post one RDMA write per page, each GPU through its own
NIC or NVLink port). A prefill GPU sends its stage's unique KV bytes split over its TP group (a copy replicated
over TP ranks, the MLA latent or GQA heads fewer than TP, is sent once, its pages split among the holders); a
decode GPU receives everything its stage holds (`kv_bytes_per_token`: the MLA latent is whole on every TP rank,
so every decode rank receives all of it). The link time is the larger side over `send_recv_time` of the fabric:
the scale-up fabric when both pools sit in one scale-up domain, else the NICs. With equal layouts of a dense
model whose KV heads divide TP and PP 1 this is the whole prompt's KV over TP, as the colocated-layout
disaggregation priced it before.

Closed loop over the pair (`closed_loop_arrivals`): client c sends its next request when its last one finishes
decoding; the prefill pool sees the arrivals, the decode pool the prefill completions plus the transfer. The
two pools are coupled through the clients, so the arrival times are the fixed point of
arrivals -> (prefill pool, transfer, decode pool) -> finish times -> next arrivals, iterated until no arrival
moves by more than `FIXED_POINT_TOLERANCE_S`. Each round simulates both pools over fixed arrival times with
client-sticky routing (client c on prefill engine c mod E_p and decode engine c mod E_d), so the event order, and
the answer, is deterministic. Round r runs the first r + 1 requests of every client (a later one has no arrival
time yet) and would settle them exactly if later arrivals did not slow earlier requests; in a batching engine
they do (a later sequence joins the batch), so rounds over every request continue until no arrival moves, up to
`MAX_FIXED_POINT_ROUNDS` more; the result says how many ran and the largest arrival change left. The fixed point
is unique (every engine is causal and a request takes time: the earliest arrival two solutions disagreed on would
follow from finishes they agree on), so the path only sets the cost. Cost: about (requests per client + a few)
simulations of both pools, each over the requests grown in so far: the Hopper rows (10 requests per client)
converge exactly in 13-24 rounds; one client sending 2,000 requests takes 2,000 rounds (~10 s CPU), 16 clients
125 rounds (~1 s). Client-sticky routing makes every engine its own simulation, so a round re-simulates only the
engines whose requests or arrival times changed since the last round and reuses the others' results
(`serving_sim.run_pool(memo=...)`; deterministic, so the answer is the same to the bit): on the Hopper rows it
skips 7 % of the engine simulations, 9.5 % of the requests simulated. Measured there (rounds x share of the
requests sent: 366 over the 28 rows, 13 per row), what else the black-box engines allow: sending only the
requests up to two request latencies past the earliest moved arrival saves 1.4 % (a narrower horizon costs
rounds: 423 at one latency); shifting later arrivals by their predecessor's move (extrapolation) or starting from
arrivals spaced by the first request's latency takes as many or more rounds (23 and 21 vs 21 on the 3,584-client
row: the changes ride on event order, not on a smooth map); engines that could resume from their earliest
changed arrival would still simulate 42 % (155). One pass (~1 simulation of both pools) needs the engines
stepped together in one event loop, which the engine loop (`serving_engine`, `fcfs_loop`) does not offer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.serving.kv_cache import kv_bytes_per_token, kv_bytes_per_token_model, stage_layers
from infraplan.serving.llm_iteration import (
    Deployment,
    IterationCost,
    build_iteration_cost,
    check_deployment,
    wide_ep_prefill_stall,
)

FIXED_POINT_TOLERANCE_S = 1e-6  # an arrival moving less than this between rounds has converged
MAX_FIXED_POINT_ROUNDS = 60  # rounds over every request after the requests per client have grown in (docstring)


@dataclass(frozen=True)
class DisaggregatedDeployment:
    """A prefill pool and a decode pool, each a `Deployment` whose `replicas` are its workers."""

    prefill: Deployment
    decode: Deployment

    @property
    def gpus(self) -> int:
        return self.prefill.gpus + self.decode.gpus

    def check(self) -> None:
        """One-line InputError when the pools cannot hand KV pages to each other."""
        p, d = self.prefill, self.decode
        for name, a, b in (("weight dtype", p.dtype, d.dtype), ("KV dtype", p.kv_dtype, d.kv_dtype),
                           ("serving stack", p.stack, d.stack), ("KV block size", p.block_tokens, d.block_tokens)):
            if a != b:
                raise InputError(f"prefill and decode pools must share the {name}: {a} vs {b}")
        if p.speculative_tokens:
            raise InputError("speculative decoding applies to the decode pool, not the prefill pool")


@dataclass(frozen=True)
class PrefillLayout:
    """The prefill pool's own layout as `serve --prefill-tp/--prefill-pp/--prefill-ep/--prefill-attention-dp/
    --prefill-max-batch` give it. None: TP, PP and the batch cap are the decode pool's; attention DP 1 and EP 1, or
    attention DP x TP when attention DP > 1 (the defaults of `--attention-dp` and `--ep`)."""

    tp: int | None = None
    pp: int | None = None
    ep: int | None = None
    attention_dp: int | None = None
    max_batch: int | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.tp, self.pp, self.ep, self.attention_dp, self.max_batch))


def split_pools(shape: TransformerShape, accelerator: Accelerator, decode: Deployment, prefill_gpus: int,
                layout: PrefillLayout) -> DisaggregatedDeployment:
    """The pair of `prefill_gpus` GPUs in `layout` and the decode deployment; one-line InputError if it cannot be."""
    tp = layout.tp or decode.tp
    pp = layout.pp or decode.pp
    adp = layout.attention_dp or 1
    ep = layout.ep or (adp * tp if adp > 1 else 1)
    per_worker = tp * pp * adp
    if prefill_gpus < 1:
        raise InputError("--prefill-tp/--prefill-pp/--prefill-ep/--prefill-attention-dp/--prefill-max-batch "
                         "describe a prefill pool: give its --prefill-gpus")
    if prefill_gpus % per_worker:
        raise InputError(f"--prefill-gpus {prefill_gpus} is not a multiple of the prefill worker's TP x PP x "
                         f"attention DP = {per_worker} GPUs")
    prefill = replace(decode, tp=tp, pp=pp, ep=ep, attention_dp=adp, replicas=prefill_gpus // per_worker,
                      max_batch=layout.max_batch or decode.max_batch, speculative_tokens=0, acceptance=0.0)
    prefill = replace(prefill, token_budget=max(prefill.token_budget, prefill.max_batch))
    try:
        check_deployment(shape, accelerator, prefill)
    except InputError as error:
        raise InputError(f"prefill pool: {error}") from None
    pair = DisaggregatedDeployment(prefill, decode)
    pair.check()
    return pair


def pool_layout(dep: Deployment, memory: dict[str, Any]) -> dict[str, Any]:
    """One pool's layout and memory as the result's `prefill` / `decode` entries say it."""
    return {"replicas": dep.replicas, "tp": dep.tp, "pp": dep.pp, "ep": dep.ep, "attention_dp": dep.attention_dp,
            "gpus": dep.gpus, "max_batch": dep.max_batch, "token_budget": dep.token_budget, **memory}


def kv_transfer_bytes_per_link(shape: TransformerShape, prefill: Deployment, decode: Deployment,
                               prompt_tokens: np.ndarray, kv_dtype: str) -> np.ndarray:
    """Bytes the busiest GPU link moves per prompt: max(what a prefill GPU sends, what a decode GPU receives)."""
    prompt = np.asarray(prompt_tokens, dtype=np.float64)
    unique_per_layer = kv_bytes_per_token_model(shape, kv_dtype) / shape.num_layers
    sent = prompt * stage_layers(shape, prefill.pp) * unique_per_layer / prefill.tp
    received = prompt * kv_bytes_per_token(shape, decode.tp, decode.pp, kv_dtype)
    return np.asarray(np.maximum(sent, received), dtype=np.float64)


def kv_transfer_s(shape: TransformerShape, fabric: Fabric, prefill: Deployment, decode: Deployment,
                  prompt_tokens: np.ndarray, kv_dtype: str, same_domain: bool) -> np.ndarray:
    """Seconds to move each prompt's KV cache from a prefill worker to a decode worker (module docstring)."""
    per_link = kv_transfer_bytes_per_link(shape, prefill, decode, prompt_tokens, kv_dtype)
    stride = 1 if same_domain else fabric.scale_up_domain
    return np.asarray(send_recv_time(fabric, per_link, stride), dtype=np.float64)


def pool_costs(shape: TransformerShape, accelerator: Accelerator, fabric: Fabric,
               pair: DisaggregatedDeployment) -> tuple[IterationCost, IterationCost]:
    """Iteration costs of a prefill engine and a decode engine of the pair.

    A wide-EP prefill worker's ranks prefill together: loaded, every rank has a prompt in every iteration, so an
    iteration lasts as long as one rank's own. The colocated lock-step stall (`llm_iteration.
    wide_ep_prefill_stall`: the other ranks' prefills landing at other times, the low-load limit of a rank mixing
    prefill with decode) is taken back out of the prefill cost: its pair share (`pair_s` over `pair_flop_s`) and
    its per-token share, recomputed from the cost's own body table.
    """
    prefill = build_iteration_cost(shape, accelerator, fabric, pair.prefill)
    return prefill_pool_cost(prefill, pair.prefill), build_iteration_cost(shape, accelerator, fabric, pair.decode)


def prefill_pool_cost(cost: IterationCost, dep: Deployment) -> IterationCost:
    """`cost` of a prefill-pool engine of `dep` without the colocated lock-step stall (`pool_costs`)."""
    stall_token_s, _ = wide_ep_prefill_stall(cost.body_s, cost.pair_flop_s, dep)
    if stall_token_s <= 0:
        return cost
    return replace(cost, pair_s=cost.pair_flop_s, per_prefill_token_s=max(cost.per_prefill_token_s - stall_token_s,
                                                                          0.0))


@dataclass(frozen=True)
class ClosedLoop:
    """The fixed point of a closed loop: arrival times and what `run` returned for them."""

    arrival_s: np.ndarray
    outcome: Any
    rounds: int
    residual_s: float


def closed_loop_arrivals(first_arrival_s: np.ndarray, n: int, clients: int,
                         run: Callable[[np.ndarray], tuple[np.ndarray, Any]]) -> ClosedLoop:
    """Arrival times of `n` requests of `clients` closed-loop clients (request k: client k mod clients).

    `run(arrival_s)` simulates the pools over the first len(arrival_s) requests at the given arrivals (in request
    order) and returns their finish times and whatever else the caller keeps. Client c's first request arrives at
    `first_arrival_s[c]`, each later one when the previous one finishes (module docstring: the fixed point, iterated
    from the earliest arrivals). Round r runs the first r + 1 requests of every client (later ones cannot have
    their arrival yet), then every round runs them all until no arrival moves.
    """
    if clients < 1:
        raise ValueError("a closed loop needs at least one client")
    first = np.asarray(first_arrival_s, dtype=np.float64)[:min(clients, n)]
    arrival = first
    residual = np.inf
    rounds = 0
    finish, outcome = run(arrival)
    generations = -(-n // clients)  # rounds that grow the requests run, before the fixed-point rounds
    while rounds < generations + MAX_FIXED_POINT_ROUNDS:
        rounds += 1
        active = min(n, len(arrival) + clients)
        nxt = np.concatenate([first, finish[:active - len(first)]])
        if len(nxt) == len(arrival):
            residual = float(np.max(np.abs(nxt - arrival))) if n else 0.0
            if residual <= FIXED_POINT_TOLERANCE_S:
                break
        arrival = nxt
        finish, outcome = run(arrival)
    return ClosedLoop(arrival, outcome, rounds, residual)
