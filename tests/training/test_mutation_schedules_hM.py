"""Mutation spot-checks, third wave (hM, session 34): pipeline schedule rules and the combined-1F1B transfers.

Each test fails on a one-line mutant of training/schedule_models.py or combined_1f1b.py
(validation/notes/test_suite_cost_tried.md, "hM (session 34)"); values by hand from the sources the modules cite."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.combined_1f1b import p2p_on_ep_nic_s
from infraplan.training.enums import Schedule
from infraplan.training.schedules import one_plan_schedule_reason, pipeline_bubble


def test_zb_v_at_exactly_2p_minus_1_micro_batches_runs_its_steady_bubble() -> None:
    """Qi et al. 2024 Sec. 6: ZB-V needs m >= 2p - 1 (rank 0's warm-up of 2p - 1 chunk forwards), and from there its
    bubble is (p - 1) max(T_F, T_F + T_B - 2 T_W) / 2 = (p - 1) t / 6 at T_F = T_B = T_W = t / 3: 0.5 s at p 4,
    t 1 s, m 7. Mutant B04 needed m >= 2p for it and gave (p - 1) 2t / 3 = 2 s at m 7 (below 2p - 1 the working
    tree now prices torch's ramp, session 34: not pinned here)."""
    sched = np.array([int(Schedule.ZB_V)])
    assert float(pipeline_bubble(sched, 4.0, 2.0, 7.0, 1.0)[0]) == pytest.approx(0.5, rel=1e-12)


def test_dualpipe_refuses_an_odd_number_of_micro_batches() -> None:
    """DeepSeek's DualPipe 1.0.0 (`DualPipe.step`) asserts `num_chunks % 2 == 0 and num_chunks >= num_ranks * 2`:
    9 micro-batches on PP 4 are refused, 8 and 10 run. Mutant B07 kept only the >= 2 PP half."""
    dualpipe = int(Schedule.DUALPIPE)
    assert one_plan_schedule_reason(dualpipe, 4, 1, 8) is None
    assert one_plan_schedule_reason(dualpipe, 4, 1, 10) is None
    reason = one_plan_schedule_reason(dualpipe, 4, 1, 9)
    assert reason is not None and "even number of micro-batches" in reason


@pytest.mark.parametrize(("pp", "vpp", "transfers"), [(2.0, 2.0, 1.5), (2.0, 4.0, 1.75), (4.0, 2.0, 2.0)])
def test_a_two_stage_pipeline_sends_fewer_boundary_transfers(pp: float, vpp: float, transfers: float) -> None:
    """combined_1f1b.py: a middle stage sends and receives two boundary transfers a step; with two stages each is an
    end stage, 2 - 1 / v (no receive into its first chunk's forward). 10 steps of 1 ms transfers on a shared NIC, no
    idle: 15 ms at v 2, 17.5 ms at v 4, 20 ms with a middle stage. Mutant B12 charged 2 at PP 2."""
    got = p2p_on_ep_nic_s(pp, vpp, 10.0, 4.0, 1e-3, 0.0, 1.0, FLOAT_OPS)
    assert got == pytest.approx(10 * transfers * 1e-3, rel=1e-12)
