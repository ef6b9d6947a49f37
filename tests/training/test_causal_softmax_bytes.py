"""Megatron's causal fused softmax reads only the unmasked lower triangle of the scores (issue 12, vTrain).

`scaled_upper_triang_masked_softmax_warp_forward` / `_backward` (Megatron-LM megatron/fused_kernels/
scaled_upper_triang_masked_softmax.h, v2.x-v3.0) load the first row+1 elements of each score row and write the
whole row (zeros above the diagonal): forward 1 B read + 2 B written per bf16 score on average, backward 2 + 2 B;
attention dropout adds 5 B each way. The unfused attention core is its batched GEMMs plus those passes.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import shape_from_hf_config
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, gemm_time, memory_bound_time
from infraplan.training.attention_core import attention_core_times
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

CONFIGS = {  # h 1024, 16 heads of 64: GPT-2 family trains with attention dropout, Llama without
    "gpt2": {"model_type": "gpt2", "n_embd": 1024, "n_head": 16, "n_layer": 24, "vocab_size": 51200,
             "n_positions": 2048},
    "llama": {"model_type": "llama", "hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 24,
              "intermediate_size": 4096, "vocab_size": 32000, "max_position_embeddings": 2048},
}


@pytest.mark.parametrize(("family", "fwd_bytes", "bwd_bytes"), [("gpt2", 8.0, 9.0), ("llama", 3.0, 4.0)])
def test_unfused_causal_attention_moves_half_the_scores_through_the_softmax(family: str, fwd_bytes: float,
                                                                             bwd_bytes: float) -> None:
    shape = shape_from_hf_config(CONFIGS[family], family)
    assert shape.uses_dropout == (family == "gpt2")
    batch, seq, tp = 4, 1024, 2
    plan = PlanArrays.build(tp=np.array([float(tp), float(tp)]), pp=1, dp=1, cp=1, ep=1, vpp=1, micro_batch=batch,
                            global_batch=batch, seq_len=seq, recompute=Recompute.FULL, zero=0, dtype=Dtype.BF16,
                            attention=Attention.UNFUSED, order=RankOrder.TP_CP_DP_PP)
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-a100-superpod").accelerator, "bf16")
    fwd, bwd = attention_core_times(shape, rates, plan, batch * seq)
    heads, d = 16 / tp, 64.0
    rows = batch * heads * seq
    scores = rows * seq

    def bmm(m: float, n: float, k: float) -> float:
        return float(np.ravel(gemm_time(rates, m, n, k, 2.0, rates.matmul_flops_per_s))[0])

    bmm_fwd = bmm(rows, seq, d) + bmm(rows, d, seq)
    bmm_bwd = 2.0 * bmm(rows, d, seq) + bmm(rows, seq, d) + bmm(rows, d, seq)
    softmax_fwd = float(np.ravel(memory_bound_time(rates, fwd_bytes * scores, kernels=2))[0])
    softmax_bwd = float(np.ravel(memory_bound_time(rates, bwd_bytes * scores, kernels=2))[0])
    np.testing.assert_allclose(fwd, bmm_fwd + softmax_fwd, rtol=1e-9)
    np.testing.assert_allclose(bwd, bmm_bwd + softmax_bwd, rtol=1e-9)
    # a full-row pass (every score read) would cost more: the triangle is what the kernel loads
    full_fwd = float(np.ravel(memory_bound_time(rates, (fwd_bytes + 1.0) * scores, kernels=2))[0])
    assert np.all(fwd < bmm_fwd + full_fwd)
