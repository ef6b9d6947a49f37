"""Mutation wave hM20 (session 44) on `network.placement`: NeMo's segment rule only for whole 4-GPU trays and at most
18 trays a rack, and the placement line only where a launcher's placement is stated."""

from __future__ import annotations

from infraplan.cluster import Cluster
from infraplan.network.placement import job_placement_unit, placement_notes


def test_a_job_of_38_trays_runs_segments_of_2() -> None:
    """152 GB200 = 38 trays: the largest divisor of 38 at most 18 is 2 (19 is past a rack's 18 trays): 8 GPUs."""
    node = Cluster.resolve("gb200-nvl72").system.node
    assert job_placement_unit(node, 152) == 2 * 4


def test_a_job_of_a_partial_tray_fills_the_racks() -> None:
    """102 GPUs are not whole 4-GPU trays: no --segment rule applies, the job fills whole 72-GPU domains."""
    node = Cluster.resolve("gb200-nvl72").system.node
    assert job_placement_unit(node, 102) == 72


def test_only_a_stated_launcher_placement_says_a_line() -> None:
    dgx = Cluster.resolve("dgx-h100-superpod").system.node
    assert dgx.placement == "fill" and job_placement_unit(dgx, 1024) == 8
    assert placement_notes(dgx, 1024) == []
    gb200 = Cluster.resolve("gb200-nvl72").system.node
    assert placement_notes(gb200, 64) == []  # one rack: unit 0
    (line,) = placement_notes(gb200, 512)
    assert line.startswith("ranks placed 64 GPUs per 72-GPU NVLink domain") and "--segment 16 nodes" in line
