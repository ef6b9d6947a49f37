"""What a reliability answer's failure rates rest on, as the lines it says: which rate, counted on which node and
accelerator, what it counts, and the planned interruptions' per-job rate.

- What a rate counts (`FailureRate.counts`): node failures (r_f, nodes found failed) or job interruptions (every
  cause that ends a job). Kokolis' r_f reproduces its projections but not its observed job MTTFs (7.9 h at 1,024
  GPUs, 47.7 days at 8): 1,000 / (6.50 x 128) days = 28.8 h and 154 days. Jobs end for more than node failures,
  so the job-interruption rate of RSC-1 (`rsc-1-jobs`, 23.7 per 1,000 node-days) is derived from the 1,024-GPU
  figure alone and checked on the 8-GPU one (42.1 days, -11.7 %); r_f stays the default and what the projections
  use, and the result says which rate it used and, for r_f, the job MTTF at all causes (`failure_rate_note`).
- Planned interruptions: their rate is per job, charged whatever the job's size: the shipped
  one (llama3-h100, 47 in 54 days) is that of one 16,384-GPU job, and no source gives it for smaller jobs, so it
  is kept and said in the result's notes (`planned_rate_note`). The other shipped rates (RSC's node failures,
  Epoch's H100 figure) and a user's file without the field count none: the notes say so and name the rate that
  counts them (hN72), rather than borrow Llama 3's per-job figure for a rate whose source never counted it.
- Accelerator (hF42, session 42): every shipped rate was counted on H100 (Llama 3, Epoch) or A100 (RSC); no rate
  of a GB200/GB300 NVL72 rack, B200, MI300X, TPU, MTIA or MSVP was found (reliability.yaml's comment). Another
  accelerator borrows its `default_failure_rate` per GPU, and every answer built on it says so
  (`failure_rate_accelerator_note`: `reliability`, `train --tokens`, `campus` and `plan`'s goodput, `plan`'s spares).
- Node size (hU44, session 42): a rate is counted per node of its source (`accelerators_per_node`: 8 GPUs, DGX A100
  and H100) and applied per GPU, as above; a system's own server (its node: 4 GPUs on a GB200 NVL72 tray, the one
  size `domain_hold` reads too) changes how many servers a job spans, not its failures. Per GPU rather than per
  server because GPU issues are most of the unexpected interruptions (58.7 %, Llama 3 Sec. 3.3.4); no rate counted
  per server on 4-GPU trays was found. The answer names both nodes and the rate per server (`rate_node_note`).
- Part of a server (hN2, session 70): a failure takes its whole server out of service, ending every job on it, so
  a job on part of one (12 GPUs on two 8-GPU servers) is charged the failures of its servers' GPUs (16), what
  `facility --count` and `reliability`'s held domains count (`reliability.accelerators_held`, `held_note`).
The formulas the notes quote (job MTTF, Daly's goodput): `facility.checkpoint_goodput`.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.loader import load_accelerator, looks_like_path
from infraplan.catalog.reliability_loader import FailureRate, load_failure_rate, load_reliability
from infraplan.facility.checkpoint_goodput import job_mttf_s, restart_note
from infraplan.facility.outage import COUNTS_TEXT
from infraplan.units import SECONDS_PER_DAY, significant_text

# the job each shipped planned-interruption rate was counted on (catalog/facility/reliability.yaml's sources)
PLANNED_RATE_JOBS = {
    "llama3-h100": ("Llama 3 405B pre-training on 16,384 H100: 47 planned interruptions in 54 days "
                    "(arXiv:2407.21783 Sec. 3.3.4)"),
}


def _planned_rate_basis(rate_name: str, per_day: float, gpus: int, device: str = "GPU") -> str:
    """The planned-interruption rate and what it rests on: per job, from one job of the source's size. `device`:
    what one of the job's devices is called (`Accelerator.device_word`)."""
    origin = PLANNED_RATE_JOBS.get(rate_name, f"failure rate {rate_name}'s source (its job size is not stated)")
    return (f"{per_day:.3g} per day per job, whatever the job's size (not scaled by its {gpus:,} {device}s; no source "
            f"gives a rate for other sizes), taken from {origin}")


def _none_planned(rate_name: str) -> str:
    """Why a rate counts no planned interruptions, and the shipped rates that do (hN72: rsc-1, epoch-h100 or a
    user's file gave 0 silently where llama3-h100 gives 0.87 a day)."""
    counting = [f"{name} counts {rate.planned_interruptions_per_day:.3g} a day per job, taken from "
                f"{PLANNED_RATE_JOBS.get(name, 'its source')}"
                for name, rate in load_reliability().failure_rates.items() if rate.planned_interruptions_per_day > 0]
    others = "; ".join(counting) or "no shipped rate counts any"
    return (f"failure rate {rate_name} counts none (its source gives no planned-interruption rate: maintenance, "
            f"upgrades, configuration changes), so none are charged; {others} (a failure-rate file sets "
            "planned_interruptions_per_day)")


def planned_rate_note(rate_name: str, per_day: float, gpus: int, days: float, planned: float,
                      total: float, device: str = "GPU") -> str | None:
    """What the planned interruptions rest on: a per-job rate, from one job of the source's size, charged to a job
    of any size (module docstring); where the rate has none, that none are charged and which rate counts them."""
    if per_day <= 0:
        return f"planned interruptions: {_none_planned(rate_name)}"
    basis = _planned_rate_basis(rate_name, per_day, gpus, device)
    return (f"planned interruptions: {basis}: {significant_text(planned, 3)} of the {significant_text(total, 3)} "
            f"expected interruptions over {days:g} days")  # "1.42e+04" before (hU, session 51)


def goodput_planned_note(job: dict[str, Any], gpus: int) -> str | None:
    """The note of every answer whose goodput comes from `job_reliability(...)` (`job`) at `gpus` (train --tokens,
    campus, plan): the planned interruptions in it are a per-job rate from one job of the source's size (where the
    rate has none, that none are counted: `_none_planned`). The job's devices are called by its part's word
    (`job["device_word"]`: "8 accelerators" of MTIA, not "8 GPUs", as `reliability` says since hU45)."""
    per_day = float(job["planned_interruptions_per_day"])
    if per_day <= 0:
        return f"goodput counts no planned interruptions: {_none_planned(job['failure_rate'])}"
    basis = _planned_rate_basis(job["failure_rate"], per_day, gpus, job["device_word"])
    return (f"goodput counts planned interruptions at {basis} (`infraplan reliability` counts them apart from the "
            "unexpected ones)")


def _duration_text(seconds: float) -> str:
    """Hours up to two days, days beyond (the note's job MTTFs: 7.9 h, 42.1 days)."""
    if seconds < 2 * SECONDS_PER_DAY:
        return f"{significant_text(seconds / 3600.0, 3)} h"
    return f"{significant_text(seconds / SECONDS_PER_DAY, 3)} days"  # "1,000 days", not "1e+03 days" (hU)


def failure_rate_note(rate_name: str, rate: FailureRate, gpus: int, device: str = "GPU",
                      held: int | None = None) -> str:
    """Which rate the job MTTF uses and what it counts; a node-failure rate also gives the MTTF at its cluster's
    all-cause job-interruption rate where one is shipped (`all_causes`), or says that it leaves causes out. `held`:
    the accelerators of the servers the job occupies, whose failures end it (`reliability.accelerators_held`)."""
    held = gpus if held is None else held
    at = f"{gpus:,} {device}s" + ("" if held == gpus else f" ({held:,} held)")
    note = (f"job MTTF at failure rate {rate_name}: {rate.failures_per_1000_node_days:g} {COUNTS_TEXT[rate.counts]} "
            f"per 1,000 node-days")
    if rate.counts != "node_failures":
        return note
    if rate.all_causes is None:
        return (f"{note}; a job is also ended by causes a node-failure rate leaves out (network, filesystem, "
                f"software), so its MTTF is an upper bound")
    jobs = load_failure_rate(rate.all_causes)
    return (f"{note}; jobs on its cluster were ended by all causes at {jobs.failures_per_1000_node_days:g} per 1,000 "
            f"node-days: job MTTF {_duration_text(float(job_mttf_s(held, jobs)))} at {at} "
            f"(--failure-rate {rate.all_causes})")


def rate_node_note(rate: FailureRate, server_gpus: int, gpus: int, device: str = "GPU") -> str | None:
    """Where the rate's node and the system's server hold different GPUs (module docstring: the rate is applied per
    GPU), the rate per server and the servers the job spans, one line; None where they are the same size.
    `device`: what the job's devices are called (the rate's node keeps its GPUs: Llama 3's H100 nodes)."""
    node = rate.accelerators_per_node
    if node == server_gpus:
        return None
    per_server = rate.failures_per_1000_node_days * server_gpus / node
    servers = -(-gpus // server_gpus)
    return (f"the failure rate was counted on {node}-GPU nodes and is applied per {device}: {per_server:.4g} per "
            f"1,000 days of one of this system's {server_gpus}-{device} servers; the {gpus:,}-{device} job spans "
            f"{servers:,} of them (GPU issues are 58.7 % of the unexpected interruptions, Llama 3 Sec. 3.3.4; no rate "
            f"counted per {server_gpus}-{device} server was found)")


def held_note(job: dict[str, Any], gpus: int) -> str | None:
    """Where the job occupies part of a server (`job_reliability(...)`'s `accelerators_held` above `gpus`), that its
    failures are counted on its servers' accelerators, one line; None where it fills its servers."""
    held = int(job.get("accelerators_held", gpus))
    if held == gpus:
        return None
    server, word = int(job["server_accelerators"]), job["device_word"]
    return (f"the {gpus:,}-{word} job occupies {held // server:,} servers of {server} {word}s ({held:,} {word}s): a "
            f"failure takes its whole server out of service, ending every job on it, so the job MTTF counts the "
            f"failures of all {held:,} (job MTTF {_duration_text(float(job['job_mttf_s']))})")


def rate_preset_accelerator(accelerator: str) -> str:
    """An accelerator reference as its preset's name (a what-if file: the preset it extends)."""
    return load_accelerator(accelerator).catalog_name if looks_like_path(accelerator) else accelerator


def failure_rate_accelerator_note(accelerator: str, rate_name: str, rate: FailureRate,
                                  device: str = "GPU") -> str | None:
    """One line where the rate was counted on other accelerators than the job's (module docstring); None where it
    was counted on the job's, or its file does not say (a user's file). `device`: the job's devices' word
    (`Accelerator.device_word`), where the source's rate per GPU is applied per one of them ("per TPU")."""
    preset = rate_preset_accelerator(accelerator)
    measured = [rate_preset_accelerator(m) for m in rate.measured_on]  # a file's accelerator file: its preset (hK76)
    if not measured or preset in measured:
        return None
    on = ", ".join(dict.fromkeys(measured))
    own = [k for k, r in load_reliability().failure_rates.items() if preset in r.measured_on]
    if own:  # a rate the user chose over the accelerator's own
        return f"failure rate {rate_name} was counted on {on}, not {preset} (counted on {preset}: {', '.join(own)})"
    mix = " and its cause mix (Llama 3 Table 5)" if rate_name in load_reliability().component_mix.failure_rates else ""
    used = "used" if device == "GPU" else f"applied per {device}"  # the source's GPUs; the job's devices' word
    return (f"failure rate {rate_name} was counted on {on}, not {preset}: no published failure rate of {preset} was "
            f"found, so {on}'s rate per GPU{mix} {'are' if mix else 'is'} {used} (ASSUMPTION [U])")



def goodput_basis_note(job: dict[str, Any], gpus: int) -> str | None:
    """The one note of every answer whose goodput comes from `job_reliability(...)` (`job`) at `gpus` (train
    --tokens, campus, plan): a job on part of a server charged the server's failures (`held_note`), the planned
    interruptions' per-job rate (`goodput_planned_note`), where the rate was counted on another accelerator, that it
    is borrowed (`failure_rate_accelerator_note`), and a job MTTF shorter than one restart (`restart_note`); None:
    nothing to say."""
    parts = [n for n in [held_note(job, gpus), goodput_planned_note(job, gpus),
                         job.get("failure_rate_accelerator_note"), restart_note(job)] if n]
    return "; ".join(parts) or None
