"""What `train` and `serve` price for one collective, and the `collective` command's answer (`headline`).

Since hC52 the command's analytical `time_s` is this price (`headline`: the asked algorithm's where one is named,
the alpha-beta line only for the hierarchical schedule, which nothing else prices); the alpha-beta line its flow
model shares is `alpha_beta_time_s` beside it (before, `time_s` was that line and the price a secondary field, so
a 4 MiB all-reduce on 2 B200 answered 11.8 us where train prices 29.1 us and NCCL 2.29.2 measures 36.8 us). Training and
serving price the same collective with `collectives.collective_seconds`
(training/step_traffic.py's data-parallel terms, training/layer_kernels.py's TP / CP / EP ones, serving's NCCL
all-reduce through `collective_time(..., sized=True)`, the same formulas on arrays): that line bounded below by
its bandwidth term over the message-size efficiency,

* across scale-up domains: the SimAI NCCL tables (catalog/nccl/simai_nic_ratio.csv, all-to-all
  simai_ata_ratio.csv; their columns stop at 128 nodes), with NCCL's network step latency (`collective_efficiency`):
  a ring reads the NIC table per ring step (its column at ranks / 8, its shortfall per step on the ring's own steps,
  `RING_TABLE_PER_STEP`, hT87; each step at its link, network or NVLink, `simai_nccl_tables`), an all-to-all the ATA
  table at the node count the group spans;
* an all-reduce inside one domain: the measured NVLink all-reduce curve (AIConfigurator's NCCL tables,
  `nvlink_all_reduce.table_file`: catalog/nccl/aiconfigurator_<chip>_all_reduce.csv);
* reduce-scatter, all-gather, all-to-all inside one domain: the accelerator's measured NCCL collectives table
  where it has one (`nvlink_collectives`), else the SimAI NVLink column (simai_nvlink_ratio.csv; all-to-all the
  ATA table's one-node column);
* all-reduce: NCCL's fastest of ring, tree and NVLS, each so bounded (training's `auto`; a tree spanning domains
  is not read against the NIC table, a ring's: its alpha-beta time and its leg in the domain, hT80), and with
  `--sharp` IB SHARP's sized time where faster (`sharp.sharp_time`, as `collective_seconds` takes it on a CollNet
  fabric);
* send-recv: a pipeline hop, `collectives.send_recv_seconds`: the alpha-beta time, no message-size efficiency.

`priced_collective` calls those functions (one implementation: nothing here prices a byte) and names the source
that applied to the group, with the efficiency read at the message size. Serving stacks with a custom all-reduce
price small in-domain TP all-reduces with `collective_algorithms.custom_all_reduce_time` instead (said in the basis); a
`dispatcher: deepep` stack's EP all-to-all across domains runs at DeepEP's published rate
(`training.expert_dispatch`), not this NCCL figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.network import nvlink_all_reduce as _nvlink
from infraplan.network import nvlink_collectives as _measured
from infraplan.network import simai_nccl_tables as _links
from infraplan.network.collective_algorithms import (
    CUSTOM_ALL_REDUCE_MAX_BYTES,
    custom_all_reduce_runs,
    custom_all_reduce_time,
)
from infraplan.network.collective_efficiency import (
    RING_TABLE_NODE_GPUS,
    RING_TABLE_PER_STEP,
    RING_TABLE_RING_ONLY,
    message_efficiency,
)
from infraplan.network.collectives import Fabric, all_reduce_time, collective_seconds, group_domain, send_recv_seconds
from infraplan.network.nvlink_all_reduce import nvls_available
from infraplan.network.pair_loads import send_recv_seconds_alone
from infraplan.network.sharp import sharp_time
from infraplan.scalar_path import FLOAT_OPS
from infraplan.units import significant_text

# the command's op names -> `collective_seconds`' kinds
KINDS = {"all-reduce": "all_reduce", "reduce-scatter": "reduce_scatter", "all-gather": "all_gather",
         "all-to-all": "all_to_all"}
_TABLE_NODES = 128  # the SimAI tables' last node-count column (`simai_nccl_tables.NODE_COLUMNS`)


@dataclass(frozen=True)
class PricedCollective:
    """Seconds train / serve price for one collective, the bus-bandwidth efficiency read at its size (None: no
    efficiency applies, send-recv or SHARP) and where that efficiency comes from."""

    time_s: float
    efficiency: float | None
    basis: str
    custom_time_s: float | None = None  # serving's custom all-reduce where a stack runs it (`_inside`)
    # the binding link where the pricing names it: send-recv's pairs counted on each link (`pair_loads`), so
    # `collective send-recv` takes its bottleneck from here, not from a second count (hF73)
    tier: str | None = None


def priced_collective(fabric: Fabric, op: str, size_bytes: float, n: int, stride: int,
                      sharp: bool = False) -> PricedCollective:
    """What training and serving price for `op` of `size_bytes` per rank over `n` ranks `stride` apart on
    `fabric` (module docstring); `sharp`: NCCL CollNet on (the fabric's every switch tier does SHARP, checked by the
    caller), as `train --sharp` prices its all-reduces. On an ECMP fabric (`Fabric.ecmp_pools`) the basis says where
    the expected hash collisions of the groups that run at once (`network.ecmp_tiers`) raise it above the even
    spread, and which groups those are (hE74)."""
    priced = _priced(fabric, op, size_bytes, n, stride, sharp)
    if not fabric.ecmp_pools:
        return priced
    even = _priced(replace(fabric, ecmp_pools=()), op, size_bytes, n, stride, sharp).time_s
    if priced.time_s <= even * (1.0 + 1e-9):
        return priced
    alone = ("its n/2 pairs at once" if op == "send-recv" else "this one group alone" if fabric.concurrent_groups == 1
             else "every group of its shape at once")
    return replace(priced, basis=f"{priced.basis}; ECMP's expected hash collisions, {priced.time_s / even:.3f}x the "
                   f"even spread's {significant_text(even * 1e6, 4)} µs (each crossed tier's load times the expected "
                   f"busiest of its equal-cost pools' hashed uplinks, `network.ecmp_tiers`), for {alone}: train and "
                   "serve price every group of a shape at once (a pipeline hop of stride s is `collective send-recv "
                   "--gpus 2s --placement packed`; a data-parallel ring is all its job's rings)")


def _priced(fabric: Fabric, op: str, size_bytes: float, n: int, stride: int, sharp: bool) -> PricedCollective:
    """`priced_collective` on `fabric` as it is."""
    if op == "send-recv":  # rank i with rank i + n/2, as the command pairs them
        counted = send_recv_seconds_alone(fabric, size_bytes, n, stride)
        if counted is not None:  # its pairs on each NIC and rail uplink (hF72), as the flow model loads them
            return PricedCollective(counted[0], None, "a pipeline hop's alpha-beta time, no message-size "
                                    "efficiency (`collectives.send_recv_seconds` prices one hop), these pairs all at "
                                    "once counted on each NIC and rail uplink (`network.pair_loads`)", tier=counted[1])
        seconds = send_recv_seconds(fabric, size_bytes, float(stride * (n // 2)))
        return PricedCollective(seconds, None, "a pipeline hop as train and serve price it "
                                "(`collectives.send_recv_seconds`): the alpha-beta time, no message-size efficiency")
    kind = KINDS[op]
    priced_on = replace(fabric, sharp=True) if sharp and op == "all-reduce" else fabric
    seconds = collective_seconds(priced_on, kind, size_bytes, float(n), float(stride))
    if priced_on.sharp and seconds == sharp_time(priced_on, size_bytes, float(n), float(stride)):
        return PricedCollective(seconds, None, "IB SHARP's sized time (`network.sharp`: a two-domain ring's "
                                "shortfall per step on SHARP's own steps), faster than NCCL's ring / tree here")
    domain = group_domain(fabric, float(n), float(stride))
    if n * stride <= domain:
        return _inside(fabric, op, kind, seconds, size_bytes, n, stride)
    if op == "all-reduce" and RING_TABLE_RING_ONLY and seconds < float(
            all_reduce_time(fabric, size_bytes, float(n), float(stride), algorithm="ring", sized=True)):
        chain = seconds == float(all_reduce_time(fabric, size_bytes, float(n), float(stride), algorithm="tree",
                                                 sized=True))  # else NVLS inside (hF66: the basis names the leg)
        leg = ("its leg in the domain, a chain through the local members (NCCL's Tree)" if chain else
               "its leg in the domain, NVLS of the whole buffer over the local members (NCCL's NVLSTree)")
        return PricedCollective(seconds, None, "NCCL's double binary tree across scale-up domains, faster than the "
                                "ring here: its alpha-beta time (latency of its longest path + 2 size / bw, NCCL's "
                                f"tuning model) bounded below by {leg}; the SimAI NIC table is a "
                                "ring's (latency linear in the ranks) and prices the ring only")
    efficiency = float(message_efficiency(fabric, size_bytes, n, stride, all_to_all=op == "all-to-all"))
    if op != "all-to-all" and RING_TABLE_PER_STEP:
        nodes = n / RING_TABLE_NODE_GPUS
        held = (f", its last column's ({_TABLE_NODES} nodes)" if nodes > _TABLE_NODES else
                ", its first network column's (2 nodes)" if nodes < 2 else "")
        steps = 2 * (n - 1) if op == "all-reduce" else n - 1
        links = (", each at its link (NCCL's network / NVLink step latency ratio, `simai_nccl_tables`)"
                 if _links.RING_TABLE_STEP_LINKS else "")
        plural = "" if nodes == 1 else "s"
        return PricedCollective(seconds, efficiency, "the SimAI NCCL table catalog/nccl/simai_nic_ratio.csv read per "
                                f"ring step: its column at {n:,} ranks / {RING_TABLE_NODE_GPUS} = {nodes:,.4g} "
                                f"node{plural}{held}, its shortfall per ring step (at {RING_TABLE_NODE_GPUS} NICs' "
                                f"busbw) paid on this ring's {steps:,} steps{links}: message-size efficiency "
                                f"{efficiency:.3g} of its large-message busbw at this size, bounding the alpha-beta "
                                "time from below; "
                                "NCCL's network step latency")
    per_domain = min(max(math.floor(domain / stride), 1), n)
    nodes = n / per_domain
    table = "simai_ata_ratio.csv" if op == "all-to-all" else "simai_nic_ratio.csv"
    last = _links.last_measured_nodes("ata" if op == "all-to-all" else "nic")  # (all-to-all: 16, hF74)
    held = f", its last measured column's ({last} nodes)" if nodes > last else ""
    return PricedCollective(seconds, efficiency, f"the SimAI NCCL table catalog/nccl/{table} at {nodes:,.4g} "
                            f"nodes{held}: message-size efficiency {efficiency:.3g} of the large-message busbw at "
                            "this size, bounding the alpha-beta time from below; NCCL's network step latency")


def _inside(fabric: Fabric, op: str, kind: str, seconds: float, size_bytes: float, n: int,
            stride: int) -> PricedCollective:
    """`priced_collective` of a group inside one scale-up domain."""
    if op == "all-reduce" and _nvlink.MEASURED_NVLINK_ALL_REDUCE:
        table = _nvlink.table_file(fabric.accelerator)
        efficiency = float(_nvlink.measured_efficiency_xp(FLOAT_OPS, float(size_bytes), float(n), "nccl", table))
        # what a serving stack with `custom_all_reduce` (all shipped ones set it) prices instead: the number, not only
        # the rule, so a decode TP all-reduce reads the same here as in `serve` (hF58: 3.31 µs where this said 18.1 µs);
        # only the stacks whose engine runs it at n ranks (`custom_all_reduce_world_sizes`, hI58) and, where it needs
        # one, on one host (`custom_all_reduce_one_host`, hI59): NCCL's on the others
        runs, others = _custom_stacks(n, fabric.host_accelerators)
        custom_s = (float(custom_all_reduce_time(fabric, size_bytes, n, stride))
                    if size_bytes <= CUSTOM_ALL_REDUCE_MAX_BYTES and n > 1 and runs else None)
        only = "" if not others else f" ({', '.join(runs)} only: {_why_nccl(others, n, fabric.host_accelerators)})"
        custom = ("" if custom_s is None else f"; serving stacks with a custom all-reduce (`custom_all_reduce`) take "
                  f"TensorRT-LLM's one-shot / two-shot kernels up to {CUSTOM_ALL_REDUCE_MAX_BYTES // 2**20} MiB where "
                  f"faster (`custom_all_reduce_time`): {significant_text(custom_s * 1e6, 3)} µs here "
                  f"(`serving_custom_time_s`){only}")
        return PricedCollective(seconds, efficiency, f"the measured NVLink all-reduce curve catalog/nccl/{table} "
                                f"(AIConfigurator's NCCL table, `network.nvlink_all_reduce`): efficiency "
                                f"{efficiency:.3g} of the large-message busbw at this size{custom}", custom_s)
    efficiency = float(message_efficiency(fabric, size_bytes, n, stride, all_to_all=op == "all-to-all"))
    measured = _measured.table_file(fabric.accelerator)
    if _measured.MEASURED_NVLINK_COLLECTIVES and measured is not None:
        source = f"the measured NCCL {kind} curve catalog/nccl/{measured} (`network.nvlink_collectives`)"
    else:  # the ATA table's first (one-node) column for all-to-all
        source = ("the SimAI NCCL table's one-node column catalog/nccl/simai_ata_ratio.csv" if op == "all-to-all"
                  else "the SimAI NCCL table's NVLink column catalog/nccl/simai_nvlink_ratio.csv")
    return PricedCollective(seconds, efficiency, f"{source}: message-size efficiency {efficiency:.3g} of the "
                            "large-message busbw at this size, bounding the alpha-beta time from below")


PRICED_HEADLINE = True  # `collective`'s analytical `time_s` is the priced time (`headline`, hC52); False: alpha-beta


@dataclass(frozen=True)
class Headline:
    """`collective`'s analytical answer: its seconds, the algorithm they are of and where they come from."""

    time_s: float
    algorithm: str
    basis: str


def headline(fabric: Fabric, op: str, asked: str, chosen: str, size_bytes: float, n: int, stride: int,
             priced: PricedCollective, alpha_beta_s: float) -> Headline:
    """The analytical `collective` answer (hC52): the time train and serve price for the collective (`priced`, NCCL's
    fastest algorithm) where the algorithm is NCCL's to choose (`asked` "auto"; all-to-all, send-recv), the same
    message-size price of the asked algorithm where one is named (an all-reduce's ring, tree or NVLS:
    `all_reduce_time(sized=True)`; a reduce-scatter's or all-gather's ring is the priced one; SHARP's time is sized
    already), and the alpha-beta line (`alpha_beta_s`, of `chosen`) only for the hierarchical schedule, which NCCL
    does not run and train and serve never price. With `PRICED_HEADLINE` off: the alpha-beta line, as before."""
    if not PRICED_HEADLINE:
        return Headline(alpha_beta_s, chosen, "the alpha-beta line (`PRICED_HEADLINE` off)")
    if asked == "hierarchical":
        return Headline(alpha_beta_s, chosen, "the alpha-beta line: NCCL runs no hierarchical schedule, so train and "
                        "serve price none and no measured table prices it")
    if chosen == "sharp":
        return Headline(alpha_beta_s, chosen, "IB SHARP's sized time (`network.sharp`), as train and serve price it")
    if op != "all-reduce" or asked == "auto":
        return Headline(priced.time_s, _nccl_algorithm(fabric, op, chosen, size_bytes, n, stride, priced),
                        f"the time train and serve price (`priced_time_s`: {priced.basis})")
    seconds = float(all_reduce_time(fabric, size_bytes, float(n), float(stride), algorithm=chosen, sized=True))
    return Headline(seconds, chosen, f"the {chosen} all-reduce with the message-size efficiency train and serve "
                    f"apply (`all_reduce_time(sized=True)`); NCCL's own choice, which they price, is "
                    f"`priced_time_s`")


def _nccl_algorithm(fabric: Fabric, op: str, chosen: str, size_bytes: float, n: int, stride: int,
                    priced: PricedCollective) -> str:
    """The algorithm of the priced time: an all-reduce's fastest sized candidate (ring, tree, NVLS where it runs,
    NVLS_TREE where the group spans domains;
    `collectives.all_reduce_time`'s `auto`), `chosen` (the alpha-beta line's fastest) where it ties for fastest
    (inside a domain the measured curve bounds every candidate alike); SHARP where the priced time is SHARP's; the
    others' one schedule."""
    if op in ("all-to-all", "send-recv"):
        return "direct"
    if op != "all-reduce":
        return "ring"
    if priced.efficiency is None and priced.basis.startswith("IB SHARP"):
        return "sharp"
    # NVLS_TREE where a tree crosses domains with NVLS inside each (`collective_formulas._nvls_tree`): auto's tree
    # there, faster than the named tree whose in-domain leg is a chain (hJ65: 1,024 H100, 1 GiB, 5.785 against
    # 5.838 ms, both labelled "tree" before)
    names = ("ring", "tree", "nvls") if nvls_available(fabric, n, stride) else ("ring", "tree", "nvls_tree")
    times = {a: float(all_reduce_time(fabric, size_bytes, float(n), float(stride), algorithm=a, sized=True))
             for a in names}
    return chosen if times.get(chosen, math.inf) <= min(times.values()) else min(names, key=times.__getitem__)


def _world_sizes(name: str) -> tuple[int, ...]:
    serving = load_stack(name).serving
    return tuple(serving.custom_all_reduce_world_sizes or ()) if serving is not None else ()


def _host(name: str, host: int) -> int:
    """`host` where the shipped stack's custom all-reduce needs every rank on one host, else 0 (no such rule)."""
    serving = load_stack(name).serving
    return host if serving is not None and serving.custom_all_reduce_one_host else 0


def _custom_stacks(n: int, host: int = 0) -> tuple[list[str], list[str]]:
    """The shipped serving stacks with a custom all-reduce whose engine runs it over `n` ranks on hosts of `host`
    GPUs (0: unknown), and those that run NCCL there (their `custom_all_reduce_world_sizes` and
    `custom_all_reduce_one_host`: `collective_algorithms.custom_all_reduce_runs`)."""
    shipped = [name for name in list_stacks()
               if load_stack(name).kind == "serving" and load_stack(name).custom_all_reduce]
    runs = [name for name in shipped if custom_all_reduce_runs(_world_sizes(name), n, _host(name, host))]
    return runs, [name for name in shipped if name not in runs]


def _why_nccl(others: list[str], n: int, host: int) -> str:
    """Why the stacks `others` run NCCL's all-reduce over `n` ranks: not one of their world sizes, or (hI59) the
    group spans hosts of `host` GPUs and their kernel needs one."""
    sized = [name for name in others if not custom_all_reduce_runs(_world_sizes(name), n)]
    hosts = [name for name in others if name not in sized]
    why = [f"{', '.join(sized)} run theirs at {_sizes(sized)} ranks"] if sized else []
    if hosts:
        why.append(f"{', '.join(hosts)} theirs with every rank on one host, {n} ranks span {-(-n // host)} of {host}")
    return f"{'; '.join(why)}, NCCL's time above at {n}"


def _sizes(names: list[str]) -> str:
    """The world sizes `names` run their custom all-reduce at, as one list ("2, 4, 6, 8")."""
    return ", ".join(str(size) for size in sorted({size for name in names for size in _world_sizes(name)}))
