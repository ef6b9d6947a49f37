"""Mutation wave 14 (session 41): the job-MTTF note of a failure rate (`failure_rate_notes.failure_rate_note`, hR41).

Hand arithmetic from the rates' own figures (Kokolis et al. HPCA 2025, catalog/facility/reliability.yaml): a job
of N GPUs on 8-GPU nodes fails at N / 8 x rate / 1,000 per day, so its MTTF is 8,000 / (N x rate) days.
"""

from __future__ import annotations

from infraplan.catalog.reliability_loader import FailureRate, load_failure_rate
from infraplan.facility.failure_rate_notes import failure_rate_note


def test_a_job_mttf_under_two_days_is_said_in_hours() -> None:
    """224 GPUs (28 nodes) at RSC-1's all-cause 23.73 per 1,000 node-days: 1,000 / (23.73 x 28) = 1.505 days =
    36.1 h, said in hours (hours up to two days, days beyond: the docstring's 7.9 h and 42.1 days)."""
    rate = load_failure_rate("rsc-1")
    hours = 1000.0 / (23.73 * 28) * 24.0
    note = failure_rate_note("rsc-1", rate, 224)
    assert f"job MTTF {hours:.3g} h at 224 GPUs" in note, note


def test_a_job_mttf_over_two_days_is_said_in_days() -> None:
    """8 GPUs (1 node): 1,000 / 23.73 = 42.1 days (the rate's own check on the paper's 47.7 days)."""
    note = failure_rate_note("rsc-1", load_failure_rate("rsc-1"), 8)
    assert "job MTTF 42.1 days at 8 GPUs" in note, note


def test_a_rate_that_does_not_say_what_it_counts_gets_no_all_cause_claim() -> None:
    """A user's rate with `counts` unstated is not a node-failure rate: its note says what it is and no more (no
    'upper bound', no all-cause MTTF of a partner), even where it names one."""
    unstated = FailureRate(failures_per_1000_node_days=10.0, accelerators_per_node=8, all_causes="rsc-1-jobs",
                           source="a user's file")
    note = failure_rate_note("mine", unstated, 1024)
    assert note == "job MTTF at failure rate mine: 10 failures (what they count is not stated in the rate's file) " \
                   "per 1,000 node-days", note
