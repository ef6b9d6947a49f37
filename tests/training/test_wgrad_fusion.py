"""A recipe without `gradient_accumulation_fusion`: the backward hook moves each fresh wgrad into main_grad."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes, unfused_main_grad_bytes

STACK = load_stack("nemo-26.04").model_copy(update={"grad_reduce_dtype": "bf16"})
UNFUSED = STACK.model_copy(update={"gradient_accumulation_fusion": False})


def test_hook_bytes_copy_under_fsdp_add_under_ddp() -> None:
    assert unfused_main_grad_bytes(STACK, True) == 0.0  # fused: the wgrad GEMM writes main_grad itself
    assert main_grad_wgrad_bytes(STACK) == 2.0 and main_grad_wgrad_bytes(UNFUSED) is None
    # Megatron-FSDP's sharded buffer: main_grad.copy_(param.grad), read 2 B + write 2 B (bf16 buffer)
    assert unfused_main_grad_bytes(UNFUSED, True) == 4.0
    # Megatron DDP: main_grad.add_(grad), read both + write
    assert unfused_main_grad_bytes(UNFUSED, False) == 6.0
    fp32 = UNFUSED.model_copy(update={"grad_reduce_dtype": "fp32"})
    assert unfused_main_grad_bytes(fp32, False) == 10.0


def test_llama3_70b_fsdp_pays_one_copy_of_its_weight_gradients_per_micro_batch() -> None:
    kwargs = dict(tp=1, pp=1, seq_len=8192, global_batch=256, micro_batch=2, recompute="none", zero=3, dtype="fp8")
    fused = estimate_training("llama3-70b", "gb200-nvl72", 64, stack=STACK, **kwargs)
    unfused = estimate_training("llama3-70b", "gb200-nvl72", 64, stack=UNFUSED, **kwargs)
    extra = unfused.step_time_s - fused.step_time_s
    # 80 layers x 2 micro-batches x ~0.86 B weights x 4 B at GB200's ~8 TB/s HBM: ~0.07-0.1 s
    assert 0.05 < extra < 0.12
    assert unfused.breakdown_s.other - fused.breakdown_s.other == pytest.approx(extra, rel=1e-6)
