"""Release-specific kernels of the Hopper serving sets (measured AIConfigurator tables of the release that ran) and
the prefix-cache hits of a client that reuses its prompts (`validation.serving_prefix_reuse`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.cluster import Cluster
from infraplan.serving import decode_kernels, format_precision
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import fixed_requests
from infraplan.validation import serving_hopper as sh
from infraplan.validation import serving_prefix_reuse as pr
from infraplan.validation.serving_row_rules import SYSTEMS


def _shape():
    data, name = read_entry("models", "llama3-8b")
    return shape_from_hf_config(data, name)


def _vllm_012_row(kv: str = "fp8") -> dict[str, str]:
    return {"id": "v", "model_path": "nvidia/Llama-3.1-8B-Instruct-FP8", "system": "h200_sxm", "precision": kv,
            "backend": "vllm", "backend_version": "0.12.0", "isl": "4000", "osl": "1000", "batch_size": "128",
            "tp_size": "1", "pp_size": "1",
            "silicon_data_source": "source_file=/Users/harrli/projects/aic-auto-gap-analysis/data/h200_sxm/vllm/0.12.0/"
                                   "nvidia_Llama-3.1-8B-Instruct-FP8.csv; silicon_concurrency=128"}


def test_vllm_012_reads_its_fp8_cache_at_the_measured_rate(monkeypatch):
    # AIConfigurator 0.7.0's vLLM 0.12.0 H200 table: an fp8 cache read at 0.48 of HBM (bf16 0.74): a decode step's
    # KV term per cached token grows ~1.8x against the roofline's 0.88
    acc = Cluster.resolve(SYSTEMS["h200_sxm"]).accelerator
    dep = sh.row_deployment(_vllm_012_row())
    assert dep.kv_dtype == "fp8" and dep.stack.endswith("vllm-0.12.yaml")
    release = build_iteration_cost(_shape(), acc, Cluster.resolve(SYSTEMS["h200_sxm"]).fabric, dep)
    monkeypatch.setattr(decode_kernels, "RELEASE_DECODE_ATTENTION", False)
    roofline = build_iteration_cost(_shape(), acc, Cluster.resolve(SYSTEMS["h200_sxm"]).fabric, dep)
    assert release.kv_token_s == pytest.approx(roofline.kv_token_s * 0.88 / 0.476, rel=0.02)
    assert release.decode_fixed_s == pytest.approx(16.1e-6 * 32, rel=1e-6)
    other = sh.row_deployment({**_vllm_012_row(), "backend_version": ""})  # another vLLM: the shipped profile
    assert other.stack == "vllm-0.x"


def test_trtllm_1_0_0rc3_stack_carries_its_measured_gemm_rates(monkeypatch):
    # 1.0.0rc3's measured GEMMs: fp8 at 0.50 of peak (catalog 0.63), bf16 at 0.85 (catalog 0.70); grouped expert
    # GEMMs keep the catalog's rate
    acc = Cluster.resolve(SYSTEMS["h100_sxm"]).accelerator
    stack = sh.data_stack("trtllm-1.0.0rc3-dynamo-agg.yaml")
    monkeypatch.setattr(format_precision, "RELEASE_MATMUL_RATE", True)  # adopted hT52 (the module docstring)
    fp8 = format_precision.serving_precision(acc, "fp8", stack)
    assert fp8.rate == pytest.approx(acc.peak("fp8") * 0.501) and fp8.grouped_rate == pytest.approx(
        acc.peak("fp8") * 0.63)
    assert format_precision.serving_precision(acc, "bf16", stack).rate == pytest.approx(acc.peak("bf16") * 0.847)
    monkeypatch.setattr(format_precision, "RELEASE_MATMUL_RATE", False)
    assert format_precision.serving_precision(acc, "fp8", stack).rate == pytest.approx(acc.peak("fp8") * 0.63)


def _fp8_body(preset: str, release: bool, monkeypatch) -> np.ndarray:
    data, name = read_entry("models", preset)
    cluster = Cluster.resolve(SYSTEMS["h100_sxm"])
    dep = Deployment(tp=8, ep=8 if "a22b" in preset else 1, dtype="fp8", kv_dtype="fp8", engine="trtllm",
                     stack=sh.data_stack("trtllm-1.0.0rc3-dynamo-agg.yaml"), max_batch=64, token_budget=8192)
    monkeypatch.setattr(format_precision, "RELEASE_MATMUL_RATE", release)
    return build_iteration_cost(shape_from_hf_config(data, name), cluster.accelerator, cluster.fabric, dep).body_s


def test_release_fp8_rate_is_per_tensor_only(monkeypatch):
    # hT52: 1.0.0rc3's fp8 0.50 is its per-tensor fp8 GEMM (gemm_dtype fp8): a dense Qwen3-32B fp8 prompt of 4,096
    # tokens runs its layers > 10 % slower with it; a block-fp8 checkpoint (Qwen3-235B, `FP8_BLOCK_MODEL_TYPES`)
    # keeps its own block-fp8 table and the catalog rate: its body is unchanged by the release's per-tensor figure
    dense_on, dense_off = (_fp8_body("qwen3-32b", flag, monkeypatch) for flag in (True, False))
    assert dense_on[4096] > 1.10 * dense_off[4096]
    moe_on, moe_off = (_fp8_body("qwen3-235b-a22b", flag, monkeypatch) for flag in (True, False))
    np.testing.assert_allclose(moe_on, moe_off, rtol=1e-12)


def test_cached_prompt_tokens_skip_their_prefill():
    cluster = Cluster.resolve(SYSTEMS["h200_sxm"])
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64)
    requests = fixed_requests(320, 4000, 100, None, 0)
    cold = simulate_deployment(_shape(), cluster, dep, requests, clients=32)
    hit = simulate_deployment(_shape(), cluster, dep, requests, clients=32, cached_tokens=np.full(320, 3984))
    assert hit["ttft_s"]["mean"] < 0.5 * cold["ttft_s"]["mean"] and hit["tpot_s"]["mean"] < cold["tpot_s"]["mean"]


def test_prefix_reuse_only_on_bench_run_rows_of_a_caching_engine(monkeypatch):
    monkeypatch.setattr(pr, "PREFIX_REUSE", True)
    row = _vllm_012_row()
    assert pr.bench_run_measured(row)  # one concurrency per config, vLLM 0.12.0's first template in 0.7.0
    hits = pr.cached_prompt_tokens(row, "vllm", 16, 2_000_000, 1280)
    assert hits is not None and (hits == 3984).all()  # 128 clients: aiperf's 100 prompts all drawn in warm-up
    few = pr.cached_prompt_tokens({**row, "batch_size": "16"}, "vllm", 16, 2_000_000, 160)
    assert few is not None and (few[:14] == 0).all() and (few[14:] == 3984).all()  # (100 - 32) / 800 of 160
    assert pr.cached_prompt_tokens(row, "vllm", 16, 400_000, 1280) is None  # 100 prompts overflow the pool: LRU
    assert pr.cached_prompt_tokens(row, "trtllm", 32, 2_000_000, 1280) is None  # block reuse off in the templates
    grid = {**row, "model_path": "Qwen/Qwen3-32B", "precision": "", "silicon_data_source":
            "source_file=/Users/harrli/projects/aic-auto-gap-analysis/data/h100_sxm/vllm/0.12.0/Qwen_Qwen3-32B.csv"}
    assert not pr.bench_run_measured(grid)  # 8-128 grid: the eval pipeline's unique prompts
    sglang = {**row, "backend": "sglang", "backend_version": "0.5.6.post2", "silicon_data_source":
              "source_file=/Users/harrli/projects/aic-auto-gap-analysis/data/h200_sxm/sglang/0.5.6.post2/"
              "meta-llama_Llama-3.1-8B-Instruct.csv"}
    assert not pr.bench_run_measured(sglang)  # its first template (0.6.0) predates bench_run.sh
    monkeypatch.setattr(pr, "PREFIX_REUSE", False)
    assert pr.cached_prompt_tokens(row, "vllm", 16, 2_000_000, 1280) is None


def test_bench_run_rows_average_the_start_up_burst_over_its_50_requests_per_client(monkeypatch):
    # AIConfigurator 0.7.0 bench_run.sh.j2:36-37 (the first template of vLLM 0.12.0): --num-requests 50 x c after
    # 2 x c warm-up; the eval pipeline's rows run 10 x c. The burst of c prompts at the profiled run's start is then
    # 1 / 50 of each client's requests, not 1 / 10 (measured TP1 c128 4000/1000: TTFT 115 ms, TPOT 22 ms)
    row = _vllm_012_row()
    grid = {**row, "model_path": "Qwen/Qwen3-32B", "precision": "", "silicon_data_source":
            "source_file=/Users/harrli/projects/aic-auto-gap-analysis/data/h100_sxm/vllm/0.12.0/Qwen_Qwen3-32B.csv"}
    assert pr.requests_per_client(row, sh.REQUESTS_PER_CLIENT) == 50
    assert pr.requests_per_client(grid, sh.REQUESTS_PER_CLIENT) == sh.REQUESTS_PER_CLIENT == 10
    bench = sh.run_row(row)
    monkeypatch.setattr(pr, "BENCH_RUN_LENGTH", False)
    assert pr.requests_per_client(row, sh.REQUESTS_PER_CLIENT) == 10
    ten = sh.run_row(row)
    assert bench["ttft_s"] < 0.6 * ten["ttft_s"]  # 0.31 s against 0.67 s: the burst's (c + 1) / 2 prefills
    assert bench["tpot_s"] == pytest.approx(ten["tpot_s"], rel=0.05)  # the steady state's decode is the same
