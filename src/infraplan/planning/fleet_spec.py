"""The fleet-mix specification: services with demand and SLOs, accelerator pools with power, cost and
availability. A YAML file validated by frozen pydantic models (unknown keys are errors).

Quantities may be written with units at the edge: `qps: 2M`, `latency_slo: 50ms`, `host_power_w: 40W` (the
scenario file's `Count` and `Seconds` types, read by `infraplan.units`). An LLM service takes what `serve-plan` takes
(`model`, `workload`, `rate` or `tokens_per_day`, `ttft_slo` / `tpot_slo` [the workload's], `stack`, `dtypes`);
planning/fleet_mix_llm.py sizes it. A pool's price is `price_usd_per_device` (`capex_usd` until 2026-12-04, still
read with a warning: planning/pool_price_key.py). A pool's `stack` is the serving stack of its LLM deployments,
before the service's (the scenario file's rule: fields_read.POOL_STACK_RULE). A pool's `system` is read as a
scenario's (`fields_read.check_pool_system`): the pool is the system, built of its `device` (hC51).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from infraplan.catalog.loader import looks_like_path, pool_files_beside, validated
from infraplan.catalog.user_files import read_user_file
from infraplan.limits import MAX_PUE, MIN_PUE, ElectricityUsdPerKwh
from infraplan.planning.fields_read import (
    POOL_STACK_RULE,
    VIDEO_JOB_READERS,
    ServePlanOptionFields,
    check_fields_read,
    check_pool_stack,
    check_pool_system,
    check_stacks_read,
    pool_device_of_system,
)
from infraplan.planning.pool_price_key import PRICE_DESCRIPTION, pool_price_renamed, pools_price_renamed
from infraplan.planning.scenario_spec import InferenceServiceSpec
from infraplan.planning.scenario_spec import PoolSpec as ScenarioPoolSpec
from infraplan.planning.scenario_types import (
    Count,
    HostPowerW,
    LifetimeYears,
    PlanSpec,
    Seconds,
    check_llm_names,
    check_unique_names,
    not_the_other_spec,
)
from infraplan.units import parse_duration_s

parse_seconds = parse_duration_s  # the name the recsys CLI imports


FIELD_READERS: dict[str, tuple[str, ...]] = {
    # planning/pool_capacity.pool_option (recsys, video), planning/fleet_mix_llm.py (llm); `peak_to_average` has
    # its own rule (InferenceServiceSpec)
    "model": ("recsys", "llm"), "qps": ("recsys",), "latency_slo": ("recsys",), **VIDEO_JOB_READERS,
    **dict.fromkeys(("workload", "rate", "tokens_per_day", "ttft_slo", "tpot_slo", "stack", "dtypes", "kv_dtype",
                     "speculative_tokens", "acceptance", "try_speculative"), ("llm",))}
"""The kinds of fleet-mix's services that read each field (a key no kind of the service reads is refused)."""


class ServiceSpec(InferenceServiceSpec, ServePlanOptionFields):
    """One inference service. recsys: `model`, `qps`, `latency_slo`. video: the transcoding job and `daily_hours`.
    llm: `model`, `workload`, one of `rate` / `tokens_per_day`, and serve-plan's SLOs, stack and dtypes."""

    kind: Literal["recsys", "video", "llm"]
    workload: str | None = Field(None, description="llm: chat | code-completion | summarization | a workload YAML")
    rate: Count | None = Field(None, description="llm: peak requests/s")
    tokens_per_day: Count | None = Field(None, description="llm: output tokens per day (average; x peak_to_average "
                                         "/ the workload's mean output tokens = the peak rate)")
    ttft_slo: Seconds | None = Field(None, description="llm: p99 time-to-first-token SLO [the workload's]")
    tpot_slo: Seconds | None = Field(None, description="llm: p99 time-per-output-token SLO [the workload's]")
    stack: str | None = Field(None, description="llm: serving stack profile, as serve-plan --stack, on every pool "
                              "that names none (a pool's `stack` comes first) [the part's vendor default]")
    dtypes: list[str] = Field(["bf16", "fp8"], min_length=1, description="llm: weight dtypes searched, as "
                              "serve-plan --dtypes")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> ServiceSpec:
        if self.kind == "recsys" and (self.model is None or self.qps is None or self.latency_slo is None):
            raise ValueError("a recsys service needs model, qps and latency_slo")
        if self.kind == "video" and self.daily_hours is None:
            raise ValueError("a video service needs daily_hours (hours of video ingested per day)")
        if self.kind == "llm" and (self.model is None or self.workload is None):
            raise ValueError("an llm service needs model and workload")
        if self.kind == "llm" and (self.rate is None) == (self.tokens_per_day is None):
            raise ValueError("an llm service needs exactly one of rate (peak requests/s) or tokens_per_day")
        if self.kind == "llm":
            check_llm_names(self.model, self.workload, self.stack, self.dtypes)
        check_fields_read(self, self.kind, FIELD_READERS)
        return self


class PoolSpec(PlanSpec):
    """A pool of one device type: an accelerator (MTIA, GPU, CPU socket) or a video ASIC (msvp)."""

    name: str
    device: str
    system: str | None = Field(None, description=f"{ScenarioPoolSpec.model_fields['system'].description}; fleet-mix "
                               "sizes, prices and names the pool as the system, built of its device (hC51)")
    available: int | None = Field(None, ge=0, description="devices that can be deployed; omitted = unlimited")
    price_usd_per_device: float | None = Field(None, ge=0, le=1e12, description=PRICE_DESCRIPTION + "; omitted: "
                                               "the catalog's where it prices the device, else unpriced (objective "
                                               "power only)")
    lifetime_years: LifetimeYears = Field(5.5, description="depreciation period, 0.5-50 years (Meta servers: 5.5)")
    host_power_w: HostPowerW | None = Field(None, description="host share per device, at most 1 MW; default: the "
                                            "catalog profile")
    stack: str | None = Field(None, min_length=1, description=POOL_STACK_RULE)

    _old_price = model_validator(mode="before")(pool_price_renamed)  # capex_usd, read with a warning

    @model_validator(mode="before")
    @classmethod
    def _system_in_place(cls, data: Any) -> Any:
        """A pool's `system:`, read as plan reads it (`fields_read.check_pool_system`: the system its devices are
        sized and powered as, built of its `device`): fleet-mix sizes and prices a pool's `device`, a system
        there included, so the system takes the device's place (it refused the key plan takes: hU60, session 46). A
        system with no device is built of its accelerator (`fields_read.pool_device_of_system`, plan's rule)."""
        data = pool_device_of_system(data)
        if _system_named(data):
            if not (looks_like_path(data["device"]) or looks_like_path(data["system"])):  # files: at load (the web
                check_pool_system(str(data.get("name", "")), data["device"], data["system"])  # reads none)
            return {**data, "device": data["system"]}
        return data

    @model_validator(mode="after")
    def _stack_runs_here(self) -> PoolSpec:
        if self.stack is not None:
            check_pool_stack(self.stack, self.device)
        return self


def _system_named(pool: Any) -> bool:
    return isinstance(pool, dict) and isinstance(pool.get("system"), str) and isinstance(pool.get("device"), str)


class FleetSpec(PlanSpec):
    name: str = "fleet"
    notes: str = ""
    objective: Literal["power", "tco"] = "power"
    electricity_usd_per_kwh: ElectricityUsdPerKwh = 0.08
    pue: float = Field(1.1, ge=MIN_PUE, le=MAX_PUE)
    load_factor: float | None = Field(None, gt=0, le=1, description="average IT power / nameplate of every pool "
                                      "(the cost model's utilisation; omitted: economics.yaml's 0.8)")
    services: list[ServiceSpec] = Field(min_length=1)
    pools: list[PoolSpec] = Field(min_length=1)

    _old_prices = model_validator(mode="before")(pools_price_renamed)  # one warning per file (pool_price_key.py)

    @model_validator(mode="before")
    @classmethod
    def _not_a_scenario(cls, data: Any) -> Any:
        return not_the_other_spec(data, "fleet")

    @model_validator(mode="after")
    def _unique_names(self) -> FleetSpec:
        check_unique_names(service=[s.name for s in self.services], pool=[p.name for p in self.pools])
        check_stacks_read(self.pools, self.services)
        return self


def load_fleet_spec(path: str | Path) -> FleetSpec:
    """Read and validate a fleet-mix YAML file; every problem is one InputError line. A pool's `device` file is
    read beside the spec (`catalog.loader.pool_files_beside`, as an accelerator file's `extends:`), not from the
    working directory: `device: asic.yaml` beside the spec ran only from its folder ("no such file" elsewhere, hU50)."""
    data = pool_files_beside(read_user_file(path), str(path))
    for pool in data.get("pools", []) if isinstance(data, dict) and isinstance(data.get("pools"), list) else []:
        if _system_named(pool) and (looks_like_path(pool["device"]) or looks_like_path(pool["system"])):
            check_pool_system(str(pool.get("name", "")), pool["device"], pool["system"])  # as the spec's presets
    return validated(FleetSpec, data, Path(path).name, "fleet spec")
