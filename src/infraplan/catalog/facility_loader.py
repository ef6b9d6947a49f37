"""Facility catalog: cooling types, locations, build types, hardware costs, network per-port figures,
economics and fleets, read from `catalog/facility/*.yaml` through importlib.resources (failure rates, storage and
checkpoints: catalog/reliability_loader.py, split off at the 400-line cap, hK76).

Each file carries its `source:`; each entry is validated by a frozen pydantic model (unknown keys are
errors). Wherever a preset is accepted (location, fleet), a path to the user's own YAML file works too.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator

from infraplan.catalog.file_checks import Bytes, BytesPerS, Watts, key_renamed
from infraplan.catalog.loader import beside, looks_like_path, pool_files_beside, validated
from infraplan.catalog.schemas import Spec
from infraplan.catalog.user_files import parse_text, read_user_file
from infraplan.catalog.versioned_cache import versioned_cache
from infraplan.errors import InputError
from infraplan.limits import (
    MAX_ACCELERATORS,
    MAX_FACILITY_USD_PER_W,
    MAX_FLOOR_AREA_M2_PER_RACK,
    MAX_LIFETIME_YEARS,
    MAX_PUE,
    MAX_RACK_POWER_W,
    MAX_SITE_POWER_W,
    MAX_WUE_L_PER_KWH,
    MIN_LIFETIME_YEARS,
    MIN_PUE,
    ElectricityUsdPerMwh,
)
from infraplan.units import bare_number, parse_count, parse_power_w, power_text

Climate = Literal["cool", "temperate", "hot"]
CLIMATES: tuple[str, ...] = ("cool", "temperate", "hot")
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


def power_at_most(limit_w: float, what: str) -> Callable[[float], float]:
    """A check that a power is at most `limit_w` (infraplan.limits), in power_text's units (catalog files here, and
    the scenario and fleet specs' powers: planning/scenario_spec.py)."""
    def check(watts: float) -> float:
        if watts > limit_w:
            raise ValueError(f"{power_text(watts)} is above the {power_text(limit_w)} limit of {what} "
                             "(infraplan.limits)")
        return watts
    return check


# a site's or building's power (fleet sites, economics.yaml's building), a rack's (a cooling type's limit)
PowerW = Annotated[float, BeforeValidator(parse_power_w), Field(gt=0),
                   AfterValidator(power_at_most(MAX_SITE_POWER_W, "one site"))]
RackPowerW = Annotated[Watts, AfterValidator(power_at_most(MAX_RACK_POWER_W, "one rack"))]


def stated_power(value: object, info: ValidationInfo) -> object:
    """A site's `power` (a scenario's, a fleet's: a key that names no unit) as text with its unit; a bare number is
    refused in one line, as `campus --power 50000` is (`units.parse_stated_power_w`): `power: 50000` was read as
    50 kW where 50 MW may be meant (hU68). A spec dumped in SI watts (`si_dump`, compare --vary) reads back as
    watts; a boolean keeps the type's line."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or (info.context or {}).get("si_dump"):
        return value
    if not bare_number(value):
        return value
    whole = isinstance(value, float) and value.is_integer() and abs(value) < 1e16  # YAML's 1e9: 1000000000, as typed
    typed = str(int(value)) if whole else str(value).strip()
    watts = parse_power_w(value)  # a number it refuses (-5, 1e999) says why first
    as_watts = f" ({typed}W is {power_text(watts)})" if watts > 0 else ""
    raise ValueError(f"{typed} has no unit; write the power with one, e.g. 10MW or 1GW{as_watts}")


# a site's power in a scenario or fleet file: its unit stated (a bare number refused, `stated_power`)
StatedPowerW = Annotated[PowerW, BeforeValidator(stated_power)]


class CoolingType(Spec):
    """A cooling type: the rack power it can remove, PUE/WUE per climate class, white space per rack."""

    # a cost file's bounds (cluster/cost.CostOverrides; hN76: a PUE of 1e300 gave 31 digits of facility power, exit 0)
    description: str
    max_rack_power_w: RackPowerW
    pue: dict[Climate, Annotated[float, Field(ge=MIN_PUE, le=MAX_PUE)]]
    wue_l_per_kwh: dict[Climate, Annotated[float, Field(ge=0, le=MAX_WUE_L_PER_KWH)]]
    floor_area_m2_per_rack: Annotated[float, Field(gt=0, le=MAX_FLOOR_AREA_M2_PER_RACK)]
    default_build_type: str
    source: str


class Location(Spec):
    """A site: climate class, industrial electricity price, location-based grid carbon intensity."""

    climate: Climate
    electricity_usd_per_mwh: ElectricityUsdPerMwh  # the CLI's --electricity-price bounds (a USD/kWh slip refused)
    grid_gco2_per_kwh: Annotated[float, Field(ge=0, le=10_000)]  # coal is ~1,000 g/kWh
    source: str


class BuildType(Spec):
    """Facility construction: $ per W of critical IT load, depreciation life, build time (informational, hK76)."""

    # a cost file's bounds (CostOverrides); hN76: a 0.001-year life priced an A100 hour at $831, exit 0
    usd_per_w: Annotated[float, Field(gt=0, le=MAX_FACILITY_USD_PER_W)]
    life_years: Annotated[float, Field(ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS)]
    build_months: Positive = Field(description=(
        "construction time, months: informational, read by no answer (capex is paid at once; a campus --phases "
        "year is the year a phase runs, not one its build is timed from); a file states it, as its kind's mark"))
    source: str


class NetworkCost(Spec):
    """The facility's network figures beside the built fabric (its bill of materials: network/costs.py, priced from
    catalog/network_prices/): the port speed a --costs file's `switch_port_usd` is quoted at, a generic fabric's
    switch radix and the storage / front-end / management share of server power (hK77: the per-port price and power
    that no answer read are gone; switches.yaml's `per_port` is the one per-port estimate)."""

    source: str
    reference_port_bandwidth_bytes_per_s: BytesPerS
    default_switch_radix: int = Field(gt=1)
    misc_it_power_fraction: NonNegative


COST_OF_CAPITAL_KEY, OLD_COST_OF_CAPITAL_KEY = "cost_of_capital_per_year", "cost_of_capital"


class OldCostKeyWarning(UserWarning):
    """A cost file or economics.yaml with the old key `cost_of_capital` (read as `cost_of_capital_per_year`)."""


def cost_of_capital_renamed(data: Any) -> Any:
    """A cost file's (`--costs`, cluster/cost.CostOverrides) or economics.yaml's data with `cost_of_capital` (a
    fraction per year, its unit not in its name until 2026-12-05, hC57) read as `cost_of_capital_per_year`, with one
    warning line at every read; both keys: ValueError (one line): `catalog.file_checks.key_renamed`, as a pool's old
    price key."""
    return key_renamed(data, COST_OF_CAPITAL_KEY, OLD_COST_OF_CAPITAL_KEY, "a fraction per year",
                       f"`{OLD_COST_OF_CAPITAL_KEY}` is read as `{COST_OF_CAPITAL_KEY}` (a fraction per year): "
                       "rename the key", OldCostKeyWarning)


class Economics(Spec):
    """Depreciation lives, maintenance, average load, cost of capital and building size."""

    source: str
    server_life_years: Positive
    network_life_years: Positive
    maintenance_fraction_of_capex_per_year: NonNegative
    load_factor: Annotated[float, Field(gt=0, le=1)]
    cost_of_capital_per_year: Annotated[float, Field(ge=0, lt=1)]
    building_it_power_w: PowerW

    _old_key = model_validator(mode="before")(cost_of_capital_renamed)  # cost_of_capital, read with a warning


def _site_count(text: object) -> object:
    """A site's accelerator count as the other files' counts read (`parse_count`: '16M', 2048); None stays None,
    a whole float stays for the int check (1.5 is refused there, not rounded)."""
    return text if text is None else parse_count(text)  # type: ignore[arg-type]


class FleetSite(Spec):
    """One site of a fleet: a catalog system (its own size, fabric and power), or an accelerator (a system stands
    for its part) and either a count or a facility power budget, built as `facility --accelerator A --count N` and
    `campus --power` build them."""

    name: str
    accelerator: str | None = None
    system: str | None = Field(None, description="catalog system or YAML path; brings accelerator and count")
    # the product's limit (a 1e12 site was 1.9 PW); written as fleet-mix's `qps` is, through units.parse_count (hV77:
    # `count: 16M` was refused, "unable to parse string as an integer")
    count: Annotated[int | None, BeforeValidator(_site_count)] = Field(None, gt=0, le=MAX_ACCELERATORS)
    power_w: StatedPowerW | None = Field(None, alias="power")
    cooling: str | None = None
    location: str = "us-average"


class Fleet(Spec):
    name: str
    source: str = ""
    published_h100_equivalents: float | None = Field(None, gt=0, le=1e12, allow_inf_nan=False)  # hN71: -5 read
    sites: list[FleetSite] = Field(min_length=1)  # ("itemised sites reach -160.0 %")

    @model_validator(mode="after")
    def _one_site_a_name(self) -> Fleet:  # hN71: two sites named 'a' were summed as two rows named 'a'
        names = [site.name for site in self.sites]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:  # the words of a plan's `check_unique_names` (planning/scenario_types.py)
            raise ValueError(f"duplicate site names: {', '.join(dup)}")
        return self


_TABLE_FILES = {"cooling": ("cooling.yaml", "types"), "locations": ("locations.yaml", "locations"),
                "build_types": ("build_types.yaml", "build_types"),
                "hardware_costs": ("hardware_costs.yaml", "accelerators")}


@lru_cache(maxsize=32)
def catalog_file(name: str) -> dict[str, Any]:
    entry = resources.files("infraplan.catalog") / "facility" / name
    data = parse_text(entry.read_text(), name)
    if not isinstance(data, dict):
        raise InputError(f"facility catalog file {name} must hold a mapping")
    return data


def facility_table(kind: str) -> dict[str, Any]:
    filename, key = _TABLE_FILES[kind]
    return catalog_file(filename)[key]


def list_facility_presets(kind: str) -> list[str]:
    """Names of the shipped entries of a kind: cooling, locations, build_types, hardware_costs, fleets."""
    if kind == "fleets":
        folder = resources.files("infraplan.catalog") / "facility" / "fleets"
        return sorted(e.name.rsplit(".", 1)[0] for e in folder.iterdir() if e.name.endswith(".yaml"))
    return sorted(facility_table(kind))


def unknown_name(kind: str, ref: str, known: list[str]) -> InputError:
    close = difflib.get_close_matches(ref, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {', '.join(known)}"
    return InputError(f"unknown {kind} {ref!r}{hint}")


def _entry(kind: str, label: str, cls: type, ref: str) -> Any:
    if looks_like_path(ref):
        return validated(cls, read_user_file(ref), ref, f"{label} file")
    table = facility_table(kind)
    if ref not in table:
        raise unknown_name(label, ref, sorted(table))
    return validated(cls, table[ref], ref)


@versioned_cache(maxsize=64)
def load_cooling(ref: str) -> CoolingType:
    """A cooling type by name (air, liquid, immersion) or from a YAML file, whose `default_build_type` is read beside
    it, as a file's `extends` is, and checked on reading (hN76: `default_build_type: cheap.yaml` was looked for in the
    working folder, "no such file: cheap.yaml" run from elsewhere, and `nosuch` was said without the file's name)."""
    cooling: CoolingType = _entry("cooling", "cooling type", CoolingType, ref)
    if not looks_like_path(ref):
        return cooling
    build = beside(cooling.default_build_type, ref)
    try:
        load_build_type(build)
    except InputError as exc:
        raise InputError(f"cooling type file {ref}: default_build_type: {exc}") from None
    return cooling.model_copy(update={"default_build_type": build})


@versioned_cache(maxsize=64)
def load_location(ref: str) -> Location:
    """A location preset (e.g. ohio, louisiana, us-average) or a YAML file with the same fields."""
    return _entry("locations", "location", Location, ref)


@versioned_cache(maxsize=64)
def load_build_type(ref: str) -> BuildType:
    return _entry("build_types", "build type", BuildType, ref)


@lru_cache(maxsize=1)
def load_network_cost() -> NetworkCost:
    return validated(NetworkCost, catalog_file("network.yaml"), "network.yaml")


@lru_cache(maxsize=1)
def load_economics() -> Economics:
    return validated(Economics, catalog_file("economics.yaml"), "economics.yaml")


def load_fleet(ref: str) -> Fleet:
    """A fleet preset (catalog/facility/fleets/NAME.yaml) or a fleet YAML file of the user's."""
    if looks_like_path(ref):
        data = pool_files_beside(read_user_file(ref), ref)  # its sites' files beside it, as a plan's (hN76)
        if isinstance(data, dict):
            data.setdefault("name", Path(ref[-255:]).stem)
        return validated(Fleet, data, ref)
    known = list_facility_presets("fleets")
    if ref not in known:
        raise unknown_name("fleet", ref, known)
    entry = resources.files("infraplan.catalog") / "facility" / "fleets" / f"{ref}.yaml"
    return validated(Fleet, parse_text(entry.read_text(), entry.name), ref)


__all__ = [
    "BuildType", "Bytes", "CLIMATES", "CoolingType", "Economics", "Fleet", "FleetSite", "Location", "NetworkCost",
    "catalog_file", "facility_table", "list_facility_presets", "load_build_type", "load_cooling", "load_economics",
    "load_fleet", "load_location", "load_network_cost", "unknown_name",
]
