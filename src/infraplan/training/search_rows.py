"""How a search prices its plans (one pricing kind per training step, `Pricing`), and what its best rows carry.

`Pricing` is the extension point of `search_plans`: the kind of step every plan is priced as, chosen once up front
(`pricing_of`, from --lora-rank / --lora-targets / --dsa-stage) and carrying what that kind needs: its grid's memory
and step time, its best rows' outputs on `train`'s float path, its MFU count, its notes, its recompute modes, and
whether the search's bounds and published-MFU guard hold for it. Three kinds: full training (`Pricing`, every weight
trained), a frozen base with LoRA adapters (`FrozenBase`, `search --lora-rank`) and DeepSeek Sparse Attention's dense
warm-up (`DsaWarmup`, `search --dsa-stage warmup`, `dsa_warmup_grid`). A new kind is one subclass and one line of
`pricing_of`.

`train_command`: the `infraplan train` command line that reproduces a row exactly (every searched axis spelled out,
--lora-rank / --lora-targets and --dsa-stage included), so a search row copied into `train` gives its numbers.

A LoRA search prices every plan of the grid through the single estimate's LoRA step and memory on arrays
(`step_time.one_plan_step_time(..., lora=spec)`: `adapter_host.frozen_grid`; `frozen_memory_total`: the frozen
base's memory, `frozen_traffic.frozen_memory`), and its best rows through `train`'s own float path
(`plan_outputs.one_plan_outputs(..., lora)`), so a row equals `train` of its command. It prices every row of the
grid, without the branch and bound (`search_bounds`) or the rows' cheap bound (`row_bound`): their floors are a full
training step's lower bounds (every weight gradient computed), above a frozen-base step, so they would drop rows
that can hold the best LoRA plan, and their memory bounds count the base's gradients and optimizer states.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.dsa_warmup import check_stage, full_step_notes_left, shape_indexer_params, warmup_notes
from infraplan.training.dsa_warmup_grid import (
    WARMUP_RECOMPUTE,
    WARMUP_RECOMPUTE_NOTE,
    one_warmup_memory,
    warmup_memory_total,
    warmup_outputs_of,
    warmup_row,
    warmup_step_time,
)
from infraplan.training.estimate import evaluate_plans
from infraplan.training.fp8_slower_note import searched_plan_note
from infraplan.training.frozen_base import FLOP_CONVENTION, LoraSpec, lora_note, lora_of, rank_notes
from infraplan.training.frozen_traffic import frozen_memory
from infraplan.training.memory import memory_breakdown, memory_total
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_outputs import memory_sum, one_plan_memory, one_plan_outputs
from infraplan.training.results import PlanConfig, PlanMetrics
from infraplan.training.step_time import one_plan_step_time, step_time
from infraplan.units import number_text

# the best plans priced one at a time on the float path up to this many, as one array beyond (CPU ms, one-plan
# memo emptied, array vs one at a time: 5 plans GPT-3 175B on 4,096 H100 5.6 vs 1.1, DeepSeek-V3 on 8,192 GB200 9.4
# vs 2.5; 20 plans 5.3 vs 3.3 and 8.0 vs 6.3; 40 plans 8.0 vs 6.4 and 7.9 vs 11.8: the array's cost is mostly per
# call, the float path's per plan)
FEW_PLANS = 20


@dataclass(frozen=True)
class Pricing:
    """Full training, every weight trained (`train`'s step): the search's default pricing kind, and the base of the
    others (module docstring). A kind overrides what it prices otherwise; the search reads nothing else of it."""

    bounded: ClassVar[bool] = True
    """The branch and bound (`search_bounds`) and the rows' cheap bound (`row_bound`) may drop rows: their floors
    are this kind's lower bounds (a full training step's: every backward and weight gradient)."""
    guarded: ClassVar[bool] = True
    """The published-MFU guard ranks its plans (every published figure is a pre-training step's MFU)."""
    recompute: ClassVar[tuple[int, ...]] = ()
    """The recompute modes its grid tries (`axes.SearchSpace.recompute`; (): every mode)."""
    dsa_stage: ClassVar[str] = "sparse"
    """The --dsa-stage its rows' `train_command` gives (sparse: none given)."""

    @property
    def lora(self) -> LoraSpec | None:
        """The adapters on a frozen base (None: every weight trained); `plan_rules.framework_refusals` reads it."""
        return None

    def memory_total(self, shape: TransformerShape, plan: PlanArrays, profile: Stack,
                     split: tuple[Any, ...] | None) -> np.ndarray:
        """A search grid's memory per GPU (`split`: the step time's balanced split, `step_time.balanced_split`)."""
        return memory_total(shape, plan, profile, split)

    def step_time(self, shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> np.ndarray:
        """A search grid's step times."""
        return np.asarray(step_time(shape, cluster, plan, profile, breakdown=False)["step_time_s"])

    def one_memory(self, shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> float:
        """One plan's memory per GPU as `train` sums it (the guard's memory margin, `search_guard`)."""
        return one_plan_memory(shape, cluster, plan, profile)

    def outputs(self, shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                profile: Stack) -> dict[str, np.ndarray]:
        """`evaluate_plans` keys of the search's best plans: up to `FEW_PLANS` one at a time on the single estimate's
        float path (`estimate.one_plan_outputs`: the bits of each plan's row in a grid), more as one array."""
        return _evaluate_best(shape, cluster, plans, profile)

    def row(self, row: PlanMetrics) -> PlanMetrics:
        """A best row in this kind's MFU count (full training: the 6N-type count it has)."""
        return row

    def notes(self, shape: TransformerShape, accelerator: Accelerator, profile: Stack) -> list[str]:
        """What `train` says of this kind of step, said once under the search."""
        return []

    def best_plan_notes(self, shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                        profile: Stack) -> list[str]:
        """`train`'s notes of the best plans that only this kind prices: a low precision slower than a higher one
        (`fp8_slower_note.searched_plan_note`, this kind's step: full training's or LoRA's, hL76)."""
        slower = searched_plan_note(shape, cluster, plans, profile, self.outputs)
        return [slower] if slower else []

    def kept_notes(self, notes: list[str]) -> list[str]:
        """Those of a full step's notes of the best plan (`train`'s, `plan_notes.train_plan_notes`) this kind's
        `train` keeps: all of them but for the warm-up."""
        return notes


def _evaluate_best(shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                   profile: Stack) -> dict[str, np.ndarray]:
    """`Pricing.outputs` (full training): `evaluate_plans` one plan at a time up to `FEW_PLANS`, as one array beyond."""
    if len(plans) > FEW_PLANS:
        return evaluate_plans(shape, cluster, plans, profile)
    each = [evaluate_plans(shape, cluster, plan, profile) for plan in one_plans(plans)]
    return {k: np.concatenate([values[k] for values in each]) for k in each[0]}


@dataclass(frozen=True)
class FrozenBase(Pricing):
    """LoRA fine-tuning of a frozen base with adapters `spec`, as `train --lora-rank` (module docstring): no bounds
    (a full step's floors are above a frozen-base step's), no MFU guard (no published LoRA MFU, as `train --lora-rank`
    applies none: `search_guard.frozen_guard`), the MFU in Megatron-Bridge's LoRA count (`frozen_base.FLOP_CONVENTION`).
    """

    spec: LoraSpec
    bounded: ClassVar[bool] = False
    guarded: ClassVar[bool] = False

    @property
    def lora(self) -> LoraSpec | None:
        return self.spec

    def memory_total(self, shape: TransformerShape, plan: PlanArrays, profile: Stack,
                     split: tuple[Any, ...] | None) -> np.ndarray:
        return frozen_memory_total(shape, plan, profile, split, self.spec)

    def step_time(self, shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> np.ndarray:
        return frozen_step_time(shape, cluster, plan, profile, self.spec)

    def one_memory(self, shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> float:
        return one_plan_memory(shape, cluster, plan, profile, self.spec)

    def outputs(self, shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                profile: Stack) -> dict[str, np.ndarray]:
        return frozen_outputs(shape, cluster, plans, profile, self.spec)

    def row(self, row: PlanMetrics) -> PlanMetrics:
        return frozen_row(row)

    def notes(self, shape: TransformerShape, accelerator: Accelerator, profile: Stack) -> list[str]:
        return [lora_note(self.spec), *rank_notes(shape, self.spec)]


@dataclass(frozen=True)
class DsaWarmup(Pricing):
    """DeepSeek Sparse Attention's dense warm-up, as `train --dsa-stage warmup` (`dsa_warmup_grid`): the frozen model
    forward only, the lightning indexer alone trained; no bounds, no MFU guard (no published warm-up MFU), no
    recompute alone (`WARMUP_RECOMPUTE`: the three modes price one warm-up step and memory)."""

    bounded: ClassVar[bool] = False
    guarded: ClassVar[bool] = False
    recompute: ClassVar[tuple[int, ...]] = WARMUP_RECOMPUTE
    dsa_stage: ClassVar[str] = "warmup"

    def memory_total(self, shape: TransformerShape, plan: PlanArrays, profile: Stack,
                     split: tuple[Any, ...] | None) -> np.ndarray:
        return warmup_memory_total(shape, plan, profile, split)

    def step_time(self, shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> np.ndarray:
        return warmup_step_time(shape, cluster, plan, profile)

    def one_memory(self, shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> float:
        return one_warmup_memory(shape, cluster, plan, profile)

    def outputs(self, shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                profile: Stack) -> dict[str, np.ndarray]:
        return warmup_outputs_of(shape, cluster, plans, profile)

    def row(self, row: PlanMetrics) -> PlanMetrics:
        return warmup_row(row)

    def kept_notes(self, notes: list[str]) -> list[str]:
        return full_step_notes_left(notes)  # (as `train --dsa-stage warmup`: `dsa_warmup.warmup_estimate`)

    def notes(self, shape: TransformerShape, accelerator: Accelerator, profile: Stack) -> list[str]:
        return [*warmup_notes(shape, accelerator, shape_indexer_params(shape, profile.mtp_num_layers),
                              profile.optimizer),  # (its stepper, as `train --dsa-stage warmup` says it: hL76)
                WARMUP_RECOMPUTE_NOTE]

    def best_plan_notes(self, shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                        profile: Stack) -> list[str]:
        return []


FULL = Pricing()


def pricing_of(shape: TransformerShape, lora_rank: int | None, lora_targets: str | None,
               dsa_stage: str = "sparse") -> Pricing:
    """The pricing kind --lora-rank, --lora-targets and --dsa-stage ask for, checked: one line on a MoE model or a
    bad rank under LoRA (`frozen_base.lora_of`), a stage not known, a warm-up without the indexer or with LoRA
    (`dsa_warmup.check_stage`)."""
    lora = lora_of(shape, lora_rank, lora_targets)
    if check_stage(shape, dsa_stage, lora is not None):
        return DsaWarmup()
    return FULL if lora is None else FrozenBase(lora)


def train_command(model: str, system: str, config: PlanConfig, stack: str, sharp: bool = False,
                  memory_margin: float | None = None, pricing: Pricing = FULL, optimizer: str | None = None) -> str:
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
    if (lora := pricing.lora) is not None:  # a LoRA search's plan: the same frozen base
        args += ["--lora-rank", str(lora.rank), "--lora-targets", lora.targets]
    if optimizer is not None:  # (`training.optimizers`)
        args += ["--optimizer", optimizer]
    if pricing.dsa_stage != "sparse":  # a DSA warm-up search's plan (`dsa_warmup_grid`)
        args += ["--dsa-stage", pricing.dsa_stage]
    return shlex.join(args)


def frozen_memory_total(shape: TransformerShape, plan: PlanArrays, stack: Stack, split: tuple[Any, ...] | None,
                        lora: LoraSpec) -> np.ndarray:
    """A search grid's memory per GPU of a frozen base: `memory.memory_breakdown`'s terms with the adapters'
    gradients and optimizer states alone (`frozen_traffic.frozen_memory`), summed in `plan_memory`'s order (the
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
