"""What each web request field is, in the words of the CLI's help for the same option, with its unit.

`web/` may not import `cli/` (sibling layers, import-linter), so the words are written here once more, taken from
`infraplan COMMAND --help` (cli/commands/*.py, cli/options.py) with the web's differences: catalog references
are preset names only (no files), and a default the CLI states in brackets is stated as "default: ...".
`described(WORDS)` gives a request model's fields these descriptions (the /docs page and /openapi.json show
them); fields that carry their own `Field(description=...)` in web/requests.py are not listed here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=type[BaseModel])

_PP = "pipeline stages (count)"
_SEQ_LEN = "sequence length in tokens"
_GLOBAL_BATCH = "global batch in sequences"
_SCHEDULE = ("pipeline schedule; default (train): the stack's one schedule where it ships one other than 1f1b "
             "(deepseek-v3: dualpipe), else interleaved if vpp > 1, else 1f1b; search: every one the stack's "
             "framework ships")
_TRAIN_STACK = ("software-stack preset (catalog/stacks: megatron-lm-2021, megatron-core-0.8, nemo-24.12, "
                "nemo-26.04, deepspeed, torchtitan, ...); default: nemo-26.04, stated in the output")
_SERVE_SYSTEM = "system preset, or an accelerator preset"
_WORKLOAD = "workload preset: chat | code-completion | summarization | image-generation"
_INPUT_LEN = "fixed prompt length, tokens"
_OUTPUT_LEN = "fixed output length, tokens"
_SERVE_SEED = "random seed for arrivals and lengths"
_COOLING = "air | liquid | immersion; default: air if a server/rack unit fits 30 kW, else liquid"
_BUILD_TYPE = "facility build type: hyperscale | low-cost | high-cost | ai-campus"
_PUE = "override the PUE (power usage effectiveness, total facility power / IT power; dimensionless)"
_ELECTRICITY = "override the electricity price, US dollars per MWh"
_SERVER_PRICE = "override the server price, US dollars per accelerator"
_FABRIC = "clos | rail-only; default: the system's own"

TRAIN = {
    "gpus": "accelerators used (count)",
    "tp": "tensor parallel degree (with sequence parallelism)",
    "pp": _PP,
    "dp": "data parallel degree; default: GPUs / (TP x PP x CP)",
    "cp": "context parallel degree",
    "ep": "expert parallel degree (MoE), inside DP (or folded over TP x CP x DP with etp)",
    "vpp": "virtual (interleaved) stages per pipeline stage; default: chosen for PP >= 4 (said in notes), else 1",
    "seq_len": _SEQ_LEN,
    "global_batch": _GLOBAL_BATCH,
    "micro_batch": "micro-batch in sequences",
    "recompute": "activation recomputation; auto: the least that fits in memory (stated in the output)",
    "recompute_layers": "with recompute full: recompute only the first K layers of each model chunk (Megatron "
                        "block method; 0: every layer)",
    "offload_layers": "with recompute none and pp 1: offload the saved activations of the first N layers to host "
                      "memory (Megatron-Core cpu_offloading; 0: none)",
    "dtype": "GEMM precision",
    "attention": "attention kernels (unfused: Megatron before 2023)",
    "order": "rank placement, innermost first: tp-cp-pp-dp (Llama 3) | tp-cp-dp-pp (Megatron); default: the "
             "stack's rank_order",
    "sequence_parallel": "split norms/dropout over TP (Megatron since 2022)",
    "schedule": _SCHEDULE,
    "stack": _TRAIN_STACK,
    "sharp": "IB SHARP in-network all-reduce for the DP gradients (NCCL CollNet, NCCL_COLLNET_ENABLE=1; the "
             "stack's nccl_collnet); InfiniBand SHARP switches only",
    "location": "grid/price location preset for tokens (ohio, louisiana, ...)",
}
SEARCH = {
    "seq_len": _SEQ_LEN,
    "global_batch": _GLOBAL_BATCH,
    "dtype": "GEMM precision: bf16 | fp8 | mxfp8 | nvfp4 | auto (every dtype the accelerator has)",
    "top": "plans to list (count)",
    "objective": "rank plans by time (step time) or memory (per accelerator)",
    "cross_node_tp": "let TP leave the scale-up domain",
    "schedule": _SCHEDULE,
    "stack": _TRAIN_STACK,
    "sharp": "IB SHARP in-network all-reduce for every plan's DP gradients (NCCL CollNet, as train's sharp; "
             "ZeRO 0 plans gain); InfiniBand SHARP switches only",
}
SERVE = {
    "system": _SERVE_SYSTEM,
    "gpus": "accelerators used (count)",
    "tp": "tensor parallel degree, or 'auto'",
    "pp": _PP,
    "ep": "expert parallel degree inside the TP group (MoE); default 1; with attention_dp: over all attention-DP "
          "x TP accelerators (default attention DP x TP)",
    "attention_dp": "wide EP: data-parallel attention ranks per replica, experts spread over all their "
                    "accelerators (DeepSeek / SGLang decode)",
    "speculative_tokens": "MTP / speculative draft tokens per decode step (count)",
    "acceptance": "per-token acceptance rate of the draft tokens (0-1), needed with speculative_tokens "
                  "(DeepSeek-V3 MTP: 0.85-0.9)",
    "dtype": "weight precision",
    "kv_dtype": "KV cache precision; default: the model config's quantization_config, else fp8 with fp8 or nvfp4 "
                "weights, else bf16",
    "offline": "all requests present at t=0 (max throughput)",
    "rate": "arrival rate, requests/s",
    "concurrency": "closed loop: N clients, each sending its next request when its last one ends (benchmark "
                   "clients)",
    "engine": "serving engine (trtllm | vllm | sglang); default: the stack's",
    "input_len": _INPUT_LEN,
    "output_len": _OUTPUT_LEN,
    "workload": _WORKLOAD,
    "requests": "requests to simulate (count); default 2000; with concurrency N: 10 per client, at least 2000",
    "max_batch": "sequences per engine; default 256; offline or concurrency: the stack's offline_max_batch "
                 "(trtllm-0.x 2048); images: 16",
    "token_budget": "tokens per iteration (chunked prefill)",
    "ttft_slo": "TTFT SLO (images: latency SLO): seconds, or a duration with its unit (200ms, 2s); a bare number "
                "above 30 is refused as ms",
    "tpot_slo": "TPOT SLO: seconds, or a duration with its unit (50ms); a bare number above 1 is refused as ms",
    "prefill_gpus": "accelerators of a disaggregated prefill pool (count; 0: colocated)",
    "prefill_tp": "the prefill pool's own TP degree; with any prefill_* layout field, tp/pp/ep/attention_dp/"
                  "max_batch are the decode pool's; default: decode's",
    "prefill_pp": "the prefill pool's pipeline stages (count); default: decode's",
    "prefill_ep": "the prefill pool's expert parallel degree; default: attention DP x TP with prefill_attention_dp "
                  "> 1, else 1",
    "prefill_attention_dp": "the prefill pool's attention-DP ranks per worker; default 1",
    "prefill_max_batch": "sequences per prefill engine; default: decode's",
    "usd_per_hour": "US dollars per accelerator-hour; default: the catalog's",
    "seed": _SERVE_SEED,
}
SERVE_PLAN = {
    "system": _SERVE_SYSTEM,
    "rate": "target arrival rate, requests/s",
    "workload": "workload preset: chat | code-completion | summarization",
    "input_len": _INPUT_LEN,
    "output_len": _OUTPUT_LEN,
    "ttft_slo": "TTFT SLO: seconds, or a duration with its unit (2s); default: the workload's",
    "tpot_slo": "TPOT SLO: seconds, or a duration with its unit (50ms); default: the workload's",
    "dtypes": "weight dtypes to consider (bf16, fp8, int8, int4, nvfp4, mxfp4, mxfp8)",
    "max_batch": "batch caps to consider, sequences per engine",
    "max_gpus": "search limit, accelerators (count); default: the system's size",
    "disaggregation": "also consider disaggregated prefill/decode deployments (false: colocated only)",
    "requests": "requests per probe simulation (count)",
    "seed": _SERVE_SEED,
}
RECSYS = {
    "model": "recommendation model preset (dlrm-low, dlrm-medium, dlrm-high, mlperf-dlrm-dcnv2)",
    "accelerator": "accelerator preset (mtia-v1, ...)",
    "batch": "samples per batch; default: the model's, or the best for the latency SLO",
}
VIDEO = {
    "device": "msvp, or a CPU preset (xeon-8480, epyc-9654)",
    "input": "input resolution and frame rate, e.g. 2160p60",
    "ladder": "output rungs (top N of the ladder at or below the input)",
    "codec": "h264 | vp9",
    "quality": "encoding quality: high | standard",
    "daily_hours": "hours of video ingested per day",
    "peak_to_average": "fleet sizing factor over the daily average (dimensionless)",
}
NETWORK = {
    "system": "the system preset, as the other commands take it",
    "gpus": "GPUs to connect (count); default: the whole system",
    "fabric": _FABRIC,
}
COLLECTIVE = {
    "op": "the collective operation",
    "system": "system preset",
    "gpus": "GPUs in the group (count)",
    "placement": "packed | spread (evenly over the system)",
    "algorithm": "collective algorithm",
    "sim": "analytical (alpha-beta) or flow-level model",
    "flows_per_pair": "ECMP flows per GPU pair (flow sim); default: the system's",
    "seed": "seed of the ECMP hashes and failed links (flow sim)",
    "failed_links": "flow sim: fail uplinks of a tier, TIER:COUNT or TIER:FRACTION (e.g. pod:1%), chosen with the "
                    "seed; ECMP avoids them",
    "fabric": _FABRIC,
    "sharp": "enable IB SHARP in-network all-reduce (NCCL CollNet, NCCL_COLLNET_ENABLE=1) where the fabric's "
             "switches support it",
}
FACILITY = {
    "system": "system preset",
    "accelerator": "accelerator preset (with count)",
    "count": "number of accelerators (with accelerator); above one zone (2,048 NIC links) built as campus builds "
             "them: zones joined at 1:7",
    "cooling": _COOLING,
    "location": "location preset (ohio, louisiana, ...); default: us-average",
    "build_type": _BUILD_TYPE,
    "pue": _PUE,
    "electricity_price": _ELECTRICITY,
    "server_price": _SERVER_PRICE,
}
CAMPUS = {
    "accelerator": "accelerator preset, e.g. gb200",
    "cooling": _COOLING,
    "phases": "build-out, YEAR:SHARE comma-separated, e.g. 2026:0.3,2027:0.7 (shares sum <= 1)",
    "location": "location preset; default: us-average",
    "build_type": _BUILD_TYPE,
    "pue": _PUE,
    "electricity_price": _ELECTRICITY,
    "server_price": _SERVER_PRICE + " (the cost_reason of an unpriced accelerator names it)",
}
RELIABILITY = {
    "system": "system preset",
    "gpus": "accelerators in the job (count)",
    "days": "days of training to count interruptions over: days, or a duration with its unit (54, 2w, 12h)",
    "model": "model preset whose checkpoint is written",
    "checkpoint_size": "override the checkpoint size, bytes or with a unit, e.g. 5TB",
    "failure_rate": "failure-rate preset: rsc-1 | rsc-1-jobs | rsc-2 | llama3-h100 | epoch-h100; default: by "
                    "accelerator",
    "restart_s": "restart cost: seconds, or a duration with its unit (10min); default 600 s",
    "spare_trays_per_domain": "spare servers (trays) held in each scale-up domain that spans servers (NVL72), so "
                              "one failed tray does not take its domain out (count; default 0, an assumption)",
    "repair_s": "failure to server back in service: seconds, or a duration with its unit (3d); default 3 days, "
                "an assumption (the CLI's --repair-time)",
}
PLAN = {
    "scenario": "the scenario to plan: a shipped example preset, or an uploaded spec",
}


def described(words: dict[str, str]) -> Callable[[M], M]:
    """A class decorator: the model's fields named in `words` take those descriptions (nothing else changes).

    Each field's info is copied before it is changed, so an inherited field (`model`, `system`) keeps its
    description on the base class and on the other commands.
    """

    def apply(model: M) -> M:
        fields = model.__pydantic_fields__
        unknown = set(words) - set(fields)
        if unknown:
            raise TypeError(f"{model.__name__}: no fields {sorted(unknown)}")
        for name, text in words.items():
            info = copy.copy(fields[name])
            info.description = text
            fields[name] = info
        model.model_rebuild(force=True)
        return model

    return apply
