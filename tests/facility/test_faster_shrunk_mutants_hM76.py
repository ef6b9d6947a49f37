"""hM76 mutation wave on hW76's faster shrunk plan (`facility.spare_policy.short_of_spares`' `faster_shrunk`): with
spare units in the system, the GPUs a shrunk job keeps count the units out beyond the spares, not all of them."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.facility.spare_policy import faster_note, short_of_spares

JOB = {"goodput": 0.95, "planned_interruptions_per_day": 0.0, "restart_s": 600.0, "checkpoint_write_s": 60.0,
       "job_mttf_s": 86_400.0, "checkpoint_interval_s": 1_800.0, "device_word": "GPU"}


def test_the_faster_shrunk_plan_keeps_the_units_beyond_the_spares() -> None:
    """432 GPUs (6 racks of 72) on gb200-nvl72-superpod's 8: 2 spare racks. With 3 racks out, 1 beyond the spares,
    the job keeps 5 racks, 360 GPUs; a smaller plan 1.5x as fast a GPU runs 1.5 x 360 / 432 = 1.25x the whole plan,
    the fastest state (4 out: 288 GPUs, 1.0x, not faster). Counting all 3 out would keep 216 (0.75x: none faster)."""
    cluster = Cluster.resolve("gb200-nvl72-superpod")
    assert cluster.total_accelerators == 576
    hold = {"expected_gpus_out_of_service": 30.0, "domain_gpus": 72, "domains": 6}
    short = short_of_spares(cluster, 432, JOB, hold, 3 * 86_400.0, "shrink", 72,
                            speed=lambda kept, *_: 1.5 * kept / 432)
    assert short is not None and short["spare_units"] == 2
    share, kept = short["faster_shrunk"]
    assert kept == 360 and share == pytest.approx(1.25, rel=1e-12)
    assert faster_note(short).startswith("; the plan runs faster shrunk: on 360 GPUs its smaller plan gives 1.25x")


def test_no_faster_plan_without_a_faster_speed() -> None:
    cluster = Cluster.resolve("gb200-nvl72-superpod")
    hold = {"expected_gpus_out_of_service": 30.0, "domain_gpus": 72, "domains": 6}
    short = short_of_spares(cluster, 432, JOB, hold, 3 * 86_400.0, "shrink", 72, speed=lambda kept, *_: kept / 432)
    assert short is not None and short["faster_shrunk"] is None and faster_note(short) == ""
