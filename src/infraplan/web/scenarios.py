"""Scenarios from the web: the shipped example presets by name, uploaded specs, and the work bound.

A `ScenarioInput` (web/requests.py) becomes a validated `ScenarioSpec` here:
- `preset`: one of the example scenarios shipped with infraplan (`examples/*.yaml` that validate as a scenario:
  inside the wheel they are packaged as `infraplan/examples/`, in a checkout they are the repo's `examples/`).
  Only names from that list resolve; a request's string is never joined into a path.
- `spec` (a JSON object) or `text` (an uploaded YAML or JSON file's content): parsed and validated with the
  scenario schema exactly as `infraplan plan FILE` does, so the one-line errors are the CLI's.

Work per request is bounded: the planner sizes every service on every pool in every phase (`work_units`,
services x pools x phases) and a tornado re-plans twice per varied parameter. A request above
`WEB_MAX_SCENARIO_WORK` units is refused; one above `SYNC_SCENARIO_WORK` (anything bigger than
examples/plan-minimal.yaml's single service, pool and phase) runs as a job.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from infraplan.catalog.loader import parse_text, validated
from infraplan.errors import InputError
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.web.requests import CompareRequest, PlanRequest, ScenarioInput

WEB_MAX_SCENARIO_WORK = 256
"""Sizing units (services x pools x phases, x (1 + 2 x varied parameters)) one request may plan in all; the
largest shipped preset, examples/meta-2024.yaml, is 24 units (~4 s)."""
SYNC_SCENARIO_WORK = 4
"""A plan or compare of more units than this runs as a job (202); plan-minimal (1 unit) takes ~0.3 s."""


class ScenarioPreset(BaseModel):
    name: str = Field(description="preset name (what `scenario.preset` takes)")
    scenario: str = Field(description="the scenario's own name")
    notes: str = Field(description="what it plans")
    sources: list[str] = Field(description="where its figures come from")
    phases: int = Field(description="phases (count)")
    services: int = Field(description="services (count)")
    pools: int = Field(description="device pools (count)")
    sites: int = Field(description="sites (count)")
    work_units: int = Field(description="services x pools x phases (the planner's sizing work)")


def examples_dir() -> Path | None:
    """The packaged example scenarios (wheel), else the checkout's `examples/` folder; None when neither."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "examples", package.parents[1] / "examples"):
        if candidate.is_dir():
            return candidate
    return None


@lru_cache(maxsize=1)
def _presets() -> dict[str, ScenarioSpec]:
    folder = examples_dir()
    if folder is None:
        return {}
    found: dict[str, ScenarioSpec] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            found[path.stem] = validated(ScenarioSpec, parse_text(path.read_text(encoding="utf-8"), path.name),
                                         path.name, "scenario")
        except InputError:  # another kind of example (a fleet-mix spec): not a scenario preset
            continue
    return found


def work_units(spec: ScenarioSpec) -> int:
    return len(spec.services) * len(spec.pools) * len(spec.phases)


def presets() -> list[ScenarioPreset]:
    """The shipped example scenarios, by name, with their size and sources."""
    return [ScenarioPreset(name=name, scenario=s.name, notes=s.notes, sources=list(s.sources),
                           phases=len(s.phases), services=len(s.services), pools=len(s.pools), sites=len(s.sites),
                           work_units=work_units(s)) for name, s in _presets().items()]


def resolve(item: ScenarioInput, index: int = 0) -> ScenarioSpec:
    """The validated scenario of one input; every problem is the CLI's one InputError line."""
    if item.preset is not None:
        known = _presets()
        if item.preset not in known:
            raise InputError(f"unknown scenario preset {item.preset!r}; known: {', '.join(known) or '(none shipped)'}")
        return known[item.preset]
    ref = item.cli_arg(index)
    data = item.spec if item.spec is not None else parse_text(item.text or "", ref)
    return validated(ScenarioSpec, data, ref, "scenario")


def resolve_request(request: PlanRequest | CompareRequest) -> list[ScenarioSpec]:
    """The request's scenarios, validated and within the web's work bound."""
    items = [request.scenario] if isinstance(request, PlanRequest) else list(request.scenarios)
    specs = [resolve(item, i) for i, item in enumerate(items)]
    work = request_work(request, specs)
    if work > WEB_MAX_SCENARIO_WORK:
        raise InputError(f"the web plans at most {WEB_MAX_SCENARIO_WORK} sizing units per request (services x pools "
                         f"x phases, x (1 + 2 x --vary)); this request is {work} (the CLI has no limit)")
    return specs


def request_work(request: PlanRequest | CompareRequest, specs: list[ScenarioSpec]) -> int:
    replans = 1 + 2 * len(request.vary) if isinstance(request, PlanRequest) else 1
    return sum(work_units(s) for s in specs) * replans
