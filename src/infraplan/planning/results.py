"""Typed results of the planning commands: `campus` (CampusPlan, FleetSitesResult), `fleet-mix`
(FleetMixResult) and the whole-run totals of `train --tokens` (TrainingRunTotals, TrainingRunResult).

Field names carry their unit as the JSON always has; campus.py, fleet_mix.py and training_run.py say what each
number models and its source.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infraplan.facility.results import FacilityNetwork, FacilityReport
from infraplan.results import Result
from infraplan.training.results import TrainingEstimate


class TrainingRunTotals(Result):
    """Totals of a training run on `tokens`: wall clock with failures, GPU-hours, energy, CO2 and cost."""

    time_to_train_s: float = Field(description="wall clock, compute time / goodput")
    goodput: float
    mttf_s: float
    checkpoint_interval_s: float
    gpu_hours: float
    energy_mwh: float
    co2_t: float = Field(description="location-based operational tCO2e")
    cost_usd: float = Field(description="GPU-hours x usd_per_gpu_hour")
    tokens: float
    compute_time_s: float
    checkpoint_bytes: float
    checkpoint_write_s: float
    restart_s: float
    failure_rate: str
    expected_interruptions: float
    facility_power_w_per_gpu: float
    pue: float
    location: str
    grid_gco2_per_kwh: float
    usd_per_gpu_hour: float = Field(description="the cost model's price of an owned accelerator-hour")
    co2_embodied_t: float | None


class TrainingRunResult(TrainingEstimate, TrainingRunTotals):
    """`train --tokens`: the plan's estimate and the whole run's totals, as one flat object."""


class TrainingCapacity(Result):
    """Llama-3-405B-scale runs per year of a campus (or why there is no estimate)."""

    available: bool
    reason: str | None = None
    model: str | None = None
    tokens_per_run: float | None = None
    runs_per_year: float | None = None
    job_gpus: int | None = None
    concurrent_jobs: int | None = None
    days_per_run_per_job: float | None = None
    tokens_per_s_per_gpu: float | None = None
    mfu: float | None = None
    goodput: float | None = None
    job_mttf_s: float | None = None
    reference_system: str | None = None
    plan: str | None = None


class CampusPhase(Result):
    year: int
    fraction: float
    cumulative_fraction: float
    facility_power_w: float
    accelerators: int
    capex_usd: float
    cumulative_facility_power_w: float


class CampusPlan(Result):
    """`infraplan campus --power`: a power budget filled with one accelerator."""

    power_w: float
    accelerators: int
    racks: int
    buildings: int
    network: FacilityNetwork
    capex_usd: dict[str, float]
    opex_usd_per_year: float
    energy_mwh_per_year: float
    co2_t_per_year: float
    training_capacity: TrainingCapacity
    h100_equivalents: float
    phases: list[CampusPhase]
    facility: FacilityReport
    plot: str | None = None


class FleetSite(Result):
    name: str
    accelerator: str
    accelerators: int
    h100_equivalents: float
    it_power_w: float
    facility_power_w: float
    capex_usd: float
    opex_usd_per_year: float
    energy_mwh_per_year: float
    co2_t_per_year: float
    cooling: str
    location: str


class FleetSitesResult(Result):
    """`infraplan campus --fleet`: the sites of a fleet summed."""

    fleet: str
    source: str
    accelerators: int
    h100_equivalents: float
    it_power_w: float
    facility_power_w: float
    capex_usd: float
    opex_usd_per_year: float
    energy_mwh_per_year: float
    co2_t_per_year: float
    sites: list[FleetSite]
    published_h100_equivalents: float | None = None
    h100_equivalents_vs_published: float | None = None


class FleetMixTotals(Result):
    devices: int
    power_w: float
    facility_power_w: float
    capex_usd: float
    tco_usd_per_year: float
    energy_usd_per_year: float


class FleetMixPool(Result):
    pool: str
    device: str
    used: int
    available: int | None


class FleetMixBaseline(Result):
    assignment: list[dict[str, Any]]
    totals: FleetMixTotals
    rule: str


class FleetMixResult(Result):
    """`infraplan fleet-mix`: devices of each pool per service, minimising power or TCO (MILP)."""

    fleet: str
    objective: str
    assignment: list[dict[str, Any]] = Field(description="rows: service, pool, devices, capacity, power, TCO, ...")
    totals: FleetMixTotals
    pools: list[FleetMixPool]
    excluded: list[dict[str, str]]
    solver: dict[str, Any]
    supported_services: list[str]
    gpu_only: FleetMixBaseline | None
    saving_vs_gpu_only: dict[str, float] | None
    gpu_only_note: str | None = None
