"""Serving validation on measured Hopper runs: closed-loop TTFT and TPOT by backend and version.

The set (`data/serving_measured_hopper.csv`) is NVIDIA AIConfigurator's silicon sample (Apache-2.0 data):
aggregated (colocated) serving of Llama 3.1 8B / 70B and Qwen3 32B on H100 SXM and H200 SXM, run by
TensorRT-LLM, vLLM and SGLang, each row a closed-loop benchmark of `batch_size` concurrent clients at a fixed
ISL/OSL with the measured mean TTFT and TPOT. Every row runs through `simulate_deployment` in closed-loop mode
(`clients` = the row's concurrency) with the row's TP/PP, precision and the serving stack its backend and version
ran (`row_stack`: `vllm-0.12.0` -> the vllm-0.x profile: KV-memory convention, batch limits, scheduler, custom
all-reduce; `serving.engines`); one set of catalog parameters for every row, no per-case factors. Every engine
runs mixed chunked prefill ("fcfs", `serving.schedulers`), SGLang as the campaign configured it (below).

Campaign engine limits (`CAMPAIGN_LIMITS`, `campaign_limits`; toggle False for the stacks' defaults). The sample's
engines were configured by AIConfigurator's generator, not left at their defaults, and the generator's rules for an
aggregated worker of config batch size b (the row's `batch_size`) are published with it (aiconfigurator on PyPI,
Apache-2.0; read here in 0.2.0 `cli/backends/trtllm.py:113`, 0.4.0 `generator/backends/trtllm.py:140`, 0.5.0 /
0.7.0 / 0.12.0 `generator/rule_plugin/{trtllm,vllm,sglang}.rule`): TensorRT-LLM max_batch_size = b and
max_num_tokens = b + ISL + 1500 (every version to 0.7.0, rounded up to 32-token blocks from 0.7.0; 0.12.0's default
rule has + 500, its benchmark rule + 1500), so an iteration holds the decode batch and about one prompt, not the
8192-token default's eight 1024-token prompts; vLLM max_num_batched_tokens = b + ISL + 1500 and max_num_seqs 512
(2 b from 512); SGLang max_prefill_tokens = ISL + 1500 (inside its 8192-token chunked_prefill_size),
max_running_requests as vLLM's and `--enable-mixed-chunk` for aggregated workers (sglang.rule from 0.7.0; SGLang's
own default is off, server_args.py `enable_mixed_chunk: bool = False` in 0.5.1.post1 and 0.5.6.post2): the
`data/stacks/sglang-0.x-mixed-chunk.yaml` profile, the shipped sglang-0.x with the mixed PrefillAdder. The MoE set takes
its deployments from `row_deployment`, so the same rule covers its rows. ASSUMPTION: every campaign ran the
generator's rules as above; the sample does not say which generator version configured each campaign.
Measured by toggling (mean |error| TTFT / TPOT / both): dense 40.7 / 14.6 / 27.6 -> 35.2 / 15.9 / 25.5 %; MoE set
(every row) 28.6 / 14.2 / 21.4 -> 26.7 / 14.0 / 20.3 %; by campaign: the notes file ("Campaign limits").
SGLang by version (`SGLANG_DEFAULT_FLAG_VERSIONS`, toggle `SGLANG_BY_VERSION`): no generator rule configured the
SGLang 0.5.1.post1 campaign. AIConfigurator shipped its 0.5.1.post1 perf database (`systems/data/h100_sxm/sglang/`)
in 0.3.0 (2025-10-24) and 0.4.0 (2025-11-17), whose SGLang generator backend is an empty stub (0.4.0
`generator/backends/sglang.py`, 7 lines); 0.5.0 (2026-01-06) swapped it for 0.5.6.post2, its `sglang.rule:4` sets
max_prefill_tokens but its `cli_args.0.5.1.post1.j2` passes neither that nor mixed chunk; `agg enable_mixed_chunk =
true` arrives in 0.6.0 (2026-02-12, `sglang.rule:5`), the first with a 0.5.6.post2 template (0.5.8: 0.7.0). So the
0.5.1.post1 rows run SGLang's defaults, the shipped sglang-0.x: prefill-first (0.5.1.post1 `scheduler.py:1499-1502`
"Run prefill first if possible"; mixed only with the flag, `:1660`), prefill batches of chunked_prefill_size = 8192
tokens (`schedule_policy.py:288-291, 360-363`; max_prefill_tokens 16384 does not bind), max_running_requests sized
by the pool (4096). ASSUMPTION: 0.5.1.post1 measured with the releases carrying its database, later campaigns with
the generator of their first template. Toggled (TTFT / TPOT / both): dense 34.8 / 15.8 / 25.3 -> 29.7 / 14.0 / 21.9
%, SGLang 0.5.1 TTFT 67 (median -73) -> 16 % (-14), TPOT 35 (+33) -> 17 % (+17); the other sets have no such rows.
SGLang's KV pool by release (`serving.sglang_memory`, read in the 0.5.1.post1 / 0.5.6.post2 / 0.5.8.post1 / 0.5.9
wheels): the shipped sglang-0.x sizes mem_fraction_static by the 0.5.6+ rule (H100 TP1 0.835, H200 0.907), the
0.5.1.post1 rows run `data/stacks/sglang-0.5.1.yaml` (`RELEASE_STACKS`: its GPU-memory-tier rule, H100 TP1 0.874,
and its 160-sequence CUDA-graph capture on H100). Toggled (the 0.4-series TP table before): dense 21.27 -> 21.20 %,
SGLang 0.5.8.post1 Qwen3-32B TP1 TTFT 96 -> 88 %, TPOT 43 -> 33 % (KV 9.1 -> 5.5 GiB); other sets unchanged.
SGLang weights in the checkpoint's dtype (`weight_dtype`, toggle `SGLANG_CHECKPOINT_DTYPE`): SGLang quantises only
when told (0.5.6.post2 server_args.py:275 `quantization: Optional[str] = None`, set from the checkpoint's
quantization_config, :1088-1104 / :1259-1306, none for Llama) and no AIConfigurator SGLang template passes
--quantization (0.5.0-0.12.0 generator/config/backend_templates/sglang/cli_args.<version>.j2, run.sh.j2:
--model-path only), so the 0.5.6.post2 "fp8" campaign of meta-llama/Llama-3.1-8B-Instruct (a bf16 checkpoint)
ran bf16 weights with its fp8 KV cache (--kv-cache-dtype; fp8_e5m2 in the 0.5.0 / 0.6.0 sglang.rule, which moves
SGLang off FA3 to its Triton attention backend, server_args.py:1481-1486: not priced, no figure). Toggled: dense
21.02 -> 20.75 %, that campaign TTFT median / mean |error| -28 / 43 -> -11 / 39 %, TPOT -31 / 29 -> -13 / 24 %; the
MoE set (its own dtypes), disaggregated and MLPerf sets unchanged. ASSUMPTION: the engine served the checkpoint the
row names. Against it: the TensorRT-LLM 1.0.0rc3 "fp8" rows also name a bf16 checkpoint (Qwen/Qwen3-32B) and match
fp8 weights (TPOT -12 %; +25 % in bf16), and the SGLang OSL-100 rows' TPOT turns +20-60 % (mixed-chunk stalls of
bf16 prompts); for it: the same campaign names nvidia/Llama-3.1-8B-Instruct-FP8 where vLLM served fp8, and the
SGLang low-load TTFT (a prefill's speed) sits near bf16 (TP1 ISL 8000, 20 clients: 712 ms, bf16 619, fp8 474).
TensorRT-LLM's KV pool on the generator's Dynamo workers (`DYNAMO_TRTLLM_KV`): its engine template passes
kv_cache_config.free_gpu_memory_fraction with default 0.80 (0.2.0 `cli/templates/trtllm/dynamo/extra_engine_args.
1.0.0rc3.yaml.j2:27`; every TensorRT-LLM template of 0.2.0 - 0.12.0; no generator rule sets it), against
TensorRT-LLM's 0.9: the rows served through Dynamo (`serving_row_rules.served_by_dynamo`) run
`data/stacks/trtllm-0.x-dynamo-agg.yaml`, the shipped profile at 0.80 (round 9: dense 19.83 -> 19.80 %; notes).
The same template passes `enable_chunked_prefill: false` (ibid. :19, `| default(false)`; every TensorRT-LLM template
to 0.12.0, no generator rule sets it): both Dynamo TensorRT-LLM profiles run `serving.schedulers` "fcfs-whole", a
prompt joins an iteration whole or waits (toggle: their `scheduler` field). Round 16, one tree: dense 20.09 -> 20.29 %
(TTFT 27.59 -> 28.20, TPOT 12.60 -> 12.37; 1.0.0rc3 Llama-8B TTFT 36.5 -> 34.7 %, Qwen3-32B TTFT 21.6 -> 26.5 %,
TPOT 12.9 -> 11.6 %), MoE 15.58 -> 15.61 %, other sets unchanged: sourced and worse, on by the lead's policy.
Release kernels (round 10; notes): vLLM 0.12.0's decode attention as AIConfigurator 0.7.0 measured that release
(`data/stacks/vllm-0.12.yaml`, `serving.decode_kernels` toggle `RELEASE_DECODE_ATTENTION`: its fp8 cache read at
0.48 / 0.61 of HBM on H200 / H100): dense 19.80 -> 20.05 % (vLLM Qwen3-32B TPOT 7.3 -> 5.1 %, Llama-8B fp8 82 ->
102 %), MoE 15.76 -> 15.70 %; TensorRT-LLM 1.0.0rc3's GEMM rates (`serving.llm_iteration`, hT52: dense 20.90 ->
20.05 %, per-tensor fp8 only). Not adopted: prefix-cache hits of a client reusing aiperf's 100
prompts (`validation.serving_prefix_reuse`; with both rules: dense 17.21 %, MoE 16.46 %). The 1.0.0rc3 rows' TP
all-reduce is bounded by that release's measured AllReduce (`serving.release_tables`, round 18: dense 20.89 ->
20.85 %, MoE 15.19 -> 15.23 %). The same source contradicts two client ASSUMPTIONS below: AIConfigurator's harness
(0.2.0 `eval/benchmarks/genai_perf_runner.py:118-121`, 0.4.0 and 0.12.0 `bench_run.sh.j2`) runs aiperf / genai-perf
with `ignore_eos: true` (and min_tokens = max_tokens = OSL), `--warmup-request-count` 2 x concurrency (excluded from
its statistics) and 10 (20 from 0.12.0) requests per client. Run that way (no early stops, the first 2 x
concurrency requests left out, 10 per client after them) the model is further off (dense 30.9 %, MoE 25.7 %; no
early stops alone 27.4 / 21.0 %) before round 7; with SGLang 0.5.1 at its defaults the early stops are dropped
on the rows that harness measured (`stop_per_token`, below); the start-up wave stays in the means: aiperf drains
the warm-up before it bursts the c profiled clients at once (0.3.0 timing/credit_issuing_strategy.py:129-160), one
request after another: the product's first wave (`serving.client_loop.first_wave`), which `run_row` goes through.

ASSUMPTIONS, stated: fp8 rows keep an fp8 KV cache (the engines' fp8 recipes for these checkpoints), bf16 rows a
bf16 one; each client sends `REQUESTS_PER_CLIENT` = 10 requests (eval pipeline: --request-count 10 c, above; bench_run
rows 50, `serving_prefix_reuse.requests_per_client`), means over every request; Llama 3.1 = Llama 3, 128k context.

Two client-side mechanisms, each one rule for every row of this set and the MoE set (toggle: `STOP_PER_TOKEN` = 0,
`FRONT_END` = False):
* Early stops desynchronise the clients. With fixed lengths closed-loop clients stay in lock-step waves (they
  start together, finish together, prefill together), and the OSL changes nothing; measured TTFT at OSL 8192 is
  2-4x lower than at OSL 1024 for the same clients (TensorRT-LLM Llama-70B fp8, one H200, 8 clients: 221 vs
  634 ms). ASSUMPTION (contradicted by the campaign's harness, which sets ignore_eos: above; kept as a fitted
  stand-in for the desynchronisation the lock-step model lacks): the clients do not force `ignore_eos` (vLLM's
  benchmark_serving and genai-perf leave it off by default), so an output ends at the first end-of-sequence token,
  sampled with probability `STOP_PER_TOKEN` per token (`serving.workloads.fixed_requests`): a 1024-token output
  runs to the end 90 % of the time, an 8192-token one 44 %, so completions, and requests, spread with the OSL.
  The value 1e-4 is the best of 1e-5 / 3e-5 / 1e-4 / 3e-4 on this set (fitted, one global number).
  Round 7 (`HARNESS_IGNORE_EOS`, `stop_per_token`): the rows of AIConfigurator's gap-analysis campaign (their
  `silicon_data_source`; 601 of 778) ran under its own harness, which forces the OSL in every release (0.3.0
  `eval/benchmarks/genai_perf_runner.py:200`, 0.4.0-0.6.0 `:214-219`: max_tokens = min_tokens = OSL,
  `ignore_eos:true`; 0.7.0 / 0.12.0 `benchmark/bench_run.sh.j2:33 / :94`, aiperf `--extra-inputs
  ignore_eos:true`): no early stops there; the fitted stops stay for the other sources
  (unversioned 2026-04-06 rows, harness unstated) and the MoE set (no source column). Toggled, after the SGLang
  rule: dense 21.9 -> 21.3 % (SGLang 0.5.1 TPOT 17 -> 4 %; vLLM 0.12 Qwen3 TTFT 20 -> 17 %; TensorRT-LLM
  1.0.0rc3 Qwen3 TPOT 10 -> 12 %); MoE and disaggregated sets unchanged.
* A front-end time per request (HTTP server, tokenizer, scheduler hand-off, first token streamed back), a
  property of the serving stack (`request_latency_s` in its YAML, `serving.engines`), added to TTFT.
* The client's round trip from a request's last token to its next request reaching the engine
  (`CLIENT_ROUND_TRIP_S` = `serving.client_loop.CLIENT_ROUND_TRIP_S`, 1 ms; > 0 by aiperf 0.3.0's credit path and
  vLLM 0.12.0's engine loop). Any value keeps the start-up waves that the measured TTFT / single-prefill ratios show;
  on at 1 ms with the front ends refitted by their rule (2026-12-02, sourced mechanism on whichever way a set
  moves): dense 20.85 -> 21.79 %, MoE 15.22 -> 14.90 %, disaggregated 14.43 -> 14.10 % (notes round 19).
Rules rejected, analyses: `validation/notes/serving_hopper_tried.md`; a held slot: `validation.serving_row_rules`.

Its report (the gate, the fitted-roofline baseline, the rows not run): `validation.serving_hopper_report`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.serving import client_loop
from infraplan.serving.engines import deployed_budget, load_engine
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost
from infraplan.serving.serving_sim import front_end_s, held_sequences, pool_memory, simulate_deployment
from infraplan.serving.workloads import fixed_requests
from infraplan.validation import campaign_settings
from infraplan.validation.release_stacks import (  # noqa: F401  (re-exported: one mapping, `release_stacks`)
    DYNAMO_TRTLLM_RELEASE_STACKS,
    RELEASE_STACKS,
    data_stack,
    dynamo_stack,
    release_stack,
    row_stack,
)
from infraplan.validation.serving_prefix_reuse import cached_prompt_tokens, requests_per_client
from infraplan.validation.serving_row_rules import (
    GAP_ANALYSIS_SOURCE,
    SYSTEMS,
    held_slots,
    hopper_rows,
    served_by_dynamo,
    server_front_end_s,
    why_not,
)

STOP_PER_TOKEN = 1e-4  # ASSUMPTION (fitted): end-of-sequence probability per token where no harness forces the OSL
HARNESS_IGNORE_EOS = True  # rows of AIConfigurator's gap-analysis campaign: no early stops (its harness, docstring)
FRONT_END = True  # add the stack's per-request front-end time (`request_latency_s`) to TTFT
# a client's next request reaches the engine this long after its last one ended (`serving.client_loop`, the same
# default as `serve --concurrency`); 0: at that instant, as the engines' own closed loop (notes round 19)
CLIENT_ROUND_TRIP_S = client_loop.CLIENT_ROUND_TRIP_S
REQUESTS_PER_CLIENT = 10  # 10 x concurrency: the gap-analysis harness (docstring); ASSUMPTION for other sources
CAMPAIGN_LIMITS = True  # the campaign's engine limits (AIConfigurator's agg rules, docstring); False: stack defaults
AIC_SLACK_TOKENS = 1500  # agg max_num_tokens = batch + ISL + 1500 (trtllm, vllm); sglang max_prefill_tokens ISL + 1500
AIC_MIN_SEQS = 512  # vllm.rule / sglang.rule: max_num_seqs / max_running_requests 512, 2 x batch from 512
DYNAMO_TRTLLM_KV = True  # gap-analysis TensorRT-LLM rows: the generator template's KV fraction 0.80 (docstring)
SGLANG_CHUNKED_PREFILL = 8192  # SGLang 0.5 default below 160 GiB (H100, H200); a row's GPU: its own (hB70)
SGLANG_DEFAULT_FLAG_VERSIONS = frozenset({"0.5.1.post1"})  # campaigns at SGLang's own defaults (docstring)
SGLANG_BY_VERSION = True  # False: every SGLang campaign as the generator's rules (mixed chunk), as before round 7
SGLANG_CHECKPOINT_DTYPE = True  # SGLang weights in the checkpoint's dtype (no --quantization); False: the precision
FP8_CHECKPOINTS = frozenset({"nvidia/Llama-3.1-8B-Instruct-FP8"})  # the set's checkpoints stored in fp8
# the set's checkpoints -> (catalog preset, overrides of its HF config)
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "meta-llama/Llama-3.1-8B-Instruct": ("llama3.1-8b", {}),
    "nvidia/Llama-3.1-8B-Instruct-FP8": ("llama3.1-8b", {}),
    "meta-llama/Llama-3.1-70B": ("llama3.1-70b", {}),
    "Qwen/Qwen3-32B": ("qwen3-32b", {}),
}


def load_rows() -> list[dict[str, str]]:
    """The measured rows the serving model expresses (dense, aggregated): every row of the file `why_not` keeps."""
    return [row for row in hopper_rows() if why_not(row) is None]



@cache
def model_shape(model_path: str) -> TransformerShape:
    preset, overrides = MODELS[model_path]
    data, name = read_entry("models", preset)
    return shape_from_hf_config({**data, **overrides}, name)


def campaign_limits(engine: str, batch: int, isl: int, chunk: int = SGLANG_CHUNKED_PREFILL) -> tuple[int, int]:
    """(max batch, token budget) of the aggregated engine AIConfigurator generates for a config of batch size
    `batch` at `isl` prompt tokens (module docstring): TensorRT-LLM max_batch_size = batch, max_num_tokens = batch +
    ISL + 1500; vLLM max_num_seqs = 512 (2 x batch from 512), max_num_batched_tokens = batch + ISL + 1500; SGLang
    max_running_requests as vLLM's, prefill batches of at most max_prefill_tokens = ISL + 1500 within its default
    chunked_prefill_size `chunk` (the GPU's, `campaign_settings.sglang_chunked_prefill`: 8192 on H100 / H200)."""
    if engine == "trtllm":
        return batch, batch + isl + AIC_SLACK_TOKENS
    seqs = AIC_MIN_SEQS if batch < AIC_MIN_SEQS else 2 * batch
    if engine == "vllm":
        return seqs, batch + isl + AIC_SLACK_TOKENS
    return seqs, min(isl + AIC_SLACK_TOKENS, chunk)


def generated_flags(row: dict[str, str]) -> bool:
    """Whether the row's engine ran AIConfigurator's generated flags (`campaign_limits`, SGLang's mixed chunk):
    every campaign but the SGLang versions in `SGLANG_DEFAULT_FLAG_VERSIONS`, which ran SGLang's defaults."""
    return not (SGLANG_BY_VERSION and row.get("backend") == "sglang"
                and row.get("backend_version") in SGLANG_DEFAULT_FLAG_VERSIONS)


def weight_dtype(row: dict[str, str], engine: str) -> str:
    """The row's weight dtype: its precision, but SGLang runs a bf16 checkpoint in bf16 (`SGLANG_CHECKPOINT_DTYPE`,
    module docstring): neither its defaults nor AIConfigurator's generated flags pass --quantization."""
    dtype = "fp8" if row["precision"] == "fp8" else "bf16"
    if SGLANG_CHECKPOINT_DTYPE and engine == "sglang" and row.get("model_path") not in FP8_CHECKPOINTS:
        return "bf16"
    return dtype


def row_deployment(row: dict[str, str]) -> Deployment:
    """The row's serving deployment: TP / PP, weight and KV dtypes, and the engine's batch and token limits.

    The limits are AIConfigurator's generated ones (`campaign_limits`) wherever the row names its config batch size,
    InferenceX's engine-server rows (177 whose `silicon_data_source` names the 2026-04-06 export file) included.
    ASSUMPTION, restated for those rows (hF61): InferenceX's own launch scripts are on no registry, so the flags
    their engines ran are unread; they get the generator's limits as the gap-analysis campaigns do."""
    dtype = "fp8" if row["precision"] == "fp8" else "bf16"  # the KV cache's (SGLang: --kv-cache-dtype)
    engine = load_engine(release_stack(row))  # the backend's shipped profile (`vllm-0.12.0` -> vllm-0.x)
    # the engine's own batch cap (vLLM max_num_seqs, TensorRT-LLM max_batch_size, SGLang max_running_requests):
    # clients beyond it wait in the engine's queue, their wait counted in TTFT. The campaign's engine limits
    # (`campaign_limits`) where the row names its config batch size, else the stack's defaults.
    max_batch, budget = engine.offline_max_batch, engine.budget_on(campaign_settings.row_memory_bytes(row),
                                                                   campaign_settings.row_attention_dp(row))
    if CAMPAIGN_LIMITS and row.get("batch_size") and row.get("isl") and generated_flags(row):
        max_batch, budget = campaign_limits(engine.engine, int(row["batch_size"]), int(row["isl"]),
                                            campaign_settings.sglang_chunked_prefill(row, SGLANG_CHUNKED_PREFILL))
        max_batch -= held_slots(row)  # off by default (`validation.serving_row_rules`)
        if engine.engine == "sglang":  # --enable-mixed-chunk (data/stacks/sglang-0.x-mixed-chunk.yaml), by release
            engine = load_engine(data_stack(campaign_settings.sglang_campaign_stack(row)))
        elif engine.engine == "trtllm" and DYNAMO_TRTLLM_KV and served_by_dynamo(row):  # its template's KV 0.80
            engine = load_engine(dynamo_stack(row))
    return Deployment(tp=int(row["tp_size"]), pp=int(row["pp_size"] or 1), dtype=weight_dtype(row, engine.engine),
                      kv_dtype=dtype, max_batch=max_batch,
                      token_budget=deployed_budget(engine.engine, budget, max_batch),
                      engine=engine.engine, stack=engine.ref)


_COSTS: dict[tuple[str, str, Deployment], IterationCost] = {}



def stop_per_token(row: dict[str, str]) -> float:
    """The clients' end-of-sequence probability per token: 0 for the rows AIConfigurator's own harness measured
    (`ignore_eos: true`, `silicon_data_source` names its gap-analysis campaign), the fitted `STOP_PER_TOKEN`
    elsewhere (module docstring)."""
    if HARNESS_IGNORE_EOS and GAP_ANALYSIS_SOURCE in row.get("silicon_data_source", ""):
        return 0.0
    return STOP_PER_TOKEN


def run_row(row: dict[str, str], dep: Deployment | None = None,
            shape: TransformerShape | None = None) -> dict[str, Any]:
    """Predicted mean TTFT and TPOT (seconds) of one measured row, in closed loop at its concurrency (the row's
    dense deployment and catalog shape unless given: the MoE/MLA set passes its own), with its serving path's front
    end (`validation.serving_row_rules`: a constant in every TTFT; TPOT does not hold it)."""
    shape = shape or model_shape(row["model_path"])
    cluster = Cluster.resolve(SYSTEMS[row["system"]])
    dep = dep or row_deployment(row)
    key = (row["model_path"], row["system"], dep)
    if key not in _COSTS:
        _COSTS[key] = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
    clients = int(row["batch_size"])
    requests = fixed_requests(requests_per_client(row, REQUESTS_PER_CLIENT) * clients, int(row["isl"]),
                              int(row["osl"]), None, 0, stop_per_token=stop_per_token(row))
    pool_tokens = pool_memory(shape, cluster.accelerator, dep,  # the pool the run holds (its windows: hW52)
                              *held_sequences(dep, requests, clients))[0].blocks * dep.block_tokens
    hits = cached_prompt_tokens(row, dep.engine, dep.block_tokens, pool_tokens, len(requests))
    result = simulate_deployment(shape, cluster, dep, requests, cost=_COSTS[key], clients=clients,
                                 front_end=FRONT_END, cached_tokens=hits, client_round_trip_s=CLIENT_ROUND_TRIP_S)
    if not result["fits"]:
        raise ValueError(f"serving validation row {row['id']}: {result['why']}")
    ttft = result["ttft_s"]["mean"]  # the front end by the row's serving path (`validation.serving_row_rules`)
    if FRONT_END:
        ttft += server_front_end_s(row, front_end_s(dep)) - front_end_s(dep)
    return {"ttft_s": ttft, "tpot_s": result["tpot_s"]["mean"]}
