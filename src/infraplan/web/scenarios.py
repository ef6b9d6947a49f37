"""Scenarios from the web: the shipped example presets by name, uploaded specs, and the work bound.

A `ScenarioInput` (web/infrastructure_requests.py) becomes a validated `ScenarioSpec` here:
- `preset`: one of the example scenarios shipped with infraplan (`examples/*.yaml` that validate as a scenario:
  inside the wheel they are packaged as `infraplan/examples/`, in a checkout they are the repo's `examples/`).
  Only names from that list resolve; a request's string is never joined into a path.
- `spec` (a JSON object) or `text` (an uploaded YAML or JSON file's content): parsed and validated with the
  scenario schema exactly as `infraplan plan FILE` does, so the one-line errors are the CLI's. Then every catalog
  reference in it (`no_server_files`: a service's model, workload or stack, a pool's device or system, a site's
  location ...) must be a preset name: the catalog reads a path there as a file (catalog/loader.py
  `looks_like_path`), and the web reads no server files (an upload's `model: /etc/passwd` was read and answered
  "recsys model file /etc/passwd must hold a mapping").

Work per request is bounded: the planner sizes every service on every pool in every phase (`work_units`,
services x pools x phases, an LLM service's pair counting its most serve-plan searches: the rate and its halvings)
and a tornado re-plans twice per varied parameter. A request above `WEB_MAX_SCENARIO_WORK` units is refused; one
above `SYNC_SCENARIO_WORK` (anything bigger than examples/plan-minimal.yaml's single service, pool and phase; any
LLM service on a pool that runs it: serve-plan searches, a job as a web `serve-plan` is) runs as a job.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field

from infraplan.catalog.loader import validated
from infraplan.catalog.user_files import parse_text
from infraplan.errors import InputError
from infraplan.planning.fleet_mix_llm import LLM_SEARCHES_MOST
from infraplan.planning.pool_price_key import old_price_key_warning
from infraplan.planning.scenario_sizing import pool_kind
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.web.infrastructure_requests import CompareRequest, PlanRequest, ScenarioInput

Spec = TypeVar("Spec", bound=BaseModel)

WEB_MAX_SCENARIO_WORK = 640
"""Sizing units (`work_units`, x (1 + 2 x varied parameters)) one request may plan in all; the largest shipped
preset, examples/meta-2024.yaml, is 60 units (40 sizings, its LLM service's 4 pools at up to 6 searches each).
(256 when a unit was one sizing and meta-2024 24 units, ~4 s: raised by the same 60 / 24 when an LLM pair came to
count its most searches, so the requests the web accepted it still accepts: meta-2024 with 2 varied parameters, 300;
gigawatt-2027 with 4, 504.)"""
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
    work_units: int = Field(description="services x pools x phases, an LLM service on a pool that runs it counting "
                            "its most serve-plan searches (the planner's sizing work)")


def examples_dir() -> Path | None:
    """The packaged example scenarios (wheel), else the checkout's `examples/` folder; None when neither."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "examples", package.parents[1] / "examples"):
        if candidate.is_dir():
            return candidate
    return None


def example_specs(model: type[Spec], kind: str) -> dict[str, Spec]:
    """The shipped examples (`examples_dir`) that validate as `model`, by file stem, in name order; the others (a
    fleet-mix spec among scenarios, a scenario among fleet-mix specs) are another kind of example, left out."""
    folder = examples_dir()
    if folder is None:
        return {}
    found: dict[str, Spec] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            found[path.stem] = validated(model, parse_text(path.read_text(encoding="utf-8"), path.name), path.name,
                                         kind)
        except InputError:  # another kind of example: not this kind's preset
            continue
    return found


@lru_cache(maxsize=1)
def _presets() -> dict[str, ScenarioSpec]:
    return example_specs(ScenarioSpec, "scenario")


CATALOG_REFERENCES = ("model", "workload", "stack", "input", "codec", "device", "system", "location", "cooling",
                      "build_type", "failure_rate")
"""Fields of a scenario or fleet-mix spec (and their services, pools, sites, policy) that name a catalog preset, or
on the CLI a file."""
_PRESET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".csv")


def preset_like(value: str) -> bool:
    """Whether a catalog reference reads as a preset name, never a file (the rule of the requests' `PresetName`: no
    `/`, no `..`, no file suffix)."""
    return bool(_PRESET.fullmatch(value)) and ".." not in value and not value.lower().endswith(_FILE_SUFFIXES)


def no_server_files(spec: BaseModel, ref: str) -> None:
    """Refuse, in one line, an uploaded spec whose catalog reference is not a preset name (the rule of the
    requests' `PresetName`: no `/`, no `..`, no file suffix), before anything reads it."""
    items: list[tuple[str, BaseModel]] = [("", spec)]
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        if isinstance(value, BaseModel):  # the policy
            items.append((f"{name}.", value))
        elif isinstance(value, list):  # services, pools, sites: named by their name
            items += [(f"{name}.{getattr(p, 'name', i)}.", p) for i, p in enumerate(value) if isinstance(p, BaseModel)]
    for where, part in items:
        for field in CATALOG_REFERENCES:
            value = getattr(part, field, None)
            if isinstance(value, str) and not preset_like(value):
                raise InputError(f"{ref}: {where}{field} {value[:80]!r} must be a preset name: the web reads no "
                                 "files (GET /api/catalog lists the presets)")


def work_units(spec: ScenarioSpec) -> int:
    """The planner's sizing work: services x pools x phases, an LLM service on a pool that may run it (no CPU or
    video ASIC, `serves` naming llm) counting its most serve-plan searches, the phase's rate and its halvings
    (`fleet_mix_llm.LLM_SEARCHES_MOST`, `scenario_sizing.size_options`; fleet-mix's job counts alike)."""
    llm = sum(s.kind == "llm" for s in spec.services)
    runs = sum(pool_kind(p) not in ("cpu", "video-asic") and (p.serves is None or "llm" in p.serves)
               for p in spec.pools)
    return (len(spec.services) * len(spec.pools) + llm * runs * (LLM_SEARCHES_MOST - 1)) * len(spec.phases)


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
    spec = validated(ScenarioSpec, data, ref, "scenario")
    no_server_files(spec, ref)
    return spec


def read_warnings(item: ScenarioInput, index: int = 0) -> list[str]:
    """The warning lines reading an uploaded scenario or fleet spec prints on the CLI (a pool's old price key,
    `planning.pool_price_key`), for the web's answer: the warning itself reaches only the server's log. None for a
    shipped preset (they use the new key) or an input `resolve` refuses."""
    if item.preset is not None:
        return []
    try:
        data = item.spec if item.spec is not None else parse_text(item.text or "", item.cli_arg(index))
    except InputError:
        return []
    line = old_price_key_warning(data)
    return [line] if line else []


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
