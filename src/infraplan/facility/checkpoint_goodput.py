"""Daly's checkpoint model of a training job: job MTTF, the Young / Daly interval, the wall-time factor, goodput.

- Job failure rate (series system, rates add): lambda_job = accelerators x per-accelerator rate, the rate given
  per 1,000 node-days (Kokolis et al., HPCA 2025, arXiv:2410.21680: RSC-1 6.50, RSC-2 2.34 on 8-GPU DGX A100) and
  divided by the accelerators of the node it was measured on. MTTF_job = 1 / lambda_job reproduces Kokolis'
  projections: 1,000 / (6.50 x 2,048) days = 1.80 h at 16,384 GPUs, 0.225 h at 131,072.
- Interval: Daly (2006, FGCS 22(3)), tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d for d < 2M,
  else M; Young (1974), tau = sqrt(2 d M), is the first-order form. `reliability --checkpoint-interval` prices a
  job's own interval instead (hU58: a planner's "we checkpoint every 30 min") and still reports Daly's optimum and
  the goodput there beside it.
- Goodput (ETTR, useful time / wall time): Daly's exponential model of the expected wall time,
  T_wall / T_solve = M e^(R/M) (e^((tau + d)/M) - 1) / tau, with R the restart cost; planned interruptions
  (checkpointed first) each cost R + d more (their rate and what it rests on: `facility.failure_rate_notes`).
- The lines that explain an answer's interval (`interval_formula_note`, `given_interval_note`) and a job MTTF shorter
  than one restart (`restart_note`). The job and the report: `facility.reliability`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infraplan.catalog.reliability_loader import FailureRate
from infraplan.units import significant_text


def job_failure_rate_per_s(accelerators, rate: FailureRate):
    """Expected failures per second of a job spanning `accelerators` (array-friendly)."""
    return np.asarray(accelerators, dtype=np.float64) * rate.per_accelerator_hour / 3600.0


def job_mttf_s(accelerators, rate: FailureRate):
    """Mean time to failure of a job, seconds: 1 / (accelerators x per-accelerator rate)."""
    return 1.0 / job_failure_rate_per_s(accelerators, rate)


def young_interval_s(write_s, mttf_s):
    return np.sqrt(2.0 * np.asarray(write_s, dtype=np.float64) * np.asarray(mttf_s, dtype=np.float64))


def daly_interval_s(write_s, mttf_s):
    """Daly's higher-order optimum compute time between checkpoints (array-friendly)."""
    d = np.asarray(write_s, dtype=np.float64)
    m = np.asarray(mttf_s, dtype=np.float64)
    x = d / (2.0 * m)
    tau = np.sqrt(2.0 * d * m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - d
    return np.where(d < 2.0 * m, tau, m)


def wall_time_factor(interval_s, write_s, restart_s, mttf_s):
    """Expected wall time per unit of useful work under exponential failures (Daly 2006); inf where a restart or an
    interval spans more than ~709 MTTFs (exp overflows: the job never completes an interval, goodput 0)."""
    tau = np.asarray(interval_s, dtype=np.float64)
    m = np.asarray(mttf_s, dtype=np.float64)
    with np.errstate(over="ignore"):  # the overflow is the answer (inf), not a fault to print
        return m * np.exp(np.asarray(restart_s) / m) * np.expm1((tau + np.asarray(write_s)) / m) / tau


def goodput(interval_s, write_s, restart_s, mttf_s, planned_per_s=0.0):
    """Useful time / wall time (ETTR), including checkpoint writes, lost work, restarts and planned stops."""
    factor = wall_time_factor(interval_s, write_s, restart_s, mttf_s)
    planned = np.asarray(planned_per_s) * (np.asarray(restart_s) + np.asarray(write_s))
    return 1.0 / (factor * (1.0 + planned))


def interval_formula_note(write_s: float, mttf_s: float, interval_s: float, young_s: float) -> str:
    """The checkpoint interval's formula with its inputs and result (Daly 2006; Young 1974), one line."""
    def sec(x: float) -> str:
        return f"{significant_text(x, 4)} s"  # "1,824 s" and "2.841 s" (was "1824 s": .4g below 10^4, hU)

    inputs = f"d = {sec(write_s)} (checkpoint write), M = {sec(mttf_s)} (job MTTF)"
    if write_s <= 0:
        return f"checkpoint interval = M = {sec(interval_s)}: nothing to write ({inputs})"
    daly = ("Daly (2006) tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d" if write_s < 2.0 * mttf_s
            else "Daly (2006) tau = M, since d >= 2M")
    return f"checkpoint interval: {daly} = {sec(interval_s)} with {inputs}; Young (1974) sqrt(2 d M) = {sec(young_s)}"


def given_interval_note(job: dict[str, Any]) -> str:
    """The goodput at the job's own checkpoint interval against Daly's optimum (`job_reliability`'s dict), one line."""
    given, daly = job["checkpoint_interval_s"], job["daly_interval_s"]
    return (f"checkpoint interval {significant_text(given, 4)} s as given (--checkpoint-interval): goodput "
            f"{job['goodput']:.1%}, against {job['goodput_at_daly_interval']:.1%} at Daly's optimum of "
            f"{significant_text(daly, 4)} s (the same failures, writes and restarts)")  # "2e+04 s" before (hI75)



def restart_note(job: dict[str, Any]) -> str | None:
    """One line where the job's MTTF M is shorter than one restart R (`job_reliability`'s dict): under Daly's model
    (`wall_time_factor`, the goodput's) a restart is itself interrupted e^(R/M) - 1 times on average before the job
    resumes, so the wall clock explodes (10 M H100: M = 18.2 s, 1.7e12 years for 15.6T tokens; hG56); None where
    M >= R (Llama 3's 16,384 H100: 3.09 h against 10 min)."""
    mttf, restart = float(job["job_mttf_s"]), float(job["restart_s"])
    if mttf >= restart:
        return None

    def dur(x: float) -> str:
        return f"{significant_text(x, 3)} s" if x < 120 else f"{significant_text(x / 60.0, 3)} min"

    with np.errstate(over="ignore"):
        attempts = float(np.expm1(restart / mttf))
    times = (significant_text(attempts, 2) if attempts < 1e6 else  # no e-notation in an answer (hU51)
             f"~10^{math.floor(math.log10(attempts))}" if math.isfinite(attempts) else "over 10^308")
    return (f"job MTTF {dur(mttf)} is shorter than one restart ({dur(restart)}): each restart is itself interrupted "
            f"e^(R/M) - 1 = {times} times on average before the job resumes (Daly 2006, the goodput's model), "
            f"hence goodput {job['goodput'] * 100:.1f} %: fewer {job['device_word']}s per job, a faster restart or "
            "a lower failure rate moves it")
