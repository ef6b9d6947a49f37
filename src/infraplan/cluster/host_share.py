"""One host share per device: the watts of its server's non-accelerator parts (CPUs, DRAM, NICs, fans, PSU loss)
that one accelerator, CPU socket or video module carries, with where the figure comes from.

Every command that adds a host to a device reads it here, so one device has one platform figure: `serve` and
`serve-plan` (the generic node's host, serving_metrics.power_terms), `recsys` (platform QPS/W), `video` (platform watts
per stream, both the ASIC and the CPU baseline), `fleet-mix` (the power objective and the cost model's IT load),
`plan` and `facility` (the node of the power chain, cluster/power.py). A named catalog system keeps its own node.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.catalog.schemas import Accelerator, Node, System

EPOCH_SERVER_MULTIPLIER = 1.82  # server power / GPU TDP, Epoch AI from DGX H100 (10.2 kW / 8 / 700 W)


@dataclass(frozen=True)
class HostShare:
    """A device's host share: watts per device, which rule of the precedence gave it, and its source."""

    watts: float
    basis: Literal["device", "system", "generic rule"]
    source: str


@lru_cache(maxsize=64)
def reference_system(accelerator: str) -> System | None:
    """The largest catalog system built from this accelerator (its node stands in for a plain count)."""
    matches = [load_system(name) for name in list_presets("systems")]
    matches = [s for s in matches if s.accelerator == accelerator]
    return max(matches, key=lambda s: (s.total_accelerators, s.name)) if matches else None


def node_host_share_w(node: Node) -> float:
    """A server node's host watts per accelerator (the node's host power over its accelerators)."""
    return node.host_power_w / node.accelerators_per_node


def accelerator_host_share(accelerator: Accelerator) -> HostShare:
    """The host share of an accelerator or CPU socket, by the module's precedence."""
    if accelerator.host_power_w is not None:
        return HostShare(accelerator.host_power_w, "device", accelerator.host_source)
    ref = reference_system(accelerator.catalog_name)
    if ref is not None:
        node = ref.node
        return HostShare(node_host_share_w(node), "system",
                         f"{ref.name} node: {node.host_power_w:.5g} W of host for {node.accelerators_per_node} "
                         f"accelerators (catalog/systems/{ref.name}.yaml)")
    return HostShare((EPOCH_SERVER_MULTIPLIER - 1.0) * accelerator.tdp_w, "generic rule",
                     f"generic rule: Epoch AI's GPU server = {EPOCH_SERVER_MULTIPLIER} x TDP (DGX H100 10.2 kW for "
                     f"8 x 700 W), {EPOCH_SERVER_MULTIPLIER - 1.0:.2f} x {accelerator.tdp_w:.5g} W")


def host_share(device: str | Accelerator) -> HostShare:
    """THE host share per device of an accelerator or CPU (preset, file or loaded) or a video ASIC preset."""
    from infraplan.catalog.inference_loader import is_video_device, load_video_device  # lazy: recsys/video schemas

    if isinstance(device, str) and is_video_device(device):
        dev = load_video_device(device)
        return HostShare(dev.host_power_w, "device", dev.host_source or "no host (video device file)")
    return accelerator_host_share(load_accelerator(device) if isinstance(device, str) else device)
