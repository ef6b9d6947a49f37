"""Why a search enumerated no valid plan, and what would give it one (`search`'s `reason`, `plan`'s line).

A search's candidates are every layout of its axes (`axes.enumerate_axes`: TP, CP, PP, VPP, DP, EP, micro-batch,
the stack's schedules, ZeRO stages and CP) whose data-parallel degree divides the global batch; each must then meet
every rule a user's plan meets (`plan_rules.plan_violations`: the schedules' micro-batch rules, the stack's layer
split, EP dividing DP, ...) and run on the stack's libraries (`plan_rules.framework_refusals`: DeepSeek Sparse
Attention at CP > 1 on megatron-core 0.16-0.18, ...). Where candidates exist and every one breaks a rule, the line
names the binding rule: the one that alone refuses the most candidates (each of those would run with that rule
lifted), with the rule's own reason and source, and what the batch asks of the layout (GPUs / global batch ranks of
TP x CP x PP for each sequence, TP within the scale-up domain, CP where the stack and model run it). What to change is
probed on the same rules, never assumed: the largest count of GPUs / 2^k with a valid candidate, --cross-node-tp, and
the smallest global batch of 2^k x the asked one (k <= `BATCH_DOUBLINGS`) with one (a probe finds valid layouts;
whether they fit the memory is the search's to say). Where no candidate is enumerated at all, the batch divides no
data-parallel degree: `no_valid_plan_reason`'s line, as before.
DeepSeek-V3.2's report warm-up (16 sequences of 128K, DeepSeek-AI 2025, recalled) on 256 H800 under stack deepseek-v3
(DualPipe only, no CP): TP <= 8 leaves PP >= 2 for each sequence's 16 GPUs, and DualPipe needs >= 2 x PP micro-batches
a step (deepseek-ai/DualPipe 1.0.0 dualpipe/dualpipe.py:333 asserts `num_chunks >= num_ranks * 2`, at :327 forward-only
included), one here: valid plans at 128 GPUs (TP8 DP16), with --cross-node-tp (TP16), or at 64 sequences a step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops.sparse_attention import is_sparse
from infraplan.training.axes import SearchSpace, enumerate_axes
from infraplan.training.enums import Recompute
from infraplan.training.frozen_base import LoraSpec
from infraplan.training.pipeline_split_rule import pipeline_split_rule
from infraplan.training.plan_rules import framework_refusals, pipeline_extra_layers, plan_violations
from infraplan.training.sparse_attention_rules import DSA_STACK_RULES
from infraplan.training.stack_limits import expert_split, micro_batch_rules, model_parallel_zero_refused

BATCH_DOUBLINGS = 6  # the global batches probed: 2x ... 64x the asked one
# candidates beyond which a space is not explained (its rule masks ~25 bytes a candidate; the reason falls back to
# `lead`, a probe to "not found"): an empty search's spaces are far smaller (256 H800, DeepSeek-V3.2: 1,404 / 2,472)
EXPLAIN_MAX_PLANS = 1 << 21
_NONE = (int(Recompute.NONE),)  # recompute none alone: no rule refuses it that another mode meets (`_BLOCK_*`)


def _rules(shape: TransformerShape, profile: Stack, space: SearchSpace,
           lora: LoraSpec | None) -> tuple[int, list[tuple[np.ndarray, str]]]:
    """(candidates, (mask, reason) of each rule over them) of `space` under `profile` (module docstring); (0, [])
    beyond `EXPLAIN_MAX_PLANS`."""
    plans = enumerate_axes(space)
    n = len(plans)
    if not n or n > EXPLAIN_MAX_PLANS:
        return 0, []
    rules = plan_violations(shape, plans, pipeline_extra_layers(profile), micro_batch_rules(profile),
                            expert_split(profile), pipeline_split_rule(profile))
    rules += framework_refusals(shape, plans, profile, lora, "search")
    rules.append((np.asarray(model_parallel_zero_refused(profile, plans.zero, plans.tp, plans.cp, plans.ep)),
                  f"stack {profile.name} runs no such ZeRO stage with model parallelism"))
    return n, [(np.broadcast_to(np.asarray(bad, dtype=bool), (n,)), why) for bad, why in rules]


def _valid(shape: TransformerShape, profile: Stack, space: SearchSpace, lora: LoraSpec | None) -> bool:
    """Whether `space` holds a candidate every rule lets run."""
    n, rules = _rules(shape, profile, space, lora)
    if not n:
        return False
    broken = np.zeros(n, dtype=bool)
    for bad, _ in rules:
        broken |= bad
    return not bool(broken.all())


def binding_rule(shape: TransformerShape, profile: Stack, space: SearchSpace,
                 lora: LoraSpec | None = None) -> tuple[str, int, int] | None:
    """(reason, candidates it alone refuses, candidates) of the rule refusing the most candidates alone (else the
    most candidates, counted as 0 alone); None where no candidate is enumerated or one is valid."""
    n, rules = _rules(shape, profile, space, lora)
    if not n:
        return None
    masks = np.array([bad for bad, _ in rules])
    count = masks.sum(axis=0)
    if (count == 0).any():
        return None
    alone = (masks & (count == 1)).sum(axis=1)
    pick = int(np.argmax(alone)) if alone.max() > 0 else int(np.argmax(masks.sum(axis=1)))
    return rules[pick][1], int(alone[pick]), n


def why_no_plan(shape: TransformerShape, profile: Stack, space: SearchSpace, cross_node_tp: bool, lead: str,
                lora: LoraSpec | None = None) -> str:
    """`lead` (`search.no_valid_plan_reason`'s line) where `space` (the search's, tried at recompute none alone)
    enumerates no candidate, else the binding rule, what the batch asks of the layout and the changes that give valid
    plans (module docstring)."""
    space = replace(space, recompute=_NONE)
    found = binding_rule(shape, profile, space, lora)
    if found is None:
        return lead
    why, alone, n = found
    gpus, batch = space.gpus, space.global_batch
    dsa = DSA_STACK_RULES and is_sparse(shape) and profile.sparse_attention == "dsa"  # (`dsa_cp_refused`'s rule)
    cp = ("CP 1: the stack runs none" if not space.context_parallel
          else "CP 1: DeepSeek Sparse Attention runs none on this stack" if dsa else "")
    per = -(-gpus // batch)
    asks = (f"{batch:,} sequences on {gpus:,} GPUs need TP x CP x PP >= {per:,} for each (TP <= {space.max_tp:,}"
            f"{', ' + cp if cp else ''}); " if per > 1 else "")
    changes = probe_changes(lambda s: _valid(shape, profile, s, lora), space, cross_node_tp)
    which = f"{alone:,} this one alone" if alone else "each two or more, the most this one"
    return (f"no valid plan for {gpus:,} GPUs with global batch {batch:,}: {asks}every one of the {n:,} candidate "
            f"layouts breaks a rule, {which}: {why}"
            + (f"; valid plans {' or '.join(changes)}" if changes else ""))


def probe_changes(valid: Callable[[SearchSpace], bool], space: SearchSpace, cross_node_tp: bool) -> list[str]:
    """The changes (module docstring) under which `valid` finds a candidate, in words."""
    found: list[str] = []
    fewer = space.gpus // 2
    while fewer >= 1 and not valid(replace(space, gpus=fewer)):
        fewer //= 2
    if fewer >= 1:
        found.append(f"at {fewer:,} GPUs")
    if not cross_node_tp and space.max_tp < space.gpus and valid(replace(space, max_tp=space.gpus)):
        found.append("with --cross-node-tp")
    batch = next((space.global_batch << k for k in range(1, BATCH_DOUBLINGS + 1)
                  if valid(replace(space, global_batch=space.global_batch << k))), None)
    if batch is not None:
        found.append(f"at a global batch of {batch:,}")
    return found
