"""What a training stack's framework ships: its pipeline schedules, the ZeRO stages it runs without and with
pipeline parallelism, context parallelism, and the precisions it trains in (`Stack.dtypes`: `searched_dtypes`,
`stack_dtype_notes`; Meta's Llama 3 stack reports bf16 only).

Pipeline schedules (`Stack.pipeline_schedules`; importable from `training.schedules`): `stack_schedules`,
`searched_schedules` (what `search` tries) and `stack_schedule_notes` (what `train` says of a schedule outside the
stack); a plan with PP = 1 runs no pipeline schedule, so the list restricts pipelined plans only (`training.axes`).
A plan the framework would refuse is not a plan a user can run, so the search does not propose it; `train` prices
what it is asked (as for a schedule outside the stack, `training.schedules.stack_schedule_notes`) and says so.
Each shipped stack YAML names them with a source (`Stack.zero_stages`, `Stack.pipeline_zero_stages`,
`Stack.context_parallel`):
* ZeRO with PP = 1: DeepSpeed runs stages 0-3 (0.14.4 runtime/zero/config.py `ZeroStageEnum`); Megatron-Core before
  0.12 shards only the optimizer (its distributed optimizer, ZeRO-1) plus, from 0.10.0, torch FSDP2 (`fully_shard`
  with its default reshard after forward: ZeRO-3, distributed/torch_fully_sharded_data_parallel.py:23-107);
  Megatron-FSDP (`data_parallel_sharding_strategy` optim / optim_grads / optim_grads_params = ZeRO-1/2/3) first
  ships in megatron-core 0.12.0 (distributed/custom_fsdp/; absent from 0.11.0); torchtitan's FSDP2 reshards after
  forward (ZeRO-3) or not (ZeRO-2) and has no optimizer-only mode (no ZeRO-1).
* ZeRO with PP > 1: DeepSpeed's `PipelineEngine.__init__` asserts `zero_optimization_stage() < ZeroStageEnum.
  gradients` ("ZeRO-2 and ZeRO-3 are incompatible with pipeline parallelism": 0.14.4 runtime/pipe/engine.py:72-73,
  0.9.2 (2023, Megatron-DeepSpeed's era) :58); Megatron-Core's distributed optimizer (ZeRO-1) runs with PP, its
  torch-FSDP2 path does not (Megatron-LM 0.19.2 training/arguments.py:999-1001), Megatron-FSDP does (mcore 0.16.1:
  no refusal); torchtitan applies FSDP2 per pipeline stage (torchtitan 0.3.0 distributed/fsdp.py:55-74).
* Context parallelism as modelled (the sequence cut into 2 CP chunks per rank, K and V exchanged for attention,
  `training.layer_time`): Megatron-Core from after 0.3.0 (0.8.0 parallel_state.py:313), torch's `context_parallel`
  for torchtitan; not Megatron-LM 2021/2022, not DeepSpeed (its Ulysses sequence parallelism is an all-to-all over
  heads, another mechanism: deepspeed/sequence/layer.py).
In the search (`training.search`, `search_bounds`) CP > 1 is not enumerated under a stack without CP; a ZeRO stage
refused at the plan's pipeline depth (PP = 1 or PP > 1) stays in the broadcast ZeRO axis (shared by every row) and
is counted evaluated but never feasible, as a plan over the memory is. A stack file naming none of the three keeps
everything, with a `StackLimitWarning` in search and a note in `train`. `default_stack_notes`: `train` likewise says
when no stack was asked and the default (NVIDIA software) is priced on another vendor's accelerator.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infraplan.catalog.stacks import Stack
from infraplan.errors import InputError
from infraplan.identity_memo import IdentityMemo
from infraplan.training.enums import RankOrder, Schedule
from infraplan.training.optimizer_models import zero_stages_of
from infraplan.training.schedule_models import PIPELINE_SCHEDULES

# `PlanArrays.expert_layout` codes: EP inside DP at ETP = TP (megatron-core <= 0.9.0: parallel_state.py:536 "EP |
# DP"); the expert groups over the stage's TP x CP x DP ranks at any ETP (torchtitan 0.3.0's sparse mesh); the same
# with the pipeline groups of the dense layout (megatron-core >= 0.10.0's expert rank generator, whose PP groups
# must equal the dense ones: 0.10.0 parallel_state.py:665-668, 0.16.1 :808-817; `training.plan_rules`). hE3, session 39.
EP_INSIDE_DP, EP_OVER_STAGE, EP_OVER_STAGE_SAME_PP = 0, 1, 2
ZERO_STAGES = (0, 1, 2, 3)  # the ZeRO stages modelled (`training.memory`), the search's ZeRO axis (`training.axes`)


class StackScheduleWarning(UserWarning):
    """A stack file names no `pipeline_schedules`: the search tries every registered schedule under it."""


def stack_schedules(profile: Stack) -> tuple[Schedule, ...]:
    """The pipeline schedules `profile`'s framework ships (`Stack.pipeline_schedules`), in the table's order; a
    stack naming none (a user's file without the field): every registered one. Kept per stack (frozen; by identity,
    the entry holding it): a single estimate asks for its notes every time."""
    kept = _SHIPPED.get(profile)
    if kept is not None:
        return kept
    if profile.pipeline_schedules is None:
        ships = tuple(PIPELINE_SCHEDULES)
    else:
        named = {Schedule.parse(n, f"stack {profile.name}: pipeline_schedules") for n in profile.pipeline_schedules}
        ships = tuple(code for code in PIPELINE_SCHEDULES if code in named)
    return _SHIPPED.put(profile, None, ships)


_SHIPPED: IdentityMemo[tuple[Schedule, ...]] = IdentityMemo(64)  # `stack_schedules` by stack identity


def searched_schedules(profile: Stack, asked: Sequence[Schedule] = ()) -> tuple[Schedule, ...]:
    """The schedules a search tries under `profile`: those asked for (every one when none is) that its framework
    ships; none left is an InputError, a stack naming none a `StackScheduleWarning`."""
    ships = stack_schedules(profile)
    if profile.pipeline_schedules is None:
        warnings.warn(f"stack {profile.name} names no pipeline_schedules: every registered schedule is searched "
                      f"({', '.join(s.label for s in ships)})", StackScheduleWarning, stacklevel=3)
    chosen = tuple(code for code in ships if not asked or code in asked)
    if not chosen:
        raise InputError(f"--schedule {', '.join(s.label for s in asked)}: stack {profile.name} ships none of them "
                         f"(its pipeline schedules: {', '.join(s.label for s in ships)})")
    return chosen


def stack_schedule_notes(profile: Stack, schedule: int, pp: int) -> list[str]:
    """What `train` says of a pipelined plan's schedule under `profile`: one its framework does not ship (priced as
    asked, as `request_notes` says what search would not propose), or that the stack names none. A name in the
    stack's list that is no schedule is an InputError at any PP (as `search` refuses the file)."""
    ships = stack_schedules(profile)
    if pp <= 1:
        return []
    label = Schedule.from_code(schedule).label
    if profile.pipeline_schedules is None:
        return [f"stack {profile.name} names no pipeline_schedules: the {label} schedule is priced unchecked "
                "(search tries every registered one)"]
    if schedule in ships:
        return []
    return [f"schedule outside the stack: {profile.name} does not ship the {label} pipeline schedule (its "
            f"schedules: {', '.join(s.label for s in ships)}; pipeline_schedules_source): priced as asked, a plan "
            "its framework would refuse and search does not propose"]


def sole_schedule(profile: Stack, pp: int) -> tuple[str | None, list[str]]:
    """The schedule a pipelined plan naming none (no --schedule, no --vpp) runs on a framework that ships one
    schedule other than 1F1B and interleaving (deepseek-v3: DualPipe, its `pipeline_schedules`), and the note that
    says so; (None, []) elsewhere: 1F1B or the interleave, as before. Was 1F1B, noted "outside the stack: priced as
    asked" though nothing was asked (hU53)."""
    ships = stack_schedules(profile) if pp > 1 and profile.pipeline_schedules is not None else ()
    if len(ships) != 1 or ships[0] in (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED):
        return None, []
    label = ships[0].label
    return label, [f"no --schedule: {label}, the one pipeline schedule stack {profile.name} ships "
                   "(pipeline_schedules_source); --schedule names another"]


class StackLimitWarning(UserWarning):
    """A stack file names no `zero_stages`, `pipeline_zero_stages` or `context_parallel`: the search tries every
    choice it does not name."""


def zero_stages(profile: Stack, piped: bool = False) -> tuple[int, ...]:
    """The ZeRO stages `profile`'s framework runs without pipeline parallelism (PP = 1), or with it (`piped`:
    PP > 1); a stack naming none: every stage."""
    named = profile.pipeline_zero_stages if piped else profile.zero_stages
    # (those its optimizer runs with: Muon's 0 and 1, `training.optimizers`)
    return zero_stages_of(profile, ZERO_STAGES if named is None else tuple(z for z in ZERO_STAGES if z in named))


def pipeline_zero_stages(profile: Stack) -> tuple[int, ...]:
    """The ZeRO stages `profile`'s framework runs with pipeline parallelism (PP > 1); naming none: every stage."""
    return zero_stages(profile, piped=True)


def searched_limits(profile: Stack) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    """What a search under `profile` may try: (ZeRO stages with PP = 1, ZeRO stages with PP > 1, whether CP > 1);
    a stack naming a limit not: every choice there, with a `StackLimitWarning`."""
    unnamed = [name for name in ("zero_stages", "pipeline_zero_stages", "context_parallel")
               if getattr(profile, name) is None]
    if unnamed:
        warnings.warn(f"stack {profile.name} names no {' or '.join(unnamed)}: every choice there is searched",
                      StackLimitWarning, stacklevel=3)
    return zero_stages(profile), pipeline_zero_stages(profile), profile.context_parallel is not False


def model_parallel_zero_refused(profile: Stack, zero: Any, tp: Any, cp: Any, ep: Any) -> Any:
    """Where (element-wise) a plan's ZeRO stage is one its framework does not run with TP, CP or EP > 1
    (`Stack.model_parallel_zero_stages`: NeMo 2.1's ZeRO-2 is FSDPStrategy, which builds no model parallelism);
    plain False where the stack names no such limit (hH, session 60)."""
    stages = profile.model_parallel_zero_stages
    if stages is None:
        return False
    return ~np.isin(zero, stages) & ((np.asarray(tp) > 1) | (np.asarray(cp) > 1) | (np.asarray(ep) > 1))


def refused_zero(profile: Stack, grid: Any, plan: Any, dims: int) -> Any:
    """Which plans of a search's ZeRO stages x `plan` (arrays of its PP, TP, CP, EP; the stages on the first axis,
    `dims` axes after it) `profile`'s framework refuses: a ZeRO stage outside its stages at the plan's pipeline
    depth (the grid's (2, Z) `zero_refused` table, `axes.RowGrid`) or with its model parallelism
    (`model_parallel_zero_refused`); plain False where neither applies."""
    at = (slice(None),) + (None,) * dims
    depth = False if grid.zero_refused is None else np.where(plan.pp > 1, grid.zero_refused[1][at],
                                                              grid.zero_refused[0][at])
    return depth | model_parallel_zero_refused(profile, grid.zero[at], plan.tp, plan.cp, plan.ep)


def stack_limit_notes(profile: Stack, pp: int, zero: int, cp: int, tp: int = 1, ep: int = 1) -> list[str]:
    """What `train` says of a plan whose ZeRO stage at its pipeline depth (PP = 1 or PP > 1) or with its model
    parallelism (TP, CP or EP > 1), or whose CP > 1, its framework refuses (priced as asked: a plan search does not
    propose), or whose stack names no such limit."""
    notes = []
    if bool(model_parallel_zero_refused(profile, zero, tp, cp, ep)):
        stages = ", ".join(str(z) for z in profile.model_parallel_zero_stages or ())
        notes.append(f"ZeRO outside the stack: {profile.name} does not run ZeRO-{zero} with TP {tp}, CP {cp}, EP {ep} "
                     f"(its ZeRO stages with TP, CP or EP > 1: {stages}; model_parallel_zero_stages_source): priced as "
                     "asked, a plan its framework would refuse and search does not propose")
    piped = pp > 1
    field, depth = ("pipeline_zero_stages", f"with PP {pp}") if piped else ("zero_stages", "without a pipeline")
    if getattr(profile, field) is None:
        if zero:
            notes.append(f"stack {profile.name} names no {field}: ZeRO-{zero} {depth} is priced unchecked")
    elif zero not in getattr(profile, field):
        stages = ", ".join(str(z) for z in zero_stages(profile, piped))
        notes.append(f"ZeRO outside the stack: {profile.name} does not run ZeRO-{zero} "
                     f"{'with pipeline parallelism' if piped else 'without a pipeline (PP 1)'} (its ZeRO stages "
                     f"with PP {'> 1' if piped else '= 1'}: {stages}; {field}_source): priced as asked, a plan its "
                     "framework would refuse and search does not propose")
    if cp > 1:
        if profile.context_parallel is None:
            notes.append(f"stack {profile.name} names no context_parallel: CP {cp} is priced unchecked")
        elif not profile.context_parallel:
            notes.append(f"context parallelism outside the stack: {profile.name} does not ship CP as modelled "
                         f"(context_parallel_source): CP {cp} priced as asked, a plan its framework would "
                         "refuse and search does not propose")
    return notes


def micro_batch_rules(profile: Stack | None) -> str:
    """Whose rules on the micro-batches per step `profile`'s pipeline schedules keep
    (`Stack.pipeline_micro_batch_rules`, `schedule_models.MICRO_BATCH_RULES`): torch's for torchtitan, Megatron's
    otherwise and for a stack naming none.
    `train` refuses a plan outside them and `search` proposes none, as for Megatron's rule before."""
    named = None if profile is None else profile.pipeline_micro_batch_rules
    return named or "megatron"


def expert_split(profile: Stack | None) -> str:
    """How `profile`'s framework splits the routed experts (`Stack.expert_tensor_parallel`): tp-or-ep for torchtitan
    (expert TP = TP at EP 1, expert TP 1 at EP > 1), any otherwise and for a stack naming none (hE2, session 38)."""
    named = None if profile is None else profile.expert_tensor_parallel
    return named or "any"


_LAYOUTS = {"ep-inside-dp": EP_INSIDE_DP, "ep-over-tp-cp-dp": EP_OVER_STAGE,
            "ep-over-tp-cp-dp-same-pp": EP_OVER_STAGE_SAME_PP}


def expert_layout(profile: Stack | None) -> int:
    """Where `profile`'s framework lays the routed experts' groups (`Stack.expert_parallel_layout`), as the plan's
    `expert_layout` code: over the stage's TP x CP x DP ranks for megatron-core >= 0.10 (NeMo 24.12, 26.04) and
    torchtitan, EP inside DP otherwise and for a stack naming none (hE3, session 39)."""
    named = None if profile is None else profile.expert_parallel_layout
    return _LAYOUTS[named or "ep-inside-dp"]


DEFAULT_RANK_ORDER = "tp-cp-pp-dp"  # a stack without `rank_order` (catalog/stacks.py)


def rank_order(profile: Stack | None) -> int:
    """The rank order `profile`'s framework numbers ranks in (`Stack.rank_order`; a stack naming none and None:
    `DEFAULT_RANK_ORDER`), as the plan's `order` code: what `train` prices without --order and a plan built without
    one (`PlanArrays.build`'s `enums.STACK_ORDER`) is priced in (`PlanArrays.with_expert_layout`; hN, session 53)."""
    return int(RankOrder.parse((profile.rank_order if profile is not None else None) or DEFAULT_RANK_ORDER, "order"))


UNNAMED_DEFAULT_ZERO = 1  # the ZeRO stage `train` priced without --zero before stacks named theirs


def default_zero(profile: Stack, pp: int) -> tuple[int, str | None]:
    """The ZeRO stage `train` prices when none is asked: what `profile`'s framework runs by default at the plan's
    pipeline depth (`Stack.default_zero` with PP = 1, `pipeline_default_zero` with PP > 1), and the note saying so
    where it is not the ZeRO-1 `train` priced for every stack before (NeMo's stays unsaid: the answer's config
    states it); a stack naming none: ZeRO-1, said as unnamed."""
    piped = pp > 1
    field = "pipeline_default_zero" if piped else "default_zero"
    depth = f"with PP {pp}" if piped else "without a pipeline"
    named = getattr(profile, field)
    if named is None:
        return UNNAMED_DEFAULT_ZERO, (f"no --zero: ZeRO-{UNNAMED_DEFAULT_ZERO} (stack {profile.name} names no "
                                      f"{field}; --zero sets the stage)")
    if named == UNNAMED_DEFAULT_ZERO:
        return UNNAMED_DEFAULT_ZERO, None
    return int(named), (f"no --zero: ZeRO-{named}, what {profile.name} runs by default {depth} ({field}_source; "
                        "--zero sets another)")


def searched_dtypes(profile: Stack, offered: Sequence[str], asked: str) -> list[str]:
    """The precisions a search tries under `profile`: those the accelerator `offered` (`asked` one of them, or
    "auto" for all) that the stack trains in (`Stack.dtypes`; naming none: all); an asked one outside it is an
    InputError naming the stack's, as a schedule outside it is (`searched_schedules`)."""
    wanted = list(offered) if asked == "auto" else [asked]
    trains = [d for d in wanted if profile.dtypes is None or d in profile.dtypes]
    if not trains:
        raise InputError(f"--dtype {asked}: stack {profile.name} trains in {', '.join(profile.dtypes or ())} "
                         f"({profile.dtypes_source}); a what-if stack file (extends: {profile.name}) with dtypes "
                         "names others")
    return trains


def stack_dtype_notes(profile: Stack, dtype: str) -> list[str]:
    """What `train` says of a plan in a precision its stack does not train in (priced as asked, as a ZeRO stage
    outside the stack is: `stack_limit_notes`)."""
    if profile.dtypes is None or dtype in profile.dtypes:
        return []
    return [f"precision outside the stack: {profile.name} trains in {', '.join(profile.dtypes)}, not {dtype} "
            f"({profile.dtypes_source}): priced as asked, a plan search does not propose"]


def default_stack_notes(asked: object, profile: Stack, accelerator: str, vendor: str) -> list[str]:
    """What `train` says when no stack was asked and the default, a Megatron-class stack (NVIDIA's Megatron-Core /
    NeMo software: Transformer Engine is "a library for accelerating Transformer models on NVIDIA GPUs",
    transformer_engine 2.14 METADATA, its core wheels transformer_engine_cu12 / _cu13), runs on another vendor's
    accelerator: its features (CUDA graphs, TP overlap, fp8 recipes) are then priced there as on an NVIDIA GPU."""
    if asked is not None or profile.stack_class != "megatron" or vendor.lower() == "nvidia":
        return []
    # "no stack named", not "no --stack": a plan's training service asks by its `stack` field (serving's words,
    # `stack_placement.default_serving_stack`)
    return [f"no stack named: the default {profile.name} is NVIDIA software (Megatron-Core / NeMo on CUDA); on "
            f"{accelerator} ({vendor}) its features are priced as on an NVIDIA GPU: --stack, or a plan's `stack`, "
            "names the software this accelerator runs"]


def refused_plans(profile: Stack, pp: NDArray[np.int64], zero: NDArray[np.int64],
                  cp: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which plans (arrays of their PP, ZeRO stage and CP) `profile`'s framework refuses: a ZeRO stage it does not
    run at the plan's pipeline depth, or CP > 1 where it has no CP (the search's rule, element-wise: never counted
    feasible there)."""
    zero_refused = np.where(pp > 1, ~np.isin(zero, pipeline_zero_stages(profile)), ~np.isin(zero, zero_stages(profile)))
    return np.asarray(zero_refused | ((cp > 1) & (profile.context_parallel is False)))
