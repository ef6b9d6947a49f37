"""Folded-Clos (fat-tree) builder: switches, links and bisection of a multi-tier fabric from a system description.

A system lists its scale-out tiers from the rack/leaf up (`NetworkTier`: GPUs per domain, oversubscription,
switch radix, port speed). The builder counts switches tier by tier with the folded-Clos arithmetic of
Al-Fares et al., "A Scalable, Commodity Data Center Network Architecture" (SIGCOMM 2008) -- k-ary fat tree:
leaves = spines = N/(k/2), cores = N/k -- generalised to oversubscription and to domains not powers of two:

* a switch of a tier with oversubscription o uses at most floor(k * o / (1 + o)) ports down, the rest up
  (the top tier uses all k ports down); its up ports are ceil(down / o);
* leaves: each tier-0 domain (a rack, or a rail-optimised scalable unit) needs ceil(NIC links / down ports)
  switches. Rail-optimised (NVIDIA DGX SuperPOD reference architecture): NIC r of every node in the unit goes
  to the leaves of rail r; where there are fewer leaves than NICs per node (Gaudi 2: 24 NICs, 6 leaves of 32
  down ports per 8 servers; MI300X: 8 NICs, 2 leaves of 32 per 8 nodes), each leaf takes a group of
  nics / leaves rails of every node, so every node reaches every leaf and hence every plane;
* above: the m lower switches of a domain are joined to S upper switches with the same number of parallel
  links u/S from every lower switch to every upper one (balanced wiring); S is the smallest divisor of the
  lower switch's u up ports with m * u / S <= down ports. When no S fits (the radix is too small to reach every
  lower switch), the domain is split into planes by the lower switches' index within their own domain, as a
  k-ary fat tree's cores are grouped by spine index; above a rail-optimised leaf domain with several leaves a rail
  (4-NIC nodes under 8 leaves), one plane a rail joining the rail's leaves (`_rail_planes`: split by leaf index,
  nodes on different leaves of a rail shared no plane); when even one plane cannot be wired, the build fails with
  the arithmetic (InputError).

This reproduces the DGX SuperPOD H100 leaf/spine/core counts (512 -> 16/8, ..., 16,384 -> 512/512/256) and the
Llama 3 RoCE fabric (Llama 3 paper, arXiv:2407.21783, Sec. 3.3.1: 16 GPUs per ToR, 192 racks per 3,072-GPU
pod, 8 pods, 1:7 above the pod). The built fabric, and its bisection, links and rails read off it:
`network.clos_topology`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network import rail_leaves as _rail_leaves
from infraplan.network.clos_topology import ClosTopology, TierLayout, nic_link_rate
from infraplan.network.rail_leaves import leaf_down_ports, rail_leaf_domain, railed_leaf_count, unreached_planes


def _smallest_fitting_divisor(up: int, lower: int, down_max: int) -> int | None:
    """Smallest S dividing `up` with lower * up / S <= down_max (balanced wiring), or None."""
    for s in range(1, up + 1):
        if up % s == 0 and lower * (up // s) <= down_max:
            return s
    return None


def _down_max(radix: int, oversubscription: float, top: bool) -> int:
    return radix if top else leaf_down_ports(radix, oversubscription)


def _nearest_multiples(n: int, unit: int) -> str:
    """The multiples of `unit` around `n` a user can ask for instead: '9,999,360 or 10,000,384 are'."""
    near = [m for m in (n // unit * unit, (n // unit + 1) * unit) if m > 0]
    return " or ".join(f"{m:,}" for m in near) + (" are" if len(near) > 1 else " is")


def endpoint_word(system: System) -> str:
    """What the fabric's text calls one of `system`'s endpoints (`Accelerator.device_word`: GPU, TPU, CPU, or
    accelerator for an ASIC such as MTIA: "24,576-GPU domain" read wrong on MTIA, hU45); 'accelerator' where the
    system's accelerator does not load by its name (a what-if file's generic system). Read on text paths only."""
    from infraplan.catalog import load_accelerator  # lazy: the builder's arithmetic never needs it

    try:
        return load_accelerator(system.accelerator).device_word
    except InputError:
        return "accelerator"


def build_topology(system: System, gpus: int | None = None, remedy: bool = True) -> ClosTopology:
    """Build the explicit folded Clos for `gpus` accelerators (default: the whole system).

    Only the tiers needed are built: the first tier whose domain holds all `gpus` becomes the top.
    Raises InputError with the failing arithmetic when the fabric cannot be built (`remedy`: naming the smallest
    leaf radix that builds a fabric whose planes leave nodes apart, `_least_leaf_radix`).
    """
    node, net = system.node, system.network
    n = system.total_accelerators if gpus is None else int(gpus)
    if n <= 0:
        raise InputError(f"--gpus must be positive, got {n}")
    if n > system.total_accelerators:
        raise InputError(f"{n:,} {endpoint_word(system)}s requested but {system.name} has "
                         f"{system.total_accelerators:,}")
    gpn, nics = node.accelerators_per_node, node.nics_per_node
    if n % gpn:
        w = endpoint_word(system)
        raise InputError(f"{n:,} {w}s is not a multiple of the {gpn}-{w} node ({n:,} / {gpn} = {n / gpn:,.3f}; "
                         f"{_nearest_multiples(n, gpn)})")
    if nics == 0:
        raise InputError(f"{system.name} has no NICs: no scale-out fabric to build")
    layouts: list[TierLayout] = []
    rail_only = net.rail_only
    # the scale-up (NVLink) domain in whole nodes: GB200/GB300 NVL72 join 18 trays of 4 GPUs (catalog
    # `scale_up_domain: 72`); a domain that is not a multiple of the node stays the node (none in the catalog)
    sud = node.scale_up_domain if node.scale_up_domain % gpn == 0 else gpn
    # rail-only: a rail is NIC k of every HB (scale-up) domain, k over the domain's sud / gpn x NICs (Wang et al.,
    # arXiv:2307.12169 Sec. 4: the GPUs of one rank in every HB domain share a rail), so a rail has n / sud NICs
    hb = sud if rail_only else gpn
    for i, spec in enumerate(net.tiers):
        # one leaf must hold every NIC link for tier 0 to be the top (rail-only: every NIC link of one rail)
        fits = i > 0 or (spec.switch_radix is not None and n // gpn * (1 if rail_only else nics) <= spec.switch_radix
                         if not rail_only else spec.switch_radix is not None and n // hb <= spec.switch_radix)
        top = (n <= spec.group_size and fits) or i == len(net.tiers) - 1 or (
            rail_only and _rail_top_fits(layouts, spec.switch_radix, n, hb))
        domain = min(n, spec.group_size) if not top else n
        if n > domain and n % domain:
            w = endpoint_word(system)
            raise InputError(f"{n:,} {w}s is not a multiple of the {domain:,}-{w} {spec.name} domain "
                             f"({n:,} / {domain:,} = {n / domain:,.3f}; {_nearest_multiples(n, domain)})")
        if domain % gpn:
            w = endpoint_word(system)
            raise InputError(f"the {domain:,}-{w} {spec.name} domain is not a multiple of the {gpn}-{w} node")
        if spec.switch_radix is None:
            raise InputError(f"tier {spec.name} of {system.name} has no switch_radix: cannot build the fabric, whose "
                             "switches serve, facility, campus, fleet-mix and network price: give its ports per switch")
        radix = spec.switch_radix
        port = spec.port_bandwidth_bytes_per_s or node.nic_bandwidth_bytes_per_s
        o = spec.oversubscription
        down_max = _down_max(radix, o, top)
        if down_max < 1:
            raise InputError(f"tier {spec.name}: radix {radix} at {o:g}:1 leaves no down port")
        if i == 0:
            if rail_only and not top:  # a rail's leaf takes as many HB domains as its down ports reach
                domain = _rail_leaf_span(domain, down_max, hb, n, o, net.tiers[1].switch_radix,
                                         min(n, net.tiers[1].group_size))
            links = domain // gpn * nics
            leaves = math.ceil(links / down_max)
            if rail_only:  # every rail its own leaves: one per rail in a leaf domain (more: not built, below)
                rail_count = nics * (hb // gpn)
                if domain % hb:
                    w = endpoint_word(system)
                    raise InputError(f"rail-only: the {domain:,}-{w} {spec.name} domain is not a multiple of the "
                                     f"{hb}-{w} scale-up domain whose NICs make the rails")
                leaves = rail_count * math.ceil(domain // hb / down_max)
                if leaves > rail_count:
                    raise InputError(f"rail-only: the {domain // hb} HB domains of a {domain:,}-"
                                     f"{endpoint_word(system)} {spec.name} "
                                     f"domain need {leaves // rail_count} leaves per rail at radix {radix} {o:g}:1; "
                                     "the builder takes one leaf per rail per leaf domain (a smaller leaf group_size)")
            if net.rail_optimized and not rail_only and not top and domain > sud:
                leaves = railed_leaf_count(leaves, nics, domain // gpn)
            down = math.ceil(links / leaves)
            layouts.append(TierLayout(spec.name, 0, domain, n // domain, 1, leaves, radix, port, down,
                                      0 if top else math.ceil(down / o), 1, o, spec.hop_latency_s, top))
        else:
            below = layouts[-1]
            sub = domain // below.domain_gpus
            lower, up = sub * below.switches_per_domain, below.up_ports
            s = None if rail_only else _smallest_fitting_divisor(up, lower, down_max)
            planes, group = 1, below.switches_per_domain
            if s is None:  # rail-only: always planes by the lower switch's index, which keeps each within a rail
                planes, group = below.switches_per_domain, 1
                if below.index == 0 and not rail_only and below.switches_per_domain > nics:
                    planes, group = _rail_planes(system, below, remedy, n, spec.name)
                s = _smallest_fitting_divisor(up, sub * group, down_max)
                if s is None or (planes == 1 and not rail_only):
                    per = sub * group
                    above = _tier_above(system, n, i) if remedy and top and not rail_only else ""
                    raise InputError(
                        f"cannot build tier {spec.name}: {per} {below.name} switches per plane"
                        f"{f' (one plane a rail: {sub} domains x {group} leaves a rail)' if group > 1 else ''} x "
                        f"{up // (s or up)} link{'s' * (up > (s or up))} each need {per * (up // (s or up))} down "
                        f"ports per switch, but radix {radix} at {o:g}:1 gives {down_max} (need radix >= "
                        f"{math.ceil(per * (1 + o) / o) if not top else per}{above})")
            per_lower = up // s
            down = (lower if planes == 1 else sub * group) * per_lower
            layouts.append(TierLayout(spec.name, i, domain, n // domain, planes, s, radix, port, down,
                                      0 if top else math.ceil(down / o), per_lower, o, spec.hop_latency_s, top,
                                      lowers_per_plane=group if planes > 1 else 1))
        if top:
            break
    # a link between two tiers runs at its slower end's rate too (leaf ports at 400G under 100G spine ports: 100G)
    layouts = [replace(t, uplink_bytes_per_s=nic_link_rate(t.port_bytes_per_s, above.port_bytes_per_s) if above
                       else t.uplink_bytes_per_s, switch=net.tiers[t.index].own_switch())
               for t, above in zip(layouts, [*layouts[1:], None], strict=True)]
    leaf = layouts[0]
    if len(layouts) == 1 and leaf.switches > 1 and not rail_only:
        raise InputError(f"{n // gpn * nics:,} NIC links need {leaf.switches} switches of radix {leaf.radix} but "
                         f"{system.name} has only the {leaf.name} tier to join them")
    rails, lpr, rpl = _leaf_rails(system, leaf)
    return ClosTopology(system.name, net.kind, n, gpn, nics, node.nic_bandwidth_bytes_per_s, rails, lpr,
                        tuple(layouts), rpl, sud, rail_only)


def _leaf_rails(system: System, leaf: TierLayout) -> tuple[bool, int, int]:
    """(rail-optimised, leaves per rail, rails per leaf) of a built leaf domain (`ClosTopology`'s fields). Rail groups
    where a leaf domain of several scale-up domains has 2+ leaves but fewer than NICs per node: NICs r*g .. r*g + g - 1
    of every node go to leaf r (the same NIC index on every node to one leaf; hN70: the MI300X unit's 2 leaves were
    built unrailed), so every node reaches every leaf and every plane above."""
    node, net = system.node, system.network
    gpn, nics, leaves = node.accelerators_per_node, node.nics_per_node, leaf.switches_per_domain
    sud = node.scale_up_domain if node.scale_up_domain % gpn == 0 else gpn
    grouped = net.rail_optimized and 1 < leaves < nics and nics % leaves == 0 and leaf.domain_gpus > sud
    rpl = nics // leaves if grouped else 1
    rails = net.rail_optimized and ((leaves % nics == 0 and leaves >= nics) or rpl > 1)
    lpr = max(1, leaves // nics) if rails else 0
    if rails and (leaf.domain_gpus // gpn) % lpr and not _rail_leaves.UNEVEN_RAIL_BLOCKS:
        return False, 0, 1
    return rails, lpr, rpl


def _rail_planes(system: System, leaf: TierLayout, remedy: bool, gpus: int, above: str) -> tuple[int, int]:
    """(planes, leaves of a leaf domain in each) of the tier above a leaf domain with more leaves than a node has
    NICs, where one switch set cannot join every leaf: one plane a rail (hF2, session 71). The DGX SuperPOD reference
    architecture groups its spines in spine groups, SG r joining leaf r of every scalable unit (NVIDIA DGX SuperPOD
    H100 RA, compute fabric; RECALLED), and where a unit has two leaves a rail (NIC r of a tray on leaf 2r or 2r + 1,
    catalog/systems/gb200-nvl72-superpod.yaml) both are rail r's: every node has a NIC on every rail, so every node
    reaches every plane. Split by leaf index instead, a node on leaves 0, 2, 4, 6 shared no switch with one on 1, 3,
    5, 7. A leaf domain wired unrailed (or whose leaves are not whole rails) is refused: its nodes reach only some
    leaves (`unreached_planes`)."""
    rails, lpr, _ = _leaf_rails(system, leaf)
    nics = system.node.nics_per_node
    if rails and lpr > 1 and RAIL_PLANES:
        return nics, lpr
    need = _least_leaf_radix(system, gpus) if remedy else None
    raise InputError(unreached_planes(system.network.tiers[0], leaf.switches_per_domain, nics,
                                      leaf.domain_gpus // system.node.accelerators_per_node, leaf.domain_gpus,
                                      above, endpoint_word(system), need))


RAIL_PLANES = True
"""hF2 (session 71): the tier above a leaf domain with several leaves a rail is split into one plane a rail
(`_rail_planes`); False: refused as before (`unreached_planes`)."""


def _rail_leaf_span(group: int, down_max: int, hb: int, n: int, o: float, radix_above: int | None,
                    pod: int) -> int:
    """Rail-only: a rail leaf's domain in GPUs. Wang et al. (arXiv:2307.12169, Sec. 4) make each rail a Clos of its
    own, so the system's pod (the Clos's tier-1 group, `pod` GPUs) does not bound a rail's leaf: where the rail's
    next tier can be its top over the leaves that span all `n` GPUs (`_rail_top_fits`' test), the leaves take as
    many HB domains as their `down_max` ports reach (dividing `n`); a rail too large for two tiers keeps the pod's
    cap, so the tier above still groups whole leaf domains. So does a job of no whole number of pods (as before):
    its leaf domains, all equal, would hold a divisor of an awkward HB-domain count (74 racks: 37 leaves of 2)."""
    if n % pod:
        return rail_leaf_domain(group, down_max * hb, pod)
    wide = rail_leaf_domain(group, down_max * hb, n)  # >= the pod's choice, which divides n too
    up = math.ceil((wide // hb) / o)  # one rail leaf's up links: its HB domains' NICs on this rail, at o:1
    if radix_above is not None and _smallest_fitting_divisor(up, n // wide, radix_above) is not None:
        return wide
    return rail_leaf_domain(group, down_max * hb, pod)


def _least_leaf_radix(system: System, gpus: int) -> int | None:
    """The smallest leaf `switch_radix` above the system's own that `build_topology` builds `gpus` with, up to one
    leaf port per node of the leaf domain a rail at the leaf's oversubscription (an error line's remedy)."""
    tiers, gpn = system.network.tiers, system.node.accelerators_per_node
    leaf = tiers[0]
    most = math.ceil(leaf.group_size // gpn * (1.0 + leaf.oversubscription) / leaf.oversubscription) + 1
    for radix in range((leaf.switch_radix or 1) + 1, most + 1):
        grown = [leaf.model_copy(update={"switch_radix": radix}), *tiers[1:]]
        try:
            build_topology(system.model_copy(update={"network": system.network.model_copy(update={"tiers": grown})}),
                           gpus, remedy=False)
        except InputError:
            continue
        return radix
    return None


def _tier_above(system: System, gpus: int, i: int) -> str:
    """', or ...' naming a tier above top tier `i` that builds `gpus` on the same switches, where the radix runs out
    (the Clos builder's answer to a size two tiers of a radix cannot join, as the catalog's 16,384-GPU DGX H100
    SuperPOD adds its core; hF72): tier i's domain the largest whole number of the tier below's domains dividing
    `gpus` that builds under one more tier of tier i's switches, '' where none does."""
    tiers = system.network.tiers
    spec, unit = tiers[i], tiers[i - 1].group_size
    for size in range(gpus - unit, unit, -unit):
        if gpus % size:
            continue
        grown = [*tiers[:i], spec.model_copy(update={"group_size": size}),
                 spec.model_copy(update={"name": f"{spec.name}-2", "group_size": gpus})]
        try:
            topo = build_topology(system.model_copy(update={"network": system.network.model_copy(
                update={"tiers": grown})}), gpus, remedy=False)
        except InputError:
            continue
        return (f"; or one more tier of the same switches above {spec.name} domains of {size:,} "
                f"{endpoint_word(system)}s: {topo.switches_total:,} switches in {len(topo.tiers)} tiers")
    return ""


def _rail_top_fits(layouts: list[TierLayout], radix: int | None, n: int, hb: int) -> bool:
    """Rail-only: whether this tier can be the top, one plane per rail holding all of the rail's lower switches
    (Wang et al., arXiv:2307.12169: a rail needs only the tiers its own NIC count does, n / hb endpoints for HB
    domains of hb GPUs, not the tiers the whole fabric of n x NICs endpoints needs)."""
    if radix is None:
        return False
    if not layouts:
        return n // hb <= radix
    below = layouts[-1]
    if n % below.domain_gpus:
        return False
    return _smallest_fitting_divisor(below.up_ports, n // below.domain_gpus, radix) is not None
