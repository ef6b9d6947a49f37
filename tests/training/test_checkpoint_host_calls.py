"""Host calls of the activation-checkpoint machinery under full recompute (training.step_time.CHECKPOINT_HOST_CALLS)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import shape_from_hf_config
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import CHECKPOINT_HOST_CALLS, layer_kernel_counts

SHAPE = shape_from_hf_config({"model_type": "gpt2", "n_embd": 1024, "n_head": 16, "n_layer": 24,
                              "vocab_size": 51200, "n_positions": 2048}, "gpt-1024")


def _counts(recompute: Recompute) -> tuple[float, float]:
    plan = PlanArrays.build(tp=np.array([2.0]), pp=np.array([1.0]), dp=np.array([1.0]), cp=1, ep=1, vpp=1,
                            micro_batch=np.array([1.0]), global_batch=np.array([8.0]), seq_len=np.array([1024.0]),
                            recompute=recompute, zero=0, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                            order=RankOrder.TP_CP_DP_PP)
    fwd, bwd = layer_kernel_counts(SHAPE, plan)
    return float(np.ravel(fwd)[0]), float(np.ravel(bwd)[0])


def test_full_recompute_adds_the_rerun_forward_and_the_checkpoint_function_host_calls():
    none_fwd, none_bwd = _counts(Recompute.NONE)
    full_fwd, full_bwd = _counts(Recompute.FULL)
    # forward: the same kernels plus CheckpointFunction's forward host calls (apply, RNG-state reads, save)
    assert full_fwd - none_fwd == pytest.approx(CHECKPOINT_HOST_CALLS[0])
    # backward: the forward's kernels once more (recompute) plus the RNG restores and the nested backward
    assert full_bwd - none_bwd == pytest.approx(none_fwd + CHECKPOINT_HOST_CALLS[1])


def test_selective_recompute_adds_only_the_attention_core_forward():
    none_fwd, none_bwd = _counts(Recompute.NONE)
    sel_fwd, sel_bwd = _counts(Recompute.SELECTIVE)
    assert sel_fwd == pytest.approx(none_fwd)
    assert sel_bwd - none_bwd == pytest.approx(4.0)  # the unfused attention core's 4 forward kernels only
