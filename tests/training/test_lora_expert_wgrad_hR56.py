"""A frozen expert skips the weight gradient the full step priced (hR, session 56). `layer_time` prices a stack's
expert GEMMs as one grouped kernel (`expert_gemm: grouped`), runs of `expert_gemm_streams` grouped kernels, or one
GEMM per expert (nemo-26.04: per_expert, 1 stream); hF56's `frozen_base.frozen_layer_terms` took out the grouped
kernel's wgrad in every case, so on a per-expert stack a LoRA step kept the rest of the experts' weight gradients:
Qwen3-30B-A3B (16 local experts of 2,048 rows, EP 8, H100) fc1 473.5 us priced, 311.1 us skipped; fc2 268.7 / 157.5.
Now `expert_counts.expert_wgrad_time`: the full step's backward minus its data gradient, in each of the three forms."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.training.estimate import estimate_training
from infraplan.training.expert_counts import expert_wgrad_time
from infraplan.training.layer_kernels import gemm_fwd_bwd, output_width, stream_batched_fwd_bwd

RATES = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
BF16 = (RATES.matmul_flops_per_s, 2.0)
M, N, K, COUNT, SHARE = 2048.0, 1536.0, 2048.0, 16.0, 0.75  # Qwen3-30B-A3B's fc1 at EP 8 (one of two layer kinds)


def _layer_wgrad(routing: str, streams: int) -> float:
    """The layer's pricing (`layer_time.layer_times_but_ep`'s three forms): backward minus the data gradient,
    which is the forward of the swapped shape ((m x n) @ (n x k), at its own output width)."""
    if routing == "grouped":
        bwd = gemm_fwd_bwd(RATES, BF16, M, N, K, COUNT, True, SHARE, True)[1]
        dgrad = gemm_fwd_bwd(RATES, BF16, M, K, N, COUNT, True, SHARE, True)[0]
    elif streams > 1:
        bwd = stream_batched_fwd_bwd(RATES, BF16, M, N, K, COUNT, SHARE, True, streams=streams)[1]
        dgrad = stream_batched_fwd_bwd(RATES, BF16, M, K, N, COUNT, SHARE, True, streams=streams)[0]
    else:
        bwd = gemm_fwd_bwd(RATES, BF16, M, N, K, COUNT * SHARE, False, SHARE, True)[1]
        dgrad = gemm_fwd_bwd(RATES, BF16, M, K, N, COUNT * SHARE, False, SHARE, True)[0]
    return float(bwd) - float(dgrad)


@pytest.mark.parametrize(("routing", "streams"), [("grouped", 1), ("per_expert", 1), ("per_expert", 4)])
def test_the_skipped_wgrad_is_the_priced_one(routing: str, streams: int) -> None:
    stack = load_stack("nemo-26.04")
    moe = stack.moe.model_copy(update={"expert_gemm": routing, "expert_gemm_streams": streams})
    width = output_width(2.0, K, N, M)
    one = expert_wgrad_time(RATES, M, N, K, COUNT, SHARE, width, BF16[0], moe, True)
    assert one == pytest.approx(_layer_wgrad(routing, streams), rel=1e-12)
    grid = expert_wgrad_time(RATES, np.full(3, M), np.full(3, N), np.full(3, K), np.full(3, COUNT), SHARE,
                             np.full(3, width), np.full(3, BF16[0]), moe, False)
    assert np.allclose(grid, one, rtol=1e-12, atol=0.0)


def test_a_per_expert_lora_step_is_shorter() -> None:
    """Qwen3-30B-A3B on nemo-26.04 (per_expert), 8 H100, EP 8: attention adapters 2.540 -> 2.435 s a step, all
    2.857 -> 2.752 s, where the full fine-tune takes 2.780 s (before, `all` was slower than training every weight:
    the per-expert weight gradients were priced and only the grouped kernel's share taken out)."""
    run = dict(seq_len=4096, global_batch=64, micro_batch=1, dtype="bf16", ep=8, stack="nemo-26.04")
    full = estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 8, **run)  # type: ignore[arg-type]
    steps = {t: estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 8, lora_rank=16, lora_targets=t,
                                  **run).step_time_s for t in ("attention", "all")}  # type: ignore[arg-type]
    assert steps["attention"] < steps["all"] < full.step_time_s
    assert steps["attention"] == pytest.approx(2.4350049882205664, rel=1e-9)
