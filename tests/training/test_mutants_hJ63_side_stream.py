"""Mutant-killing checks of `training.shared_expert_side.block_seconds` (hJ, session 63), each a hand computation
of the module's stated model from its inputs: the two streams' GEMMs share the SMs by processor sharing (both at half
rate while both run: the one with less work left ends at twice it, the other at the sum), then each chain's tail."""

from __future__ import annotations

import pytest

from infraplan.training.shared_expert_side import block_seconds


def test_processor_sharing_puts_the_shorter_gemm_run_at_twice_its_work() -> None:
    """No all-to-all, no gather; shared GEMMs 1 s and routed 1.5 s start together at half rate each: the shared ones
    end at 2 s (1 s of work at half rate), the routed at 2.5 s (1 s done by then, 0.5 s left at full rate). The side
    chain's 2 s scatter ends at 4 s, after the routed GEMMs: the block is 4 s (across domains, links apart)."""
    assert block_seconds(0.0, 1.5, 0.0, 1.0, 2.0, 1.0) == pytest.approx(4.0)


def test_the_routed_run_shorter_ends_at_twice_its_work() -> None:
    """Mirrored: an all-to-all of 4 s (dispatch 2 s, combine 2 s), routed GEMMs 1 s, shared 3.5 s, no pair. The
    shared GEMMs run alone at full rate for the dispatch's 2 s (1.5 s left); from 2 s both share the SMs: the routed
    (1 s of work) end at 2 + 2 x 1 = 4 s, the shared at 2 + 2.5 = 4.5 s; the combine runs 4-6 s: the block is 6 s."""
    assert block_seconds(4.0, 1.0, 0.0, 3.5, 0.0, 1.0) == pytest.approx(6.0)


def test_routed_gemms_done_before_the_side_gather_ends() -> None:
    """Across domains: all-to-all 4 s (dispatch 0-2 s), routed GEMMs 2-3 s alone (the side's gather takes 0-3 s),
    combine 3-5 s; the side's shared GEMMs 3-3.5 s. The block: 5 s."""
    assert block_seconds(4.0, 1.0, 3.0, 0.5, 0.0, 1.0) == pytest.approx(5.0)


def test_on_shared_links_the_scatter_and_the_combine_add() -> None:
    """Inside one domain (links shared, work-conserving): all-to-all 2 s (dispatch 1 s, combine 1 s), routed 1 s,
    shared 1 s, scatter 1.5 s. The shared GEMMs run alone during the dispatch and end at 1 s; the routed from 1 s to
    2 s. The scatter starts at 1 s and the combine at 2 s on the same links: both done no earlier than 1 + 1.5 + 1 =
    3.5 s (links apart: max(2 + 1, 1 + 1.5) = 3 s)."""
    assert block_seconds(2.0, 1.0, 0.0, 1.0, 1.5, 0.0) == pytest.approx(3.5)
    assert block_seconds(2.0, 1.0, 0.0, 1.0, 1.5, 1.0) == pytest.approx(3.0)


def test_without_sp_the_pair_is_one_all_reduce() -> None:
    """shared_experts.py:166-171, :249-256: without SP the shared expert's input is whole on every TP rank (no
    gather) and its output is all-reduced; a ring all-reduce moves twice a reduce-scatter's bytes, so the pair's last
    collective takes longer than the SP plan's reduce-scatter."""
    from infraplan.training.estimate import resolve_training
    from infraplan.training.layer_layout import layer_layout
    from infraplan.training.shared_expert_side import pair_seconds

    seconds = {}
    for sp in (True, False):
        point = resolve_training("deepseek-v3", "dgx-h100-superpod", 256, tp=2, pp=8, ep=16, seq_len=4096,
                                 global_batch=1024, dtype="bf16", sequence_parallel=sp)
        lay = layer_layout(point.plan.one_row, False, point.profile)
        seconds[sp] = pair_seconds(point.shape, lay, point.cluster.fabric, True)
    assert seconds[True][0] > 0.0 and seconds[True][1] > 0.0
    assert seconds[False][0] == 0.0
    assert seconds[False][1] > seconds[True][1]
