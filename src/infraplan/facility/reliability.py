"""Reliability and goodput of a large training job: MTTF vs job size, checkpoints, Young/Daly, ETTR.

- The job's MTTF (series system, rates add; Kokolis et al., HPCA 2025), Daly's checkpoint interval and goodput:
  `facility.checkpoint_goodput`; what the rate counts, where it was counted and the planned interruptions' per-job
  rate, said in the answer's notes: `facility.failure_rate_notes`.
- Component mix: the Llama 3 Table 5 shares of the 419 unexpected interruptions (arXiv:2407.21783 Sec. 3.3.4).
- Checkpoint = parameters x 14 B (bf16 weights, fp32 master, Adam m and v), or the optimizer's bytes a parameter
  the caller gives (`reliability --optimizer muon`: 10 B a matrix parameter, 14 B on the embedding and LM head, the
  model's mean: Kimi K2 10.009 B); write time = size / storage bandwidth (Llama 3: Tectonic
  2 TB/s sustained).
- Scale-up domain blast radius and repair time (hF42): facility/outage.py (`domain_hold`, `DEFAULT_REPAIR_S`).
- What the goodput assumes of the hardware (hR73, `spare_note`): Daly's goodput restarts the job within its restart
  time on hardware in service, so a failed server's work moves to a spare server (or scale-up domain) outside the job
  while it is repaired, as Llama 3's 16,384-GPU job did on a 24,576-GPU cluster (arXiv:2407.21783 Sec. 3.3.4:
  interruptions handled by automation, >90 % effective training time). The hardware the repairs keep out of service
  is `domain_hold`'s (`goodput_of_gpus_held`), and the job's units are all in service while the units out of service
  at once, Poisson as `domain_hold` counts them (M/G/infinity), number at most the system's spare units: where that
  share is below 99 % or a domain spans servers (NVL72), `reliability` and `train --tokens` say it in one line, the
  same line (a job filling an NVL72 SuperPOD's 8 domains has no spare: they are all in service ~53 % of the time).
- What the job does while the system's spares run out (hR74, `--no-spare-policy shrink|wait`, `--shrink-unit`):
  `facility.spare_policy`, its `goodput_with_repairs` in the report and the same line.
"""

from __future__ import annotations

import math
from typing import Any

from infraplan.catalog import list_presets, load_model
from infraplan.catalog.error_bands import FACILITY_STACK, band_and_basis
from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.reliability_loader import (
    FailureRate,
    default_failure_rate_name,
    load_failure_rate,
    load_reliability,
    load_storage,
)
from infraplan.catalog.schemas import Accelerator, System
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.checkpoint_goodput import (
    daly_interval_s,
    given_interval_note,
    goodput,
    interval_formula_note,
    job_mttf_s,
    restart_note,
    young_interval_s,
)
from infraplan.facility.failure_rate_notes import (
    failure_rate_accelerator_note,
    failure_rate_note,
    held_note,
    planned_rate_note,
    rate_node_note,
)
from infraplan.facility.outage import DEFAULT_REPAIR_S, domain_hold, domain_note
from infraplan.facility.results import ReliabilityReport
from infraplan.facility.spare_policy import PlanSpeed, policy_note, short_of_spares, unused_policy_note
from infraplan.limits import DEFAULT_NO_SPARE_POLICY, check_policy
from infraplan.units import SECONDS_PER_DAY, counted, significant_text


def checkpoint_bytes(parameters: float, bytes_per_param: float | None = None) -> float:
    per = load_reliability().checkpoint.bytes_per_param if bytes_per_param is None else bytes_per_param
    return float(parameters) * per


def checkpoint_size_basis(model: str | None, checkpoint_size_bytes: float | None,
                          bytes_per_param: float | None = None, optimizer: str | None = None) -> str:
    """What sized the checkpoint, as the answer says it: the size given, else the model's parameters at
    `bytes_per_param` (the optimizer's, `optimizer` named), else the catalog's (weights and Adam's state,
    catalog/facility/reliability.yaml `checkpoint`). A size given overrides both the model and the optimizer, which
    only size the checkpoint, and the answer says so (one rule for both, hN2 session 71)."""
    if checkpoint_size_bytes is not None:
        return "--checkpoint-size; the model is not used" + (
            "" if optimizer in (None, "adam") else f", nor --optimizer {optimizer}")
    per = load_reliability().checkpoint.bytes_per_param if bytes_per_param is None else bytes_per_param
    state = "" if optimizer is None else f" ({optimizer})"
    return f"{model}'s weights and optimizer state{state}, --model ({per:g} bytes per parameter)"


def component_mix(expected_interruptions: float) -> dict[str, float]:
    """Expected interruptions by component, in the Llama 3 Table 5 proportions."""
    counts = load_reliability().component_mix.counts
    total = sum(counts.values())
    return {k: expected_interruptions * v / total for k, v in counts.items()}


def accelerators_held(gpus: int, server_accelerators: int) -> int:
    """The accelerators whose failures end a job of `gpus` on servers of `server_accelerators`: its servers' all. A
    failure takes its whole server out of service (a node-failure rate counts nodes found failed, per node-day:
    catalog/facility/reliability.yaml; facility/outage.py), ending every job on it, so a job on part of a server
    (12 GPUs on two 8-GPU servers) is ended by a failure anywhere in it, as `facility --count` and the job's held
    domains (`domain_hold`) count whole servers (hN2, session 70: 12 GPUs were charged 1.5 servers' failures)."""
    return -(-int(gpus) // int(server_accelerators)) * int(server_accelerators)


def check_held_fits(cluster: Cluster, gpus: int, hold: dict[str, Any], spare_trays: int) -> None:
    """One InputError line where a job and its spare trays hold more scale-up domains than a fixed-size system has
    (hN73: `reliability --system` of a 9,216-GPU file of 128 NVL72-style domains, `--gpus 9216
    --spare-trays-per-domain 1`, answered a job holding 136 domains = 9,792 GPUs on it). An accelerator preset or
    part file (the generic cluster) is sized by the job and takes any count; without spares a job never holds more
    domains than its system's (the count is checked first), so only spares reach this line."""
    domain = int(hold["domain_gpus"])
    built = -(-cluster.total_accelerators // domain)  # a system's domains, a part-filled last one included
    if cluster.generic or hold["domains"] <= built:
        return
    node = domain // int(hold["domain_trays"])
    full, rest = divmod(cluster.total_accelerators, domain)
    most = full * (domain - spare_trays * node) + max(rest - spare_trays * node, 0)  # a part-filled domain's too
    word, name = cluster.accelerator.device_word, cluster.accelerator.name
    trays = f"{spare_trays} spare tray{'' if spare_trays == 1 else 's'}"
    any_count = (f"the accelerator preset {name}" if name in list_presets("accelerators") else
                 f"its accelerator's file, {name}, given as --system,")  # as Cluster.check_gpus
    raise InputError(
        f"--gpus {gpus:,} with {trays} a domain holds "
        f"{hold['domains']:,} domains of {domain} ({hold['gpus_held']:,} {word}s); system {cluster.name} has "
        f"{built:,} ({cluster.total_accelerators:,} {word}s): at most {most:,} {word}s a job with "
        f"{trays} each, or fewer spares ({any_count} takes any count)")


def held_goodput(goodput_value: float, gpus: int, hold: dict[str, Any]) -> float | None:
    """The share of the hardware committed to the job that trains: goodput x its accelerators / (those it holds +
    those out of service, `domain_hold`); None where the rate cannot say which failures take a node out."""
    out = hold["expected_gpus_out_of_service"]
    return None if out is None else goodput_value * gpus / (hold["gpus_held"] + out)


def poisson_cdf(k: int, mean: float) -> float:
    """P(X <= k), X ~ Poisson(mean), summed in log space (no scipy import on `train --tokens`' path)."""
    if mean <= 0.0 or k > mean + 12.0 * math.sqrt(mean) + 30.0:
        return 1.0
    log_mean = math.log(mean)
    return min(1.0, math.fsum(math.exp(i * log_mean - mean - math.lgamma(i + 1)) for i in range(k + 1)))


def spare_note(cluster: Cluster, gpus: int, job: dict[str, Any], hold: dict[str, Any], repair_s: float,
               short: dict[str, Any] | None = None) -> str | None:
    """What the goodput assumes of the hardware (module docstring), one line: the spare servers or domains the
    system holds beyond the job's, the share of the time all the job's are in service, the goodput of the hardware
    held; None where the rate cannot say which failures take a node out, the cluster is sized by the job (an
    accelerator preset: spares beyond it are bought with it), or a server is its own domain and the job's are all
    in service 99 % of the time or more (the Llama 3 case). `short`: what the job does while short of spares
    (`spare_policy.short_of_spares`), said after it (`spare_policy.policy_note`)."""
    out, word = hold["expected_gpus_out_of_service"], job["device_word"]
    if out is None or cluster.generic:
        return None
    size, domains, trays = int(hold["domain_gpus"]), int(hold["domains"]), int(hold["domain_trays"])
    built = cluster.total_accelerators // size
    spare = max(built - domains, 0)
    up = poisson_cdf(spare, built * out / (domains * size))  # units out at once: Poisson, `domain_hold`'s mean each
    if trays == 1 and up >= 0.99:
        return None
    unit = "server" if trays == 1 else f"{size}-{word} domain"
    policy = "" if short is None else f"; {policy_note(short, job, word)}"
    failed = "a failed server" if trays == 1 else f"a failed server's {unit}"
    return (f"the goodput ({job['goodput']:.1%}) assumes each interruption restarts the job within its "
            f"{significant_text(float(job['restart_s']), 3)} s on {word}s in service, the work of {failed} moved to "
            f"a spare {unit} outside the job while it is repaired ({significant_text(repair_s / SECONDS_PER_DAY, 3)} "
            f"days); system {cluster.name} has {counted(spare, unit)} beyond the job's {domains:,}, so all of the "
            f"job's are in service {significant_text(100.0 * up, 3)} % of the time; goodput of the {word}s held "
            f"(out of service included): {held_goodput(job['goodput'], gpus, hold):.1%}{policy}")


def resolve_failure_rate(accelerator: str, failure_rate: str | None) -> tuple[str, FailureRate]:
    name = failure_rate or default_failure_rate_name(accelerator)
    return name, load_failure_rate(name)


def job_reliability(accelerator: str | Accelerator, gpus: int, parameters: float, failure_rate: str | None = None,
                    storage: str = "tectonic", storage_bytes_per_s: float | None = None,
                    restart_s: float | None = None, checkpoint_size_bytes: float | None = None,
                    checkpoint_interval_s: float | None = None, server_accelerators: int = 1) -> dict[str, Any]:
    """MTTF, checkpoint size/time, optimal interval and goodput of one job of `gpus` accelerators, and what one of
    them is called (`device_word`: `Accelerator.device_word`, for the notes; an internal dict no answer spreads).
    `server_accelerators`: one server of the job's system (its node); the job's failures are counted on the servers
    it occupies (`accelerators_held`), 1: on its own accelerators.
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
    held = accelerators_held(gpus, server_accelerators)
    mttf = float(job_mttf_s(held, rate))
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
        "device_word": word, "accelerators_held": held, "server_accelerators": server_accelerators,
    }


def reliability_report(system: str | System | Cluster, gpus: int, days: float = 30.0, model: str | None = "llama3-405b",
                       failure_rate: str | None = None, storage: str = "tectonic", restart_s: float | None = None,
                       checkpoint_size_bytes: float | None = None, spare_trays_per_domain: int = 0,
                       repair_s: float = DEFAULT_REPAIR_S,
                       checkpoint_interval_s: float | None = None, checkpoint_bytes_per_param: float | None = None,
                       optimizer: str = "adam", no_spare_policy: str = DEFAULT_NO_SPARE_POLICY,
                       shrink_unit_gpus: int | None = None,
                       speed: PlanSpeed | None = None) -> ReliabilityReport:
    """`infraplan reliability`: expected interruptions over `days` and per day, MTTF, checkpoint interval, goodput
    (at `checkpoint_interval_s` where given, else at Daly's optimum), and the GPUs the job holds and keeps out of
    service by scale-up domain (`domain_hold`). `checkpoint_bytes_per_param`: the model's checkpoint at `optimizer`'s
    bytes a parameter (`reliability --optimizer`: the CLI and the web read `training.optimizer_models.
    checkpoint_bytes_per_param`, which this layer does not import; None: the catalog's, Adam's 14 B: another
    `optimizer` without its bytes is refused). `checkpoint_size_bytes` overrides what the model and `optimizer`
    would size, as it does the model's (`checkpoint_size_basis` says so; `model` and `optimizer` are null).
    `no_spare_policy`, `shrink_unit_gpus`: what the job does while its system has no spare unit, and the GPUs it
    sheds together, dividing the job (`facility.spare_policy`; None: one scale-up domain, or where the job is not
    whole domains the largest count dividing both, hV74). `speed`: a plan's share of full-size throughput on the GPUs
    a shrunk job keeps (`reliability --plan`: planning.shrunk_plan.plan_reliability, train --tokens's; None: each
    replica at full speed)."""
    check_policy(no_spare_policy)
    if checkpoint_bytes_per_param is None and optimizer != "adam" and checkpoint_size_bytes is None:
        raise InputError(f"optimizer {optimizer!r} needs its checkpoint_bytes_per_param (training.optimizer_models."
                         "checkpoint_bytes_per_param): the catalog's bytes are Adam's")
    # GPU failure rates, a model's checkpoint: as train, an accelerator (a CPU refused)
    cluster = Cluster.resolve(system, purpose="a training job's reliability").for_gpus(gpus)
    sys_spec = cluster.system
    cluster.check_gpus(gpus)
    cluster.check_layout(gpus)  # (the racks its placement holds: hZ2 77)
    if days <= 0:
        raise InputError(f"--days must be positive, got {days:g}")
    accelerator = cluster.accelerator.name
    # --checkpoint-size: the model sizes nothing, so it is not looked up (an unknown --model was refused, hN75)
    parameters = float(load_model(model).total_params()) if model and checkpoint_size_bytes is None else 0.0
    if checkpoint_size_bytes is None and not model:
        raise InputError("give --model or --checkpoint-size to size the checkpoint")
    size = checkpoint_size_bytes
    if size is None and checkpoint_bytes_per_param is not None:
        size = checkpoint_bytes(parameters, checkpoint_bytes_per_param)
    layout = cluster.layout
    server_gpus = layout.accelerators_per_server  # the system's node: the one size a server is read from
    job = job_reliability(cluster.accelerator, gpus, parameters, failure_rate, storage, None, restart_s, size,
                          checkpoint_interval_s, server_accelerators=server_gpus)
    _, rate = resolve_failure_rate(cluster.accelerator.catalog_name, failure_rate)
    hold = domain_hold(gpus, server_gpus, layout.packing_unit_accelerators,
                       spare_trays_per_domain, job["failure_rate"], rate, repair_s, cluster.accelerator.device_word,
                       sys_spec.node)
    check_held_fits(cluster, gpus, hold, spare_trays_per_domain)
    out = hold["expected_gpus_out_of_service"]
    if shrink_unit_gpus is not None and not (1 <= shrink_unit_gpus <= gpus and gpus % shrink_unit_gpus == 0):
        raise InputError(f"--shrink-unit must divide the job's {gpus:,} {cluster.accelerator.device_word}s (whole "
                         f"data-parallel replicas, 1 .. {gpus:,}), got {shrink_unit_gpus:,}")
    unit = math.gcd(int(hold["domain_gpus"]), gpus) if shrink_unit_gpus is None else shrink_unit_gpus  # whole units
    short = short_of_spares(cluster, gpus, job, hold, repair_s, no_spare_policy, unit, speed)
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
        checkpoint_size_basis=checkpoint_size_basis(model, checkpoint_size_bytes, checkpoint_bytes_per_param,
                                                    optimizer),
        optimizer=optimizer if checkpoint_size_bytes is None else None,
        **{k: job[k] for k in ("failure_rate", "failures_per_1000_node_days", "failure_rate_counts",
                               "checkpoint_bytes", "checkpoint_write_s", "restart_s", "young_interval_s")},
        error_band=band, error_band_basis=basis,
        failure_rate_node_gpus=rate.accelerators_per_node, server_gpus=server_gpus,
        scale_up_domain_gpus=hold["domain_gpus"], spare_trays_per_domain=spare_trays_per_domain,
        domains=hold["domains"], gpus_held=hold["gpus_held"], repair_time_s=repair_s,
        expected_gpus_out_of_service=out,
        goodput_of_gpus_held=held_goodput(job["goodput"], gpus, hold),
        no_spare_policy=no_spare_policy, shrink_unit_gpus=unit,
        full_size_fraction=None if short is None else short["full_size_fraction"],
        goodput_with_repairs=job["goodput"] if short is None else short["goodput_with_repairs"],
        notes=[n for n in [given_interval_note(job) if given else None, restart_note(job)] if n]
        + [interval_formula_note(job["checkpoint_write_s"], job["job_mttf_s"], job["daly_interval_s"],
                                 job["young_interval_s"])]
        + [n for n in [planned_rate_note(job["failure_rate"], job["planned_interruptions_per_day"], gpus, days,
                                         planned, unexpected + planned, device)] if n]
        + [failure_rate_note(job["failure_rate"], rate, gpus, device, job["accelerators_held"])]
        + [n for n in [held_note(job, gpus), rate_node_note(rate, server_gpus, gpus, device)] if n]
        + [n for n in [job["failure_rate_accelerator_note"]] if n]
        + [domain_note(hold, spare_trays_per_domain, repair_s, gpus, device)]
        + [n for n in [spare_note(cluster, gpus, job, hold, repair_s, short),
                       unused_policy_note(no_spare_policy, cluster, hold, short, device)] if n],  # (hL75)
    )
