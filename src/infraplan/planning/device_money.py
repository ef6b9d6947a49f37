"""The money of N devices of one pool at one site, through the one cost model (`cluster/cost.py`): what `plan`
(planning/pool_money.py) and `fleet-mix` (planning/fleet_mix.py) both charge, so that a device costs the same
per device-hour whichever command prices it.

- Price: a pool's `price_usd_per_device` (its server share included) is the cost model's server price per
  accelerator (`CostOverrides.server_usd_per_accelerator`); without one, the catalog's (`accelerator_price`: a
  file's `price_usd`, hardware_costs.yaml's, or a what-if's `extends` preset's, noted). A pool with neither is
  unpriced (`missing_price`): its power and energy are still reported, its money is not.
- Site: the caller's electricity price, PUE, servers' life (a pool's `lifetime_years`) and load factor override
  the catalog's defaults for the cooling, location and build type (`cluster.cost.site_inputs`); the network and
  facility shares, maintenance and the 8,760-hour year are the cost model's.
- Carbon: operational (location-based, the energy at the site's grid intensity) and embodied (the catalog's
  kgCO2e per accelerator, or per video ASIC with its host share, over the servers' life), `facility`'s functions
  (facility/facility.py `embodied_t_per_year`, `devices_embodied_t_per_year`), so a pool's tCO2e is
  `facility --count`'s for the same devices at the same site.
- IT load: an accelerator or system pool is built as `facility --accelerator X --count N` builds it
  (`facility.campus_fabric.built_load`; `Cluster.for_count`, hC72): a system's own tiers built for the count
  where the system holds it (as `network SYSTEM --gpus N`), else its node on the generic fabric (a note past its
  size, `past_system_note`; hP73: at any count but exactly the system's size the generic fabric was priced), whose
  zones are whole copies of the system on its own tiers where it is larger than one generic zone (`campus_fabric.
  zone_layout`, hP74: the price no longer falls past its size); a
  video ASIC (MSVP), not an accelerator of the catalog, is its device power plus its host share (the pool's
  `host_power_w`, else the device YAML's) in whole hosts of its `modules_per_host` (`VIDEO_HOST_LAYOUT` air-cooled),
  racked by the cooling's power limit and the host's height (`host_rack_units`).
- Network, one rule for the two kinds of host-only pool (a CPU socket, a video ASIC; hK57; `device_layout`):
  they serve inference (video transcoding, CPU ranking) from front-end hosts, not from the AI back-end fabric (the
  CPU presets are refused for training, `Cluster.require_accelerator`), so neither gets a scale-out Clos: the host
  NIC is in its host share (xeon-8480's 150 W: "a NIC"; MSVP's Yosemite V3-class share), and storage, front-end
  network and management are the catalog's `misc_it_power_fraction` of server power (network.yaml, U), the share
  every pool's servers carry. Before, a CPU pool got the generic AI Clos at the catalog's 200 Gb/s a socket and
  an MSVP pool nothing: 62,500 1080p streams took 22.3x the platform watts on CPUs through `compare`, 19.7x in
  `video` (hG57); both now 19.7x.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from infraplan.catalog.facility_loader import load_network_cost
from infraplan.catalog.figures import figures_notes
from infraplan.catalog.hardware_costs import (
    EMBODIED_FIELD_HINT,
    accelerator_embodied_kg,
    accelerator_price,
    video_device_embodied_kg,
)
from infraplan.catalog.inference_loader import is_video_device, load_video_device
from infraplan.catalog.loader import preset_files
from infraplan.cluster import Cluster
from infraplan.cluster.cost import (
    HOURS_PER_YEAR,
    AnnualCosts,
    CostOverrides,
    SiteInputs,
    annual_costs,
    cluster_cost,
    energy_mwh_per_year,
    site_inputs,
)
from infraplan.cluster.generic import generic_part_notes
from infraplan.cluster.host_share import assumed_share_note, unstated_switch_note
from infraplan.cluster.power import ServerLayout, servers_by_space
from infraplan.facility.campus_fabric import built_load, outgrown_fabric
from infraplan.facility.carbon import operational_co2_t
from infraplan.facility.facility import devices_embodied_t_per_year, embodied_t_per_year, total_co2_t_per_year
from infraplan.identity_memo import IdentityMemo
from infraplan.network.tier_bandwidth import built_or_none

VIDEO_HOST_LAYOUT = "xeon-8480"  # MSVP cards sit in CPU servers: their site's default cooling is that server's


def missing_price(name: str, device: str, price_usd_per_device: float | None) -> str | None:
    """Why pool `name` of `device` (an accelerator or system preset, or a video ASIC) has no price: no
    `price_usd_per_device` and no catalog server price for its accelerator; None when it has one (`fleet-mix` and
    `plan` alike)."""
    if price_usd_per_device is not None:
        return None
    if is_video_device(device):
        return f"pool {name!r}: {device} has no catalog price; give price_usd_per_device"
    accelerator = Cluster.resolve(device).accelerator
    if accelerator_price(accelerator) is not None:  # the one rule: its file's price_usd, the catalog's, a preset's
        return None
    return (f"pool {name!r}: the catalog has no price for {accelerator.name}; give price_usd_per_device"
            + (", or price_usd and price_source in its accelerator file" if accelerator.name not in
               preset_files("accelerators") else ""))


def pool_price_note(name: str, device: str, price_usd_per_device: float | None) -> str | None:
    """The one-line note of a pool priced at its what-if accelerator's inherited preset price, else None."""
    if price_usd_per_device is not None or is_video_device(device):
        return None
    price = accelerator_price(Cluster.resolve(device).accelerator)
    return f"pool {name!r}: {price.note}" if price is not None and price.note else None


def missing_embodied(name: str, device: str) -> str | None:
    """Why pool `name` of `device` has no embodied carbon (no catalog figure for its accelerator or video ASIC, as
    `facility` says; the carbon rule needs no price); None when it has one."""
    if is_video_device(device):
        if video_device_embodied_kg(device) is not None:
            return None
        return f"pool {name!r}: no embodied carbon for {device} in the catalog (hardware_costs.yaml video_devices)"
    accelerator = Cluster.resolve(device).accelerator
    if accelerator_embodied_kg(accelerator) is not None:
        return None
    return (f"pool {name!r}: no embodied carbon for {accelerator.name} in the catalog (hardware_costs.yaml); "
            f"{EMBODIED_FIELD_HINT}")


def pool_figures_note(name: str, device: str, host_power_w: float | None = None) -> str | None:
    """The pool's accelerator's catalog `figures_note` (its figures SECONDARY or assumed: MTIA) as the one line
    serve, recsys, fleet-mix and plan print for it, and its ASSUMED host share (`cluster.host_share.
    assumed_share_note`: MTIA 400's, an NVL72 tray's, a TPU's generic rule), else None (a video ASIC has none). A
    pool's own `host_power_w` is the host it is priced with (`device_layout`): not ASSUMED by the catalog (hK71: a
    TPU pool stating 300 W read "246 of the 246 W ... is ASSUMED")."""
    if is_video_device(device):
        return None
    cluster = Cluster.resolve(device)
    node = cluster.system.node
    if host_power_w is not None:
        node = node.model_copy(update={"host_power_w": host_power_w * node.accelerators_per_node,
                                       "host_power_source": f"pool {name!r}'s host_power_w"})
    lines = figures_notes(cluster.accelerator)  # its figures' standing (a pool serves any work)
    lines += filter(None, [unstated_switch_note(cluster.system),  # a file's NVL72-like domain: 0 W of switches
                           assumed_share_note(node, cluster.accelerator.device_word)])  # hM70
    return "; ".join(f"pool {name!r}: {line}" for line in lines) or None


_FRONT_END = ("front-end inference hosts: no AI back-end fabric (the host NIC is in the host share), plus the "
              "catalog's storage / front-end network / management share of server power (network.yaml "
              "misc_it_power_fraction), as MSVP and CPU pools alike (planning/device_money.py)")


def pool_notes(name: str, device: str, host_power_w: float | None) -> str | None:
    """The lines a pool of `device` (a video ASIC's device, else its system, else its device: what its money is
    built from) gets in fleet-mix and plan alike: its figures' standing (`pool_figures_note`) and what a part off the
    catalog's systems assumes (`pool_generic_note`: TPU v5p's generic node of 8, hK71), joined; None where neither."""
    return "; ".join(n for n in (pool_figures_note(name, device, host_power_w),
                                 pool_generic_note(name, device, host_power_w)) if n) or None


def pool_generic_note(name: str, device: str, host_power_w: float | None) -> str | None:
    """What a fleet-mix pool of a part that is not a GPU assumes of a GPU server (`cluster.generic.
    generic_part_notes`): the generic node of 8 (its servers, its LLM deployments) where the part has no catalog
    system (its generic-rule host share is `pool_figures_note`'s line, said once there: hK71); a video ASIC's host
    (modules per server and host share: its file's, ASSUMPTIONS for MSVP); else None."""
    if is_video_device(device):
        dev = load_video_device(device)
        share = dev.host_power_w if host_power_w is None else host_power_w
        whose = "the pool's host_power_w" if host_power_w is not None else dev.host or "host_power_w"
        assumed = "ASSUMPTION" in dev.host_source and host_power_w is None
        return (f"pool {name!r}: {dev.modules_per_host} {dev.name} modules per server (`modules_per_host`), "
                f"{share:.4g} W of host per module ({whose})"
                + (": ASSUMPTIONS, the device file's host_source" if assumed else "")
                + f"; pool {name!r}: {_FRONT_END}")
    cluster = Cluster.resolve(device)
    lines = generic_part_notes(cluster.accelerator, host=False, node=True) if cluster.generic else []
    lines += [_FRONT_END] if cluster.accelerator.kind == "cpu" else []
    acc = cluster.accelerator  # its own host figures where ASSUMED (MTIA 3xx/4xx: the answers rest on them)
    figures: list[str] = []
    node = cluster.system.node  # a rack file's own node is priced, not the part's figure, where the two differ (hU60)
    if acc.host_power_w is not None and host_power_w is None and "ASSUMPTION" in acc.host_source \
            and abs(node.host_power_w - acc.host_power_w * node.accelerators_per_node) < 1e-6:
        figures.append(f"host share {acc.host_power_w:.4g} W per device (host_source)")
    if "ASSUMPTION" in acc.host_link_basis:
        source = "the default: its file states none" if acc.host_link_defaulted else "host_link_source"
        figures.append(f"host link {acc.host_link_bytes_per_s / 1e9:.4g} GB/s ({source})")
    if figures:
        are = "are ASSUMPTIONS" if len(figures) > 1 else "is an ASSUMPTION"
        replaces = "; a pool's host_power_w replaces the share" if figures[0].startswith("host share") else ""
        lines.append(f"{acc.name}'s {' and '.join(figures)} {are} of its file{replaces}")
    return "; ".join(f"pool {name!r}: {line}" for line in lines) or None


@lru_cache(maxsize=256)
def cost_overrides(electricity_usd_per_kwh: float | None, pue: float | None, price_usd_per_device: float | None,
                   lifetime_years: float | None, load_factor: float | None = None,
                   unpriced: bool = False) -> CostOverrides:
    """A pool's and its site's inputs as the cost model's overrides (None keeps the catalog's figure); an unpriced
    pool's servers at $0, only to reach its energy (its money is then reported as None). One frozen object per
    inputs (hP73: `plan`'s bound prices every count of a pool, and validated a new one each: ~5 % of that)."""
    return CostOverrides(electricity_usd_per_mwh=None if electricity_usd_per_kwh is None
                         else electricity_usd_per_kwh * 1e3, pue=pue,
                         server_usd_per_accelerator=0.0 if unpriced else price_usd_per_device,
                         server_life_years=lifetime_years, load_factor=load_factor)


def device_layout(device: str, devices: int | None = None, host_power_w: float | None = None) -> ServerLayout:
    """The power layout of `devices` of `device`: a system's own fabric where it holds them (its tiers built for the
    count, `facility`'s `Cluster.for_count`, hP73), else (a part, more than the system holds, or no count) the
    system's node (scale-up domain, host) on the generic fabric built for the devices (`built_load`; past a system's
    size it is `outgrown`: copies of the system where it is larger than a generic zone, hP74); a CPU's node
    with no back-end NICs (module docstring, "Network": no fabric); a video ASIC's CPU host. `host_power_w` (a pool's
    host share per device) replaces the node's, as the power side uses it."""
    if is_video_device(device):
        return Cluster.resolve(VIDEO_HOST_LAYOUT).layout
    base = Cluster.resolve(device).layout
    past = not base.generic and devices is not None and devices > base.system.total_accelerators
    generic = base.generic or devices is None or past
    front_end = base.accelerator.kind == "cpu" and base.nics_per_server > 0
    if host_power_w is None and generic == base.generic and not front_end:
        return base
    key = (host_power_w, generic, front_end, past)  # one layout object per variant: the campus load keeps its zones
    kept = _LAYOUTS.get(base, key)
    if kept is not None:
        return kept
    if generic and not base.generic:  # a system's own fabric that does not build: `network`'s line, not the generic
        built_or_none(base.system)  # Clos's at its leaf radix (hC71: plan refused a radix-3 leaf in other words)
    system, node = base.system, base.system.node
    if host_power_w is not None:
        node = node.model_copy(update={"host_power_w": host_power_w * node.accelerators_per_node})
    if front_end:
        node = node.model_copy(update={"nics_per_node": 0})
    if node is not system.node:
        system = system.model_copy(update={"node": node})
    return _LAYOUTS.put(base, key, ServerLayout(base.accelerator, system, generic=generic,
                                                outgrown=system if past else None))


_LAYOUTS: IdentityMemo[ServerLayout] = IdentityMemo(64)  # `device_layout`'s variants, by the preset's own layout


def device_site(device: str, overrides: CostOverrides, cooling: str | None = None, location: str | None = None,
                build_type: str | None = None) -> SiteInputs:
    """The site of a pool of `device`: the catalog's defaults for its layout (a video ASIC's host air-cooled)
    under the overrides (`cluster.cost.site_inputs`)."""
    cooling = cooling or ("air" if is_video_device(device) else None)
    return site_inputs(device_layout(device), cooling, location, build_type, overrides)


def part_domain_note(name: str, device: str, devices: int) -> str | None:
    """A pool whose whole servers leave its last scale-up domain part-filled (an NVL72 rack of 2 of its 18 trays),
    which draws its switches in full (cluster/power.py `scale_up_switches_w`), where `campus` builds whole domains
    only (hH53: 100 MW of GB200 holds 47,448 in campus, up to 47,472 in a plan); None otherwise. `device`: what the
    pool's layout is built from (`device_layout`); `plan` and `fleet-mix` say it alike (hU67)."""
    if devices <= 0 or is_video_device(device):
        return None
    layout = device_layout(device)
    unit = layout.packing_unit_accelerators
    rest = devices % unit
    if unit <= layout.accelerators_per_server or rest == 0:
        return None
    whole = devices // unit
    filled = (f"fill {whole:,} whole {unit}-device scale-up domain{'' if whole == 1 else 's'} and one part-filled "
              f"with {rest}" if whole else f"part-fill one {unit}-device scale-up domain")
    return (f"pool {name}: its {devices:,} devices {filled}, whose switches are drawn in full; `campus` builds whole "
            "domains only")


def past_system_note(name: str, device: str, devices: int) -> str | None:
    """A pool of a system holding more devices than the system (`device_layout`: its node on the generic Clos past
    the system's size, `facility --accelerator SYSTEM --count N`'s rule, hC72), said as `facility` says it; None for
    a part, a video ASIC or a count the system holds (its own tiers). `device`: what the pool's layout is built from
    (`plan`'s `pool_ref`, `fleet-mix`'s device)."""
    if devices <= 0 or is_video_device(device):
        return None
    system = Cluster.resolve(device).layout
    size = system.system.total_accelerators
    if system.generic or devices <= size:
        return None
    return (f"pool {name}: its {devices:,} devices are more than the {size:,} of {system.system.name}: "
            f"{outgrown_fabric(device_layout(device, devices))}, as `facility --accelerator {device} --count "
            f"{devices}` builds them (its own tiers up to {size:,})")


def reference_devices(device: str) -> int:
    """The device count a per-device price is quoted at: the cluster `facility --system DEVICE`, `serve` and
    `serve-plan` price (`Cluster.resolve`: a system's size, an accelerator's one node); one video ASIC."""
    return 1 if is_video_device(device) else Cluster.resolve(device).total_accelerators


@dataclass(frozen=True)
class DeviceMoney:
    """`devices` of one pool at one site: IT load (racks, fabric), capex by asset class and annual costs."""

    devices: int
    racks: int
    tiers: int
    switches: int
    it_w: float
    devices_per_rack: int
    site: SiteInputs
    capex_usd: dict[str, float]
    annual: AnnualCosts
    energy_mwh_per_year: float
    embodied_co2_t_per_year: float | None = None  # `facility`'s (facility.embodied_t_per_year); None: no figure
    network_catalog_priced: tuple[str, ...] = ()  # the network price catalogs its bill used (`ITLoad`'s, hC76)

    @property
    def facility_w(self) -> float:
        return self.it_w * self.site.pue

    @property
    def co2_t_per_year(self) -> float:
        """Operational, location-based: the energy at the site's grid intensity."""
        return float(operational_co2_t(self.energy_mwh_per_year, self.site.grid_gco2_per_kwh))

    @property
    def total_co2_t_per_year(self) -> float | None:
        """Operational + embodied (None without an embodied figure), as `facility` sums them."""
        return total_co2_t_per_year(self.co2_t_per_year, self.embodied_co2_t_per_year)

    @property
    def usd_per_device_hour(self) -> float:
        return self.annual.tco_usd_per_year / (self.devices * HOURS_PER_YEAR)


def device_money(device: str, devices: int, site: SiteInputs, host_power_w: float | None = None) -> DeviceMoney:
    """Pack, power and cost `devices` of `device` (an accelerator, CPU or system preset or file, or a video ASIC)
    at `site` with the power chain and the one cost model."""
    s = site
    if is_video_device(device):
        dev = load_video_device(device)
        g = dev.modules_per_host  # whole host servers, as built_load packs an accelerator's
        devices = -(-devices // g) * g
        host_w = host_power_w if host_power_w is not None else dev.host_power_w
        servers_w = devices * (dev.power_w + host_w)  # + storage, front-end network, management: the CPUs' rule
        it_w = servers_w * (1.0 + load_network_cost().misc_it_power_fraction)
        capex = {"servers": devices * (s.overrides.server_usd_per_accelerator or 0.0),
                 "facility": it_w * s.facility_usd_per_w}
        energy = energy_mwh_per_year(it_w, s.pue, s.load_factor)
        annual = annual_costs(capex, s.lives_years, energy, s.electricity_usd_per_mwh, s.maintenance_fraction,
                              s.cost_of_capital)
        by_power = max(1, int(s.cooling.max_rack_power_w // max(g * (dev.power_w + host_w), 1.0)))
        by_space = servers_by_space(dev.host_rack_units)  # (hF56: power alone put 50 MSVP hosts in a 42U rack)
        per_rack = g * (by_power if by_space is None else min(by_power, by_space))
        kg = s.overrides.embodied_kgco2e_per_accelerator
        embodied = devices_embodied_t_per_year(video_device_embodied_kg(device) if kg is None else kg, devices, s)
        return DeviceMoney(devices, -(-devices // per_rack), 0, 0, it_w, per_rack, s, capex, annual, energy, embodied)
    layout = device_layout(device, devices, host_power_w)
    load = built_load(layout, devices, s.cooling, s.cooling_name)
    money = cluster_cost(layout, load, s)
    return DeviceMoney(load.accelerators, load.racks, load.network_tiers, load.switches, load.it_w,
                       load.servers_per_rack * layout.accelerators_per_server, s, money.capex_usd, money.annual,
                       money.energy_mwh_per_year, embodied_t_per_year(layout.accelerator, load.accelerators, s),
                       load.network_catalog_priced if s.overrides.switch_port_usd is None else ())
