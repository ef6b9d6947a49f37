"""Whether the racks a facility builds hold the fabric's top-of-rack leaves whole (hO, session 65).

A fabric without rails (`network.clos_topology.ClosTopology.rail_optimized` false) puts its leaf switches on top of the
racks: `network.costs.bill_of_materials` prices their NIC links as copper DAC (catalog/network_prices/links.yaml),
which reaches inside a rack. The facility fills its racks by power and space (`cluster.power.rack_fit`), so under
liquid cooling a rack of Meta's RoCE 24K cluster holds 5 DGX-class servers, 40 GPUs, while its fabric keeps the
system's 1,536 top-of-rack switches of 16 GPUs (2 servers, as catalog/systems/meta-genai-roce-24k.yaml builds
them: 16 GPUs per rack under one Minipack2 ToR). Racks of 40 split one leaf domain of 16 in every 5 over two
racks (hJ65's walk, product_review_tried.md "Left" 4).

One rule: leaf domains of d GPUs, laid out consecutively in racks of r GPUs, each whole in one rack or not. Where
some are not, `rack_fabric_note` says so and what it would cost: the NIC links of the split leaves priced as
optics, the bill of materials with the NIC links optical (`bill_of_materials` of the same topology marked
rail-optimised, its one medium rule) against the copper one, in proportion to the split leaves: an upper figure.
ASSUMPTION: a leaf whose servers sit in more than one rack is cabled with optics (whether a neighbour rack is
within a copper cable's reach depends on the floor, which the model does not lay out). No figure moves: the
fabric stays priced as the system's file (or the generic layout) builds it. The generic H100 layout under air
(racks of 16, leaves of 32) splits every leaf: the 1 GW campus's note says up to $1.12 B.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from infraplan.cluster.power import ITLoad, ServerLayout, fabric_topology
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.costs import bill_of_materials

__all__ = ["rack_fabric_note", "split_leaf_domains"]


def split_leaf_domains(domains: int, domain_gpus: int, rack_gpus: int) -> int:
    """How many of `domains` consecutive leaf domains of `domain_gpus` GPUs lie in more than one rack of
    `rack_gpus` (the first GPU's rack differs from the last's)."""
    if domains <= 0 or domain_gpus <= 0 or rack_gpus <= 0:
        return 0
    first = np.arange(domains, dtype=np.int64) * domain_gpus
    return int(np.count_nonzero(first // rack_gpus != (first + domain_gpus - 1) // rack_gpus))


def rack_fabric_note(layout: ServerLayout, load: ITLoad) -> str | None:
    """One line where the facility's racks split the fabric's top-of-rack leaf domains (module docstring); None
    where the fabric has no top-of-rack leaves (rails, or no scale-out fabric) or every leaf domain is in one rack."""
    topo = fabric_topology(layout, load.accelerators)
    if topo is None or topo.rail_optimized or not topo.tiers:
        return None
    leaf = topo.tiers[0]
    rack_gpus = load.servers_per_rack * layout.accelerators_per_server
    split = split_leaf_domains(leaf.domains, leaf.domain_gpus, rack_gpus)
    if split == 0:
        return None
    extra = _optics_extra(topo)
    share = split / leaf.domains
    switches = leaf.switches_per_domain
    return (f"racks and fabric disagree: the fabric keeps {leaf.switches:,} top-of-rack leaf switch"
            f"{'' if leaf.switches == 1 else 'es'} ({leaf.name} tier, {switches} per {leaf.domain_gpus:,} "
            "accelerators, NIC links "
            f"priced as copper DAC inside a rack), but these racks hold {rack_gpus:,}, so {split:,} of the "
            f"{leaf.domains:,} leaf domains span more than one rack; their NIC links as optics would add up to "
            f"{round(extra[0] * share):,} transceivers, ${extra[1] * share:,.0f} and {extra[2] * share:,.0f} W, "
            "not in the figures above (ASSUMPTION: optics across racks; a neighbour rack within a copper cable's "
            "reach needs none)")


def _optics_extra(topo: ClosTopology) -> tuple[float, float, float]:
    """(transceivers, USD, W) the NIC links add priced as optics: the bill of materials of the topology marked
    rail-optimised (its NIC links optical, `bill_of_materials`' rule) less the copper one."""
    copper, optical = bill_of_materials(topo), bill_of_materials(dataclasses.replace(topo, rail_optimized=True))
    return (float(optical["transceivers_total"] - copper["transceivers_total"]),
            float(optical["capex_usd"] - copper["capex_usd"]), float(optical["power_w"] - copper["power_w"]))
