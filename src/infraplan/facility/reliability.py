"""Reliability and goodput of a large training job: MTTF vs job size, checkpoints, Young/Daly, ETTR.

- Job failure rate (series system, rates add): lambda_job = accelerators x per-accelerator rate, the rate given
  per 1,000 node-days (Kokolis et al., HPCA 2025, arXiv:2410.21680: RSC-1 6.50, RSC-2 2.34 on 8-GPU DGX A100) and
  divided by the accelerators of the node it was measured on. MTTF_job = 1 / lambda_job reproduces Kokolis'
  projections: 1,000 / (6.50 x 2,048) days = 1.80 h at 16,384 GPUs, 0.225 h at 131,072.
- What a rate counts (`FailureRate.counts`): node failures (r_f, nodes found failed) or job interruptions (every
  cause that ends a job). Kokolis' r_f reproduces its projections but not its observed job MTTFs (7.9 h at 1,024
  GPUs, 47.7 days at 8): 1,000 / (6.50 x 128) days = 28.8 h and 154 days. Jobs end for more than node failures,
  so the job-interruption rate of RSC-1 (`rsc-1-jobs`, 23.7 per 1,000 node-days) is derived from the 1,024-GPU
  figure alone and checked on the 8-GPU one (42.1 days, -11.7 %); r_f stays the default and what the projections
  use, and the result says which rate it used and, for r_f, the job MTTF at all causes (`failure_rate_note`).
- Component mix: the Llama 3 Table 5 shares of the 419 unexpected interruptions (arXiv:2407.21783 Sec. 3.3.4).
- Checkpoint = parameters x 14 B (bf16 weights, fp32 master, Adam m and v); write time = size / storage
  bandwidth (Llama 3: Tectonic 2 TB/s sustained).
- Interval: Daly (2006, FGCS 22(3)), tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d for d < 2M,
  else M; Young (1974), tau = sqrt(2 d M), is the first-order form. `reliability --checkpoint-interval` prices a
  job's own interval instead (hU58: a planner's "we checkpoint every 30 min") and still reports Daly's optimum and
  the goodput there beside it.
- Goodput (ETTR, useful time / wall time): Daly's exponential model of the expected wall time,
  T_wall / T_solve = M e^(R/M) (e^((tau + d)/M) - 1) / tau, with R the restart cost; planned interruptions
  (checkpointed first) each cost R + d more. Their rate is per job, charged whatever the job's size: the shipped
  one (llama3-h100, 47 in 54 days) is that of one 16,384-GPU job, and no source gives it for smaller jobs, so it
  is kept and said in the result's notes (`planned_rate_note`).
- Accelerator (hF42, session 42): every shipped rate was counted on H100 (Llama 3, Epoch) or A100 (RSC); no rate
  of a GB200/GB300 NVL72 rack, B200, MI300X, TPU, MTIA or MSVP was found (reliability.yaml's comment). Another
  accelerator borrows its `default_failure_rate` per GPU, and every answer built on it says so
  (`failure_rate_accelerator_note`: `reliability`, `train --tokens`, `campus` and `plan`'s goodput, `plan`'s spares).
- Scale-up domain blast radius and repair time (hF42): facility/outage.py (`domain_hold`, `DEFAULT_REPAIR_S`).
- Node size (hU44, session 42): a rate is counted per node of its source (`accelerators_per_node`: 8 GPUs, DGX A100
  and H100) and applied per GPU, as above; a system's own server (its node: 4 GPUs on a GB200 NVL72 tray, the one
  size `domain_hold` reads too) changes how many servers a job spans, not its failures. Per GPU rather than per
  server because GPU issues are most of the unexpected interruptions (58.7 %, Llama 3 Sec. 3.3.4); no rate counted
  per server on 4-GPU trays was found. The answer names both nodes and the rate per server (`rate_node_note`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.error_bands import FACILITY_STACK, band_and_basis
from infraplan.catalog.facility_loader import (
    FailureRate,
    default_failure_rate_name,
    load_failure_rate,
    load_reliability,
    load_storage,
)
from infraplan.catalog.loader import load_accelerator, looks_like_path
from infraplan.catalog.schemas import Accelerator, System
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.outage import (
    COUNTS_TEXT,
    DEFAULT_REPAIR_S,
    domain_hold,
    domain_note,
)
from infraplan.facility.results import ReliabilityReport
from infraplan.units import SECONDS_PER_DAY, significant_text

# the job each shipped planned-interruption rate was counted on (catalog/facility/reliability.yaml's sources)
PLANNED_RATE_JOBS = {
    "llama3-h100": ("Llama 3 405B pre-training on 16,384 H100: 47 planned interruptions in 54 days "
                    "(arXiv:2407.21783 Sec. 3.3.4)"),
}


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
    return (f"checkpoint interval {given:,.4g} s as given (--checkpoint-interval): goodput {job['goodput']:.1%}, "
            f"against {job['goodput_at_daly_interval']:.1%} at Daly's optimum of {daly:,.4g} s (the same failures, "
            f"writes and restarts)")


def _planned_rate_basis(rate_name: str, per_day: float, gpus: int, device: str = "GPU") -> str:
    """The planned-interruption rate and what it rests on: per job, from one job of the source's size. `device`:
    what one of the job's devices is called (`Accelerator.device_word`)."""
    origin = PLANNED_RATE_JOBS.get(rate_name, f"failure rate {rate_name}'s source (its job size is not stated)")
    return (f"{per_day:.3g} per day per job, whatever the job's size (not scaled by its {gpus:,} {device}s; no source "
            f"gives a rate for other sizes), taken from {origin}")


def planned_rate_note(rate_name: str, per_day: float, gpus: int, days: float, planned: float,
                      total: float, device: str = "GPU") -> str | None:
    """What the planned interruptions rest on (None where the rate has none): a per-job rate, from one job of the
    source's size, charged to a job of any size (module docstring)."""
    if per_day <= 0:
        return None
    basis = _planned_rate_basis(rate_name, per_day, gpus, device)
    return (f"planned interruptions: {basis}: {significant_text(planned, 3)} of the {significant_text(total, 3)} "
            f"expected interruptions over {days:g} days")  # "1.42e+04" before (hU, session 51)


def goodput_planned_note(job: dict[str, Any], gpus: int) -> str | None:
    """The note of every answer whose goodput comes from `job_reliability(...)` (`job`) at `gpus` (train --tokens,
    campus, plan): the planned interruptions in it are a per-job rate from one job of the source's size (None
    where the rate has none). The job's devices are called by its part's word (`job["device_word"]`: "8
    accelerators" of MTIA, not "8 GPUs", as `reliability` says since hU45)."""
    per_day = float(job["planned_interruptions_per_day"])
    if per_day <= 0:
        return None
    basis = _planned_rate_basis(job["failure_rate"], per_day, gpus, job["device_word"])
    return (f"goodput counts planned interruptions at {basis} (`infraplan reliability` counts them apart from the "
            "unexpected ones)")


def _duration_text(seconds: float) -> str:
    """Hours up to two days, days beyond (the note's job MTTFs: 7.9 h, 42.1 days)."""
    if seconds < 2 * SECONDS_PER_DAY:
        return f"{significant_text(seconds / 3600.0, 3)} h"
    return f"{significant_text(seconds / SECONDS_PER_DAY, 3)} days"  # "1,000 days", not "1e+03 days" (hU)


def failure_rate_note(rate_name: str, rate: FailureRate, gpus: int, device: str = "GPU") -> str:
    """Which rate the job MTTF uses and what it counts; a node-failure rate also gives the MTTF at its cluster's
    all-cause job-interruption rate where one is shipped (`all_causes`), or says that it leaves causes out."""
    note = (f"job MTTF at failure rate {rate_name}: {rate.failures_per_1000_node_days:g} {COUNTS_TEXT[rate.counts]} "
            f"per 1,000 node-days")
    if rate.counts != "node_failures":
        return note
    if rate.all_causes is None:
        return (f"{note}; a job is also ended by causes a node-failure rate leaves out (network, filesystem, "
                f"software), so its MTTF is an upper bound")
    jobs = load_failure_rate(rate.all_causes)
    return (f"{note}; jobs on its cluster were ended by all causes at {jobs.failures_per_1000_node_days:g} per 1,000 "
            f"node-days: job MTTF {_duration_text(float(job_mttf_s(gpus, jobs)))} at {gpus:,} {device}s "
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


def rate_preset_accelerator(accelerator: str) -> str:
    """An accelerator reference as its preset's name (a what-if file: the preset it extends)."""
    return load_accelerator(accelerator).catalog_name if looks_like_path(accelerator) else accelerator


def failure_rate_accelerator_note(accelerator: str, rate_name: str, rate: FailureRate,
                                  device: str = "GPU") -> str | None:
    """One line where the rate was counted on other accelerators than the job's (module docstring); None where it
    was counted on the job's, or its file does not say (a user's file). `device`: the job's devices' word
    (`Accelerator.device_word`), where the source's rate per GPU is applied per one of them ("per TPU")."""
    preset = rate_preset_accelerator(accelerator)
    if not rate.measured_on or preset in rate.measured_on:
        return None
    on = ", ".join(rate.measured_on)
    own = [k for k, r in load_reliability().failure_rates.items() if preset in r.measured_on]
    if own:  # a rate the user chose over the accelerator's own
        return f"failure rate {rate_name} was counted on {on}, not {preset} (counted on {preset}: {', '.join(own)})"
    mix = " and its cause mix (Llama 3 Table 5)" if rate_name in load_reliability().component_mix.failure_rates else ""
    used = "used" if device == "GPU" else f"applied per {device}"  # the source's GPUs; the job's devices' word
    return (f"failure rate {rate_name} was counted on {on}, not {preset}: no published failure rate of {preset} was "
            f"found, so {on}'s rate per GPU{mix} {'are' if mix else 'is'} {used} (ASSUMPTION [U])")


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


def goodput_basis_note(job: dict[str, Any], gpus: int) -> str | None:
    """The one note of every answer whose goodput comes from `job_reliability(...)` (`job`) at `gpus` (train
    --tokens, campus, plan): the planned interruptions' per-job rate (`goodput_planned_note`), where the rate was
    counted on another accelerator, that it is borrowed (`failure_rate_accelerator_note`), and a job MTTF shorter
    than one restart (`restart_note`); None: nothing to say."""
    parts = [n for n in [goodput_planned_note(job, gpus), job.get("failure_rate_accelerator_note"),
                         restart_note(job)] if n]
    return "; ".join(parts) or None


def checkpoint_bytes(parameters: float, bytes_per_param: float | None = None) -> float:
    per = load_reliability().checkpoint.bytes_per_param if bytes_per_param is None else bytes_per_param
    return float(parameters) * per


def checkpoint_size_basis(model: str | None, checkpoint_size_bytes: float | None) -> str:
    """What sized the checkpoint, as the answer says it: the size given, else the model's parameters at the catalog's
    bytes per parameter (weights and optimizer state, catalog/facility/reliability.yaml `checkpoint`)."""
    if checkpoint_size_bytes is not None:
        return "--checkpoint-size; the model is not used"
    per = load_reliability().checkpoint.bytes_per_param
    return f"{model}'s weights and optimizer state, --model ({per:g} bytes per parameter)"


def component_mix(expected_interruptions: float) -> dict[str, float]:
    """Expected interruptions by component, in the Llama 3 Table 5 proportions."""
    counts = load_reliability().component_mix.counts
    total = sum(counts.values())
    return {k: expected_interruptions * v / total for k, v in counts.items()}


def resolve_failure_rate(accelerator: str, failure_rate: str | None) -> tuple[str, FailureRate]:
    name = failure_rate or default_failure_rate_name(accelerator)
    return name, load_failure_rate(name)


def job_reliability(accelerator: str | Accelerator, gpus: int, parameters: float, failure_rate: str | None = None,
                    storage: str = "tectonic", storage_bytes_per_s: float | None = None,
                    restart_s: float | None = None, checkpoint_size_bytes: float | None = None,
                    checkpoint_interval_s: float | None = None) -> dict[str, Any]:
    """MTTF, checkpoint size/time, optimal interval and goodput of one job of `gpus` accelerators, and what one of
    them is called (`device_word`: `Accelerator.device_word`, for the notes; an internal dict no answer spreads).
    `checkpoint_interval_s`: the job's own compute time between checkpoints, where the goodput is priced (None:
    Daly's optimum); `daly_interval_s` and `goodput_at_daly_interval` are the optimum's either way.

    `accelerator`: a preset name, a file, or the job's loaded accelerator (a cluster's: a file written from scratch
    has a `catalog_name` that names no preset, so only the object says what it is; its rate is the default's)."""
    if gpus <= 0:
        raise InputError(f"--gpus must be positive, got {gpus}")
    acc = accelerator if isinstance(accelerator, Accelerator) else load_accelerator(accelerator)
    accelerator = acc.catalog_name if isinstance(accelerator, Accelerator) else accelerator
    rate_name, rate = resolve_failure_rate(accelerator, failure_rate)
    defaults = load_reliability().checkpoint
    restart = defaults.restart_s if restart_s is None else restart_s
    if restart < 0:
        raise InputError(f"restart cost must be >= 0 s, got {restart:g}")
    size = checkpoint_bytes(parameters) if checkpoint_size_bytes is None else checkpoint_size_bytes
    bandwidth = load_storage(storage).sustained_bytes_per_s if storage_bytes_per_s is None else storage_bytes_per_s
    if bandwidth <= 0 or size < 0:
        raise InputError("storage bandwidth must be positive and checkpoint size >= 0")
    if size > 2**60:  # 1 EiB, ~80,000x a 1T-parameter model's 14 TB: 1e30 B printed a write of 1.6e10 years
        raise InputError(f"checkpoint size {size:.3g} B is above the limit of 1 EiB")
    if checkpoint_interval_s is not None and not 0 < checkpoint_interval_s < float("inf"):
        raise InputError(f"checkpoint interval must be above 0 s, got {checkpoint_interval_s:g}")
    write_s = size / bandwidth
    mttf = float(job_mttf_s(gpus, rate))
    daly = max(float(daly_interval_s(write_s, mttf)) if write_s > 0 else mttf, 1e-9)
    interval = daly if checkpoint_interval_s is None else float(checkpoint_interval_s)
    planned_per_s = rate.planned_interruptions_per_day / SECONDS_PER_DAY
    word = acc.device_word  # what the job's devices are called in its notes
    return {
        "failure_rate": rate_name, "failures_per_1000_node_days": rate.failures_per_1000_node_days,
        "failure_rate_accelerator_note": failure_rate_accelerator_note(accelerator, rate_name, rate, word),
        "failure_rate_node_accelerators": rate.accelerators_per_node, "failure_rate_counts": rate.counts,
        "job_mttf_s": mttf, "checkpoint_bytes": size, "checkpoint_write_s": write_s,
        "checkpoint_interval_s": interval, "restart_s": restart,
        "planned_interruptions_per_day": rate.planned_interruptions_per_day,
        "goodput": float(goodput(interval, write_s, restart, mttf, planned_per_s)),
        "daly_interval_s": daly,
        "goodput_at_daly_interval": float(goodput(daly, write_s, restart, mttf, planned_per_s)),
        "young_interval_s": float(young_interval_s(write_s, mttf)),
        "device_word": word,
    }


def reliability_report(system: str | System | Cluster, gpus: int, days: float = 30.0, model: str | None = "llama3-405b",
                       failure_rate: str | None = None, storage: str = "tectonic", restart_s: float | None = None,
                       checkpoint_size_bytes: float | None = None, spare_trays_per_domain: int = 0,
                       repair_s: float = DEFAULT_REPAIR_S,
                       checkpoint_interval_s: float | None = None) -> ReliabilityReport:
    """`infraplan reliability`: expected interruptions over `days` and per day, MTTF, checkpoint interval, goodput
    (at `checkpoint_interval_s` where given, else at Daly's optimum), and the GPUs the job holds and keeps out of
    service by scale-up domain (`domain_hold`)."""
    # GPU failure rates, a model's checkpoint: as train, an accelerator (a CPU refused)
    cluster = Cluster.resolve(system, purpose="a training job's reliability").for_gpus(gpus)
    sys_spec = cluster.system
    cluster.check_gpus(gpus)
    if days <= 0:
        raise InputError(f"--days must be positive, got {days:g}")
    accelerator = cluster.accelerator.name
    parameters = float(load_model(model).total_params()) if model else 0.0
    if checkpoint_size_bytes is None and not model:
        raise InputError("give --model or --checkpoint-size to size the checkpoint")
    job = job_reliability(cluster.accelerator, gpus, parameters, failure_rate, storage, None, restart_s,
                          checkpoint_size_bytes, checkpoint_interval_s)
    _, rate = resolve_failure_rate(cluster.accelerator.catalog_name, failure_rate)
    layout = cluster.layout
    server_gpus = layout.accelerators_per_server  # the system's node: the one size a server is read from
    hold = domain_hold(gpus, server_gpus, layout.packing_unit_accelerators,
                       spare_trays_per_domain, job["failure_rate"], rate, repair_s, cluster.accelerator.device_word)
    out = hold["expected_gpus_out_of_service"]
    unexpected = days * SECONDS_PER_DAY / job["job_mttf_s"]
    planned = days * job["planned_interruptions_per_day"]
    band, basis = band_and_basis(cluster.accelerator.catalog_name, FACILITY_STACK, "facility", "job_mttf")  # hE40
    device = cluster.accelerator.device_word  # the notes' word for the job's devices ("72 GPUs" of MTIA, hU45)
    given = checkpoint_interval_s is not None
    return ReliabilityReport(
        expected_interruptions=unexpected + planned,
        expected_interruptions_per_day=(unexpected + planned) / days,
        job_mttf_s=job["job_mttf_s"],
        checkpoint_interval_s=job["checkpoint_interval_s"],
        checkpoint_interval_basis="given" if given else "daly",
        daly_interval_s=job["daly_interval_s"],
        goodput=job["goodput"],
        goodput_at_daly_interval=job["goodput_at_daly_interval"],
        expected_unexpected_interruptions=unexpected,
        expected_planned_interruptions=planned,
        interruptions_by_component=component_mix(unexpected),
        system=sys_spec.name, accelerator=accelerator, gpus=gpus, days=days,
        model=model if checkpoint_size_bytes is None else None,  # --checkpoint-size: the model sized nothing (hC51)
        checkpoint_size_basis=checkpoint_size_basis(model, checkpoint_size_bytes),
        **{k: job[k] for k in ("failure_rate", "failures_per_1000_node_days", "failure_rate_counts",
                               "checkpoint_bytes", "checkpoint_write_s", "restart_s", "young_interval_s")},
        error_band=band, error_band_basis=basis,
        failure_rate_node_gpus=rate.accelerators_per_node, server_gpus=server_gpus,
        scale_up_domain_gpus=hold["domain_gpus"], spare_trays_per_domain=spare_trays_per_domain,
        domains=hold["domains"], gpus_held=hold["gpus_held"], repair_time_s=repair_s,
        expected_gpus_out_of_service=out,
        goodput_of_gpus_held=None if out is None else job["goodput"] * gpus / (hold["gpus_held"] + out),
        notes=[n for n in [given_interval_note(job) if given else None, restart_note(job)] if n]
        + [interval_formula_note(job["checkpoint_write_s"], job["job_mttf_s"], job["daly_interval_s"],
                                 job["young_interval_s"])]
        + [n for n in [planned_rate_note(job["failure_rate"], job["planned_interruptions_per_day"], gpus, days,
                                         planned, unexpected + planned, device)] if n]
        + [failure_rate_note(job["failure_rate"], rate, gpus, device)]
        + [n for n in [rate_node_note(rate, server_gpus, gpus, device)] if n]
        + [n for n in [job["failure_rate_accelerator_note"]] if n]
        + [domain_note(hold, spare_trays_per_domain, repair_s, gpus, device)],
    )
