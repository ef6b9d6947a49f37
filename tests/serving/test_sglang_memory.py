"""SGLang's default mem_fraction_static by release, GPU memory and parallel size (`serving.sglang_memory`), the KV
pool it leaves, and the release stacks the measured Hopper rows run."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.ops.params import RUNTIME_RESERVE_BYTES
from infraplan.serving import sglang_memory
from infraplan.serving.engines import load_engine
from infraplan.serving.kv_cache import kv_capacity
from infraplan.serving.sglang_memory import MIB, default_cuda_graph_max_bs, mem_fraction_static, static_pool_bytes
from infraplan.serving.stack_placement import where_it_runs
from infraplan.validation import serving_hopper as sh

H100, H200 = load_accelerator("h100-sxm"), load_accelerator("h200")


def test_the_0_5_1_rule_reserves_by_memory_tier_and_parallel_size():
    # server_args.py:376 / :382: (9.5 + TP x PP / 2) GiB on H100 (81,559 MiB), (12 + TP x PP / 2) GiB on H200
    assert [mem_fraction_static("sglang-0.5.1", H100.memory_bytes, tp) for tp in (1, 2, 4, 8)] == [
        0.874, 0.868, 0.856, 0.831]
    assert [mem_fraction_static("sglang-0.5.1", H200.memory_bytes, tp) for tp in (1, 2, 4, 8)] == [
        0.911, 0.907, 0.9, 0.886]
    assert mem_fraction_static("sglang-0.5.1", H100.memory_bytes, 2, pp=2) == mem_fraction_static(
        "sglang-0.5.1", H100.memory_bytes, 4)  # TP x PP
    assert mem_fraction_static("sglang-0.5.1", H100.memory_bytes, 8, dp=8) == pytest.approx(
        round((81559 - (13.5 + 4) * 1024) / 81559, 3))  # + 4 GiB with DP attention


def test_the_0_5_6_rule_reserves_for_the_prefill_chunk_and_the_graphs():
    # 512 MiB + 1.5 x 8192 + 2 x cuda_graph_max_bs (256 below TP4, 512 from TP4) + TP / 8 GiB
    reserved = 512 + 1.5 * 8192 + 2 * 256 + 1024 / 8
    assert mem_fraction_static("sglang-0.5.6", H100.memory_bytes, 1) == round((81559 - reserved) / 81559, 3) == 0.835
    assert [mem_fraction_static("sglang-0.5.6", H100.memory_bytes, tp) for tp in (2, 4, 8)] == [0.834, 0.824, 0.818]
    assert [mem_fraction_static("sglang-0.5.6", H200.memory_bytes, tp) for tp in (1, 8)] == [0.907, 0.897]
    # the rule changed: 0.5.1 gave an H100 more static memory, an H200 about the same
    assert mem_fraction_static("sglang-0.5.1", H100.memory_bytes, 1) > mem_fraction_static(
        "sglang-0.5.6", H100.memory_bytes, 1) + 0.03
    assert [default_cuda_graph_max_bs(m * 1024, 1) for m in (16, 24, 40, 80, 141, 180)] == [8, 24, 32, 256, 256, 512]
    # DP attention's own term left out (its 4.5 MiB x 512 graphs x DP exceeds a GPU at wide-EP sizes): the GPUs count
    assert mem_fraction_static("sglang-0.5.6", H200.memory_bytes, 8, dp=8) == mem_fraction_static(
        "sglang-0.5.6", H200.memory_bytes, 8)
    # the 10 GiB floor applies above 60 GiB only: a 20 GiB GPU (2048-token chunks, 24 graphs) reserves 3.7 GiB
    small = 20 * 1024 + 1
    assert mem_fraction_static("sglang-0.5.6", small * MIB, 1) == round(
        (small - (512 + 1.5 * 2048 + 2 * 24 + 128)) / small, 3)


def test_unknown_memory_and_a_non_sglang_rule():
    assert mem_fraction_static("sglang-0.5.6", 0.0, 1) == 0.88  # server_args.py `else 0.88`
    with pytest.raises(InputError, match="not an SGLang rule"):
        mem_fraction_static("by_tp", H100.memory_bytes, 1)


def test_the_shipped_profile_sizes_the_kv_pool_by_the_0_5_6_rule():
    qwen = load_model("qwen3-32b")
    cap = kv_capacity(qwen, H100, 1, 1, "bf16", "bf16", 8192, 256, engine="sglang-0.x")
    # the fraction of the memory free before the weights load (model_runner.py :828-853): total less the reserve
    free = H100.memory_bytes - RUNTIME_RESERVE_BYTES
    assert cap.kv_cache_bytes == pytest.approx(0.835 * free - cap.weights_bytes)
    # Qwen3-32B bf16 on one H100 by hand: 0.835 x (81,559 MiB - 1.5 GB) = 70.16 GB less 65.52 GB of weights (32.8 B
    # parameters, its model card, x 2 B) = 4.63 GB
    # (4.3 GiB), 1,104 blocks of 16 tokens at 256 KiB a token (64 layers x 8 KV heads x 128 x K, V x 2 B); 5.5 GiB
    # and ~22k tokens of the total's fraction before session 49, 9.1 GiB / 37k at the 0.4 series' 0.88
    assert cap.weights_bytes == pytest.approx(65.52e9, rel=1e-3) and cap.kv_bytes_per_token == 64 * 8 * 128 * 2 * 2
    assert cap.kv_cache_bytes == pytest.approx(4.634e9, rel=1e-3) and cap.blocks == 1104
    eight = kv_capacity(load_model("llama3-8b"), H200, 8, 1, "fp8", "fp8", 8192, 256, engine="sglang")
    assert eight.kv_cache_bytes == pytest.approx(0.897 * (H200.memory_bytes - RUNTIME_RESERVE_BYTES)
                                                 - eight.weights_bytes)
    assert load_engine("sglang-0.x").memory_fraction(1, H200.memory_bytes) == 0.907


def test_the_0_5_1_rows_run_their_release_stack_and_nothing_else_differs():
    row = {"precision": "", "backend": "sglang", "backend_version": "0.5.1.post1", "batch_size": "16",
           "isl": "1024", "tp_size": "1", "pp_size": "1"}
    dep = sh.row_deployment(row)
    assert dep.stack.endswith("sglang-0.5.1.yaml")
    engine = load_engine(dep.stack)
    assert engine.fraction_rule == "sglang-0.5.1" and engine.memory_fraction(1, H100.memory_bytes) == 0.874
    a, b = load_stack(dep.stack), load_stack("sglang-0.x")
    assert a.serving is not None and b.serving is not None
    assert a.serving.cuda_graph_max_batch == 160 and not a.serving.cuda_graph_max_batch_by_tp  # cuda_graph_runner
    assert a.serving.model_copy(update={"mem_fraction_rule": "sglang-0.5.6", "cuda_graph_max_batch": 256,
                                        "cuda_graph_max_batch_by_tp": [(4, 512)],
                                        "token_budget_by_memory_gib": b.serving.token_budget_by_memory_gib,
                                        "token_budget_by_memory_source": b.serving.token_budget_by_memory_source,
                                        **where_it_runs(b.serving)}) == b.serving
    assert a.model_dump(exclude={"name", "display_name", "serving"}) == b.model_dump(
        exclude={"name", "display_name", "serving"})
    # later releases: the shipped 0.5.6 rule (through the mixed-chunk profile of the generated flags)
    later = load_engine(sh.row_deployment({**row, "backend_version": "0.5.8.post1"}).stack)
    assert later.fraction_rule == "sglang-0.5.6" and later.scheduler == "sglang-adder"


def _llama_row(backend: str, version: str, model: str) -> dict[str, str]:
    """A Llama-3.1-8B "fp8" row of the set on one H200: 20 clients, ISL 8000, OSL 100 (gap-analysis harness)."""
    return {"id": "l", "model_path": model, "system": "h200_sxm", "precision": "fp8", "backend": backend,
            "backend_version": version, "isl": "8000", "osl": "100", "batch_size": "20", "tp_size": "1",
            "pp_size": "1", "silicon_data_source": "source_file=/x/aic-auto-gap-analysis/data/h200_sxm/l.csv"}


def test_sglang_runs_a_bf16_checkpoint_in_bf16_with_its_fp8_kv_cache(monkeypatch):
    # no --quantization in SGLang's defaults or AIConfigurator's SGLang templates: the weights stay as stored
    row = _llama_row("sglang", "0.5.6.post2", "meta-llama/Llama-3.1-8B-Instruct")
    dep = sh.row_deployment(row)
    assert (dep.dtype, dep.kv_dtype) == ("bf16", "fp8")
    fp8_ckpt = sh.row_deployment({**row, "model_path": "nvidia/Llama-3.1-8B-Instruct-FP8"})
    assert (fp8_ckpt.dtype, fp8_ckpt.kv_dtype) == ("fp8", "fp8")
    vllm = sh.row_deployment({**row, "backend": "vllm", "backend_version": "0.12.0"})
    assert vllm.dtype == "fp8"  # the rule is SGLang's
    bf16 = sh.run_row(row)
    monkeypatch.setattr(sh, "SGLANG_CHECKPOINT_DTYPE", False)
    assert sh.row_deployment(row).dtype == "fp8"
    fp8 = sh.run_row(row)
    # twice the weight bytes per decode step and bf16 prefill GEMMs: both metrics slower, towards the measured
    # 712 ms / 33.9 ms of that row
    assert bf16["tpot_s"] > 1.05 * fp8["tpot_s"] and bf16["ttft_s"] > 1.2 * fp8["ttft_s"]


def test_the_pool_is_the_fraction_of_the_memory_free_before_the_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    # model_runner_kv_cache_mixin.py:143-149 (0.5.9): rest = free after the weights - free before them x (1 - f)
    # = f x free before - weights, free before = 80 GB - 1.5 GB of runtime reserve: 0.8 x 78.5 - 50 = 12.8 GB
    assert static_pool_bytes(0.8, 80e9, 50e9, 1e9, 1.5e9) == pytest.approx(12.8e9)
    # an activation workspace above the rest (0.2 x 78.5 = 15.7 GB) takes its excess from the pool: 20 - 15.7
    assert static_pool_bytes(0.8, 80e9, 50e9, 20e9, 1.5e9) == pytest.approx(12.8e9 - 4.3e9)
    # below zero: SGLang refuses to start ("Not enough memory", :415-418); the value says by how much
    assert static_pool_bytes(0.8, 80e9, 70e9, 1e9, 1.5e9) == pytest.approx(-7.2e9)
    monkeypatch.setattr(sglang_memory, "POOL_OF_AVAILABLE", False)  # the rule before session 49: f x the total
    assert static_pool_bytes(0.8, 80e9, 50e9, 1e9, 1.5e9) == pytest.approx(14e9)
    assert static_pool_bytes(0.8, 80e9, 50e9, 20e9, 1.5e9) == pytest.approx(14e9 - (21.5e9 - 16e9))
