"""FSDP2's copies on torchtitan's ZeRO-2 plans and under a pipeline (hS, session 53; `training.fsdp2_copies`).

ZeRO-2 without a pipeline (reshard_after_forward off, resharded after backward): each micro-batch one copy-out of the
gather (bf16 2 + 2 B) and the reduce-scatter's chunk_cat into the fp32 buffer (2 + 4 B): 10 B a local weight.
With a pipeline torch.distributed.pipelining turns FSDP's gradient sync and reshard-after-backward off for every
backward and reduce-scatters once, after the stage's last (torch 2.5.1 pipelining/stage.py:522-535; 2.11.0
stage.py:656-659, :989-1016): the gradient is kept unsharded in fp32 (_fsdp_param.py:670-689: a `.to(fp32)`, 6 B,
then `+=` each later micro-batch, 10 B) and the chunk_cat reads it (8 B); ZeRO-2 gathers once a step (4 B).
Before this change neither was priced (checked: on hT's tree these plans' `other` is the same with
`fsdp2_copy_passes` on and off, so every test here fails there).
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.fsdp2_copies import piped_copy_bytes

RATE = 3.35e12 * 0.88  # the catalog's H100 streaming rate (as tests/training/test_fsdp2_copies_hT53.py)
OFF = load_stack("torchtitan").model_copy(update={"fsdp2_copy_passes": False})
EIGHT_B: dict[str, Any] = dict(model="llama3.1-8b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, vpp=1,
                               seq_len=8192, micro_batch=1, recompute="selective", attention="flash", dtype="bf16")
PIPED: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, tp=2, pp=4, seq_len=8192,
                             schedule="1f1b")


def _added(plan: dict[str, Any], batch: int, **extra: Any) -> float:
    on = estimate_training(**{**plan, **extra}, global_batch=batch, stack="torchtitan").breakdown_s.other
    off = estimate_training(**{**plan, **extra}, global_batch=batch, stack=OFF).breakdown_s.other
    return float(on - off)


def test_zero2_without_a_pipeline_copies_ten_bytes_a_micro_batch() -> None:
    """8.03e9 local weights x 10 B at m = 1 (27 ms) plus 2 launches a unit; m = 2 twice that."""
    params = estimate_training(**EIGHT_B, zero=2, global_batch=8, stack="torchtitan").parameters
    one = _added(EIGHT_B, 8, zero=2)
    assert one == pytest.approx(params * 10.0 / RATE + 2 * 33 * 4.0e-6, rel=1e-3)
    assert _added(EIGHT_B, 16, zero=2) == pytest.approx(2.0 * one, rel=1e-9)


def test_pipeline_keeps_the_gradient_in_fp32_until_the_last_backward() -> None:
    """Llama 3 8B, TP2 PP4, batch 256 on DP 8: m = 32 micro-batches. ZeRO-2: 4 + 6 + 31 x 10 + 8 = 328 B per stage
    weight a step (a stage: 8 layers and a table over TP 2, 1.14e9 weights: ~0.13 s)."""
    assert piped_copy_bytes(1.0, 32.0, 4.0) == 328.0
    assert piped_copy_bytes(1.0, 32.0, 2.0) == 8.0  # a bf16 reduce: no FSDP accumulation pass
    added = _added(PIPED, 256, zero=2)
    layer = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336 + 2 * 4096
    stage = (8 * layer + 128256 * 4096) / 2.0
    assert added == pytest.approx(stage * 328.0 / RATE, rel=0.02)
    # ZeRO-3 ("always") re-gathers in every backward: m + 1 copy-outs, 4 B each more than ZeRO-2's one, and a
    # launch each of the stage's 8 layers' and its root's units
    assert _added(PIPED, 256, zero=3) - added == pytest.approx(stage * 32 * 4.0 / RATE + 9 * 32 * 4.0e-6, rel=0.01)


def test_ddp_has_no_fsdp_copies() -> None:
    assert _added(PIPED, 256, zero=0) == 0.0
    assert _added(EIGHT_B, 8, zero=0) == 0.0
