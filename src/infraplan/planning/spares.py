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
ASSUMPTION [U] (`DEFAULT_REPAIR_S`, facility/outage.py): three days from failure to a node back in service,
for every cause (a GPU board or HBM swap under a next-business-day parts contract, then burn-in); Kokolis et al.
report failure rates and lemon-node detection but no repair times. The basis line says so.

Scale-up domains (hF42, session 42): where a pool's scale-up domain spans servers (GB200/GB300 NVL72, the MTIA 400
rack: 18 trays of 4 in one 72-device NVLink domain; `ServerLayout.packing_unit_accelerators`, the unit the packer
already keeps in one rack), a failed tray takes its whole domain out of service, so spares are whole domains:
    spare domains = min { k : P(Poisson(domains x E[(X - s)+]) <= k) >= p }
with X the trays in repair in one domain (Poisson, mean trays x tray failures per hour x repair hours) and s the
policy's `spare_trays_per_domain` (default 0, ASSUMPTION [U]: an option, no source found for NVIDIA's spare-tray
guidance); s = 0 gives domains x trays x rate x repair hours, the node formula on the domain
(facility/outage.py `domains_out_mean`, one implementation with `reliability`'s GPUs out of service). The
spare servers are the spare domains' trays plus s trays in each domain used; a pool whose domain is one server
keeps the node formula (s does not apply).

Blast radius by instance (hF43, session 42): the unit a failed tray takes out is what the pool's work spans, not
always the domain (facility/outage.py `blast_trays`): the smallest whole number of servers the pool's widest
instance spans, capped at the domain (planning/pool_money.py `pool_instance`: a training job spans the pool, so
its domains; an LLM deployment's replica, TP x PP x attention DP devices; a recsys, image or video instance, one
device); where the instance is not known, the domain (conservative). With units of r servers smaller than the
domain and no spare tray asked (s = 0) the formula above holds with r for the domain's trays: spare whole
instances pooled over the pool; r = 1 is the node formula. The basis line names the radius and the instance.

Spare trays for instances smaller than the domain (hL44, session 43; facility/outage.py `held_trays`): with s > 0
and an instance of 2 <= r < T trays (an LLM replica, TP8 on 4-GPU trays is r = 2), a failed tray's replica is formed
again on a free tray of its domain (NVLink reaches it), so each domain runs floor((T - s) / r) instances and holds
h = T - floor((T - s) / r) r trays free (s, plus what no instance fills), and the instances out of service are
    spare instances = min { k : P(Poisson(domains x E[(X - h)+]) <= k) >= p }
the domain formula with h (one implementation, `domains_out_mean`); the spare servers are k x r plus h in each
domain used. A one-tray instance needs no partner in its domain (the pool's spare servers serve it anywhere): s
does not apply. ASSUMPTIONS in facility/outage.py's docstring (two failed trays of one replica count twice; the
replica restarts at once). Held trays are bought: on 16,384 GB200 in TP8 replicas, s = 1 holds 2 trays in each of
256 domains (17 trays leave 8 replicas and one tray over), 514 spare trays against 56 (28 whole-replica spares) at
s = 0, while the mean replicas out falls from 17.8 to ~0.02.

Spare trays per pool (hL45, session 43): s is the policy's for every pool unless a pool names its own
(`pools[].spare_trays_per_domain`), since the cheapest s depends on the work: on GB200 at p = 0.99, s = 1 is the
cheapest for a training pool (1,180 spare devices against 2,016 at s = 0) and ~9x dearer than s = 0 for a TP8 LLM
pool (2,056 against 224). `auto` (a pool's or the policy's) takes, at each count of devices used, the s in
0 .. T - 1 whose spare servers (held trays included) are fewest, the smallest s of a tie, and names it in the basis
line; the least over s of counts that grow with the devices grows with them, so the optimality bound's spare count
(`spare_servers`, the same least) stays the answer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator
from scipy.stats import poisson

from infraplan.catalog.reliability_loader import default_failure_rate_name, load_failure_rate
from infraplan.errors import InputError
from infraplan.facility.failure_rate_notes import failure_rate_accelerator_note
from infraplan.facility.outage import (
    DEFAULT_REPAIR_S,
    REPAIR_SOURCE,
    blast_trays,
    check_spare_trays,
    domain_trays,
    domains_out_mean,
    domains_used,
    held_trays,
    node_out_of_service_share,
)
from infraplan.units import SECONDS_PER_DAY

__all__ = ["AUTO_TRAYS", "DEFAULT_REPAIR_S", "REPAIR_SOURCE", "SpareTrays", "Spares", "node_out_of_service_share",
           "poisson_quantile", "poisson_quantiles", "Instance", "spare_nodes", "spare_servers"]


@dataclass(frozen=True)
class Instance:
    """The widest unit of work of a pool (what one failed server takes out with it): its devices (None: not known)
    and what it is, in words for the basis line."""

    devices: int | None
    what: str


UNKNOWN_INSTANCE = Instance(None, "what the pool runs is not known")
_EXACT_FLOAT_INTEGER = 2.0**53  # IEEE 754 binary64: every whole number up to 2**53 is exact
AUTO_TRAYS = "auto"  # spare_trays_per_domain: the s of 0 .. T - 1 with the fewest spare servers (module docstring)


def _spare_trays(value: object) -> object:
    """A spare_trays_per_domain as written: a count 0 .. 64 (2, 2.0 or "2", as pydantic reads an int) or auto, else
    one line (not pydantic's errors of each member of the union)."""
    if value == AUTO_TRAYS:
        return value
    count = value.strip() if isinstance(value, str) else value
    if isinstance(count, str) and count.isdigit():
        count = int(count)
    if isinstance(count, int | float) and not isinstance(count, bool) and float(count).is_integer() \
            and 0 <= count <= 64:
        return int(count)
    raise ValueError(f"spare trays per domain are a count 0 .. 64 or auto, got {value!r}")


SpareTrays = Annotated[int | Literal["auto"], BeforeValidator(_spare_trays)]  # a policy's or a pool's field


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
    rate_basis: str  # one line: the rate, what it counts and the share used, the domain rule, the repair time
    domain_trays: int = 1  # servers of the scale-up domain (a domain spanning servers, else 1)
    spare_trays_per_domain: int = 0  # held free in each domain (outage.held_trays: 0 where no spare tray applies)
    spare_units: int = 0  # spare whole units of `blast_trays` servers (domains, or instances smaller than one)
    blast_trays: int = 1  # servers one failure takes out: the instance's whole trays, capped at the domain
    tray_choices: tuple[int, ...] = ()  # the spare trays per domain asked (auto: 0 .. T - 1), the fewest taken

    @property
    def spare_devices(self) -> int:
        return self.spare_nodes * self.node_devices


def poisson_quantile(mean: float, probability: float) -> int:
    """Smallest k with P(Poisson(mean) <= k) >= probability (0 for a zero mean): `poisson_quantiles` on one mean."""
    return int(poisson_quantiles(np.array([mean], dtype=np.float64), probability)[0])


def poisson_quantiles(means: np.ndarray, probability: float) -> np.ndarray:
    """Smallest k with P(Poisson(mean) <= k) >= probability for each of `means` (0 where a mean is zero), refusing
    in one line a probability outside (0, 1) and a mean whose quantile scipy cannot give (NaN: from ~1e11 at
    probability 0.5, ~1e20 at 0.99) or gives beyond 2**53, where a float64 no longer holds every whole number (the
    count would not be exact, and times the unit's servers could overflow int64)."""
    if not 0.0 < probability < 1.0:
        raise InputError(f"spare probability must be in (0, 1), got {probability:g}")
    quantile = np.where(means <= 0.0, 0.0, poisson.ppf(probability, means))  # a NaN mean is refused, as its ppf
    beyond = ~(np.isfinite(quantile) & (quantile <= _EXACT_FLOAT_INTEGER))
    if beyond.any():
        raise InputError(f"{float(means[beyond][0]):.3g} nodes expected in repair at once is beyond the spare-node "
                         "quantile: lower the failure rate, the repair time or the pool")
    return np.asarray(quantile.astype(np.int64))


def spare_nodes(devices: int, node_devices: int, accelerator: str, probability: float, repair_s: float,
                failure_rate: str | None = None, domain_devices: int | None = None, spare_trays: int | str = 0,
                instance: Instance = UNKNOWN_INSTANCE, where: str = "policy spare_trays_per_domain",
                device: str = "GPU") -> Spares:
    """Spares for `devices` working devices in nodes of `node_devices` and scale-up domains of `domain_devices`
    (default: the node) running `instance`s (default: not known, so the domain), at the accelerator's failure rate,
    with `spare_trays` per domain (`AUTO_TRAYS`: the fewest spares of 0 .. T - 1; `where` names the field in an
    error) (module docstring). `device`: what the basis calls one device (`Accelerator.device_word`: a GPU rate
    "applied per accelerator" on MTIA, as the reliability notes say it, hL47)."""
    if repair_s <= 0:
        raise InputError(f"repair time must be positive, got {repair_s:g} s")
    name = failure_rate or default_failure_rate_name(accelerator)
    rate = load_failure_rate(name)
    share, basis = node_out_of_service_share(name, rate)
    node_devices = max(1, node_devices)
    trays = domain_trays(domain_devices or node_devices, node_devices)
    blast = blast_trays(trays, node_devices, instance.devices)
    if spare_trays == AUTO_TRAYS:  # a one-server instance holds no tray at any count (`held_trays`): 0 alone
        choices = tuple(range(trays)) if blast > 1 else (0,)
    else:
        check_spare_trays(int(spare_trays), trays, where)
        choices = (int(spare_trays),)
    nodes = -(-max(0, devices) // node_devices)
    per_node_hour = rate.per_accelerator_hour * node_devices * share
    load = np.array([max(0, devices)], dtype=np.int64)
    counts = [_tray_count(load, node_devices, trays, blast, k, per_node_hour, repair_s, probability)
              for k in choices]
    best = min(range(len(choices)), key=lambda i: int(counts[i][0][0]))  # the first (smallest k) of a tie
    servers, spare_units, mean, held = counts[best]
    auto = _auto_basis(trays, choices[best], int(servers[0]), int(counts[0][0][0])) if len(choices) > 1 else None
    if spare_trays == AUTO_TRAYS and len(choices) == 1:
        auto = "spare_trays_per_domain auto: 0, " + ("the scale-up domain is one server" if trays == 1 else
                                                     "a one-server instance holds no spare tray at any count")
    basis = "; ".join(n for n in [basis, failure_rate_accelerator_note(accelerator, name, rate, device),
                                  _domain_basis(trays, blast, node_devices, choices[best], held, instance), auto,
                                  f"repair {repair_s / SECONDS_PER_DAY:g} days"
                                  + (f" ({REPAIR_SOURCE})" if repair_s == DEFAULT_REPAIR_S else "")] if n)
    return Spares(nodes, node_devices, int(servers[0]), float(mean[0]) * blast, per_node_hour, repair_s, name,
                  rate.source, share, basis, trays, held, int(spare_units[0]), blast, choices)


def spare_servers(nodes: np.ndarray, one: Spares, probability: float) -> np.ndarray:
    """Spare servers for each count of servers used in `nodes`, at `one`'s rate, repair time, blast radius and
    spare trays asked (the least over them where auto), `_tray_count`, the one count `spare_nodes` also takes, for
    the optimality bound (planning/scenario_bound.py)."""
    load = np.asarray(nodes, dtype=np.int64) * one.node_devices
    counts = [_tray_count(load, one.node_devices, one.domain_trays, one.blast_trays, k, one.node_failures_per_hour,
                          one.repair_s, probability)[0] for k in one.tray_choices or (one.spare_trays_per_domain,)]
    return np.asarray(np.min(counts, axis=0))


def _tray_count(devices: np.ndarray, node_devices: int, trays: int, blast: int, asked: int, per_node_hour: float,
                repair_s: float, probability: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """`_spare_count` for each load of `devices` with `asked` spare trays per domain of `trays` servers: the trays
    held free (facility/outage.py `held_trays`) and the unit counted, a domain holding trays, else the instance."""
    held = held_trays(trays, blast, asked)
    unit = trays if held else blast
    used = domains_used(devices, node_devices, unit, held)
    return (*_spare_count(used, per_node_hour, unit, blast, held, repair_s, probability), held)


def _spare_count(units: np.ndarray, per_node_hour: float, unit_trays: int, blast: int, held: int, repair_s: float,
                 probability: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spare servers, spare whole units of `blast` servers and the mean units of `blast` servers out of service,
    for each count of `units` of `unit_trays` servers used (module docstring), each holding `held` trays free: the
    Poisson quantile of units x E[(X - held)+] (X over the unit's trays), times `blast`, plus `held` in each unit.
    held = 0: units of the blast radius (unit_trays = blast), the node formula on them."""
    mean = np.asarray(domains_out_mean(units, per_node_hour, unit_trays, held, repair_s), dtype=np.float64)
    spare_units = poisson_quantiles(mean, probability)
    return spare_units * blast + units * held, spare_units, mean


def _auto_basis(trays: int, chosen: int, servers: int, at_zero: int) -> str:
    """The spare trays auto took (`spare_nodes`), against none held."""
    return (f"spare_trays_per_domain auto: {chosen}, of 0 .. {trays - 1} the one with the fewest spare servers "
            f"({servers:,}; {at_zero:,} with none asked)")


def _domain_basis(trays: int, blast: int, node_devices: int, asked: int, held: int,
                  instance: Instance) -> str | None:
    """The blast radius in the basis line: None where a server is its own domain and no spare trays were asked."""
    if trays == 1:
        return (f"spare_trays_per_domain {asked} does not apply: the scale-up domain is one server" if asked
                else None)
    domain = f"{trays * node_devices}-device scale-up domain ({trays} servers)"
    if blast < trays:
        head = (f"a failed server takes out the instances on it, not its {domain}: the pool's widest instance is "
                f"{instance.what}, {blast} server{'s' if blast > 1 else ''}: ")
        if held:
            return head + _held_basis(asked, held)
        rule = "spares are whole instances" if blast > 1 else "the node formula"
        skip = (f"; spare_trays_per_domain {asked} does not apply (a one-server instance needs no partner in its "
                "domain: the pool's spare servers serve it anywhere)" if asked else "")
        return head + rule + skip
    why = (f"{instance.what}: the whole domain, conservative" if instance.devices is None else
           f"the pool's widest instance spans it: {instance.what}")
    domain = f"a failed server takes its {domain} out ({why})"
    if asked == 0:
        return f"{domain}: spares are whole domains (no spare trays held: spare_trays_per_domain, ASSUMPTION [U])"
    spare = "spare server" if asked == 1 else "spare servers"
    return (f"{domain} only while more than {asked} of its servers are in repair: {asked} {spare} held in "
            f"each domain (spare_trays_per_domain, ASSUMPTION [U]) and spare domains beyond")


def _held_basis(asked: int, held: int) -> str:
    """The spare trays an instance smaller than its domain is formed again on (facility/outage.py `held_trays`)."""
    why = (f"the {asked} asked and {held - asked} no instance fills" if held > asked else
           f"at most {held} beside one instance, of the {asked} asked" if held < asked else f"the {asked} asked")
    servers = "server" if held == 1 else "servers"
    return (f"{held} {servers} held free in each domain ({why}; spare_trays_per_domain, ASSUMPTION [U]): a failed "
            f"server's instance is formed again on a free server of its domain, out only while more than {held} of "
            "the domain's servers are in repair, and spare whole instances beyond")
