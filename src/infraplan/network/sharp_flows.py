"""IB SHARP in the flow simulator: each shard group's aggregation tree as one flow over the switches' links.

`network.sharp` prices NCCL's CollNet all-reduce with the SHARP plugin analytically: a reduce-scatter inside each
scale-up domain, each of the domain's k members sending its S/k shard once up the switches' aggregation tree and
receiving the reduced shard once back, an all-gather inside the domain, the three pipelined:

    t_sharp = max(S / (k B_nic), t_domain) + L_tree + 2 L_scale-up,

assuming every tree has its links to itself (an oversubscribed tier carries one reduced stream per switch, no
ECMP collision, no failed link). Here the same schedule runs on the explicit fabric (`routing.build_links`, failed
links included), so the trees meet what the formula assumes away:

1. in-domain reduce-scatter and all-gather: the NVLink ring over the domain's members, one step simulated as the
   flow simulator simulates a ring's steps (2 (k - 1) of them, S/k each); where the accelerator runs NVLS and it
   is faster, NVLS's time ((1 + 1/k) S / B_nvls, `network.sharp`'s term): the flow simulator does not reduce in
   the NVSwitch (as for `--algorithm nvls`), and no other flow crosses the scale-up links here;
2. shard group c (member c of every domain; a domain with fewer members gives member c mod its count) is one
   aggregation tree: every member's NIC sends S/k up to its leaf (NIC up link), every switch of the tree forwards
   one reduced stream to its parent, up to the root, the lowest switch that joins all of the group's leaves; the
   result comes back down the same links, one stream per child link, to every NIC (down links). The tree is ONE
   flow over all those links, up and down: a pipelined reduction streams at one rate, the share its slowest link
   gives it (max-min fair with the other trees, `flow_sim`); on a bundle of parallel links the trees share the
   bundle's healthy capacity (the fluid model: the manager spreads them over the parallel links);
3. time = max(tree transfer, in-domain transfer) + latency, latency = max(round trip to the root's tier, NCCL's
   network step) + 2 scale-up hops where k > 1: `network.sharp`'s terms, the root's tier as simulated. The flow
   model applies no message-size efficiency (as for every flow schedule): at small sizes the analytical model is
   the slower one.

What the aggregation manager is taken to do (ASSUMPTIONS, not from a published source found; the SHARP paper,
Graham et al., "Scalable Hierarchical Aggregation Protocol (SHArP)", COMHPC 2016, has the manager build the trees
over the fat tree, one parent per switch, as we recall it):
* one tree per shard group: NCCL opens one CollNet (SHARP) communicator per channel and NIC, and the manager gives
  each its own tree (with one tree for all k groups a leaf holding several of the group's NICs would forward k
  streams on one link, and SHARP could not reach the analytical model's S / (k B_nic));
* the tree's NICs: on a rail-optimised fabric the NIC of the tree's rail in every domain (its first member's NIC
  position), as routing.py sends a pair's flows out of the destination's rail (NCCL PXN: the NVLink hop to that
  NIC is not charged), so a tree stays in one rail plane; elsewhere each member's own NIC;
* parents: at each tier one seeded draw per tree, shared by the tree's switches at that tier (the switch of that
  index in the domain above; where the tier above is split into planes, that index within the plane the child's
  index forces), as ECMP's hash picks among the switches above (`--seed`). Sharing the draw is what lets the
  branches meet at one root where the tier above the next is split into planes (the DGX SuperPOD's cores, by
  spine index). A draw that would put a tree on a bundle with every link failed (`routing.fail_links`) is drawn
  again (the manager builds trees over healthy links); a partly failed bundle keeps its healthy links' capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.errors import InputError
from infraplan.network import collective_efficiency as _efficiency
from infraplan.network.clos_topology import ClosTopology, leaf_index
from infraplan.network.fabric import SCALE_UP_LATENCY_S, Fabric
from infraplan.network.flow_explain import AGREEMENT
from infraplan.network.flow_sim import FlowSet, Progress, simulate
from infraplan.network.routing import LinkTable
from infraplan.network.sharp import sharp_parts

__all__ = ["SharpFlowRun", "sharp_difference_reason", "sharp_flow", "sharp_trees"]


def _groups(gpus: np.ndarray, domain: int) -> tuple[np.ndarray, np.ndarray]:
    """(first member index, member count) of each scale-up domain the sorted `gpus` touch."""
    _, start, counts = np.unique(gpus // domain, return_index=True, return_counts=True)
    return start, counts


def sharp_trees(topo: ClosTopology, links: LinkTable, gpus: np.ndarray,
                seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The aggregation trees of a SHARP all-reduce over the sorted `gpus` (module docstring): (paths, root tier,
    first member GPU) per tree, paths an (trees, H) int32 array of link ids (NIC up and down links, then the
    switch bundles up and down) padded with -1. InputError (one line) where no tree joins the group's NICs."""
    sud, gpn, nics = topo.scale_up_domain_gpus, topo.gpus_per_node, topo.nics_per_node
    start, counts = _groups(gpus, sud)
    trees = int(counts.max())
    member = start[None, :] + np.arange(trees)[:, None] % counts[None, :]  # (trees, domains): shard c's holder
    holder = gpus[member]
    # rail-optimised: the NIC at the tree's rail position in every domain (PXN, as routing.py); else its own
    nic_gpu = holder // sud * sud + (holder[:, :1] % sud) if topo.rail_optimized else holder
    node, nic = nic_gpu // gpn, (nic_gpu % gpn) * nics // gpn
    endpoint = node * nics + nic
    leaf = node // topo.nodes_per_leaf_domain * topo.tiers[0].switches_per_domain + leaf_index(topo, node, nic)
    rng = np.random.default_rng(seed)
    rows: list[np.ndarray] = []
    roots = np.zeros(trees, dtype=np.int64)
    for c in range(trees):
        nodes, tier_links, t = np.unique(leaf[c]), [], 0
        while nodes.size > 1:
            t += 1
            if t >= len(topo.tiers):
                raise InputError(f"SHARP: no switch of {topo.system}'s fabric joins the NICs of shard group {c} (they "
                                 "sit on planes no tier above joins); use --sim analytical or another placement")
            up_edges, down_edges, nodes = _parents(topo, links, t, nodes, rng, c)
            tier_links += [up_edges, down_edges]
        roots[c] = t
        rows.append(np.concatenate([np.unique(links.nic_up + endpoint[c]), np.unique(links.nic_down + endpoint[c]),
                                    *tier_links]))
    paths = np.full((trees, max(r.size for r in rows)), -1, dtype=np.int32)
    for c, row in enumerate(rows):
        paths[c, :row.size] = row
    return paths, roots, holder[:, 0]


def _parents(topo: ClosTopology, links: LinkTable, t: int, nodes: np.ndarray, rng: np.random.Generator,
             tree: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(up bundles, down bundles, parents) of one tree's switches `nodes` of tier t - 1 (global ids): one seeded
    draw of the index above per tier-t domain (one for the whole tier where the tier above that is split into
    planes by this tier's index, so that the branches meet), drawn again while a bundle has no healthy link."""
    tier, below = topo.tiers[t], topo.tiers[t - 1]
    low_domain, low = nodes // below.switches_per_domain, nodes % below.switches_per_domain
    sub = tier.domain_gpus // below.domain_gpus
    up_domain = low_domain // sub
    j = low_domain - up_domain * sub
    pos = tier.bundle_position(j, low, below.switches_per_domain)  # as routing.route's bundle numbering
    base = tier.plane_of(low) * tier.switches_per_plane
    domains = np.unique(up_domain)
    common = domains.size > 1 and t + 1 < len(topo.tiers) and topo.tiers[t + 1].planes > 1
    ups, downs, parents = [], [], []
    for group in [np.arange(nodes.size)] if common else [np.flatnonzero(up_domain == d) for d in domains]:
        for u in rng.permutation(tier.switches_per_plane):
            parent = up_domain[group] * tier.switches_per_domain + base[group] + int(u)
            bundle = parent * links.fan_down[t] + pos[group]
            up, down = links.bundle_up[t] + bundle, links.bundle_down[t] + bundle
            if links.healthy is None or ((links.healthy[up] > 0.0).all() and (links.healthy[down] > 0.0).all()):
                ups.append(up)
                downs.append(down)
                parents.append(parent)
                break
        else:
            raise InputError(f"SHARP: no {tier.name} switch joins shard group {tree}'s {below.name} switches over "
                             "healthy links (the failed links cut its tree off; NCCL would fall back to its ring "
                             "or tree); fail fewer links or use another --algorithm")
    return np.unique(np.concatenate(ups)), np.unique(np.concatenate(downs)), np.unique(np.concatenate(parents))


@dataclass(frozen=True)
class SharpFlowRun:
    """A SHARP all-reduce run through the flow simulator (seconds; `bottleneck`: the link class that bounds it)."""

    time_s: float
    tree_transfer_s: float  # the slowest tree's fluid transfer of its S/k shard
    domain_transfer_s: float  # in-domain reduce-scatter + all-gather (0: one member per domain)
    latency_s: float
    bottleneck: str
    trees: int
    flows: int  # trees plus the in-domain ring step's transfers
    root_tier: str  # the highest tier a tree's root sits at
    busiest_link_trees: float  # trees on the busiest link of the bottleneck class (tree-bound), at the start
    mean_link_trees: float
    links_in_use: int
    nvls: bool  # the in-domain term is NVLS's formula (faster than the simulated NVLink ring)


def sharp_flow(topo: ClosTopology, links: LinkTable, fabric: Fabric, gpus: np.ndarray, size: float, seed: int,
               progress: Progress | None = None) -> SharpFlowRun:
    """Run a SHARP all-reduce of `size` bytes per rank over the sorted `gpus` on the flow simulator (module
    docstring): the trees (one flow each, `sharp_trees`) and the in-domain ring step, pipelined."""
    gpus = np.sort(np.asarray(gpus, dtype=np.int64))
    paths, roots, first = sharp_trees(topo, links, gpus, seed)
    trees = int(first.size)
    tell = None if progress is None else (lambda stage, done, total: progress(f"SHARP trees, {stage}", done, total))
    tree = simulate(topo, links, FlowSet.of(first, first, size / trees), fabric.tier_round_trip_latency_s,
                    SCALE_UP_LATENCY_S, seed=seed, progress=tell, routes=(paths, roots))
    latency = max(float(tree.pair_latency_s.max()), _efficiency.NCCL_NET_STEP_LATENCY_S)
    start, counts = _groups(gpus, topo.scale_up_domain_gpus)
    domain_s, flows, nvls = 0.0, tree.flows, False
    if trees > 1:  # one ring step in every domain of 2+ members: member i sends S/count to member i + 1
        which = np.repeat(np.arange(start.size), counts)
        first_of, count = start[which], counts[which]
        nxt = first_of + (np.arange(gpus.size) - first_of + 1) % count
        ring = count > 1
        step = simulate(topo, links, FlowSet.of(gpus[ring], gpus[nxt[ring]], size / count[ring]),
                        fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S, seed=seed)
        per_domain = np.zeros(start.size)
        np.maximum.at(per_domain, which[ring], step.finish_s - step.pair_latency_s)
        k = counts.astype(np.float64)
        domain = 2.0 * (k - 1.0) * per_domain  # reduce-scatter then all-gather: k - 1 ring steps each
        if fabric.nvls_bytes_per_s > 0.0:
            by_nvls = np.where(k > 1.0, (1.0 + 1.0 / k) * size / fabric.nvls_bytes_per_s, np.inf)
            nvls = bool((by_nvls < domain).any())
            domain = np.minimum(domain, by_nvls)
        domain_s = float(domain.max())
        latency += 2.0 * float(step.pair_latency_s.max())
        flows += step.flows
    bound = tree.transfer_s >= domain_s
    return SharpFlowRun(max(tree.transfer_s, domain_s) + latency, tree.transfer_s, domain_s, latency,
                        tree.bottleneck_class if bound else "scale-up", trees, flows,
                        topo.tiers[int(roots.max())].name, tree.busiest_link_flows, tree.mean_link_flows,
                        tree.links_in_use, nvls)


def sharp_difference_reason(run: SharpFlowRun, analytical_s: float, fabric: Fabric, size: float, n: int,
                            stride: int) -> str | None:
    """Why the flow SHARP time differs from `network.sharp`'s by more than `flow_explain.AGREEMENT`; None within."""
    ratio = run.time_s / analytical_s
    if abs(ratio - 1.0) <= AGREEMENT:
        return None
    network, domain, latency = sharp_parts(fabric, size, n, stride)
    head = (f"flow {ratio:.2f}x the analytical time (trees {run.tree_transfer_s * 1e6:,.1f} us against "
            f"{network * 1e6:,.1f} us, in-domain {run.domain_transfer_s * 1e6:,.1f} us against {domain * 1e6:,.1f} us)")
    if ratio < 1.0:
        k = max(1, min(n, fabric.scale_up_domain // max(stride, 1)))
        if run.trees > k:
            return (f"{head}: uneven members per scale-up domain: the flow model runs {run.trees} trees (the most "
                    f"members on one domain), each domain's shards leaving through as many NICs (PXN on a "
                    f"rail-optimised fabric), where the analytical model takes floor(domain / stride) = {k} per domain")
        if abs(run.time_s / (max(network, domain) + latency) - 1.0) <= AGREEMENT:
            return (f"{head}: the analytical model's message-size efficiency (a two-domain ring's, `network.sharp`) "
                    "bounds it; the flow model applies none")
        return f"{head}: a bound the analytical model applies is not reached by this placement"
    if run.bottleneck == "scale-up":
        return f"{head}: the in-domain reduce-scatter and all-gather bound it (uneven members per domain)"
    load = (f"the busiest {run.bottleneck} link carries {run.busiest_link_trees:,g} trees where the "
            f"{run.links_in_use:,} {run.bottleneck} links in use average {run.mean_link_trees:.3g}")
    if run.bottleneck == "nic":
        return (f"{head}: some NICs carry more than one tree (uneven members per domain): {load}; the analytical "
                "model gives each member one tree on its own NIC")
    return (f"{head}: SHARP trees share {run.bottleneck} uplinks: {load} (each tree takes one stream per link; its "
            "parents are seeded ECMP picks over the healthy links, and an oversubscribed tier has fewer uplinks than "
            "trees crossing it; the analytical model gives every tree links of its own)")
