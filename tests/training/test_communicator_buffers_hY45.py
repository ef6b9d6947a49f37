"""NCCL communicator buffers in the overhead term, the memory headroom and its margin (hY45, session 44).

Hand counts: each figure is NCCL_BUFFSIZE (4 MiB, NCCL user guide) x (32 channels per ring communicator: NCCL's
max_ctas on Hopper, megatron-core 0.16.1 parallel_state.py:159-161; 2 channels per point-to-point peer:
NCCL_NCHANNELS_PER_NET_PEER), counted from the plan's groups by hand, not read back from the model."""

from __future__ import annotations

import pytest

from infraplan.cli import main
from infraplan.ops.params import RUNTIME_RESERVE_BYTES
from infraplan.training.communicator_buffers import memory_headroom_flag
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

MIB = 2.0**20


def _buffers(result: object) -> float:
    """The NCCL share of a result's overhead term (the rest is the runtime reserve)."""
    return result.memory_breakdown_bytes.overhead - RUNTIME_RESERVE_BYTES  # type: ignore[attr-defined]


def test_a_dense_plan_pays_one_ring_per_group_and_its_pipeline_neighbours() -> None:
    # Llama 3 70B, TP8 PP4 DP2: rings TP (8 ranks) and DP (2): 2 x 32 x 4 MiB; PP neighbours before and after: 2 x 2 x
    # 4 MiB. 4 MiB x (64 + 4) = 272 MiB.
    r = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=8, pp=4, seq_len=4096, global_batch=64)
    assert r.config.dp == 2
    assert _buffers(r) == pytest.approx(272.0 * MIB)


def test_an_moe_plan_pays_each_all_to_all_peer() -> None:
    # DeepSeek-V3 on 256 GPUs, TP1 PP4 EP64 inside DP64: one ring (DP x CP, 64 ranks); the experts' data-parallel
    # group is DP / EP = 1 rank (none); peers: 2 pipeline neighbours + 63 EP ranks, 2 channels each.
    # 4 MiB x (32 + 2 x 65) = 648 MiB.
    r = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 256, pp=4, ep=64, seq_len=4096, global_batch=1024,
                          stack="deepseek-v3", recompute="full")
    assert (r.config.dp, r.config.tp, r.config.cp) == (64, 1, 1)
    assert _buffers(r) == pytest.approx(648.0 * MIB)
    # EP 8 instead: 56 fewer peers, and an experts' data-parallel group of 8 ranks (one more ring)
    r8 = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 256, pp=4, ep=8, seq_len=4096, global_batch=1024,
                           stack="deepseek-v3", recompute="full")
    assert _buffers(r) - _buffers(r8) == pytest.approx((56 * 2 - 32) * 4.0 * MIB)


def test_one_gpu_pays_no_communicator_and_pp2_has_one_neighbour() -> None:
    alone = estimate_training("llama3-8b", "dgx-h100-superpod", 1, seq_len=2048, global_batch=8, recompute="full")
    assert alone.memory_breakdown_bytes.overhead == RUNTIME_RESERVE_BYTES
    pp2 = estimate_training("llama3-8b", "dgx-h100-superpod", 2, pp=2, seq_len=2048, global_batch=8)
    assert _buffers(pp2) == pytest.approx(2.0 * 4.0 * MIB)  # one neighbour, 2 channels


def test_headroom_is_capacity_less_the_priced_memory_and_the_margin_flags_below_it() -> None:
    r = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=8, pp=4, seq_len=4096, global_batch=64)
    assert r.memory_headroom_bytes == pytest.approx(r.memory_capacity_bytes - r.memory_per_gpu_bytes)
    share = r.memory_headroom_bytes / r.memory_capacity_bytes
    just_under = memory_headroom_flag(r.memory_per_gpu_bytes, r.memory_capacity_bytes, share * (1.0 + 1e-9))
    assert just_under["low_memory_headroom"] is True  # the margin asks a hair more than is left: flagged
    assert "ASSUMPTION" in str(just_under["low_memory_headroom_reason"])
    kept = memory_headroom_flag(r.memory_per_gpu_bytes, r.memory_capacity_bytes, share * (1.0 - 1e-9))
    assert kept["low_memory_headroom"] is False and kept["low_memory_headroom_reason"] is None


def test_search_ranks_a_plan_short_of_the_margin_after_a_slower_one_with_it() -> None:
    # Llama 3 70B on 16 H100: 125 plans fit, the fastest with ~0.1 GB to spare; every one listed (top 200)
    args = ("llama3-70b", "dgx-h100-superpod", 16, 4096, 16)
    free = search_plans(*args, dtype="bf16", top=200, memory_margin=0.0)
    assert free.best is not None and len(free.top) == free.feasible_count
    assert not any(row.low_memory_headroom for row in free.top)
    fastest = free.best
    margin = fastest.memory_headroom_bytes / fastest.memory_capacity_bytes + 0.01  # the fastest falls short of it
    tight = search_plans(*args, dtype="bf16", top=200, memory_margin=margin)
    flags = [row.low_memory_headroom or row.beyond_published_mfu for row in tight.top]
    assert flags == sorted(flags) and any(flags) and not all(flags)  # every plan with the margin first
    assert tight.best is not None and tight.best.step_time_s > fastest.step_time_s  # a slower plan leads
    assert tight.best.memory_headroom_bytes >= margin * tight.best.memory_capacity_bytes
    demoted = next(row for row in tight.top if row.config == fastest.config)
    assert demoted.low_memory_headroom and "ranked after" in str(demoted.low_memory_headroom_reason)
    assert tight.top.index(demoted) > tight.top.index(tight.best)


def test_memory_margin_outside_zero_to_one_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "2048",
                 "--global-batch", "64", "--memory-margin", "1.5"])
    err = capsys.readouterr().err
    assert code == 2 and "--memory-margin" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
