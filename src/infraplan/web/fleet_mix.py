"""`infraplan fleet-mix` from the web: a shipped example fleet by name or an uploaded fleet spec, and its work bound.

A `FleetMixRequest` names its fleet as a `plan` request names its scenario (web/scenarios.py, the same
`ScenarioInput` shape): `preset` (an `examples/*.yaml` that validates as a fleet-mix spec, listed by
`GET /api/fleet-mix/presets`), `spec` (a JSON object) or `text` (an uploaded YAML or JSON file). Uploads are
validated by `planning.fleet_spec.FleetSpec` exactly as `infraplan fleet-mix FILE` validates its file (unknown keys
refused, the same one-line errors); no field of an upload may name a file on the server (`scenarios.no_server_files`).
The answer is `planning.fleet_mix.plan_fleet`'s, what `infraplan fleet-mix FILE --json` prints.

Work per request: fleet-mix estimates every service on every pool (one recsys or video estimate, a few ms, per
pair; per LLM service on a pool that runs LLM serving, serve-plan capacity searches of ~0.3-1.5 s each: one at the
whole rate and up to FINER_HALVINGS at half, a quarter ... of it where the answer is coarse,
`planning.fleet_mix.llm_searches`; plus one per share the MILP splits), then solves a MILP of about that many
integer variables. A request of more than `WEB_MAX_FLEET_PAIRS` service x pool pairs, or of more than
`WEB_MAX_FLEET_LLM_SEARCHES` such searches at most, is refused in one line; one with an LLM search runs as a job
(202), as a web `serve-plan` always does, its progress counted in those searches; one without runs inline (the
shipped example without its LLM service: 16 pairs, ~0.2 s).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from infraplan.catalog.loader import validated
from infraplan.catalog.user_files import parse_text
from infraplan.errors import InputError
from infraplan.planning.fleet_mix import llm_searches, plan_fleet
from infraplan.planning.fleet_mix_llm import FINER_HALVINGS, LLM_SEARCHES_MOST
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.results import Result
from infraplan.web.infrastructure_requests import WEB_MAX_SPEC_CHARS, ScenarioInput
from infraplan.web.request_fields import PresetName
from infraplan.web.requests import WebRequest
from infraplan.web.scenarios import example_specs, no_server_files, read_warnings

WEB_MAX_FLEET_PAIRS = 64
"""Service x pool pairs one web fleet-mix may estimate (recsys and video: a few ms each; the shipped example has
20); the CLI has no limit."""
WEB_MAX_FLEET_LLM_SEARCHES = 8 * LLM_SEARCHES_MOST
"""serve-plan capacity searches one web fleet-mix may run at most (~0.3-1.5 s each on the 2-core dev VM): 8 LLM
service x pool pairs, each at the whole rate and up to FINER_HALVINGS halvings (`planning.fleet_mix.llm_searches`;
one more per share the MILP splits is not counted). The shipped example has 12: one LLM service on its 2 pools
that run LLM serving (MTIA v2, H100; its Xeon and MSVP pools are refused without a search)."""


class FleetInput(ScenarioInput):
    """One fleet: a shipped example by name, or an uploaded fleet-mix spec (JSON object or YAML/JSON text).

    Uploads are validated by the fleet-mix schema (planning/fleet_spec.py) exactly as `infraplan fleet-mix FILE`
    validates its file, with the same one-line errors; no field names a file on the server.
    """

    preset: PresetName | None = Field(None, description="a shipped example fleet (GET /api/fleet-mix/presets lists "
                                      "them)")
    spec: dict[str, Any] | None = Field(None, description="an uploaded fleet-mix spec as a JSON object (the YAML "
                                        "file's content: name, objective, services, pools, prices)")
    text: Annotated[str, Field(max_length=WEB_MAX_SPEC_CHARS)] | None = Field(
        None, description="an uploaded fleet-mix spec file's text, YAML or JSON")

    def cli_arg(self, index: int) -> str:
        """The fleet's file on the CLI: `examples/PRESET.yaml`, or the uploaded file saved under its name."""
        if self.preset is not None or self.filename:
            return super().cli_arg(index)
        name = self.spec.get("name") if isinstance(self.spec, dict) else None
        safe = "".join(c for c in str(name) if c.isalnum() or c in "._-")[:48] if name else ""
        return f"{safe or 'fleet'}.yaml"


class FleetMixRequest(WebRequest):
    """`infraplan fleet-mix`: which devices of which pools serve which inference services (recsys, video, LLM),
    a MILP minimising power or TCO, against a GPU-only fleet."""

    command = "fleet-mix"
    fleet: FleetInput
    objective: Literal["power", "tco"] | None = Field(None, description="power | tco (default: the spec's)")
    optimality_gap: bool = Field(False, description="also prove a lower bound on the optimum and report the gap "
                                 "(as --optimality-gap: prices every server count of every used pool; runs as a job)")

    def cli(self) -> str:
        words = ["infraplan", "fleet-mix", self.fleet.cli_arg(0)]
        if self.objective is not None:
            words += ["--objective", self.objective]
        if self.optimality_gap:
            words.append("--optimality-gap")
        return " ".join(shlex.quote(w) for w in [*words, "--json"])


class FleetPreset(BaseModel):
    name: str = Field(description="preset name (what `fleet.preset` takes)")
    fleet: str = Field(description="the fleet spec's own name")
    objective: str = Field(description="its objective: power | tco")
    services: int = Field(description="services (count)")
    llm_services: int = Field(description="LLM services (count; each is searched on every pool that runs LLM serving)")
    pools: int = Field(description="device pools (count)")


@lru_cache(maxsize=1)
def _presets() -> dict[str, FleetSpec]:
    return example_specs(FleetSpec, "fleet spec")


def presets() -> list[FleetPreset]:
    """The shipped example fleets, by name, with their size."""
    return [FleetPreset(name=name, fleet=s.name, objective=s.objective, services=len(s.services),
                        llm_services=sum(v.kind == "llm" for v in s.services), pools=len(s.pools))
            for name, s in _presets().items()]


def resolve(item: FleetInput) -> FleetSpec:
    """The validated fleet spec of one input; every problem is the CLI's one InputError line."""
    if item.preset is not None:
        known = _presets()
        if item.preset not in known:
            raise InputError(f"unknown fleet-mix preset {item.preset!r}; known: {', '.join(known) or '(none shipped)'}")
        return known[item.preset]
    ref = item.cli_arg(0)
    data = item.spec if item.spec is not None else parse_text(item.text or "", ref)
    spec = validated(FleetSpec, data, ref, "fleet spec")
    no_server_files(spec, ref)
    return spec


def fleet_work(spec: FleetSpec) -> tuple[int, int]:
    """(service x pool pairs, serve-plan searches at most): the estimates and the capacity searches fleet-mix runs
    (`planning.fleet_mix.llm_searches`: an LLM pair's whole rate and its halvings; its progress counts the same)."""
    return len(spec.services) * len(spec.pools), sum(llm_searches(spec))


def resolve_request(request: FleetMixRequest) -> FleetSpec:
    """The request's fleet spec, validated and within the web's work bound."""
    spec = resolve(request.fleet)
    pairs, searches = fleet_work(spec)
    if pairs > WEB_MAX_FLEET_PAIRS:
        raise InputError(f"the web sizes at most {WEB_MAX_FLEET_PAIRS} service x pool pairs per fleet-mix; this "
                         f"fleet is {pairs} ({len(spec.services)} services x {len(spec.pools)} pools; the CLI has "
                         "no limit)")
    if searches > WEB_MAX_FLEET_LLM_SEARCHES:
        raise InputError(f"the web runs at most {WEB_MAX_FLEET_LLM_SEARCHES} serve-plan capacity searches per "
                         f"fleet-mix (each LLM service on each pool that runs LLM serving: its whole rate and up to "
                         f"{FINER_HALVINGS} finer rates); this fleet may run {searches} (the CLI has no limit)")
    return spec


def is_long(request: FleetMixRequest) -> bool:
    """A fleet with an LLM search runs as a job (its serve-plan searches), and so does one asked for its optimality
    gap (the bound prices every server count); validates the spec first (400 at once)."""
    return fleet_work(resolve_request(request))[1] > 0 or request.optimality_gap


def run_fleet_mix(request: FleetMixRequest, progress: Callable[[float], None] | None = None) -> Result:
    def tick(done: int, total: int) -> None:  # pairs sized -> the job's fraction done, as run_search's
        if progress is not None and total > 0:
            progress(done / total)

    result = plan_fleet(resolve_request(request), request.objective, progress=tick,
                        optimality_gap=request.optimality_gap)
    read = read_warnings(request.fleet)  # an old price key: the line the CLI prints on stderr, in the answer
    return result.model_copy(update={"warnings": [*read, *result.warnings]}) if read else result
