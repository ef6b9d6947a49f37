"""Mutation wave 13 (hM13, session 41) on `training.hybrid_shard` (`train --zero-shard N`): the ranks ZeRO shards
over are counted over DP x CP (not DP alone), N = 1 is a hybrid plan like any divisor, and the note names the
shard and its replicas as they are (the tests before only tried N = 8 of DP 64, CP 1, where the shard and the
replica count are both 8).

By hand, as tests/training/test_hsdp_hH40.py: Llama 3 70B (config.json: h 8192, 64 heads of 128, 8 KV heads, FFN
28672, 80 layers, vocabulary 128256, untied) at TP 8 keeps 8,819,048,448 parameters per GPU; the optimizer state is
12 B a parameter (fp32 master weights and Adam's two moments) over the N ranks ZeRO shards over (PyTorch FSDP2 HSDP:
the shard mesh dimension; torchtitan's dp_shard x cp, distributed/parallel_dims.py:215-237).
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training

LAYER = 2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672  # q, o; k, v; gate, up, down
LOCAL = (80 * LAYER + 2 * 128256 * 8192) / 8  # parameters per GPU at TP 8
# 512 H100 at TP 8 and CP 2: DP 32, DP x CP 64 (torchtitan's FSDP group holds the CP ranks too)
CP2: dict[str, Any] = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=512, tp=8, pp=1, cp=2, seq_len=8192,
                           global_batch=512, recompute="full", zero=3, stack="torchtitan")


def test_the_group_is_dp_times_cp() -> None:
    """At DP 32 x CP 2, N = 64 is the whole group (the default's answer, to the bit) and N = 16 shards the optimizer
    state over 16 ranks; N = 128 (a multiple of DP x CP, not a divisor) is refused in one line naming 64."""
    base = estimate_training(**CP2)
    assert base.config.dp == 32 and base.config.cp == 2
    assert estimate_training(**CP2, zero_shard=64).model_dump() == base.model_dump()
    assert base.memory_breakdown_bytes.optimizer == pytest.approx(LOCAL * 12 / 64, rel=1e-12)
    hybrid = estimate_training(**CP2, zero_shard=16)
    assert hybrid.memory_breakdown_bytes.optimizer == pytest.approx(LOCAL * 12 / 16, rel=1e-12)
    with pytest.raises(InputError, match="must divide DP x CP = 64 \\(DP 32 x CP 2\\)"):
        estimate_training(**CP2, zero_shard=128)


def test_the_note_names_the_shard_and_its_replicas() -> None:
    """N = 16 of DP x CP 64: 64 / 16 = 4 replica groups, each reduce-scatter's 1/16 shard all-reduced over the 4."""
    notes = [n for n in estimate_training(**CP2, zero_shard=16).notes if n.startswith("hybrid sharding")]
    assert len(notes) == 1
    note = notes[0]
    assert note.startswith("hybrid sharding: ZeRO-3 over 16 of the DP x CP 64 ranks")
    assert "replicated across 4 groups" in note
    assert "1/16 shard all-reduced over 4 ranks" in note


def test_one_rank_shards_is_plain_replication() -> None:
    """N = 1 divides DP x CP: each GPU keeps its whole optimizer state (ZeRO over itself alone), replicated across
    all 64 ranks of DP x CP; the memory is above the default's (ZeRO over 64)."""
    one = estimate_training(**CP2, zero_shard=1)
    assert one.config.zero_shard == 1
    assert one.memory_breakdown_bytes.optimizer == pytest.approx(LOCAL * 12, rel=1e-12)
    assert any("replicated across 64 groups" in n for n in one.notes)
    assert one.memory_per_gpu_bytes > estimate_training(**CP2).memory_per_gpu_bytes
    with pytest.raises(InputError, match="--zero-shard 0: the ranks ZeRO shards over must divide"):
        estimate_training(**CP2, zero_shard=0)
