"""The Hopper serving sets' rules for a measured row: whether it is scored, which front end its TTFT carries, the
batch slots its engine holds, and the naive roofline baseline it is compared against.

One module for the rules the dense Hopper set (`validation.serving_hopper`) applies row by row, the MoE / MLA,
disaggregated and Blackwell sets sharing the front end and the roofline; each reads only the row's own columns
(validation/data/serving_measured_hopper.csv, AIConfigurator's silicon sample) and the catalog. Merged by hR62 from
`serving_front_end`, `serving_stated_concurrency`, `serving_slot_wait` and `serving_roofline` (moves only); their
docstrings follow, in that order.

The front end in a measured serving row's TTFT, by the path its requests took (the Hopper serving sets).

The rows of NVIDIA AIConfigurator's silicon sample reached their engine by two paths:

* AIConfigurator's gap-analysis harness (`silicon_data_source` names `GAP_ANALYSIS_SOURCE`) serves through NVIDIA
  Dynamo: its generated run scripts start `python3 -m dynamo.frontend` and `dynamo.trtllm` / `dynamo.vllm` /
  `dynamo.sglang` (aiconfigurator 0.12.0 generator/config/backend_templates/{trtllm,vllm,sglang}/run.sh.j2:17,31 /
  :15,40 / :27,53), where Dynamo's Rust front end tokenises (ai-dynamo 0.4.0 `dynamo/trtllm/main.py`:
  `skip_tokenizer_init`). Those rows keep the serving stack's own `request_latency_s` (`serving.engines`).
* the other campaigns name the engines' own images (vllm-openai, lmsysorg/sglang, tensorrt-llm/release), i.e. the
  engine's OpenAI server: `ENGINE_SERVER_FRONT_END_S` per engine family.

ASSUMPTION (fitted, a calibration on the set: these rows are not an independent check of it; one figure per engine
family and path, no per-row factor): both figures, the stacks' and the engine servers', follow one rule written in
`validation.serving_host_fits.fit_front_ends` (the median of measured minus modelled TTFT without the front end
over the sets' rows of <= 8 sequences per engine; its docstring has the figures, row counts, quartiles and history),
and a test keeps them on it. The same figures serve the dense and the MoE / MLA sets
(`validation.serving_hopper.run_row`), so a row's front end does not depend on which set it is in; the disaggregated
set adds the stack's figure (`serving_sim.simulate_disaggregated`), the MLPerf sets none (`front_end: false`).
Toggle `SERVER_PATH_FRONT_END` (False: the stack's figure for every row).

Which rows of the dense Hopper serving set are scored: those whose source states the benchmark's clients.

Modelled: a closed-loop benchmark is run at its clients (concurrency), as its source states them
(`silicon_concurrency=N` in `silicon_data_source`). The dense set's rows not run (`not_run`, toggle
`STATED_CONCURRENCY_ONLY`): the 7 rows whose source states no concurrency (ids `..._c_...`, no `silicon_concurrency`:
the Dynamo 0.8.0 job 23364591, Qwen3-32B H100 fp8), as the MoE and disaggregated sets leave that job's rows. Their
`batch_size` is not the clients: the job's MoE row (Qwen3-235B TP4, batch 28) measured a 29 s TTFT, its vLLM TP1 row
(batch 24, ISL 4000) 295 ms, one 4000-token prefill's ~267 TFLOP at 92 % of the H100's 0.99 PFLOP/s dense fp8 peak
with no queue, and the disaggregated rows' decode slots would need prefills above that peak
(`serving_hopper_disagg`). Run as `batch_size` clients they were the set's 3rd and 7th largest errors (+384 / +260 %)
and set the host floor's fit (`serving_host_fits`: 98.7 us from the TP8 row at "224 clients"; 108.0 us
without them). Toggled (one tree): 21.74 -> 21.19 % (TTFT 31.18 -> 30.41, TPOT 12.31 -> 11.97), every other set
unchanged. Source: the rows' own `silicon_data_source` (validation/data/serving_measured_hopper.csv, AIConfigurator's
gap-analysis dump). Notes: hD42. Moved out of `validation.serving_hopper` (hS42).

A batch slot held to the next completion on AIConfigurator's Dynamo TensorRT-LLM worker (a toggle, off).

Finding (notes/serving_hopper_tried.md rounds 4, 8, 14, 15): on the TensorRT-LLM 1.0.0rc3 Llama-3.1-8B bf16 H100
campaign of AIConfigurator's gap-analysis harness (Dynamo worker, the front ends above), at 8-32 clients
TTFT ~ 0.066 s + 1.09 R / c (R the request time, c the clients): the mean interval between two completions of a
closed loop, i.e. the wait of a request admitted only at the next completion (Little's law for one request always
queued). Hypothesis tested: the engine's max_batch_size b equals the clients and a finished request's slot is freed
only at the next completion, so one of the b slots is always held: b - 1 slots for admission, here as
max_batch = b - 1 (the start burst then admits c - 1 too; every later cycle is the held-slot rule's).

Sources read (round 15). b: AIConfigurator's Dynamo TensorRT-LLM template writes `max_batch_size: {{ bs }}`, the
batch size of the generator's selected agg config (0.2.0 cli/templates/trtllm/dynamo/extra_engine_args.1.0.0rc3
.yaml.j2, cli/backends/trtllm.py:104-116 `agg_best_config.iloc[0]`; 0.5.0-0.6.0 generator/rule_plugin/trtllm.rule:2),
and the eval pipeline benchmarks a concurrency list against that one engine (0.2.0-0.6.0 eval/pipeline.py
`_read_max_batch_size`, `_auto_concurrency_values`: 1, ~b/8, b/4, b/2, 3b/4, b when no list is given). The rows'
`batch_size` is the benchmark concurrency (`silicon_concurrency`); their grid 8/16/32/64/128 is no auto list (no 1,
no 3b/4), and their ids number TP -> clients -> ISL x OSL, an engine per (TP, c) config. So b = c is what
`serving_hopper.campaign_limits` already prices, an ASSUMPTION: the gap-analysis harness itself is unpublished.
Slot release: no file read says when TensorRT-LLM 1.0.0rc3's PyExecutor frees a finished request's slot (the wheel is
on pypi.nvidia.com only; PyPI's tensorrt-llm 1.0.0 is a stub); Dynamo 0.4.0's worker adds no limit (ai-dynamo 0.4.0
dynamo/trtllm/request_handlers/handler_base.py:147-181 streams `generate_async`, breaks on `res.finished`; main.py
passes the template's engine args; publisher.py only reports numActiveRequests / maxNumActiveRequests). A lag of
one or two iterations (the overlap scheduler) delays a new request by about that much, not by R / c: only a slot
held through a whole completion interval gives the finding.

Measured (round 15, one tree; dense mean |error| / TTFT / TPOT): off 20.09 / 27.59 / 12.60 %. Scope "trtllm", every
1.0.0rc3 Dynamo row (the one rule for the release): 26.96 / 41.10 / 12.82 % (Llama-8B TTFT at <= 32 clients 32.0 ->
65.1 %, Qwen3-32B 23.0 -> 80.8 %), MoE set every row 15.45 -> 33.48 % (Qwen3-235B 1.0.0rc3), disaggregated unchanged
(15.87 %). The Qwen3 campaigns exclude a held slot whatever the arrival pattern (in lock-step waves as in staggered
completions it makes one request per cycle wait for a completion, mean TTFT >= R / c): at <= 32 clients their
measured TTFT is under 0.8 R / c on 26 of 107 Qwen3-32B rows (TP1, 8 clients, 1024 / 512: 263 ms vs R / c 1066) and
47 of 78 Qwen3-235B rows, against 2 of 108 Llama-8B rows. Hence off: not one rule for the release. Scope "llama"
(reference only, a per-campaign rule): 22.65 %; with no front-end time on that campaign (its intercept 0.066 s is
about one prefill) 18.79 % (Llama-8B TTFT <= 32 clients 32.0 -> 12.7 %, 64-128 clients 43.6 -> 45.7 %).

The naive baseline of the Hopper serving sets: a roofline with one efficiency per metric fitted to the set.

TPOT = (a decode GPU's weights + its clients' KV cache read at the mean context, ISL + OSL / 2) / HBM bandwidth;
TTFT = one prompt's FLOPs (2 x active parameters x ISL, no attention) over the prefill GPUs / the peak at the
prefill deployment's dtype (fp8, nvfp4; native MXFP4 at the 8-bit rate; weight-only formats at bf16). Each is scaled
by the one efficiency that minimises the set's mean |error| (`fitted_scale`: a weighted median), so the baseline is
the best any single constant can do. Used by the dense (`validation.serving_hopper`), MoE / MLA
(`serving_hopper_moe`) and disaggregated (`serving_hopper_disagg`) sets and the Blackwell set (`serving_blackwell`);
moved here from `validation.serving_hopper`.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.serving.deployment import eight_bit_rate, mxfp4_weight_only
from infraplan.serving.kv_cache import kv_bytes_per_token, weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment

GAP_ANALYSIS_SOURCE = "aic-auto-gap-analysis"  # in the rows' `silicon_data_source`
ENGINE_SERVER_FRONT_END_S: dict[str, float] = {"trtllm": 0.047, "vllm": 0.010, "sglang": 0.132}
SERVER_PATH_FRONT_END = True


def served_by_dynamo(row: dict[str, str]) -> bool:
    """Whether the row went through NVIDIA Dynamo's front end (AIConfigurator's gap-analysis harness)."""
    return GAP_ANALYSIS_SOURCE in row.get("silicon_data_source", "")


def server_front_end_s(row: dict[str, str], stack_front_end_s: float) -> float:
    """The front-end seconds in the row's TTFT: the stack's (`stack_front_end_s`) through Dynamo's front end, the
    engine's own OpenAI server's (`ENGINE_SERVER_FRONT_END_S`) otherwise."""
    if SERVER_PATH_FRONT_END and not served_by_dynamo(row) and row.get("backend") in ENGINE_SERVER_FRONT_END_S:
        return ENGINE_SERVER_FRONT_END_S[row["backend"]]
    return stack_front_end_s


STATED_CONCURRENCY_ONLY = True  # score only rows whose source states the clients (docstring)
NO_CONCURRENCY = "the benchmark's concurrency is not stated (id 'c_', none in silicon_data_source)"


@cache
def hopper_rows() -> tuple[dict[str, str], ...]:
    return tuple(validation_rows("serving_measured_hopper.csv"))


def stated_concurrency(row: dict[str, str]) -> int | None:
    """The benchmark's clients as the row's source states them (`silicon_concurrency=N`), or None."""
    found = re.search(r"silicon_concurrency=(\d+)", row["silicon_data_source"])
    return int(found.group(1)) if found else None


def why_not(row: dict[str, str]) -> str | None:
    """Why the row is not scored, or None: its source states no concurrency (module docstring)."""
    return NO_CONCURRENCY if STATED_CONCURRENCY_ONLY and stated_concurrency(row) is None else None


def not_run() -> list[str]:
    """This set's rows not scored, one line each: the id and why (`why_not`)."""
    return [f"{row['id']}: {reason}" for row in hopper_rows() if (reason := why_not(row))]


SLOT_HELD_SCOPE: str | None = None  # None (off), "trtllm" (every 1.0.0rc3 Dynamo row) or "llama" (reference)
SLOT_HELD_VERSIONS = ("1.0.0rc3",)  # the TensorRT-LLM releases whose Dynamo campaigns the rule would cover


def held_slots(row: dict[str, str]) -> int:
    """Batch slots held by finished requests on the row's engine: 1 on the TensorRT-LLM Dynamo rows the scope
    covers, else 0 (module docstring)."""
    if SLOT_HELD_SCOPE is None or row.get("backend") != "trtllm" or not served_by_dynamo(row):
        return 0
    if row.get("backend_version") not in SLOT_HELD_VERSIONS:
        return 0
    if SLOT_HELD_SCOPE == "llama" and "Llama" not in row.get("model_path", ""):
        return 0
    return 1


SYSTEMS = {"h100_sxm": "dgx-h100-superpod", "h200_sxm": "hgx-h200",  # the sets' `system` -> catalog system
           # Blackwell: `validation.serving_blackwell` (and B200 in `validation.frontier_silicon`)
           "b200_sxm": "dgx-b200", "b300_sxm": "dgx-b300", "gb200": "gb200-nvl72",
           # the proposed NVL72 disaggregated set's (`validation.serving_blackwell_disagg`): without it a GB300 row's
           # GPU memory read 0 (`campaign_settings.row_memory_bytes`), so its SGLang chunk was the 8,192 fallback, not
           # the 288 GB part's 16,384 tier // attention DP (hG73)
           "gb300": "gb300-nvl72"}


def roofline_seconds(shape: TransformerShape, system: str, prefill: Deployment, decode: Deployment,
                     clients_per_rank: float, isl: int, osl: int) -> dict[str, float]:
    """The naive roofline at efficiency 1 of a row: TPOT = (a decode GPU's weights + its clients' KV read at the
    mean context) / bandwidth; TTFT = one prompt's FLOPs over the prefill GPUs / peak (fp8 or bf16)."""
    acc = Cluster.resolve(SYSTEMS[system]).accelerator
    step_bytes = (weight_bytes_per_gpu(shape, decode.tp, decode.pp, decode.dtype, decode.expert_shards)
                  + clients_per_rank * (isl + osl / 2.0)
                  * kv_bytes_per_token(shape, decode.tp, decode.pp, decode.kv_dtype))
    prompt_flops = 2.0 * shape.active_params(input_embedding=False) * isl / (prefill.tp * prefill.pp)
    rate_dtype = prefill.dtype if prefill.dtype in ("fp8", "nvfp4") else "bf16"  # weight-only formats: bf16
    if prefill.dtype == "mxfp4" and not mxfp4_weight_only(acc, "mxfp4"):
        rate_dtype = eight_bit_rate(acc)  # native MXFP4 x MXFP8 (`serving.deployment.eight_bit_rate`)
    return {"tpot_s": step_bytes / acc.memory_bandwidth_bytes_per_s, "ttft_s": prompt_flops / acc.peak(rate_dtype)}


def fitted_scale(work: np.ndarray, measured: np.ndarray) -> float:
    """The s minimising mean |s * work / measured - 1|: the median of measured/work weighted by work/measured."""
    r = work / measured
    target = 1.0 / r
    order = np.argsort(target)
    cum = np.cumsum(r[order])
    return float(target[order][np.searchsorted(cum, cum[-1] / 2.0)])
