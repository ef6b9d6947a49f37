"""DeepSeek Sparse Attention's indexer scores run on fp8 tensor cores at twice the bf16 rate where the part has them
(`ops.sparse_attention.indexer_score_flops_per_s`); a part listing no fp8 peak (A100) has none to run them on, and
is priced at its bf16 rate in training and serving alike (hI61: it was given the 2x in both, silently)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.sparse_attention import INDEXER_FP8_SPEEDUP, indexer_score_flops_per_s
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.training.attention_core import INDEXER_KERNELS, indexer_times, sparse_attention_notes
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

A100 = Cluster.resolve("dgx-a100-superpod")
H100 = Cluster.resolve("dgx-h100-superpod")
LAYERS = 61


def test_the_score_rate_follows_the_parts_fp8_tensor_cores() -> None:
    a100 = KernelRates.for_dtype(A100.accelerator, "bf16")
    h100 = KernelRates.for_dtype(H100.accelerator, "bf16")
    assert not a100.fp8_tensor_cores and h100.fp8_tensor_cores
    assert indexer_score_flops_per_s(a100.attention_flops_per_s, a100.fp8_tensor_cores) == a100.attention_flops_per_s
    fp8 = indexer_score_flops_per_s(h100.attention_flops_per_s, h100.fp8_tensor_cores)
    assert fp8 == INDEXER_FP8_SPEEDUP * h100.attention_flops_per_s


def test_training_indexer_on_a_part_without_fp8_at_its_bf16_rate() -> None:
    v32, seq = load_model("deepseek-v3.2"), 4096
    rates = KernelRates.for_dtype(A100.accelerator, "bf16")
    plan = PlanArrays.build(tp=np.full(1, 1), pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=1, global_batch=16,
                            seq_len=seq, recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)
    fwd, _ = indexer_times(v32, rates, plan, float(seq))
    # 16,384 FLOPs a pair over 4,096 x 2,048 causal pairs at the bf16 fused-attention rate (no 2x)
    expected = seq * 16384 * 2048 / rates.attention_flops_per_s + INDEXER_KERNELS * rates.kernel_overhead_s
    assert float(np.ravel(fwd)[0]) == pytest.approx(expected, rel=1e-9)


def test_training_note_says_the_scores_run_at_the_bf16_rate() -> None:
    v32 = load_model("deepseek-v3.2")
    (a100,) = sparse_attention_notes(v32, A100.accelerator)
    (h100,) = sparse_attention_notes(v32, H100.accelerator)
    assert "at its bf16 rate (a100-80gb lists no fp8 peak" in a100
    assert "indexer's fp8 scores" in h100 and "bf16 rate" not in h100


def test_serving_prefill_scores_on_a_part_without_fp8_at_its_bf16_rate() -> None:
    dep = Deployment(tp=8, dtype="bf16", kv_dtype="bf16", engine="trtllm", stack="trtllm-0.x", max_batch=64,
                     token_budget=8192)
    cost = build_iteration_cost(load_model("deepseek-v3.2"), A100.accelerator, A100.fabric, dep)
    rates = KernelRates.for_dtype(A100.accelerator, "bf16")
    # compute-bound: 16,384 FLOPs a (query, key) pair a layer at the bf16 fused-attention rate (no 2x)
    assert cost.pair_s == pytest.approx(2 * 64 * 128 * LAYERS / rates.attention_flops_per_s, rel=1e-9)
