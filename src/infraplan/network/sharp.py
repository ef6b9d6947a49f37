"""IB SHARP in-network all-reduce (NCCL's CollNet with the SHARP plugin) across scale-up domains.

With SHARP the switches reduce: NCCL's CollNet (nccl-rdma-sharp-plugins, `NCCL_COLLNET_ENABLE=1`; off by
default, NCCL docs, env.html, cited from memory) reduce-scatters the buffer inside each scale-up domain, each of the
domain's k members sends its S/k shard once up the switches' aggregation tree and receives the reduced shard once
back, and an all-gather inside the domain finishes. So each rank's NIC carries its data once per direction,

    t_sharp = max(S / (k B_nic), t_domain) + L_tree + 2 L_scale-up,

against the ring's 2 (n - 1)/n S / (k B_nic) across domains (`network.fabric`: k members drive k NICs): about 2x
the ring's bus bandwidth where the NICs bound it. `t_domain` is the in-domain reduce-scatter and all-gather the
network phase pipelines with: 2 (k - 1)/k S / B_scale-up, or by NVLS where the accelerator runs it
((1 + 1/k) S / B_nvls: send S, receive S/k, then send S/k, receive S; NCCL's NVLS + CollNet,
`network.nvlink_all_reduce`).
L_tree is one round trip to the top tier the group crosses (the aggregation tree's root and back), floored at
NCCL's network step latency. The reduced stream leaving a switch is no larger than one input's, so an
oversubscribed tier does not slow it (ASSUMPTION: the tree is not shared with other jobs). The message-size
bound reads the ring's network column at two domains whatever the group's size (ASSUMPTION: no published per-size
SHARP curve found; the SimAI columns' fall with node count is the ring's 2 (n - 1) steps, which the
aggregation tree does not take), as what that column is, a latency per ring step (`collective_efficiency`,
hT80 / hT87): its shortfall per step, S (1 / e - 1) / (16 B) at 8 NICs' busbw B, paid on SHARP's own steps, each
at its link (`simai_nccl_tables.sharp_steps`: 2 network steps, up and down the aggregation tree, and the in-domain
reduce-scatter and all-gather, 2 (k - 1) NVLink steps or NCCL's NVLS latency where less,
`nvlink_all_reduce.NVLS_LATENCY_S`): t >= bandwidth + shortfall (`SHARP_TABLE_PER_STEP`).
It was bandwidth / e, which scaled the table's latency by
SHARP's own bandwidth term: k x smaller at k members a domain for the same steps' latency (hN, session 51).

Where it runs: InfiniBand switches with SHARP (catalog/network_prices/switches.yaml `in_network_reduction`:
Quantum-2 QM9700 SHARPv3, Quantum HDR QM8700 / CS8500 SHARPv2, NVIDIA datasheets); every tier of the fabric
must have it. An InfiniBand tier of a radix no catalogued model has (priced per port) does the SHARP of the Quantum
generation of its port speed (switches.yaml `infiniband_generations`: 800G XDR Quantum-X800 SHARPv4, NVIDIA
newsroom 2024-03-18; the GB200 NVL72 SuperPOD's scale-out was refused "no catalog switch model" before, hL64); a
tier's own switch outside the catalog (`switch_model` with its own price) is not assumed to. Ethernet switches (the
catalog's Tomahawk 4 Minipack2 and Jericho Arista 7800) do no in-network reduction for NCCL: the SHARP plugin
(Mellanox/nccl-rdma-sharp-plugins) drives SHARP aggregation on Quantum InfiniBand switches, and Spectrum-X Ethernet
is not documented as doing NCCL's CollNet reduction the same way
(NVIDIA documentation as we recall it, unverified here).
Published figure to check against (from memory, unverified): NVIDIA describes SHARP as
doubling the NCCL all-reduce bus bandwidth on NDR where the NICs bound the ring; the model gives 2 (n - 1)/n x
the NIC-bound figure at most, less where the scale-up domain's reduce-scatter and all-gather bound it.

Training (hN2, session 35): a stack's `nccl_collnet: true` (or `train --sharp`) gives the step's DP traffic a
fabric with `Fabric.sharp` set (`collnet_fabric`, on systems whose every tier does SHARP; elsewhere NCCL finds no
CollNet and keeps its ring / tree, so the fabric is unchanged), and the all-reduce tables of training
(`collectives.collective_seconds`, `collective_formulas.collective_time`) take the faster of their own all-reduce
and `sharp_time`: the one function `collective --algorithm sharp` prices. Only all-reduce: a reduce-scatter or
all-gather sends each rank's bytes over its NIC once with the ring already ((m - 1)/m of S/k per NIC across m
domains), so SHARP's aggregation tree (S/k per NIC up, its shard down) would not carry fewer bytes; its gain there
is latency alone, and NCCL's CollNet reduce-scatter / all-gather (CollNet Direct, NCCL 2.18+ as we recall the
release notes, unverified here) is not modelled. ZeRO-1/2's reduce-scatter + all-gather are therefore unchanged
by SHARP; ZeRO-0's gradient all-reduce and the tied-embedding all-reduce are priced through it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from infraplan import scalar_path
from infraplan.errors import InputError
from infraplan.identity_memo import IdentityMemo
from infraplan.network import collective_efficiency as _efficiency
from infraplan.network import simai_nccl_tables as _links
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.fabric import SCALE_UP_LATENCY_S, Fabric, group_domain, group_link, group_link_one
from infraplan.network.nvlink_all_reduce import NVLS_LATENCY_S
from infraplan.scalar_path import MathOps

if TYPE_CHECKING:  # the switch catalog's pydantic classes only for a SHARP check (hP5: not at `train` start-up)
    from infraplan.catalog.network_price_loader import SwitchCatalog


def sharp_switches(topo: ClosTopology, switches: SwitchCatalog | None = None) -> str | None:
    """None when every tier's switch model (as `costs.bill_of_materials` picks it) reduces in the network, else
    one line saying which tier does not."""
    from infraplan.catalog.network_price_loader import load_switch_catalog
    from infraplan.network.costs import PER_PORT_ESTIMATE, switch_for

    catalog = switches or load_switch_catalog()
    family = "infiniband" if topo.kind == "infiniband" else "ethernet"
    for tier in topo.tiers:
        name, _, _ = switch_for(tier, family, catalog)
        model = catalog.models.get(name)
        generation = (catalog.infiniband_generation(tier.port_bytes_per_s)
                      if name == PER_PORT_ESTIMATE and family == "infiniband" else None)
        if generation is not None and generation.in_network_reduction != "none":
            continue  # an uncatalogued radix of a SHARP generation (switches.yaml `infiniband_generations`)
        if model is None or model.in_network_reduction == "none":
            what = "no catalog switch model" if model is None else f"{name} does no in-network reduction"
            return (f"--sharp needs SHARP switches on every tier; {topo.system}'s {tier.name} tier: {what} "
                    f"({topo.kind}; SHARP runs on NVIDIA Quantum InfiniBand)")
    return None


def require_sharp(topo: ClosTopology) -> None:
    """InputError (one line) unless the fabric's switches all do SHARP."""
    reason = sharp_switches(topo)
    if reason is not None:
        raise InputError(reason)


# SHARP's message-size bound read as the NIC table's per-step latency paid on SHARP's own 2 network and 2 (k - 1)
# NVLink steps (hN, session 51; `simai_nccl_tables`): its time is bandwidth + shortfall. False: bandwidth / e, the
# two-domain column's efficiency scaling SHARP's own bandwidth term (its shortfall shrank with SHARP's faster
# network term, though the table's shortfall is a latency per ring step, hT80 / hT87).
SHARP_TABLE_PER_STEP = True

_FLOATS = scalar_path.FLOAT_OPS
_NUMPY = scalar_path.NUMPY_OPS


def _members(xp: MathOps, fabric: Fabric, n: Any, stride: Any) -> tuple[Any, Any]:
    """(members per scale-up domain k, the group crosses domains), on floats or arrays (`xp`)."""
    domain = group_domain(fabric, n, stride)
    k = xp.minimum(xp.maximum(xp.floor(domain / stride), 1.0), n)
    return k, n * stride > domain


def _parts(xp: MathOps, fabric: Fabric, size: Any, n: Any, stride: Any, k: Any) -> tuple[Any, Any, Any]:
    """`sharp_parts` with the group's k members per domain, on floats or arrays (`xp`)."""
    network = size / (k * fabric.nic_bytes_per_s)
    domain = 2.0 * (k - 1.0) / k * size / fabric.scale_up_bytes_per_s
    if fabric.nvls_bytes_per_s > 0.0:
        domain = xp.where(k > 1.0, xp.minimum(domain, (1.0 + 1.0 / k) * size / fabric.nvls_bytes_per_s), domain)
    lat: Any
    if xp is _FLOATS:
        _, lat = group_link_one(fabric, n, stride, False)
    else:
        _, lat, _ = group_link(fabric, n, stride, False)
    latency = xp.maximum(lat, _efficiency.NCCL_NET_STEP_LATENCY_S) + xp.where(k > 1.0, 2.0 * SCALE_UP_LATENCY_S, 0.0)
    return network, domain, latency


def _sharp(xp: MathOps, fabric: Fabric, size: Any, n: Any, stride: Any) -> Any:
    """`sharp_time` written once on an ops table (`scalar_path.MathOps`): Python floats (`sharp_time`) or numpy
    arrays (`sharp_times`), the same IEEE operations in the same order, so the same bits element by element."""
    k, crosses = _members(xp, fabric, n, stride)
    runs = crosses & (n > 1.0)
    if xp is _FLOATS and not runs:
        return math.inf
    network, domain, latency = _parts(xp, fabric, size, n, stride, k)
    bandwidth = xp.maximum(network, domain)
    # the NIC table's column at two domains (the aggregation tree's steps do not grow with the domains as a ring's
    # 2 (n - 1) do; ASSUMPTION, module docstring), its efficiency as it is (`per_step=False`)
    two = xp.minimum(n, 2.0 * k)
    efficiency: Any
    if xp is _FLOATS:
        efficiency = _efficiency.efficiency_at(_efficiency.group_efficiency(fabric, two, stride, False, False), size)
    else:
        efficiency = _efficiency.message_efficiency(fabric, size, two, stride, per_step=False)
    busbw = _efficiency.table_busbw(fabric)
    if not SHARP_TABLE_PER_STEP or not busbw > 0.0:
        return xp.where(runs, xp.maximum(bandwidth + latency, bandwidth / efficiency), math.inf)
    # its shortfall per table step at the column's ring (8 x two / k ranks at 8 NICs' busbw) paid on SHARP's own
    # steps, each at its link (`simai_nccl_tables.sharp_steps`): a latency, not a share of SHARP's bandwidth term
    in_domain = 2.0 * (k - 1.0) * _links.NCCL_NVLINK_RING_STEP_S  # a ring's 2 (k - 1) NVLink steps, or NVLS's
    if fabric.nvls_bytes_per_s > 0.0:  # latency where NCCL has NVLS (the faster of the two, as `_parts`' bandwidth)
        in_domain = xp.where(k > 1.0, xp.minimum(in_domain, NVLS_LATENCY_S), in_domain)
    ranks = _efficiency.RING_TABLE_NODE_GPUS * two / k
    shortfall = _links.sharp_steps(in_domain) * (size * (1.0 / efficiency - 1.0)) / (ranks * busbw)
    return xp.where(runs, xp.maximum(bandwidth + latency, bandwidth + shortfall), math.inf)


def sharp_parts(fabric: Fabric, size: float, n: float, stride: float) -> tuple[float, float, float]:
    """(network seconds, in-domain seconds, latency seconds) of a SHARP all-reduce (module docstring)."""
    size, n, stride = float(size), float(n), float(stride)
    k, _ = _members(_FLOATS, fabric, n, stride)
    network, domain, latency = _parts(_FLOATS, fabric, size, n, stride, k)
    return float(network), float(domain), float(latency)


def sharp_time(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """Seconds of a SHARP all-reduce of `size` bytes per rank over `n` ranks `stride` apart; infinite where it
    does not run (a group inside one scale-up domain: NVLS or the ring there). One group, on Python floats (the
    float twin of `sharp_times`: the same bits)."""
    return float(_sharp(_FLOATS, fabric, float(size), float(n), float(stride)))


def sharp_bottleneck(fabric: Fabric, size: float, n: float, stride: float) -> str:
    """'nic' or 'scale-up': which term bounds the SHARP all-reduce."""
    network, domain, _ = sharp_parts(fabric, size, n, stride)
    return "scale-up" if domain > network else "nic"


def sharp_times(fabric: Fabric, size: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """`sharp_time` over broadcast arrays, on numpy: the formula on whole arrays (`_sharp`), each element the bits
    `sharp_time` gives it (tests/network/test_sharp_arrays.py)."""
    s, g, d = np.broadcast_arrays(np.asarray(size, dtype=np.float64), np.asarray(n, dtype=np.float64),
                                  np.asarray(stride, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):  # groups of at most one rank (k = 0): infinite below
        return np.asarray(_sharp(_NUMPY, fabric, s, g, d), dtype=np.float64)


class _Cluster(Protocol):
    @property
    def fabric(self) -> Fabric: ...

    @property
    def topology(self) -> ClosTopology: ...


_COLLNET: IdentityMemo[Fabric] = IdentityMemo(64)  # the CollNet twin by the cluster's identity


def collnet_fabric(cluster: _Cluster) -> Fabric:
    """The fabric NCCL with CollNet enabled (NCCL_COLLNET_ENABLE=1) prices the DP traffic on: `Fabric.sharp` set
    where every switch tier of the system does SHARP (`sharp_switches`), else the cluster's own fabric (no SHARP
    plugin network: NCCL keeps ring and tree). One twin per cluster, so the identity-keyed collective memos keep
    finding it."""
    kept = _COLLNET.get(cluster)
    if kept is not None:
        return kept
    fabric = cluster.fabric
    return _COLLNET.put(cluster, None, replace(fabric, sharp=True) if sharp_switches(cluster.topology) is None
                        else fabric)
