"""The scenario file of `infraplan plan`: demand, supply menu and policy, for one year or several phases.

A YAML file validated by frozen pydantic models that reject unknown keys; quantities are read with their units
at the edge (`tokens: 14.8T`, `power: 1GW`, `deadline: 60d`, `ttft_slo: 2s`, `qps: 2M`); a bare number is read in
the SI unit (`deadline: 60` is 60 s), the unit a validated spec dumps its numbers in (`si_dump`; a time and a site's
power with their unit, "60.0s", "1e7W": hU69), and messages name the unit (a cap of "10 W"). A site's `power`, whose
key names no unit, refuses a bare number (`power: 50000` read as 50 kW; `facility_loader.stated_power`, hU68); a bare
SLO or repair time in the range the CLI takes for a slip (`ttft_slo: 2000`, `tpot_slo: 50`, `repair_time: 3`) is
refused as the CLI refuses it.

- `phases`: named dates (`{name: 2025, year: 2025}`, `{name: 2025H2, year: 2025-07}`), strictly increasing; a date
  is a year, a month, a day, a quarter or a half, a float year inside (planning/plan_dates.py).
- `services` (demand): `training` (model, tokens, a `deadline` and/or a GPU budget `gpus`; its `stack` and
  `optimizer`, adam | muon as train --optimizer, which also sizes its checkpoints; `no_spare_policy`, shrink | wait
  as train --no-spare-policy), `llm` serving (model,
  workload preset, peak requests/s `rate` or `tokens_per_day` with a diurnal `peak_to_average`, TTFT/TPOT SLOs,
  serve-plan's `stack` and `dtypes`),
  `recsys` (model, `qps`, latency SLO), `image` generation (peak images/s `rate` or `images_per_day` with a
  diurnal `peak_to_average`; a diffusion workload, default `image-generation`, and its model; a p99 image
  `latency_slo`, default the workload's) and `video` (hours ingested per day, ladder). `phases` lists where a
  service runs (default: all), `growth` multiplies its serving demand per phase. A field the service's kind does
  not read (a recsys service's `stack`, a training run's `growth`) is refused, naming the kinds that read it
  (`fields_read.SERVICE_FIELD_READERS`; fleet-mix's `fleet_spec.FIELD_READERS`).
- `pools` (supply menu): a device (accelerator preset, a catalog system, or the `msvp` video ASIC) at one site,
  with availability, a price (`price_usd_per_device`, was `capex_usd`: planning/pool_price_key.py; default the
  catalog's server price per accelerator), a delivery year (`from_year`), the serving stack its LLM deployments
  run (`stack`: before the service's `stack`, which comes before the part's vendor default;
  `fields_read.check_pool_stack`) and its spare trays per scale-up domain (`spare_trays_per_domain`, a count or
  auto, before the policy's: planning/spares.py).
- `sites`: facility power cap, location (grid carbon and electricity price), cooling, and the year it comes
  online (`online_year`).
- `policy`: objective (capex, tco, power or carbon), retirement at a pool's `lifetime_years` (`retire_at_lifetime`,
  with a pool's `installed_year` and `refresh_with`: planning/retirement.py), serving headroom, N+k racks per
  pool, spare nodes from the reliability model (`spare_probability`, `repair_time`, `failure_rate`:
  planning/spares.py), which service kinds may share a pool (`pools[].serves`).

The value types (counts, SLOs, deadlines, lifetimes), the spec base and the name checks (a site's cooling, location
and build type among them, naming the site: hT59) are planning/scenario_types.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infraplan.catalog.loader import check_preset, looks_like_path, pool_files_beside, validated
from infraplan.catalog.user_files import read_user_file
from infraplan.limits import (
    MAX_ACCELERATORS,
    MAX_PUE,
    MAX_SEQUENCES,
    MAX_TOKENS,
    MAX_TRAINING_TOKENS,
    MIN_PUE,
    ElectricityUsdPerKwh,
)
from infraplan.planning.dsa_training_stages import check_service_stages
from infraplan.planning.fields_read import (
    POOL_STACK_RULE,
    SERVICE_FIELD_READERS,
    ServePlanOptionFields,
    check_fields_read,
    check_pool_stack,
    check_stacks_read,
    pool_device_of_system,
)
from infraplan.planning.plan_dates import PhaseName, Year, year_text
from infraplan.planning.pool_price_key import PRICE_DESCRIPTION, pool_price_renamed, pools_price_renamed
from infraplan.planning.scenario_types import (
    Count,
    DeadlineSeconds,
    HostPowerW,
    LifetimeYears,
    PlanSpec,
    RepairSeconds,
    Seconds,
    SitePowerW,
    TokenCount,
    check_llm_names,
    check_site_names,
    check_unique_names,
    not_the_other_spec,
)
from infraplan.planning.spares import DEFAULT_REPAIR_S, SpareTrays
from infraplan.units import parse_duration_s, repair_time_slip, slo_unit_slip

SERVICE_KINDS = ("training", "llm", "recsys", "image", "video")
Kind = Literal["training", "llm", "recsys", "image", "video"]


class PhaseSpec(PlanSpec):
    name: PhaseName
    year: Year


DEFAULT_LLM_DTYPES = ["bf16", "fp8"]  # serve-plan's default --dtypes


class InferenceServiceSpec(PlanSpec):
    """A recommendation or video service, as both `infraplan plan` (ServiceSpec below) and `infraplan fleet-mix`
    (planning/fleet_spec.py) read it. recsys: `model`, `qps`, `latency_slo`; video: the transcoding job (`input`,
    `ladder`, `codec`, `quality`) and `daily_hours`. Each subclass names its service kinds and what each needs."""

    name: str
    kind: str
    model: str | None = None
    qps: Count | None = None
    latency_slo: Seconds | None = None
    daily_hours: Count | None = None
    input: str = "1080p30"
    ladder: int | None = Field(None, gt=0, description="output rungs; default: 5, or every rung a lower input has")
    codec: str = "h264"
    quality: Literal["standard", "high"] = "high"
    peak_to_average: float = Field(1.0, ge=1.0, description="diurnal peak / average demand")

    @field_validator("latency_slo", "ttft_slo", "tpot_slo", mode="before", check_fields=False)
    @classmethod
    def _latency_slo_slip(cls, value: object, info: ValidationInfo) -> object:
        """A bare `latency_slo: 20` (20 s) is refused as ms written for seconds, as the CLI's (`units.slo_unit_slip`:
        recsys above 0.5 s a batch, image above 30 s; hU61); an LLM service's `ttft_slo: 2000` / `tpot_slo: 50` as
        serve-plan's --ttft-slo / --tpot-slo (above 30 s / 1 s; hU68: planned at 2,000 s and 50 s a token); not a
        spec dumped in SI seconds (`compare.varied`). The subclasses declare ttft_slo and tpot_slo."""
        if isinstance(value, bool) or not isinstance(value, str | int | float) or (info.context or {}).get("si_dump"):
            return value  # a boolean keeps the type's line; a dumped spec is in seconds
        slo = {"ttft_slo": "ttft", "tpot_slo": "tpot"}.get(info.field_name or "") or (
            "recsys" if info.data.get("kind") == "recsys" else "ttft")
        if slip := slo_unit_slip(value, parse_duration_s(value), slo):
            raise ValueError(slip)
        return value

    @model_validator(mode="after")
    def _recsys_model_known(self) -> InferenceServiceSpec:
        """A recsys service's unknown model name: the line `recsys --model` gives, when the spec is validated (hU68:
        fleet-mix said "infeasible: no pool can serve" it, the same line once per pool); a file is left to the run."""
        if self.kind == "recsys" and self.model is not None and not looks_like_path(self.model):
            check_preset("recsys", self.model, "recsys model")
        return self

    @model_validator(mode="after")
    def _peak_to_average_is_read(self) -> InferenceServiceSpec:
        """`peak_to_average` turns a per-day demand (video `daily_hours`, `tokens_per_day`, `images_per_day`) into
        its peak (planning/scenario_sizing.demand, fleet_mix, fleet_mix_llm); a demand stated at its peak (`qps`,
        `rate`) or a training run never read it: sized at the stated figure, silently."""
        per_day = self.kind == "video" or any(getattr(self, f, None) is not None
                                              for f in ("tokens_per_day", "images_per_day"))
        if self.peak_to_average != 1.0 and not per_day:
            peak = {"recsys": "qps", "llm": "rate", "image": "rate"}.get(self.kind)
            stated = f"{peak} is its peak already" if peak else "demand is not per day"
            article = "an" if self.kind in ("llm", "image") else "a"
            raise ValueError(f"peak_to_average scales a per-day demand (video daily_hours, tokens_per_day, "
                             f"images_per_day) to its peak; {article} {self.kind} service's {stated}: drop it")
        return self


class ServiceSpec(InferenceServiceSpec, ServePlanOptionFields):
    """One demand: a training run, an LLM service, a recommendation service, image generation or video."""

    kind: Kind
    phases: list[PhaseName] | None = Field(None, description="phases the service runs in (default: every phase)")
    growth: dict[PhaseName, float] = Field(default_factory=dict, description="serving demand multiplier per phase")
    # training
    tokens: Annotated[TokenCount, Field(le=MAX_TRAINING_TOKENS)] | None = None
    deadline: DeadlineSeconds | None = Field(None, description="wall-clock limit of the run, failures included")
    gpus: int | None = Field(None, gt=0, le=MAX_ACCELERATORS, description="GPU budget (fixed size) instead of a "
                             "deadline")
    seq_len: int = Field(8192, gt=0, le=MAX_TOKENS)
    global_batch: int = Field(2048, gt=0, le=MAX_SEQUENCES, description="sequences per step")
    dtype: str = Field("auto", description="training: the precision searched (auto: as search --dtype auto)")
    dtypes: list[str] = Field(DEFAULT_LLM_DTYPES, min_length=1, description="llm: weight dtypes searched, as "
                              "serve-plan --dtypes (fleet-mix's field)")
    stack: str | None = Field(None, description="training: its training stack; llm: serve-plan's --stack on "
                              "every pool that names none (a pool's `stack` comes first)")
    optimizer: Literal["adam", "muon"] | None = Field(None, description="training: the optimizer its plans step "
                                                      "with and its checkpoints hold, as train --optimizer (null: the "
                                                      "stack's or its model recipe's)")
    dsa_stage: Literal["sparse", "warmup"] | None = Field(None, description="training: a DeepSeek Sparse Attention "
                                                          "model's stage its tokens train in, as train --dsa-stage "
                                                          "(null: sparse)")
    no_spare_policy: Literal["shrink", "wait"] = Field("shrink", description="training: what the run does while its "
                                                       "system has no spare domain, as train --no-spare-policy "
                                                       "(facility/spare_policy.py; limits.DEFAULT_NO_SPARE_POLICY)")
    dsa_warmup_tokens: Annotated[TokenCount, Field(le=MAX_TRAINING_TOKENS)] | None = Field(
        None, description="training: tokens of DSA's dense warm-up before the sparse stage's `tokens` (DeepSeek-V3.2-"
        "Exp: 2.1B, then 943.7B), each stage's best plan at the same device count, wall clocks added")
    dsa_warmup_global_batch: int | None = Field(None, gt=0, le=MAX_SEQUENCES, description="training: sequences per "
                                                "step of the dense warm-up (with dsa_warmup_tokens; null: "
                                                "global_batch; DeepSeek-V3.2-Exp: 16, then 480 of 128K)")
    # llm serving
    workload: str | None = None
    rate: Count | None = Field(None, description="peak requests/s (image: peak images/s)")
    tokens_per_day: Count | None = Field(None, description="output tokens per day (average)")
    ttft_slo: Seconds | None = None
    tpot_slo: Seconds | None = None
    # image generation (also `workload`, `rate`, `latency_slo`, `peak_to_average`)
    images_per_day: Count | None = Field(None, description="images generated per day (average)")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> ServiceSpec:
        need = {"training": ("model", "tokens"), "llm": ("model", "workload"),
                "recsys": ("model", "qps", "latency_slo"), "image": (), "video": ("daily_hours",)}[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.kind} service needs {', '.join(missing)}")
        if self.kind == "training" and self.deadline is None and self.gpus is None:
            raise ValueError("a training service needs a deadline or a GPU budget (gpus)")
        if self.kind == "llm" and (self.rate is None) == (self.tokens_per_day is None):
            raise ValueError("an llm service needs exactly one of rate (peak requests/s) or tokens_per_day")
        if self.kind == "llm":
            if self.dtype != "auto":  # a training field: an llm service searches `dtypes`, as serve-plan does
                raise ValueError(f"an llm service takes dtypes (serve-plan's --dtypes, e.g. [{self.dtype}]), not "
                                 f"dtype {self.dtype!r}")
            check_llm_names(self.model, self.workload, self.stack, self.dtypes)
        elif self.dtypes != DEFAULT_LLM_DTYPES:  # (a dumped spec carries the default: not a user's choice)
            raise ValueError(f"dtypes is an llm service's field (serve-plan's --dtypes); a {self.kind} service "
                             "does not read it")
        if self.kind == "training" and self.model is not None and not looks_like_path(self.model):
            check_preset("models", self.model)  # the line the training search gives, before it runs
            check_service_stages(self.name, self.model, self.dsa_stage, self.dsa_warmup_tokens,
                                 self.dsa_warmup_global_batch)  # (a model file: before sizing, `dsa_training_stages`)
        if self.kind == "image" and (self.rate is None) == (self.images_per_day is None):
            raise ValueError("an image service needs exactly one of rate (peak images/s) or images_per_day")
        if any(v < 0 for v in self.growth.values()):
            raise ValueError("growth multipliers must be >= 0")
        check_fields_read(self, self.kind, SERVICE_FIELD_READERS)
        return self


class PoolSpec(PlanSpec):
    """Devices of one type at one site: an accelerator preset, a catalog system, or a video ASIC."""

    name: str
    device: str
    site: str
    system: str | None = Field(None, description="catalog system for training and serving shapes (default: the "
                               "device's generic node and Clos)")
    available: int | None = Field(None, ge=0, description="devices that can be deployed, the installed base "
                                  "included (so at least `installed`; whole servers round it up); omitted = "
                                  "unlimited")
    from_year: Year | None = Field(None, description="first date new devices can be delivered (a year, 2025-07, "
                                   "2025Q3: planning/plan_dates.py); an installed base serves before it")
    installed: int = Field(0, ge=0, description="devices already installed (a brownfield base the plan keeps, in "
                           "whole servers: a partial server's devices are left out, with a warning)")
    price_usd_per_device: float | None = Field(None, ge=0, le=1e12, description=PRICE_DESCRIPTION)
    lifetime_years: LifetimeYears = Field(5.5, description="depreciation period, 0.5-50 years; devices retire "
                                          "after it (policy.retire_at_lifetime: planning/retirement.py)")
    installed_year: Year | None = Field(None, description="year the installed base was bought (default: the first "
                                        "phase's); it retires lifetime_years after")
    refresh_with: str | None = Field(None, min_length=1, description="accelerator preset that replaces the pool's "
                                     "devices as they retire (a pool <name>-refresh: planning/retirement.py)")
    host_power_w: HostPowerW | None = Field(None, description="host share per device, at most 1 MW")
    serves: list[Kind] | None = None
    stack: str | None = Field(None, min_length=1, description=POOL_STACK_RULE)
    spare_trays_per_domain: SpareTrays | None = Field(None, description="the policy's spare_trays_per_domain for "
                                                      "this pool (auto: the fewest spares; planning/spares.py)")

    _old_price = model_validator(mode="before")(pool_price_renamed)  # capex_usd, read with a warning
    _device_of_system = model_validator(mode="before")(pool_device_of_system)  # no device: the system's (hP77)

    @model_validator(mode="after")
    def _stack_runs_here(self) -> PoolSpec:
        if self.stack is not None:
            check_pool_stack(self.stack, self.device, self.system, self.serves)
        if self.available is not None and self.installed > self.available:  # (hM56: 64 on an available 32 served)
            raise ValueError(f"installed {self.installed:,} is above available {self.available:,}: available caps the "
                             "devices the pool deploys, its installed base included; raise it or drop it")
        return self


class SiteSpec(PlanSpec):
    name: str
    power: SitePowerW = Field(description="facility power cap, with its unit (10MW, 1GW)")
    location: str | None = None
    cooling: str | None = None
    build_type: str | None = None
    online_year: Year | None = None

    @model_validator(mode="after")
    def _names_known(self) -> SiteSpec:
        check_site_names(self.name, self.cooling, self.location, self.build_type)
        return self


class PolicySpec(PlanSpec):
    objective: Literal["capex", "tco", "power", "carbon"] = "tco"
    retire_at_lifetime: bool = Field(True, description="devices leave service lifetime_years after the phase they "
                                     "are bought in (false: bought hardware stays; planning/retirement.py)")
    headroom: float = Field(0.0, ge=0, le=10, description="serving demand margin (0.2 = +20 %)")
    redundancy_racks: int = Field(0, ge=0, le=100, description="N+k: spare racks per pool")
    spare_probability: float | None = Field(None, gt=0, lt=1, description="spare nodes per pool so that its "
                                            "working nodes meet demand with this probability despite nodes in "
                                            "repair (planning/spares.py); omitted = no spare nodes")
    repair_time: RepairSeconds = Field(DEFAULT_REPAIR_S, description="failure to node back in service (default: an "
                                 "assumption, planning/spares.py)")
    failure_rate: str | None = Field(None, min_length=1, description="reliability failure-rate preset for every "
                                     "pool (default: the accelerator's)")
    spare_trays_per_domain: SpareTrays = Field(0, description="spare servers (trays) held inside each scale-up "
                                               "domain that spans servers (NVL72), so a failed tray does not take "
                                               "its domain out (an ASSUMPTION option, default 0; auto: the fewest "
                                               "spares; a pool's own comes first: planning/spares.py)")
    # the cost model's bounds (cluster/cost.py CostOverrides, the CLI's --electricity-price / --pue; fleet-mix's
    # spec): above them a plan crashed in the cost model with a traceback
    electricity_usd_per_kwh: ElectricityUsdPerKwh | None = Field(None, description="overrides every site's price")
    pue: float | None = Field(None, ge=MIN_PUE, le=MAX_PUE, description="overrides every site's PUE")
    load_factor: float | None = Field(None, gt=0, le=1, description="average IT power / nameplate of every pool "
                                      "(the cost model's utilisation; omitted: economics.yaml's 0.8)")

    @field_validator("repair_time", mode="before")
    @classmethod
    def _repair_time_slip(cls, value: object, info: ValidationInfo) -> object:
        """A bare `repair_time: 3` (3 s; days meant) is refused as `reliability --repair-time 3` is
        (`units.repair_time_slip`: below an hour; hU68: it sized spare nodes for a 3 s repair); not a dumped spec."""
        if isinstance(value, bool) or not isinstance(value, str | int | float) or (info.context or {}).get("si_dump"):
            return value
        if slip := repair_time_slip(value, parse_duration_s(value)):
            raise ValueError(slip)
        return value

    @model_validator(mode="after")
    def _rate_has_a_use(self) -> PolicySpec:
        """`failure_rate` sizes spare nodes only (planning/pool_money.pool_spares): without `spare_probability` it
        was read by nothing, an unknown name included."""
        if self.failure_rate is not None and self.spare_probability is None:
            raise ValueError("failure_rate sizes spare nodes only: give spare_probability (e.g. 0.99) with it, or "
                             "drop it")
        if self.spare_trays_per_domain and self.spare_probability is None:
            raise ValueError("spare_trays_per_domain is a spares policy: give spare_probability (e.g. 0.99) with "
                             "it, or drop it")
        return self


class ScenarioSpec(PlanSpec):
    name: str
    notes: str = ""
    sources: list[str] = Field(default_factory=list)
    phases: list[PhaseSpec] = Field(min_length=1)
    services: list[ServiceSpec] = Field(min_length=1)
    pools: list[PoolSpec] = Field(min_length=1)
    sites: list[SiteSpec] = Field(min_length=1)
    policy: PolicySpec = Field(default_factory=PolicySpec)
    published: dict[str, float] = Field(default_factory=dict, description="anchors the preset is checked against")
    _old_prices = model_validator(mode="before")(pools_price_renamed)  # one warning per file (pool_price_key.py)

    @model_validator(mode="before")
    @classmethod
    def _not_a_fleet_spec(cls, data: Any) -> Any:
        return not_the_other_spec(data, "scenario")

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioSpec:
        check_unique_names(phase=[p.name for p in self.phases], service=[s.name for s in self.services],
                           pool=[p.name for p in self.pools], site=[s.name for s in self.sites])
        years = [p.year for p in self.phases]
        if years != sorted(set(years)):
            raise ValueError("inconsistent dates: phase years must be strictly increasing, got "
                             f"{', '.join(map(year_text, years))}")
        phase_names, sites = {p.name for p in self.phases}, {s.name for s in self.sites}
        for s in self.services:
            bad = sorted(set(s.phases or []) - phase_names) + sorted(set(s.growth) - phase_names)
            if bad:
                raise ValueError(f"service {s.name!r} names unknown phase {bad[0]!r}")
        last = years[-1]
        for p in self.pools:
            if p.site not in sites:
                raise ValueError(f"pool {p.name!r} is at unknown site {p.site!r}")
            if p.from_year is not None and p.from_year > last:
                raise ValueError(f"inconsistent dates: pool {p.name!r} is delivered in {year_text(p.from_year)}, "
                                 f"after the last phase ({year_text(last)})")
        for site in self.sites:
            if site.online_year is not None and site.online_year > last:
                raise ValueError(f"inconsistent dates: site {site.name!r} comes online in "
                                 f"{year_text(site.online_year)}, after the last phase ({year_text(last)})")
        check_stacks_read(self.pools, self.services)
        trays = [p.name for p in self.pools if p.spare_trays_per_domain is not None]
        if trays and self.policy.spare_probability is None:
            raise ValueError(f"pool {trays[0]!r}: spare_trays_per_domain is a spares policy: give "
                             "policy.spare_probability (e.g. 0.99) with it, or drop it")
        return self


def load_scenario(path: str | Path) -> ScenarioSpec:
    """Read and validate a scenario YAML file; every problem is one InputError line; pool files read beside it."""
    return validated(ScenarioSpec, pool_files_beside(read_user_file(path), str(path)), Path(path).name, "scenario")
