"""Bill of materials of a built fabric: switches per tier by model, transceivers, cables, power and capex.

Prices and powers are catalog data (catalog/network_prices/*.yaml, with their sources and stated assumptions).
Per tier the switch model is the one of the fabric's family (InfiniBand, or Ethernet for RoCE) with the tier's
port speed and radix (the builder counts the tier's switches at that radix, so a larger box is not the switch it
built: a user's 128 x 400G tier was priced as the 576-port Arista 7816R3 chassis, $1.2 M and 16 kW a switch, hU54);
without a match the tier is priced per port. A system file's tier may name its switch (`switch_model`): a catalog
model by name (cabled at the tier's radix), or one of its own with `switch_price_usd`, `switch_power_w` and
`switch_source`.
Optics: an optical link carries a transceiver at each end (the NIC end included) plus fibre; NIC-to-leaf links
are copper DAC under a top-of-rack leaf (not rail-optimised), optical otherwise; switch-to-switch links are
optical. NICs themselves are part of the server (host power and server price), not counted here.
"""

from __future__ import annotations

import math
from typing import Any

from infraplan.catalog.error_bands import no_band_basis
from infraplan.catalog.network_price_loader import LinkCatalog, SwitchCatalog, load_link_catalog, load_switch_catalog
from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network.clos_topology import ClosTopology, TierLayout
from infraplan.network.ecmp_tiers import balancing_fields, balancing_note
from infraplan.network.results import NetworkReport
from infraplan.network.tier_bandwidth import built_ratios, fabric_speed_notes

PER_PORT_ESTIMATE = "per-port estimate"
"""`switch_for`'s name of a tier with no catalogued model of its radix and speed, priced per port (`network.sharp`
reads it: such an InfiniBand tier does its port speed's generation's SHARP)."""


def switch_for(tier: TierLayout, family: str, catalog: SwitchCatalog) -> tuple[str, float, float]:
    """(model name, unit price USD, unit power W) for one switch of the tier: the catalog model of its family, port
    speed and radix, else the per-port estimate of a switch of that radix and speed. A tier's file may name its
    switch (`switch_model`): its own price and power where it gives them, else the catalog model of that name. A
    catalog model's name, with its figures or the file's, must have the tier's family and port speed and at least its
    radix (ports left unused): `network.sharp` reads the model's SHARP by that name (hL54: an 800G RoCE tier's own
    switch named nvidia-qm9700 took `--sharp` on an Ethernet fabric)."""
    if tier.switch is not None:
        name, usd, watts = tier.switch
        model = catalog.models.get(name)
        if model is None and (usd is None or watts is None):
            raise InputError(f"tier {tier.name}: switch_model {name!r} is not in the switch price catalog "
                             f"({', '.join(sorted(catalog.models))}): give switch_price_usd, switch_power_w and "
                             "switch_source for a switch of your own")
        if model is not None and (model.family != family or model.port_bandwidth_bytes_per_s != tier.port_bytes_per_s
                                  or model.radix < tier.radix):
            raise InputError(f"tier {tier.name}: {name} ({model.family}, {model.radix} x "
                             f"{model.port_bandwidth_bytes_per_s * 8 / 1e9:g}G) cannot be an {family} switch of "
                             f"{tier.radix} x {tier.port_bytes_per_s * 8 / 1e9:g}G ports"
                             + ("" if usd is None else ": name a switch of your own otherwise"))
        if usd is not None and watts is not None:
            return name, usd, watts
        assert model is not None  # (refused above)
        return name, model.price_usd, model.power_w
    fits = sorted(name for name, m in catalog.models.items()
                  if m.family == family and m.port_bandwidth_bytes_per_s == tier.port_bytes_per_s
                  and m.radix == tier.radix)
    if fits:
        model = catalog.models[fits[0]]
        return fits[0], model.price_usd, model.power_w
    scale = tier.port_bytes_per_s / catalog.per_port.reference_port_bandwidth_bytes_per_s * tier.radix
    return PER_PORT_ESTIMATE, catalog.per_port.usd * scale, catalog.per_port.power_w * scale


def populated_links(topo: ClosTopology, index: int, populated_gpus: int) -> int:
    """The links into tier `index` cabled for `populated_gpus` installed (`bill_of_materials`): a NIC link per NIC
    of a server there (hB66); within one leaf domain of a two-tier fabric (part of a rail unit, cluster/generic.py
    `unit_part`, hB2) a leaf's uplinks for its populated ports, rounded up to the same number of links to every
    spine (the balanced wiring the builder and the RA use); whole above that (every link of the fabric)."""
    nic_links = populated_gpus // topo.gpus_per_node * topo.nics_per_node
    if index == 0:
        return nic_links
    leaf = topo.tiers[0]
    if index > 1 or leaf.domains > 1 or len(topo.tiers) != 2 or populated_gpus >= topo.gpus:
        return topo.links_between(index)
    spines = topo.tiers[1].switches
    up = math.ceil(math.ceil(nic_links / leaf.switches) / leaf.oversubscription)  # a leaf's, for its ports in use
    return leaf.switches * min(leaf.up_ports, -(-up // spines) * spines)


def bill_of_materials(topo: ClosTopology, switches: SwitchCatalog | None = None,
                      links: LinkCatalog | None = None, populated_gpus: int | None = None) -> dict[str, Any]:
    """Switches, links, transceivers, cables, power (W) and capex (USD), per tier and in total, and which catalog
    prices it used (`catalog_priced`: "switches" where a tier's switch is the switch catalog's, "links" where it
    priced transceivers or cables: `catalog.hardware_costs.assumed_network_notes`). `populated_gpus`: the
    accelerators whose servers are installed, where a generic fabric is built for more (whole units, `cluster.
    generic`): its switches are bought whole, but a NIC link (cable, and its transceivers where optical) only for a
    server that is there (hB66), and within one unit a leaf's uplinks for its ports in use (`populated_links`, hB2);
    None: every endpoint of the fabric."""
    switches = switches or load_switch_catalog()
    links = links or load_link_catalog()
    family = "infiniband" if topo.kind == "infiniband" else "ethernet"
    rows, power, capex, transceivers, catalog = [], 0.0, 0.0, 0, set()
    for tier in topo.tiers:
        model, usd, watts = switch_for(tier, family, switches)
        if tier.switches and (tier.switch is None or tier.switch[1] is None):  # the catalog's, not a file's own
            catalog.add("switches")
        count = topo.links_between(tier.index)
        if populated_gpus is not None:
            count = min(count, populated_links(topo, tier.index, populated_gpus))
        speed = topo.nic_link_bytes_per_s if tier.index == 0 else topo.tiers[tier.index - 1].uplink_bytes_per_s
        price = links.at(speed)
        optical = not (tier.index == 0 and not topo.rail_optimized)
        optics = 2 * count if optical else 0
        cable_usd = count * (price.fibre_usd if optical else price.dac_usd)
        tier_power = tier.switches * watts + optics * price.transceiver_power_w
        tier_capex = tier.switches * usd + optics * price.transceiver_usd + cable_usd
        if count:
            catalog.add("links")
        rows.append({"name": tier.name, "switch_model": model, "switches": tier.switches,
                     "links_from_below": count, "link_medium": "optical" if optical else "copper DAC",
                     "transceivers": optics, "power_w": tier_power, "capex_usd": tier_capex})
        power += tier_power
        capex += tier_capex
        transceivers += optics
    return {"tiers": rows, "transceivers_total": transceivers, "power_w": power, "capex_usd": capex,
            "capex_usd_per_gpu": capex / topo.gpus, "power_w_per_gpu": power / topo.gpus,
            "price_sources": [switches.source, links.source],
            "catalog_priced": tuple(sorted(catalog))}  # the catalog files it priced from (hC76: their ASSUMED said)


def wiring_notes(topo: ClosTopology, device: str = "GPU") -> list[str]:
    """Where a built tier departs from the plain port arithmetic of a folded Clos (Al-Fares et al., SIGCOMM 2008: a
    k-ary fat tree's cores = N/k; o:1 divides a tier's uplinks by o), the reason: balanced wiring (every lower
    switch's uplinks split evenly over the upper switches it reaches, topology.py) needs more switches than the
    port count of each domain's links alone, or whole up ports round the configured oversubscription. `device`:
    what one endpoint is called (`topology.endpoint_word`)."""
    notes = []
    for t in topo.tiers[1:]:
        below, links = topo.tiers[t.index - 1], topo.links_between(t.index)
        ports = t.radix if t.is_top else math.floor(t.radix * t.oversubscription / (1.0 + t.oversubscription) + 1e-9)
        need = t.domains * math.ceil(links // t.domains / ports)
        if t.switches > need:
            per = "rail" if t.lowers_per_plane > 1 else f"{below.name} switch index"
            group = (f"{t.planes} planes (one per {per}) of {t.switches_per_plane}"
                     if t.planes > 1 else f"{t.switches_per_domain}")
            up = f" and {t.up_ports} up" if t.up_ports else ""
            notes.append(f"{t.name}: {t.switches:,} switches using {t.down_ports} down{up} of their {t.radix} ports: "
                         f"balanced wiring ({t.links_per_lower} of each {below.name} switch's {below.up_ports} "
                         f"uplinks to every {t.name} switch it reaches) takes {group} per {t.domain_gpus:,}-{device} "
                         f"domain; {need:,} would hold the {links:,} links by port count, with uneven wiring")
        if not t.is_top and abs(t.effective_oversubscription / t.oversubscription - 1.0) > 0.01:
            notes.append(f"{t.name}: {t.effective_oversubscription:.3g}:1 built where {t.oversubscription:g}:1 is "
                         f"configured: {t.down_ports} down ports take ceil({t.down_ports} / {t.oversubscription:g})"
                         f" = {t.up_ports} whole up ports")
    return notes


def unrailed_note(spec: System, topo: ClosTopology, links: LinkCatalog | None = None) -> list[str]:
    """The line saying so where a system file's rail-optimised fabric (`rail_optimized: true`) is built without
    rails (`topology.build_topology`: a leaf domain's leaves must be a multiple of a node's NICs, or fewer leaves
    dividing them over several scale-up domains): the answer's `rail_optimized` is then false and its NIC links are
    priced as a top-of-rack leaf's copper DAC (`bill_of_materials`; catalog/network_prices/links.yaml), not the
    optics of a rail-optimised unit whose leaves sit in their own racks; the line gives both counts and what the
    optics would add (hJ, session 65: every NVL72-style catalog system, GB200 / GB300 NVL72 and MTIA 400 racks,
    declared rails its 1 or 2 leaves per 72-device rack could not form, and said nothing; hN65: the SuperPOD files
    now build the RA's rail leaves over 8-rack units and the one-rack files declare their single leaf unrailed, so
    the note is for user files)."""
    from infraplan.network.topology import endpoint_word

    if not spec.network.rail_optimized or topo.rail_optimized or topo.rail_only:
        return []
    links = links or load_link_catalog()
    leaf, w = topo.tiers[0], endpoint_word(spec)
    count = topo.links_between(0)
    price = links.at(topo.nic_link_bytes_per_s)
    usd = count * (2 * price.transceiver_usd + price.fibre_usd - price.dac_usd)
    watts = 2 * count * price.transceiver_power_w
    leaves = leaf.switches_per_domain
    return [f"{leaf.name}: {spec.name}'s file declares a rail-optimised fabric, but its {leaves} leaf "
            f"switch{'' if leaves == 1 else 'es'} per {leaf.domain_gpus:,}-{w} domain, at {topo.nics_per_node} NICs "
            f"a node, form{'s' if leaves == 1 else ''} no rails "
            f"(leaves a multiple of the NICs, or fewer dividing them over several scale-up domains): built as "
            f"top-of-rack leaves (rail_optimized false), the {count:,} NIC links priced as copper DAC; the optics of "
            f"leaves in their own racks would add {2 * count:,} transceivers, ${usd:,.0f} and {watts:,.0f} W"]


def tier_summary(topo: ClosTopology) -> list[dict[str, object]]:
    """The per-tier rows of the `network` command: leaf/rack tier first (from topology.py, which is at the cap)."""
    rows: list[dict[str, object]] = []
    for t in topo.tiers:
        rows.append({
            "name": t.name, "switches": t.switches, "radix": t.radix, "port_bytes_per_s": t.port_bytes_per_s,
            "oversubscription": t.effective_oversubscription if not t.is_top else 1.0,
            "configured_oversubscription": t.oversubscription, "domains": t.domains, "domain_gpus": t.domain_gpus,
            "planes": t.planes, "down_ports_per_switch": t.down_ports, "up_ports_per_switch": t.up_ports,
            "links_from_below": topo.links_between(t.index),
        })
    return rows


def _whole_domains(spec: System, gpus: int) -> tuple[int, str, int]:
    """`gpus` rounded up to whole domains of every tier below the system's last that it outgrows (the builder's
    tiers: a tier whose domain `gpus` exceeds is not the top), with the last such tier's name and domain size."""
    n, name, size = gpus, "", 0
    for tier in spec.network.tiers[:-1]:
        if n > tier.group_size and n % tier.group_size:
            n, name, size = -(-n // tier.group_size) * tier.group_size, tier.name, tier.group_size
    return n, name, size


def partial_unit_topology(spec: System, gpus: int) -> ClosTopology | None:
    """The fabric of `gpus` on part of a rail unit (`rail_leaves.partial_unit_gpus`: the leaves they need, each
    whole, under their spines), None where the rule leaves them to the builder. One rule for a catalog system and a
    user's file smaller than its unit (hN68: 17 DGX on the SuperPOD's tiers, `network` and `facility` alike), whose
    system is widened to the unit's count to build it (the NIC links are priced for the `gpus` there)."""
    from infraplan.network.rail_leaves import partial_unit_gpus
    from infraplan.network.topology import build_topology

    part = partial_unit_gpus(spec, gpus)
    if part == gpus:
        return None
    wide = spec if part <= spec.total_accelerators else spec.model_copy(update={"total_accelerators": part})
    return build_topology(wide, part)


def whole_domain_topology(spec: System, gpus: int | None) -> tuple[ClosTopology, str | None]:
    """The fabric `network` builds for `gpus` accelerators, and the line saying so where it rounds them up.

    A count that fills whole domains (racks, pods) builds as asked. One that ends in a partial domain of a tier
    below the top (4,096 GPUs of the Llama 3 RoCE cluster: 1 1/3 of its 3,072-GPU pods) is built as the whole
    domains it occupies, the ports of the rest unused: the pod is the unit the design is built in (8 pods of 3,072
    in the Llama 3 paper, arXiv:2407.21783 Sec. 3.3.1), its spine switches' balanced wiring and 1:7 uplinks are
    laid out for its full rack count, and it is the fabric `collective` and `train` price those GPUs on: a
    collective group alone on the fabric shares a pod's uplinks with its idle GPUs only (`fabric.uplink_occupancy`
    at one group), a training job's groups fill their pods at the tier's ratio; both on the whole system's pods.
    A partial node, a count beyond the system and one that no rounding builds keep the builder's refusal. A count
    within a rail-optimised system's scalable unit is built on the leaves it needs, each whole, under their spines
    (`rail_leaves.partial_unit_gpus`, the rule of a part's generic Clos: hB2, hB67)."""
    from infraplan.network.topology import build_topology, endpoint_word

    part = partial_unit_topology(spec, spec.total_accelerators if gpus is None else int(gpus))
    if part is not None:
        w, n = endpoint_word(spec), spec.total_accelerators if gpus is None else int(gpus)
        return part, (f"{n:,} {w}s fill part of a rail unit: built on the {part.tiers[0].switches} leaves they "
                      f"need, each whole, the fabric of {part.gpus:,} {w}s ({part.gpus - n:,} {w} ports unused; NIC "
                      f"links and per-{w} figures over the {n:,})")
    try:
        return build_topology(spec, gpus), None
    except InputError as refused:
        if gpus is None:
            raise
        n = int(gpus)
        built, tier, size = _whole_domains(spec, n)
        if built == n or built > spec.total_accelerators or n % spec.node.accelerators_per_node:
            raise
        try:
            topo = build_topology(spec, built)
        except InputError:
            raise refused from None
    w = endpoint_word(spec)
    return topo, (f"{n:,} {w}s end in a partial {size:,}-{w} {tier} domain ({n:,} / {size:,} = {n / size:,.3f}): "
                  f"built as {built // size:,} whole {tier} domains, the fabric of {built:,} {w}s ({built - n:,} {w} "
                  f"ports unused; per-{w} figures over the {n:,}), the {tier} domains `collective` and `train` price "
                  f"{n:,} {w}s on")


def describe_fabric(spec: System, gpus: int | None = None, graphml: str | None = None,
                    whole: bool = False) -> NetworkReport:
    """The `network` command as a function: the built fabric, its bill of materials and bisection; a rail-only
    fabric also the switches, capex and power of the same system's Clos (`rail_only` off), for the saving. `whole`:
    `spec` is a generic system (cluster/generic.py), built for the count its fabric was rounded to, as `facility`
    builds it (hB2: within one rail unit, the leaves the count needs, each whole, and their spines)."""
    from infraplan.network.topology import build_topology, endpoint_word
    from infraplan.network.topology_graph import write_graphml

    topo, rounded = whole_domain_topology(spec, gpus)
    if whole and spec.network.rail_optimized and gpus is not None and topo.gpus < spec.total_accelerators:
        topo, w = build_topology(spec, spec.total_accelerators), endpoint_word(spec)
        rounded = (f"{int(gpus):,} {w}s fill part of a rail unit: built on the {topo.tiers[0].switches} leaves "
                   f"they need, each whole, the fabric of {topo.gpus:,} {w}s ({topo.gpus - int(gpus):,} {w} ports "
                   f"unused; NIC links and per-{w} figures over the {int(gpus):,}), as `facility` builds them")
    asked = spec.total_accelerators if gpus is None else int(gpus)
    if topo.rail_only and topo.gpus <= topo.scale_up_domain_gpus:  # a rail joins one NIC of every HB domain
        w = endpoint_word(spec)
        raise InputError(f"--fabric rail-only joins scale-up domains (arXiv:2307.12169); {topo.gpus:,} {w}s of "
                         f"{spec.name} are one {topo.scale_up_domain_gpus}-{w} domain, with no rail to build: "
                         f"--fabric clos, or more {w}s")
    bom = bill_of_materials(topo, populated_gpus=asked)  # NIC links for the servers asked for (as `facility`)
    clos: dict[str, Any] = {}
    if topo.rail_only:
        plain, clos_rounded = whole_domain_topology(spec.model_copy(update={"network": spec.network.model_copy(
            update={"rail_only": False})}), topo.gpus)  # (a partial pod: the Clos of its whole pods, hI55)
        if clos_rounded:
            rounded = "; ".join(filter(None, (rounded, f"the Clos compared (clos_*): {clos_rounded}")))
        plain_bom = bill_of_materials(plain, populated_gpus=asked)
        clos = {"clos_switches_count": plain.switches_total, "clos_capex_usd": plain_bom["capex_usd"],
                "clos_power_w": plain_bom["power_w"], "rails_count": topo.rails,
                "rail_bisection_bytes_per_s": topo.rail_bisection_of(asked)}
    tiers = [{**row, "bandwidth_oversubscription": ratio, **{k: v for k, v in cost.items() if k != "name"}}
             for row, cost, ratio in zip(tier_summary(topo), bom["tiers"], built_ratios(topo), strict=True)]
    if graphml:
        write_graphml(topo, graphml)
    return NetworkReport.model_validate({
        "system": spec.name, "gpus": asked, "fabric_gpus_count": topo.gpus, "kind": topo.kind,
        "rail_optimized": topo.rail_optimized,
        "rail_only": topo.rail_only, **clos, **balancing_fields(spec.network),
        "tiers": tiers, "switches_total": topo.switches_total,
        "links_total": sum(row["links_from_below"] for row in bom["tiers"]),  # the priced (hB67)
        "links_built_count": topo.links_total,
        "transceivers_total": bom["transceivers_total"], "bisection_bytes_per_s": topo.bisection_of(asked),
        "power_w": bom["power_w"], "capex_usd": bom["capex_usd"], "capex_usd_per_gpu": bom["capex_usd"] / asked,
        "power_w_per_gpu": bom["power_w"] / asked, "graphml": graphml, "sources": bom["price_sources"],
        "notes": [*([rounded] if rounded else []), *wiring_notes(topo, endpoint_word(spec)),
                  *unrailed_note(spec, topo), *fabric_speed_notes(topo), *balancing_note(spec.network),
                  *cpu_fabric_note(spec)],
        "error_band_basis": f"{no_band_basis('network', 'fabric')}: no case checks a fabric's switch counts, power "
                            "or capex against a built one (the network cases measure collective busbw: `collective`)",
    })


def cpu_fabric_note(spec: System) -> list[str]:
    """One line where the endpoints are CPUs (hE2 75): the fabric is built as for an accelerator (hU45 kept `network`
    taking them), from the part file's scale-out NIC, which no CPU preset measures (epyc-9654.yaml, xeon-8480.yaml:
    one 200 Gb/s NIC a socket, "assumption")."""
    from infraplan.catalog import load_accelerator  # lazy, as `topology.endpoint_word`

    try:
        part = load_accelerator(spec.accelerator)
    except InputError:
        return []
    if part.kind != "cpu":
        return []
    gbps = spec.node.nic_bandwidth_bytes_per_s * 8 / 1e9
    return [f"{part.display_name} is a CPU: this fabric joins its {spec.node.nics_per_node} x {gbps:g} Gb/s NICs a "
            f"{spec.node.accelerators_per_node}-socket server as an accelerator's would be joined, from the part "
            "file's NIC (an assumption, not a measured one); the CPU presets model recsys and video inference"]
