"""Mutation wave 4 (hM4, session 35): the reliability model's edges and the facility's count check.

Each fails on a one-line mutant the earlier tests let through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import job_reliability


def test_a_free_restart_is_allowed() -> None:
    # reliability.py: "restart cost must be >= 0 s"; 0 s is a restart that costs nothing (R = 0 in Daly's model)
    job = job_reliability("h100-sxm", 1024, 8e9, restart_s=0.0)
    assert job["restart_s"] == 0.0 and 0.0 < job["goodput"] < 1.0


def test_the_checkpoint_limit_is_one_exbibyte() -> None:
    # the limit is 1 EiB = 2**60 B = 1.153e18 B (the message's unit), not 1e18 B
    job = job_reliability("h100-sxm", 1024, 8e9, checkpoint_size_bytes=1.1e18)
    assert job["checkpoint_bytes"] == 1.1e18
    with pytest.raises(InputError, match="1 EiB"):
        job_reliability("h100-sxm", 1024, 8e9, checkpoint_size_bytes=1.2e18)


def test_nothing_to_write_checkpoints_once_per_mttf() -> None:
    # interval_formula_note: "checkpoint interval = M: nothing to write" (Daly's tau -> M as d -> 0 is not used)
    job = job_reliability("h100-sxm", 1024, 8e9, checkpoint_size_bytes=0.0)
    assert job["checkpoint_write_s"] == 0.0
    assert job["checkpoint_interval_s"] == pytest.approx(job["job_mttf_s"])


def test_facility_refuses_a_count_of_zero_naming_its_option() -> None:
    with pytest.raises(InputError, match="--count must be a positive number of accelerators, got 0"):
        size_facility(accelerator="h100-sxm", count=0)
