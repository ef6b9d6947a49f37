"""Every second of exposed host time the model prices separately is in `breakdown_s.host_exposed` (hK, session 59).

hK58 made the heaviest stage's exposed host time a row; the optimizer's exposed launches stayed in `optimizer` and a
blocking pipeline's p2p host calls (`host_time.BLOCKING_P2P_HOST_CALLS` dispatches a call,
`pipeline_hops.pipeline_p2p_time`) in `pp_comm`. Now both are in the host row and its phases (`optimizer`,
`pp_comm`); the step keeps its bits. Before hK59 `host_exposed_phases_s` had no `optimizer` / `pp_comm` and the host
row held neither: every test here but the sums fails there (the sums passed there as well and guard the move).
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.host_time import BLOCKING_P2P_HOST_CALLS
from infraplan.training.optimizer_step import OPTIMIZER_KERNELS
from infraplan.training.search import search_plans
from infraplan.training.step_time import one_plan_step_time

TT_1B7 = dict(model="megatron-1.7b", system="h100-sxm", gpus=8, seq_len=2048, global_batch=64)
L70 = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, seq_len=4096, global_batch=64)
PLANS: dict[str, dict[str, Any]] = {
    "tp1 eager": {**TT_1B7, "tp": 1, "stack": "torchtitan"},
    "tp8 megatron-core": L70,
    "pp4 vp5": {**L70, "pp": 4, "vpp": 5},
    "pp4 vp1 nemo-26.04": {**L70, "pp": 4, "vpp": 1, "stack": "nemo-26.04"},
    "moe dropless graphs": dict(model="qwen3-30b-a3b", system="dgx-h100-superpod", gpus=16, ep=8, seq_len=4096,
                                global_batch=64, stack="nemo-26.04"),
    "pp2 megatron-lm-2021": {**TT_1B7, "tp": 2, "pp": 2, "stack": "megatron-lm-2021"},
    "pp4 deepspeed": {**TT_1B7, "tp": 2, "pp": 4, "stack": "deepspeed"},
    "zero3 torchtitan": {**TT_1B7, "tp": 1, "zero": 3, "stack": "torchtitan"},
}
DISPATCH_S = 26e-6  # h100-sxm's host_kernel_dispatch_s (validation/calibration/h100_host_dispatch.json)


@pytest.mark.parametrize("name", list(PLANS))
def test_the_rows_and_phases_still_add_up(name: str) -> None:
    r = estimate_training(**PLANS[name])
    breakdown = r.breakdown_s.model_dump()
    # bit for bit (`host_row._closing`; before hK59 3 of these 8 were an ulp off: tp8 megatron-core's sum was 1 ulp
    # above its step at hK58's rows)
    assert sum(breakdown.values()) == r.step_time_s
    phases = r.host_exposed_phases_s.model_dump()
    assert sum(phases.values()) == pytest.approx(breakdown["host_exposed"], rel=1e-12)
    # the optimizer's launches hide behind its GPU work (20 x 26 us < its memory-bound time): the dispatch after
    # its host sync is what is exposed, in the host row, not the optimizer's
    assert phases["optimizer"] == pytest.approx(DISPATCH_S, rel=1e-12)


def test_blocking_p2p_host_calls_are_in_the_host_row() -> None:
    r = estimate_training(**PLANS["pp2 megatron-lm-2021"])
    m = r.config.micro_batches
    # Megatron-LM v3.0's 1F1B at PP 2: k m v + 2 (p v - 1) blocking calls, k = 2, v = 1; 7 host calls each
    calls = 2.0 * m + 2.0 * (2 - 1)
    assert r.host_exposed_phases_s.pp_comm == pytest.approx(calls * BLOCKING_P2P_HOST_CALLS * DISPATCH_S, rel=1e-12)
    # what is left in pp_comm is the transfers: above 0, below the host calls here (8 GPUs on NVLink)
    assert 0.0 < r.breakdown_s.pp_comm < r.host_exposed_phases_s.pp_comm


def test_nemo_blocks_only_at_vp1() -> None:
    plain = estimate_training(**PLANS["pp4 vp1 nemo-26.04"])
    interleaved = estimate_training(**{**PLANS["pp4 vp1 nemo-26.04"], "vpp": 5})
    assert plain.host_exposed_phases_s.pp_comm > 0.01  # 32 micro-batches: 2 x 32 + 6 calls x 7 x 26 us = 12.7 ms
    assert interleaved.host_exposed_phases_s.pp_comm == 0.0  # overlap_p2p_comm with virtual stages
    no_pp = estimate_training(**PLANS["tp8 megatron-core"])
    assert no_pp.host_exposed_phases_s.pp_comm == 0.0 and no_pp.breakdown_s.pp_comm == 0.0


def test_the_optimizer_row_is_its_gpu_time() -> None:
    eager = estimate_training(**PLANS["tp1 eager"])
    graphs_stack = load_stack("torchtitan").model_copy(update={"cuda_graphs": True})
    graphs = estimate_training(**{**PLANS["tp1 eager"], "stack": graphs_stack})
    # the same Adam on the same parameters: its GPU time does not depend on how it is launched
    assert eager.breakdown_s.optimizer == graphs.breakdown_s.optimizer
    assert eager.breakdown_s.optimizer > OPTIMIZER_KERNELS * DISPATCH_S  # (why the launches hide)
    # the exposed rest, the dispatch after the optimizer's host sync, is the host row's
    assert eager.host_exposed_phases_s.optimizer == graphs.host_exposed_phases_s.optimizer == DISPATCH_S


def test_an_evaluations_forward_passes_keep_their_rows() -> None:
    # `evaluation.forward_batch_s` sums the forward components (no optimizer) and halves pp_comm: the optimizer's
    # and the p2p calls' host time stays out of the forward pass's host row, as before hK59
    point = resolve_training(**PLANS["pp2 megatron-lm-2021"])
    out = one_plan_step_time(point.shape, point.cluster, point.plan, point.profile, forward_only=True)
    assert out["host_exposed_optimizer"] == 0.0 and out["host_exposed_pp_comm"] == 0.0
    assert out["pp_comm"] > 0.0


def test_a_search_grids_rows_add_up_to_their_steps_bit_for_bit() -> None:
    # the grid's arrays close the sum as one plan's floats do (the same IEEE operations, `host_row._closing`)
    found = search_plans("llama3-70b", "dgx-h100-superpod", 64, 4096, 64, dtype="bf16", top=20, stack="nemo-26.04")
    assert len(found.top) == 20
    for row in found.top:
        assert sum(row.breakdown_s.model_dump().values()) == row.step_time_s
        assert sum(row.host_exposed_phases_s.model_dump().values()) == pytest.approx(row.breakdown_s.host_exposed,
                                                                                     rel=1e-12)
