"""One host share per device: the watts of its platform's non-accelerator parts that one accelerator, CPU socket or
video module carries (its server's CPUs, DRAM, NICs, fans, PSU loss; and its scale-up domain's switches where they
sit outside the servers), with where the figures come from.

Every command that adds a host to a device reads it here, so one device has one platform figure: `serve` and
`serve-plan` (the generic node's host, serving_metrics.power_terms), `recsys` (platform QPS/W), `video` (platform watts
per stream, both the ASIC and the CPU baseline), `fleet-mix` (the power objective and the cost model's IT load),
`plan` and `facility` (the node of the power chain, cluster/power.py). A named catalog system keeps its own node,
as does a system read as its part (`recsys`, `facility` and `campus --accelerator`: `cluster.node_system`, hP69).

Precedence (the first that exists):

1. the device's own figure: an accelerator file's `host_power_w` with its `host_source` (a published platform less
   its devices, e.g. MTIA v1: Yosemite V3, 12 accelerators, ~780 W for the whole system, SemiAnalysis May 2023
   (secondary, S) -> (780 - 12 x 25) / 12 = 40 W; or a labelled
   ASSUMPTION where no platform power is published: MTIA v2's Grand Teton, the MTIA 3xx/4xx trays, CPU sockets),
   or a video ASIC's device file `host_power_w` / `host_source` (MSVP);
2. the node of its reference system (the largest catalog system built from it, or from a what-if's `extends`
   preset): node host power / accelerators per node, e.g. DGX H100 10.2 kW - 8 x 700 W = 4.6 kW -> 575 W, DGX B200
   14.3 kW - 8 x 1 kW -> 787.5 W, the MTIA 400 rack's ASSUMED 1,200 W per 4-chip tray -> 300 W;
3. the generic rule: Epoch AI's server = 1.82 x GPU TDP (from the DGX H100's 10.2 kW for 8 x 700 W; Epoch AI
   GPU-clusters documentation), i.e. 0.82 x TDP of host per accelerator. It is a GPU-server rule: a device of
   another kind should carry its own figure (1.).

Scale-up switches (`switch_w`, hH53): a node's `scale_up_switch_power_w` (the switches of one scale-up domain
outside the servers' own figure, cluster/power.py) over the domain's accelerators, whatever gave the host: GB200 /
GB300 NVL72 3,600 W of NVSwitch trays / 72 = 50 W a GPU (so 450 + 50 = 500 W on GB200: `serve`'s peak 1,200 + 500 =
1,700 W a GPU is `facility gb200-nvl72`'s (accelerators + hosts + scale-up switches) / GPUs), the MTIA-400 rack's
ASSUMED same; 0 on DGX / HGX baseboards, whose node figure holds its NVSwitch chips. A device's switches come from
the node it is served on (a named system's; for a plain count its reference system's, the node the generic system
copies), once: `watts` (host + switches) is what `serve`, `recsys` and `video` add to a device, while `plan`,
`facility`, `campus` and `fleet-mix` build nodes from `host_w` alone (`cluster.generic.generic_node`) and add the
switches per scale-up domain begun (`cluster.power.scale_up_switches_w`), so a part-filled NVL72 rack pays its 9
trays there and 50 W a GPU here (the amortised share).

Which figures are ASSUMPTIONS (`assumed_share_w`, hM70; hH70): a node's `host_power_source` (the part's `host_source`
on a node built from its own figure, the generic rule's on a node built by it) and `scale_up_switch_source` carry the
catalog's label, or are the generic rule's (a GPU server's overhead, no figure of the part's own platform: tpu-v5p's
287 W, h800's 574 W), or are empty (no source stated); each is said by
every platform per-watt answer (`serve`'s `assumed_host_w_per_gpu` and warning, `serve-plan`'s note, `plan`'s and
`fleet-mix`'s figures note). No primary source gives MTIA 400's (Meta's Mar 2026 roadmap summaries: the chip's
1,200 W only) or MTIA 2i's (Meta's Apr 2024 MTIA blog: 72 accelerators a rack, 3 chassis of 12 boards x 2 chips,
no power), nor a GB200 / GB300 NVL72 compute tray's less its GPUs: all ASSUMED. DGX H100 / A100 / B200 / B300
subtract the GPUs from the vendor's system maximum: sourced, but a maximum rating held always on, not a measured
draw, so a GPU's platform figure leans high where an ASSUMED MTIA host's is a guess either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.catalog.schemas import ASSUMPTION_LABEL, Accelerator, Node, System

EPOCH_SERVER_MULTIPLIER = 1.82  # server power / GPU TDP, Epoch AI from DGX H100 (10.2 kW / 8 / 700 W)


@dataclass(frozen=True)
class HostShare:
    """A device's host share: its server's host watts per device (`host_w`), which rule of the precedence gave them
    and their source; its scale-up domain's switch watts per device outside the servers (`switch_w`, 0: none or in
    the node's figure); `watts` the two together, what a command adds to the device."""

    host_w: float
    basis: Literal["device", "system", "generic rule"]
    host_source: str
    switch_w: float = 0.0
    switch_source: str = ""  # `switch_share_line`: the sum and its source; "" without switches

    @property
    def watts(self) -> float:
        return self.host_w + self.switch_w

    @property
    def source(self) -> str:
        """Where `watts` comes from: the host's source, and the switches' where there are any."""
        return self.host_source + (f"; plus {self.switch_source}" if self.switch_w > 0 else "")


@lru_cache(maxsize=64)
def reference_system(accelerator: str) -> System | None:
    """The largest catalog system built from this accelerator (its node stands in for a plain count)."""
    matches = [load_system(name) for name in list_presets("systems")]
    matches = [s for s in matches if s.accelerator == accelerator]
    return max(matches, key=lambda s: (s.total_accelerators, s.name)) if matches else None


def node_host_share_w(node: Node) -> float:
    """A server node's host watts per accelerator (the node's host power over its accelerators)."""
    return node.host_power_w / node.accelerators_per_node


def node_switch_share_w(node: Node) -> float:
    """A node's scale-up switch watts per accelerator: its domain's switches outside the servers over the domain's
    accelerators (NVL72: 3,600 W / 72 = 50 W; 0 where the node's figure holds them or there are none)."""
    return node.scale_up_switch_power_w / node.scale_up_domain


def node_share_w(node: Node) -> float:
    """Everything a node adds per accelerator besides the accelerator: host share + scale-up switch share."""
    return node_host_share_w(node) + node_switch_share_w(node)


def switch_share_line(node: Node) -> str:
    """The switch share's sum and source, '' where the node has none outside its servers."""
    if node.scale_up_switch_power_w <= 0:
        return ""
    return (f"{node_switch_share_w(node):.4g} W per accelerator of scale-up switches: "
            f"{node.scale_up_switch_power_w:.5g} W per {node.scale_up_domain}-accelerator domain outside the servers "
            f"({node.scale_up_switch_source})")


# how `cluster.part_of` begins the host source of a system's part (hN73): its figure is that system's node's host and
# scale-up switch share together, so the part's reference system adds no switches of its own (a user's 72-GPU rack
# file's 41.7 W of switch trays a GPU were dropped by `recsys --accelerator FILE`, and a GB200 file stating 0 W of
# them was charged gb200-nvl72's 50 W, where `serve` and `facility --system` price the file's node)
NODE_SHARE_LABEL = "own node of"
GENERIC_RULE_LABEL = "generic rule:"  # how `accelerator_host_share`'s generic-rule source begins


def assumed_reason(source: str) -> str | None:
    """Why a host or switch figure with this source is ASSUMED, None where it is sourced: labelled ASSUMPTION in the
    catalog, the generic rule's (Epoch AI's GPU-server 0.82 x TDP, no platform figure of the part), or no source
    stated at all (a file's bare `host_power_w`: gaudi2-cluster.yaml's 2,500 W before hH70)."""
    if ASSUMPTION_LABEL in source:
        return "labelled ASSUMPTION"
    if source.startswith(GENERIC_RULE_LABEL):
        return f"by Epoch AI's GPU-server rule of {EPOCH_SERVER_MULTIPLIER - 1.0:.2f} x TDP"
    return None if source.strip() else "with no source stated"


def assumed_share_w(node: Node) -> tuple[float, list[str]]:
    """(the watts per accelerator of `node`'s host and scale-up switch shares that are ASSUMED (`assumed_reason`:
    labelled so, the generic rule's, or stated without a source), each such figure in words: "300 W of host
    labelled ASSUMPTION"); (0, []) where every figure above 0 W has a source."""
    parts = [(node_host_share_w(node), "host", node.host_power_source),
             (node_switch_share_w(node), "scale-up switches", node.scale_up_switch_source)]
    said = [(w, what, why) for w, what, src in parts if w > 0 and (why := assumed_reason(src))]
    return sum(w for w, _, _ in said), [f"{w:.4g} W of {what} {why}" for w, what, why in said]


def assumed_share_note(node: Node, word: str = "accelerator") -> str | None:
    """One line where some of a node's host share is ASSUMED (`assumed_share_w`): how much of it, why each figure
    is, and which figures carry it; None where none is. The sources stay in the catalog (and `serve`'s
    assumptions.host_share), not in the line: a part's host_source is a paragraph."""
    assumed, lines = assumed_share_w(node)
    if assumed <= 0:
        return None
    return (f"{assumed:.4g} of the {node_share_w(node):.4g} W per {word} of host and scale-up switches is ASSUMED "
            f"({', '.join(lines)}: no published platform figure of its own; the catalog's host_source / "
            "host_power_source / scale_up_switch_source say why, a file's own sourced figure replaces it): every "
            "figure with the host in it (IT and facility power, energy, cost, joules_per_token, platform_qps_per_w) "
            "carries it, the chip's alone (device_joules_per_token, qps_per_w) does not")


def nvl72_switch_w() -> float:
    """GB200 NVL72's NVSwitch trays per 72-GPU rack, the catalog's one figure (catalog/systems/gb200-nvl72.yaml
    `scale_up_switch_power_w`, with its source): what `facility` charges a rack begun and `serve` a GPU (/ 72)."""
    return load_system("gb200-nvl72").node.scale_up_switch_power_w


def unstated_switch_note(system: System) -> str | None:
    """One line where a system's scale-up domain spans nodes and its file states no `scale_up_switch_power_w`: the
    answer counts 0 W of switches outside the nodes, which is right for a switchless domain (a direct torus, e.g.
    TPU ICI) and ~3 % low for an NVLink-switch rack (GB200 NVL72: 3.6 kW of switch trays on 118.8 kW of trays). A
    note, not a refusal: the file cannot say which it is, and a switchless multi-host domain is a valid file (hH53)."""
    node = system.node
    if node.scale_up_domain <= node.accelerators_per_node or "scale_up_switch_power_w" in node.model_fields_set:
        return None
    return (f"{system.name}: its {node.scale_up_domain}-accelerator scale-up domain spans "
            f"{node.scale_up_domain // node.accelerators_per_node} nodes and its file states no "
            "node.scale_up_switch_power_w, so 0 W of switches outside the nodes is counted: right for a switchless "
            "domain (a direct torus), low for switch trays outside the nodes "
            f"(GB200 NVL72: {nvl72_switch_w():,.0f} W a 72-GPU domain); state it, with scale_up_switch_source (0W "
            "with the reason for none)")


def accelerator_host_share(accelerator: Accelerator) -> HostShare:
    """The host share of an accelerator or CPU socket, by the module's precedence, with the scale-up switch share of
    its reference system's node (the node a plain count of it is built on)."""
    if accelerator.host_power_w is not None and accelerator.host_source.startswith(NODE_SHARE_LABEL):
        return HostShare(accelerator.host_power_w, "device", accelerator.host_source)  # its node's switches in it
    ref = reference_system(accelerator.catalog_name)
    switch = node_switch_share_w(ref.node) if ref is not None else 0.0
    switches = f"{ref.name}'s {switch_share_line(ref.node)}" if ref is not None and switch > 0 else ""
    if accelerator.host_power_w is not None:
        return HostShare(accelerator.host_power_w, "device", accelerator.host_source, switch, switches)
    if ref is not None:
        node = ref.node
        return HostShare(node_host_share_w(node), "system",
                         f"{ref.name} node: {node.host_power_w:.5g} W of host for {node.accelerators_per_node} "
                         f"accelerators (catalog/systems/{ref.name}.yaml)", switch, switches)
    return HostShare((EPOCH_SERVER_MULTIPLIER - 1.0) * accelerator.tdp_w, "generic rule",
                     f"{GENERIC_RULE_LABEL} Epoch AI's GPU server = {EPOCH_SERVER_MULTIPLIER} x TDP "
                     f"(DGX H100 10.2 kW for 8 x 700 W), {EPOCH_SERVER_MULTIPLIER - 1.0:.2f} x "
                     f"{accelerator.tdp_w:.5g} W")


def with_stated_host(system: System, accelerator: Accelerator) -> System:
    """`system` where its node states its host power; else a copy whose node carries the part's one host share
    (`accelerator_host_share`: the part's own figure, its reference node's, else Epoch's rule) for each of its
    accelerators, the source saying so. A system file without `node.host_power_w` was priced at 0 W of host by every
    command where `facility --accelerator PART --count N` charged the rule (hN72: 24,576 of a user's 900 W GPU,
    26.5 against 44.3 MW of IT)."""
    node = system.node
    if "host_power_w" in node.model_fields_set:
        return system
    share = accelerator_host_share(accelerator)
    node = node.model_copy(update={"host_power_w": share.host_w * node.accelerators_per_node,
                                   "host_power_source": f"{share.host_source} ({UNSTATED_HOST})"})
    return system.model_copy(update={"node": node})


UNSTATED_HOST = "the system file states no node.host_power_w: the part's host share"  # `with_stated_host`'s words


def host_share(device: str | Accelerator) -> HostShare:
    """THE host share per device of an accelerator or CPU (preset, file or loaded) or a video ASIC preset."""
    from infraplan.catalog.inference_loader import is_video_device, load_video_device  # lazy: recsys/video schemas

    if isinstance(device, str) and is_video_device(device):
        dev = load_video_device(device)
        return HostShare(dev.host_power_w, "device", dev.host_source or "no host (video device file)")
    return accelerator_host_share(load_accelerator(device) if isinstance(device, str) else device)
