"""Llama 3's stack (meta-llama3) accumulates its weight gradients in fp32 over the micro-batches under PyTorch FSDP
(Llama 3 paper Sec. 3.3.2): no wgrad GEMM writes into the fp32 buffer, a memory-bound pass moves each fresh bf16
gradient there every micro-batch (hL88, session 50)."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes, unfused_main_grad_bytes

META = load_stack("meta-llama3")
FUSED = META.model_copy(update={"gradient_accumulation_fusion": True})
# Llama 3 405B at TP8: the weights one GPU holds per layer, QKV (GQA, 8 KV heads) + output + gate/up + down
WEIGHTS_PER_LAYER = 16384 * (16384 + 2 * 1024) // 8 + 16384 * 16384 // 8 + 3 * 16384 * 53248 // 8
H100_STREAM_B_PER_S = 3.35e12 * 0.875  # HBM3 3.35 TB/s x the streaming fraction measured on a lent GPU (README)


def _step(gpus: int, stack: Any) -> Any:
    """Table 4's plan (training.yaml llama3-405b-8k / -16k-gpus): TP8 PP16 V7, 2,048 sequences of 8,192, FSDP."""
    return estimate_training("llama3-405b", "meta-genai-roce-24k", gpus, tp=8, pp=16, dp=gpus // 128, vpp=7,
                             seq_len=8192, global_batch=2048, micro_batch=1, recompute="none", zero=3, dtype="bf16",
                             stack=stack)


def test_meta_llama3_moves_each_fresh_wgrad_into_its_fp32_buffer() -> None:
    assert not META.gradient_accumulation_fusion and main_grad_wgrad_bytes(META) is None
    # ZeRO-3's copy into the fp32 buffer: read the bf16 wgrad (2 B), write fp32 (4 B)
    assert unfused_main_grad_bytes(META, True) == 6.0
    assert unfused_main_grad_bytes(FUSED, True) == 0.0


@pytest.mark.parametrize("gpus, micro_batches", [(8192, 32), (16384, 16)])
def test_405b_pays_the_copy_once_per_layer_and_micro_batch(gpus: int, micro_batches: int) -> None:
    unfused, fused = _step(gpus, META), _step(gpus, FUSED)
    extra = unfused.breakdown_s.other - fused.breakdown_s.other
    # hand count: the heaviest stage's 8 layers x the micro-batches x 6 B per weight at the HBM stream rate
    # (0.208 s at 8,192 GPUs); the model adds one launch per weight tensor
    expected = 8 * micro_batches * WEIGHTS_PER_LAYER * 6.0 / H100_STREAM_B_PER_S
    assert extra == pytest.approx(expected, rel=0.05)
    # the step grows by the copy and its share of the bubble only: compute, TP and DP are untouched
    assert unfused.breakdown_s.compute == fused.breakdown_s.compute
    assert unfused.breakdown_s.tp_comm == fused.breakdown_s.tp_comm
    assert extra < unfused.step_time_s - fused.step_time_s < 1.1 * extra
