"""Mutation wave 11 (hM11, session 39): which end stage holds the MTP modules when its own DP traffic is priced
(`step_assembly.assemble_step`'s end stages, hD5: "each end stage's that is not the heaviest on its own parameters
(its layers, its table, the last's MTP modules)").

The hand case of tests/training/test_end_stage_dp_hD5.py (Llama 3.1 405B, TP 8 PP 16 DP 2, the embedding and the loss
counted as layers: the end ranks 7 layers, the middle 8; a layer's forward 1 s, backward 2 s; ZeRO-0's all-reduce
C = 1.9 s a layer's P parameters), with one MTP module put on the last stage after the split (its time 0 s, so the
windows stay the layers'): the last stage holds 7 P, its LM head's table T, the module M (`mtp_module_params`) and
the module's embedding table T; the first 7 P and its table T.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from tests.training.conftest import ZeroTerms

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import mtp_module_params
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import assemble_step
from infraplan.training.step_traffic import EndStageTraffic

P, T = 398_458_880.0, 262_668_288.0  # a layer's and a table's parameters on one GPU at TP 8
C = 1.9 / P  # seconds of all-reduce a parameter: a layer's 1.9 s hides in its 2 s backward



def _row() -> PlanArrays:
    return PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=0,
                               sequence_parallel=0).one_row


def _exposed(module_layers: float = 0.0) -> float:
    """ZeRO-0's exposed DP seconds of the step with one MTP module on the last stage, timed as `module_layers`
    layers (its window's)."""
    shape = load_model("llama3-405b")
    stack = load_stack("megatron-core-0.8").model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                                               "account_for_loss_in_pipeline_split": True})
    layer = {"compute_fwd": 1.0, "compute_bwd": 2.0, "host_fwd": 1.0, "host_bwd": 2.0}
    lt = ZeroTerms(with_stage_split(SimpleNamespace(num_layers=126), stack,  # type: ignore[arg-type]
                                 ZeroTerms(layer), 16.0))
    assert (lt["stage_layers"], lt["other_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (8, 118, 0, 0)

    def priced(params: float, experts: float, layers: float, mtp_modules: float) -> dict[str, float]:
        return {"allreduce": C * params, "scatter": 0.0, "gather": 0.0, "scatter_layers": 0.0, "gather_layers": 0.0}

    lt.update(priced(8 * P + T, 0.0, 8.0, 0.0), params=8 * P + T, expert_params=0.0, mtp_other=1.0,
              mtp_layer_equivalent=module_layers)
    row = _row()
    rates = cluster_pricing(Cluster.resolve("dgx-h100-superpod").for_gpus(256), stack).rates
    ends = EndStageTraffic(shape, row, lambda stages: [priced(*stage[:4]) for stage in stages])
    out: dict[str, Any] = assemble_step(row, lt, lt, stack, 0.0, rates, FLOAT_OPS, False, ends)
    return float(out["dp_comm_exposed"])


def _module() -> float:
    return float(mtp_module_params(load_model("llama3-405b"), _row(), 1)[0])


def test_the_last_stage_exposes_its_mtp_module_and_its_table() -> None:
    """Both end stages' windows 14 s: the last's all-reduce C (7 P + 2 T + M) - 14 s is the step's (about 4.02 s),
    not C (7 P + T) - 14 = 0.5525 s (the module left out)."""
    assert _exposed() == pytest.approx(C * (7 * P + 2 * T + _module()) - 14.0, rel=1e-12)
    assert _exposed() > 4.0


def test_the_first_stage_holds_no_mtp_module() -> None:
    """The module timed as half a layer: the last's windows 7.5 s and 15 s, it exposes C (7 P + 2 T + M) - 15 s,
    the step's (about 3.02 s); the first (window 14 s, no module: its 7 P and T) exposes 0.5525 s, not
    C (7 P + 2 T + M) - 14 s."""
    assert _exposed(0.5) == pytest.approx(C * (7 * P + 2 * T + _module()) - 15.0, rel=1e-12)
    assert 3.0 < _exposed(0.5) < 3.1
