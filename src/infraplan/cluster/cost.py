"""THE cost model: capex by asset class, annualised over its life, opex, and the price of an accelerator-hour.

- Time: a year is 8,760 hours (365 days, no leap day) for every cost, energy and carbon figure; every constant
  of time used for money or energy lives here (HOURS_PER_YEAR, SECONDS_PER_HOUR, SECONDS_PER_YEAR).
- Site (`SiteInputs`): cooling type and PUE/WUE by climate (cooling.yaml), location with electricity price and
  grid intensity (locations.yaml; EIA 2023 industrial prices), build type's $/W (build_types.yaml), depreciation
  lives, maintenance, load factor and cost of capital (economics.yaml); every figure can be overridden with
  `CostOverrides` (the CLI's `--costs FILE.yaml` and flags).
- Capex: servers = accelerators x the server price per accelerator (`catalog.hardware_costs.accelerator_price`: a
  file's own `price_usd`, hardware_costs.yaml's, or a what-if's `extends` preset's, noted); network =
  the network layer's bill of materials of the built topology (network/costs.py: switch models, transceivers,
  cables; the `network` command's figure), or switch ports x a per-port price when a --costs file sets
  `switch_port_usd`; facility =
  peak IT watts x the build type's $/W of critical load (Cushman & Wakefield 2025; Hyperion JV).
- Annualised capex: straight-line by default (Meta depreciates servers and network over 5.5 years, facilities
  over 14 in Epoch AI's model); with `cost_of_capital_per_year` > 0 (a --costs file's key; `cost_of_capital` until
  2026-12-05, still read with a warning) the annuity factor r / (1 - (1 + r)^-n) instead.
- Opex: electricity (peak IT x load factor x PUE x 8,760 h x $/MWh) + maintenance (a fraction of capex,
  0.8 %/yr derived from Epoch AI's 1-GW GB200 site: $0.3 B non-energy opex on $38 B capex).
- $ per accelerator-hour = (annualised capex + opex) / (accelerators x 8,760 h): the cost of an owned
  accelerator-hour of a cluster (`usd_per_accelerator_hour`), the one price every command uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from infraplan.catalog.facility_loader import (
    CoolingType,
    Location,
    cost_of_capital_renamed,
    list_facility_presets,
    load_build_type,
    load_cooling,
    load_economics,
    load_location,
)
from infraplan.catalog.file_checks import problem_text
from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.loader import list_presets, looks_like_path
from infraplan.catalog.loader_kinds import another_kinds_file
from infraplan.catalog.schemas import Accelerator, Spec
from infraplan.catalog.user_files import read_user_file
from infraplan.cluster.cluster import Cluster
from infraplan.cluster.power import ITLoad, ServerLayout, it_load, rack_share_power_w
from infraplan.errors import InputError
from infraplan.limits import (
    MAX_DEVICE_EMBODIED_KGCO2E,
    MAX_FACILITY_USD_PER_W,
    MAX_LIFETIME_YEARS,
    MAX_MAINTENANCE_FRACTION_PER_YEAR,
    MAX_PUE,
    MAX_WUE_L_PER_KWH,
    MIN_LIFETIME_YEARS,
    MIN_PUE,
    Price,
    priced_in,
    usd_per_mwh_unit_slip,
)

HOURS_PER_YEAR = 8760.0  # 365 x 24: the convention for every annual cost, energy and carbon figure
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * SECONDS_PER_HOUR
DEFAULT_LOCATION = "us-average"
MaintenanceFraction = Annotated[float, Field(ge=0, le=MAX_MAINTENANCE_FRACTION_PER_YEAR)]  # of capex, per year
LifeYears = Annotated[float, Field(ge=MIN_LIFETIME_YEARS, le=MAX_LIFETIME_YEARS)]
T = TypeVar("T")


class CostOverrides(Spec):
    """User overrides for any catalog price, intensity, life or factor; None keeps the catalog value."""

    # the CLI's bounds (cli/options.py USD_PER_MWH, PUE, PRICE): a file may not say what a flag may not; a grid
    # intensity and the lives take a location file's and a pool's bounds (catalog/facility_loader.Location,
    # infraplan.limits): 1e300 g/kWh overflowed to a CO2 of null, a 1e-300-year life to $inf/GPU-h; WUE, the
    # facility's $/W, maintenance and embodied carbon their physical bounds there (1e300: water "inf", $inf/GPU-h)
    electricity_usd_per_mwh: Annotated[float, BeforeValidator(priced_in("MWh")), Field(ge=0, le=1e6)] | None = None
    grid_gco2_per_kwh: Annotated[float, Field(ge=0, le=10_000)] | None = None
    pue: Annotated[float, Field(ge=MIN_PUE, le=MAX_PUE)] | None = None
    wue_l_per_kwh: Annotated[float, Field(ge=0, le=MAX_WUE_L_PER_KWH)] | None = None
    server_usd_per_accelerator: Price | None = None
    switch_port_usd: Price | None = None
    facility_usd_per_w: Annotated[float, Field(ge=0, le=MAX_FACILITY_USD_PER_W)] | None = None
    server_life_years: LifeYears | None = None
    network_life_years: LifeYears | None = None
    facility_life_years: LifeYears | None = None
    maintenance_fraction_of_capex_per_year: MaintenanceFraction | None = None
    load_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    cost_of_capital_per_year: Annotated[float, Field(ge=0, lt=1)] | None = None
    embodied_kgco2e_per_accelerator: Annotated[float, Field(ge=0, le=MAX_DEVICE_EMBODIED_KGCO2E)] | None = None

    _old_key = model_validator(mode="before")(cost_of_capital_renamed)  # cost_of_capital, read with a warning

    def merged(self, **flags: Any) -> CostOverrides:
        """These overrides with non-None `flags` on top (CLI flags win over the file)."""
        data = self.model_dump()
        data.update({k: v for k, v in flags.items() if v is not None})
        try:
            return CostOverrides(**data)
        except ValidationError as exc:  # the Python API gets the CLI's one line, not a pydantic traceback
            where, msg = _first_error(exc)
            raise InputError(f"invalid override {where}: {msg}" if where else f"invalid override: {msg}") from None


def _first_error(exc: ValidationError) -> tuple[str, str]:
    """(field, message) of the first error; the field '' for a file-level one (the both-keys check, hC57), the
    message without pydantic's "Value error, " prefix (hH57)."""
    err = exc.errors()[0]
    return ".".join(map(str, err["loc"])), str(err["msg"]).removeprefix("Value error, ")


def load_cost_overrides(path: str | None) -> CostOverrides:
    """Read a YAML file of overrides (any subset of CostOverrides' fields, plus an optional `source`)."""
    if path is None:
        return CostOverrides()
    data = read_user_file(path)
    if not isinstance(data, dict):
        raise InputError(f"cost file {path!r} must hold a mapping")
    data.pop("source", None)
    try:
        over = CostOverrides(**data)
    except ValidationError as exc:  # a plan scenario or a system file: what it is and who reads it (hU69)
        # every problem, an unknown key with its did-you-mean (hW76: `electricity_usd_per_kwh` was "Extra inputs
        # are not permitted" alone, the next unknown key unsaid), as a catalog file's (`file_checks.problem_text`)
        raise InputError(another_kinds_file(data, path, "cost file")
                         or f"invalid cost file {path!r}: {problem_text(CostOverrides, exc.errors())}") from None
    # the flag's rule for its price (`--electricity-price`): 0.07 under this key is USD/kWh (hR49); not on the model,
    # which plan / fleet-mix build from a USD/kWh policy (`planning.device_money.cost_overrides`)
    slip = None if over.electricity_usd_per_mwh is None else usd_per_mwh_unit_slip(over.electricity_usd_per_mwh)
    if slip is not None:
        raise InputError(f"invalid cost file {path!r}: electricity_usd_per_mwh: {slip}")
    return over


@dataclass(frozen=True)
class SiteInputs:
    """Everything about a site besides the hardware: cooling, location, prices, lives, factors."""

    cooling_name: str
    cooling: CoolingType
    location_name: str
    location: Location
    build_type: str
    pue: float
    wue_l_per_kwh: float
    electricity_usd_per_mwh: float
    grid_gco2_per_kwh: float
    facility_usd_per_w: float
    lives_years: dict[str, float]
    maintenance_fraction: float
    load_factor: float
    cost_of_capital: float
    overrides: CostOverrides


def default_cooling(layout: ServerLayout, rack_power_w: float | None = None) -> str:
    """Air when one packing unit (server or scale-up rack) fits an air-cooled rack, else direct liquid; liquid for
    a part its file says is built for liquid cooling only (`Accelerator.liquid_cooled`: MI355X, hE59), whatever
    its server draws (an 8-MI355X server, 14.7 kW, fits a 30 kW air rack and was housed in air). A rack density
    asked (`facility --rack-power`) is housed by the first of air, liquid and immersion that allows it (hN72: 40 kW
    was refused as "above the 30 kW air cooling allows", a cooling the user had not asked for)."""
    if rack_power_w is not None and rack_power_w > load_cooling("air").max_rack_power_w:
        kinds = ("liquid", "immersion")
        return next((kind for kind in kinds if rack_power_w <= load_cooling(kind).max_rack_power_w), kinds[-1])
    if layout.accelerator.liquid_cooled:
        return "liquid"
    unit_w = rack_share_power_w(layout)  # with a spanning domain's scale-up switches, a rack's share of it
    return "air" if unit_w <= load_cooling("air").max_rack_power_w else "liquid"


def _pick(value: T | None, default: T) -> T:
    return default if value is None else value


def _climate_figure(cool: CoolingType, key: Literal["pue", "wue_l_per_kwh"], climate: str, cooling: str,
                    location: str) -> float:
    """The cooling type's `key` figure for a site of `climate`; one line where its file states none (hN76: a cooling
    file of `pue: {temperate: 1.12}` at a cool location raised KeyError 'cool', even with --pue given)."""
    figures = getattr(cool, key)
    if climate not in figures:
        where = "--pue, a --costs file's or a plan policy's pue" if key == "pue" else f"a --costs file's {key}"
        raise InputError(f"cooling type {cooling} states no {key} for a {climate} climate (location {location} is "
                         f"{climate}; it states {', '.join(figures)}): add `{climate}:` to its {key}, or override it "
                         f"({where})")
    return float(figures[climate])


def site_inputs(layout: ServerLayout, cooling: str | None = None, location: str | None = None,
                build_type: str | None = None, overrides: CostOverrides | None = None) -> SiteInputs:
    """The site's figures: catalog defaults for the cooling, location and build type, under the overrides."""
    over = overrides or CostOverrides()
    cooling_name = cooling or default_cooling(layout)
    if cooling_name not in list_facility_presets("cooling") and not looks_like_path(cooling_name):
        known = ", ".join(list_facility_presets("cooling"))
        raise InputError(f"--cooling must be one of {known}, got {cooling_name!r}")
    acc = layout.accelerator
    if cooling_name == "air" and acc.liquid_cooled:
        raise InputError(f"cooling air: {acc.name} is built for liquid cooling only ({acc.liquid_cooled_source}); "
                         "give liquid or immersion")  # `--cooling`, a plan site's `cooling` or the web's alike
    cool = load_cooling(cooling_name)
    location_name = location or DEFAULT_LOCATION
    loc = load_location(location_name)
    build_name = build_type or cool.default_build_type
    build = load_build_type(build_name)
    econ = load_economics()
    return SiteInputs(
        cooling_name=cooling_name, cooling=cool, location_name=location_name, location=loc, build_type=build_name,
        pue=over.pue if over.pue is not None else _climate_figure(cool, "pue", loc.climate, cooling_name,
                                                                  location_name),
        wue_l_per_kwh=(over.wue_l_per_kwh if over.wue_l_per_kwh is not None
                       else _climate_figure(cool, "wue_l_per_kwh", loc.climate, cooling_name, location_name)),
        electricity_usd_per_mwh=_pick(over.electricity_usd_per_mwh, loc.electricity_usd_per_mwh),
        grid_gco2_per_kwh=_pick(over.grid_gco2_per_kwh, loc.grid_gco2_per_kwh),
        facility_usd_per_w=_pick(over.facility_usd_per_w, build.usd_per_w),
        lives_years={"servers": _pick(over.server_life_years, econ.server_life_years),
                     "network": _pick(over.network_life_years, econ.network_life_years),
                     "facility": _pick(over.facility_life_years, build.life_years)},
        maintenance_fraction=_pick(over.maintenance_fraction_of_capex_per_year,
                                   econ.maintenance_fraction_of_capex_per_year),
        load_factor=_pick(over.load_factor, econ.load_factor),
        cost_of_capital=_pick(over.cost_of_capital_per_year, econ.cost_of_capital_per_year),
        overrides=over,
    )


def missing_server_price(accelerator: Accelerator, overrides: CostOverrides) -> str | None:
    """Why `accelerator` has no server price (neither an override nor its price by `accelerator_price`, the one
    rule: its file's price_usd, the catalog's, or its `extends` preset's), or None if it has one."""
    if overrides.server_usd_per_accelerator is not None or accelerator_price(accelerator) is not None:
        return None
    return (f"no server price for {accelerator.name} in the catalog (hardware_costs.yaml); pass --server-price USD "
            "(per accelerator) or a --costs file" + (", or set price_usd and price_source in its file"
                                                      if accelerator.name not in list_presets("accelerators") else ""))


def price_note(accelerator: Accelerator, overrides: CostOverrides) -> str | None:
    """The one-line note of an inherited price (`accelerator_price`), or None (own price, an override, no price)."""
    price = accelerator_price(accelerator) if overrides.server_usd_per_accelerator is None else None
    return price.note if price is not None else None


def server_price_per_accelerator(accelerator: Accelerator, overrides: CostOverrides) -> float:
    if overrides.server_usd_per_accelerator is not None:
        return overrides.server_usd_per_accelerator
    price = accelerator_price(accelerator)
    if price is None:
        raise InputError(str(missing_server_price(accelerator, overrides)))
    return price.server_usd_per_accelerator


def capex_usd(load: ITLoad, accelerator: Accelerator, facility_usd_per_w: float, overrides: CostOverrides
              ) -> dict[str, float]:
    """Capital cost by asset class: servers, scale-out network, facility (shell, power and cooling plant)."""
    # the network layer's bill of materials (switches, optics, cables), unless a --costs file prices per port
    port_usd = overrides.switch_port_usd
    network = load.network_capex_usd if port_usd is None else load.switch_ports * port_usd * load.port_scale
    return {
        "servers": load.accelerators * server_price_per_accelerator(accelerator, overrides),
        "network": network,
        "facility": load.it_w * facility_usd_per_w,
    }


def annuity_factor(rate: float, years: float) -> float:
    """Yearly charge per $ of capex: 1/years straight-line at rate 0, else r / (1 - (1 + r)^-years)."""
    if years <= 0:
        raise InputError(f"depreciation life must be positive, got {years:g} years")
    if rate == 0:
        return 1.0 / years
    return float(rate / (1.0 - (1.0 + rate) ** -years))


def energy_mwh_per_year(power_w: float, pue: float = 1.0, load_factor: float = 1.0) -> float:
    """Yearly energy of a `power_w` load at a load factor, with the facility overhead (PUE), in MWh."""
    return power_w * load_factor * pue * HOURS_PER_YEAR / 1e6


@dataclass(frozen=True)
class AnnualCosts:
    """Annualised capex per asset class, opex (electricity, maintenance) and their total (TCO per year)."""

    annualized_capex_usd_per_year: dict[str, float]
    opex_breakdown_usd_per_year: dict[str, float]

    @property
    def opex_usd_per_year(self) -> float:
        return sum(self.opex_breakdown_usd_per_year.values())

    @property
    def tco_usd_per_year(self) -> float:
        return sum(self.annualized_capex_usd_per_year.values()) + self.opex_usd_per_year


def annual_costs(capex: dict[str, float], lives_years: dict[str, float], energy_mwh: float,
                 electricity_usd_per_mwh: float, maintenance_fraction: float, rate: float) -> AnnualCosts:
    """Annualised capex per asset class, opex (electricity, maintenance) and their total (TCO per year)."""
    return AnnualCosts({k: capex[k] * annuity_factor(rate, lives_years[k]) for k in capex},
                       {"electricity": energy_mwh * electricity_usd_per_mwh,
                        "maintenance": maintenance_fraction * sum(capex.values())})


def usd_per_hour_of(tco_usd_per_year: float, units: float) -> float:
    """A yearly cost spread over `units` owned all year, per hour."""
    return tco_usd_per_year / (units * HOURS_PER_YEAR)


@dataclass(frozen=True)
class ClusterCost:
    """The money of a cluster's IT load at a site: energy, capex, annual costs, $ per accelerator-hour."""

    load: ITLoad
    site: SiteInputs
    it_energy_mwh_per_year: float
    energy_mwh_per_year: float
    capex_usd: dict[str, float]
    annual: AnnualCosts

    @property
    def usd_per_accelerator_hour(self) -> float:
        return usd_per_hour_of(self.annual.tco_usd_per_year, self.load.accelerators)


def cluster_cost(layout: ServerLayout, load: ITLoad, site: SiteInputs) -> ClusterCost:
    """Energy, capex and annual costs of an IT load at a site (what `facility` reports)."""
    it_energy = energy_mwh_per_year(load.it_w, 1.0, site.load_factor)
    energy = it_energy * site.pue
    capex = capex_usd(load, layout.accelerator, site.facility_usd_per_w, site.overrides)
    annual = annual_costs(capex, site.lives_years, energy, site.electricity_usd_per_mwh, site.maintenance_fraction,
                          site.cost_of_capital)
    return ClusterCost(load, site, it_energy, energy, capex, annual)


def cluster_site_cost(cluster: Cluster, site: SiteInputs | None = None, rack_power_w: float | None = None
                      ) -> ClusterCost:
    """The cost of the whole cluster at a site (default: the catalog's default site for its layout)."""
    site = site or site_inputs(cluster.layout)
    load = it_load(cluster.layout, cluster.total_accelerators, site.cooling, site.cooling_name, rack_power_w)
    return cluster_cost(cluster.layout, load, site)


def job_accelerators(cluster: Cluster, gpus: int) -> int:
    """The accelerators whose facility a job of `gpus` is charged a share of (hH53): a catalog system's all (the job
    runs on part of a system built whole); on a generic cluster (an accelerator preset, `Cluster.for_gpus`) the job's
    own, which `it_load` houses in whole servers (trays) and racks, the rack's shared parts (an NVL72's switch trays)
    counted for a part-filled rack, as `facility --accelerator A --count N` does within one zone. The generic fabric
    rounds up to whole leaf groups (`generic.clos_tiers`: 100 GB200 on a 108-GB200 Clos) to price the step's
    collectives; the two trays past the job's 25 are not built for it, so they are not in its power or cost."""
    return min(gpus, cluster.total_accelerators) if cluster.generic else cluster.total_accelerators


def job_site_cost(cluster: Cluster, gpus: int, site: SiteInputs | None = None) -> ClusterCost:
    """`cluster_site_cost` of the facility a job of `gpus` is charged (`job_accelerators`): one non-blocking Clos."""
    site = site or site_inputs(cluster.layout)
    load = it_load(cluster.layout, job_accelerators(cluster, gpus), site.cooling, site.cooling_name)
    return cluster_cost(cluster.layout, load, site)


def usd_per_accelerator_hour(cluster: Cluster | str, site: SiteInputs | None = None) -> float:
    """THE price of an owned accelerator-hour of a cluster: (annualised capex of servers, network share and
    facility share + opex: power x PUE x electricity and maintenance) / (accelerators x HOURS_PER_YEAR)."""
    return cluster_site_cost(Cluster.resolve(cluster), site).usd_per_accelerator_hour


def usd_per_accelerator_hour_if_priced(cluster: Cluster | str, site: SiteInputs | None = None,
                                       gpus: int | None = None) -> float | None:
    """`usd_per_accelerator_hour`, or None when the catalog has no server price for the accelerator (the caller
    then reports no cost rather than an invented one; `--usd-per-hour` or a --costs file supplies it). `gpus`: a
    job's accelerators, priced as `job_site_cost` charges them (`serve` / `serve-plan`, as `train --tokens`, hI53:
    100 GB200 paid the 108-GB200 fabric's round-up, $/GPU-h of `facility --accelerator gb200 --count 108`)."""
    resolved = Cluster.resolve(cluster)
    if accelerator_price(resolved.accelerator) is None:
        return None
    if gpus is not None:
        return job_site_cost(resolved, gpus, site).usd_per_accelerator_hour
    return usd_per_accelerator_hour(resolved, site)


def usd_per_million_tokens(usd_per_accelerator_hour: float, tokens_per_s_per_accelerator: float) -> float:
    """Serving or training cost per million tokens at a given per-accelerator throughput."""
    if tokens_per_s_per_accelerator <= 0:
        raise InputError("throughput must be positive to price tokens")
    return usd_per_accelerator_hour / (tokens_per_s_per_accelerator * SECONDS_PER_HOUR) * 1e6
