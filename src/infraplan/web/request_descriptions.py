"""What each web request field is: the CLI's help for the same option, word for word, as the web states it.

`web/` may not import `cli/` (sibling layers, import-linter), so each command's words are copied here from its
options' `help=` (cli/commands/*.py, cli/options.py), verbatim: tests/web/test_web_cli_help_sync_hW47.py reads every
CLI option's help and fails, with the text to paste, when one of these differs (a help text edited later). The web
shows them through `request_fields.web_words`, the one rule for what differs on the web (file words dropped, upload
words said so, this command's `--flag` written as the request's field name; moved there, hE62). Fields the
web takes otherwise than the CLI (a list for a range string, a preset or an upload for a file, a true default for a
`--no-` flag) have the web's own words (`WEB_OWN`, each with its reason). `described` gives a request
model's fields these descriptions (the /docs page and /openapi.json show them).
"""

from __future__ import annotations

import copy
from typing import TypeVar

from infraplan.catalog.video_schemas import CODECS, QUALITIES
from infraplan.limits import NO_SPARE_POLICY_HELP, SHRINK_UNIT_HELP
from infraplan.web.request_fields import WebRequest, takes_upload, web_words

M = TypeVar("M", bound=type[WebRequest])

_MODEL = "model preset or path to an HF config.json"
_SYSTEM = "system preset or path to a system YAML"
_GPUS = "accelerators used"
_PP = "pipeline stages"
_SEQ_LEN = "sequence length in tokens"
_GLOBAL_BATCH = "global batch in sequences"
_SCHEDULE = ("pipeline schedule [train: the stack's one schedule where it ships one other than 1f1b (deepseek-v3: "
             "dualpipe), else interleaved if --vpp > 1, else 1f1b; search: every one the stack's framework ships, "
             "its pipeline_schedules]")
_TRAIN_STACK = ("software-stack profile: a preset (catalog/stacks: megatron-lm-2021, megatron-core-0.8, nemo-24.12, "
                "nemo-26.04, deepspeed, torchtitan, trtllm-0.x, vllm-0.x, ...) or a stack YAML [default: nemo-26.04, "
                "stated in the output]")
_SERVING_SYSTEM = "system preset, system YAML, or an accelerator preset"
_INPUT_LEN = "fixed prompt length, tokens"
_OUTPUT_LEN = "fixed output length, tokens"
_SEED = "random seed for arrivals and lengths"
_FABRIC = "clos | rail-only [default: the system's own]"
_COOLING = ("air | liquid | immersion or YAML file [default: air if a server/rack unit fits 30 kW, else liquid; "
            "liquid for a liquid-only part]")
_BUILD_TYPE = "hyperscale | low-cost | high-cost | ai-campus or YAML file"
_ELECTRICITY = "override the electricity price, e.g. 70/MWh or 0.07/kWh (a bare number: USD/MWh)"
_LORA_TARGETS = ("with --lora-rank: the projections the adapters are on: attention (Q, K, V, O) | all (every linear "
                 "layer but the router: a MoE's shared experts, and one adapter shared by each rank's routed experts, "
                 "as Megatron-Bridge) [default: attention]")
_OPTIMIZER = ("adam | muon: the optimizer every plan steps with (muon: Megatron-Core's Muon on the 2-D weights, "
              "Newton-Schulz priced, AdamW on the tables; megatron stacks) [default: the stack's or its model "
              "recipe's: adam, kimi-k2 on nemo-26.04 muon]")
TRAIN = {
    "model": _MODEL,
    "system": _SYSTEM,
    "gpus": _GPUS,
    "tp": "tensor parallel degree (with sequence parallelism)",
    "pp": _PP,
    "dp": "data parallel degree [default: GPUs/(TP·PP·CP)]",
    "cp": "context parallel degree",
    "ep": "expert parallel degree (MoE), inside DP (or folded over TP x CP x DP with --etp)",
    "etp": "expert tensor parallel degree (MoE parallel folding; default: TP, Megatron-Core's default)",
    "vpp": "virtual (interleaved) stages per pipeline stage (default: chosen for PP >= 4, said in notes; else 1)",
    "seq_len": _SEQ_LEN,
    "global_batch": _GLOBAL_BATCH,
    "micro_batch": "micro-batch in sequences",
    "recompute": ("activation recomputation; auto: the least that leaves the memory margin free, else the least "
                  "that fits (stated in the output)"),
    "recompute_layers": ("with --recompute full: recompute only the first K layers of each model chunk (Megatron "
                         "block method; 0: every layer)"),
    "offload_layers": ("with --recompute none and --pp 1: offload the saved activations of the first N layers to host "
                       "memory (Megatron-Core cpu_offloading; 0: none)"),
    "zero": "ZeRO stage 0-3 (3 = FSDP); default: the one the stack runs at this PP (torchtitan 3, with PP 2; NeMo 1)",
    "dtype": "GEMM precision",
    "attention": "attention kernels (unfused: Megatron before 2023)",
    "order": ("rank placement, innermost first: tp-cp-pp-dp (Llama 3) | tp-cp-dp-pp (Megatron) [the stack's "
              "rank_order: tp-cp-dp-pp on Megatron-Core / NeMo / deepseek-v3 / DeepSpeed stacks, else tp-cp-pp-dp]"),
    "sequence_parallel": "split norms/dropout over TP (Megatron since 2022)",
    "schedule": _SCHEDULE,
    "stack": _TRAIN_STACK,
    "sharp": ("IB SHARP in-network all-reduce for the DP gradients (NCCL CollNet, NCCL_COLLNET_ENABLE=1; the stack's "
              "nccl_collnet); InfiniBand SHARP switches only"),
    "zero_shard": ("hybrid sharding (HSDP / distributed-optimizer instances): ZeRO over N of the DP x CP ranks, "
                   "replicated across the groups (N divides DP x CP; torchtitan ZeRO-2/3, nemo-26.04 ZeRO-1) "
                   "[default: all of DP x CP]"),
    "lora_rank": ("fine-tune a frozen base with LoRA adapters of this rank: no weight gradients, optimizer states or "
                  "DP gradient reduction for the base; MFU in Megatron-Bridge's LoRA FLOP count [default: every weight "
                  "trained]"),
    "lora_targets": _LORA_TARGETS,
    "optimizer": _OPTIMIZER,
    "dsa_stage": ("sparse | warmup: a DeepSeek Sparse Attention model's training stage (warmup: the dense warm-up, "
                  "the model frozen and forward only, the lightning indexer alone trained by its KL loss; "
                  "training/dsa_warmup.py) [default: sparse]"),
    "memory_margin": ("share of the accelerator's memory the plan should leave free after everything priced (the "
                      "allocator's fragmentation, what is not priced); less is flagged low_memory_headroom, as search "
                      "--memory-margin flags it, and --recompute auto, given a margin, takes the least recompute "
                      "leaving it (default 0.05, an ASSUMPTION)"),
    "tokens": ("train on this many tokens (e.g. 15.6T): adds wall clock with failures and checkpoints, goodput, "
               "GPU-hours, energy, CO2 and cost"),
    "location": "grid/price location preset or YAML file for --tokens",
    "server_price": "server $ per accelerator for --tokens (overrides the catalog)",
    "eval_every": ("with --tokens: evaluate after every N sequences trained (24576, 50M tokens or 12 steps; rounded up "
                   "to whole steps): the evaluations join the wall clock, GPU-hours, energy and cost"),
    "eval_samples": ("with --eval-every: sequences one evaluation runs forward at the plan (11590, 24M tokens or 6 "
                     "steps)"),
    "no_spare_policy": NO_SPARE_POLICY_HELP,
}
SEARCH = {
    "model": _MODEL,
    "system": _SYSTEM,
    "seq_len": _SEQ_LEN,
    "global_batch": _GLOBAL_BATCH,
    "dtype": ("bf16 | fp8 | mxfp8 | nvfp4 | auto (the fastest the accelerator has with a published pre-training "
              "recipe for the model's class: no nvfp4 for MoE; the answer names the best other)"),
    "top": "plans to list",
    "objective": "time | memory",
    "cross_node_tp": "let TP leave the scale-up domain",
    "schedule": _SCHEDULE,
    "stack": _TRAIN_STACK,
    "mfu_guard": ("rank plans above the best published MFU of the accelerator family after those within it; default: "
                  "on, off on what-if hardware (a file that differs from its preset); compare a what-if with its "
                  "preset under --no-mfu-guard on both"),
    "sharp": ("IB SHARP in-network all-reduce for every plan's DP gradients (NCCL CollNet, as train --sharp; ZeRO 0 "
              "plans gain); InfiniBand SHARP switches only"),
    "memory_margin": ("share of the accelerator's memory a plan should leave free after everything priced (the "
                      "allocator's fragmentation, what is not priced); plans with less are ranked after those with it "
                      "(default 0.05, an ASSUMPTION)"),
    "lora_rank": ("price every plan as LoRA fine-tuning of a frozen base with adapters of this rank, as train "
                  "--lora-rank (MFU in its LoRA FLOP count; no MFU guard: no published LoRA MFU) [default: every "
                  "weight trained]"),
    "lora_targets": _LORA_TARGETS,
    "optimizer": _OPTIMIZER,
    "dsa_stage": ("sparse | warmup: price every plan in this training stage of a DeepSeek Sparse Attention model, as "
                  "train --dsa-stage (warmup: the dense warm-up, the model frozen and forward only, the lightning "
                  "indexer alone trained; no MFU guard: no published warm-up MFU) [default: sparse]"),
    "tokens": ("train on this many tokens (e.g. 15.6T): adds the best plan's whole run, as train --tokens of its "
               "train_command (one GPU count)"),
    "location": "grid/price location preset or YAML file for --tokens",
    "server_price": "server $ per accelerator for --tokens (overrides the catalog)",
    "eval_every": TRAIN["eval_every"],
    "eval_samples": TRAIN["eval_samples"],
    "no_spare_policy": NO_SPARE_POLICY_HELP,
}
SERVE = {
    "model": "model preset or HF config.json (diffusion model for image-generation)",
    "system": _SERVING_SYSTEM,
    "gpus": _GPUS,
    "tp": "tensor parallel degree, or 'auto'",
    "pp": _PP,
    "ep": ("expert parallel degree inside the TP group (MoE) [1]; with --attention-dp: over all attention-DP x TP "
           "accelerators [attention DP x TP]"),
    "attention_dp": ("wide EP: data-parallel attention ranks per replica, experts spread over all their accelerators "
                     "(DeepSeek / SGLang decode) [1]"),
    "moe_tp": ("with --attention-dp: accelerators each expert's FFN is split over (TensorRT-LLM "
               "moe_tensor_parallel_size; EP x MoE TP = attention DP x TP, --ep then defaults to attention DP x TP / "
               "MoE TP) [1]"),
    "speculative_tokens": "MTP / speculative draft tokens per decode step [0]",
    "acceptance": ("per-token acceptance rate of the draft tokens, needed with --speculative-tokens (DeepSeek-V3 MTP: "
                   "0.85-0.9)"),
    "dtype": "weight precision",
    "kv_dtype": ("KV cache precision [the model config's quantization_config, else fp8 with fp8 or nvfp4 weights, "
                 "else bf16]"),
    "offline": "all requests present at t=0 (max throughput)",
    "rate": "arrival rate, requests/s",
    "concurrency": "closed loop: N clients, each sending its next request when its last one ends (benchmark clients)",
    "engine": "old alias of --stack",
    "stack": ("serving stack profile: trtllm-0.x | vllm-0.x | sglang-0.x | pytorch-mtia, a versioned engine name "
              "(vllm-0.12.0) or a stack YAML: KV-memory rule, batch defaults, scheduler, custom all-reduce [the part's "
              "vendor's: trtllm-0.x on NVIDIA, vllm-0.x on AMD / TPU, sglang-0.x on Gaudi, pytorch-mtia (an "
              "ASSUMPTION profile) on MTIA]"),
    "input_len": _INPUT_LEN,
    "output_len": _OUTPUT_LEN,
    "workload": "chat | code-completion | summarization | image-generation | path to a workload YAML",
    "requests": ("requests to simulate [2000; --concurrency N: 10 per client, at least 2000; a trace: all; images at "
                 "a --rate: the length the p99 needs at its utilisation, 10,000 to 200,000]"),
    "max_batch": ("sequences per engine [256; --offline or --concurrency: the stack's offline_max_batch (trtllm-0.x "
                  "2048); images: 16]"),
    "token_budget": ("tokens per iteration (chunked prefill), one attention-DP rank's (SGLang's "
                     "--chunked-prefill-size N at --dp D: N / D) [the stack's: 8192; sglang-0.x by GPU memory, 16384 "
                     "from 160 GiB, / --attention-dp]"),
    "ttft_slo": "TTFT SLO: seconds, or 200ms, 2s (images: latency SLO)",
    "tpot_slo": "TPOT SLO: seconds, or 50ms",
    "prefill_gpus": "accelerators of a disaggregated prefill pool [0: colocated]",
    "prefill_tp": ("the prefill pool's own TP degree; with any --prefill-* layout flag, "
                   "--tp/--pp/--ep/--attention-dp/--moe-tp/--max-batch are the decode pool's [decode's]"),
    "prefill_pp": "the prefill pool's pipeline stages [decode's]",
    "prefill_ep": "the prefill pool's EP degree [attention DP x TP / MoE TP with --prefill-attention-dp > 1, else 1]",
    "prefill_attention_dp": "the prefill pool's attention-DP ranks per worker [1]",
    "prefill_max_batch": "sequences per prefill engine [decode's]",
    "prefill_moe_tp": ("with --prefill-attention-dp: the prefill pool's accelerators each expert's FFN is split over "
                       "(as --moe-tp for the decode pool) [1]"),
    "prefill_token_budget": ("the prefill pool's tokens per iteration, one rank's [--token-budget; else the stack's "
                             "on --prefill-attention-dp]"),
    "usd_per_hour": "$ per accelerator-hour [catalog]",
    "seed": "random seed for arrivals and lengths [0]; not with --trace",
}
SERVE_PLAN = {
    "model": _MODEL,
    "system": _SERVING_SYSTEM,
    "rate": "target arrival rate, requests/s",
    "workload": "chat | code-completion | summarization | YAML",
    "input_len": _INPUT_LEN,
    "output_len": _OUTPUT_LEN,
    "ttft_slo": "TTFT SLO, s or 2s [workload's]",
    "tpot_slo": "TPOT SLO, s or 50ms [workload's]",
    "percentile": "SLO percentile for TTFT and TPOT: 50, 90 or 99",
    "dtypes": "weight dtypes (bf16,fp8,int8,int4,nvfp4,mxfp4,mxfp8)",
    "kv_dtype": ("KV cache precision of every deployment tried [each weight dtype's as serve takes it: the model "
                 "config's quantization_config, else fp8 with fp8 or nvfp4 weights, else bf16]"),
    "speculative_tokens": ("MTP / speculative draft tokens per decode step of every deployment tried, as serve prices "
                           "them [0]"),
    "acceptance": ("per-token acceptance rate of the draft tokens, needed with --speculative-tokens (DeepSeek-V3 MTP: "
                   "0.85-0.9) [--try-speculative: 0.85]"),
    "try_speculative": ("search every layout with and without the model's MTP module as the draft (DeepSeek-V3 / R1; "
                        "the stack must run it); ties go to plain decoding, the answer says which"),
    "max_batch": "batch caps to consider, sequences per engine, comma-separated",
    "token_budget": ("tokens per iteration (chunked prefill) of every deployment tried, one attention-DP rank's, as "
                     "serve --token-budget takes it [the stack's: 8192; vllm-0.x the batch cap above it; sglang-0.x by "
                     "GPU memory, 16384 from 160 GiB, / attention DP]"),
    "max_gpus": "search limit, accelerators [the system's size]",
    "requests": "requests per probe simulation (a larger number is refused, naming the limit)",
    "seed": _SEED,
    "stack": ("serving stack profile: trtllm-0.x | vllm-0.x | sglang-0.x | pytorch-mtia, a versioned engine name "
              "(vllm-0.12.0) or a stack YAML: KV-memory rule, scheduler, token budget [the part's vendor's: trtllm-0.x "
              "on NVIDIA, vllm-0.x on AMD / TPU, sglang-0.x on Gaudi, pytorch-mtia (an ASSUMPTION profile) on MTIA]"),
}
RECSYS = {
    "model": "DLRM preset (dlrm-low, dlrm-medium, dlrm-high, mlperf-dlrm-dcnv2) or file",
    "accelerator": ("accelerator or system preset, or YAML path (mtia-v1, ...; a system such as mtia-400-rack runs on "
                    "its accelerator)"),
    "batch": "samples per batch [default: the model's, or best for SLO]",
    "latency_slo": "batch latency SLO: seconds, or 20ms (a bare number above 0.5 is refused as ms)",
}
VIDEO = {
    "device": "msvp, or a CPU preset (xeon-8480, epyc-9654), or a device YAML",
    "input": ("input [WIDTHx]HEIGHTp[FPS], e.g. 2160p60, 1080p (30 fps) or 1080x1920p30 (portrait: laddered on its "
              "short side, as 1080p)"),
    "ladder": "output rungs (top N of the ladder at or below the input) [default: 5, or every rung a lower input has]",
    "codec": " | ".join(CODECS),  # the catalog's codecs, as the CLI's help
    "quality": " | ".join(QUALITIES),
    "daily_hours": "hours of video ingested per day",
    "peak_to_average": "fleet sizing factor over the daily average",
    "baseline": ("compare with another device (a preset or a device YAML) on platform watts (default for msvp: its "
                 "catalog CPU baseline, xeon-8480; 'none': no comparison)"),
}
NETWORK = {
    "system": "system preset, system YAML, or an accelerator preset (or give it as --system)",
    "gpus": "GPUs to connect [default: the whole system]",
    "fabric": _FABRIC,
}
COLLECTIVE = {
    "op": "all-reduce | reduce-scatter | all-gather | all-to-all | send-recv",
    "system": _SYSTEM,
    "gpus": "GPUs in the group",
    "size": ("buffer size per rank, a whole number of bytes, e.g. 1GiB, 256MB or 4096 (a bare number is bytes, "
             "the unit in the option's name)"),
    "placement": "packed | spread (evenly over the system)",
    "algorithm": "collective algorithm",
    "sim": "analytical (alpha-beta) or flow-level model",
    "flows_per_pair": ("flows (QPs) per GPU pair (flow sim; each hashed onto one path on an ECMP fabric, spread on "
                       "an adaptive one) [default: the system's]"),
    "seed": "seed of the ECMP hashes and failed links (flow sim; an adaptive fabric hashes nothing) [0]",
    "failed_links": ("flow sim: fail uplinks of a tier, TIER:COUNT or TIER:FRACTION (e.g. pod:1%), chosen with "
                     "--seed; routing avoids them"),
    "fabric": _FABRIC,
    "sharp": ("enable IB SHARP in-network all-reduce (NCCL CollNet, NCCL_COLLNET_ENABLE=1) where the fabric's "
              "switches support it"),
}
FACILITY = {
    "system": _SYSTEM,
    "accelerator": ("accelerator or system preset, or YAML path (with --count; a system builds a count it holds "
                    "on its own fabric, as `network`, a larger one as its accelerator)"),
    "count": ("number of accelerators (with --accelerator); above one zone (2,048 NIC links) built as `campus` builds "
              "them: zones joined at 1:7"),
    "cooling": _COOLING,
    "location": "location preset (ohio, louisiana, ...) or YAML file [default: us-average]",
    "build_type": _BUILD_TYPE,
    "rack_power": "target rack density, e.g. 40kW (without --cooling: the first of air, liquid, immersion that "
                  "allows it)",
    "pue": "override the PUE (facility power / IT power, dimensionless)",
    "electricity_price": _ELECTRICITY,
    "server_price": "override server $ per accelerator",
}
CAMPUS = {
    "power": "facility power budget, e.g. 1GW",
    "accelerator": "accelerator or system preset, or YAML path, e.g. gb200 (a system: its accelerator)",
    "cooling": _COOLING,
    "phases": "build-out, YEAR:SHARE, e.g. 2026:0.3,2027:0.7 (a date as plan's: 2026, 2026H2, 2026Q3, 2026-07; "
              "shares sum <= 1)",
    "location": "location preset or YAML [default: us-average]",
    "build_type": _BUILD_TYPE,
    "fleet": "fleet preset or YAML of sites (replaces --power)",
    "pue": "override the PUE (facility power / IT power, dimensionless; as `facility --pue`)",
    "electricity_price": _ELECTRICITY,
    "server_price": "override server $ per accelerator (the cost_reason of an unpriced accelerator names it)",
    "reserve": ("share of the power budget kept unbuilt (redundancy, derating, growth), 0 to below 1 [default: 0, the "
                "whole budget built at peak IT draw x PUE]"),
}
RELIABILITY = {
    "system": _SERVING_SYSTEM,
    "gpus": "accelerators in the job",
    "days": "days of training to count interruptions over (54, or 54d, 2w, 12h)",
    "model": ("model whose checkpoint is written: preset or path to an HF config.json (given with --plan: the "
              "plan's model)"),
    "checkpoint_size": ("the checkpoint's size, e.g. 5TB, instead of --model's at --optimizer's bytes (both then "
                        "unused for its size; --plan still prices --model's plan)"),
    "failure_rate": "rsc-1 | rsc-1-jobs | rsc-2 | llama3-h100 | epoch-h100 or a YAML file [default: by accelerator]",
    "restart_s": "restart cost: seconds, or 10min [default: 600]",
    "spare_trays_per_domain": ("spare servers (trays) held in each scale-up domain that spans servers (NVL72), so one "
                               "failed tray does not take its domain out [default: 0, an assumption]"),
    "repair_s": "failure to server back in service: 3d, 36h, or seconds [default: 3 days, an assumption]",
    "checkpoint_interval_s": ("compute time between checkpoints, where the goodput is priced: seconds, or 30min "
                              "[default: Daly's optimum]"),
    "optimizer": ("adam | muon: the optimizer whose state the model's checkpoint holds (adam: bf16 weights, fp32 "
                  "master, m and v, 14 B a parameter; muon: one fp32 momentum, 10 B a matrix parameter, the "
                  "embedding and LM head AdamW's 14 B); with --plan, the plan's where given, else train's (the "
                  "stack's recipe's)"),
    "no_spare_policy": NO_SPARE_POLICY_HELP,
    "shrink_unit": SHRINK_UNIT_HELP,
}
PLAN = {
    "vary": ("tornado: NAME=LOW..HIGH, NAME=±P% or NAME=-P%..+Q% (electricity, pue, headroom, POOL.price, "
             "POOL.available, SITE.power); repeatable"),
    "optimality_gap": ("also prove a lower bound on the optimum and say how far the answer can be from it (prices "
                       "every count of every pool: slower)"),
}
COMPARE: dict[str, str] = {}  # its one field, scenarios, is the web's own (WEB_OWN)

WEB_OWN: dict[str, dict[str, str]] = {
    # the CLI's --gpus is one text (N, a list N1,N2 or a range LO:HI:xF); the web takes a JSON list of counts
    "search": {"gpus": "GPU counts: one (top plans) or several (scaling curve)"},
    # the CLI has only --no-disaggregation ("colocated deployments only"); the web's field is true by default
    "serve-plan": {"disaggregation": "also consider disaggregated prefill/decode deployments; false: colocated "
                                     "deployments only (the CLI's --no-disaggregation)"},
    # the CLI takes scenario YAML files; the web a shipped preset or an uploaded spec (`ScenarioInput`)
    "plan": {"scenario": "the scenario to plan: a shipped example preset, or an uploaded spec"},
    "compare": {"scenarios": "the scenarios, the first being the base of the deltas"},
    # the CLI's --plan is train's flags in one text (train's parser); the web takes a train body's fields
    "reliability": {"plan": "the job's plan: a train body's plan fields (tp, pp, seq_len, global_batch, dtype, ...; "
                            "model, given, system, gpus and optimizer, else train's, are reliability's own): shrink "
                            "sheds its data-parallel replicas at its smaller plans' speed, as train with tokens "
                            "prices the same job "
                            "[default: no plan, each replica at full speed]"},
}
"""Command -> field -> the web's own words, where the web takes the field otherwise than the CLI (each with its
reason); the test lists these fields, so a new one is a reviewed exception, not a silent copy."""
CLI_HELP: dict[str, dict[str, str]] = {
    "train": TRAIN, "search": SEARCH, "serve": SERVE, "serve-plan": SERVE_PLAN, "recsys": RECSYS, "video": VIDEO,
    "network": NETWORK, "collective": COLLECTIVE, "facility": FACILITY, "campus": CAMPUS,
    "reliability": RELIABILITY, "plan": PLAN, "compare": COMPARE}
"""Command -> field -> its CLI option's help, verbatim (what the sync test compares)."""


def described(model: M) -> M:
    """A class decorator: each field of the command's request model (`model.command`) takes its description, the
    CLI's words through `web_words` or the web's own (`WEB_OWN`); nothing else changes, and a field with neither, or
    words for a field the model lacks, is a TypeError at import.

    Each field's info is copied before it is changed, so an inherited field (`model`, `system`) keeps its
    description on the base class and on the other commands.
    """
    command = model.command
    words, own = CLI_HELP[command], WEB_OWN.get(command, {})
    fields = model.__pydantic_fields__
    flags = {flag: name for name, flag in model.cli_names().items()}
    given = set(words) | set(own)
    bare, unknown, both = set(fields) - given, given - set(fields), set(words) & set(own)
    if bare or unknown or both:
        raise TypeError(f"{model.__name__}: fields without words {sorted(bare)} (copy the CLI option's help into "
                        f"request_descriptions, or give the web's own in WEB_OWN); words for no field "
                        f"{sorted(unknown)}; in both {sorted(both)}")
    for name in fields:
        info = copy.copy(fields[name])
        info.description = own[name] if name in own else web_words(words[name], flags, takes_upload(info.annotation))
        fields[name] = info
    model.model_rebuild(force=True)
    return model
