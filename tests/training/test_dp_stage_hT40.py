"""The DP exposure priced on the stages that exist (hT40, session 40).

Each pipeline stage's DP ranks reduce their own stage's gradients behind their own backward (and gather its
parameters behind its own forward: Megatron-Core DDP per model chunk, megatron-core 0.16.1
distributed/distributed_data_parallel.py:420-446), and the step ends when the last of them is done: the exposed DP
time is the most of the stages' that exist, each on its own parameters and windows. The heaviest was priced on the
step's traffic, ceil(L / p) layers AND a table, a stage that does not exist where the heaviest is a middle stage (no
table) or an end stage of other than ceil(L / p) layers, and a middle stage with more layers than the heaviest end
stage was not priced at all.

The hand cases price one plan's floats through `step_assembly.assemble_step` with its per-layer terms written out
(every term not named is 0 s, as tests/training/test_end_stage_dp_hD5.py) and a DP all-reduce of c seconds a
parameter, on Megatron-Core's even split with the embedding and the loss counted as layers: 6 layers on PP 4
(L' = 8, 2 a stage): ranks 0 and 3 hold 1 layer and their table, ranks 1 and 2 (the middle stages) 2 layers and no
table, ceil(6 / 4) = 2 = the traffic's layers. Parameters of Llama 3.1 405B at TP 8: a layer P = 398,458,880, a
table T = 262,668,288 (T / P = 0.65921...). A layer's forward 1 s, backward 2 s of GPU work issued in as much host
time: a stage's windows are its layers' 1 s and 2 s each.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import ZeroTerms, assert_grid_points_price_alone_alike, counted_split_stack, dp_stage_grid

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import step_assembly
from infraplan.training.estimate import evaluate_plans
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import assemble_step
from infraplan.training.step_traffic import EndStageTraffic, dp_collectives, dp_collectives_once, end_stage_params

P, T = 398_458_880.0, 262_668_288.0  # a layer's and a table's parameters on one GPU at TP 8 (module docstring)
FORMS = ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers")




def _step(zero: int, pp: int, layer_s: float, per_collective: float = 0.0, layers: int = 6, split: str = "even",
          **terms: float) -> tuple[dict[str, Any], dict[str, Any], list[tuple[float, float, float]]]:
    """A 1F1B step of `layers` layers on PP `pp`, TP 8, DP 2, 32 micro-batches under `_counted`: a layer's all-reduce
    (and ZeRO-3 gather) `layer_s` seconds, c = layer_s / P a parameter, plus `per_collective` seconds a collective
    for ZeRO-3's one per local layer. The traffic as `step_traffic.pipeline_and_dp_traffic` prices it: ceil(L / p)
    layers and a table (PP 1: all layers and both untied tables). Returns the step, its terms and the (parameters,
    layers, tables) of every stage priced on its own."""
    c = layer_s / P
    asked: list[tuple[float, float, float]] = []

    def priced(params: float, experts: float, held: float, mtp: float, table: float = 1.0) -> dict[str, float]:
        asked.append((params, held, table))
        return {"allreduce": c * params, "scatter": 0.0, "gather": 0.0, "scatter_layers": 0.0,
                "gather_layers": c * params + per_collective * held}

    stack = counted_split_stack() if split == "even" else load_stack("megatron-core-0.8").model_copy(
        update={"pipeline_split": split})
    layer = {"compute_fwd": 1.0, "compute_bwd": 2.0, "host_fwd": 1.0, "host_bwd": 2.0}
    lt = ZeroTerms(with_stage_split(SimpleNamespace(num_layers=layers), stack,  # type: ignore[arg-type]
                                 ZeroTerms(layer | terms), float(pp)))
    traffic_layers = math.ceil(layers / pp)
    params = traffic_layers * P + (T if pp > 1 else 2 * T)
    lt.update(priced(params, 0.0, traffic_layers, 0.0), params=params, expert_params=0.0)
    asked.clear()
    plan = PlanArrays.one_plan(tp=8, pp=pp, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=8192, recompute=0, zero=zero, dtype=0, attention=0, order=0,
                               sequence_parallel=0).one_row
    rates = cluster_pricing(Cluster.resolve("dgx-h100-superpod").for_gpus(8 * pp * 2), stack).rates
    ends = EndStageTraffic(load_model("llama3-405b"), plan, lambda stages: [priced(*stage) for stage in stages])
    out = assemble_step(plan, lt, lt, stack, 0.0, rates, FLOAT_OPS, False, ends)
    return out, lt, asked


def test_the_middle_stage_of_ceil_l_over_p_layers_is_priced_without_a_table() -> None:
    """A layer's all-reduce 7 s past its 2 s backward. The heaviest, a middle stage (2 layers, no table): 2 x 7 - 4 =
    10 s, the step's; an end stage (1 layer and its table, window 2 s): 7 (1 + T/P) - 2 = 9.6145 s. Before: the
    heaviest priced on the traffic's 2 layers AND a table, 7 (2 + T/P) - 4 = 14.6145 s."""
    out, lt, asked = _step(0, 4, 7.0)
    assert (lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (2, 0, 0)
    assert out["dp_comm_exposed"] == pytest.approx(2 * 7.0 - 4.0, rel=1e-12)
    assert (2 * P, 2.0, 0.0) in asked  # the middle stage's own parameters, no table


def test_an_end_stage_sets_the_most_where_the_middle_hides_more() -> None:
    """A layer's all-reduce 2.5 s: the heaviest middle stage exposes 2 x 2.5 - 4 = 1 s, an end stage 2.5 (1 + T/P) -
    2 = 2.1480 s, the step's (before: the traffic's 2.5 (2 + T/P) - 4 = 2.6480 s on the middle's windows)."""
    out, _, _ = _step(0, 4, 2.5)
    assert out["dp_comm_exposed"] == pytest.approx(2.5 * (1.0 + T / P) - 2.0, rel=1e-12)
    assert out["dp_comm_exposed"] == pytest.approx(2.1480, abs=1e-4)


def test_a_middle_stage_with_more_layers_than_the_heaviest_end_stage_is_priced() -> None:
    """The LM head 1 s forward, 2 s backward of GPU work (no host time): the last stage (1 layer + head, 6 s a
    micro-batch) is the heaviest, tied with a middle stage's 2 layers (ties: the last). Its windows are its layer's
    (the head runs after the forward's sync, its backward GPU time past the host's): 1 s and 2 s. The last and the
    first expose 7 (1 + T/P) - 2 = 9.6145 s each; a middle stage (2 layers, no table, windows 2 s and 4 s)
    2 x 7 - 4 = 10 s, the step's. Before: no middle stage was priced, and the heaviest on the traffic's 2 layers and
    a table on its 1-layer window: 7 (2 + T/P) - 2 = 16.6145 s."""
    out, lt, asked = _step(0, 4, 7.0, head_compute=3.0, head_gpu_fwd=1.0, head_gpu_bwd=2.0)
    assert (lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (1, 0, 1)
    assert out["dp_comm_exposed"] == pytest.approx(2 * 7.0 - 4.0, rel=1e-12)
    assert (P + T, 1.0, 1.0) in asked and (2 * P, 2.0, 0.0) in asked


def test_zero_three_gathers_once_per_layer_of_the_middle_stage() -> None:
    """ZeRO-3, a layer's gather 7 s and 0.1 s a collective, one per local layer, past the forward window and again
    past the backward one. A middle stage: 2 x 7 + 0.2 = 14.2 s a pass, (14.2 - 2) + (14.2 - 4) = 22.4 s, the step's;
    an end stage: 7 (1 + T/P) + 0.1 = 11.7145 s a pass, (11.7145 - 1) + (11.7145 - 2) = 20.4290 s. (One gather for
    the middle stage's two layers: 22.2 s; three: 22.6 s.)"""
    out, _, _ = _step(3, 4, 7.0, per_collective=0.1, head_compute=3.0, head_gpu_fwd=1.0, head_gpu_bwd=2.0)
    assert out["dp_comm_exposed"] == pytest.approx((14.2 - 2.0) + (14.2 - 4.0), rel=1e-12)


def test_two_stages_are_two_end_stages_on_the_traffic() -> None:
    """PP 2 (L' = 8, 4 a stage: 3 layers each, ceil(6 / 2) = 3): the last (3 layers + its table, the heaviest) holds
    the traffic's parameters, so its exposure is the traffic's on its windows, 2.5 (3 + T/P) - 6 = 3.1480 s; the
    first holds the same, and nothing is priced on its own."""
    out, lt, asked = _step(0, 2, 2.5)
    assert (lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (3, 0, 1)
    assert out["dp_comm_exposed"] == pytest.approx(2.5 * (3.0 + T / P) - 6.0, rel=1e-12)
    assert asked == []


def test_one_stage_holds_both_tables() -> None:
    """PP 1: one stage of the 6 layers and both untied tables (the traffic's): 2.5 (6 + 2 T/P) - 12 = 6.2961 s."""
    out, _, asked = _step(0, 1, 2.5)
    assert out["dp_comm_exposed"] == pytest.approx(2.5 * (6.0 + 2.0 * T / P) - 12.0, rel=1e-12)
    assert asked == []


def test_the_balanced_splits_ends_hold_what_equal_middle_stages_leave() -> None:
    """The balanced split (Megatron-Core's uneven split: the stages between the first and the last hold as many layers
    each, transformer_block.py:102-147) of 7 layers on PP 4, the embedding's and the LM head's work 4 s a micro-batch
    each (1 s forward, 3 s backward of GPU work) against a layer's 3 s: the heaviest is a middle stage of 3 layers
    (9 s; an end stage of 2 layers would take 10 s), so the other middle stage holds 3 and the ends the 1 left: the
    first 1 and its table, the last its table alone (before: the first 3, as many as the heaviest, the last 1, the
    other middle stage none). ZeRO-0, a layer's all-reduce 2.5 s: the heaviest exposes 3 x 2.5 - 6 = 1.5 s, the first
    2.5 (1 + T/P) - 2 = 2.1480 s, the step's; the last, its table alone: 2.5 T/P = 1.6480 s (before: the first's 3
    layers and table, 2.5 (3 + T/P) - 6 = 3.1480 s)."""
    end = {"embed_gpu_fwd": 1.0, "embed_gpu_bwd": 3.0, "head_gpu_fwd": 1.0, "head_gpu_bwd": 3.0}
    out, lt, asked = _step(0, 4, 2.5, layers=7, split="balanced", **end)
    assert (lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (3, 0, 0)
    assert out["dp_comm_exposed"] == pytest.approx(2.5 * (1.0 + T / P) - 2.0, rel=1e-12)
    assert (P + T, 1.0, 1.0) in asked and (T, 1.0, 1.0) in asked  # (a stage of its table alone: one layer's gather)


def test_stages_with_and_without_tables_priced_together_are_each_priced_alone() -> None:
    """`dp_collectives_once` on a grid's end stage (its table left out of the tuple: 1), a middle stage (no table) and
    a heaviest stage whose table is 1 on some plans and 0 on others, in one pass: each is `dp_collectives` of its own
    parameters and layers, bit for bit; the middle stage's all-reduce is less than an end stage's of as many
    layers."""
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(256)
    rows = enumerate_plans(shape, 256, 4096, 512, ["bf16"], 8)
    plan = rows.take(np.flatnonzero(valid_mask(shape, rows) & (np.asarray(rows.pp) > 2))[:64])
    seven, eight = np.full(64, 7.0), np.full(64, 8.0)
    mixed = np.where(np.arange(64) % 2 == 0, 1.0, 0.0)
    stages = [(*end_stage_params(shape, plan, seven, 0.0), seven, 0.0),
              (*end_stage_params(shape, plan, seven, 0.0, 0.0), seven, 0.0, 0.0),
              (*end_stage_params(shape, plan, eight, 0.0, mixed), eight, 0.0, mixed)]
    together = dp_collectives_once(shape, cluster.fabric, plan, stages, 4.0)
    for (params, experts, layers, *_), priced in zip(stages, together, strict=True):
        alone = dp_collectives(shape, cluster.fabric, plan, params, experts, 4.0, None, layers)
        for form in FORMS:
            assert np.array_equal(np.broadcast_to(alone[form], (64,)), priced[form]), form
    assert np.all(together[1]["allreduce"] < together[0]["allreduce"])
    end_eight = dp_collectives(shape, cluster.fabric, plan, *end_stage_params(shape, plan, eight, 0.0), 4.0, None,
                               eight)["allreduce"]
    assert np.all((together[2]["allreduce"] < end_eight) == (mixed == 0.0))


@pytest.mark.parametrize(("model", "gpus", "stack"), [("llama3-405b", 2048, "nemo-26.04"),
                                                      ("qwen3-32b", 64, "deepspeed"),
                                                      ("qwen3-30b-a3b", 64, "deepseek-v3")])
def test_grid_rows_are_the_single_plans_bits(model: str, gpus: int, stack: str | None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The array path and the one-plan float path price the stages that exist alike, bit for bit, where a stage's
    own pricing sets the exposure (the points whose exposure differs from the traffic's on the heaviest's windows
    where that is the heaviest's own, 0 elsewhere) and at random points: the 405B recipe's counted embedding and
    loss, DeepSpeed's balanced split, the deepseek-v3 stack's MTP module."""
    shape, cluster, profile, plan = dp_stage_grid(model, gpus, stack, 3)
    out = evaluate_plans(shape, cluster, plan, profile)
    with monkeypatch.context() as patched:  # the stages' own pricing left out
        patched.setattr(step_assembly, "end_stage_dp_forms", lambda *args, **kwargs: args[9])
        settled = evaluate_plans(shape, cluster, plan, profile)["dp_comm_exposed"]
    assert_grid_points_price_alone_alike(shape, cluster, profile, plan, out, "dp_comm_exposed",
                                         np.asarray(out["dp_comm_exposed"]) != settled, 40)
