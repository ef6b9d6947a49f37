"""Totals of a whole training run: wall-clock time with failures and checkpoints, GPU-hours, energy, CO2, cost.

`training_run_totals` takes the dict `infraplan.training.estimate_training(...)` returns and the number of
tokens to train on. Compute time = tokens / tokens_per_s; the reliability model (reliability.py) gives the job's
MTTF, the Daly checkpoint interval and the goodput, so time_to_train_s = compute time / goodput. Energy counts
every allocated accelerator at TDP with its host, network and storage share, times the site's PUE, for the whole
wall-clock time (the model cards' convention of peak power per device, plus the rest of the IT load); cost =
GPU-hours x the $/GPU-hour of owning that cluster (cost.py); CO2 is location-based (carbon.py), with the
amortised embodied share reported beside it.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.facility.carbon import amortised_embodied_co2_t, operational_co2_t
from infraplan.facility.cost import CostOverrides
from infraplan.facility.facility import embodied_per_accelerator_kg, facility_report, site_inputs
from infraplan.facility.power_chain import it_load, layout_from_system
from infraplan.facility.reliability import job_reliability


def training_run_totals(train_result: dict[str, Any], system: str | System, tokens: float,
                        location: str | None = None, cooling: str | None = None, failure_rate: str | None = None,
                        storage: str = "tectonic", restart_s: float | None = None,
                        overrides: CostOverrides | None = None) -> dict[str, Any]:
    """Wall-clock, goodput, MTTF, checkpoint interval, GPU-hours, energy, CO2 and cost of training on `tokens`."""
    if not tokens > 0:
        raise InputError(f"--tokens must be positive, got {tokens:g}")
    sys_spec = load_system(system) if isinstance(system, str) else system
    gpus = int(train_result["config"]["gpus"])
    tokens_per_s = float(train_result["tokens_per_s"])
    if tokens_per_s <= 0:
        raise InputError("the training estimate has no throughput")
    layout = layout_from_system(sys_spec)
    rel = job_reliability(layout.accelerator.name, gpus, float(train_result.get("parameters", 0.0)), failure_rate,
                          storage, None, restart_s)
    compute_s = tokens / tokens_per_s
    wall_s = compute_s / rel["goodput"]
    gpu_hours = gpus * wall_s / 3600.0
    site = site_inputs(layout, cooling, location, None, overrides)
    load = it_load(layout, gpus, site.cooling, site.cooling_name)
    cluster = facility_report(layout, load, site)
    facility_w_per_gpu = load.it_w * site.pue / load.accelerators
    energy_mwh = gpu_hours * facility_w_per_gpu / 1e6
    embodied_kg = embodied_per_accelerator_kg(layout.accelerator.name, site.overrides)
    embodied_t = (float(amortised_embodied_co2_t(gpus, embodied_kg, wall_s / 3600.0, site.lives_years["servers"]))
                  if embodied_kg is not None else None)
    return {
        "time_to_train_s": wall_s,
        "goodput": rel["goodput"],
        "mttf_s": rel["mttf_s"],
        "checkpoint_interval_s": rel["checkpoint_interval_s"],
        "gpu_hours": gpu_hours,
        "energy_mwh": energy_mwh,
        "co2_t": float(operational_co2_t(energy_mwh, site.grid_gco2_per_kwh)),
        "cost_usd": gpu_hours * cluster["usd_per_gpu_hour"],
        "tokens": tokens,
        "compute_time_s": compute_s,
        "checkpoint_bytes": rel["checkpoint_bytes"],
        "checkpoint_write_s": rel["checkpoint_write_s"],
        "restart_s": rel["restart_s"],
        "failure_rate": rel["failure_rate"],
        "expected_interruptions": wall_s / rel["mttf_s"] + rel["planned_interruptions_per_day"] * wall_s / 86400.0,
        "facility_power_w_per_gpu": facility_w_per_gpu,
        "pue": site.pue,
        "location": site.location_name,
        "grid_gco2_per_kwh": site.grid_gco2_per_kwh,
        "usd_per_gpu_hour": cluster["usd_per_gpu_hour"],
        "co2_embodied_t": embodied_t,
    }
