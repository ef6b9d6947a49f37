"""The interleave chosen when none is given keeps the stack's own micro-batch rule (`default_virtual_stages`):
Megatron refuses m not a multiple of PP, torch (torchtitan) takes m a multiple of its rounds max(1, m // PP)."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training

KW = dict(tp=2, pp=4, seq_len=4096, vpp=None)  # 64 GPUs: DP 8


def test_megatron_keeps_1f1b_at_ten_micro_batches_per_step() -> None:
    result = estimate_training("llama3-8b", "dgx-h100-superpod", 64, global_batch=80,  # m = 10
                               stack="nemo-26.04", **KW)  # type: ignore[arg-type]
    assert result.config.vpp == 1
    assert any("no interleave chosen for PP4 at 10 micro-batches" in n and "multiple of PP" in n
               for n in result.notes)


def test_torch_interleaves_ten_micro_batches_in_two_rounds() -> None:
    result = estimate_training("llama3-8b", "dgx-h100-superpod", 64, global_batch=80,  # m = 10: rounds 2
                               stack="torchtitan", schedule="interleaved", **KW)  # type: ignore[arg-type]
    assert result.config.vpp > 1 and result.config.schedule == "interleaved"
    assert not any("no interleave chosen" in n for n in result.notes)
    with pytest.raises(InputError, match="without --vpp: no interleave chosen for PP4 at 9 micro-batches per step: "
                       "interleaving needs .* multiple of its rounds"):  # m = 9: rounds 2, 9 % 2
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, global_batch=72, stack="torchtitan",
                          schedule="interleaved", **KW)  # type: ignore[arg-type]
