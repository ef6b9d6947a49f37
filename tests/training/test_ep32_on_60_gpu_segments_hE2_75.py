"""hS75: deepseek-v3 TP1 PP1 EP32 shrunk to 480 gb200-nvl72-superpod GPUs prices `ep_comm` 10.43 s a step against
1.87 s at 448 (same 10 sequences a GPU). Traced (validation/notes/network_flow_tried.md, Session 75 hE2): right, not a
bug. NeMo's GB200 launcher puts 480 GPUs (120 trays) in Slurm segments of 15 trays, 60 GPUs a rack
(`network.placement.job_placement_unit`); a 32-rank EP block then crosses a rack edge in some group (ranks 32-63: 28 in
one rack, 60-63 in the next), whose 4 lone ranks send 28 / 32 of their all-to-all over their NIC, not NVLink. At 448
(112 trays, segments of 16: 64 GPUs a rack) every EP32 block sits in one rack. Hand count of one all-to-all of a
rank's 939,524,096 bytes (the plan's EP record)."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric, all_to_all_time
from infraplan.training.estimate import estimate_training

RANK_BYTES = 939_524_096.0


def _fabric(gpus: int) -> Fabric:
    return Cluster.resolve("gb200-nvl72-superpod").for_gpus(gpus).placed(gpus).fabric


def test_a_straddling_ep32_group_sends_28_of_32_over_its_nic() -> None:
    at480, at448 = _fabric(480), _fabric(448)
    assert (at480.placement_unit, at448.placement_unit) == (60, 64)
    across = 28 / 32 * RANK_BYTES / at480.nic_bytes_per_s  # 8.7456 ms at 94 GB/s
    assert float(all_to_all_time(at480, RANK_BYTES, 32, 1)) == pytest.approx(across, abs=5e-6)  # + a hop's latency
    inside = 31 / 32 * RANK_BYTES / at448.scale_up_bytes_per_s  # 1.2641 ms at 720 GB/s
    assert float(all_to_all_time(at448, RANK_BYTES, 32, 1)) == pytest.approx(inside, abs=5e-6)


def test_train_says_the_straddling_group() -> None:
    est = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 480, tp=1, pp=1, dp=480, ep=32, micro_batch=2,
                            zero=3, seq_len=4096, global_batch=4800, dtype="fp8")
    said = " ".join(est.notes)
    assert "do not divide the 60-GPU placement unit" in said and "with 4 of their ranks on one side" in said
    assert est.breakdown_s.ep_comm == pytest.approx(10.431, rel=1e-3)
