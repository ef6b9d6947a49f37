"""What a search's best rows carry, and a frozen-base (LoRA) search's pricing (`search --lora-rank`).

`train_command`: the `infraplan train` command line that reproduces a row exactly (every searched axis spelled out,
--lora-rank / --lora-targets included), so a search row copied into `train` gives its numbers.

A LoRA search prices every plan of the grid through the single estimate's LoRA step and memory on arrays
(`step_time.one_plan_step_time(..., lora=spec)`: `adapter_host.frozen_grid`; `frozen_memory_total`: the frozen
base's memory, `frozen_base.frozen_memory`), and its best rows through `train`'s own float path
(`plan_outputs.one_plan_outputs(..., lora)`), so a row equals `train` of its command. It prices every row of the
grid, without the branch and bound (`search_bounds`) or the rows' cheap bound (`row_bound`): their floors are a full
training step's lower bounds (every weight gradient computed), above a frozen-base step, so they would drop rows
that can hold the best LoRA plan, and their memory bounds count the base's gradients and optimizer states.
"""

from __future__ import annotations

import shlex
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.frozen_base import FLOP_CONVENTION, LoraSpec, frozen_memory
from infraplan.training.memory import memory_breakdown
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_outputs import memory_sum, one_plan_outputs
from infraplan.training.results import PlanConfig, PlanMetrics
from infraplan.training.step_time import one_plan_step_time
from infraplan.units import number_text


def train_command(model: str, system: str, config: PlanConfig, stack: str, sharp: bool = False,
                  memory_margin: float | None = None, lora: LoraSpec | None = None,
                  optimizer: str | None = None, dsa_stage: str = "sparse") -> str:
    """The `infraplan train` command line that evaluates exactly this plan: every axis of the search spelled
    out (rank order, pipeline schedule, stack, --sharp, a --memory-margin given, a LoRA search's adapters, an
    --optimizer given and a DSA warm-up's --dsa-stage included), so a search row copied into `train` gives its
    numbers."""
    args = ["infraplan", "train", model, "--system", system, "--gpus", str(config.gpus), "--tp", str(config.tp),
            "--pp", str(config.pp), "--dp", str(config.dp), "--cp", str(config.cp), "--ep", str(config.ep),
            "--etp", str(config.etp),
            "--vpp", str(config.vpp), "--seq-len", str(config.seq_len), "--global-batch", str(config.global_batch),
            "--micro-batch", str(config.micro_batch), "--recompute", config.recompute, "--zero", str(config.zero),
            "--dtype", config.dtype, "--attention", config.attention, "--order", config.order,
            "--sequence-parallel" if config.sequence_parallel else "--no-sequence-parallel",
            "--schedule", config.schedule, "--stack", stack]
    if config.offload_layers:
        args += ["--offload-layers", str(config.offload_layers)]
    if sharp:
        args.append("--sharp")
    if memory_margin is not None:  # the row's headroom flag at the search's margin (hC70)
        args += ["--memory-margin", number_text(memory_margin)]
    if lora is not None:  # a LoRA search's plan: the same frozen base
        args += ["--lora-rank", str(lora.rank), "--lora-targets", lora.targets]
    if optimizer is not None:  # (`training.optimizers`)
        args += ["--optimizer", optimizer]
    if dsa_stage != "sparse":  # a DSA warm-up search's plan (`dsa_warmup_grid`)
        args += ["--dsa-stage", dsa_stage]
    return shlex.join(args)


def frozen_memory_total(shape: TransformerShape, plan: PlanArrays, stack: Stack, split: tuple[Any, ...] | None,
                        lora: LoraSpec) -> np.ndarray:
    """A search grid's memory per GPU of a frozen base: `memory.memory_breakdown`'s terms with the adapters'
    gradients and optimizer states alone (`frozen_base.frozen_memory`), summed in `plan_memory`'s order (the
    bits of `train --lora-rank`'s total). `split`: the step time's balanced split (`step_time.balanced_split`)."""
    memory = frozen_memory(memory_breakdown(shape, plan, stack, split), shape, plan, lora)
    return np.asarray(memory_sum(memory), dtype=np.float64)


def frozen_step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, stack: Stack,
                     lora: LoraSpec) -> np.ndarray:
    """A search grid's LoRA step times (`step_time.one_plan_step_time`'s frozen-base terms on arrays)."""
    return np.asarray(one_plan_step_time(shape, cluster, plan, stack, lora=lora)["step_time_s"])


def frozen_outputs(shape: TransformerShape, cluster: Cluster, plans: PlanArrays, stack: Stack,
                   lora: LoraSpec) -> dict[str, np.ndarray]:
    """`evaluate_plans` keys of a LoRA search's best plans, each on `train --lora-rank`'s float path
    (`one_plan_outputs(..., lora)`): a row is `train` of its command, bit for bit."""
    each = [one_plan_outputs(shape, cluster, plan, stack, lora) for plan in one_plans(plans)]
    return {k: np.array([values[k] for values in each]) for k in each[0]}


def frozen_row(row: PlanMetrics) -> PlanMetrics:
    """A LoRA search's row in `train --lora-rank`'s MFU count (`frozen_base.FLOP_CONVENTION`)."""
    return row.model_copy(update={"mfu_flop_convention": FLOP_CONVENTION})
