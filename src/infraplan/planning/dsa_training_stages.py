"""A `plan` training service of a DeepSeek Sparse Attention model in its stages (`dsa_stage`, `dsa_warmup_tokens`).

DeepSeek-V3.2-Exp was continued from V3.1-Terminus in two stages (DeepSeek-AI, "DeepSeek-V3.2-Exp: Boosting
Long-Context Efficiency with DeepSeek Sparse Attention", 2025, sec. 2.1; recalled, not re-read here, as
`training.dsa_warmup` cites it): a dense warm-up training the lightning indexer alone (1,000 steps x 16 x 128K =
2.1 B tokens), then the sparse stage training every parameter (15,000 steps x 480 x 128K = 943.7 B tokens). A service
states the stage its `tokens` train in (`dsa_stage`, as `train --dsa-stage`: sparse by default), or both stages:
`dsa_warmup_tokens` warm-up tokens before the sparse stage's `tokens`. Each stage is `search --dsa-stage`'s best plan
at the same device count, its wall clock `train --tokens`'s (failures and checkpoints at that job size); the run's
wall clock is the two added (ASSUMPTION: no time between the stages, one job holding the devices throughout), its
MFU, goodput and checkpoint the sparse stage's (the longer by ~450x in tokens). A warm-up's checkpoint holds the
indexer's parameters and their optimizer states, as `train --dsa-stage warmup --tokens` sizes it
(`planning.training_run.checkpointed_params`); its first device count tried under a deadline is where the frozen
weights fit (`WARMUP_BYTES_PER_PARAM`), not the full trained state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infraplan.catalog import load_model
from infraplan.training.dsa_warmup import check_stage, shape_indexer_params
from infraplan.training.optimizers import training_stack

WARMUP_BYTES_PER_PARAM = 2.0
"""A warm-up's memory floor per parameter where `plan` starts its device counts: the bf16 weights alone (the frozen
model holds no gradients or optimizer states; the indexer's are ~0.1 % of the parameters). A floor, not a fit: the
search prices the memory."""


def check_service_stages(model: str, stage: str | None, warmup_tokens: float | None) -> None:
    """One line where a service's stages cannot be priced: a stage not known, a warm-up on a model without the
    lightning indexer (`dsa_warmup.check_stage`), or warm-up tokens with the warm-up as the stage."""
    if stage is None and warmup_tokens is None:
        return
    if warmup_tokens is not None and stage == "warmup":
        raise ValueError("dsa_warmup_tokens are the warm-up's before the sparse stage's tokens; with dsa_stage warmup "
                         "the warm-up's tokens are `tokens`: drop one")
    check_stage(load_model(model), "warmup" if warmup_tokens is not None else stage or "sparse", False)


def staged_point(point_of: Callable[[float, str], Any], tokens: float, stage: str | None,
                 warmup_tokens: float | None) -> Any:
    """The service's `TrainingPoint` at one device count (`point_of(tokens, stage)`: `scenario_sizing._training_point`
    of the stage), or None when a stage has no plan: the one stage's, or the warm-up's and then the sparse stage's
    added (module docstring)."""
    if warmup_tokens is None:
        point = point_of(tokens, stage or "sparse")
        return point if point is None or stage != "warmup" else point._replace(plan=f"DSA dense warm-up {point.plan}")
    warm, sparse = point_of(warmup_tokens, "warmup"), point_of(tokens, "sparse")
    if warm is None or sparse is None:
        return None
    return sparse._replace(wall_s=warm.wall_s + sparse.wall_s,
                           plan=f"sparse stage {sparse.plan}; after the dense warm-up on {warmup_tokens / 1e9:.3g} B "
                           f"tokens, {warm.plan.split(', MFU')[0]}, {warm.wall_s / 86400:.2f} days")


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
