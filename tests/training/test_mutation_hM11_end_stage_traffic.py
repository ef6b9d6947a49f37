"""Mutation wave 11 (hM11, session 39): an end stage's own DP traffic (hD5: `step_traffic.EndStageTraffic`,
`dp_collectives_once`, `dp_exposure.end_stage_dp_forms`).

Hand cases: the collectives are a stand-in `price` that returns what it was asked (the parameters, the layers), so
each figure is the docstrings' rule: ZeRO-3's gathers and scatters one per layer, "one at least: a stage of a table
alone gathers it once"; `dp_collectives_once` prices each end stage's own rows ("exact: the formulas are
element-wise"), DualPipe's half layers too ("the counts doubled"); and an end stage with the heaviest's layers and
windows but an MTP module "holds possibly more parameters than the traffic's": priced on its own collectives.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.dp_exposure import dp_forms, end_stage_dp_forms
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.step_traffic import EndStageTraffic, dp_collectives, dp_collectives_once, end_stage_params

FORMS = ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers")


def _asked(stages: list[tuple[Any, Any, Any, Any]]) -> list[dict[str, Any]]:
    """A stand-in `price`: each stage's (parameters, local layers, MTP modules) as it was asked."""
    return [{"params": params, "layers": layers, "mtp": modules} for params, _, layers, modules in stages]


def _row() -> PlanArrays:
    return PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=8192, recompute=0, zero=3, dtype=0, attention=0, order=0,
                               sequence_parallel=0).one_row


def _grid(n: int) -> tuple[Any, PlanArrays]:
    shape = load_model("llama3-8b")
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16"], 8)
    return shape, rows.take(np.flatnonzero(valid_mask(shape, rows) & (np.asarray(rows.pp) > 1))[:n])


def test_a_stage_of_a_table_alone_is_priced_on_one_layer_one_plan() -> None:
    """One plan: an end stage of 0 decoder layers (its table alone) is priced as 1 local layer (one gather), 3
    layers as 3; its parameters are its table's (`end_stage_params`)."""
    shape, row = load_model("llama3-405b"), _row()
    ends = EndStageTraffic(shape, row, _asked)
    alone = ends.collectives(0.0, 0.0)
    assert alone["layers"] == 1.0
    assert alone["params"] == end_stage_params(shape, row, 0.0, 0.0)[0] == 128_256 * 16_384 / 8
    assert ends.collectives(3.0, 0.0)["layers"] == 3.0


def test_a_stage_of_a_table_alone_is_priced_on_one_layer_arrays() -> None:
    """Arrays over plans: the rows of 0 layers are priced as 1, the others as they are."""
    shape, plan = _grid(3)
    out = EndStageTraffic(shape, plan, _asked).collectives(np.array([0.0, 2.0, 0.0]), np.zeros(3))
    assert np.array_equal(out["layers"], [1.0, 2.0, 1.0])


def test_a_second_end_stage_is_priced_on_its_own_layers() -> None:
    """Two asks of other layers with the same MTP modules: the second is priced on its own layers, not the first's
    (an ask of the same layers again returns the first's)."""
    shape, plan = _grid(2)
    ends = EndStageTraffic(shape, plan, _asked)
    first = ends.collectives(np.array([3.0, 4.0]), np.zeros(2))
    second = ends.collectives(np.array([5.0, 6.0]), np.zeros(2))
    assert np.array_equal(first["layers"], [3.0, 4.0]) and np.array_equal(second["layers"], [5.0, 6.0])
    assert not np.array_equal(first["params"], second["params"])
    assert ends.collectives(np.array([3.0, 4.0]), np.zeros(2)) is first


def test_half_layers_are_priced_on_their_own_rows() -> None:
    """`dp_collectives_once` on two rows of one plan that differ only in their local layers, 6 and 6.5 (DualPipe's
    mean stages): each row is `dp_collectives` of its own parameters and layers, bit for bit."""
    shape, plan = _grid(1)
    plan = plan.take(np.array([0, 0]))
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64)
    layers = np.array([6.0, 6.5])
    stage = (*end_stage_params(shape, plan, layers, 0.0), layers, np.zeros(2))
    (once,) = dp_collectives_once(shape, cluster.fabric, plan, [stage], 4.0)
    alone = dp_collectives(shape, cluster.fabric, plan, stage[0], stage[1], 4.0, None, layers)
    for form in FORMS:
        assert np.array_equal(np.broadcast_to(alone[form], (2,)), once[form]), form
    assert once["allreduce"][1] > once["allreduce"][0]


def test_an_mtp_stage_with_the_heaviests_layers_and_windows_is_priced_on_its_own() -> None:
    """ZeRO-0, a layer's forward 1 s and backward 2 s: the heaviest stage (8 layers, the traffic's) exposes its
    16.5 s all-reduce past its 16 s backward, 0.5 s; the last stage holds the same 8 layers and windows and an MTP
    module (its window held to the same 8 layers here): its own all-reduce of 18.5 s exposes 2.5 s, the step's most
    (ZeRO-1/2: its 1.5 s scatter and 9.5 s gather past 16 s and 8 s: 1.5 s; ZeRO-3 its 9.5 s gathers: 1.5 + 0 s)."""
    lt = {"compute_fwd": 1.0, "compute_bwd": 2.0, "other_fwd": 0.0, "other_bwd": 0.0, "tp_fwd": 0.0, "tp_bwd": 0.0}
    traffic = {"allreduce": 16.5, "scatter": 0.0, "gather": 0.0, "scatter_layers": 0.0, "gather_layers": 0.0}
    so_far = dp_forms(traffic, 8.0, 16.0, FLOAT_OPS)
    assert so_far == (0.5, 0.0, 0.0)
    own = {"allreduce": 18.5, "scatter": 1.5, "gather": 9.5, "scatter_layers": 0.0, "gather_layers": 9.5}
    ends = SimpleNamespace(collectives=lambda layers, mtp, *_: own if (layers, mtp) == (8.0, 1.0) else pytest.fail())
    out = end_stage_dp_forms(traffic, lt, 8.0, 0.0, 0.0, True, 1.0, 0.0, FLOAT_OPS, so_far, (8.0, 16.0), True,
                             (ends, 8.0, 1.0, 1.0, 8.0))  # type: ignore[arg-type]
    assert out == (2.5, 1.5, 1.5)
