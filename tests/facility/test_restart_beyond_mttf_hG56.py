"""hG (session 56): a job whose MTTF is shorter than one restart is told so. `train llama3-405b --system h100-sxm
--gpus 9999872 ... --tokens 15.6T` answered "time to train 1,737,438,440,570 years, goodput 0.0 %" with no line
saying why: a job MTTF of 18.2 s against a 10-minute restart, where Daly's model (the goodput's,
checkpoint_goodput.py `wall_time_factor`) has each restart interrupted e^(R/M) - 1 times on average before the job
resumes. The shipped gigawatt-2027 plan's 393,216-GPU run (MTTF 7.7 min, goodput 24 %) is the same case. One line
now says it, in `reliability` and in every answer whose goodput comes from `job_reliability` (train --tokens,
campus, plan: `goodput_basis_note`); a job whose MTTF exceeds its restart (Llama 3's 16,384 H100: 3.09 h) has none."""

from __future__ import annotations

import math

from infraplan.facility.checkpoint_goodput import restart_note
from infraplan.facility.failure_rate_notes import goodput_basis_note
from infraplan.facility.reliability import job_reliability, reliability_report
from infraplan.planning.campus import plan_campus

PARAMS_405B = 405.9e9


def test_a_job_failing_faster_than_it_restarts_is_told_so() -> None:
    job = job_reliability("h100-sxm", 9_999_872, PARAMS_405B)
    assert job["job_mttf_s"] < job["restart_s"] == 600
    line = restart_note(job)
    assert line is not None
    attempts = math.expm1(job["restart_s"] / job["job_mttf_s"])  # e^(600 / 18.2) - 1 ~ 2e14
    assert "job MTTF 18.2 s is shorter than one restart (10 min)" in line
    assert f"e^(R/M) - 1 = ~10^{math.floor(math.log10(attempts))} times" in line and "e+" not in line  # no e-notation
    gigawatt = restart_note(job_reliability("h100-sxm", 393_216, PARAMS_405B)) or ""  # MTTF 7.73 min: e^1.29 - 1
    assert "e^(R/M) - 1 = 2.6 times" in gigawatt
    assert "goodput 0.0 %" in line
    assert line in (goodput_basis_note(job, 9_999_872) or "")


def test_reliability_says_it_and_llama3s_job_does_not() -> None:
    big = reliability_report("h100-sxm", 9_999_872, days=30)
    assert any("shorter than one restart" in n for n in big.notes)
    llama3 = reliability_report("meta-genai-roce-24k", 16_384, days=54)  # MTTF 3.09 h against 10 min
    assert not any("shorter than one restart" in n for n in llama3.notes)
    assert restart_note(job_reliability("h100-sxm", 16_384, PARAMS_405B)) is None


def test_the_restart_given_moves_the_line() -> None:
    job = job_reliability("h100-sxm", 393_216, PARAMS_405B)  # gigawatt-2027's frontier run: MTTF 7.7 min
    assert restart_note(job) is not None
    assert restart_note(job_reliability("h100-sxm", 393_216, PARAMS_405B, restart_s=60)) is None


def test_campus_jobs_of_llama3s_size_say_nothing() -> None:
    plan = plan_campus(100e6, "h100-sxm")
    assert not any("shorter than one restart" in n for n in plan.notes)
