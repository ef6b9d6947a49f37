"""A frozen-base (LoRA, Hu et al. 2021, arXiv:2106.09685) step's DP traffic, optimizer and memory: what the adapters
reduce, step and hold beside the frozen base (the step's compute and TP terms: `training.frozen_base`).

* DP traffic and optimizer: only the adapters' gradients are reduced and only their parameters stepped (Adam on
  the adapters; the stage's parameters in `step_traffic` / `optimizer_step` are the adapters' of its layers; the
  tied embedding's gradient sync is gone); ZeRO-3 / FSDP still all-gathers the frozen weights every step (the
  gathers priced on the full parameters, the reduce-scatters on the adapters').
* memory (`frozen_memory`): weights as the plan holds them plus the adapters'; gradients and optimizer states
  only for the adapters (the base's scaled by the adapters' share of this GPU's parameters); activations as the
  recompute setting says (ASSUMPTION: unchanged; a frozen GEMM needs no saved input for a weight gradient, which
  a framework may or may not free).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.scalar_path import ops_of, to_float
from infraplan.training.adapter_sites import LoraSpec
from infraplan.training.frozen_base import ADAPTER_BYTES, adapter_params
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import local_params
from infraplan.training.step_traffic import EndStageTraffic


def frozen_traffic(traffic: dict[str, Any], shape: TransformerShape, row: PlanArrays, spec: LoraSpec,
                   dp_collectives: Callable[[float], dict[str, Any]]) -> dict[str, Any]:
    """One plan's traffic terms with the adapters as the stage's trained parameters: their DP collectives
    (`dp_collectives` of a parameter count), ZeRO-3's gathers of the full frozen weights kept, no embedding sync."""
    local, _ = adapter_params(shape, row, spec)
    params = local * ops_of(row.pp).ceil(shape.num_layers / row.pp)
    out = dict(traffic)
    out.update(sharded=params / to_float(row.dp * row.cp), embedding_sync=0.0)
    out.update(dp_collectives(params))
    if type(row.zero) is not int:  # type: ignore[comparison-overlap]  # a grid (every ZeRO stage's collectives): ZeRO-3's plans as below, picked
        z3 = row.zero >= 3
        full = dp_collectives(traffic["params"])
        out.update(gather=np.where(z3, full["gather"], out["gather"]),
                   gather_layers=np.where(z3, full["gather_layers"], out["gather_layers"]),
                   params=np.where(z3, traffic["params"], params),
                   expert_params=np.where(z3, traffic["expert_params"], 0.0))
    elif row.zero >= 3:  # FSDP / ZeRO-3 still gathers the frozen weights (module docstring): the stage's parameters
        # stay the full ones (`zero3_edges` and `fsdp2_copies` price their units as shares of them), the optimizer
        # steps the adapters' shard (`optimizer_step` reads `sharded` at ZeRO >= 1)
        full = dp_collectives(traffic["params"])
        out.update(gather=full["gather"], gather_layers=full["gather_layers"])
    else:
        out.update(params=params, expert_params=0.0)
    return out


class FrozenEndStages(EndStageTraffic):
    """`EndStageTraffic` whose stages train only their layers' adapters (their optimizer steps, their reductions)."""

    __slots__ = ("adapter_layer",)

    def __init__(self, ends: EndStageTraffic, adapter_layer: float, zero: Any) -> None:
        super().__init__(ends.shape, ends.plan, frozen_end_price(ends.price, adapter_layer, zero), ends.pair)
        self.adapter_layer = adapter_layer

    def stage_params(self, layers: Any, mtp_modules: Any, table: Any = 1.0) -> tuple[Any, Any]:
        return self.adapter_layer * layers, 0.0


def frozen_ends(ends: EndStageTraffic, shape: TransformerShape, row: PlanArrays, spec: LoraSpec) -> FrozenEndStages:
    """The end stages of a plan (a `one_row`'s, or a grid's) training their layers' adapters alone."""
    return FrozenEndStages(ends, adapter_params(shape, row, spec)[0], row.zero)


def frozen_end_price(price: Callable[[list[tuple[Any, ...]]], list[dict[str, Any]]],
                     adapter_layer: float, zero: Any) -> Callable[..., list[dict[str, Any]]]:
    """An end stage's DP collectives on its layers' adapters (ZeRO-3: its gathers on its full parameters)."""
    def priced(stages: list[tuple[Any, ...]], *rest: Any) -> list[dict[str, Any]]:
        own = price([(adapter_layer * s[2], 0.0, *s[2:]) for s in stages], *rest)
        if (zero < 3) if type(zero) is int else not np.any(zero >= 3):
            return own
        full = price(stages, *rest)
        if type(zero) is int:
            return [o | {"gather": f["gather"], "gather_layers": f["gather_layers"]}
                    for o, f in zip(own, full, strict=True)]
        z3 = zero >= 3  # (a grid: ZeRO-3's plans picked)
        return [o | {k: np.where(z3, f[k], o[k]) for k in ("gather", "gather_layers")}
                for o, f in zip(own, full, strict=True)]
    return priced


def frozen_memory(memory: dict[str, Any], shape: TransformerShape, row: PlanArrays, spec: LoraSpec) -> dict[str, Any]:
    """Memory terms (bytes per GPU) of a frozen base: the base's gradient and optimizer terms scaled to the adapters'
    share of the parameters this GPU holds (`stage_params.local_params`: a MoE rank holds E / EP experts, the
    adapters whole; hF56: the model-wide share read Mixtral's at TP 2, PP 2, EP 8 6.4x low), the adapters' bf16
    weights added (module docstring)."""
    local, _ = adapter_params(shape, row, spec)
    held = local * ops_of(row.pp).ceil(shape.num_layers / row.pp)
    share = held / local_params(shape, row)
    out = dict(memory)
    out["gradients"] = memory["gradients"] * share
    out["optimizer"] = memory["optimizer"] * share
    out["weights"] = memory["weights"] + ADAPTER_BYTES * held
    return out
