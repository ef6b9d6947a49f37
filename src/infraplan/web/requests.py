"""Request bodies of the HTTP API: one pydantic model per command, with the CLI's bounds and choices.

Every numeric field takes its bounds from `infraplan.limits` (the same `MAX_*` the CLI's options use) or the
same literal bounds as `cli/options.py` (a test compares them), so the CLI and the web refuse the same input.
The web never reads the server's file system: every catalog reference (model, system, accelerator, stack,
workload, location ...) is a preset *name* (`PresetName`: no `/`, no file suffix), resolved by the catalog, or, where
the CLI takes a file for it (`CatalogRef`: every command's model, system, accelerator, stack, workload, location,
fleet, video device and failure rate), an uploaded file's text, read as the CLI reads a file of its name
(web/uploads.py); options that only take a path on the CLI (`--costs`, `--trace`, `--plot`, `--graphml`) do not exist
here.

Work per request is bounded tighter than the CLI where one request could hold a worker for long: a serving
simulation holds at most `WEB_MAX_REQUESTS` requests and a scaling sweep at most `WEB_MAX_SWEEP` GPU counts.

Scenarios (`plan`, `compare`) are a shipped example preset by name or an uploaded spec (`ScenarioInput`);
a web `compare` plans at most `WEB_MAX_SCENARIOS` scenarios and a web `plan` varies at most `WEB_MAX_VARY`
tornado parameters (web/scenarios.py bounds the size of each scenario).

Each model's `cli()` is the `infraplan ...` command line that reproduces it ("copy as CLI command").
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from infraplan.facility.reliability import DEFAULT_REPAIR_S
from infraplan.limits import (
    MAX_ACCELERATORS,
    MAX_PARALLEL_DEGREE,
    MAX_TOP,
    Accelerators,
    Degree,
    Price,
    Seed,
    Sequences,
    Tokens,
)
from infraplan.serving.capacity import BATCH_CAPS, SLO_PERCENTILES
from infraplan.web.request_descriptions import described
from infraplan.web.request_fields import (
    ArrivalRate,
    BuildType,
    CatalogRef,
    Cooling,
    Days,
    Duration,
    ModelOnSystemRequest,
    PresetName,
    Pue,
    Quantity,
    RecsysSlo,
    RestartSeconds,
    ScheduleName,
    SequencesQuantity,
    TpotSlo,
    TtftSlo,
    UsdPerMwh,
    WebRequest,
)

if TYPE_CHECKING:
    SloPercentile = float
else:  # the percentiles a serving run reports and serve-plan judges on (serving.capacity.SLO_PERCENTILES): an enum
    SloPercentile = Literal[tuple(SLO_PERCENTILES)]  # in the schema, where (0, 100] let 95 through to a 400

WEB_MAX_REQUESTS = 200_000
"""Requests one web serving simulation may hold (~1 s of work; the CLI allows 10 M)."""
WEB_MAX_PROBE_REQUESTS = 20_000
"""Requests per probe simulation of a web capacity search (`serve-plan` runs dozens of probes)."""
WEB_MAX_SWEEP = 16
"""GPU counts one web `search` may sweep (each is a full plan search, ~0.1 s)."""
WEB_MAX_FLOW_GPUS = 4096
"""GPUs of a flow-level collective simulation from the web (the flow count grows with the square)."""
WEB_MAX_SCENARIOS = 4
"""Scenarios one web `compare` may plan side by side."""
WEB_MAX_VARY = 4
"""Tornado parameters one web `plan` may vary (each re-plans the scenario twice)."""
WEB_MAX_SPEC_CHARS = 60_000
"""Characters of one uploaded scenario file (the shipped presets are 0.5-2.6 kB)."""


def _int_as_text(value: object) -> object:
    """A whole number as its text, so that serve's `tp` takes 8 as /api/train's does, besides "8" and "auto"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


@described
class TrainRequest(ModelOnSystemRequest):
    command = "train"
    gpus: Accelerators
    tp: Degree = 1
    pp: Degree = 1
    dp: Annotated[int, Field(ge=1, le=MAX_ACCELERATORS)] | None = None
    cp: Degree = 1
    ep: Degree = 1
    etp: Degree | None = None
    vpp: Degree | None = None
    seq_len: Tokens
    global_batch: Sequences
    micro_batch: Sequences = 1
    recompute: Literal["none", "selective", "full", "auto"] = "none"  # the CLI's Recompute
    recompute_layers: Annotated[int, Field(ge=0, le=MAX_PARALLEL_DEGREE)] = 0
    offload_layers: Annotated[int, Field(ge=0, le=MAX_PARALLEL_DEGREE)] = 0  # the CLI's --offload-layers
    zero: Annotated[int | None, Field(ge=0, le=3)] = None
    dtype: Literal["bf16", "fp8", "mxfp8", "nvfp4"] = "bf16"  # the CLI's TrainDtype
    attention: Literal["flash", "unfused"] = "flash"
    order: Literal["tp-cp-pp-dp", "tp-cp-dp-pp"] | None = None  # the stack's rank_order
    sequence_parallel: bool = True
    schedule: ScheduleName | None = None
    stack: CatalogRef | None = None
    sharp: bool = False  # the CLI's --sharp: IB SHARP for the DP all-reduce (NCCL CollNet), SHARP switches only
    zero_shard: Annotated[int | None, Field(ge=1, le=MAX_ACCELERATORS)] = None  # --zero-shard
    lora_rank: int | None = None  # --lora-rank (checked by `training.frozen_base.lora_spec`: one line)
    lora_targets: Literal["attention", "all"] | None = None  # --lora-targets (needs lora_rank; attention)
    memory_margin: float | None = Field(None, ge=0.0, lt=1.0)  # null: 0.05, the CLI's default (as search's)
    tokens: Quantity | None = None
    location: CatalogRef | None = None
    server_price: Price | None = None
    eval_every: SequencesQuantity | None = None  # the CLI's --eval-every / --eval-samples (need tokens)
    eval_samples: SequencesQuantity | None = None


def _one_count_listed(value: object) -> object:
    """`"gpus": 16384` is the list of that one count, as the CLI's `--gpus 16384`; a CLI text ('16384', '512:8192:x2')
    is refused with the JSON form the web takes, not pydantic's "must be a valid list" (hU61)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, str):
        raise ValueError(f"a JSON list of GPU counts, e.g. [16384] or [512, 1024, 2048], not the CLI's text "
                         f"{value[:40]!r}")
    return value


@described
class SearchRequest(ModelOnSystemRequest):
    command = "search"
    gpus: Annotated[list[Accelerators], BeforeValidator(_one_count_listed),
                    Field(min_length=1, max_length=WEB_MAX_SWEEP)]
    seq_len: Tokens
    global_batch: Sequences
    dtype: Literal["bf16", "fp8", "mxfp8", "nvfp4", "auto"] = "auto"
    top: Annotated[int, Field(ge=1, le=MAX_TOP)] = 5
    objective: Literal["time", "memory"] = "time"
    cross_node_tp: bool = False
    schedule: ScheduleName | None = None
    stack: CatalogRef | None = None
    mfu_guard: bool | None = None  # null: on, off on what-if hardware (the CLI's default)
    sharp: bool = False  # the CLI's --sharp: IB SHARP for every plan's DP all-reduce (NCCL CollNet), SHARP only
    memory_margin: float | None = Field(None, ge=0.0, lt=1.0)  # null: 0.05, the CLI's default
    lora_rank: int | None = None  # --lora-rank (checked by `training.frozen_base.lora_spec`: one line)
    lora_targets: Literal["attention", "all"] | None = None  # --lora-targets (needs lora_rank; attention)


@described
class ServeRequest(ModelOnSystemRequest):
    command = "serve"
    gpus: Accelerators
    tp: Annotated[str, BeforeValidator(_int_as_text), Field(pattern=r"^(auto|[1-9][0-9]{0,6})$")] = "auto"
    pp: Degree = 1
    ep: Degree | None = None  # 1; with attention_dp, attention DP x TP (an explicit 1 is refused, as the CLI does)
    attention_dp: Degree = 1
    moe_tp: Degree = 1  # with attention_dp: each expert over moe_tp accelerators, EP attention DP x TP / moe_tp
    speculative_tokens: Annotated[int, Field(ge=0, le=8)] = 0
    acceptance: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None = None  # needed with drafts
    dtype: Literal["bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4", "mxfp8"] = "bf16"  # the CLI's ServeDtype
    kv_dtype: Literal["bf16", "fp8", "int8"] | None = None
    offline: bool = False
    rate: ArrivalRate | None = None
    concurrency: Degree | None = None
    engine: Literal["trtllm", "vllm", "sglang"] | None = None
    stack: CatalogRef | None = None
    input_len: Tokens | None = None
    output_len: Tokens | None = None
    workload: CatalogRef | None = None
    requests: Annotated[int, Field(ge=1, le=WEB_MAX_REQUESTS)] | None = None
    max_batch: Degree | None = None
    token_budget: Tokens = 8192
    ttft_slo: TtftSlo | None = None
    tpot_slo: TpotSlo | None = None
    prefill_gpus: Annotated[int, Field(ge=0, le=MAX_ACCELERATORS)] = 0
    prefill_tp: Degree | None = None
    prefill_pp: Degree | None = None
    prefill_ep: Degree | None = None
    prefill_attention_dp: Degree | None = None
    prefill_max_batch: Degree | None = None
    prefill_moe_tp: Degree | None = None
    usd_per_hour: Price | None = None
    seed: Seed = 0


@described
class ServePlanRequest(ModelOnSystemRequest):
    command = "serve-plan"
    rate: ArrivalRate
    workload: CatalogRef | None = None
    input_len: Tokens | None = None
    output_len: Tokens | None = None
    ttft_slo: TtftSlo | None = None
    tpot_slo: TpotSlo | None = None
    percentile: SloPercentile = 99.0
    dtypes: list[Literal["bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4", "mxfp8"]] = Field(
        ["bf16", "fp8"], min_length=1, max_length=7)  # at most every weight dtype once
    kv_dtype: Literal["bf16", "fp8", "int8"] | None = None  # the CLI's KvDtype
    speculative_tokens: Annotated[int, Field(ge=0, le=8)] = 0
    acceptance: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None = None
    try_speculative: bool = False
    max_batch: list[Degree] = Field(list(BATCH_CAPS), min_length=1, max_length=16)
    max_gpus: Accelerators | None = None
    disaggregation: bool = True
    requests: Annotated[int, Field(ge=1, le=WEB_MAX_PROBE_REQUESTS)] = 1500
    seed: Seed = 0
    stack: CatalogRef | None = None


@described
class RecsysRequest(WebRequest):
    command = "recsys"
    model: CatalogRef
    accelerator: CatalogRef
    batch: Sequences | None = None
    latency_slo: RecsysSlo | None = None

    positional = ("model",)


@described
class VideoRequest(WebRequest):
    command = "video"
    device: CatalogRef
    input: Annotated[str, Field(pattern=r"^[0-9]{2,5}p[0-9]{1,3}$")] = "2160p60"
    ladder: Annotated[int, Field(ge=1, le=100)] = 5
    codec: Literal["h264", "vp9"] = "h264"
    quality: Literal["high", "standard"] = "high"
    daily_hours: Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)] | None = None
    peak_to_average: Annotated[float, Field(ge=1.0, le=1e3, allow_inf_nan=False)] = 1.0
    baseline: CatalogRef | None = None


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
    size: Quantity  # the CLI's --bytes
    placement: Literal["packed", "spread"] = "packed"
    algorithm: Literal["ring", "tree", "hierarchical", "nvls", "sharp", "auto"] = "auto"
    sim: Literal["analytical", "flow"] = "analytical"
    flows_per_pair: Annotated[int, Field(ge=1, le=1024)] | None = None
    seed: Seed = 0
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
    rack_power: Quantity | None = None
    pue: Pue | None = None
    electricity_price: UsdPerMwh | None = None
    server_price: Price | None = None


@described
class CampusRequest(WebRequest):
    command = "campus"
    power: Quantity | None = None
    accelerator: CatalogRef | None = None
    cooling: Cooling | None = None
    phases: Annotated[str, Field(max_length=200, pattern=r"^[0-9]{4}:[0-9.]+(,[0-9]{4}:[0-9.]+)*$")] | None = None
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
    model: CatalogRef = "llama3-405b"
    checkpoint_size: Quantity | None = None
    failure_rate: CatalogRef | None = None
    restart_s: RestartSeconds | None = None
    spare_trays_per_domain: Annotated[int, Field(ge=0, le=64)] = 0
    repair_s: Duration = DEFAULT_REPAIR_S
    checkpoint_interval_s: Duration | None = None  # Daly's optimum where not given (hU58)

    flags = {"repair_s": "--repair-time",  # the CLI's name (`cli()` wrote --repair-s, which the CLI refuses)
             "checkpoint_interval_s": "--checkpoint-interval"}


class ScenarioInput(BaseModel):
    """One scenario: a shipped example preset by name, or an uploaded spec (JSON object or YAML/JSON text).

    Uploaded specs are validated by the scenario schema (planning/scenario_spec.py) exactly as `infraplan plan`
    validates its file, with the same one-line errors; no field names a file on the server.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

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


REQUESTS: dict[str, type[WebRequest]] = {
    cls.command: cls
    for cls in (TrainRequest, SearchRequest, ServeRequest, ServePlanRequest, RecsysRequest, VideoRequest,
                NetworkRequest, CollectiveRequest, FacilityRequest, CampusRequest, ReliabilityRequest, PlanRequest,
                CompareRequest)
}
"""Command name -> its request model (the web API's endpoints are POST /api/COMMAND)."""
