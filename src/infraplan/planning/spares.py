"""Spare nodes of a pool from the reliability model: enough that the pool meets its demand with a stated probability.

Nodes fail independently at the reliability model's rate (`facility/reliability.py`: failures per 1,000
node-days, Kokolis et al., HPCA 2025, arXiv:2410.21680; Llama 3, arXiv:2407.21783 Sec. 3.3.4) and each is out for
a repair time (drain, diagnose, swap, burn-in). With many nodes, failures are a Poisson stream and the repair shop
an infinite-server queue: the number of nodes down at a random instant is Poisson with mean
    expected_down = nodes x failures per node-hour x repair hours
whatever the distribution of the repair time (M/G/infinity; Palm 1938, Takacs 1962 — Little's law gives the mean).
The pool meets its demand with probability p when its spares cover the p-quantile of that Poisson distribution:
    spares = min { k : P(Poisson(expected_down) <= k) >= p }.
Spares are sized on the nodes the services use (a node = one server of the pool's layout; a video ASIC card is
its own node) and not on the spares themselves (second order: expected_down x spares / nodes).

Only failures that take a node out of service put it in the repair shop (hF41, session 41). A rate that counts
node failures (`counts: node_failures`, or unstated in a user's file) is used as is. A rate that counts job
interruptions (`counts: job_interruptions`: Llama 3's 419 unexpected interruptions also count software bugs,
NCCL timeouts and the fabric's switches and cables) is multiplied by the share of its causes that are server parts:
    node failures = job interruptions x (counts of the node_out_of_service causes) / (all counts)
from the catalog's `component_mix` (reliability.yaml: Llama 3 Table 5 and its split, 321 / 419 = 0.766, with
the split's source and assumptions). A job-interruption rate the component mix does not describe (rsc-1-jobs, a
user's file) is refused for spares in one line naming the node-failure rate of the same cluster where one is
shipped: it is not silently replaced, since the policy's `failure_rate` is the user's stated input for every pool
and a user's file has no such partner.

The repair time is a policy field. No published repair time was found, so its default is an
ASSUMPTION [U] (`DEFAULT_REPAIR_S`): three days from failure to a node back in service (a GPU board or HBM swap
under a next-business-day parts contract, then burn-in); Kokolis et al. report failure rates and lemon-node
detection but no repair times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import poisson

from infraplan.catalog.facility_loader import (
    FailureRate,
    default_failure_rate_name,
    load_failure_rate,
    load_reliability,
)
from infraplan.errors import InputError
from infraplan.facility.reliability import COUNTS_TEXT

DEFAULT_REPAIR_S = 3 * 86400.0
REPAIR_SOURCE = ("ASSUMPTION [U]: 3 days from failure to a node back in service (part swap under a "
                 "next-business-day contract, then burn-in); no published repair time found")


@dataclass(frozen=True)
class Spares:
    """Spare nodes of one pool in one phase, and the failure rate and repair time they come from."""

    nodes: int
    node_devices: int
    spare_nodes: int
    expected_nodes_down: float
    node_failures_per_hour: float
    repair_s: float
    failure_rate: str
    source: str
    node_out_of_service_fraction: float  # share of the rate's events that take a node out of service
    rate_basis: str  # one line: the rate, what it counts and the share used

    @property
    def spare_devices(self) -> int:
        return self.spare_nodes * self.node_devices


def poisson_quantile(mean: float, probability: float) -> int:
    """Smallest k with P(Poisson(mean) <= k) >= probability (0 for a zero mean)."""
    if not 0.0 < probability < 1.0:
        raise InputError(f"spare probability must be in (0, 1), got {probability:g}")
    if mean <= 0.0:
        return 0
    quantile = float(poisson.ppf(probability, mean))
    if not math.isfinite(quantile):  # scipy's ppf gives NaN for means beyond ~1e10 nodes in repair
        raise InputError(f"{mean:.3g} nodes expected in repair at once is beyond the spare-node quantile: lower the "
                         "failure rate, the repair time or the pool")
    return int(quantile)


def spare_nodes(devices: int, node_devices: int, accelerator: str, probability: float, repair_s: float,
                failure_rate: str | None = None) -> Spares:
    """Spares for `devices` working devices in nodes of `node_devices`, at the accelerator's failure rate."""
    if repair_s <= 0:
        raise InputError(f"repair time must be positive, got {repair_s:g} s")
    name = failure_rate or default_failure_rate_name(accelerator)
    rate = load_failure_rate(name)
    share, basis = node_out_of_service_share(name, rate)
    node_devices = max(1, node_devices)
    nodes = -(-max(0, devices) // node_devices)
    per_node_hour = rate.per_accelerator_hour * node_devices * share
    mean = nodes * per_node_hour * repair_s / 3600.0
    return Spares(nodes, node_devices, poisson_quantile(mean, probability), mean, per_node_hour, repair_s, name,
                  rate.source, share, basis)


def node_out_of_service_share(name: str, rate: FailureRate) -> tuple[float, str]:
    """The share of a rate's events that take a node out of service, and one line saying where it comes from
    (module docstring); a job-interruption rate without a component mix is refused."""
    per_1000 = rate.failures_per_1000_node_days
    if rate.counts != "job_interruptions":
        return 1.0, f"{name}: {per_1000:g} {COUNTS_TEXT[rate.counts]} per 1,000 node-days, used as is"
    mix = load_reliability().component_mix
    if name not in mix.failure_rates:
        partner = [k for k, r in load_reliability().failure_rates.items() if r.all_causes == name]
        instead = f" (the same cluster's node failures: failure_rate {partner[0]})" if partner else ""
        raise InputError(f"failure rate {name} counts job interruptions of every cause and no component mix says "
                         f"which take a node out of service: spares need a node-failure rate{instead}")
    out = sum(mix.counts[c] for c in mix.node_out_of_service)
    total = sum(mix.counts.values())
    share = out / total
    return share, (f"{name}: {per_1000:g} job interruptions per 1,000 node-days x {share:.3f} that take a node "
                   f"out of service ({out} of {total}, {mix.source.split(':')[0]}) = {per_1000 * share:.4g} "
                   "node failures per 1,000 node-days")
