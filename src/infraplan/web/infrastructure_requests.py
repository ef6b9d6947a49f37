"""Request bodies of the HTTP API for the infrastructure commands: `network`, `collective`, `facility`, `campus`,
`reliability`, and the scenarios of `plan` and `compare`, one pydantic model per command with the CLI's bounds and
choices (`infraplan.limits`, `web.request_fields`), as `web.requests` holds the model-on-system commands' (train,
search, serve, serve-plan, recsys, video) and `REQUESTS`, every command's. Split out of `web.requests` (session 58).

A flow-level collective simulation from the web spans at most `WEB_MAX_FLOW_GPUS` GPUs. Scenarios (`plan`,
`compare`) are a shipped example preset by name or an uploaded spec (`ScenarioInput`); a web `compare` plans at
most `WEB_MAX_SCENARIOS` scenarios and a web `plan` varies at most `WEB_MAX_VARY` tornado parameters
(web/scenarios.py bounds the size of each scenario).

Each model's `cli()` is the `infraplan ...` command line that reproduces it ("copy as CLI command").
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from infraplan.facility.reliability import DEFAULT_REPAIR_S
from infraplan.limits import Accelerators, Price, Seed
from infraplan.web.request_descriptions import described
from infraplan.web.request_fields import (
    STRICT_BODY,
    BuildType,
    BytesText,
    CatalogRef,
    Cooling,
    Days,
    Duration,
    PowerText,
    PresetName,
    Pue,
    RestartSeconds,
    UsdPerMwh,
    WebRequest,
)

WEB_MAX_FLOW_GPUS = 4096
"""GPUs of a flow-level collective simulation from the web (the flow count grows with the square)."""
WEB_MAX_SCENARIOS = 4
"""Scenarios one web `compare` may plan side by side."""
WEB_MAX_VARY = 4
"""Tornado parameters one web `plan` may vary (each re-plans the scenario twice)."""
WEB_MAX_SPEC_CHARS = 60_000
"""Characters of one uploaded scenario file (the shipped presets are 0.5-2.6 kB)."""


@described
class NetworkRequest(WebRequest):
    command = "network"
    system: CatalogRef
    gpus: Accelerators | None = None
    fabric: Literal["clos", "rail-only"] | None = None

    positional = ("system",)


@described
class CollectiveRequest(WebRequest):
    command = "collective"
    op: Literal["all-reduce", "reduce-scatter", "all-gather", "all-to-all", "send-recv"]
    system: CatalogRef
    gpus: Accelerators
    size: BytesText  # the CLI's --bytes, read as it reads it (its refusals in its words, hJ58)
    placement: Literal["packed", "spread"] = "packed"
    algorithm: Literal["ring", "tree", "hierarchical", "nvls", "nvls_tree", "sharp", "auto"] = "auto"
    sim: Literal["analytical", "flow"] = "analytical"
    flows_per_pair: Annotated[int, Field(ge=1, le=1024)] | None = None
    seed: Seed | None = None  # the CLI's: 0, refused where nothing is drawn (`estimate_collective`'s one check)
    failed_links: Annotated[str, Field(max_length=64)] | None = None
    fabric: Literal["clos", "rail-only"] | None = None
    sharp: bool = False

    positional = ("op",)
    flags = {"size": "--bytes"}

    @model_validator(mode="before")
    @classmethod
    def _bytes_is_size(cls, data: Any) -> Any:
        """`bytes`, the CLI's option name, is taken for `size` (the one field whose name is not the CLI's)."""
        if isinstance(data, dict) and "bytes" in data and "size" not in data:
            data = {("size" if k == "bytes" else k): v for k, v in data.items()}
        return data


@described
class FacilityRequest(WebRequest):
    command = "facility"
    system: CatalogRef | None = None
    accelerator: CatalogRef | None = None
    count: Accelerators | None = None
    cooling: Cooling | None = None
    location: CatalogRef | None = None
    build_type: BuildType | None = None
    rack_power: PowerText | None = None
    pue: Pue | None = None
    electricity_price: UsdPerMwh | None = None
    server_price: Price | None = None


# a `campus --phases` date, as plan's (planning/plan_dates._parse_text: "2026-Q3", "2026/H2" too, hN59)
_DATE = r"[0-9]{4}(?:\.[0-9]+|[-/ ]?[HhQq][0-9]|-[0-9]{1,2}(?:-[0-9]{1,2})?)?"
# one DATE:FRACTION, spaced and written as `campus --phases` reads it (planning/campus.parse_phases strips each part
# and reads the fraction with float(): " 2027 : 1e-1" too; the range (0, 1] is the CLI's check, one 400 line)
_PHASE = rf" *{_DATE} *: *(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)? *"


@described
class CampusRequest(WebRequest):
    command = "campus"
    power: PowerText | None = None
    accelerator: CatalogRef | None = None
    cooling: Cooling | None = None
    phases: Annotated[str, Field(max_length=200, pattern=rf"^{_PHASE}(,{_PHASE})*$")] | None = None
    location: CatalogRef | None = None
    build_type: BuildType | None = None
    fleet: CatalogRef | None = None
    pue: Pue | None = None
    electricity_price: UsdPerMwh | None = None
    server_price: Price | None = None
    reserve: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = 0.0


@described
class ReliabilityRequest(WebRequest):
    command = "reliability"
    system: CatalogRef
    gpus: Accelerators
    days: Days = 30.0
    model: CatalogRef | None = None  # --model (null: not given; llama3-405b's checkpoint, a plan refused, hR76)
    checkpoint_size: BytesText | None = None
    failure_rate: CatalogRef | None = None
    restart_s: RestartSeconds | None = None
    spare_trays_per_domain: Annotated[int, Field(ge=0, le=64)] = 0
    repair_s: Duration = DEFAULT_REPAIR_S
    checkpoint_interval_s: Duration | None = None  # Daly's optimum where not given (hU58)
    optimizer: Literal["adam", "muon"] | None = None  # --optimizer: the checkpoint's state (hP61; null: adam, a
    # plan's train's, hR76)
    no_spare_policy: Literal["shrink", "wait"] = "shrink"  # --no-spare-policy (facility/spare_policy.py)
    shrink_unit: Accelerators | None = None  # --shrink-unit (null: one scale-up domain)
    plan: dict[str, Any] | None = None  # --plan: a train body's plan fields (runners.reliability_plan reads them)

    flags = {"repair_s": "--repair-time",  # the CLI's name (`cli()` wrote --repair-s, which the CLI refuses)
             "checkpoint_interval_s": "--checkpoint-interval"}

    def cli(self) -> str:
        """The CLI's line: `--plan` with the plan's fields as train's flags (a flag true: the flag; false: left out,
        its default, but --no-sequence-parallel)."""
        line = WebRequest.cli(self.model_copy(update={"plan": None}))
        if not self.plan:
            return line
        words = [f"--{k.replace('_', '-')}" if v is True else f"--{k.replace('_', '-')} {v}"
                 for k, v in self.plan.items() if v is not None and v is not False]
        if self.plan.get("sequence_parallel") is False:  # (train's one flag on by default: its --no- form)
            words.append("--no-sequence-parallel")
        return line.removesuffix(" --json") + " --plan " + shlex.quote(" ".join(words)) + " --json"


class ScenarioInput(BaseModel):
    """One scenario: a shipped example preset by name, or an uploaded spec (JSON object or YAML/JSON text).

    Uploaded specs are validated by the scenario schema (planning/scenario_spec.py) exactly as `infraplan plan`
    validates its file, with the same one-line errors; no field names a file on the server.
    """

    model_config = STRICT_BODY

    preset: PresetName | None = Field(None, description="a shipped example scenario (GET /api/scenarios lists them)")
    spec: dict[str, Any] | None = Field(None, description="an uploaded scenario as a JSON object (the YAML file's "
                                        "content: name, phases, services, pools, sites, policy)")
    text: Annotated[str, Field(max_length=WEB_MAX_SPEC_CHARS)] | None = Field(
        None, description="an uploaded scenario file's text, YAML or JSON")
    filename: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")] | None = Field(
        None, description="the uploaded file's name, for messages and the CLI line only (never opened)")

    @model_validator(mode="after")
    def _exactly_one(self) -> ScenarioInput:
        given = [f for f in ("preset", "spec", "text") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of preset, spec or text")
        return self

    def cli_arg(self, index: int) -> str:
        """The scenario's file on the CLI: `examples/PRESET.yaml`, or the uploaded file saved under its name."""
        if self.preset is not None:
            return f"examples/{self.preset}.yaml"
        if self.filename:
            return self.filename
        name = self.spec.get("name") if isinstance(self.spec, dict) else None
        safe = "".join(c for c in str(name) if c.isalnum() or c in "._-")[:48] if name else ""
        return f"{safe or f'scenario-{index + 1}'}.yaml"


@described
class PlanRequest(WebRequest):
    """`infraplan plan`: one scenario from demand to devices, racks, sites, MW, capex, TCO and tCO2e per phase."""

    command = "plan"
    scenario: ScenarioInput
    vary: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field([], max_length=WEB_MAX_VARY)
    optimality_gap: bool = False  # runs as a job (web/jobs.py)

    def cli(self) -> str:
        words = ["infraplan", "plan", self.scenario.cli_arg(0)]
        for v in self.vary:
            words += ["--vary", v]
        if self.optimality_gap:
            words.append("--optimality-gap")
        return " ".join(shlex.quote(w) for w in [*words, "--json"])


@described
class CompareRequest(WebRequest):
    """`infraplan compare`: 2-4 scenarios side by side with deltas against the first, and their risks."""

    command = "compare"
    scenarios: list[ScenarioInput] = Field(min_length=2, max_length=WEB_MAX_SCENARIOS)

    def cli(self) -> str:
        words = ["infraplan", "compare", *(s.cli_arg(i) for i, s in enumerate(self.scenarios))]
        return " ".join(shlex.quote(w) for w in [*words, "--json"])
