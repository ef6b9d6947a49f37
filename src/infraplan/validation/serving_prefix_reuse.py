"""Prefix-cache hits from a benchmark client that reuses its prompts (the Hopper serving sets' harness paths).

NVIDIA AIConfigurator measured its silicon sample by two harnesses (aiconfigurator wheels on PyPI, Apache-2.0):

* the eval pipeline (0.2.0-0.7.0 `eval/benchmarks/genai_perf_runner.py`, 0.6.0 :190-227) runs aiperf / genai-perf
  over a concurrency list with `--num-dataset-entries` 12 x concurrency, `--warmup-request-count` 2 x and
  `--request-count` 10 x concurrency: every request its own prompt, no prefix reuse;
* the generator's benchmark script (`generator/config/backend_templates/benchmark/bench_run.sh.j2`, first shipped in
  0.7.0: :4-18 the estimated concurrency, :25-40 the aiperf command) passes no `--num-dataset-entries`, so aiperf
  builds its default 100 synthetic prompts (aiperf 0.3.0 common/config/config_defaults.py `PromptDefaults.NUM =
  100`, conversation_config.py `num_dataset_entries`) and cycles them, each pass a fresh shuffle (dataset_samplers.py
  `ShuffleSampler`, the synthetic default), over 2 x concurrency warm-up and 50 x concurrency measured requests.

A prompt drawn again finds its blocks in the engine's prefix cache where the generated engine keeps one: vLLM's is
on by default (vllm 0.12.0 config/cache.py:76 `enable_prefix_caching: bool = True`, engine/arg_utils.py:1927-1928)
and the generator's template passes `--no-enable-prefix-caching` only when a rule sets it (0.7.0
vllm/cli_args.0.12.0.j2:17; its rules set it only to false, for prefix workloads), so a repeated prompt computes
only what vLLM recomputes of a full hit: the last token's block (kv_cache_manager.py:183-193: the hit stops at
prompt - 1 tokens, on a block boundary). SGLang's radix cache is on too (no `--disable-radix-cache` in any
template); TensorRT-LLM's templates default `enable_block_reuse: false` from 0.7.0
(extra_engine_args.1.2.0rc6.post1.yaml.j2:33): no hits there (`PREFIX_CACHE_ENGINES`).

Which rows ran bench_run is not recorded. ASSUMPTION (`bench_run_measured`): a campaign (the rows' source file)
whose every ISL x OSL x TP config was measured at one concurrency or a few within a factor 2 (bench_run's
estimated concurrency +-5 %; the eval pipeline runs a list, 8-128 in this sample) on an engine release whose first
generator template ships with bench_run.sh (`BENCH_RUN_RELEASES`: vLLM 0.12.0, SGLang 0.5.8 and TensorRT-LLM
1.2.0rc6.post1 first in 0.7.0; SGLang 0.5.6.post2 first in 0.6.0, which has only the eval pipeline). Of the model's
requests, the share the measured run drew before aiperf's first pass ended misses (max(0, 100 - 2 c) / (50 c)),
the rest hit, while the 100 prompts and the clients' outputs fit the engine's KV pool (LRU: a reuse cycle longer
than the pool evicts every prompt before its reuse).

NOT adopted (`PREFIX_REUSE` False; round 10, notes file): the rule fits the vLLM 0.12 Llama 3.1 8B FP8 rows, whose
measured cycle holds more prompt FLOPs than an H200 has uncached: with vLLM 0.12's measured decode attention
(`serving.decode_kernels`) the dense set goes 20.05 -> 18.01 % (that campaign TTFT / TPOT 121 / 102 -> 62 / 20 %;
its TPOT at OSL >= 1000 within -6..+13 %), without it 19.80 -> 18.39 %. But the MoE set's vLLM 0.12 Qwen3-235B FP8
rows (H200, the same ISL x OSL grid, one concurrency per configuration as the Llama rows: their neighbouring 11 / 12
or 7 / 8 clients belong to different MoE layouts, not to bench_run's +-5 % pairs) look uncached (TTFT in proportion
to the ISL at TP4, where the pool holds the prompts): MoE 15.70 -> 16.45 % (their TTFT 26.9 -> 47.9 %).
Round 23 (notes file): no engine-side switch tells them apart (vLLM 0.12.0 turns prefix caching off only for pooling,
hybrid / Mamba models and non-CUDA CPUs, engine/arg_utils.py:1885-1964, model_executor/models/config.py:292-309;
ai-dynamo 0.4.0-1.6.1 dynamo.vllm defaults it on; no AIConfigurator 0.7.0-0.12.0 rule sets `disable_prefix_cache`
but to false), while the client can: aiperf from 0.9.0 (2026-05-30) sizes the synthetic dataset by
`--request-count` / `--num-requests` when `--num-dataset-entries` is unset (config/flags/_converter_dataset.py
`_resolve_entries`, :262-300, :341-343), so bench_run's 20-50 x concurrency requests each get their own prompt;
aiperf 0.1.1-0.8.0 keep the 100 default. The rows do not record their aiperf version. The SGLang 0.5.6.post2
campaigns of the same source tree and grid (Llama-3.1-8B and Qwen3-235B on H200; radix cache on, no
`--disable-radix-cache` in any template) fit no hits best in TPOT, as the vLLM Qwen3-235B rows do (by this module's
assumption they ran 0.6.0's eval pipeline, whose prompts are unique); only the vLLM Llama-3.1-8B FP8 campaign needs
hits (its measured prompt rate exceeds AIConfigurator's own vLLM 0.12.0 fp8 GEMM table), and there ~85 % of requests
hitting (not all) fits its TTFT and TPOT together. What tells that campaign apart is not known.

Run length (`BENCH_RUN_LENGTH`, on; hA, session 53): the same ASSUMPTION sets how many requests a bench_run row
averages. bench_run.sh sends `--num-requests` 50 x concurrency after `--warmup-request-count` 2 x concurrency (0.7.0
bench_run.sh.j2:36-37; 20 x from 0.8.0, `BENCH_MULTI_ROUND`, 0.10.0 :37, :97-98), the eval pipeline 10 x. aiperf
drains the warm-up and then bursts the c profiled clients at once (`serving.client_loop.first_wave`), so the
burst's (c + 1) / 2 prompt prefills weigh 1 / 50 of a bench_run row's mean TTFT, not 1 / 10. Measured, one tree,
off -> on (50; at 20: dense 19.19 %): dense 20.045 -> 18.735 % (TTFT 29.50 -> 26.69, TPOT 10.59 -> 10.78, max 509
-> 329 %; vLLM 0.12 Llama-3.1-8B FP8 TTFT 145 -> 42 %, median +88 -> -6 %, its TPOT +93 -> +100 % median: the
cycle stays infeasible uncached), MoE 14.762 -> 14.709 % (its vLLM 0.12 Qwen3-235B bench_run rows TTFT 22.2 ->
22.3 %, median -1 -> -20 %), disaggregated 14.547, Blackwell 20.109, MLPerf v5.1 24.368 % unchanged.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from infraplan.catalog.data_files import validation_rows

PREFIX_REUSE = False  # bench_run rows: repeated prompts hit the engine's prefix cache (docstring); False: none
BENCH_RUN_LENGTH = True  # bench_run rows: the mean over its 50 x c requests (`requests_per_client`); False: 10 x c
AIPERF_DATASET_ENTRIES = 100  # aiperf's default synthetic prompts (PromptDefaults.NUM)
BENCH_RUN_REQUESTS_PER_CLIENT = 50  # bench_run.sh.j2 (0.7.0) --num-requests concurrency x 50
BENCH_RUN_WARMUP_PER_CLIENT = 2  # --warmup-request-count concurrency x 2
BENCH_RUN_RELEASES = frozenset({"vllm-0.12.0", "sglang-0.5.8.post1", "trtllm-1.2.0rc6.post1"})  # templates new in 0.7.0
PREFIX_CACHE_ENGINES = frozenset({"vllm", "sglang"})  # prefix cache on under the generator's templates
DENSE_ROWS, MOE_ROWS = "serving_measured_hopper.csv", "serving_measured_hopper_moe.csv"  # both aggregated sets


def _source(row: dict[str, str]) -> str:
    return row.get("silicon_data_source", "").split(";")[0]


def _clients(row: dict[str, str]) -> int:
    return int(row.get("concurrency") or row["batch_size"])


@cache
def estimated_concurrency_sources() -> frozenset[str]:
    """The campaigns (source files) of both Hopper aggregated sets that ran every ISL x OSL x TP config at one
    concurrency or a few within a factor 2 (bench_run's estimate +-5 %), not on a concurrency grid."""
    configs: dict[tuple[str, ...], list[int]] = {}
    for row in [*validation_rows(DENSE_ROWS), *validation_rows(MOE_ROWS)]:
        key = (_source(row), row["isl"], row["osl"], row["tp_size"], row.get("attention_dp_size") or "1")
        configs.setdefault(key, []).append(_clients(row))
    grid = {key[0] for key, c in configs.items() if max(c) >= 2 * min(c)}
    return frozenset({key[0] for key in configs} - grid)


def bench_run_measured(row: dict[str, str]) -> bool:
    """Whether the row was measured by the generator's bench_run.sh (module docstring, ASSUMPTION)."""
    release = f"{row.get('backend')}-{row.get('backend_version')}"
    return release in BENCH_RUN_RELEASES and _source(row) in estimated_concurrency_sources()


def cached_prompt_tokens(row: dict[str, str], engine: str, block_tokens: int, pool_tokens: int,
                         requests: int) -> np.ndarray | None:
    """Prompt tokens each of the model's `requests` (in sending order) finds in the prefix cache, or None (no
    reuse): the first max(0, 100 - 2 c) / (50 c) of them miss, the rest hit all but the prompt's last block, where
    the 100 prompts and the clients' outputs fit `pool_tokens` (module docstring)."""
    if not (PREFIX_REUSE and engine in PREFIX_CACHE_ENGINES and bench_run_measured(row)):
        return None
    clients, isl, osl = _clients(row), int(row["isl"]), int(row["osl"])
    if AIPERF_DATASET_ENTRIES * isl + clients * osl > pool_tokens:
        return None
    drawn_first = max(0, AIPERF_DATASET_ENTRIES - BENCH_RUN_WARMUP_PER_CLIENT * clients)
    misses = round(requests * drawn_first / (BENCH_RUN_REQUESTS_PER_CLIENT * clients))
    hit = (isl - 1) // block_tokens * block_tokens
    return np.where(np.arange(requests) >= misses, hit, 0)


def requests_per_client(row: dict[str, str], default: int) -> int:
    """Requests each client sends in the measured run: bench_run.sh's `--num-requests` per client for a row it
    measured (`bench_run_measured`, the ASSUMPTION above; `BENCH_RUN_REQUESTS_PER_CLIENT`, 0.7.0 bench_run.sh.j2,
    the release's first template), else `default` (the eval pipeline's `--request-count` 10 x concurrency). The
    mean TTFT averages the start-up burst (aiperf drains the 2 x c warm-up, then sends c requests at once) over the
    run, so its weight is 1 / (requests per client): 1 / 50 there, not 1 / 10 (toggle `BENCH_RUN_LENGTH`)."""
    return BENCH_RUN_REQUESTS_PER_CLIENT if BENCH_RUN_LENGTH and bench_run_measured(row) else default
