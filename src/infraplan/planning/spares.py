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

The repair time is a policy field. No published repair time was found, so its default is an
ASSUMPTION [U] (`DEFAULT_REPAIR_S`): three days from failure to a node back in service (a GPU board or HBM swap
under a next-business-day parts contract, then burn-in); Kokolis et al. report failure rates and lemon-node
detection but no repair times.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import poisson

from infraplan.catalog.facility_loader import default_failure_rate_name, load_failure_rate
from infraplan.errors import InputError

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

    @property
    def spare_devices(self) -> int:
        return self.spare_nodes * self.node_devices


def poisson_quantile(mean: float, probability: float) -> int:
    """Smallest k with P(Poisson(mean) <= k) >= probability (0 for a zero mean)."""
    if not 0.0 < probability < 1.0:
        raise InputError(f"spare probability must be in (0, 1), got {probability:g}")
    if mean <= 0.0:
        return 0
    return int(poisson.ppf(probability, mean))


def spare_nodes(devices: int, node_devices: int, accelerator: str, probability: float, repair_s: float,
                failure_rate: str | None = None) -> Spares:
    """Spares for `devices` working devices in nodes of `node_devices`, at the accelerator's failure rate."""
    if repair_s <= 0:
        raise InputError(f"repair time must be positive, got {repair_s:g} s")
    name = failure_rate or default_failure_rate_name(accelerator)
    rate = load_failure_rate(name)
    node_devices = max(1, node_devices)
    nodes = -(-max(0, devices) // node_devices)
    per_node_hour = rate.per_accelerator_hour * node_devices
    mean = nodes * per_node_hour * repair_s / 3600.0
    return Spares(nodes, node_devices, poisson_quantile(mean, probability), mean, per_node_hour, repair_s, name,
                  rate.source)
