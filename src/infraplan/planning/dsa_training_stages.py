"""A `plan` training service of a DeepSeek Sparse Attention model in its stages (`dsa_stage`, `dsa_warmup_tokens`).

DeepSeek-V3.2-Exp was continued from V3.1-Terminus in two stages (DeepSeek-AI, "DeepSeek-V3.2-Exp: Boosting
Long-Context Efficiency with DeepSeek Sparse Attention", 2025, sec. 2.1; recalled, not re-read here, as
`training.dsa_warmup` cites it): a dense warm-up training the lightning indexer alone (1,000 steps x 16 x 128K =
2.1 B tokens), then the sparse stage training every parameter (15,000 steps x 480 x 128K = 943.7 B tokens). A service
states the stage its `tokens` train in (`dsa_stage`, as `train --dsa-stage`: sparse by default), or both stages:
`dsa_warmup_tokens` warm-up tokens before the sparse stage's `tokens`, the warm-up at `dsa_warmup_global_batch`
sequences a step (null: the service's `global_batch`; the report's 16, then 480, at one sequence length). The sparse
stage is `search --dsa-stage sparse`'s best plan at the job's device count; the warm-up runs on its own count of the
job's devices (hK63): the fastest of `search --dsa-stage warmup`'s best plans at the job's count and its halvings down
to where the frozen bf16 weights fit (`warmup_counts`; ties: the fewer devices), as a small warm-up batch may have no
plan on every device (the report's 16 sequences of 128K on 256 H800 under stack deepseek-v3: TP <= 8 and no CP leave
PP >= 2 for each sequence, and DualPipe needs >= 2 x PP micro-batches a step, `training.no_plan_reason`; on 128 H800,
TP8 DP16, it runs) or run faster on fewer (a 1F1B pipeline fed one micro-batch idles). Each stage's wall clock is
`train --tokens`'s (failures and checkpoints at its own job size); the run's is the two added (ASSUMPTION: no time
between the stages, the job holding its devices throughout, the rest idle during a warm-up on part of them; the
warm-up's GPU-hours, its devices x its wall clock, are its own and said), its MFU, goodput and checkpoint the sparse
stage's (the longer by ~450x in tokens). Where a stage has no plan at any count, the search's reason is the answer
(`training.no_plan_reason`: the binding rule and what to change), so `plan` says what `search` says.
A service's stages are checked when the scenario is read: a preset model by the spec, a model file before any
sizing (`scenario_checks.check_presets`, as the spec leaves files to the run), one line naming the service and the
field.
A warm-up's checkpoint holds the indexer's parameters and their optimizer states, as `train --dsa-stage warmup
--tokens` sizes it (`planning.training_run.checkpointed_params`); its first device count tried under a deadline is
where the frozen weights fit (`WARMUP_BYTES_PER_PARAM`), not the full trained state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infraplan.catalog import load_model
from infraplan.errors import InputError
from infraplan.training.dsa_warmup import check_stage, shape_indexer_params
from infraplan.training.optimizers import training_stack

WARMUP_BYTES_PER_PARAM = 2.0
"""A warm-up's memory floor per parameter where `plan` starts its device counts: the bf16 weights alone (the frozen
model holds no gradients or optimizer states; the indexer's are ~0.1 % of the parameters). A floor, not a fit: the
search prices the memory."""


def check_service_stages(service: str, model: str, stage: str | None, warmup_tokens: float | None,
                         warmup_batch: int | None = None) -> None:
    """One line naming the service and the field where its stages cannot be priced: a warm-up batch without warm-up
    tokens, warm-up tokens with the warm-up as the stage, or a warm-up (`dsa_stage: warmup`, `dsa_warmup_tokens`) on
    a model without the lightning indexer (`dsa_warmup.check_stage`'s rule). `model`: a preset or a file."""
    if warmup_batch is not None and warmup_tokens is None:
        raise InputError(f"service {service!r}: dsa_warmup_global_batch is the dense warm-up's batch before the sparse "
                         "stage: it needs dsa_warmup_tokens (a warm-up alone, dsa_stage warmup, steps at global_batch)")
    if stage is None and warmup_tokens is None:
        return
    if warmup_tokens is not None and stage == "warmup":
        raise InputError(f"service {service!r}: dsa_warmup_tokens are the warm-up's before the sparse stage's tokens; "
                         "with dsa_stage warmup the warm-up's tokens are `tokens`: drop one")
    shape = load_model(model)
    if (warmup_tokens is not None or stage == "warmup") and not shape.is_sparse_attention:
        field = "dsa_warmup_tokens" if warmup_tokens is not None else "dsa_stage warmup"
        raise InputError(f"service {service!r}: {field} prices DeepSeek Sparse Attention's dense warm-up, which needs "
                         f"a model with the lightning indexer (index_topk > 0, e.g. deepseek-v3.2): {shape.name} has "
                         "no lightning indexer")
    check_stage(shape, stage or "sparse", False)  # (a stage not known: the spec's Literal refuses it first)


def warmup_counts(gpus: int, floor: int) -> list[int]:
    """The device counts a warm-up before the sparse stage tries (module docstring): the job's `gpus` and its
    halvings down to `floor` (at least 1; the job's count alone where it is below `floor`)."""
    counts = [gpus]
    while counts[-1] // 2 >= max(floor, 1):
        counts.append(counts[-1] // 2)
    return counts


def warmup_floor(model: str, memory_bytes: float) -> int:
    """The fewest devices whose memory holds the frozen model's bf16 weights (`WARMUP_BYTES_PER_PARAM`): where
    `warmup_counts` stops halving (a floor, not a fit: the search prices the memory)."""
    return max(1, -int(-WARMUP_BYTES_PER_PARAM * float(load_model(model).total_params()) // memory_bytes))


def staged_point(point_of: Callable[[float, str, int, int], Any], gpus: int, tokens: float, global_batch: int,
                 stage: str | None, warmup_tokens: float | None, warmup_batch: int | None = None,
                 floor: int = 1) -> Any:
    """The service's `TrainingPoint` on `gpus` devices (`point_of(tokens, stage, global_batch, devices)`:
    `scenario_sizing._training_point` of the stage: a point, or the search's reason where it found no plan), or the
    reason where a stage has no plan: the one stage's, or the warm-up's (at `warmup_batch`, None: `global_batch`, on
    the fastest of `warmup_counts(gpus, floor)`) and then the sparse stage's added (module docstring)."""
    if warmup_tokens is None:
        point = point_of(tokens, stage or "sparse", global_batch, gpus)
        return point if _no_plan(point) or stage != "warmup" else point._replace(plan=f"DSA dense warm-up {point.plan}")
    batch = global_batch if warmup_batch is None else warmup_batch
    sparse = point_of(tokens, "sparse", global_batch, gpus)
    if _no_plan(sparse):
        return sparse
    tried = [(n, point_of(warmup_tokens, "warmup", batch, n)) for n in warmup_counts(gpus, floor)]
    found = [(got.wall_s, n, got) for n, got in tried if not _no_plan(got)]
    if not found:
        return f"the dense warm-up at {batch:,} sequences a step on {gpus:,} devices: {tried[0][1] or 'no plan'}"
    wall, n, warm = min(found, key=lambda f: (f[0], f[1]))
    part = "" if n == gpus else f"on {n:,} of the {gpus:,} devices ({n * wall / 3600:,.0f} GPU-hours), "
    return sparse._replace(wall_s=wall + sparse.wall_s,
                           plan=f"sparse stage {sparse.plan}; after the dense warm-up on {warmup_tokens / 1e9:.3g} B "
                           f"tokens at {batch:,} sequences a step, {part}{warm.plan.split(', MFU')[0]}, "
                           f"{wall / 86400:.2f} days")


def _no_plan(point: Any) -> bool:
    """Whether `staged_point`'s `point_of` found no plan (the search's reason, or None)."""
    return point is None or isinstance(point, str)


def checkpointed_params(model: str, stack: str | None, optimizer: str | None, stage: str) -> float:
    """The parameters one checkpoint of the stage holds with their optimizer states: the model's, a warm-up's
    indexer alone (every layer's and the stack's MTP modules', `dsa_warmup.shape_indexer_params`)."""
    shape = load_model(model)
    if stage != "warmup":
        return float(shape.total_params())
    return float(shape_indexer_params(shape, training_stack(stack, shape, optimizer).mtp_num_layers))


def state_bytes_per_param(stage: str | None, warmup_tokens: float | None, trained: Callable[[], float]) -> float:
    """Bytes a parameter where `plan`'s device counts start: a warm-up alone's weights (`WARMUP_BYTES_PER_PARAM`),
    else the trained state's (`trained()`, `state_memory.trained_bytes_per_param`)."""
    return WARMUP_BYTES_PER_PARAM if stage == "warmup" and warmup_tokens is None else trained()
