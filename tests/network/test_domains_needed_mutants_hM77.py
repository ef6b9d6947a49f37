"""hM77 mutation wave on hT76's `network.placement.domains_needed`: the scale-up domains a job laid out afresh holds
outside the Slurm segment path (hT76's tests read GB200 jobs in whole trays only)."""

from __future__ import annotations

from infraplan.cluster import Cluster
from infraplan.network.placement import domains_needed, job_placement_unit


def test_a_filled_job_holds_whole_domains_rounded_up() -> None:
    """Under `fill` (DGX H100: 8 GPUs a domain) a job holds ceil(gpus / 8) domains: 12 GPUs take 2, 20 take 3."""
    node = Cluster.resolve("dgx-h100-superpod").system.node
    assert node.placement == "fill"
    assert [domains_needed(node, g) for g in (8, 12, 16, 20, 506)] == [1, 2, 2, 3, 64]


def test_a_segment_job_not_in_whole_trays_holds_its_domains_rounded_up() -> None:
    """Under `slurm_segment` a job not in whole 4-GPU trays has no segment (its unit is the 72-GPU rack): 146 GPUs
    hold 3 racks (ceil(146 / 72)), not the 2 whole racks the segment count would give."""
    node = Cluster.resolve("gb200-nvl72-superpod").system.node
    assert job_placement_unit(node, 146) == node.scale_up_domain == 72
    assert domains_needed(node, 146) == 3
    assert domains_needed(node, 506) == 8
