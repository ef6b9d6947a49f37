"""Which plans a stack replays from CUDA graphs: one rule, read per plan by every consumer (hT, session 70).

A stack's `cuda_graphs` was one setting for every plan. torchtitan 0.3.0 graphs by default, but only some plans:
trainer.py:613-614 wraps `_forward_backward_body` (one micro-batch's forward, loss and backward, :806-831) with
distributed/cudagraph.py:335-410 on NVIDIA CUDA, and `_validate_cuda_graphs` (trainer.py:179-211) refuses graphs
with PP > 1 and with EP > 1 unless the dispatcher is HybridEP with `non_blocking_capacity_factor` or MinimalAsyncEP;
zero_grad, the gradient clipping and the optimizer step stay eager (:874, :940-948). The stack file states it as
data: `cuda_graphs: true`, `cuda_graphs_when: {max_pp: 1, max_ep: 1}` (`catalog.stack_framework_rules.
CudaGraphRule`), `optimizer_graphs: false`. Every other stack keeps its `cuda_graphs` for every plan (no rule) and
its optimizer with its layers (`optimizer_graphs` true).

Read through `graphed` by: `training.layer_time` (each layer's host issue and the MoE host terms,
`host_time.add_dropless_moe_terms`, both through `with_graphs`) and `training.head_time` (the LM head's and the
embedding's launches): priced both ways where the stack has a rule, picked per plan by `graphed_terms` in
`training.step_time` (the layer terms are priced once per row of every key but PP); `training.optimizer_step`
(`optimizer_graphed`), `training.adapter_host` (LoRA's calls), `training.host_bound_note` (the remedy it names) and
the `train` / `search` rows' `cuda_graphs` flag (`training.estimate.row_fields`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import is_plain
from infraplan.training.host_time import CUDA_GRAPH_LAUNCH_S
from infraplan.training.plan import PlanArrays

__all__ = ["GRAPHED", "graph_launch_s", "graphed", "graphed_at", "graphed_terms", "optimizer_graphed", "ruled",
           "ungraphed_reason", "with_graphs"]

GRAPHED = "graphed:"  # the prefix of a term priced graphed beside its eager one (`with_graphs`)


def graphed_at(stack: Stack, pp: Any, ep: Any) -> Any:
    """`graphed` on the plans' PP and EP themselves (ints, or arrays of them), before a plan is resolved: the
    stack's `cuda_graphs` within its `cuda_graphs_when` bounds."""
    if not stack.cuda_graphs:
        return False
    rule = stack.cuda_graphs_when
    inside: Any = True
    if rule is not None and rule.max_pp is not None:
        inside = inside & (pp <= rule.max_pp)
    if rule is not None and rule.max_ep is not None:
        inside = inside & (ep <= rule.max_ep)
    return inside


def graphed(stack: Stack, plan: PlanArrays) -> Any:
    """Whether each plan's layers are replayed from CUDA graphs: the stack's `cuda_graphs`, within its
    `cuda_graphs_when` bounds where it has them (`graphed_at`). A plain bool where every plan agrees (one plan's,
    or a grid's where the rule does not split it), else a boolean array in the plans' shape."""
    inside = graphed_at(stack, plan.pp, plan.ep)
    if is_plain(inside):
        return bool(inside)
    mask = np.asarray(inside, dtype=bool)
    if mask.all() or not mask.any():
        return bool(mask.all())
    return mask


def ungraphed_reason(stack: Stack, plan: PlanArrays) -> str | None:
    """Why one plan runs eager on a stack that graphs others (its `cuda_graphs_when` bounds), or None."""
    rule = stack.cuda_graphs_when
    if not stack.cuda_graphs or rule is None or graphed(stack, plan):
        return None
    bounds = [f"{name} <= {value}" for name, value in (("PP", rule.max_pp), ("EP", rule.max_ep)) if value is not None]
    return (f"stack {stack.name} graphs only plans with {' and '.join(bounds)} (`cuda_graphs_when`: its framework "
            "refuses graphs on the others)")


def optimizer_graphed(stack: Stack, plan: PlanArrays) -> Any:
    """Whether each plan's optimizer step is launched from a graph: with its layers (`graphed`) where the stack's
    `optimizer_graphs`, never where not (torchtitan)."""
    return graphed(stack, plan) if stack.optimizer_graphs else False


def graph_launch_s(graphs: Any, eager_s: Any) -> Any:
    """Host seconds of a launch sequence: one graph launch where `graphs`, `eager_s` (its dispatches) elsewhere
    (a plain bool: the one value, as before; a mask: element-wise)."""
    if is_plain(graphs):
        return CUDA_GRAPH_LAUNCH_S if graphs else eager_s
    return np.where(graphs, CUDA_GRAPH_LAUNCH_S, eager_s)


def ruled(stack: Stack) -> bool:
    """Whether the stack graphs some plans and not others (`cuda_graphs` with a `cuda_graphs_when` rule)."""
    return stack.cuda_graphs and stack.cuda_graphs_when is not None


def with_graphs(out: dict[str, Any], stack: Stack, fill: Callable[[dict[str, Any], bool], None]) -> None:
    """`fill(out, graphs)`: a layer's host terms, graphed or eager. The layer terms are priced once per row of the
    layer keys but PP (`step_time.STRIDE_ONLY_KEYS`), so a rule that reads PP cannot pick there: on a `ruled`
    stack `out` takes the eager terms and each key the graphed fill sets otherwise beside it as `GRAPHED + key`,
    which `graphed_terms` picks per plan once the terms are on the plans' rows; elsewhere the stack's `cuda_graphs`."""
    if not ruled(stack):
        fill(out, stack.cuda_graphs)
        return
    on = dict(out)
    fill(on, True)
    fill(out, False)
    for key, value in on.items():
        if key.startswith(GRAPHED) or value is out.get(key):
            continue
        out[GRAPHED + key] = value


def graphed_terms(times: dict[str, Any], stack: Stack, plan: PlanArrays) -> dict[str, Any]:
    """`times` with each `GRAPHED` term (`with_graphs`, `head_time.head_times`) taken where the plan is `graphed`
    and dropped (the eager term kept elsewhere); `times` itself where it has none."""
    if not ruled(stack):
        return times
    mask = graphed(stack, plan)
    out = {k: v for k, v in times.items() if not k.startswith(GRAPHED)}
    for key, value in times.items():
        if key.startswith(GRAPHED):
            base = key[len(GRAPHED):]
            out[base] = (value if mask else out[base]) if is_plain(mask) else np.where(mask, value, out[base])
    return out
