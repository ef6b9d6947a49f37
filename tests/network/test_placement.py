"""A job's rank placement decides which parallel groups stay inside one scale-up domain (`network.placement`):
NeMo's GB200 launcher segments, groups straddling a rack edge priced as crossing it, and the aligned cases kept."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import all_to_all_time, group_domain
from infraplan.network.placement import job_placement_unit, segment_nodes
from infraplan.training.estimate import estimate_training


def _ranks_cross(unit: int, gpus: int, n: int, stride: int) -> bool:
    """Brute force: some group c + s i + s n o of a `gpus`-rank job crosses an edge of the `unit`-GPU units."""
    for start in range(0, gpus, n * stride):
        for c in range(stride):
            ranks = [start + c + stride * i for i in range(n)]
            if len({r // unit for r in ranks}) > 1:
                return True
    return False


def test_segment_is_nemos_largest_divisor_of_the_nodes() -> None:
    # scripts/performance/executors.py:114-118: range(18, 0, -1), the first divisor of the node count
    assert [segment_nodes(n, 18) for n in (64, 128, 144, 24, 19, 36)] == [16, 16, 18, 12, 1, 18]


def test_gb200_jobs_use_16_trays_per_rack_where_nemo_segments_them() -> None:
    node = Cluster.resolve("gb200-nvl72").system.node
    assert node.placement == "slurm_segment"
    assert [job_placement_unit(node, g) for g in (64, 72, 256, 512, 576, 1152, 96)] == [0, 0, 64, 64, 72, 72, 48]
    dgx = Cluster.resolve("dgx-h100-superpod").system.node
    assert dgx.placement == "fill" and job_placement_unit(dgx, 1024) == 8 and job_placement_unit(dgx, 8) == 0


@pytest.mark.parametrize("unit,gpus", [(72, 576), (64, 512), (8, 48), (48, 96)])
def test_group_domain_matches_the_ranks(unit: int, gpus: int) -> None:
    """In-domain exactly when no group of the job crosses a unit edge (brute force over the ranks), and a crossing
    group priced with the worst group's smaller side as its members per domain."""
    fabric = replace(Cluster.resolve("gb200-nvl72").fabric, scale_up_domain=unit, placement_unit=unit)
    for n in (2, 3, 4, 6, 8, 9, 16, 24, 32, 64):
        for stride in (1, 2, 4, 8):
            if gpus % (n * stride):
                continue
            domain = group_domain(fabric, n, stride)
            assert (n * stride > domain) == _ranks_cross(unit, gpus, n, stride), (n, stride)
            arrays = group_domain(fabric, np.array([float(n)]), np.array([float(stride)]))
            assert float(arrays[0]) == domain


def test_ep64_straddling_full_racks_is_priced_across_them() -> None:
    """EP64 over full 72-GPU racks (ranks 64..127 cross at 72) is the cross-rack all-to-all; on 64-GPU segments
    it stays inside the rack, as the node-aligned pricing had it."""
    cluster = Cluster.resolve("gb200-nvl72")
    size = np.array([64e6])
    inside = all_to_all_time(cluster.fabric, size, np.array([64.0]), np.array([1.0]))
    assert all_to_all_time(cluster.placed(512).fabric, size, np.array([64.0]), np.array([1.0]))[0] == inside[0]
    crossing = all_to_all_time(cluster.placed(576).fabric, size, np.array([64.0]), np.array([1.0]))
    assert crossing[0] > 2.0 * inside[0]
    assert cluster.placed(576) is cluster.placed(1152) and cluster.placed(64) is cluster  # one twin per unit


def test_training_step_slower_where_ep_groups_straddle_racks() -> None:
    # the same 64 micro-batches of the same work per GPU (DP 64 and DP 1152)
    kw = dict(seq_len=4096, dtype="fp8", recompute="full", order="tp-cp-dp-pp", tp=1, pp=8)
    segmented = estimate_training("deepseek-v3", "gb200-nvl72", 512, ep=64, global_batch=4096, **kw)  # 16 trays
    full = estimate_training("deepseek-v3", "gb200-nvl72", 9216, ep=64, global_batch=73728, **kw)  # 18 trays
    aligned = estimate_training("deepseek-v3", "gb200-nvl72", 9216, ep=8, global_batch=73728, **kw)  # 8 | 72
    assert full.breakdown_s.ep_comm > 3.0 * segmented.breakdown_s.ep_comm
    assert any("--segment 16 nodes" in note for note in segmented.notes)  # said where the ranks sit
    assert aligned.breakdown_s.ep_comm < full.breakdown_s.ep_comm
