"""Reliability catalog: failure rates (`--failure-rate`, a plan policy's `failure_rate`), the cause mix of job
interruptions, storage and checkpoint defaults, read from `catalog/facility/reliability.yaml`; a failure-rate preset
name or the path of a user's YAML file with a rate's fields.

Its own module since hK76 (catalog/facility_loader.py, which holds the site's files: cooling, location, build type,
economics, fleets, was at the 400-line cap).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, model_validator

from infraplan.catalog.facility_loader import catalog_file, unknown_name
from infraplan.catalog.file_checks import BytesPerS
from infraplan.catalog.loader import beside, check_preset, load_accelerator, looks_like_path, validated
from infraplan.catalog.schemas import Spec
from infraplan.catalog.user_files import read_user_file
from infraplan.errors import InputError
from infraplan.limits import MAX_ACCELERATORS, MAX_FAILURES_PER_1000_NODE_DAYS, MAX_PLANNED_INTERRUPTIONS_PER_DAY

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]

FailureCount = Literal["node_failures", "job_interruptions"]


class FailureRate(Spec):
    """Failures per 1,000 node-days on nodes of `accelerators_per_node`, plus planned job interruptions; `counts`:
    what the rate counts (nodes found failed, or every cause that ends a job: catalog/facility/reliability.yaml)."""

    failures_per_1000_node_days: float = Field(gt=0, le=MAX_FAILURES_PER_1000_NODE_DAYS)
    accelerators_per_node: int = Field(gt=0, le=MAX_ACCELERATORS)  # hN76: 1e21 gave 0 failures a day
    planned_interruptions_per_day: float = Field(0.0, ge=0, le=MAX_PLANNED_INTERRUPTIONS_PER_DAY)
    counts: FailureCount | None = None  # a user's file may leave it unstated
    all_causes: str | None = None  # the preset of the same cluster's job interruptions, all causes
    measured_on: list[str] = []  # accelerator presets the rate was counted on (facility/failure_rate_notes.py says when
    # a job on another accelerator borrows it); a user's file may leave it empty
    source: str

    @property
    def per_accelerator_hour(self) -> float:
        """Failure rate of one accelerator's share of a node, per hour (series system: rates add)."""
        return self.failures_per_1000_node_days / 1000.0 / self.accelerators_per_node / 24.0


class Storage(Spec):
    sustained_bytes_per_s: BytesPerS
    peak_bytes_per_s: BytesPerS
    source: str


class CheckpointDefaults(Spec):
    bytes_per_param: Positive
    restart_s: NonNegative
    source: str


class ComponentMix(Spec):
    """Job interruptions by cause (Llama 3 Table 5); `node_out_of_service`: the causes that take a server out of
    service, whose share of `counts` turns the job-interruption rates in `failure_rates` into node failures
    (planning/spares.py)."""

    source: str
    counts: dict[str, Annotated[int, Field(ge=0)]]
    failure_rates: list[str] = []
    node_out_of_service: list[str] = []
    node_out_of_service_source: str | None = None

    @model_validator(mode="after")
    def _known_causes(self) -> ComponentMix:
        if unknown := sorted(set(self.node_out_of_service) - set(self.counts)):
            raise ValueError(f"node_out_of_service names causes not in counts: {', '.join(unknown)}")
        return self


class Reliability(Spec):
    source: str
    failure_rates: dict[str, FailureRate]
    default_failure_rate: dict[str, str]
    component_mix: ComponentMix
    storage: dict[str, Storage]
    checkpoint: CheckpointDefaults


@lru_cache(maxsize=1)
def load_reliability() -> Reliability:
    return validated(Reliability, catalog_file("reliability.yaml"), "reliability.yaml")


def load_failure_rate(ref: str) -> FailureRate:
    """A failure-rate preset (rsc-1, rsc-1-jobs, rsc-2, llama3-h100, epoch-h100) or a YAML file with the same fields;
    a file's `all_causes` is read beside it, as a file's `extends` is, and must name a rate of job interruptions (hN76:
    `all_causes: jobs.yaml` was looked for in the working folder, and one naming a node-failure rate, rsc-1, was
    reported as "jobs on its cluster were ended by all causes at 6.5 per 1,000 node-days")."""
    rate = _one_failure_rate(ref)
    if looks_like_path(ref) and rate.all_causes is not None:
        try:
            jobs = _one_failure_rate(rate.all_causes)
        except InputError as exc:  # "unknown failure rate 'nope'" named neither the file nor its key
            raise InputError(f"failure-rate file {ref}: all_causes: {exc}") from None
        if jobs.counts != "job_interruptions":
            counts = f"counts {jobs.counts.replace('_', ' ')}" if jobs.counts else "does not say what it counts"
            raise InputError(f"failure-rate file {ref}: all_causes {rate.all_causes} {counts}, not job "
                             "interruptions of every cause (`counts: job_interruptions`); name such a rate of the "
                             "same cluster (rsc-1-jobs for rsc-1) or leave all_causes out")
    return rate


def _one_failure_rate(ref: str) -> FailureRate:
    if looks_like_path(ref):
        data = read_user_file(ref)
        if isinstance(data, dict) and isinstance(data.get("all_causes"), str):
            data = {**data, "all_causes": beside(data["all_causes"], ref)}
        rate = validated(FailureRate, data, ref, "failure-rate file")
        return rate.model_copy(update={"measured_on": [_measured_on(name, ref) for name in rate.measured_on]})
    rates = load_reliability().failure_rates
    if ref not in rates:
        raise unknown_name("failure rate", ref, sorted(rates))
    return rates[ref]


def _measured_on(name: str, ref: str) -> str:
    """One accelerator of a failure-rate file's `measured_on`: a preset, or an accelerator file read beside the rate's
    file; anything else refused naming the file and key (hK76: `measured_on: [nope-gpu]` ran, its note "counted on
    nope-gpu, not a100-80gb")."""
    part = beside(name, ref)
    try:
        if looks_like_path(part):
            load_accelerator(part)
        else:
            check_preset("accelerators", part, "accelerator")
    except InputError as exc:
        raise InputError(f"failure-rate file {ref}: measured_on: {exc}") from None
    return part


def default_failure_rate_name(accelerator: str) -> str:
    """The failure-rate preset of an accelerator by its catalog name; an accelerator file by its `extends` preset's
    (`Accelerator.catalog_name`: an unchanged what-if fails as its preset does)."""
    table = load_reliability().default_failure_rate
    if accelerator not in table and looks_like_path(accelerator):
        accelerator = load_accelerator(accelerator).catalog_name
    return table.get(accelerator, table["*"])


def load_storage(ref: str) -> Storage:
    storages = load_reliability().storage
    if ref not in storages:
        raise unknown_name("storage", ref, sorted(storages))
    return storages[ref]


__all__ = [
    "CheckpointDefaults", "ComponentMix", "FailureCount", "FailureRate", "Reliability", "Storage",
    "default_failure_rate_name", "load_failure_rate", "load_reliability", "load_storage",
]
