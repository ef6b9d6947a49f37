"""Hardware out of service: which failures take a server out, for how long, and how much a scale-up domain loses.

Scale-up domain blast radius (hF42, session 42): where a scale-up domain spans several servers (GB200/GB300 NVL72: 18
trays of 4 GPUs in one 72-GPU NVLink domain; the MTIA 400 rack), a job laid out across the domain cannot take a
tray from another domain (NVLink does not leave the rack), so one failed tray takes the whole domain out of the
job's service until it is repaired, unless the domain holds spare trays (`spare_trays_per_domain`: a named
option, default 0, ASSUMPTION [U]: no published NVIDIA guidance on spare trays was found; NeMo's
GB200 launcher runs 256- and 512-GPU jobs on 16 of a rack's 18 trays (network/placement.py), a divisibility
rule, not a spares policy, whose free trays a restart re-forms a segment on all the same: hZ2 77, `layout_free_trays`;
and the job holds the domains its placement fills, `network.placement.domains_needed`: 480 GPUs at 15 trays a
rack hold 8 racks, not ceil(480 / 72) = 7). Trays in repair in one domain at a random instant are Poisson with mean
m = trays x tray failures per hour x repair hours (M/G/infinity, as planning/spares.py's nodes); the domains
out of service are counted once per tray down beyond the domain's spares, domains x E[(X - k)+] (k = 0:
domains x m, the node formula on the domain, so an 8-GPU server that is its own domain keeps the node
formula). A job interruption is the same event either way (any GPU of the job ends it); what the domain
changes is the hardware a job holds (whole domains, spare trays) and keeps out of service (`domain_hold`).
The blast radius by instance (hF43, session 42): a failed tray takes out the work that spans it, not more. A
pool of small instances (a recsys or image engine on one device, an LLM replica of TP x PP x attention DP
devices, serving/deployment.py) loses only the instances on the failed tray: the unit out of service is the
smallest whole number of trays the instance spans, capped at the domain (`blast_trays`); a job or replica that
spans the domain loses the domain, and where the instance is not known the domain is kept (conservative).
`reliability` sizes one job, which spans its domains (`domain_hold`). Units of r trays out are Poisson as domains
are (the same M/G/infinity argument on units of r servers): `domains_out_mean` with r for the trays.
Spare trays for instances smaller than the domain (hL44, session 43): an instance of r >= 2 trays (an LLM replica
of TP x PP x attention DP devices) needs its trays in one NVLink domain, so a failed tray's replica can be formed
again on a free tray of the same domain (NVLink reaches every tray of it through the switch trays; an instance of
one tray needs no partner, and the pool's spare servers serve it anywhere: no spare tray applies). A domain of T
trays holding k spare trays runs q = floor((T - k) / r) instances and keeps h = T - q r trays free (`held_trays`:
the k asked plus what no instance fills; q >= 1, so k > T - r is held as T - r); an instance is out only while
more than h of its domain's trays are in repair: instances out = domains x E[(X - h)+], X ~ Poisson(T x tray
rate x repair hours), the domain formula above with h (one implementation, `domains_out_mean`). ASSUMPTIONS:
two failed trays of one instance count as two instances out (conservative, second order: m^2 / 2 per domain);
the replica restarts on the free tray at once (its restart, minutes, against a 3-day repair); the free trays are
bought with the domain. h = 0 (no spare tray asked) keeps whole-instance spares pooled over the pool, as hF43.
Repair time: no published figure (Kokolis et al. and Llama 3 give rates, not repair times), 3 days for every
cause (`DEFAULT_REPAIR_S`, ASSUMPTION [U]).

Which failures take a server out (`node_out_of_service_share`, hF41): a node-failure rate as is; a job-interruption
rate x the share of its component mix's causes that are server parts (catalog/facility/reliability.yaml, Llama 3
Table 5: 321 / 419); planning/spares.py sizes spares on it and `reliability` its GPUs out of service.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infraplan.catalog.reliability_loader import FailureRate, load_reliability
from infraplan.catalog.schemas import Node
from infraplan.errors import InputError
from infraplan.network.placement import domains_needed, job_placement_unit
from infraplan.units import SECONDS_PER_DAY, counted, significant_text

DEFAULT_REPAIR_S = 3 * SECONDS_PER_DAY
REPAIR_SOURCE = ("ASSUMPTION [U]: 3 days from failure to a node back in service, for every cause (part swap under "
                 "a next-business-day contract, then burn-in); no published repair time found")
# what each value of `FailureRate.counts` counts (catalog/facility/reliability.yaml)
COUNTS_TEXT = {
    "node_failures": "node failures (nodes found failed: hardware, health checks)",
    "job_interruptions": "job interruptions (every cause that ends a job: hardware, network, filesystem, software)",
    None: "failures (what they count is not stated in the rate's file)",
}


def node_out_of_service_share(name: str, rate: FailureRate) -> tuple[float, str]:
    """The share of a rate's events that take a node out of service, and one line saying where it comes from
    (planning/spares.py's docstring); a job-interruption rate without a component mix is refused."""
    per_1000 = rate.failures_per_1000_node_days
    if rate.counts != "job_interruptions":
        return 1.0, f"{name}: {per_1000:g} {COUNTS_TEXT[rate.counts]} per 1,000 node-days, used as is"
    reliability = load_reliability()
    mix = reliability.component_mix
    if name not in mix.failure_rates and not any(reliability.failure_rates[n] == rate for n in mix.failure_rates):
        # (a user's copy of a shipped rate reads as that rate: the mix is matched by figures, not only by name)
        partner = [k for k, r in reliability.failure_rates.items() if r.all_causes == name]
        instead = f" (the same cluster's node failures: failure_rate {partner[0]})" if partner else ""
        raise InputError(f"failure rate {name} counts job interruptions of every cause and no component mix says "
                         f"which take a node out of service: spares need a node-failure rate{instead}")
    out = sum(mix.counts[c] for c in mix.node_out_of_service)
    total = sum(mix.counts.values())
    share = out / total
    return share, (f"{name}: {per_1000:g} job interruptions per 1,000 node-days x {share:.3f} that take a node "
                   f"out of service ({out} of {total}, {mix.source.split(':')[0]}) = {per_1000 * share:.4g} "
                   "node failures per 1,000 node-days")


def domain_trays(unit_devices: int, node_devices: int) -> int:
    """Servers (trays) in the unit one failure takes out of a job's service: a scale-up domain spanning servers
    (`ServerLayout.packing_unit_accelerators`: NVL72, 18 trays of 4), else the server itself (1)."""
    return unit_devices // node_devices if unit_devices > node_devices and unit_devices % node_devices == 0 else 1


def blast_trays(trays: int, node_devices: int, instance_devices: int | None) -> int:
    """Servers (trays) one failure takes out of service (module docstring): the smallest whole number of servers
    the work's instance spans, capped at its scale-up domain of `trays` servers; the domain where the instance is
    not known (None: conservative). A job laid out across the domain (training, a wide-EP replica of 72) gives the
    domain; a pool of 1-device or TP4 instances one tray; TP8 on 4-GPU trays two."""
    if instance_devices is None:
        return trays
    return min(trays, max(1, -(-instance_devices // node_devices)))


def held_trays(trays: int, blast: int, spare_trays: int) -> int:
    """Trays held free in each domain of `trays` servers for instances of `blast` servers when the policy asks
    `spare_trays` (module docstring): the k asked for work spanning the domain; for an instance of 2 .. trays - 1
    servers, the trays no instance fills once k are set aside, T - floor((T - k) / r) r, at most T - r (one
    instance per domain at least); 0 where no spare tray is asked, the server is its own domain or the instance is
    one server (its spare servers serve it anywhere in the pool)."""
    if spare_trays <= 0 or trays <= 1 or blast <= 1:
        return 0
    if blast >= trays:
        return spare_trays
    return trays - max(1, (trays - spare_trays) // blast) * blast


def check_spare_trays(spare_trays: int, trays: int, where: str) -> None:
    """A domain's spare trays: fewer than its trays (one at least does the work)."""
    if spare_trays < 0 or (trays > 1 and spare_trays >= trays):
        raise InputError(f"{where}: spare trays per domain must be in 0 .. {max(trays - 1, 0)} for a scale-up "
                         f"domain of {trays} servers, got {spare_trays}")


def domains_used(devices, node_devices: int, trays: int, spare_trays: int = 0):
    """Domains a load of `devices` occupies (array-friendly): each does its work on trays - spare_trays servers."""
    working = (trays - spare_trays) * node_devices
    return -(-np.asarray(devices, dtype=np.int64) // working)


def domains_out_mean(domains, tray_failures_per_hour: float, trays: int, spare_trays: int, repair_s: float):
    """Mean domains out of service at a random instant (array-friendly; module docstring): domains x E[(X - k)+],
    X ~ Poisson(m) the trays in repair in one domain, m = trays x tray failures per hour x repair hours, k its spare
    trays; k = 0: domains x (trays x rate) x repair hours, planning/spares.py's node formula where a server is its
    own domain (trays = 1)."""
    units = np.asarray(domains, dtype=np.float64)
    if spare_trays == 0:
        return units * (tray_failures_per_hour * trays) * repair_s / 3600.0
    m = trays * tray_failures_per_hour * repair_s / 3600.0
    excess = poisson_excess(m, spare_trays)
    return units * max(excess, 0.0)


def poisson_excess(mean: float, k: int) -> float:
    """E[(X - k)+], X ~ Poisson(`mean`), summed over the tail term by term (all terms positive: no cancellation at a
    small mean), to 12 standard deviations and 30 terms past the mean. hZ2 77: was scipy's m sf(k - 1) - k sf(k),
    whose import (~0.65 s, hL55) `train --tokens` now pays for no spare-tray question (`layout_free_trays`)."""
    if mean <= 0.0:
        return 0.0
    top = int(max(mean, k) + 12.0 * math.sqrt(mean) + 30.0)
    log_mean = math.log(mean)
    return math.fsum((j - k) * math.exp(j * log_mean - mean - math.lgamma(j + 1)) for j in range(k + 1, top + 1))


def domain_hold(gpus: int, node_devices: int, unit_devices: int, spare_trays: int, rate_name: str,
                rate: FailureRate, repair_s: float, device: str = "GPU", node: Node | None = None) -> dict[str, Any]:
    """The hardware a job of `gpus` holds by scale-up domain, and the mean GPUs of it out of service at once
    (module docstring): its domains, their GPUs (spare trays and a part-used domain's idle servers included);
    the GPUs out are None where the rate cannot say which failures take a node out (a job rate without a mix).
    `device`: what the job's devices are called in a refusal (`Accelerator.device_word`). `node`: the system's,
    whose placement (`network.placement.domains_needed`) sets the domains where its domain is the unit: the one
    rule the step's placement prices (hZ2 77: 480 GPUs of gb200-nvl72-superpod at NeMo's --segment 15, 60 a rack,
    hold 8 racks, not ceil(480 / 72) = 7); with spare trays at least ceil(gpus / working GPUs a domain)."""
    trays = domain_trays(unit_devices, node_devices)
    check_spare_trays(spare_trays, trays, "--spare-trays-per-domain")
    if spare_trays and trays == 1:
        raise InputError(f"--spare-trays-per-domain {spare_trays}: the scale-up domain is one server of "
                         f"{node_devices} {device}s, no domain spans servers to hold spare trays in")
    if repair_s <= 0:
        raise InputError(f"repair time must be positive, got {repair_s:g} s")
    units = int(domains_used(gpus, node_devices, trays, spare_trays))
    free = 0
    if node is not None and node.scale_up_domain == unit_devices and trays > 1:
        units = max(units, domains_needed(node, gpus))
        free = layout_free_trays(node, gpus) if FREE_TRAYS else 0
    spare_trays = max(spare_trays, free)
    try:
        share, _ = node_out_of_service_share(rate_name, rate)
    except InputError:
        out = None
    else:
        tray_hour = rate.per_accelerator_hour * node_devices * share
        out = float(domains_out_mean(units, tray_hour, trays, spare_trays, repair_s)) * trays * node_devices
    return {"domain_gpus": trays * node_devices, "domain_trays": trays, "domains": units,
            "gpus_held": units * trays * node_devices, "expected_gpus_out_of_service": out, "free_trays": free}


FREE_TRAYS = True
"""hZ2 77: the trays of its domains a job's placement leaves free count as its spare trays (`layout_free_trays`);
False: a failed tray takes its domain out of the job's service whatever the placement leaves free."""


def layout_free_trays(node: Node, gpus: int) -> int:
    """Trays of each of a job's domains its placement leaves free (`network.placement.job_placement_unit`: NeMo's
    --segment 16 of an NVL72 rack's 18 trays at 512 GPUs, 2; 15 at 480, 3; `fill` and 18-tray segments, 0; a job
    inside one domain, the trays it does not use). A restart after a failed tray asks Slurm for the same segments
    again, and the block's healthy trays hold one: the free trays work as spare trays (hL44's argument for an
    instance smaller than its domain), so a domain leaves the job's service only while more of its trays are in
    repair than are free. ASSUMPTION: the free trays run no other job (the system's spare domains are taken idle
    alike, facility.spare_policy)."""
    unit, per = job_placement_unit(node, gpus), node.accelerators_per_node
    trays = node.scale_up_domain // per
    used = -(-gpus // per) if not unit else max(node.scale_up_domain // unit, 1) * unit // per
    return max(trays - used, 0)


def domain_note(hold: dict[str, Any], spare_trays: int, repair_s: float, gpus: int, device: str = "GPU") -> str:
    """What a failure takes out of the job's service and what the job holds (`domain_hold`), one line. `device`:
    what one of the job's devices is called (`Accelerator.device_word`)."""
    d, trays, free = hold["domain_gpus"], hold["domain_trays"], int(hold.get("free_trays", 0))
    if trays > 1 and free > spare_trays and gpus < d:  # (a job inside one domain: no segment, hR2 77)
        unit = (f"the job uses {trays - free} of the {trays} servers of its {d}-{device} scale-up domain, leaving "
                f"{free} free, where a restart takes a healthy one in a failed server's place (ASSUMPTION: no other "
                f"job runs on them): its domain is out only while more than {free} of its servers are in repair")
    elif trays > 1 and free > spare_trays:
        unit = (f"the {d}-{device} scale-up domain spans {trays} servers, of which the job's placement "
                f"(network.placement: NeMo's --segment) leaves {free} free in each, where a restart re-forms a "
                f"failed server's segment (ASSUMPTION: no other job runs on them): a domain is out only while more "
                f"than {free} of its servers are in repair")
    elif trays == 1:
        unit = f"each server ({d} {device}s) is its own scale-up domain: a failure takes one server out of service"
    elif spare_trays == 0:
        unit = (f"the {d}-{device} scale-up domain spans {trays} servers: a failed server takes its whole domain out "
                f"of the job's service until repaired (no spare trays held; --spare-trays-per-domain K, ASSUMPTION "
                f"[U], keeps K in each domain)")
    else:
        unit = (f"the {d}-{device} scale-up domain spans {trays} servers, {spare_trays} of them spares (ASSUMPTION "
                f"[U]): a domain is out only while more than {spare_trays} of its servers are in repair")
    out = hold["expected_gpus_out_of_service"]
    down = (f"no {device}s-out figure: the rate does not say which failures take a node out" if out is None else
            f"{significant_text(out, 3)} {device}s out of service on average at a repair time of "
            f"{repair_s / SECONDS_PER_DAY:g} days "
            f"({REPAIR_SOURCE if repair_s == DEFAULT_REPAIR_S else 'stated'})")
    held = f"{counted(hold['domains'], 'domain')} = {hold['gpus_held']:,} {device}s"
    return f"{unit}; the {gpus:,}-{device} job holds {held}; {down}"


