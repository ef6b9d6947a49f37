"""Typer parameters shared by several `infraplan` commands: one definition each instead of copied blocks.

Each alias is an `Annotated` type a command uses as a parameter annotation, e.g.
`def train(model: ModelArgument, system: SystemOption, gpus: GpusOption, as_json: JsonFlag = False)`.
Closed sets of words are `Literal` choices: Typer turns them into click choices, so a wrong word fails with one
line and exit code 2, shell completion (`infraplan --install-completion`) offers them, and the command still
receives a plain `str`. The training choices mirror `infraplan.training.enums` (a test keeps them equal).
Options whose valid words depend on other input (a codec on a given device, cooling for a rack density) keep
their validation in the model, which gives the more useful message, and get completion only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import typer

# --- choices -------------------------------------------------------------------------------------------------
TrainDtype = Literal["bf16", "fp8"]
Recompute = Literal["none", "selective", "full"]
Attention = Literal["flash", "unfused"]
RankOrder = Literal["tp-cp-pp-dp", "tp-cp-dp-pp"]
PipelineSchedule = Literal["1f1b", "interleaved"]
CollectiveAlgorithm = Literal["ring", "tree", "hierarchical", "auto"]
CollectiveSim = Literal["analytical", "flow"]

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
GpusOption = Annotated[int, typer.Option("--gpus", help="accelerators used")]
SeedOption = Annotated[int, typer.Option("--seed", help="random seed for arrivals and lengths")]
TrainDtypeOption = Annotated[TrainDtype, typer.Option("--dtype", help="GEMM precision")]
RecomputeOption = Annotated[Recompute, typer.Option("--recompute", help="activation recomputation")]
AttentionOption = Annotated[Attention, typer.Option(
    "--attention", help="attention kernels (unfused: Megatron before 2023)")]
OrderOption = Annotated[RankOrder, typer.Option(
    "--order", help="rank placement, innermost first: tp-cp-pp-dp (Llama 3) | tp-cp-dp-pp (Megatron)")]
ScheduleOption = Annotated[PipelineSchedule | None, typer.Option(
    "--schedule", help="pipeline schedule [train: interleaved if --vpp > 1, else 1f1b; search: every one]")]
AlgorithmOption = Annotated[CollectiveAlgorithm, typer.Option("--algorithm", help="collective algorithm")]
SimOption = Annotated[CollectiveSim, typer.Option("--sim", help="analytical (alpha-beta) or flow-level model")]
CostsOption = Annotated[str | None, typer.Option("--costs", help="YAML file overriding any price, life or factor")]
CoolingOption = Annotated[str | None, typer.Option(
    "--cooling", help=" | ".join(COOLING) + " [default: air if a server/rack unit fits 30 kW, else liquid]",
    autocompletion=_completer(COOLING))]
BuildTypeOption = Annotated[str | None, typer.Option(
    "--build-type", help=" | ".join(BUILD_TYPES), autocompletion=_completer(BUILD_TYPES))]
