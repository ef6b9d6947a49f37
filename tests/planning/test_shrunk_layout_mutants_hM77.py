"""hM77 mutation wave on hE2 76's and hT76's shrunk-restart layouts (`planning.shrunk_plan.ShrunkSpeed`: `_as_laid`,
`_fitting`, `fewer_note`)."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.planning.shrunk_plan import shrunk_speed
from infraplan.training.estimate import estimate_training

SYSTEM = "gb200-nvl72-superpod"


def _v3(gpus: int, ep: int, global_batch: int = 1024) -> Any:
    return estimate_training("deepseek-v3", SYSTEM, gpus, tp=1, pp=1, dp=gpus, cp=1, ep=ep, seq_len=4096,
                             global_batch=global_batch, micro_batch=2, recompute="none", zero=3, dtype="fp8",
                             stack="nemo-26.04")


def test_a_speed_does_not_depend_on_the_states_asked_before() -> None:
    """llama3-8b TP2 PP16 on 512 GB200 (hT76's case): 480 kept on 7 racks runs the 448 that fit, whether or not a
    state that fits 15 replicas (510 GPUs on 8 racks) was priced first."""
    plan = estimate_training("llama3-8b", SYSTEM, 512, tp=2, pp=16, dp=16, seq_len=4096, global_batch=1024,
                             micro_batch=1, dtype="bf16")
    fresh = shrunk_speed(plan, SYSTEM)
    alone = fresh(480)
    after = shrunk_speed(plan, SYSTEM)
    assert after(510) == pytest.approx(after._share(15), rel=1e-12)
    assert after(480) == alone == pytest.approx(after._share(14), rel=1e-12)


def test_the_full_jobs_layout_is_kept_in_whole_shrink_units() -> None:
    """deepseek-v3 EP32 on 480 GPUs (NeMo's --segment 15: 60 a rack): of 448 kept, the full job's layout holds 7 racks
    of 60 = 420 GPUs, 416 in whole EP32 shrink units (420 is no EP32 job); of 160, 2 racks = 120 -> 96; of 448 with 6
    racks in service (hZ2 77: the racks bound too), 360 -> 352."""
    speed = shrunk_speed(_v3(480, 32, 1920), SYSTEM)
    assert speed._as_laid(448, 7) == 416 and speed._as_laid(160, 8) == 96
    assert speed._as_laid(448, 6) == 352
    assert speed.unit == 60


def test_the_fewer_gpus_line_lists_the_largest_state_first() -> None:
    """deepseek-v3 EP32 on 512 GB200: the restarts on the full job's 64-a-rack layout that beat all the kept GPUs
    laid out afresh, largest kept first, as the unfit layouts' list is."""
    speed = shrunk_speed(_v3(512, 32), SYSTEM)
    for kept in range(480, 31, -32):
        speed(kept)
    assert sorted(speed.fewer) == [96, 224, 288]
    note = speed.fewer_note() or ""
    assert "256 of 288 (1.76x), 192 of 224 (1.77x), 64 of 96 (1.08x)" in note, note
