"""Mutation wave hI75 on the reliability lines no wave had mutated: `facility.checkpoint_goodput`'s notes, the repair
time `reliability --repair-days` prices the spare policy at (hR74), and `outage.domain_note`'s count (hN74).

Hand figures: Daly (2006, FGCS 22(3)) tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d for d < 2M, else M;
at d = 1,500 s, M = 1,000 s: sqrt(3e6) = 1,732.05 x (1 + 0.28868 + 0.08333) - 1,500 = 876.4 s. A restart R longer
than the MTTF M is interrupted e^(R/M) - 1 times on average before the job resumes: R = M ln 5,001 gives 5,000.
gb200-nvl72-superpod's 8 domains of 72 GPUs, all 8 held by a 576-GPU job: none spare, so the job runs at full size
while no domain is out, P(X = 0) = e^(-mean) of the Poisson count of domains out, mean = GPUs out / 72; the GPUs
out grow with the repair time (Little's law: twice the repair, twice the mean).
"""

from __future__ import annotations

import math
import re

import pytest

from infraplan.facility.checkpoint_goodput import interval_formula_note, restart_note
from infraplan.facility.reliability import reliability_report

NVL72 = "gb200-nvl72-superpod"


def test_nothing_to_write_says_the_interval_is_the_mttf() -> None:
    assert interval_formula_note(0.0, 3600.0, 3600.0, 0.0).startswith(
        "checkpoint interval = M = 3,600 s: nothing to write (d = 0 s")


def test_a_write_between_one_and_two_mttfs_keeps_dalys_formula() -> None:
    line = interval_formula_note(1500.0, 1000.0, 876.4, 1732.05)
    assert "tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d = 876.4 s" in line
    assert "since d >= 2M" not in line
    assert "Daly (2006) tau = M, since d >= 2M" in interval_formula_note(2000.0, 1000.0, 1000.0, 2000.0)


def test_a_restart_as_long_as_the_mttf_is_not_told_it_never_resumes() -> None:
    job = {"job_mttf_s": 600.0, "restart_s": 600.0, "goodput": 0.3, "device_word": "GPU"}
    assert restart_note(job) is None  # M >= R: the docstring's rule, at its edge


def test_thousands_of_interrupted_restarts_are_written_out() -> None:
    """5,000 (no power of ten below a million: hU51 kept e-notation out of answers, not small counts)."""
    job = {"job_mttf_s": 60.0, "restart_s": 60.0 * math.log(5001.0), "goodput": 0.001, "device_word": "GPU"}
    line = restart_note(job)
    assert line is not None and "e^(R/M) - 1 = 5,000 times" in line and "10^" not in line


@pytest.mark.parametrize("days", [3.0, 6.0])
def test_the_spare_policy_prices_the_repair_time_asked(days: float) -> None:
    """`reliability --repair-days 6`: the domains out double, and the share of the time all 8 are in service is
    e^(-mean) at that mean (0.534 at 3 days, 0.285 at 6), as the wait policy's goodput is the goodput times it."""
    report = reliability_report(NVL72, 576, repair_s=days * 86400.0, no_spare_policy="wait")
    up = math.exp(-report.expected_gpus_out_of_service / 72.0)
    assert report.full_size_fraction == pytest.approx(up, rel=1e-9)
    assert report.goodput_with_repairs == pytest.approx(report.goodput * up, rel=1e-9)
    assert f"{up:.3f}" == {3.0: "0.534", 6.0: "0.285"}[days]


def test_a_job_of_one_domain_holds_one_domain() -> None:
    notes = reliability_report(NVL72, 72).notes
    assert any("the 72-GPU job holds 1 domain = 72 GPUs;" in n for n in notes)


def test_a_given_interval_is_set_against_the_goodput_at_dalys_optimum() -> None:
    """`reliability --checkpoint-interval 20000` on 576 GB200 at rsc-1: 94.4 % there, against what `reliability`
    answers without the flag (Daly's optimum, 1,022 s): 99.1 %. The interval is written out ("20,000 s"), not
    "2e+04 s" (hI75's fix: hU51 kept e-notation out of answers)."""
    given = reliability_report(NVL72, 576, failure_rate="rsc-1", checkpoint_interval_s=20000.0)
    daly = reliability_report(NVL72, 576, failure_rate="rsc-1")
    line = next(n for n in given.notes if "as given (--checkpoint-interval)" in n)
    assert given.goodput < daly.goodput
    assert line.startswith(f"checkpoint interval 20,000 s as given (--checkpoint-interval): goodput "
                           f"{given.goodput:.1%}, against {daly.goodput:.1%} at Daly's optimum of 1,022 s")
    assert f"{daly.checkpoint_interval_s:.0f}" == "1022"


@pytest.mark.parametrize(("system", "gpus", "words"), [
    (NVL72, 10, "applied per GPU: 3.25 per 1,000 days of one of this system's 4-GPU servers; the 10-GPU job spans 3"),
    ("mtia-v2-rack", 48, "applied per accelerator: 19.5 per 1,000 days of one of this system's 24-accelerator "
                         "servers; the 48-accelerator job spans 2"),
])
def test_the_rate_per_server_scales_with_the_servers_size(system: str, gpus: int, words: str) -> None:
    """rsc-1: 6.50 failures per 1,000 node-days on 8-GPU DGX A100 nodes (Kokolis et al., arXiv:2410.21680), per
    GPU applied: 6.50 x 4 / 8 = 3.25 for a GB200 tray, 6.50 x 24 / 8 = 19.5 for an MTIA v2 rack's 24-accelerator
    server (a server larger than the rate's node is said too); 10 GPUs on 4-GPU trays span ceil(10 / 4) = 3."""
    notes = reliability_report(system, gpus, failure_rate="rsc-1").notes
    assert any(words in n for n in notes)


@pytest.mark.parametrize("days", [3.0, 6.0])
def test_a_shrunk_job_takes_back_repaired_domains_at_their_failure_rate(days: float) -> None:
    """Under shrink (default unit: one 72-GPU domain of the 576-GPU job) each repaired domain is taken back by a
    restart of its own. Little's law, L = lambda W: domains out on average (GPUs out / 72) = the domains' failure rate
    x the repair time, so the take-backs a day are (GPUs out / 72) / repair days (times P(at most 6 of 8 out),
    1 - 3e-4 here): 0.209 a day at a 3-day and at a 6-day repair alike; the rate of failures does not depend on how
    long a repair takes."""
    report = reliability_report(NVL72, 576, repair_s=days * 86400.0)
    line = next(n for n in report.notes if "such restarts a day" in n)
    said = re.search(r"; ([0-9.]+) such restarts a day", line)
    assert said is not None and report.shrink_unit_gpus == 72
    per_day = report.expected_gpus_out_of_service / 72.0 / days
    assert float(said[1]) == pytest.approx(per_day, rel=3e-3) and said[1] == "0.209"
