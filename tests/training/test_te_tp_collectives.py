"""Transformer Engine's TP collectives under the NeMo stack (round 13c): the column-parallel dgrad reductions run
async under the wgrad GEMM when TP overlap is off, the SP all-gathers move the recipe's quantised bytes, and an NVFP4
stack may keep no layer in bf16 (Megatron-Bridge's preset)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.tp_quantised_collectives import te_gather_records

BASE = load_stack("nemo-26.04")
PLAN = dict(tp=4, pp=1, seq_len=8192, global_batch=16, micro_batch=1, recompute="none")


def _run(dtype: str, **fields: object):  # type: ignore[no-untyped-def]
    stack = BASE.model_copy(update=fields)
    return estimate_training("llama3-70b", "gb200-nvl72", 16, dtype=dtype, stack=stack, **PLAN)


def test_async_backward_reductions_hide_only_without_tp_overlap() -> None:
    off = dict(tp_comm_overlap_fraction=0.0, tp_overlap_sm_fraction=0.0, quantized_tp_all_gather=False)
    sync = _run("bf16", tp_async_backward=False, **off)
    async_ = _run("bf16", tp_async_backward=True, **off)
    # 4 of the 8 SP collectives per layer are reduce-scatters; the 2 backward ones hide: a quarter of the TP time
    assert async_.breakdown_s.tp_comm == pytest.approx(0.75 * sync.breakdown_s.tp_comm, rel=0.02)
    assert async_.breakdown_s.compute == sync.breakdown_s.compute
    overlapped = [_run("bf16", tp_async_backward=flag, quantized_tp_all_gather=False) for flag in (False, True)]
    assert overlapped[0].step_time_s == overlapped[1].step_time_s  # userbuffers overlap on: TE's other path


def test_sp_all_gathers_move_the_quantised_copies() -> None:
    for dtype, fwd_bwd in (("nvfp4", (0.5625, 1.125)), ("mxfp8", (1.03125, 2.0625)), ("fp8", (1.0, 1.0))):
        plain, quantised = (_run(dtype, quantized_tp_all_gather=flag, tp_comm_overlap_fraction=0.0,
                                 tp_async_backward=False) for flag in (False, True))
        assert quantised.breakdown_s.tp_comm < plain.breakdown_s.tp_comm, dtype
        # the reduce-scatters stay bf16: at most the gathers' share (half) shrinks by the byte ratio
        assert quantised.breakdown_s.tp_comm > 0.5 * plain.breakdown_s.tp_comm * (1 + sum(fwd_bwd) / 4.0) * 0.9
    bf16 = [_run("bf16", quantized_tp_all_gather=flag) for flag in (False, True)]
    assert bf16[0].step_time_s == bf16[1].step_time_s


def test_only_the_layers_activation_gathers_are_repriced() -> None:
    from infraplan.ops.layer_records import Collective

    act, routed = 1.0e8, 2.0e8
    # (hH58: `ops.layer` marks the layer's T x h gathers `te_gather` in every layer kind, `TE_GATHERS_EVERY_KIND`,
    # and `te_gather_records` keeps the marked ones: the activation gather is built marked, as `ops.layer` builds it)
    records = (Collective("all_gather", "tp", act, 4, 1, 2.0, True, True),
               Collective("reduce_scatter", "tp", act, 4, 1, 2.0),
               Collective("all_gather", "tp", routed, 2, 1, 1.0), Collective("all_gather", "cp", act, 2, 4))
    assert te_gather_records(records) == records[:1]
    assert te_gather_records(records[2:]) == ()


def test_nvfp4_layers_kept_in_bf16_follow_the_stack() -> None:
    paper, none = (_run("nvfp4", nvfp4_bf16_layer_share=share) for share in (None, 0.0))
    assert none.breakdown_s.compute < 0.9 * paper.breakdown_s.compute  # 10 of 62 layers' GEMMs at the bf16 rate
    mx = [_run("mxfp8", nvfp4_bf16_layer_share=share) for share in (None, 0.0)]
    assert mx[0].step_time_s == mx[1].step_time_s
