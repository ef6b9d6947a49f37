"""The DP exposure of end stages that hold fewer layers than the stage the DP traffic is priced on (hD5, session 39).

Each pipeline stage's DP ranks reduce their own stage's gradients behind their own backward (Megatron-Core DDP per
model chunk, distributed_data_parallel.py:420-446) and the step ends when the last of them is done, so the exposed DP
time is the most of the heaviest stage's (on the step's traffic: ceil(L / p) layers and a table) and each end stage's
on its own parameters (its layers, its table, the last's MTP modules) and its own windows. Before, an end stage with
fewer layers than the heaviest (the even split with the embedding / loss counted as a layer, an MTP module) was left
out of the most: where a layer's collectives hide in its window but the table's do not, it exposes more than the
heaviest and the step was short by the difference (hM9's mutants D01 / D02 priced it on the traffic's bytes).

The hand cases price one plan's floats through `step_assembly.assemble_step` with its per-layer terms written out
(every term not named is 0 s, as tests/training/test_mutation_hM10_end_stages.py) and a DP collective of c seconds
per parameter, so each figure is arithmetic: Llama 3.1 405B (126 layers) on PP 16 with the embedding and the loss
counted as layers (Megatron-Bridge's recipe: L' = 128, 8 a stage): ranks 0 and 15 hold 7 layers, the middle ranks 8
(the heaviest). At TP 8 a layer holds P = 16,384 x (2 x 16,384 + 2 x 1,024 + 3 x 53,248) / 8 = 398,458,880
parameters, a table T = 128,256 x 16,384 / 8 = 262,668,288 (T / P = 0.65921...); the traffic is priced on 8 P + T.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import (
    ZeroTerms,
    assert_ends_priced_together_as_alone,
    assert_grid_points_price_alone_alike,
    counted_split_stack,
    dp_stage_grid,
)

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import step_assembly, zero3_edges
from infraplan.training.estimate import evaluate_plans
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.stage_params import dp_groups, mtp_module_params
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import assemble_step
from infraplan.training.step_traffic import EndStageTraffic, dp_collectives, end_stage_params

P, T = 398_458_880.0, 262_668_288.0  # a layer's and a table's parameters on one GPU at TP 8 (module docstring)
C = 1.9 / P  # seconds of DP collective per parameter: a layer's 1.9 s hides in its 2 s backward, a table's does not




def _pricing(per_parameter: float, per_collective: float) -> Any:
    """DP collectives of `per_parameter` seconds a parameter (ZeRO-0's all-reduce, ZeRO-3's gathers), and
    `per_collective` seconds more a collective for ZeRO-3's one per local layer."""
    def priced(params: float, experts: float, layers: float, mtp_modules: float) -> dict[str, float]:
        assert experts == 0.0
        return {"allreduce": per_parameter * params, "scatter": 0.0, "gather": 0.0, "scatter_layers": 0.0,
                "gather_layers": per_parameter * params + per_collective * layers}
    return priced


def _step(zero: int, per_parameter: float = C, per_collective: float = 0.1,
          **terms: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """A 1F1B step of the 405B on TP 8 PP 16 DP 2, 32 micro-batches, under `_counted`: a layer's forward 1 s and
    backward 2 s of GPU work, issued in as much host time (none exposed), `terms` on top; the DP collectives of
    `_pricing`."""
    shape = load_model("llama3-405b")
    stack = counted_split_stack()
    layer = {"compute_fwd": 1.0, "compute_bwd": 2.0, "host_fwd": 1.0, "host_bwd": 2.0}
    lt = ZeroTerms(with_stage_split(SimpleNamespace(num_layers=126), stack,  # type: ignore[arg-type]
                                 ZeroTerms(layer | terms), 16.0))
    plan = PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=8192, recompute=0, zero=zero, dtype=0, attention=0, order=0,
                               sequence_parallel=0).one_row
    priced = _pricing(per_parameter, per_collective)
    traffic = priced(8 * P + T, 0.0, 8.0, 0.0)
    lt.update(traffic, params=8 * P + T, expert_params=0.0)
    rates = cluster_pricing(Cluster.resolve("dgx-h100-superpod").for_gpus(256), stack).rates
    ends = EndStageTraffic(shape, plan, lambda stages: [priced(*stage[:4]) for stage in stages])
    return assemble_step(plan, lt, lt, stack, 0.0, rates, FLOAT_OPS, False, ends), lt


def test_the_split_and_the_parameters_of_the_end_stages() -> None:
    """The plan of the hand cases: the heaviest a middle rank of 8 layers, the end ranks 7 each; an end stage holds
    its layers and one table, the traffic's stage 8 layers and one table (`end_stage_params`)."""
    _, lt = _step(0)
    assert (lt["stage_layers"], lt["other_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (8, 118, 0, 0)
    row = PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                              seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=0,
                              sequence_parallel=0).one_row
    assert end_stage_params(load_model("llama3-405b"), row, 7.0, 0.0) == (7 * P + T, 0.0)
    assert lt["params"] == 8 * P + T


def test_the_last_stage_with_fewer_layers_sets_zero_zero_exposure() -> None:
    """ZeRO-0: each stage's gradient all-reduce past its backward window (its layers' 2 s each, the host time past
    its GPU work). The heaviest: 1.9 (8 + T/P) - 16 = 0.4525 s. The last (7 layers, its LM head's 0.5 s of host time
    in the backward, no GPU time: the same window, 14 s): 1.9 (7 + T/P) - 14 = 0.5525 s. The first (7 layers, its
    window 14 s): the same; with its embedding's 0.5 s of host time in the backward its window is 14.5 s and it
    exposes 0.0525 s. The step's is the last's, 0.5525 s: not the heaviest's alone (0.4525 s, the last left out),
    nor the traffic's bytes on the last's window (2.4525 s, hM9's D02), nor a layer more or less on it (0.4525 s,
    0.6525 s)."""
    out, _ = _step(0, embed_host_bwd=0.5)
    assert out["dp_comm_exposed"] == pytest.approx(1.9 * (7 + T / P) - 14.0, rel=1e-12)
    assert out["dp_comm_exposed"] == pytest.approx(0.5525, abs=1e-4)


def test_the_first_stage_with_fewer_layers_sets_zero_zero_exposure() -> None:
    """As above with the LM head's 0.5 s of host time in the backward instead: the last's window is 14.5 s, the first
    (7 layers and the embedding table, window 14 s) sets the step's exposure, 1.9 (7 + T/P) - 14 = 0.5525 s (hM9's
    D01, the traffic's bytes on its window: 2.4525 s)."""
    out, _ = _step(0, head_host_bwd=0.5)
    assert out["dp_comm_exposed"] == pytest.approx(1.9 * (7 + T / P) - 14.0, rel=1e-12)


def test_zero_three_gathers_once_per_layer_of_the_end_stage() -> None:
    """ZeRO-3: the gathers (C a parameter plus 0.1 s a collective, one per local layer) past the forward window, and
    again with the reduce-scatters (none here) past the backward one. Forward windows: 8 s on the heaviest, 7 s on
    the end stages. The heaviest, a middle stage of 8 layers and no table (its own parameters, hT40, session 40):
    (1.9 x 8 + 0.8 - 8) + (1.9 x 8 + 0.8 - 16) = 8 s; an end stage (1.9 (7 + T/P) + 0.7 - 7) + (1.9 (7 + T/P) + 0.7
    - 14) = 9.5050 s, the step's (10.5050 s on the traffic's 8 P + T, a stage that does not exist). With 0.9 s a
    layer's parameters and 0.05 s a collective (0.95 s of a layer's 1 s
    forward): the heaviest 0.9 (8 + T/P) + 0.4 - 8 = 0.1933 s, an end stage 0.9 (7 + T/P) + 0.35 - 7 = 0.2433 s,
    the step's (its gathers one per each of its 7 layers: 0.2933 s at the heaviest's 8). Updated by hS (session 53):
    these are the bulk forms, `training.zero3_edges` off; with it on, the pipeline's first stage exposes at least its
    first gather and last reduce-scatter: here (no table keys in the hand traffic) one of the traffic's 8 layers'
    share of its gathers, (0.9 (8 + T/P) + 0.4) / 8 = 1.0242 s, more than the 0.2433 s bulk."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zero3_edges, "ZERO3_EDGES", False)
        out, _ = _step(3)
        gather = 1.9 * (7 + T / P) + 0.7
        assert out["dp_comm_exposed"] == pytest.approx((gather - 7.0) + (gather - 14.0), rel=1e-12)
        out, _ = _step(3, per_parameter=0.9 / P, per_collective=0.05)
        assert out["dp_comm_exposed"] == pytest.approx(0.9 * (7 + T / P) + 0.35 - 7.0, rel=1e-12)
        assert out["dp_comm_exposed"] == pytest.approx(0.2433, abs=1e-4)
    out, _ = _step(3, per_parameter=0.9 / P, per_collective=0.05)
    assert out["dp_comm_exposed"] == pytest.approx((0.9 * (8 + T / P) + 0.4) / 8.0, rel=1e-12)


def test_end_stage_collectives_are_one_per_local_layer() -> None:
    """`dp_collectives` of an end stage of 7 layers: ZeRO-3's gathers and scatters one per layer at its share of the
    stage's bytes (7 of them, not the heaviest's ceil(126 / 16) = 8), ZeRO-0's one all-reduce of all of them."""
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(256)
    row = PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                              seq_len=8192, recompute=0, zero=3, dtype=0, attention=0, order=0,
                              sequence_parallel=0).one_row
    dp, stride, _, _ = dp_groups(row)
    out = dp_collectives(shape, cluster.fabric, row, 7 * P + T, 0.0, 4.0, None, 7.0)
    assert out["gather_layers"] == 7.0 * collective_seconds(cluster.fabric, "all_gather", (7 * P + T) / 7.0 * 2.0,
                                                            dp, stride)
    assert out["allreduce"] == collective_seconds(cluster.fabric, "all_reduce", (7 * P + T) * 4.0, dp, stride)


@pytest.mark.parametrize(("model", "gpus", "stack"), [("qwen3-32b", 64, "deepspeed"),
                                                      ("qwen3-30b-a3b", 64, "deepseek-v3"),
                                                      ("llama3-405b", 2048, "nemo-26.04")])
def test_grid_rows_are_the_single_plans_bits(model: str, gpus: int, stack: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The array path and the one-plan float path price the end stages' own DP traffic alike, bit for bit, where an
    end stage sets the exposure (the points whose exposure differs from the heaviest stage's alone) and at random
    points: DeepSpeed's balanced split, the deepseek-v3 stack's MTP module on the last stage, the 405B recipe's counted
    embedding and loss."""
    shape, cluster, profile, plan = dp_stage_grid(model, gpus, stack, 2)
    out = evaluate_plans(shape, cluster, plan, profile)
    with monkeypatch.context() as patched:  # the heaviest stage's exposure alone
        patched.setattr(step_assembly, "end_stage_dp_forms", lambda *args: args[9])
        heaviest = evaluate_plans(shape, cluster, plan, profile)["dp_comm_exposed"]
    assert_grid_points_price_alone_alike(shape, cluster, profile, plan, out, "dp_comm_exposed",
                                         np.asarray(out["dp_comm_exposed"]) > heaviest, 395)


def test_end_stages_priced_together_are_each_priced_alone() -> None:
    """`dp_collectives_once` prices both ends of a grid in one pass, once per distinct row: each end's collectives
    are `dp_collectives` of its own parameters and layers, bit for bit (here the first with 7 layers and a table, the
    last with 6, its LM head, an MTP module and the MTP module's embedding table)."""
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(256)
    rows = enumerate_plans(shape, 256, 4096, 512, ["bf16"], 8)
    plan = rows.take(np.flatnonzero(valid_mask(shape, rows) & (np.asarray(rows.pp) > 1))[:64])
    together = assert_ends_priced_together_as_alone(shape, cluster.fabric, plan, np.full(64, 7.0), np.full(64, 6.0))
    assert not np.array_equal(together[0]["allreduce"], together[1]["allreduce"])


def test_an_mtp_module_on_the_last_stage_brings_its_embedding_table() -> None:
    """The last stage's MTP module: a layer of the decoder's last kind and eh_proj (`mtp_module_params`), and the
    embedding table Megatron-Core builds beside it (V x h / TP: 129,280 x 7,168 / 8 at TP 8)."""
    shape = load_model("deepseek-v3")
    row = PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=8, etp=None, vpp=1, micro_batch=1, global_batch=64,
                              seq_len=4096, recompute=0, zero=0, dtype=0, attention=0, order=0,
                              sequence_parallel=1).one_row
    with_mtp, without = end_stage_params(shape, row, 3.0, 1.0), end_stage_params(shape, row, 3.0, 0.0)
    module, module_experts = mtp_module_params(shape, row, 1)
    assert with_mtp[0] - without[0] == pytest.approx(module + 129_280 * 7_168 / 8, rel=1e-12)
    assert with_mtp[1] - without[1] == pytest.approx(module_experts, rel=1e-12)
