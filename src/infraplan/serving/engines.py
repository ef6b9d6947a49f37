"""Serving stacks' engine conventions: how much memory the KV cache gets, the batch limits, the scheduler.

One concept: a serving STACK profile (`catalog/stacks/<name>.yaml`, kind serving: trtllm-0.x, vllm-0.x,
sglang-0.x, or a user's YAML) carries its engine's KV-memory rule, batch defaults and scheduling policy (its
`serving:` block) beside CUDA graphs and custom all-reduce; `load_engine` turns it into a `ServingEngine`.
A versioned name as benchmark logs write it (`vllm-0.12.0`, `trtllm-1.0.0rc3`, `sglang-0.5.9`) resolves to the
shipped profile of its engine family.

The three engines size their KV cache differently, and the difference is several GiB per GPU on Hopper:

* TensorRT-LLM: `KvCacheConfig.free_gpu_memory_fraction` (`kv_cache_free_gpu_mem_fraction` in trtllm-bench and
  the LLM API; default 0.9) is a fraction of the memory FREE after the weights, the runtime buffers and the
  activation workspace are allocated (TensorRT-LLM docs, "Useful runtime flags" / KV cache management):
  `kv = 0.9 * (total - weights - workspace - reserve)`.
* vLLM: `gpu_memory_utilization` (default 0.9) is a fraction of the TOTAL memory that the instance may use for
  weights, the profiled peak activations and the KV cache (vLLM engine arguments docs):
  `kv = 0.9 * total - weights - workspace - reserve`.
* SGLang: `mem_fraction_static` is the static pool's share, weights plus KV cache, of the memory free before the
  weights load (the server arguments docs say of the total; model_runner.py applies it to the free memory, below);
  activations and CUDA graphs live in the rest. Its default is computed from the
  GPU memory and TP x PP, by a rule that changed in 0.5.6 (`serving.sglang_memory`, `mem_fraction_rule` in the
  stack: H100 TP1 0.874 in 0.5.1.post1, 0.835 from 0.5.6.post2; H200 0.911 / 0.907), applied to the memory free
  before the weights load: `kv = f * (total - reserve) - weights` (`sglang_memory.static_pool_bytes`).
  A stack without the rule takes `kv_memory_fraction` / `kv_fraction_by_tp` (the 0.4 series: 0.88 at TP1 .. 0.79
  at TP16).

Batch limits (the engine's defaults, which an offline max-throughput run uses unless told otherwise):
TensorRT-LLM's `max_batch_size` defaults to 2048 and `max_num_tokens` to 8192 (trtllm-build / LLM API
BuildConfig defaults, also what trtllm-bench throughput starts from); vLLM V1 on GPUs with >= 70 GiB sets
`max_num_seqs` 1024 (`EngineArgs._set_default_args_v1`); SGLang leaves `max_running_requests` unset and sizes
it from its KV pool, modelled as 4096 (ASSUMPTION: its request-to-token pool cap), so the KV cache binds first.
The chunked-prefill budget is 8192 tokens for all three (TensorRT-LLM max_num_tokens, vLLM's server
max_num_batched_tokens, SGLang chunked_prefill_size on 80 GB GPUs).

KV admission (`kv_admission`, `preemption`; the engine loop is `serving.serving_engine`):
* TensorRT-LLM: `reserve_full`. Its default capacity scheduler `GUARANTEED_NO_EVICT` starts a request only when
  the KV cache can hold its prompt and its maximum output (TensorRT-LLM docs, "KV cache / capacity scheduler
  policy"); nothing is ever evicted.
* vLLM: `on_demand` + `recompute`. KV blocks are allocated as tokens are scheduled; when a running request cannot
  get a block the scheduler preempts the lowest-priority running request, the most recently scheduled one under
  FCFS, frees its blocks and puts it at the front of the waiting queue; V1 preempts by recomputation (vLLM docs,
  "Optimization and tuning: Preemption"; vllm/v1/core/sched/scheduler.py `self.running.pop()`).
* SGLang: `on_demand` + `recompute`. The token pool is allocated per token and, when a decode step runs out of
  memory, `retract_decode` moves running requests back to the waiting queue to be prefilled again
  (python/sglang/srt/managers/schedule_batch.py). Its admission keeps room for the new request's output and a
  share (`new_token_ratio`) of the running requests' remaining output: its schedulers' rule, `serving.output_reserve`
  (hV68). ASSUMPTION: its retraction order (fewest decoded tokens first) is modelled as vLLM's (newest first).

Where an engine runs (`runs_on`, `default_on`, `vendor_kernels`) and the one place an answer's stack is chosen
(`serving_stack_for`): `serving.stack_placement`.

Engine facts (`kv_cache_dtypes`, `weight_formats`, `cuda_graph_scope`, `speculative_decoding`, `activation_quant`,
`custom_all_reduce_world_sizes`: what a stack YAML states, else its engine family's shipped profile) and the
shipped serving stacks by name (`serving_stacks`, `family_stack`, `shipped_profile`): `serving.engine_facts` (moved
out of this module unchanged, hL76).

Front-end time per request (`request_latency_s`): what a benchmark client's TTFT holds beside the engine loop,
the OpenAI-compatible HTTP server, tokenization, the hand-off to the engine's scheduler process and streaming
the first token back (trtllm-serve, vLLM's API server, SGLang's tokenizer manager run these outside the engine
loop). ASSUMPTION, no published figure per stack: taken from the Hopper serving sets' own lowest loads (the scored
rows of <= 8 sequences per engine of both the dense and the MoE set, the median of measured minus modelled TTFT with
the front-end time left out; the rule is `validation.serving_host_fits.fit_front_ends`, "stack/<engine>", and a test
keeps every serving stack YAML within max(3 ms, 5 %) of it): TensorRT-LLM 0.080 s (170 rows, quartiles
0.04-0.18 s; 0.089 s before the closed loop's first wave was sent in client order, `serving.client_loop.first_wave`,
2026-12-04), SGLang 0.181 s (24 rows, 0.08-0.29 s), vLLM 0.014 s (121 rows, -0.008-0.053 s; 0.011 s from 130 rows
until session 67, hV2: vLLM's one attention call, `serving.decode_kernels.mixed_shared_s`), refitted 2026-12-02
~23:40 with the closed loop's client round trip on (`serving.client_loop`; before it 0.120 / 0.239 / 0.022 s; first
set at 0.12 / 0.20 / 0.03 s from 176 / 35 / 139 rows): calibrated on the sets, so these rows are not an
independent check of it. The simulator (`serving.serving_sim.simulate_deployment`) adds it to every request's TTFT
and end-to-end latency: `serve`, the capacity search and the validation see the same figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, FractionRule, ServingProfile, Stack, list_stacks, load_stack
from infraplan.errors import InputError
from infraplan.network.collective_algorithms import custom_all_reduce_runs
from infraplan.ops.precision import SERVING_FORMATS
from infraplan.serving.engine_facts import (
    budget_tiers,
    custom_all_reduce_world_sizes,
    family_stack,
    serving_stacks,
    stated_fact,
    weight_formats,
)
from infraplan.serving.sglang_memory import mem_fraction_static, static_pool_bytes

KvConvention = Literal["free_after_weights", "of_total", "static_of_total"]
KvAdmission = Literal["reserve_full", "on_demand"]
Preemption = Literal["none", "recompute"]


@dataclass(frozen=True)
class ServingEngine:
    """One serving stack's KV-memory rule, batch limits and policies (see the module docstring for the sources).

    `name` is the stack profile (`vllm-0.x` or a YAML path), `engine` its family (trtllm | vllm | sglang).
    """

    name: str
    kv_convention: KvConvention
    kv_memory_fraction: float
    offline_max_batch: int
    token_budget: int = 8192
    # SGLang's static fraction by TP (smallest TP first): (TP at least, fraction)
    fraction_by_tp: tuple[tuple[int, float], ...] = ()
    engine: str = "trtllm"
    scheduler: str = "fcfs"
    cuda_graphs: bool = True
    custom_all_reduce: bool = False
    ref: str = ""
    kv_admission: KvAdmission = "reserve_full"
    preemption: Preemption = "none"  # what `load_engine` resolves it from again: the shipped name or the YAML path
    request_latency_s: float = 0.0  # front-end time per request in a client's TTFT (module docstring)
    fraction_rule: FractionRule = "by_tp"  # SGLang's release rule for its fraction (`serving.sglang_memory`)
    custom_all_reduce_world_sizes: tuple[int, ...] = ()  # TP sizes its custom all-reduce runs at; (): any in a domain
    custom_all_reduce_one_host: bool = False  # its custom all-reduce needs every TP rank on one host
    # the serving weight formats its kernels run, and where its YAML says so ("": its engine family's, `weight_formats`)
    weight_formats: tuple[str, ...] = tuple(SERVING_FORMATS)
    weight_formats_source: str = ""
    # the default token budget by GPU memory: (bytes at least, tokens), smallest first (`budget_on`)
    token_budget_by_memory: tuple[tuple[float, int], ...] = ()
    # each attention-DP rank runs the budget / its ranks (`token_budget_split_by_attention_dp`, `budget_on`)
    budget_split_by_attention_dp: bool = False
    # with attention DP its output-reserve ratio is this times its own (`output_reserve_scale_by_attention_dp`, hG73)
    reserve_scale_by_attention_dp: float = 1.0

    def budget_on(self, memory_bytes: float, attention_dp: int = 1) -> int:
        """The engine's default token budget of one attention-DP rank on a GPU of `memory_bytes`: the stack's tier
        for that memory (`token_budget_by_memory_gib`, SGLang's chunked_prefill_size by GPU memory), else
        `token_budget` (a stack without tiers, or memory unknown: <= 0); where the stack splits it over its
        `attention_dp` ranks (`token_budget_split_by_attention_dp`, SGLang's `chunked_prefill_size // dp_size`),
        the quotient, at least 1."""
        budget = self.token_budget
        for at_least, tokens in self.token_budget_by_memory if memory_bytes > 0 else ():
            if memory_bytes >= at_least:
                budget = tokens
        return max(1, budget // attention_dp) if self.budget_split_by_attention_dp else budget

    def budget_of(self, given: int | None, memory_bytes: float, attention_dp: int = 1, max_batch: int = 1) -> int:
        """One attention-DP rank's token budget as `serve` deploys it: `given` (a --token-budget is one rank's), else
        `budget_on`, raised to the batch cap `max_batch` where the budget holds the decode batch's tokens too
        (`deployed_budget`: vLLM; SGLang's chunk caps a prefill batch alone, hS76); TensorRT-LLM's default is kept and
        caps the sequences an iteration runs instead (`token_cap`, `serving.raised_budget.iteration_batch`)."""
        if given is not None:
            return given
        own = self.budget_on(memory_bytes, attention_dp)
        return own if token_cap(self.engine) else deployed_budget(self.engine, own, max_batch)

    def custom_all_reduce_at(self, group: float, host: int = 0) -> bool:
        """Whether the engine runs its custom all-reduce for a TP group of `group` ranks: it has one, and the group
        is one of its `custom_all_reduce_world_sizes` (vLLM / SGLang: 2, 4, 6, 8; NCCL otherwise), or it lists none
        (`network.collective_algorithms.custom_all_reduce_runs`; its toggle `CUSTOM_ALL_REDUCE_WORLD_SIZES` off: any
        size, as before hI58), and where the engine needs every rank on one host (`custom_all_reduce_one_host`) the
        group fits one of `host` GPUs (`Fabric.host_accelerators`; 0: unknown, the domain stands for the host; toggle
        `CUSTOM_ALL_REDUCE_ONE_HOST`, hI59). Inside one scale-up domain and below the buffer:
        `collective_algorithms.custom_all_reduce_time`."""
        return self.custom_all_reduce and custom_all_reduce_runs(self.custom_all_reduce_world_sizes, group,
                                                                 host if self.custom_all_reduce_one_host else 0)

    def memory_fraction(self, tp: int, total_bytes: float = 0.0, pp: int = 1, dp: int = 1,
                        drafts: bool = False) -> float:
        """The KV-memory fraction at TP `tp`: the stack's table, or its SGLang release's rule on a GPU of
        `total_bytes` (`pp`, `dp` attention-DP ranks, `drafts`: `serving.sglang_memory.mem_fraction_static`)."""
        if self.fraction_rule != "by_tp":
            return mem_fraction_static(self.fraction_rule, total_bytes, tp * dp, pp, dp, drafts)
        fraction = self.kv_memory_fraction
        for at_least, value in self.fraction_by_tp:
            if tp >= at_least:
                fraction = value
        return fraction

    def usable_bytes(self, total_bytes: float, tp: int, pp: int = 1, dp: int = 1) -> float:
        """Memory the engine may use for weights, workspace, reserve and KV cache together."""
        if self.kv_convention != "of_total":
            return total_bytes
        return self.memory_fraction(tp, total_bytes, pp, dp) * total_bytes

    def kv_cache_bytes(self, total_bytes: float, weights_bytes: float, workspace_bytes: float,
                       reserve_bytes: float, tp: int, pp: int = 1, dp: int = 1, drafts: bool = False) -> float:
        """Bytes per GPU the engine gives its KV cache (may be negative: nothing fits); `drafts`: speculative
        decoding's reservation in SGLang's fraction rule (`memory_fraction`)."""
        f = self.memory_fraction(tp, total_bytes, pp, dp, drafts)
        if self.kv_convention == "free_after_weights":
            return f * (total_bytes - weights_bytes - workspace_bytes - reserve_bytes)
        if self.kv_convention == "of_total":
            return f * total_bytes - weights_bytes - workspace_bytes - reserve_bytes
        # static pool: weights + KV inside the fraction of the memory free before the weights
        return static_pool_bytes(f, total_bytes, weights_bytes, workspace_bytes, reserve_bytes)


SGLANG_CHUNK_BUDGET = True  # SGLang's chunked_prefill_size caps a prefill batch, not the decode batch (hS76)


def chunk_budget(engine: str) -> bool:
    """Whether the engine's token budget caps a prefill batch's tokens alone, its decode batch capped by the batch
    cap only: SGLang, whose PrefillAdder takes `chunked_prefill_size` as the chunk's room (less the running batch
    only with --enable-mixed-chunk) and whose decode batch is every running request up to max_running_requests
    (sglang 0.5.9 srt/managers/scheduler.py:2030-2043, schedule_policy.py:372-403, 494-519; toggle
    `SGLANG_CHUNK_BUDGET`; off: the one budget of session 75, a prefill chunk as long as the batch cap)."""
    return SGLANG_CHUNK_BUDGET and engine == "sglang"


TRTLLM_TOKEN_CAP = True  # TensorRT-LLM's max_num_tokens caps an iteration's sequences at its default (hS76)


def token_cap(engine: str) -> bool:
    """Whether the engine's default token budget caps the sequences an iteration runs, a batch cap above it run
    that many at a time (TensorRT-LLM's max_num_tokens: `serving.raised_budget.iteration_batch`; toggle
    `TRTLLM_TOKEN_CAP`; off: priced as a launch raising it to the batch cap, as before hS76)."""
    return TRTLLM_TOKEN_CAP and engine == "trtllm"


def deployed_budget(engine: str, budget: int, max_batch: int) -> int:
    """The token budget a deployment of batch cap `max_batch` runs at `budget`: the budget itself where it caps the
    prefill alone (`chunk_budget`), else at least the cap (an iteration holds one token of each running sequence
    within its budget; `serving.raised_budget` says it)."""
    return budget if chunk_budget(engine) else max(budget, max_batch)


def engine_of_stack(stack: Stack, ref: str | None = None) -> ServingEngine:
    """The engine conventions of a serving stack profile (InputError if it has none)."""
    if stack.kind != "serving" or stack.serving is None:
        raise InputError(f"stack {stack.name} is a {stack.kind} stack without a `serving:` block; serving takes "
                         f"one of {', '.join(serving_stacks())} or a serving stack YAML")
    p = stack.serving
    if (p.kv_admission == "on_demand") != (p.preemption == "recompute"):
        raise InputError(f"stack {stack.name}: kv_admission {p.kv_admission} with preemption {p.preemption}; "
                         "on_demand needs preemption recompute, reserve_full preemption none")
    return ServingEngine(stack.name, p.kv_convention, p.kv_memory_fraction, p.offline_max_batch, p.token_budget,
                         tuple(sorted(p.kv_fraction_by_tp)), p.engine, p.scheduler, stack.cuda_graphs,
                         stack.custom_all_reduce, ref or stack.name, p.kv_admission, p.preemption,
                         p.request_latency_s, p.mem_fraction_rule, custom_all_reduce_world_sizes(p),
                         bool(stated_fact(p, "custom_all_reduce_one_host")), *weight_formats(p),
                         budget_tiers(p), bool(stated_fact(p, "token_budget_split_by_attention_dp")),
                         reserve if isinstance(reserve := stated_fact(p, "output_reserve_scale_by_attention_dp"), float)
                         else 1.0)


def versioned_name_note(ref: str | None) -> list[str]:
    """The note a versioned engine name gets (`vllm-0.12` runs the shipped vllm-0.x profile: one profile ships per
    engine family, not per release), so a user who typed a release is told which profile priced the answer; [] for
    a shipped stack's name, a file, or None."""
    if ref is None or ref in list_stacks() or ref.endswith((".yaml", ".yml")) or "/" in ref:
        return []
    family = family_stack(ref)
    if family is None:
        return []
    return [f"--stack {ref}: no profile of that release ships; the {family} profile priced this answer (one "
            "profile per engine family; give a stack YAML with `extends: " + family + "` to change its settings)"]


def serving_profile(ref: str) -> ServingProfile | None:
    """The `serving:` block of the stack a serving stack reference resolves to (`load_engine`)."""
    return load_stack(load_engine(ref).ref).serving


def load_engine(ref: str | Stack | ServingEngine | None) -> ServingEngine:
    """A serving stack by name, versioned engine name or YAML path (None: the default stack), as its engine."""
    if isinstance(ref, ServingEngine):
        return ref
    if isinstance(ref, Stack):
        return engine_of_stack(ref)
    ref = ref or DEFAULT_SERVING_STACK
    if ref in list_stacks() or ref.endswith((".yaml", ".yml")) or "/" in ref:
        return engine_of_stack(load_stack(ref), ref)
    family = family_stack(ref)
    if family is None:
        raise InputError(f"unknown serving stack {ref!r}; choose from {', '.join(serving_stacks())}, a versioned "
                         "engine name (vllm-0.12.0 picks vllm-0.x) or a serving stack YAML")
    return engine_of_stack(load_stack(family))


ENGINES: dict[str, ServingEngine] = {e.engine: e for e in map(load_engine, ("trtllm", "vllm", "sglang"))}
DEFAULT_ENGINE = DEFAULT_SERVING_STACK
ONLINE_MAX_BATCH = 256  # online default sequences per engine, as before (vLLM V0's max_num_seqs)


def changed_engine_settings(engine: ServingEngine, max_batch: int, default_batch: int, token_budget: int,
                            speculative_tokens: int = 0, prefill_max_batch: int | None = None,
                            memory_bytes: float = 0.0, attention_dp: int = 1,
                            prefill: dict[str, int] | None = None) -> list[str]:
    """The engine settings of a deployment that are not what `serve` runs on `engine` without the flags (batch cap
    `default_batch`: ONLINE_MAX_BATCH online, the stack's offline_max_batch offline or closed-loop; its token budget
    on a part of `memory_bytes`, one of `attention_dp` ranks', `ServingEngine.budget_of`; no draft tokens), as the
    flags that set them: the answer's band then is not the default stack's re-run rows'
    (`catalog.answer_bands.serving_band_stack`, hN42). `prefill`: a disaggregated prefill pool's layout (its
    `token_budget`, `attention_dp`, `max_batch`), whose budget has its own ranks' default (hG73)."""
    changed = [f"--max-batch {max_batch} (default {default_batch})"] if max_batch != default_batch else []
    if prefill_max_batch is not None and prefill_max_batch != default_batch:
        changed.append(f"--prefill-max-batch {prefill_max_batch} (default {default_batch})")
    if token_budget != (default_budget := engine.budget_of(None, memory_bytes, attention_dp, max_batch)):
        changed.append(f"--token-budget {token_budget} (default {default_budget})")
    if prefill is not None and prefill["token_budget"] != (default_budget := engine.budget_of(
            None, memory_bytes, prefill["attention_dp"], prefill["max_batch"])):
        changed.append(f"--prefill-token-budget {prefill['token_budget']} (default {default_budget})")
    if speculative_tokens:
        changed.append(f"--speculative-tokens {speculative_tokens} (default 0)")
    return changed
