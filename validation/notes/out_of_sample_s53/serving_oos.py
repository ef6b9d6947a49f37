"""Out-of-sample check of the serving model (hO, session 53): published serving figures NOT in the repo.

Every published figure is RECALLED (no copy is readable on the dev VM); the source, the confidence and each row's
ASSUMPTIONS are in the rows below and in validation/notes/serving_hopper_moe_tried.md, section "hO (session 53)".
Physics is not fitted to these rows: they are the out-of-sample check.

Two kinds of row, each through the repo's own path and against the naive answer `validate` computes for its kind:
* throughput rows (MLPerf Offline / Server, trtllm-bench-style max throughput): `validation.inference.
  run_inference_case` with the MLPerf v5.1 file's engine (MLPerf rows) or inference.yaml's (trtllm-bench rows);
  naive = `validation.inference_frontier.roofline_tokens_per_s` x the efficiency fitted on the in-repo MLPerf v5.1
  set (`V51_EFFICIENCY`, /tmp/lead53/base_validate.json, HEAD e3d5005);
* latency rows (batch-1 or closed-loop TPOT): the `serve` CLI in-process (`--json`); naive = `validation.
  serving_roofline.roofline_seconds` / the TPOT efficiency fitted on the in-repo dense Hopper set (`TPOT_EFFICIENCY`).
Coverage: the `serve` answer's own error band (`error_band`, residual = predicted / published - 1) for the same
system, stack and mode; a row is covered when its residual lies in [low, high].
Run from the repository root: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s53/serving_oos.py [ids]
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from typing import Any

import numpy as np

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.cli.main import main as cli_main
from infraplan.serving.llm_iteration import Deployment
from infraplan.validation.inference import load_inference_cases, run_inference_case
from infraplan.validation.inference_frontier import load_frontier_cases, roofline_tokens_per_s
from infraplan.validation.serving_roofline import roofline_seconds

V51_EFFICIENCY = 0.1713850286512742  # MLPerf v5.1 set's fitted roofline efficiency (base_validate.json)
TPOT_EFFICIENCY = 0.41320648570853874  # dense Hopper set's fitted TPOT efficiency (base_validate.json)
TTFT_EFFICIENCY = 0.11625573895533474  # dense Hopper set's fitted TTFT efficiency (base_validate.json)

OO = "openorca-mlperf"
# kind "mlperf": MLPerf v5.1 file's engine; "bench": inference.yaml's engine (trtllm-bench), `max_batch` overrides
THROUGHPUT: list[dict[str, Any]] = [
    dict(id="mlperf-v4.0-l2-70b-h100-offline", kind="mlperf", group="dense Hopper", conf="moderate",
         source="MLPerf Inference v4.0 (2024-03-27), NVIDIA 8x H100-SXM-80GB TensorRT-LLM, llama2-70b-99 Offline; "
                "NVIDIA's v4.0 blog: H200 31,712 tok/s '45 % more than H100'",
         model="llama2-70b", system="dgx-h100-superpod", gpus=8, deployment=dict(tp=2, pp=1, dtype="fp8",
         kv_dtype="fp8"), workload=OO, requests=24576, scenario="offline", published=21806.0,
         assumed="as the in-repo v4.1 H100 row: TP2 x 4, fp8 weights and KV"),
    dict(id="mlperf-v4.0-l2-70b-h100-server", kind="mlperf", group="dense Hopper", conf="low",
         source="MLPerf Inference v4.0, NVIDIA 8x H100 TensorRT-LLM, llama2-70b-99 Server (TTFT p99 2 s, TPOT p99 "
                "200 ms)", model="llama2-70b", system="dgx-h100-superpod", gpus=8,
         deployment=dict(tp=2, pp=1, dtype="fp8", kv_dtype="fp8"), workload=OO, requests=8000, scenario="server",
         slo=dict(ttft_s=2.0, tpot_s=0.2), published=20556.0, assumed="as the Offline row"),
    dict(id="mlperf-v4.1-mixtral-h200-offline", kind="mlperf", group="MoE Hopper", conf="low",
         source="MLPerf Inference v4.1 (2024-08-28), NVIDIA 8x H200 TensorRT-LLM, mixtral-8x7b Offline",
         model="mixtral-8x7b", system="hgx-h200", gpus=8, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"),
         workload="mixtral-mlperf", requests=15000, scenario="offline", published=59022.0,
         assumed="TP1 x 8 by the v5.1 file's dense rule; the v5.1 file's Mixtral lengths"),
    dict(id="mlperf-v5.0-l2-70b-b200-offline", kind="mlperf", group="Blackwell", conf="low",
         source="MLPerf Inference v5.0 (2025-04-02), NVIDIA 8x B200 TensorRT-LLM FP4, llama2-70b-99 Offline",
         model="llama2-70b", system="dgx-b200", gpus=8, deployment=dict(tp=1, pp=1, dtype="nvfp4", kv_dtype="fp8"),
         workload=OO, requests=24576, scenario="offline", published=98443.0,
         assumed="TP1 x 8 nvfp4 as the v5.1 B200 Llama 2 70B rows"),
    dict(id="mlperf-v5.0-l3.1-405b-gb200-offline", kind="mlperf", group="Blackwell", conf="moderate",
         source="MLPerf Inference v5.0 (2025-04-02), NVIDIA GB200 NVL72 (72 GPUs) TensorRT-LLM, llama3.1-405b "
                "Offline, NVIDIA blog", model="llama3.1-405b", system="gb200-nvl72", gpus=72,
         deployment=dict(tp=4, pp=1, dtype="nvfp4", kv_dtype="fp8"), workload="longcontext-405b", requests=8313,
         scenario="offline", published=13886.0,
         assumed="TP4 x 18 nvfp4 by the dense rule (as the v5.1 B200 405B rows); the v5.1 file's 405B lengths"),
    # session 52's MLPerf rows (validation/notes/serving_hopper_moe_tried.md, "hO (session 52)", rows 1-8), re-run
    dict(id="s52-1-mlperf-v4.0-l2-70b-h200-offline", kind="mlperf", group="dense Hopper", conf="good",
         source="MLPerf v4.0, NVIDIA 8x H200 (1,000 W custom thermal) TensorRT-LLM, NVIDIA blog 2024-03-27",
         model="llama2-70b", system="hgx-h200", gpus=8, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"),
         workload=OO, requests=24576, scenario="offline", published=31712.0, assumed="TP1 x 8 (dense rule)"),
    dict(id="s52-2-mlperf-v4.0-l2-70b-h200-server", kind="mlperf", group="dense Hopper", conf="good",
         source="same, Server", model="llama2-70b", system="hgx-h200", gpus=8,
         deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"), workload=OO, requests=8000, scenario="server",
         slo=dict(ttft_s=2.0, tpot_s=0.2), published=29526.0, assumed="as row 1"),
    dict(id="s52-3-mlperf-v4.1-l2-70b-h200-offline", kind="mlperf", group="dense Hopper", conf="moderate",
         source="MLPerf v4.1, NVIDIA 8x H200, NVIDIA blog 2024-08-28", model="llama2-70b", system="hgx-h200",
         gpus=8, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"), workload=OO, requests=24576,
         scenario="offline", published=34864.0, assumed="as row 1"),
    dict(id="s52-4-mlperf-v4.1-l2-70b-h200-server", kind="mlperf", group="dense Hopper", conf="low",
         source="same, Server", model="llama2-70b", system="hgx-h200", gpus=8,
         deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"), workload=OO, requests=8000, scenario="server",
         slo=dict(ttft_s=2.0, tpot_s=0.2), published=32790.0, assumed="as row 1"),
    dict(id="s52-5-mlperf-v4.1-l2-70b-mi300x-offline", kind="mlperf", group="dense other", conf="moderate",
         source="MLPerf v4.1, AMD 8x MI300X vLLM, AMD blog 2024-08-28", model="llama2-70b", system="mi300x-cluster",
         stack="vllm-0.9-rocm.yaml", gpus=8, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"), workload=OO,
         requests=24576, scenario="offline", published=23514.0,  # RECALLED, AMD's v4.1 chart: Offline 23,514
         assumed="TP1 x 8, the v5.1 file's MI300X stack; 21,028 (until hJ56) is the chart's Server figure, "
                 "not Offline (hB56; the same figure as s56's v41-l2-70b-mi300x-genoa-offline)"),
    dict(id="s52-6-mlperf-v4.1-l2-70b-b200-offline", kind="mlperf", group="Blackwell", conf="good",
         source="MLPerf v4.1 preview, NVIDIA 1x B200 FP4, NVIDIA blog 2024-08-28 ('4x H100')", model="llama2-70b",
         system="dgx-b200", gpus=1, deployment=dict(tp=1, pp=1, dtype="nvfp4", kv_dtype="fp8"), workload=OO,
         requests=24576, scenario="offline", published=11264.0, assumed="nvfp4, fp8 KV"),
    dict(id="s52-7-mlperf-v4.1-l2-70b-b200-server", kind="mlperf", group="Blackwell", conf="good",
         source="same, Server", model="llama2-70b", system="dgx-b200", gpus=1,
         deployment=dict(tp=1, pp=1, dtype="nvfp4", kv_dtype="fp8"), workload=OO, requests=8000, scenario="server",
         slo=dict(ttft_s=2.0, tpot_s=0.2), published=10755.0, assumed="as row 6"),
    # NVIDIA's Llama 4 launch blog (2025-04-05): "over 40K tokens/s (Scout) and over 30K (Maverick) on DGX B200"
    dict(id="nv-llama4-maverick-b200-max-throughput", kind="bench", group="Blackwell", conf="low",
         source="NVIDIA tech blog 2025-04-05 (Llama 4 launch): Llama 4 Maverick on DGX B200, TensorRT-LLM, over 30K "
                "output tok/s (FP8)", model="llama4-maverick", system="dgx-b200", gpus=8,
         deployment=dict(tp=8, pp=1, ep=8, dtype="fp8", kv_dtype="fp8"), input_len=1000, output_len=1000,
         requests=4096, scenario="offline", published=30000.0,
         assumed="TP8 EP8 fp8, ISL/OSL 1000/1000 (not recalled), max throughput = offline"),
    dict(id="s52-14-nim-dsr1-h200", kind="bench", group="MoE Hopper", conf="good",
         source="NVIDIA blog 2025-01-30: DeepSeek-R1 NIM, 8x H200, 3,872 tok/s (settings not stated)",
         model="deepseek-r1", system="hgx-h200", gpus=8, deployment=dict(tp=8, pp=1, dtype="fp8", kv_dtype="fp8"),
         input_len=1000, output_len=1000, requests=2048, scenario="offline", published=3872.0,
         assumed="TP8, offline 1000/1000 (ASSUMPTION)"),
    # TensorRT-LLM docs/source/blogs/H200launch.md (TensorRT-LLM v0.5, Nov 2023): max throughput, 1 GPU, FP8
    dict(id="trtllm-h200launch-l2-13b-128-128", kind="bench", group="dense Hopper", conf="moderate",
         source="TensorRT-LLM H200launch.md: 'H200 achieves nearly 12,000 tok/s on Llama2-13B', 1 GPU, FP8, "
                "ISL/OSL 128/128, batch 1024", model="llama2-13b", system="hgx-h200", gpus=1,
         deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"), input_len=128, output_len=128, requests=4096,
         scenario="offline", published=11819.0, max_batch=1024, assumed="fp8 KV; 4 x batch requests"),
    dict(id="trtllm-h200launch-l2-70b-128-128", kind="bench", group="dense Hopper", conf="low",
         source="TensorRT-LLM H200launch.md: Llama2-70B, 1 GPU H200, FP8, ISL/OSL 128/128, batch 512",
         model="llama2-70b", system="hgx-h200", gpus=1, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"),
         input_len=128, output_len=128, requests=2048, scenario="offline", published=3014.0, max_batch=512,
         assumed="fp8 KV; 4 x batch requests"),
    dict(id="trtllm-h200launch-l2-70b-2048-128", kind="bench", group="dense Hopper", conf="low",
         source="TensorRT-LLM H200launch.md: Llama2-70B, 1 GPU H200, FP8, ISL/OSL 2048/128, batch 64",
         model="llama2-70b", system="hgx-h200", gpus=1, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"),
         input_len=2048, output_len=128, requests=256, scenario="offline", published=341.0, max_batch=64,
         assumed="fp8 KV; 4 x batch requests"),
    # TensorRT-LLM perf-overview, H200 columns of the table whose H100 column the repo holds (inference.yaml)
    dict(id="trtllm-perf-l3.1-8b-h200-128-128", kind="bench", group="dense Hopper", conf="low",
         source="TensorRT-LLM perf-overview.md, Llama 3.1 8B FP8 TP1 H200, ISL/OSL 128/128 (trtllm-bench)",
         model="llama3.1-8b", system="hgx-h200", gpus=1, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"),
         input_len=128, output_len=128, requests=3000, scenario="offline", published=27970.0,
         assumed="as the in-repo H100 rows"),
    dict(id="trtllm-perf-l3.1-8b-h200-1000-1000", kind="bench", group="dense Hopper", conf="low",
         source="TensorRT-LLM perf-overview.md, Llama 3.1 8B FP8 TP1 H200, ISL/OSL 1000/1000 (trtllm-bench)",
         model="llama3.1-8b", system="hgx-h200", gpus=1, deployment=dict(tp=1, pp=1, dtype="fp8", kv_dtype="fp8"),
         input_len=1000, output_len=1000, requests=3000, scenario="offline", published=16931.0,
         assumed="as the in-repo H100 rows"),
    dict(id="gtc25-dsr1-b200-max-throughput", kind="bench", group="Blackwell", conf="low",
         source="NVIDIA GTC 2025 (2025-03-18) blog: DeepSeek-R1 on one DGX B200 (8 GPUs, FP4, TensorRT-LLM) ~30,000 "
                "tok/s maximum throughput", model="deepseek-r1", system="dgx-b200", gpus=8,
         deployment=dict(tp=8, pp=1, ep=8, dtype="nvfp4", kv_dtype="fp8"), input_len=1000, output_len=2000,
         requests=4096, scenario="offline", published=30000.0,
         assumed="TP8 EP8, ISL/OSL 1000/2000, no MTP (none recalled for the max-throughput figure)"),
]

# latency rows through `serve --json`: metric "tpot_ms" (mean TPOT) or "tok_s" (output tokens/s)
LATENCY: list[dict[str, Any]] = [
    dict(id="nim-l3.1-8b-h100-c200", group="dense Hopper", conf="low",
         source="NVIDIA NIM launch material (2024, recalled chart): Llama 3.1 8B Instruct on 1x H100 SXM, FP8, 200 "
                "concurrent requests, ISL/OSL 1000/1000: ~6,350 output tok/s with NIM (TensorRT-LLM)",
         args="llama3.1-8b --system dgx-h100-superpod --gpus 1 --tp 1 --dtype fp8 --concurrency 200 --input-len 1000 "
              "--output-len 1000", metric="tok_s", published=6350.0,
         naive=dict(model="llama3.1-8b", system="h100_sxm", tp=1, dtype="fp8", clients=200, isl=1000, osl=1000),
         assumed="ISL/OSL 1000/1000 and 200 clients as recalled; stack trtllm-0.x"),
    dict(id="s52-15-trtllm-dsr1-b200-min-latency", group="Blackwell", conf="moderate",
         source="NVIDIA tech blog 2025-05 (TensorRT-LLM DeepSeek-R1 min latency): 8x B200 FP4, batch 1, ISL/OSL "
                "1k/2k, MTP 3: 368 tok/s/user", args="deepseek-r1 --system dgx-b200 --gpus 8 --tp 8 --dtype nvfp4 "
         "--concurrency 1 --input-len 1000 --output-len 2000 --requests 4 --speculative-tokens 3 --acceptance 0.8",
         metric="tok_s_user", published=368.0, naive=None, assumed="3 drafts at 0.80 acceptance (ASSUMPTION)"),
    dict(id="medusa-blog-l3.1-70b-h200-tp8-b1", group="dense Hopper", conf="low",
         source="NVIDIA tech blog 2024-09 'Low latency inference chapter 1: up to 1.9x higher Llama 3.1 performance "
                "with Medusa on HGX H200': 70B 268 tok/s/user with Medusa, 1.5x over no Medusa -> 179 tok/s/user",
         args="llama3.1-70b --system hgx-h200 --gpus 8 --tp 8 --dtype fp8 --concurrency 1 --input-len 1000 "
              "--output-len 1000 --requests 4", metric="tpot_ms", published=1000.0 / 179.0,
         naive=dict(model="llama3.1-70b", system="h200_sxm", tp=8, dtype="fp8", clients=1, isl=1000, osl=1000),
         assumed="ISL/OSL 1000/1000 (not recalled); the figure without Medusa is 268 / 1.5 (derived)"),
    dict(id="medusa-blog-l3.1-405b-h200-tp8-b1", group="dense Hopper", conf="low",
         source="same blog: 405B 108 tok/s/user with Medusa, 1.9x over no Medusa -> 56.8 tok/s/user",
         args="llama3.1-405b --system hgx-h200 --gpus 8 --tp 8 --dtype fp8 --concurrency 1 --input-len 1000 "
              "--output-len 1000 --requests 4", metric="tpot_ms", published=1000.0 / 56.8,
         naive=dict(model="llama3.1-405b", system="h200_sxm", tp=8, dtype="fp8", clients=1, isl=1000, osl=1000),
         assumed="as the 70B row"),
]

MOE_TPOT_EFFICIENCY = 1.044  # the MoE / MLA set's fitted TPOT efficiency as session 52 quoted it (446 rows)

# wide-EP decode rows: the iteration model's decode step at `batch` rows a rank (`llm_iteration.decode_time`, no
# queueing), output tokens/s per GPU; naive = `roofline_seconds` TPOT / MOE_TPOT_EFFICIENCY at the same rows.
# Prefill rows run `serve` offline (one output token), input tokens/s per GPU.
WIDE_EP: list[dict[str, Any]] = [
    dict(id="s52-10-lmsys-dsv3-h100-decode-ep72", group="MoE Hopper", conf="moderate",
         source="LMSYS blog 2025-05-05, DeepSeek-V3 on 96 H100 (PD + large-scale EP), decode 22.3k output tok/s per "
                "node (EP72)", model="deepseek-v3", system="dgx-h100-superpod", key="h100_sxm", ranks=72, batch=256,
         context=2100, published=22300.0 / 8, assumed="256 rows a rank at context 2,100 (not recalled)"),
    dict(id="s52-13-lmsys-dsv3-gb200-decode-ep48", group="Blackwell", conf="moderate",
         source="LMSYS blog 2025-06, DeepSeek-V3 on GB200 NVL72, decode 7,583 tok/s per GPU (2,000-token inputs)",
         model="deepseek-v3", system="gb200-nvl72", key="gb200", ranks=48, batch=256, context=2100,
         published=7583.0, assumed="EP48, 256 rows a rank (not recalled)"),
    dict(id="lmsys-kimi-k2-h200-decode-ep96", group="MoE Hopper", conf="moderate",
         source="LMSYS blog 2025-07, Kimi K2 on 128 H200 (OME + SGLang, PD + large-scale EP): 288k output tok/s "
                "decode over the decode nodes", model="kimi-k2", system="hgx-h200", key="h200_sxm", ranks=96,
         batch=256, context=2100, published=288000.0 / 96,
         assumed="4 prefill + 12 decode nodes (EP32 / EP96, recalled 'xP yD' layout uncertain); 2,000-token "
                 "inputs; 256 rows a rank at context 2,100 (not recalled)"),
]
PREFILL: list[dict[str, Any]] = [
    dict(id="s52-9-lmsys-dsv3-h100-prefill-ep32", group="MoE Hopper", conf="moderate",
         source="LMSYS blog 2025-05-05: prefill 52.3k input tok/s per node at 2,000-token inputs (EP32)",
         args="deepseek-v3 --system dgx-h100-superpod --gpus 32 --tp 1 --attention-dp 32 --ep 32 --dtype fp8 "
              "--kv-dtype bf16 --stack sglang-0.x --offline --input-len 2000 --output-len 1 --requests 2048",
         published=52300.0 / 8, assumed="EP32 over 4 nodes", naive=dict(model="deepseek-v3", system="h100_sxm")),
    dict(id="lmsys-kimi-k2-h200-prefill-ep32", group="MoE Hopper", conf="moderate",
         source="LMSYS blog 2025-07, Kimi K2 on 128 H200: 224k input tok/s prefill over the prefill nodes",
         args="kimi-k2 --system hgx-h200 --gpus 32 --tp 1 --attention-dp 32 --ep 32 --dtype fp8 --kv-dtype bf16 "
              "--stack sglang-0.x --offline --input-len 2000 --output-len 1 --requests 2048",
         published=224000.0 / 32, assumed="4 prefill nodes (32 GPUs, EP32); 2,000-token inputs",
         naive=dict(model="kimi-k2", system="h200_sxm")),
]


def wide_ep_row(case: dict[str, Any]) -> dict[str, Any]:
    from infraplan.cluster import Cluster
    from infraplan.serving.engines import load_engine
    from infraplan.serving.llm_iteration import build_iteration_cost, decode_time

    cluster = Cluster.resolve(case["system"])
    profile = load_engine(case.get("stack", "sglang-0.x"))
    n = case["ranks"]
    dep = Deployment(tp=1, attention_dp=n, ep=n, dtype="fp8", kv_dtype="bf16", max_batch=case["batch"],
                     engine=profile.engine, stack=profile.ref)
    cost = build_iteration_cost(shape(case["model"]), cluster.accelerator, cluster.fabric, dep)
    step = float(decode_time(cost, case["batch"], case["context"]))
    naive_step = roofline_seconds(shape(case["model"]), case["key"], dep, dep, case["batch"], case["context"],
                                  0)["tpot_s"] / MOE_TPOT_EFFICIENCY
    band = serve_json(f"{case['model']} --system {case['system']} --gpus {n} --tp 1 --attention-dp {n} --ep {n} "
                      f"--dtype fp8 --stack {case.get('stack', 'sglang-0.x')} --offline --input-len 2000 "
                      f"--output-len 100 "
                      f"--requests 64")["error_band"]
    return {"predicted": case["batch"] / step, "naive": case["batch"] / naive_step, "band": band}


def prefill_row(case: dict[str, Any]) -> dict[str, Any]:
    out = serve_json(case["args"])
    if not out["fits"]:
        raise RuntimeError(f"{case['id']}: does not fit")
    n = case["naive"]  # one 2,000-token prompt's FLOPs on one rank at the dense set's TTFT efficiency
    dep = Deployment(tp=1, pp=1, dtype="fp8", kv_dtype="bf16")
    ttft = roofline_seconds(shape(n["model"]), n["system"], dep, dep, 1, 2000, 1)["ttft_s"] / TTFT_EFFICIENCY
    return {"predicted": out["input_tokens_per_s"] / out["deployment"]["gpus"], "naive": 2000 / ttft,
            "band": out["error_band"]}


SHAPES: dict[str, Any] = {}


def shape(model: str) -> Any:
    if model not in SHAPES:
        data, name = read_entry("models", model)
        SHAPES[model] = shape_from_hf_config(data, name)
    return SHAPES[model]


def serve_json(args: str) -> dict[str, Any]:
    buf = io.StringIO()
    argv = sys.argv
    sys.argv = ["infraplan", "serve", *args.split(), "--json"]
    try:
        with contextlib.redirect_stdout(buf):
            rc = cli_main()
    finally:
        sys.argv = argv
    if rc not in (0, None):
        raise RuntimeError(f"serve {args}: rc {rc}: {buf.getvalue()[-300:]}")
    return dict(json.loads(buf.getvalue()))


def band_args(case: dict[str, Any]) -> str:
    """A `serve` command of the throughput row's system, stack and mode, for its error band."""
    d = case["deployment"]
    return (f"{case['model']} --system {case['system']} --gpus {case['gpus']} --tp {d['tp']} --dtype {d['dtype']} "
            f"--ep {d.get('ep', 1)} --offline --input-len {case.get('input_len', 300)} "
            f"--output-len {case.get('output_len', 290)} --requests 64"
            + (f" --max-batch {case['max_batch']}" if "max_batch" in case else ""))


def throughput_row(case: dict[str, Any], frontier: dict[str, Any], bench: dict[str, Any]) -> dict[str, Any]:
    data = frontier if case["kind"] == "mlperf" else bench
    engine = {**data["engine"], **({"max_batch": case["max_batch"]} if "max_batch" in case else {})}
    full = {**case, "metric": "output_tokens_per_s"}
    row = run_inference_case(full, engine, data["workloads"], {})
    naive = V51_EFFICIENCY * roofline_tokens_per_s(full, {**data, "engine": engine})
    band = serve_json(band_args(case))["error_band"]
    return {"predicted": row["predicted"], "naive": naive, "band": band}


def latency_row(case: dict[str, Any]) -> dict[str, Any]:
    out = serve_json(case["args"])
    if not out["fits"]:
        raise RuntimeError(f"{case['id']}: does not fit")
    band = out["error_band"]
    if case["metric"] == "tpot_ms":
        predicted = out["tpot_s"]["mean"] * 1e3
    elif case["metric"] == "tok_s_user":
        predicted = 1.0 / out["tpot_s"]["mean"]
    else:
        predicted = out["output_tokens_per_s"]
    naive = None
    if case["naive"]:
        n = case["naive"]
        dep = Deployment(tp=n["tp"], pp=1, dtype=n["dtype"], kv_dtype="fp8")
        tpot = roofline_seconds(shape(n["model"]), n["system"], dep, dep, n["clients"], n["isl"], n["osl"])["tpot_s"]
        if case["metric"] == "tok_s":  # closed loop: every client decoding at the naive TPOT
            return {"predicted": predicted, "naive": n["clients"] * TPOT_EFFICIENCY / tpot, "band": band}
        naive = roofline_seconds(shape(n["model"]), n["system"], dep, dep, n["clients"], n["isl"],
                                 n["osl"])["tpot_s"] / TPOT_EFFICIENCY * 1e3
    return {"predicted": predicted, "naive": naive, "band": band}


TBO = "examples/stacks/sglang-deepep-tbo.yaml"  # SGLang as LMSYS ran it (DeepEP, DeepGEMM, TBO, EPLB)
PREFILL_STACK = "examples/stacks/sglang-deepep-prefill.yaml"
# each wide-EP row again on the stack file of the engine the source ran (session 52 / hY's examples)
WIDE_EP += [{**c, "id": c["id"] + "-deepep", "stack": TBO} for c in WIDE_EP]
PREFILL += [{**c, "id": c["id"] + "-deepep",
             "args": c["args"].replace("--stack sglang-0.x", f"--stack {PREFILL_STACK}")} for c in PREFILL]


def main(ids: list[str]) -> None:
    frontier, bench = load_frontier_cases(), load_inference_cases()
    results = []
    for case in THROUGHPUT + LATENCY + WIDE_EP + PREFILL:
        if ids and case["id"] not in ids:
            continue
        t0 = time.time()
        if case in THROUGHPUT:
            r = throughput_row(case, frontier, bench)
        elif case in WIDE_EP:
            r = wide_ep_row(case)
        elif case in PREFILL:
            r = prefill_row(case)
        else:
            r = latency_row(case)
        pub = case["published"]
        # a TPOT row's residual is in the throughput sense (published / predicted - 1) for the band check
        inverse = case.get("metric") == "tpot_ms"
        err = r["predicted"] / pub - 1.0
        nerr = None if r["naive"] is None else r["naive"] / pub - 1.0
        resid = (pub / r["predicted"] - 1.0) if inverse else err
        covered = r["band"]["low"] <= resid <= r["band"]["high"]
        mode = (case.get("scenario") or ("decode step" if case in WIDE_EP else "")
                or ("offline" if "--offline" in case.get("args", "") else "closed loop"))
        res = dict(id=case["id"], group=case["group"], conf=case["conf"], mode=mode,
                   published=pub, predicted=r["predicted"], error=err, naive=r["naive"], naive_error=nerr,
                   band=[r["band"]["low"], r["band"]["high"]], covered=covered, seconds=time.time() - t0)
        results.append(res)
        print(json.dumps(res), flush=True)
    summary: dict[str, Any] = {}
    # a wide-EP row on the shipped sglang-0.x beside its twin on the engine the source ran (-deepep): the twin counts
    twins = {r["id"] + "-deepep" for r in results} & {r["id"] for r in results}
    shipped = [r for r in results if r["id"] + "-deepep" in twins]
    results = [r for r in results if r not in shipped]
    groups = {"all": results, "wide EP on shipped sglang-0.x (not in 'all')": shipped}
    for r in results:
        groups.setdefault(r["group"], []).append(r)
        groups.setdefault("mode " + r["mode"], []).append(r)
        groups.setdefault("conf " + r["conf"], []).append(r)
    for name, rs in groups.items():
        both = [r for r in rs if r["naive_error"] is not None]
        summary[name] = dict(rows=len(rs), model=float(np.mean([abs(r["error"]) for r in rs])),
                             naive_rows=len(both),
                             model_on_naive_rows=float(np.mean([abs(r["error"]) for r in both])) if both else None,
                             naive=float(np.mean([abs(r["naive_error"]) for r in both])) if both else None,
                             covered=sum(r["covered"] for r in rs))
    print(json.dumps({"summary": summary}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
