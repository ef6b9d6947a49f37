"""Metamorphic properties of `train`'s memory (hX1, session 38).

A larger micro-batch or sequence never lowers the activation memory; recompute full <= selective <= none in
activation memory and >= in step time; a higher ZeRO stage never raises the model-state memory per GPU, except
ZeRO-3's gathered layers (below).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from test_metamorphic_hX1_hardware import METAMORPHIC, TOLERANCE, catalog_plans, train

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.pipeline_split_rule import pipeline_split_rule, split_refuses
from infraplan.training.plan_rules import pipeline_extra_layers
from infraplan.training.results import TrainingEstimate
from infraplan.training.stack_limits import expert_split


def _state(result: TrainingEstimate) -> float:
    mem = result.memory_breakdown_bytes
    return mem.weights + mem.gradients + mem.optimizer


@METAMORPHIC
@given(catalog_plans())
def test_bigger_micro_batch_never_lowers_activation_memory(drawn) -> None:
    model, system, kw = drawn
    base = train(model, system, **kw)
    bigger = train(model, system,
                      **{**kw, "micro_batch": 2 * kw["micro_batch"], "global_batch": 2 * kw["global_batch"]})
    assert bigger.memory_breakdown_bytes.activations >= base.memory_breakdown_bytes.activations
    assert _state(bigger) == _state(base)  # the batch moves no parameter


@METAMORPHIC
@given(catalog_plans())
def test_recompute_orders_memory_and_time(drawn) -> None:
    """Full <= selective <= none in activation memory, and >= in step time (each recomputes a superset of the
    previous one's forward work: Korthikanti et al. 2022, sec. 5)."""
    model, system, kw = drawn
    runs = {mode: train(model, system, **{**kw, "recompute": mode}) for mode in ("none", "selective", "full")}
    act = {mode: r.memory_breakdown_bytes.activations for mode, r in runs.items()}
    step = {mode: r.step_time_s for mode, r in runs.items()}
    assert act["full"] <= act["selective"] <= act["none"]
    assert step["full"] >= step["selective"] * (1 - TOLERANCE)
    assert step["selective"] >= step["none"] * (1 - TOLERANCE)
    assert runs["full"].hfu >= runs["full"].mfu


@METAMORPHIC
@given(catalog_plans())
def test_higher_zero_stage_never_raises_model_state_memory(drawn) -> None:
    """ZeRO 0 -> 1 -> 2 shard optimizer state, then gradients: never more bytes. ZeRO-3 shards the weights but holds
    two gathered layers (the one computing and the one prefetched: `training.memory`), so 2 -> 3 may add up to two
    unsharded layers' weights: with DP = 1 it shards nothing, and with few layers per stage over few DP ranks the
    two gathered layers outweigh the saving (qwen3-30b-a3b PP8 DP2 CP2 EP2 on GB200: 39.1 -> 40.4 GB; hX1)."""
    model, system, kw = drawn
    runs = [train(model, system, **{**kw, "zero": z}) for z in range(4)]
    states = [_state(r) for r in runs]
    assert states[1] <= states[0] * (1 + TOLERANCE)
    assert states[2] <= states[1] * (1 + TOLERANCE)
    gathered = runs[3].memory_breakdown_bytes.weights - runs[2].memory_breakdown_bytes.weights
    shape = load_model(model)
    assert runs[3].memory_breakdown_bytes.optimizer == runs[2].memory_breakdown_bytes.optimizer
    assert runs[3].memory_breakdown_bytes.gradients == runs[2].memory_breakdown_bytes.gradients
    # at most two of the heaviest layers (with every local expert: DeepSeek-V3's dense first layers are lighter)
    layer_share = 2.0 / max(1, (shape.num_layers - shape.num_dense_layers) // (kw["pp"] * kw["vpp"]))
    assert gathered <= layer_share * runs[2].memory_breakdown_bytes.weights * (1 + 1e-9)
    if kw["dp"] > 1 and kw["ep"] == 1:
        assert states[3] < states[0]  # sharding over more than one rank saves something


@METAMORPHIC
@given(catalog_plans())
def test_block_recompute_of_more_layers_trades_memory_for_time(drawn) -> None:
    """`--recompute-layers k` with full recompute (Megatron's block method): more layers recomputed per chunk never
    hold more activations nor take less time, and every layer of the chunk is the uniform full recompute."""
    model, system, kw = drawn
    chunk, uneven = divmod(load_model(model).num_layers, kw["pp"] * kw["vpp"])
    stack = resolve_stack(kw["stack"], "training", recipe_key(load_model(model)))
    balanced = kw["pp"] > 1 and stack.pipeline_split == "balanced"
    if uneven or balanced:  # chunks of two sizes (a balanced split's too, e.g. torchtitan's 24 / 25 / 24 / 23 of
        return  # 96 on PP 4): k = the shorter chunk's layers leaves a layer of the longer ones
    full = {**kw, "recompute": "full"}
    runs = [train(model, system, **full, recompute_layers=k) for k in sorted({1, max(1, chunk // 2), chunk})]
    for fewer, more in zip(runs, runs[1:], strict=False):
        assert more.memory_breakdown_bytes.activations <= fewer.memory_breakdown_bytes.activations
        assert more.step_time_s >= fewer.step_time_s * (1 - TOLERANCE)
    uniform = train(model, system, **full)
    assert runs[-1].memory_breakdown_bytes.activations == uniform.memory_breakdown_bytes.activations
    assert runs[-1].step_time_s == pytest.approx(uniform.step_time_s, rel=TOLERANCE)


@METAMORPHIC
@given(catalog_plans())
def test_offloading_more_layers_never_holds_more_activations_nor_runs_faster(drawn) -> None:
    """`--offload-layers N` (Megatron-Core cpu_offloading; PP 1, no recompute): a larger N never holds more
    activations on the GPU nor shortens the step (the copies hide under the compute where they fit)."""
    model, system, kw = drawn
    if kw["pp"] > 1:
        return
    plain = {**kw, "recompute": "none"}
    layers = load_model(model).num_layers
    runs = [train(model, system, **plain, offload_layers=n) for n in sorted({0, 1, layers // 2, layers - 1})]
    for fewer, more in zip(runs, runs[1:], strict=False):
        assert more.memory_breakdown_bytes.activations <= fewer.memory_breakdown_bytes.activations
        assert more.step_time_s >= fewer.step_time_s * (1 - TOLERANCE)


@METAMORPHIC
@given(catalog_plans(max_dp=8))
def test_sharding_further_never_raises_memory(drawn) -> None:
    """CP x 2 (twice the GPUs) never raises the activations nor the state; EP x 2 inside the same DP never raises the
    weights; PP x 2 never raises the state of the heaviest stage."""
    model, system, kw = drawn
    shape, base = load_model(model), train(model, system, **kw)
    stack = resolve_stack(kw["stack"], "training", recipe_key(shape))  # its even split may refuse 2 x PP (hR44)
    gpus = 2 * kw["gpus"]
    if gpus <= Cluster.resolve(system).for_gpus(gpus).total_accelerators:
        wider = train(model, system, **{**kw, "gpus": gpus, "cp": 2 * kw["cp"]})
        assert wider.memory_breakdown_bytes.activations <= base.memory_breakdown_bytes.activations
        assert _state(wider) <= _state(base) * (1 + TOLERANCE)
        chunks, slots = 2 * kw["pp"] * kw["vpp"], shape.num_layers + pipeline_extra_layers(stack)
        rule = pipeline_split_rule(stack)
        if chunks <= shape.num_layers and (rule is None or not split_refuses(slots, 2 * kw["pp"], kw["vpp"], rule)):
            # twice the micro-batches: a multiple of the new PP, as every stack's schedule rules take (state only)
            deeper = train(model, system,
                           **{**kw, "gpus": gpus, "pp": 2 * kw["pp"], "global_batch": 2 * kw["global_batch"]})
            assert _state(deeper) <= _state(base) * (1 + TOLERANCE)
    if (shape.is_moe and kw["dp"] % (2 * kw["ep"]) == 0 and shape.num_experts % (2 * kw["ep"]) == 0
            and (expert_split(stack) != "tp-or-ep" or kw["ep"] > 1)):
        # (torchtitan: EP > 1 runs at expert TP 1, EP 1 at expert TP = TP: from EP 1 the experts leave TP, more per GPU)
        folded = {"etp": 1} if expert_split(stack) == "tp-or-ep" else {}
        split = train(model, system, **{**kw, "ep": 2 * kw["ep"], **folded})
        assert split.memory_breakdown_bytes.weights <= base.memory_breakdown_bytes.weights * (1 + TOLERANCE)
