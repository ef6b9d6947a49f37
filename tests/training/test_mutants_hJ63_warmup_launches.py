"""The DSA warm-up's indexer forward launches at least its kernels (hJ, session 63; hJ62's survivor D8).

Independent truth, a count of kernels from the model's code: the lightning indexer's three linears (DeepSeek-V3.2's
`Indexer`: wq_b on the q latent, wk and weights_proj on the hidden state; 1,536 x 64 x 128 + 7,168 x (128 + 64)
weights a layer, hJ62's hand count), each a GEMM launch; its logits kernel and its top-k kernel (vLLM 0.12.0
deepseek_v2.py:679 `fp8_mqa_logits`, :691 `top_k_per_row`); and the warm-up's KL target, the main attention's
distribution (DeepSeek-V3.2-Exp sec. 2.1), in at least one more kernel. So one more second of launch overhead adds
at least 3 + 2 + 1 = 6 s to one layer's forward, and at least the three weight-gradient GEMMs and one score-gradient
kernel (4 s) to its backward (the frozen model's inputs need no gradient)."""

from __future__ import annotations

import dataclasses

from infraplan.training import dsa_warmup
from infraplan.training.estimate import resolve_training
from infraplan.training.one_plan_memo import cluster_pricing


def test_a_second_a_launch_adds_at_least_six_to_the_forward() -> None:
    point = resolve_training("deepseek-v3.2", "h800", 128, seq_len=4096, stack="deepseek-v3", tp=8, ep=16,
                             global_batch=16, dtype="fp8", recompute="full", zero=1)
    rates = cluster_pricing(point.cluster, point.profile).rates
    slow = dataclasses.replace(rates, kernel_overhead_s=rates.kernel_overhead_s + 1.0)
    fwd, bwd = dsa_warmup.indexer_layer_seconds(point.shape, rates, point.plan.one_row)
    fwd_slow, bwd_slow = dsa_warmup.indexer_layer_seconds(point.shape, slow, point.plan.one_row)
    assert fwd_slow - fwd >= 6.0 - 1e-9  # 3 projections + logits + top-k + >= 1 KL-target pass
    assert bwd_slow - bwd >= 4.0 - 1e-9  # 3 weight gradients + >= 1 score-gradient kernel
