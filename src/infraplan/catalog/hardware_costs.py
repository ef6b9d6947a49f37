"""Price and embodied carbon per accelerator (catalog/facility/hardware_costs.yaml): each part's share of its server's
(or rack's) price and of its embodied kgCO2e, each with its source, and the LLMCarbon rule the embodied figures are
derived by (die area x carbon per area by process + DRAM GB x kg/GB + the A100 anchor's server share: Chien et al.,
HotCarbon'23; LLMCarbon). A part may carry a price, a carbon figure or both; price and carbon are one rule each
(`accelerator_price`, `accelerator_embodied_kg`), used by every command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field, model_validator

from infraplan.catalog.facility_loader import NonNegative, Positive, catalog_file, facility_table
from infraplan.catalog.file_checks import RackUnits
from infraplan.catalog.loader import validated
from infraplan.catalog.network_price_loader import load_link_catalog, load_switch_catalog
from infraplan.catalog.schemas import ASSUMPTION_LABEL, Accelerator, Spec


class DieArea(Spec):
    """`count` dies of `area_mm2` each on a process of hardware_costs.yaml's `embodied_method` table."""

    area_mm2: Positive
    process: str
    count: int = Field(1, gt=0)


class EmbodiedDerivation(Spec):
    """What an embodied figure is made of (LLMCarbon's rule): dies by process, memory, and the server share: the
    A100 anchor's per accelerator (`host_power_w` unset), or that share per watt of host for a part in a CPU host
    (a module or a CPU socket)."""

    dies: list[DieArea] = Field(min_length=1)
    memory_gb: NonNegative
    host_power_w: Positive | None = None


class HardwareCost(Spec):
    """Per part: its share of the server/rack price (None: unpriced) and of the server's embodied carbon (None: no
    figure), each with its source; a part may have either or both."""

    server_usd_per_accelerator: NonNegative | None = None
    embodied_kgco2e_per_accelerator: NonNegative | None = None
    embodied_derivation: EmbodiedDerivation | None = None
    server_rack_units: RackUnits | None = None
    source: str

    @model_validator(mode="after")
    def _has_a_figure(self) -> HardwareCost:
        if self.server_usd_per_accelerator is None and self.embodied_kgco2e_per_accelerator is None:
            raise ValueError("give server_usd_per_accelerator, embodied_kgco2e_per_accelerator or both")
        return self


class EmbodiedAnchor(EmbodiedDerivation):
    """The measured part the server share is taken from: its kgCO2e less its chips and memory."""

    accelerator: str
    kgco2e_per_accelerator: Positive
    host_power_w: Positive  # its server's host watts per accelerator


class EmbodiedMethod(Spec):
    """LLMCarbon's embodied rule: kgCO2e per cm2 of die by process, per GB of DRAM, and the anchor."""

    carbon_per_area_kgco2e_per_cm2: dict[str, Positive]
    dram_kgco2e_per_gb: Positive
    anchor: EmbodiedAnchor
    source: str


def load_hardware_cost(accelerator: str) -> HardwareCost | None:
    """The catalog's entry of an accelerator or CPU by its name: price, embodied carbon or both
    (hardware_costs.yaml), or None when the catalog has neither. Validated once per entry read (kept while the
    table holds that entry object: `plan`'s bound prices every count of a pool, and validated it each time, ~10 %
    of that pricing, hP73)."""
    table = facility_table("hardware_costs")
    if accelerator not in table:
        return None
    entry = table[accelerator]
    kept = _VALIDATED.get(accelerator)
    if kept is not None and kept[0] is entry:
        return kept[1]
    cost = validated(HardwareCost, entry, accelerator)
    _VALIDATED[accelerator] = (entry, cost)
    return cost


_VALIDATED: dict[str, tuple[object, HardwareCost]] = {}  # `load_hardware_cost`'s, by name: (the entry read, its model)


@lru_cache(maxsize=1)
def load_embodied_method() -> EmbodiedMethod:
    """The rule the catalog's embodied figures are derived by (hardware_costs.yaml `embodied_method`)."""
    return validated(EmbodiedMethod, catalog_file("hardware_costs.yaml")["embodied_method"], "embodied_method")


def _entry_of(accelerator: Accelerator, has: Callable[[HardwareCost], bool]) -> tuple[HardwareCost | None, bool]:
    """The catalog entry of an accelerator that has a figure (`has`): its own name's, else for a what-if file
    (`extends`) its preset's; and whether it is the accelerator's own."""
    own = load_hardware_cost(accelerator.name)
    if own is not None and has(own):
        return own, True
    preset = load_hardware_cost(accelerator.catalog_name) if accelerator.extends else None
    return (preset, False) if preset is not None and has(preset) else (None, False)


@dataclass(frozen=True)
class AcceleratorPrice:
    """The one price rule of an accelerator (`accelerator_price`): server $ per accelerator, server height (None
    where unknown), and a one-line note when the price is not the accelerator's own."""

    server_usd_per_accelerator: float
    server_rack_units: int | None
    note: str | None = None


def accelerator_price(accelerator: Accelerator) -> AcceleratorPrice | None:
    """THE price of an accelerator, for every command (facility, campus, plan, compare, fleet-mix, train
    --tokens, serve): a file's own `price_usd` (with its `price_source`); else the catalog's priced entry of its name
    (hardware_costs.yaml); else, for a what-if file (`extends`), its preset's, with a note that the price is
    inherited (a what-if names the hardware it changes, not what that hardware costs); else None (unpriced, also
    for a part whose entry holds embodied carbon only). The server height follows the same entry (a file's
    `price_usd` changes the price only). Embodied carbon is its own rule (`accelerator_embodied_kg`)."""
    if accelerator.price_usd is not None:
        entry = load_hardware_cost(accelerator.name) or (
            load_hardware_cost(accelerator.catalog_name) if accelerator.extends else None)
        return AcceleratorPrice(accelerator.price_usd, entry.server_rack_units if entry else None)
    base, own = _entry_of(accelerator, lambda e: e.server_usd_per_accelerator is not None)
    if base is None or base.server_usd_per_accelerator is None:
        return None
    note = (assumed_price_note(accelerator.name, base) if own else
            f"price of {accelerator.catalog_name} inherited by the what-if {accelerator.name} "
            f"(${base.server_usd_per_accelerator:,.0f} per accelerator, hardware_costs.yaml); set "
            "price_usd and price_source in its file to price it")
    return AcceleratorPrice(base.server_usd_per_accelerator, base.server_rack_units, note)


def assumed_price_note(name: str, entry: HardwareCost) -> str | None:
    """The line of a catalog price its entry labels ASSUMPTION (h800's, built and priced as an H100 server: no
    published H800 server price), said by every answer that prices it (`accelerator_price`'s note: facility, campus,
    train --tokens, serve, a plan pool); None for a sourced or derived price (hC75: facility said none)."""
    if not entry.source.startswith(ASSUMPTION_LABEL) or entry.server_usd_per_accelerator is None:
        return None
    why = entry.source.removeprefix(ASSUMPTION_LABEL).lstrip(": ").split(";")[0]
    return (f"{name}'s server price, ${entry.server_usd_per_accelerator:,.0f} per accelerator, is ASSUMED "
            f"(hardware_costs.yaml: {why}); --server-price, a --costs file or price_usd in a part file replaces it")


NETWORK_PRICE_KINDS = {  # `bill_of_materials`'s catalog_priced -> (the file, what it prices, what replaces it)
    "switches": ("switches.yaml", "switch prices (and typical powers)", "a tier's own switch in the system file "
                 "(switch_model, switch_price_usd, switch_power_w, switch_source) or a --costs file's switch_port_usd"),
    "links": ("links.yaml", "transceiver and cable prices", "a --costs file's switch_port_usd (the network per port)"),
}


def assumed_network_notes(kinds: Iterable[str]) -> list[str]:
    """One line per kind of network price the answer's bill of materials took from a catalog file that labels it
    ASSUMPTION (catalog/network_prices: switches.yaml, links.yaml), not one per part (hC76: facility, campus and plan
    priced the network from them and said nothing); none for a kind whose file is sourced, or that the bill did not
    use (a tier's own switch, no link priced)."""
    sources = {"switches": load_switch_catalog().source, "links": load_link_catalog().source}
    lines, used = [], set(kinds)
    for kind, (file, what, instead) in NETWORK_PRICE_KINDS.items():
        if kind not in used:
            continue
        source = sources[kind]
        at = source.find(ASSUMPTION_LABEL)
        if at < 0:
            continue
        why = source[at:].split(":", 1)[-1].strip().split(". ")[0].rstrip(".")
        lines.append(f"network: the {what} are ASSUMED (catalog/network_prices/{file}: {why}); {instead} "
                     "replaces them")
    return lines


EMBODIED_FIELD_HINT = "the accelerator file (with embodied_source) sets embodied_kgco2e_per_accelerator"
"""How a part without an embodied figure gets one: `facility`'s reason and a `plan` / fleet-mix pool's say it alike
(hN75: the pool's line named the catalog only)."""


def accelerator_embodied_kg(accelerator: Accelerator) -> float | None:
    """THE embodied carbon of an accelerator or CPU, kgCO2e per accelerator with its server share, for every command
    (facility, campus, plan, compare, fleet-mix, train --tokens): a file's own `embodied_kgco2e_per_accelerator`
    (with its `embodied_source`, as `price_usd` for the price; a what-if over a file keeps the file's through
    `extends`); else the catalog's figure of its name (hardware_costs.yaml), else for a what-if file (`extends`) its
    preset's; None without one. It needs no price."""
    if accelerator.embodied_kgco2e_per_accelerator is not None:
        return accelerator.embodied_kgco2e_per_accelerator
    entry, _ = _entry_of(accelerator, lambda e: e.embodied_kgco2e_per_accelerator is not None)
    return None if entry is None else entry.embodied_kgco2e_per_accelerator


def video_device_embodied_kg(device: str) -> float | None:
    """The embodied carbon of a video ASIC preset (MSVP), kgCO2e per device with its host share; None without one."""
    entry = catalog_file("hardware_costs.yaml").get("video_devices", {}).get(device)
    return None if entry is None else validated(HardwareCost, entry, device).embodied_kgco2e_per_accelerator
