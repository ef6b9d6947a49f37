"""Typer parameters shared by several `infraplan` commands: one definition each instead of copied blocks.

Each alias is an `Annotated` type a command uses as a parameter annotation, e.g.
`def train(model: ModelArgument, system: SystemOption, gpus: GpusOption, as_json: JsonFlag = False)`.
Closed sets of words are `Literal` choices: Typer turns them into click choices, so a wrong word fails with one
line and exit code 2, shell completion (`infraplan --install-completion`) offers them, and the command still
receives a plain `str`. The training choices mirror `infraplan.training.enums`, the serving ones
`serving.kv_cache.WEIGHT_DTYPES`/`KV_DTYPES` (tests keep them equal).
Options whose valid words depend on other input (a codec on a given device, cooling for a rack density) keep
their validation in the model, which gives the more useful message, and get completion only.

Numbers are checked here, at the edge, before any model runs: `Bounded` is a click type built from pydantic
constraints (`Field(ge=..., le=..., allow_inf_nan=False)`), so nan, inf, a negative price or a 20-digit count
is one line and exit code 2, and the same `Annotated` constraint serves the Python API or a web API (the bounds
a public API function checks too are `infraplan.bounds`' `Bound`s, these parsers' base: one rule, hK66). The upper
bounds are stated limits of the product (`MAX_*`, from `infraplan.limits`), each with its reason in the error line.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from infraplan import bounds
from infraplan.bounds import Bound
from infraplan.catalog.stacks import DEFAULT_TRAINING_STACK
from infraplan.errors import InputError
from infraplan.limits import (  # the stated limits, shared with the web API's request models
    MAX_ACCELERATORS,
    MAX_PROBE_REQUESTS,
    MAX_PUE,
    MAX_REQUESTS,
    MAX_SEED,
    MIN_PUE,
    ElectricityPriceWarning,
    read_electricity_price,
)
from infraplan.training.enums import Schedule  # the enums alone: no numpy (training/__init__.py loads lazily)
from infraplan.units import parse_duration_days, parse_duration_s, quoted_text, repair_time_slip, slo_unit_slip


class Bounded(Bound):
    """A number parser checked by its `bounds.Bound` (finite, within bounds; the error names the limit's reason), the
    check the Python API makes too (`Bound.check`). Used as Typer's `parser=`: its BadParameter becomes click's
    one-line "Invalid value for '--opt': ..." (exit 2).
    """

    def __init__(self, kind: type, why: str = "", reader: Callable[[str], float] | None = None, low: str = "",
                 **constraints: Any) -> None:
        super().__init__(kind, why, low, **constraints)
        self.reader = reader  # text with a unit ("200ms"), tried when the text is not a plain number
        self.__name__ = "INTEGER" if kind is int else "FLOAT"

    @classmethod
    def of(cls, bound: Bound, reader: Callable[[str], float] | None = None) -> Bounded:
        """The parser of a shared `bounds.Bound` (the one the API function checks)."""
        return cls(bound.kind, bound.why, reader, bound.low, **bound.constraints)

    def _read(self, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        text = str(value).strip().replace("_", "")
        whole = "whole " if self.kind is int else ""
        if self.kind is int and text.lstrip("+-").isdigit() and len(text) > 30:  # past int()'s 4,300-digit limit:
            return -(10**30) if text.startswith("-") else 10**30  # refused by the bound, as any count beyond it
        try:
            return float(text) if self.kind is float else int(text)
        except ValueError:
            pass
        try:  # "1e6" for a count: accepted only when it is a whole number
            number = float(text)
        except ValueError:
            if self.reader is not None:
                try:
                    return self.reader(text)
                except ValueError as exc:  # InputError is a ValueError: its line names the units it reads
                    raise typer.BadParameter(str(exc)) from None
            raise typer.BadParameter(f"{quoted_text(value)} is not a {whole}number") from None
        if self.kind is int and math.isfinite(number) and number == int(number):
            return int(number)
        raise typer.BadParameter(f"{quoted_text(value)} is not a {whole}number")

    def __call__(self, value: Any) -> Any:
        raw = self._read(value)
        shown = value if len(str(value)) <= 40 else quoted_text(value)  # a 5,000-digit count was echoed whole
        number, refusal = self.verdict(raw, shown)
        if refusal is not None:
            raise typer.BadParameter(refusal)
        return number

    def __repr__(self) -> str:
        return f"Bounded({self.kind.__name__}, {self.constraints})"


def count(lo: int = 1, hi: int = MAX_ACCELERATORS, why: str = "") -> Bounded:
    """Whole numbers in [lo, hi]."""
    return Bounded(int, why, ge=lo, le=hi)


def number(gt: float | None = None, ge: float | None = None, le: float | None = None, why: str = "",
           reader: Callable[[str], float] | None = None, low: str = "") -> Bounded:
    """Finite numbers with the given bounds (nan and inf are always refused); `reader` parses text with a unit; `low`
    the words for a value under the lower bound (default: pydantic's, which names the bound)."""
    bounds = {k: v for k, v in (("gt", gt), ("ge", ge), ("le", le)) if v is not None}
    return Bounded(float, why, reader, low, **bounds)


class ElectricityPrice:
    """An electricity price as `--electricity-price` takes it, in USD/MWh (the cost model's unit): written with its unit
    ('70/MWh', '0.07/kWh'); a bare number is the old spelling, read as USD/MWh with a warning, refused (exit 2) where
    it is a USD/kWh slip or a price in either unit (`infraplan.limits.read_electricity_price`, the web's and a sweep's
    rule too)."""

    __name__ = "PRICE/UNIT"

    def __init__(self, option: str) -> None:
        self.option = option

    def __call__(self, value: Any) -> float:
        try:
            price, warning = read_electricity_price(value, self.option)
        except InputError as exc:  # click names the option before the line: not twice
            raise typer.BadParameter(str(exc).removeprefix(f"{self.option} ")) from None
        if warning is not None:
            warnings.warn_explicit(warning, ElectricityPriceWarning, __file__, 0, module=__name__)
        return price


class SloSeconds(Bounded):
    """A latency SLO in seconds (a Bounded duration, as SECONDS), a bare number above its ceiling refused as
    milliseconds written for seconds (`units.slo_unit_slip`: `--tpot-slo 50` is 50 s a token)."""

    def __init__(self, slo: str) -> None:
        super().__init__(float, "seconds: at most 1e9 s", parse_duration_s, gt=0.0, le=1e9)
        self.slo = slo

    def __call__(self, value: Any) -> Any:
        seconds = super().__call__(value)
        slip = slo_unit_slip(value, seconds, self.slo)
        if slip is not None:
            raise typer.BadParameter(slip)
        return seconds


class RepairSeconds(Bounded):
    """`reliability --repair-time` in seconds (a Bounded duration), a bare number below an hour refused as days or
    hours written for seconds (`units.repair_time_slip`: `--repair-time 3` beside `--days 54` was 3 s; hU62)."""

    def __init__(self) -> None:
        super().__init__(float, "seconds: at most 1e9 s", parse_duration_s, gt=0.0, le=1e9)

    def __call__(self, value: Any) -> Any:
        seconds = super().__call__(value)
        slip = repair_time_slip(value, seconds)
        if slip is not None:
            raise typer.BadParameter(slip)
        return seconds


ACCELERATORS = Bounded.of(bounds.ACCELERATORS)
POSITIVE_COUNT = count(1, MAX_ACCELERATORS)
TOKENS = Bounded.of(bounds.TOKENS)
SEQUENCES = Bounded.of(bounds.SEQUENCES)
SEED = count(0, MAX_SEED, "seeds are 32-bit unsigned integers")
SECONDS = number(gt=0.0, le=1e9, reader=parse_duration_s)  # 0.2, "200ms", "2s"
TTFT_SLO, TPOT_SLO = SloSeconds("ttft"), SloSeconds("tpot")  # SECONDS; "--tpot-slo 50" refused as a ms slip
RECSYS_SLO = SloSeconds("recsys")  # recsys --latency-slo: "20" refused as a ms slip (hU61)
PRICE = number(ge=0.0, le=1e12)

# --- choices -------------------------------------------------------------------------------------------------
TrainDtype = Literal["bf16", "fp8", "mxfp8", "nvfp4"]
Recompute = Literal["none", "selective", "full", "auto"]
Attention = Literal["flash", "unfused"]
RankOrder = Literal["tp-cp-pp-dp", "tp-cp-dp-pp"]
if TYPE_CHECKING:
    PipelineSchedule = str
else:  # every schedule of training/schedules.py PIPELINE_SCHEDULES (keyed by the Schedule enum)
    PipelineSchedule = Literal[Schedule.labels()]
CollectiveAlgorithm = Literal["ring", "tree", "hierarchical", "nvls", "nvls_tree", "sharp", "auto"]
CollectiveSim = Literal["analytical", "flow"]
ServeDtype = Literal["bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4", "mxfp8"]  # ops.precision.SERVING_FORMATS
KvDtype = Literal["bf16", "fp8", "int8"]

COOLING = ("air", "liquid", "immersion")
BUILD_TYPES = ("hyperscale", "low-cost", "high-cost", "ai-campus")


def _completer(words: tuple[str, ...]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return [w for w in words if w.startswith(incomplete)]

    return complete


# --- shared parameters ---------------------------------------------------------------------------------------
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON object")]
ModelArgument = Annotated[str, typer.Argument(help="model preset or path to an HF config.json")]
SystemOption = Annotated[str, typer.Option("--system", help="system preset or path to a system YAML")]
OptionalSystem = Annotated[str | None, typer.Option("--system", help="system preset or path to a system YAML")]
ServingSystem = Annotated[str, typer.Option("--system", help="system preset, system YAML, or an accelerator preset")]
GpusOption = Annotated[int, typer.Option("--gpus", help="accelerators used", parser=ACCELERATORS)]
SeedOption = Annotated[int, typer.Option("--seed", help="random seed for arrivals and lengths", parser=SEED)]
TrainDtypeOption = Annotated[TrainDtype, typer.Option("--dtype", help="GEMM precision")]
RecomputeOption = Annotated[Recompute, typer.Option(
    "--recompute", help="activation recomputation; auto: the least that leaves the memory margin free, else the "
    "least that fits (stated in the output)")]
AttentionOption = Annotated[Attention, typer.Option(
    "--attention", help="attention kernels (unfused: Megatron before 2023)")]
OrderOption = Annotated[RankOrder | None, typer.Option(
    "--order", help="rank placement, innermost first: tp-cp-pp-dp (Llama 3) | tp-cp-dp-pp (Megatron) [the stack's "
    "rank_order: tp-cp-dp-pp on Megatron-Core / NeMo / deepseek-v3 / DeepSpeed stacks, else tp-cp-pp-dp]")]
ScheduleOption = Annotated[PipelineSchedule | None, typer.Option(
    "--schedule", help="pipeline schedule [train: the stack's one schedule where it ships one other than 1f1b "
    "(deepseek-v3: dualpipe), else interleaved if --vpp > 1, else 1f1b; search: every one the stack's framework "
    "ships, its pipeline_schedules]")]
StackOption = Annotated[str | None, typer.Option(
    "--stack", help="software-stack profile: a preset (catalog/stacks: megatron-lm-2021, megatron-core-0.8, "
    "nemo-24.12, nemo-26.04, deepspeed, torchtitan, trtllm-0.x, vllm-0.x, ...) or a stack YAML [default: "
    f"{DEFAULT_TRAINING_STACK}, stated in the output]")]
OptimizerOption = Annotated[str | None, typer.Option(
    "--optimizer", help="adam | muon: the optimizer every plan steps with (muon: Megatron-Core's Muon on the 2-D "
    "weights, Newton-Schulz priced, AdamW on the tables; megatron stacks) [default: the stack's or its model "
    "recipe's: adam, kimi-k2 on nemo-26.04 muon]")]
AlgorithmOption = Annotated[CollectiveAlgorithm, typer.Option("--algorithm", help="collective algorithm")]
SimOption = Annotated[CollectiveSim, typer.Option("--sim", help="analytical (alpha-beta) or flow-level model")]
CostsOption = Annotated[str | None, typer.Option("--costs", help="YAML file overriding any price, life or factor")]
# train / search --lora-targets (`training.frozen_base`): one option, one help text
LoraTargetsOption = Annotated[str | None, typer.Option(
    "--lora-targets", help="with --lora-rank: the projections the adapters are on: attention (Q, K, V, O) | all "
    "(every linear layer but the router: a MoE's shared experts, and one adapter shared by each rank's routed "
    "experts, as Megatron-Bridge) [default: attention]")]
CoolingOption = Annotated[str | None, typer.Option(
    "--cooling",
    help=" | ".join(COOLING) + " or YAML file [default: air if a server/rack unit fits 30 kW, else liquid; liquid "
    "for a liquid-only part]",
    autocompletion=_completer(COOLING))]
BuildTypeOption = Annotated[str | None, typer.Option(
    "--build-type", help=" | ".join(BUILD_TYPES) + " or YAML file", autocompletion=_completer(BUILD_TYPES))]

# --- bounded numbers (Typer `parser=`), one per kind of quantity -----------------------------------------------
PP_OR_TP = count(1, 1_048_576)
ZERO_STAGE = count(0, 3, "ZeRO stages are 0-3")
RECOMPUTE_LAYERS = count(0, 1_048_576, "block recompute counts layers of one model chunk")
OFFLOAD_LAYERS = count(0, 1_048_576, "CPU offload counts layers of the model")
TOP_PLANS = Bounded.of(bounds.TOP_PLANS)
REQUESTS = count(1, MAX_REQUESTS, "the limit is 10 M requests per simulation: memory and time grow linearly")
PROBE_REQUESTS = count(1, MAX_PROBE_REQUESTS, f"the limit is {MAX_PROBE_REQUESTS:,} requests per probe, the longest "
                       "whole run serve-plan judges: a longer probe adds time, not a better answer")
BATCH_CAP = count(1, 1_048_576)
SPECULATIVE_TOKENS = count(0, 8, "draft / MTP tokens per decode step: deployments use 1-5")
ACCEPTANCE = number(ge=0.0, le=1.0, why="a per-token acceptance rate is a fraction")
ARRIVAL_RATE = Bounded.of(bounds.ARRIVAL_RATE)
PERCENTILE = number(gt=0.0, le=100.0)
PUE = number(ge=MIN_PUE, le=MAX_PUE, why="a PUE is facility over IT power, >= 1")
USD_PER_MWH = ElectricityPrice("--electricity-price")
ELECTRICITY_PRICE_HELP = "override the electricity price, e.g. 70/MWh or 0.07/kWh (a bare number: USD/MWh)"
ElectricityPriceOption = Annotated[float | None, typer.Option(
    "--electricity-price", parser=USD_PER_MWH, metavar="PRICE", help=ELECTRICITY_PRICE_HELP)]
DAYS = number(gt=0.0, le=36_500.0, why="the limit is 100 years", reader=parse_duration_days)  # 54, "54d", "2w", "12h"
HOURS_PER_DAY = Bounded.of(bounds.HOURS_PER_DAY)
FACTOR_AT_LEAST_1 = Bounded.of(bounds.FACTOR_AT_LEAST_1)
