"""Muon's layer-wise distributed optimizer all-gathers the updated parameters inside its step (megatron-core 0.16.1
optimizer/layer_wise_optimizer.py:222-229, a blocking all_gather, :147-184), so the next forward waits for all of it
(`training.optimizers.blocking_gather`, hC61): it was hidden behind the next forward as the distributed optimizer's
overlapped all-gather is. Adam's ZeRO-1 gather stays overlapped."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.network.collectives import collective_seconds
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training.dp_exposure import BLOCKING_GATHER, dp_forms
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.optimizers import blocking_gather, with_optimizer
from infraplan.training.stage_params import local_params

# Llama 3 8B on one H100 node, no model parallelism: every GPU holds every parameter
PLAN = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, dp=8, seq_len=4096, global_batch=64)
TRAFFIC = {"allreduce": 0.5, "scatter": 0.5, "gather": 0.4, "gather_layers": 0.0, "scatter_layers": 0.0}


def test_a_blocking_gather_is_exposed_whatever_the_window() -> None:
    """`dp_forms`: the overlapped gather hides behind the forward window, the blocking one adds in full (ZeRO 1/2's
    form only), on one plan's floats and a grid's arrays alike."""
    muon = blocking_gather(TRAFFIC, with_optimizer(load_stack("nemo-26.04"), "muon"))
    assert blocking_gather(TRAFFIC, load_stack("nemo-26.04")) is TRAFFIC  # Adam: as it was
    assert (muon["gather"], muon[BLOCKING_GATHER]) == (0.0, 0.4)
    for ops in (FLOAT_OPS, NUMPY_OPS):
        assert dp_forms(TRAFFIC, 1.0, 0.3, ops)[1] == pytest.approx(0.2)  # the gather hidden, 0.2 of the scatter
        zero0, zero12, _ = dp_forms(muon, 1.0, 0.3, ops)
        assert zero12 == pytest.approx(0.6) and zero0 == pytest.approx(0.2)


def test_muon_zero1_exposes_the_parameter_all_gather() -> None:
    """On one node the gradient all-reduce hides behind the backward (Adam's ZeRO-1 exposes nothing); Muon's
    ZeRO-1 exposes its bf16 parameters' all-gather over the 8 DP ranks, priced by the collective model."""
    adam = dict(estimate_training(**PLAN, zero=1).breakdown_s)  # type: ignore[arg-type]
    muon = dict(estimate_training(**PLAN, zero=1, optimizer="muon").breakdown_s)  # type: ignore[arg-type]
    point = resolve_training(**PLAN, zero=1, optimizer="muon")  # type: ignore[arg-type]
    params = float(local_params(point.shape, point.plan.one_row))
    gather = collective_seconds(point.cluster.fabric, "all_gather", 2.0 * params, 8.0, 1.0)
    assert adam["dp_comm_exposed"] == 0.0 and gather > 0.0
    assert muon["dp_comm_exposed"] == pytest.approx(gather, rel=1e-9)
    zero0 = dict(estimate_training(**PLAN, zero=0, optimizer="muon").breakdown_s)  # type: ignore[arg-type]
    assert zero0["dp_comm_exposed"] == 0.0  # ZeRO 0: no gather, the all-reduce hidden



def test_an_evaluation_pass_gathers_nothing() -> None:
    """`forward_pass.forward_only_terms`: no optimizer step, so no blocking gather either."""
    from infraplan.training.forward_pass import forward_only_terms

    terms = {"compute_fwd": 1.0, "compute_bwd": 2.0, "ep_fwd": 0.0, "head_gpu_fwd": 0.1, "embed_gpu_fwd": 0.1,
             **blocking_gather(TRAFFIC, with_optimizer(load_stack("nemo-26.04"), "muon"))}
    out = forward_only_terms(terms)
    assert BLOCKING_GATHER not in out and out["gather"] == 0.0 and out["compute_bwd"] == 0.0
