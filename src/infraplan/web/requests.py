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

The network, facility, campus, reliability and scenario (`plan`, `compare`) requests are
`web.infrastructure_requests`; `REQUESTS` below maps every command to its model.

Each model's `cli()` is the `infraplan ...` command line that reproduces it ("copy as CLI command").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BeforeValidator, Field

from infraplan.catalog.video_schemas import Codec, Quality
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
from infraplan.video.transcode import INPUT_TEXT as VIDEO_INPUT_TEXT
from infraplan.web.infrastructure_requests import (
    CampusRequest,
    CollectiveRequest,
    CompareRequest,
    FacilityRequest,
    NetworkRequest,
    PlanRequest,
    ReliabilityRequest,
)
from infraplan.web.request_descriptions import described
from infraplan.web.request_fields import (
    ArrivalRate,
    CatalogRef,
    CountText,
    ModelOnSystemRequest,
    RecsysSlo,
    ScheduleName,
    SequencesQuantity,
    TpotSlo,
    TtftSlo,
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
    optimizer: Literal["adam", "muon"] | None = None  # --optimizer (null: the stack's or its model recipe's)
    dsa_stage: Literal["sparse", "warmup"] = "sparse"  # --dsa-stage (warmup: a DSA model's only, `dsa_warmup`)
    memory_margin: float | None = Field(None, ge=0.0, lt=1.0, allow_inf_nan=False)  # null: 0.05 (as search's)
    tokens: CountText | None = None  # read as --tokens reads it: its refusals in its words (hJ58)
    location: CatalogRef | None = None
    server_price: Price | None = None
    eval_every: SequencesQuantity | None = None  # the CLI's --eval-every / --eval-samples (need tokens)
    eval_samples: SequencesQuantity | None = None
    no_spare_policy: Literal["shrink", "wait"] | None = None  # --no-spare-policy (needs tokens; null: shrink)


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
    memory_margin: float | None = Field(None, ge=0.0, lt=1.0, allow_inf_nan=False)  # null: 0.05, the CLI's default
    lora_rank: int | None = None  # --lora-rank (checked by `training.frozen_base.lora_spec`: one line)
    lora_targets: Literal["attention", "all"] | None = None  # --lora-targets (needs lora_rank; attention)
    optimizer: Literal["adam", "muon"] | None = None  # --optimizer (null: the stack's or its model recipe's)
    dsa_stage: Literal["sparse", "warmup"] = "sparse"  # --dsa-stage (warmup: a DSA model's only, `dsa_warmup_grid`)
    tokens: CountText | None = None  # search --tokens: the best plan's whole run, as train's (one GPU count)
    location: CatalogRef | None = None
    server_price: Price | None = None
    eval_every: SequencesQuantity | None = None  # as train's (need tokens)
    eval_samples: SequencesQuantity | None = None
    no_spare_policy: Literal["shrink", "wait"] | None = None  # search --no-spare-policy (needs tokens; null: shrink)


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
    token_budget: Tokens | None = None  # the stack's on the part (`ServingEngine.budget_on`)
    ttft_slo: TtftSlo | None = None
    tpot_slo: TpotSlo | None = None
    prefill_gpus: Annotated[int, Field(ge=0, le=MAX_ACCELERATORS)] = 0
    prefill_tp: Degree | None = None
    prefill_pp: Degree | None = None
    prefill_ep: Degree | None = None
    prefill_attention_dp: Degree | None = None
    prefill_max_batch: Degree | None = None
    prefill_moe_tp: Degree | None = None
    prefill_token_budget: Tokens | None = None  # --token-budget, else the stack's on its attention DP (hG73)
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
    token_budget: Tokens | None = None  # the stack's on the part, as `serve`'s (hS2-77)
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
    input: Annotated[str, Field(pattern=rf"^\s*{VIDEO_INPUT_TEXT}\s*$")] = "2160p60"  # the CLI's reading
    ladder: Annotated[int, Field(ge=1, le=100)] | None = None
    codec: Codec = "h264"  # every codec the catalog names, as the CLI (a device that lacks one: its 400 line)
    quality: Quality = "high"
    daily_hours: Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)] | None = None
    peak_to_average: Annotated[float, Field(ge=1.0, le=1e3, allow_inf_nan=False)] = 1.0
    baseline: CatalogRef | None = None


REQUESTS: dict[str, type[WebRequest]] = {
    cls.command: cls
    for cls in (TrainRequest, SearchRequest, ServeRequest, ServePlanRequest, RecsysRequest, VideoRequest,
                NetworkRequest, CollectiveRequest, FacilityRequest, CampusRequest, ReliabilityRequest, PlanRequest,
                CompareRequest)
}
"""Command name -> its request model (the web API's endpoints are POST /api/COMMAND)."""
