"""The built folded-Clos fabric (`network.topology.build_topology`) as a graph: networkx for analysis, GraphML for
`infraplan network --graphml` (yEd, Gephi).

Vertices are the switches of every tier (and, with `endpoints`, each server and its NICs); edges are the link
bundles the builder wires (balanced wiring: `links_per_lower` parallel links from every lower switch to every upper
switch of its domain or plane) with their line rate; a NIC's edge goes to the leaf `clos_topology.leaf_index` gives it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.network.clos_topology import ClosTopology, leaf_index


def to_networkx(topo: ClosTopology, endpoints: bool = True) -> Any:
    """The fabric as a networkx Graph: switches (and servers with their NICs) as vertices, link bundles as edges
    with `links` (parallel links) and `bytes_per_s` (line rate of the bundle); server-NIC edges have links=0."""
    import networkx as nx

    g = nx.Graph(system=topo.system, gpus=topo.gpus)
    names: list[list[str]] = []
    for layout in topo.tiers:
        ids = [f"{layout.name}-{d}-{i}" for d in range(layout.domains) for i in range(layout.switches_per_domain)]
        g.add_nodes_from(ids, tier=layout.name, level=layout.index + 1)
        names.append(ids)
    for t in range(1, len(topo.tiers)):
        tier, below = topo.tiers[t], topo.tiers[t - 1]
        sub = tier.domain_gpus // below.domain_gpus
        cap = tier.links_per_lower * below.uplink_bytes_per_s
        for d in range(tier.domains):
            for q in range(tier.switches_per_domain):
                plane = q // tier.switches_per_plane
                per = tier.lowers_per_plane  # one plane a rail: the rail's leaves (`TierLayout.lowers_per_plane`)
                lows = range(below.switches_per_domain) if tier.planes == 1 else range(plane * per, plane * per + per)
                for j in range(sub):
                    for i in lows:
                        low = names[t - 1][(d * sub + j) * below.switches_per_domain + i]
                        g.add_edge(low, names[t][d * tier.switches_per_domain + q], links=tier.links_per_lower,
                                   bytes_per_s=cap)
    if endpoints:

        nodes = np.repeat(np.arange(topo.nodes), topo.nics_per_node)
        nics = np.tile(np.arange(topo.nics_per_node), topo.nodes)
        leaves = nodes // topo.nodes_per_leaf_domain * topo.tiers[0].switches_per_domain + leaf_index(
            topo, nodes, nics)
        for node, nic, leaf in zip(nodes.tolist(), nics.tolist(), leaves.tolist(), strict=True):
            name = f"node{node}-nic{nic}"
            g.add_node(name, tier="nic", level=0)
            g.add_edge(name, names[0][leaf], links=1, bytes_per_s=topo.nic_link_bytes_per_s)
            g.add_node(f"node{node}", tier="node", level=-1)  # the server: its NICs meet over PCIe/NVLink
            g.add_edge(f"node{node}", name, links=0, bytes_per_s=0.0)
    return g


def write_graphml(topo: ClosTopology, path: str) -> None:
    """Write the graph as GraphML atomically (a temporary file renamed into place: no half-written output)."""
    import networkx as nx

    from infraplan.catalog.output_files import write_atomically

    graph = to_networkx(topo)
    write_atomically(path, lambda tmp: nx.write_graphml(graph, tmp), "--graphml")
