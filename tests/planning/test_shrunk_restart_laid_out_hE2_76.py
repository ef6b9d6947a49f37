"""hE2 76: deepseek-v3's EP32 row of `search deepseek-v3 --system gb200-nvl72-superpod --gpus 512 --dtype fp8
--global-batch 1024 --tokens 1T` ran 19 % longer than its EP64 neighbour (hR76; hS75's "unexplained placement
effect") for a step 0.47 % longer. Traced: not the full plan (its EP32 groups sit inside the 64-GPU segments, ep_comm
0.375 s) but its shrunk plan. With one of the job's 8 racks out, 504 GPUs are in service; EP32's shrink unit (32)
kept 480, which NeMo's launcher lays out as --segment 15 (60 a rack: network.placement), where EP32 blocks straddle
the rack edges: the slowest group holds 4 of its 32 ranks on one side, 88 % of their all-to-all on the 400 Gb/s
NICs, ep_comm 4.17 s against 0.75 s at 448 GPUs (64 a rack), step 7.53 s against 3.65. A restart may leave GPUs
idle, so it takes 448 (`ShrunkSpeed._as_laid`), as EP64's shrink unit does by itself."""

from __future__ import annotations

import math
from typing import Any

import pytest

from infraplan.planning.shrunk_plan import shrunk_speed
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

SYSTEM = "gb200-nvl72-superpod"


def _plan(gpus: int, ep: int, global_batch: int = 1024) -> Any:
    return estimate_training("deepseek-v3", SYSTEM, gpus, tp=1, pp=1, dp=gpus, cp=1, ep=ep, seq_len=4096,
                             global_batch=global_batch, micro_batch=2, recompute="none", zero=3, dtype="fp8",
                             stack="nemo-26.04")


def test_the_480_gpu_layout_is_what_made_ep32_slow() -> None:
    """The cause, term by term: at 480 GPUs (60 a rack) EP32's all-to-all crosses rack edges; at 448 (64) it does
    not; the expert GEMMs (compute) are the same at both."""
    at480, at448 = _plan(480, 32, 480 * 2 * 2), _plan(448, 32, 448 * 2 * 2)  # 2 micro-batches, as the restart runs
    assert at480.breakdown_s.compute == pytest.approx(at448.breakdown_s.compute, rel=1e-9)
    assert at480.breakdown_s.ep_comm > 5.0 * at448.breakdown_s.ep_comm
    assert at480.step_time_s > 2.0 * at448.step_time_s


def test_a_restart_takes_the_full_jobs_layout_where_that_is_faster() -> None:
    """On 7 racks in service EP32's restart runs 448 GPUs (64 a rack), not 480 (60 a rack); EP64's keeps 448."""
    full = _plan(512, 32)
    speed = shrunk_speed(full, SYSTEM)
    laid = _plan(448, 32, 448 * 2 * math.ceil(1024 / (2 * 448)))
    assert speed(480) == speed(448) == pytest.approx(full.step_time_s / laid.step_time_s, rel=1e-9)
    # hT76: 480 laid out afresh (60 a rack) needs 8 racks, 7 in service: not a layout the restart can run
    assert speed.fewer == {} and speed.unfit == {480: 448}
    assert speed(480) > 0.45  # (the base: 0.243, the 480-GPU plan laid out at 60 a rack)
    ep64 = shrunk_speed(_plan(512, 64), SYSTEM)
    assert ep64(448) == pytest.approx(speed(448), rel=0.01) and ep64.fewer == {}


def test_ep32s_run_is_as_long_as_its_step_says() -> None:
    """`train --tokens 1T` of the EP32 and EP64 rows (micro-batch 2, ZeRO-3): runs in the ratio of their steps within
    0.1 % (the base: 1.190x for steps 1.0047x); EP32's run says where it restarts on fewer GPUs."""
    runs = {ep: training_run_totals(_plan(512, ep), SYSTEM, 1e12) for ep in (32, 64)}
    steps = {ep: _plan(512, ep).step_time_s for ep in (32, 64)}
    ratio = runs[32].time_to_train_s / runs[64].time_to_train_s
    assert ratio == pytest.approx(steps[32] / steps[64], rel=1e-3)
    said = [n for n in runs[32].notes if n.startswith("shrunk, the job restarts on the full job's 64 GPUs")]
    assert len(said) == 1 and "256 of 288 (1.76x)" in said[0], runs[32].notes  # (448 of 480 does not fit: hT76)
    assert "domains than are in service, so at most these run, or the full job's placement if faster: 448 of 480" in (
        said[0])
    assert not any(n.startswith("shrunk, the job restarts") for n in runs[64].notes)  # EP64 keeps 448 by itself
