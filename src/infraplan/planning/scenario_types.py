"""The scenario spec's value types and shared checks (split from planning/scenario_spec.py, hT59): counts, latency
SLOs, deadlines, depreciation periods, host shares and repair times read with their units at the edge and bounded by
infraplan.limits; the spec base (`PlanSpec`); the name checks the scenario and fleet-mix specs share (an LLM
service's model, workload, stack and dtypes; duplicate names); how a message writes an amount or a duration; and
what sizing a service on a pool returns (`Sized`, `TrainingPoint`: `planning.scenario_sizing`'s results, moved here
in session 62 for its size).
Nothing here models physics: the bounds are infraplan.limits', the parsers infraplan.units'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer

from infraplan.catalog.facility_loader import (
    StatedPowerW,
    list_facility_presets,
    load_build_type,
    load_location,
    power_at_most,
)
from infraplan.catalog.loader import check_preset, looks_like_path
from infraplan.catalog.schemas import Spec
from infraplan.errors import InputError
from infraplan.limits import (
    MAX_DEADLINE_S,
    MAX_HOST_POWER_W,
    MAX_LIFETIME_YEARS,
    MAX_REPAIR_S,
    MAX_SLO_S,
    MIN_LIFETIME_YEARS,
)
from infraplan.serving.capacity import DTYPES as SERVING_DTYPES
from infraplan.serving.engines import load_engine
from infraplan.units import parse_count, parse_duration_s, parse_power_w, parse_tokens

# the parsers raise InputError, a ValueError: pydantic reports it as the field's one-line error
Count = Annotated[float, BeforeValidator(parse_count), Field(gt=0)]
TokenCount = Annotated[float, BeforeValidator(parse_tokens), Field(gt=0)]  # '15.6T' or '15.6T tokens', as --tokens


def _duration_at_most(limit_s: float, what: str) -> Callable[[float], float]:
    """A check that a duration is at most `limit_s` (infraplan.limits), its message in duration_text's units."""
    def check(seconds: float) -> float:
        if seconds > limit_s:
            text, limit = duration_text(seconds), duration_text(limit_s)
            text += f" ({seconds:.6g} s)" if text == limit else ""  # just above: "100 years" twice reads as equal
            raise ValueError(f"{text} is above the {limit} limit of {what} (infraplan.limits)")
        return seconds
    return check


# a time dumps with its unit, the seconds exactly ("60.0s"), as a site's power does (`SitePowerW`): a dumped spec
# validates again as written (hU69: `ttft_slo: 60s` dumped 60.0, which the bare-SLO check then refused as 60 ms)
_SECONDS_TEXT = PlainSerializer(lambda seconds: f"{float(seconds)!r}s", return_type=str)
# a latency SLO: the CLI's --ttft-slo bound; a deadline: 100 years (beyond it, as if none were given)
Seconds = Annotated[float, BeforeValidator(parse_duration_s), Field(gt=0),
                    AfterValidator(_duration_at_most(MAX_SLO_S, "a latency SLO")), _SECONDS_TEXT]
DeadlineSeconds = Annotated[float, BeforeValidator(parse_duration_s), Field(gt=0),
                            AfterValidator(_duration_at_most(MAX_DEADLINE_S, "a deadline, which no device or "
                                                                             "facility outlasts")), _SECONDS_TEXT]


def _lifetime(years: float) -> float:
    if not MIN_LIFETIME_YEARS <= years <= MAX_LIFETIME_YEARS:
        raise ValueError(f"{years:.4g} years is outside the {MIN_LIFETIME_YEARS:g}-{MAX_LIFETIME_YEARS:g} years a "
                         "depreciation period may be (infraplan.limits)")
    return years


# a bare number is watts (the key names its unit): the SI unit a validated spec dumps (`model_dump`, --vary)
HostPowerW = Annotated[float, BeforeValidator(parse_power_w), Field(ge=0),
                       AfterValidator(power_at_most(MAX_HOST_POWER_W, "a device's host share"))]
# a site's power cap: text with its unit in (a bare number refused: `facility_loader.stated_power`) and out, the
# watts exactly ("45000.0W"), so a dumped spec validates again as written (`ScenarioSpec.model_validate(dump)`)
SitePowerW = Annotated[StatedPowerW, PlainSerializer(lambda watts: f"{float(watts)!r}W", return_type=str)]
LifetimeYears = Annotated[float, AfterValidator(_lifetime)]
RepairSeconds = Annotated[float, BeforeValidator(parse_duration_s), Field(gt=0),
                          AfterValidator(_duration_at_most(MAX_REPAIR_S, "a repair time (a node out longer than it "
                                                                         "is depreciated over is replaced)")),
                          _SECONDS_TEXT]


class PlanSpec(Spec):
    """Base of the scenario and fleet-mix specs (a boolean where a number goes is refused for every spec since
    hC51: `catalog.spec_base.Spec`)."""


def not_the_other_spec(data: Any, spec: str) -> Any:
    """`data` unchanged unless it reads as the other planner's file (hU68): a fleet-mix spec given to `plan`
    (`spec` "scenario": electricity, PUE or objective at the top, no phases or sites) or a plan scenario given to
    `fleet-mix` (`spec` "fleet": phases or sites), refused in one line naming the command that reads it; the schema's
    line listed every field the other file lacks ("pools.0.site ... Field required; objective: Extra inputs ...",
    "pools.0.site: Extra inputs are not permitted (did you mean system?)")."""
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        return data
    if spec == "fleet" and {"phases", "sites"} & data.keys():
        raise ValueError("this is a plan scenario (it has phases or sites): `infraplan plan FILE` plans it; a "
                         "fleet-mix spec has services and pools only, one year at one site (examples/fleet-mix.yaml)")
    if spec == "scenario" and not {"phases", "sites"} & data.keys() and {"objective", "electricity_usd_per_kwh",
                                                                       "pue"} & data.keys():
        raise ValueError("this is a fleet-mix spec (objective, electricity or PUE at the top; no phases or sites): "
                         "`infraplan fleet-mix FILE` sizes it; a plan scenario has phases, services, pools at sites "
                         "and a policy (examples/plan-minimal.yaml)")
    return data


def check_llm_names(model: str | None, workload: str | None, stack: str | None, dtypes: Sequence[str] = ()) -> None:
    """InputError (a ValueError: the spec's one-line error) for an LLM service naming an unknown model, workload,
    serving stack or weight dtype, the line serve-plan gives, when the spec is validated (by the CLI and the web
    alike, before any search runs). A file path is left to the run, which reads it (the web refuses paths:
    web/scenarios.no_server_files)."""
    for folder, ref in (("models", model), ("workloads", workload)):
        if ref is not None and not looks_like_path(ref):
            check_preset(folder, ref)
    if stack is not None and not looks_like_path(stack):
        load_engine(stack)  # a name, a versioned engine name (vllm-0.12.0), or a training stack (refused)
    unknown = sorted(set(dtypes) - set(SERVING_DTYPES))
    if unknown:
        raise ValueError(f"unknown dtype {unknown[0]!r}; choose from {', '.join(SERVING_DTYPES)}")
    if twice := next((d for i, d in enumerate(dtypes) if d in dtypes[:i]), None):  # serve-plan's rule (hW71)
        raise ValueError(f"dtypes [{', '.join(dtypes)}]: {twice} is given twice; give each dtype once")


def check_unique_names(**names: list[str]) -> None:
    """ValueError naming the duplicates of the first kind of entry (keyword: phase, service, ...) that has some."""
    for what, listed in names.items():
        dup = sorted({n for n in listed if listed.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate {what} names: {', '.join(dup)}")


def amount_text(value: float) -> str:
    """A demand or shortfall in a message without e-notation: 1,000,000 (not 1e+06), 4.167, 0.25; an absurd one
    (1e+40, above a quadrillion) keeps it."""
    return f"{value:,.0f}" if 1e4 <= abs(value) < 1e15 else f"{value:.4g}"


def duration_text(seconds: float) -> str:
    """A deadline in a message in the unit that keeps it short: 45 s, 12 h, 30.0 days (not a 0.0-day deadline),
    100 years."""
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    if seconds < 10_000 * 86400:
        return f"{seconds / 86400:,.1f} days"
    return f"{seconds / (365.25 * 86400):.3g} years"  # 27 years on: not a 300-digit day count (deadline: 1e300)


def check_site_names(site: str, cooling: str | None, location: str | None, build_type: str | None) -> None:
    """ValueError (the spec's one-line error) for a plan site naming an unknown cooling type, location or build
    type, naming the site and the field (hE59: the cost model's later refusal said "--cooling must be one of ...",
    an option the plan has not, and named no site). A file path is left to the run, which reads it."""
    if cooling is not None and not looks_like_path(cooling) and cooling not in list_facility_presets("cooling"):
        raise ValueError(f"site {site!r}: cooling must be one of {', '.join(list_facility_presets('cooling'))}, "
                         f"got {cooling!r}")
    for ref, load in ((location, load_location), (build_type, load_build_type)):
        if ref is not None and not looks_like_path(ref):
            try:
                load(ref)
            except InputError as exc:
                raise ValueError(f"site {site!r}: {exc}") from None


@dataclass(frozen=True)
class Sized:
    """A service on a pool: `capacity` demand units per unit of `unit_devices` devices (`whole`: one unit serves the
    whole demand: a training run, capacity 1 of a demand of 1; a disaggregated LLM deployment, capacity R)."""

    capacity: float
    unit_devices: int
    whole: bool
    demand_unit: str
    slo_headroom: float | None
    detail: str
    time_to_train_s: float | None = None  # training: wall clock of one run with failures and checkpoints
    optimizer: str | None = None  # training: the optimizer its plan steps with (the service's, stack's or recipe's)
    checkpoint_bytes: float | None = None  # training: one checkpoint at that optimizer's bytes per parameter
    checkpoint_write_s: float | None = None  # training: its write time at the storage's sustained bandwidth
    mfu: float | None = None  # training: the chosen plan's MFU
    goodput: float | None = None  # training: the reliability model's goodput at that job size
    goodput_note: str | None = None  # training: what that goodput rests on (`goodput_basis_note`)
    replica_devices: int | None = None  # LLM: one replica's TP x PP x attention DP (the wider of prefill / decode)
    unit_replicas: int | None = None  # LLM: serve-plan's replicas in one unit (a replica, a group, the deployment)
    serving_stack: str | None = None  # LLM: the serving stack the deployment ran (`fleet_mix_llm.stack_basis`)
    serving_stack_basis: str | None = None  # LLM: whose `stack` asked it, or the vendor default, and why
    weight_dtype: str | None = None  # LLM: the answer's weight format (serve-plan's --dtype)
    kv_dtype: str | None = None  # LLM: its KV-cache dtype
    precision: str | None = None  # LLM: weights, activations and KV in words (`llm_precision.precision_words`)
    whole_why: str = ""  # LLM: why a deployment is one unit, not split over pools (`_disaggregated`)
    notes: tuple[str, ...] = ()  # video / recsys: what the capacity rests on (planning/pool_capacity.pool_option);
    # LLM: serve-plan's answer whose whole run missed its SLOs (`fleet_mix_llm.missed_slo_note`)


class TrainingPoint(NamedTuple):
    """The best plan at one GPU count: wall clock of the run (s), its one-line plan, MFU and goodput, its optimizer
    and one checkpoint's size (bytes) and write time (s)."""

    wall_s: float
    plan: str
    mfu: float
    goodput: float
    goodput_note: str | None = None
    optimizer: str = "adam"
    checkpoint_bytes: float = 0.0
    checkpoint_write_s: float = 0.0
