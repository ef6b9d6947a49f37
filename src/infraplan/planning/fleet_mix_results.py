"""Typed results of `infraplan fleet-mix` (FleetMixResult: its rows, pools, totals and GPU-only baseline), moved out
of planning/results.py (hK2, session 77: the module at its cap) when the totals took the priced-part sums.

Field names carry their unit as the JSON always has; fleet_mix.py and fleet_pool_money.py say what each number models
and its source.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result


class FleetMixTotals(Result):
    """Totals of a fleet-mix assignment: devices used, whole servers bought, and the figures of what is bought."""

    devices: int = Field(description="devices used by the services (count)")
    devices_bought: int = Field(0, description="devices of the whole servers bought (count; >= devices): what "
                                "`facility --accelerator DEVICE --count N` houses for each pool's N")
    servers: int = Field(0, description="whole servers bought (count; a video ASIC card is its own unit)")
    power_w: float = Field(description="peak IT power of the devices bought, W: the power chain's per device of each "
                           "pool at the devices it buys (device TDP, host share, network, storage share), what its "
                           "electricity is billed on")
    facility_power_w: float = Field(description="peak facility power of the devices bought, IT x PUE, W (x load "
                                    "factor x 8,760 h x the spec's price: energy_usd_per_year)")
    capex_usd: float | None = Field(description="the one cost model's capex of the devices bought (servers at the "
                                    "pool's price_usd_per_device or the catalog's, network and facility shares), USD; "
                                    "null when a pool used has no price (cost_reason)")
    tco_usd_per_year: float | None = Field(description="the one cost model's TCO of the devices bought at the spec's "
                                           "site, USD per year; null when a pool used has no price (cost_reason)")
    energy_usd_per_year: float = Field(description="electricity cost of the devices bought, USD per year (peak IT x "
                                       "load factor x PUE x the spec's price)")
    co2_t_per_year: float | None = Field(None, description="operational emissions of the devices bought, tCO2e per "
                                         "year (location-based, the site's grid intensity)")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "a pool used has no figure)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "a pool used has no figure)")
    capex_priced_usd: float = Field(0.0, description="capex of the priced parts of the devices bought, USD: "
                                    "capex_usd where every pool used is priced; else without the servers of "
                                    "capex_unpriced_parts (their network and facility counted), as `plan`'s (hK2-77)")
    tco_priced_usd_per_year: float = Field(0.0, description="TCO of the priced parts of the devices bought, USD per "
                                           "year: tco_usd_per_year where every pool used is priced; else the "
                                           "servers of capex_unpriced_parts at $0 (energy, network, facility)")
    capex_unpriced_parts: list[str] = Field(default_factory=list, description="what capex_priced_usd and "
                                            "tco_priced_usd_per_year leave out: the servers of each pool used without "
                                            "a price (cost_reason); empty: they are capex_usd and tco_usd_per_year")


class FleetMixPool(Result):
    """A pool's devices used against its limit, the whole servers bought for them and what they cost."""

    pool: str = Field(description="pool name")
    device: str = Field(description="device preset")
    used: int = Field(description="devices assigned (count)")
    available: int | None = Field(description="devices the services may use (count; null: unlimited); the whole "
                                  "servers holding them may round it up, as in `plan`")
    devices_per_server: int = Field(1, description="devices per server, the unit bought (count)")
    servers: int = Field(0, description="whole servers bought: ceil(used / devices_per_server) (count)")
    devices_bought: int = Field(0, description="devices of the servers bought (count)")
    priced_at_devices: int | None = Field(None, description="devices the pool's money is computed for (count): "
                                          "`devices_bought`, else (unused) its reference cluster's; `facility "
                                          "--accelerator DEVICE --count N` prices the same N devices")
    power_w_per_device: float | None = Field(None, description="peak IT power per device at priced_at_devices, W "
                                             "(the fabric's share depends on the count)")
    usd_per_device_hour: float | None = Field(None, description="the one cost model's USD per device-hour at "
                                              "priced_at_devices (null: no price)")
    power_w: float | None = Field(None, description="peak IT power of the devices bought, W")
    facility_power_w: float | None = Field(None, description="peak facility power of the devices bought, W")
    capex_usd: float | None = Field(None, description="capex of the devices bought, USD (null: no price)")
    tco_usd_per_year: float | None = Field(None, description="TCO of the devices bought, USD per year (null: no "
                                           "price)")
    energy_usd_per_year: float | None = Field(None, description="electricity cost of the devices bought, USD per "
                                              "year")
    co2_t_per_year: float | None = Field(None, description="operational emissions of the devices bought, tCO2e "
                                         "per year")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "no catalog figure for the device)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "no catalog figure for the device)")
    capex_priced_usd: float = Field(0.0, description="capex of the devices bought without their servers where the "
                                    "pool has no price (network and facility), else capex_usd, USD (hK2-77)")
    tco_priced_usd_per_year: float = Field(0.0, description="TCO of the devices bought with their servers at $0 "
                                           "where the pool has no price, else tco_usd_per_year, USD per year")


class FleetMixBaseline(Result):
    """The GPU-only programme the mix is compared with."""

    assignment: list[dict[str, Any]] = Field(description="rows as FleetMixResult.assignment")
    totals: FleetMixTotals = Field(description="its totals")
    rule: str = Field(description="which pools it may use")
    pricing: str | None = Field(None, description="how its pools were priced at their own sizes (solver.pricing)")


class FleetMixResult(Result):
    """`infraplan fleet-mix`: devices of each pool per service, minimising power or TCO (MILP)."""

    fleet: str = Field(description="fleet spec name")
    objective: str = Field(description="power | tco")
    assignment: list[dict[str, Any]] = Field(description="rows: service, pool, devices, capacity_per_device and served "
                                             "in the row's `unit` (qps: queries per second; streams: real-time "
                                             "transcodes; requests/s: LLM requests), power_w (W, peak IT as in "
                                             "totals), tco_usd_per_year, usd_per_device_hour, the operating "
                                             "point (LLM: serve-plan's `deployment` line at the pool's share, its "
                                             "layout, p99 TTFT / TPOT in s, J per output token and the `serve_plan` "
                                             "command that gives it)")
    totals: FleetMixTotals = Field(description="totals of the assignment")
    pools: list[FleetMixPool] = Field(description="devices used, servers and devices bought per pool")
    excluded: list[dict[str, str]] = Field(description="service/pool pairs that cannot serve, with the reason")
    solver: dict[str, Any] = Field(description="MILP method, status, objective_value_w (objective power) or "
                                   "objective_value_usd_per_year (tco): the MILP's objective, whole servers at "
                                   "the answer's own prices, = totals' power_w / tco_usd_per_year unless an LLM "
                                   "share's re-search freed a server (then above them); objective_value (the "
                                   "same, in objective_unit), pricing_rounds (MILP solves, count), pricing_converged "
                                   "(whether each pool's count reproduced its price) and `pricing` (that, in words); "
                                   "with --optimality-gap also objective_lower_bound_w / _usd_per_year (a proven "
                                   "lower bound on the optimum, same unit), optimality_gap_fraction ((objective - "
                                   "bound) / objective), optimality_solves (count) and `optimality` (in words)")
    supported_services: list[str] = Field(description="service kinds fleet-mix sizes")
    gpu_only: FleetMixBaseline | None = Field(description="the GPU-only programme (null: none or infeasible)")
    saving_vs_gpu_only: dict[str, float | None] | None = Field(description="GPU-only minus this mix: power_w (W), "
                                                               "tco_usd_per_year, capex_usd (USD) and *_fraction "
                                                               "(of GPU-only)")
    gpu_only_note: str | None = Field(None, description="why there is no GPU-only comparison")
    cost_reason: str | None = Field(None, description="why capex and TCO are null: the pools used without a price")
    price_note: str | None = Field(None, description="pools priced at a what-if's inherited preset price")
    warnings: list[str] = Field(default_factory=list, description="what reading the fleet spec warned of (a pool's "
                                "old price key `capex_usd`), in the web's answer; the CLI prints it on stderr")
    figures_note: str | None = Field(None, description="pools used whose accelerator's figures are SECONDARY or "
                                     "assumed (its catalog `figures_note`), or whose node is the generic one (a "
                                     "TPU's 8 a node); null: none")
    precision_notes: list[str] = Field(default_factory=list, description="per LLM service whose pools were sized at "
                                       "different precisions (weights, activations, KV: an MTIA pool at bf16 beside "
                                       "a GB200 one at fp8), each pool's, why, and the `dtypes` every pool runs "
                                       "(`plan`'s note, planning/llm_precision.mixed_precision_notes, hB59)")
    notes: list[str] = Field(default_factory=list, description="what a video service's devices per stream rest "
                             "on, `video`'s notes for its job on each pool used (the device file's ASSUMPTION "
                             "figures, the CPU encoders' rates, the ladder's rungs: video/notes.py), and a recsys "
                             "service's QPS per device, `recsys`'s figures_note lines but the pool's own (an assumed "
                             "vector rate, a stand-in dtype, SRAM unused), each line once after the `service on "
                             "pool` pairs it holds for")
    error_band: ErrorBand | None = Field(None, description="expected relative error of the IT power of the devices "
                                         "bought (totals.power_w; predicted / measured - 1): the envelope of the "
                                         "pools' bands; null: `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from and what is not "
                                  "validated (each service's capacity per device: its own model's band)")
