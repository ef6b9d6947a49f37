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
the scale-up fabric for a hand-off inside one scale-up domain, else the NICs (which hand-offs stay inside, per
stack and placement: `serving.kv_handoff`, hK74). With equal layouts of a dense
model whose KV heads divide TP and PP 1 this is the whole prompt's KV over TP, as the colocated-layout
disaggregation priced it before.

The first token reaches the client from the decode worker (`decode_first_token_s`, toggle
`DECODE_SIDE_FIRST_TOKEN`): SGLang's decode server takes the prefill's first token out of the transferred metadata
(sglang 0.5.8 srt/disaggregation/decode.py:742) when its scheduler loop finds the transfer done (`pop_transferred`,
polled once per loop pass, :772) and streams it from a "prebuilt" step, an idle forward in lock-step with the
other attention-DP ranks, run on that rank in place of its decode batch for that pass (:925-940, :947-998: a new
prebuilt batch is returned instead of the running batch; not modelled, each arrival costing its rank's running
sequences one step: at b sequences per rank and OSL 1024, b / 1023 of TPOT, 1-3 % on the Hopper SGLang rows;
the prebuilt result is streamed in srt/managers/scheduler_output_processor_mixin.py:47-64); NVIDIA Dynamo's
TensorRT-LLM prefill worker runs the prompt with max_tokens 1 as a context-only request and returns only its
disaggregated params to the frontend, which sends the request on to a decode worker as a generation-only request
whose tokens it streams (ai-dynamo 0.8.1 dynamo/trtllm/request_handlers/handlers.py:104-139, handler_base.py:
279-291). So TTFT holds the hand-off and the decode engine's pick-up: the KV's arrival, the rest of the decode
iteration in progress (half an iteration on average) and the iteration that emits the token,
`DECODE_PICKUP_ITERATIONS` = 1.5 of the request's own mean decode iteration ((finish - KV arrival) / decode
steps). TensorRT-LLM decode workers run the overlap scheduler (AIConfigurator 0.12.0 generator/rule_plugin/
trtllm.rule: `decode disable_overlap_scheduler = false`, the prefill workers `true`), which schedules iteration
i + 1 before iteration i's outputs are back, so a request whose KV has arrived joins the batch scheduled next and
runs one iteration later: `decode_pickup_iterations` 2.5 for the
`trtllm` engine (toggle `OVERLAP_PICKUP`; ASSUMPTION: the first generation-only response is taken to come with the
request's first generation iteration; TensorRT-LLM's executor is not readable here, the same schedule-ahead loop
is SGLang's `event_loop_overlap_disagg_decode`, sglang 0.5.8 srt/disaggregation/decode.py:860-894). SGLang's
prebuilt step carries no GPU work of its own, so its token leaves at 1.5. The decode engine's own admission of
the request (toggle `ADMISSION_FIRST_TOKEN`) replaces the half iteration's wait (`BOUNDARY_WAIT_ITERATIONS`): the
token leaves 1 (SGLang) or 2 (TensorRT-LLM) of the request's mean iteration after it joins the batch, so an idle
engine takes it at once and a wait for a free decode slot (a worker at its batch cap, below) is all in TTFT: no
token leaves a worker for a request it has not admitted. (Dynamo picks the TensorRT-LLM decode worker only after
the prefill returns, handlers.py:104-107, and hands it the context request's id and opaque state to fetch the KV
from, dynamo/trtllm/utils/disagg_utils.py:27-60; whether a worker at its cap pulls the KV before a slot frees is
not readable here, and the model moves it first; SGLang's decode server pre-allocates before the prefill sends,
srt/disaggregation/decode.py:189 `DecodePreallocQueue`.)

Router hops (`relay_s`): Dynamo's frontend sends the prompt to a prefill worker, waits for its result and then
sends the request to a decode worker (handlers.py:104-107 "Frontend routes to decode workers automatically"; its
vLLM decode worker likewise takes the prefill's result, dynamo/vllm/handlers.py:969-980), so a request passes a
worker's front end twice in series before its first token: the second pass delays the decode worker's arrival
(part of the hand-off, before the KV pull). Dynamo's SGLang decode worker is handed the prefill's bootstrap
address up front and pre-allocates while the prompt is computed (dynamo/sglang/request_handlers/llm/
decode_handler.py:106-118), and SGLang's own router dispatches to both servers at once (sglang-router's PD mode,
recalled, not re-read here): one pass. ASSUMPTION: the second pass costs the stack's whole front-end time per
request (`request_latency_s`, itself fitted on colocated rows; no published split between the HTTP / tokenizer
share, paid once, and the worker-side hand-off). Dynamo's frontend routes round-robin by default (ai-dynamo
0.8.1 dynamo/frontend/main.py:129-134 `--router-mode` default "round-robin"; AIConfigurator 0.12.0's generated
launch adds `--router-mode kv` only with `enable_router`, default false, generator/config/backend_templates/trtllm/
run.sh.j2:12,17), and an SGLang decode server spreads its requests over its attention-DP ranks round-robin
(sglang 0.5.8 srt/server_args.py:778-787, "PD decode: round_robin"; srt/managers/data_parallel_controller.py:
485-499). In the closed loop (toggle `ROUND_ROBIN_DECODE`, `serving.pair_loop`) the prefill results go to the
decode workers in turn in the order they are handed over, each worker's to its attention-DP ranks in turn
(SGLang) or to its least loaded rank (`LEAST_LOADED_RANK_ENGINES`, TensorRT-LLM: ASSUMPTION, its executor's
request queue balancing new requests over the attention-DP ranks by their active requests, recalled, not readable
here): the router is not told how many sequences a worker holds, so where outputs end at different lengths (early
end-of-sequence) one worker can be handed a request above its batch cap while another has a free slot, and the
request waits for a slot; client-sticky routing (each client on one decode engine) never does, round-robin with
equal output lengths neither. On the Hopper set: every row 23.32 -> 18.84 % (TTFT 33.82 -> 24.66, TPOT 12.81 ->
13.02); TensorRT-LLM's ranks in turn instead: 18.05 %. The prefill pool stays client-sticky (`ROUND_ROBIN_PREFILL`
off: a prefill engine has no batch cap that clients fill, so routing only reorders its queue; round-robin over the
prefill workers: 18.84 -> 19.40 %, their ranks in turn 18.05 -> 18.75 %, most of it on the attention-DP prefill
workers).

Closed loop over the pair (`serving.pair_loop`): client c sends its next request when its last one finishes
decoding (a one-token output: when its first token and KV have arrived); the prefill pool sees the arrivals, the
decode pool the prefill completions plus the transfer, routed client-sticky (client c on prefill engine c mod E_p,
and on decode engine c mod E_d with `ROUND_ROBIN_DECODE` off) or round-robin in hand-over order (above), so the
event order, and the answer, is deterministic. The two pools are
coupled through the clients: the arrival times are the fixed point of arrivals -> (prefill pool, transfer,
decode pool) -> finish times -> next arrivals. The fixed point is unique (every engine is causal and a request
takes time: the earliest arrival two solutions disagreed on would follow from finishes they agree on), and it is
found in one pass: every engine of both pools is stepped in one discrete-event loop (`pair_loop`), each engine
the same engine loop as a colocated run (`serving_engine`, `fcfs_loop`, driven through `loop_stepping`) reading an
arrival only once every earlier one is known. Measured in one process on the Hopper set's 28 rows: 1.7 s CPU
where iterating the fixed point (13-24 rounds of whole-pool simulations per row) took 5.8 s (2.9-3.4x over five
runs), the same TTFT and TPOT on every row to the bit; one client sending 2,000 requests: 0.03 s where the rounds
took 3.9-5.4 s (one round per request). Where the rounds stopped at their cap short of the fixed point (200
clients of a chat workload on 2 + 4 Llama 3 8B engines: arrivals still moving 0.2-0.5 s, mean TTFT / TPOT up to
7 % off), the one pass is the fixed point itself (tests/serving/test_disaggregated_loop.py checks it from its
definition: each request sent when the last one ended, each engine alone over its arrivals giving the same times).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.serving.deployment import moe_tp_ep
from infraplan.serving.engines import deployed_budget
from infraplan.serving.kv_cache import kv_bytes_per_token, kv_bytes_per_token_model, stage_layers
from infraplan.serving.llm_iteration import (
    Deployment,
    IterationCost,
    build_iteration_cost,
    check_deployment,
)


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
    --prefill-max-batch/--prefill-moe-tp/--prefill-token-budget` give it. None: TP, PP and the batch cap are the
    decode pool's; attention DP 1 and EP 1, or attention DP x TP / MoE TP when attention DP > 1 (the defaults of
    `--attention-dp` and `--ep`); MoE TP 1 (`serve --moe-tp` is the decode pool's; `--prefill-moe-tp` the prefill
    pool's, with --prefill-attention-dp > 1, as `--moe-tp` needs `--attention-dp`: `Deployment.moe_tp`); the token
    budget one prefill rank's: --token-budget where given, else the stack's on the pool's attention DP (hG73: SGLang's
    chunk // dp_size differs between a TP prefill pool and an attention-DP decode pool, and serve-plan's
    `serve_command` names the prefill pool's with this flag)."""

    tp: int | None = None
    pp: int | None = None
    ep: int | None = None
    attention_dp: int | None = None
    max_batch: int | None = None
    moe_tp: int | None = None
    token_budget: int | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.tp, self.pp, self.ep, self.attention_dp, self.max_batch,
                                           self.moe_tp, self.token_budget))

    @classmethod
    def read(cls, value: object) -> PrefillLayout | None:
        """`value` as a layout: itself, None, or a mapping of its fields (a sweep spec's `prefill: {tp: 2}`, a Python
        caller's dict: an AttributeError inside `estimate_serving` before, hW73), each a whole number >= 1 or null;
        else one line naming what it takes."""
        if value is None or isinstance(value, PrefillLayout):
            return value
        fields = tuple(f.name for f in dataclass_fields(cls))  # token_budget too (hM73: `prefill_token_budget`)
        takes = f"a PrefillLayout or a mapping of {', '.join(fields)} (each a whole number >= 1)"
        if not isinstance(value, dict):
            raise InputError(f"prefill takes {takes}, got {str(value)[:60]} ({type(value).__name__})")
        for key, v in value.items():
            if key not in fields:
                raise InputError(f"prefill takes {takes}: {str(key)[:40]!r} is none of them")
            if v is not None and (type(v) is not int or v < 1):
                raise InputError(f"prefill takes {takes}: {key} {str(v)[:40]} is not")
        return cls(**value)


def split_pools(shape: TransformerShape, accelerator: Accelerator, decode: Deployment, prefill_gpus: int,
                layout: PrefillLayout, token_budget: int | None = None) -> DisaggregatedDeployment:
    """The pair of `prefill_gpus` GPUs in `layout` and the decode deployment; one-line InputError if it cannot be.
    `token_budget`: one prefill rank's (--prefill-token-budget, else the stack's default on its attention DP,
    `ServingEngine.budget_of`); None: the decode deployment's. A default is raised to the pool's batch cap; a given
    --prefill-token-budget below it is refused, as --token-budget is."""
    tp = layout.tp or decode.tp
    pp = layout.pp or decode.pp
    adp = layout.attention_dp or 1
    moe_tp = layout.moe_tp or 1
    if prefill_gpus < 1:
        raise InputError("--prefill-tp/--prefill-pp/--prefill-ep/--prefill-attention-dp/--prefill-max-batch/"
                         "--prefill-token-budget/--prefill-moe-tp describe a prefill pool: give its --prefill-gpus")
    ep = moe_tp_ep(adp, tp, moe_tp, layout.ep or None, "prefill-")  # serve --moe-tp's rule, the prefill pool's words
    per_worker = tp * pp * adp
    if prefill_gpus % per_worker:
        raise InputError(f"--prefill-gpus {prefill_gpus} is not a multiple of the prefill worker's TP x PP x "
                         f"attention DP (--prefill-tp {tp} x --prefill-pp {pp} x --prefill-attention-dp {adp}) = "
                         f"{per_worker} GPUs")
    prefill = replace(decode, tp=tp, pp=pp, ep=ep, attention_dp=adp, moe_tp=moe_tp,
                      replicas=prefill_gpus // per_worker,
                      max_batch=layout.max_batch or decode.max_batch, speculative_tokens=0, acceptance=0.0)
    budget = token_budget or prefill.token_budget
    prefill = replace(prefill, token_budget=budget if layout.token_budget else deployed_budget(
        prefill.engine, budget, prefill.max_batch))
    try:
        check_deployment(shape, accelerator, prefill, pool="prefill-")
    except InputError as error:
        raise InputError(f"prefill pool: {error}") from None
    pair = DisaggregatedDeployment(prefill, decode)
    pair.check()
    return pair


def pool_layout(dep: Deployment, memory: dict[str, Any]) -> dict[str, Any]:
    """One pool's layout and memory as the result's `prefill` / `decode` entries say it."""
    return {"replicas": dep.replicas, "tp": dep.tp, "pp": dep.pp, "ep": dep.ep, "attention_dp": dep.attention_dp,
            "moe_tp": dep.moe_tp, "gpus": dep.gpus, "max_batch": dep.max_batch, "token_budget": dep.token_budget,
            **memory}


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


DECODE_SIDE_FIRST_TOKEN = True  # the client's first token leaves the decode worker (module docstring)
DECODE_PICKUP_ITERATIONS = 1.5  # half an iteration's wait for the boundary + the emitting iteration (ASSUMPTION)
OVERLAP_PICKUP = True  # TensorRT-LLM's overlap scheduler schedules one iteration ahead: +1 (module docstring)
SCHEDULE_AHEAD_ENGINES = ("trtllm",)  # decode engines whose new requests join the batch after the one scheduled
ADMISSION_FIRST_TOKEN = True  # the first token counts from the decode engine's admission (slot waits in TTFT)
ROUND_ROBIN_DECODE = True  # closed loop: prefill results to decode workers round-robin (module docstring)
ROUND_ROBIN_PREFILL = False  # closed loop: requests to prefill workers round-robin (off: module docstring)
LEAST_LOADED_RANK_ENGINES = ("trtllm",)  # a worker's attention-DP ranks take the least loaded first (docstring)
BOUNDARY_WAIT_ITERATIONS = 0.5  # the part of DECODE_PICKUP_ITERATIONS that is the wait for the iteration boundary


def least_loaded_ranks(dep: Deployment) -> bool:
    """Whether a worker of `dep` hands a request to its least loaded attention-DP rank (TensorRT-LLM, ASSUMPTION)
    rather than to its ranks in turn (SGLang's round-robin; module docstring)."""
    return dep.engine in LEAST_LOADED_RANK_ENGINES


def decode_pickup_iterations(decode: Deployment) -> float:
    """Decode iterations from a request's KV arrival to its first token leaving the decode worker: 1.5, one more
    under an overlap scheduler that schedules the next batch before the current one's outputs (module docstring)."""
    ahead = OVERLAP_PICKUP and decode.engine in SCHEDULE_AHEAD_ENGINES
    return DECODE_PICKUP_ITERATIONS + (1.0 if ahead else 0.0)


def decode_first_token_s(prefill_first_s: np.ndarray, kv_arrival_s: np.ndarray, finish_s: np.ndarray,
                         decode_steps: np.ndarray, output_tokens: np.ndarray,
                         pickup_iterations: float = DECODE_PICKUP_ITERATIONS,
                         admitted_s: np.ndarray | None = None) -> np.ndarray:
    """When each request's first token leaves the decode worker: its KV's arrival plus `pickup_iterations`
    (`decode_pickup_iterations` of the decode pool) of its own mean decode iteration (module docstring); a one-token
    output (no decode step) keeps the prefill's. `admitted_s` (the decode engine's admission of each request, NaN
    where none; toggle `ADMISSION_FIRST_TOKEN`): the wait for the iteration boundary and for a free slot is the
    engine's own, and the token leaves `pickup_iterations` - `BOUNDARY_WAIT_ITERATIONS` of the request's mean
    iteration after its admission. Never after the request's last token: a request with fewer decode steps than the
    pick-up (TensorRT-LLM's 2 at output 2) gets its first token with its last (hI73: it was placed after it, a
    negative TPOT and an end-to-end latency below the TTFT)."""
    first = np.asarray(prefill_first_s, dtype=np.float64)
    if not DECODE_SIDE_FIRST_TOKEN:
        return first
    steps = np.asarray(decode_steps, dtype=np.float64)
    decoded = (np.asarray(output_tokens) > 1) & (steps > 0)
    start = np.asarray(kv_arrival_s, dtype=np.float64)
    pickup = np.full(len(start), pickup_iterations)
    if ADMISSION_FIRST_TOKEN and admitted_s is not None:
        admitted = np.asarray(admitted_s, dtype=np.float64)
        known = np.isfinite(admitted)
        start = np.where(known, admitted, start)
        pickup = np.where(known, pickup_iterations - BOUNDARY_WAIT_ITERATIONS, pickup)
    finish = np.asarray(finish_s, dtype=np.float64)
    mean_step_s = (finish - start) / np.maximum(steps, 1.0)
    return np.where(decoded, np.minimum(start + pickup * mean_step_s, finish), first)


def without_decode_wait(first_s: np.ndarray, kv_arrival_s: np.ndarray, admitted_s: np.ndarray, finish_s: np.ndarray,
                        decode_steps: np.ndarray, output_tokens: np.ndarray,
                        pickup_iterations: float = DECODE_PICKUP_ITERATIONS) -> np.ndarray:
    """Each request's first token (`decode_first_token_s`'s `first_s`, with `admitted_s`) had the decode engine admitted
    it as its KV arrived: its KV's arrival plus `pickup_iterations` of its own mean iteration after admission (the
    expected wait for the iteration boundary, BOUNDARY_WAIT_ITERATIONS, kept), never later than `first_s`. The
    difference is its wait for a free slot (or KV blocks) at the decode engine: the part of its TTFT the decode pool's
    size sets (serve-plan's retry, `replica_search.grown`, hJ66)."""
    first = np.asarray(first_s, dtype=np.float64)
    admitted = np.asarray(admitted_s, dtype=np.float64)
    steps = np.asarray(decode_steps, dtype=np.float64)
    decoded = (np.asarray(output_tokens) > 1) & (steps > 0) & np.isfinite(admitted)
    mean_step_s = (np.asarray(finish_s, dtype=np.float64) - admitted) / np.maximum(steps, 1.0)
    unwaited = np.asarray(kv_arrival_s, dtype=np.float64) + pickup_iterations * mean_step_s
    return np.where(decoded, np.minimum(first, unwaited), first)


def relay_s(front_end_per_request_s: float, serial_front_ends: int) -> float:
    """Seconds a request spends in worker front ends between its prefill and its decode worker: every pass after
    the first (`serial_front_ends` 2 under a prefill-first router such as Dynamo's; module docstring)."""
    if serial_front_ends < 1:
        raise InputError(f"serial front ends must be at least 1, got {serial_front_ends}")
    return (serial_front_ends - 1) * front_end_per_request_s


def pool_costs(shape: TransformerShape, accelerator: Accelerator, fabric: Fabric,
               pair: DisaggregatedDeployment) -> tuple[IterationCost, IterationCost]:
    """Iteration costs of a prefill engine and a decode engine of the pair.

    A wide-EP prefill worker's ranks prefill together: loaded, every rank has a prompt in every iteration, so an
    iteration lasts as long as one rank's own. The colocated lock-step stall (`llm_iteration.
    wide_ep_prefill_stall`: the other ranks' prefills landing at other times, the low-load limit of a rank mixing
    prefill with decode) is taken back out of the prefill cost: its pair share (`pair_s` over `pair_flop_s`) and
    its per-token share, as the cost built it (its `extra` "stall": the body's marginal token and the iteration's
    per-prompt-token attention, `prefill_stall.wide_ep_prefill_stall`).
    """
    prefill = build_iteration_cost(shape, accelerator, fabric, pair.prefill)
    return prefill_pool_cost(prefill, pair.prefill), build_iteration_cost(shape, accelerator, fabric, pair.decode)


def prefill_pool_cost(cost: IterationCost, dep: Deployment) -> IterationCost:
    """`cost` of a prefill-pool engine of `dep` without the colocated lock-step stall (`pool_costs`)."""
    stall_token_s = float(cost.extra["stall"][0]) if "stall" in cost.extra else 0.0  # as built (`pool_costs`)
    if stall_token_s <= 0:
        return cost
    return replace(cost, pair_s=cost.pair_flop_s, per_prefill_token_s=max(cost.per_prefill_token_s - stall_token_s,
                                                                          0.0))
