"""Mutation wave hM25 (session 47) on `training.attention_core`'s fused attention exponentials: one softmax
exponential per causal score forward and FLASH_BACKWARD_EXPONENTIALS (3) backward, counted by hand.

GPT-OSS 120B (64 heads of d = 64, sliding layers: `flash_keys`), TP 1, 2 x 4,096 tokens: the causal scores of a layer
are 2 x 64 heads x 4,096 queries x flash_keys / 2. An exponential at d = 64 costs (1 - 64 / 128) / exp rate
(`hardware.kernels.exp_seconds`), so the time a finite exponential rate adds over an infinite one (no head-dim
dependence) is that count x 0.5 / rate forward and 3x it backward, on one compute unit (no partial wave)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.training.attention_core import (
    FLASH_BACKWARD_EXPONENTIALS,
    FLASH_PROGRAM_TILES,
    attention_core_times,
    flash_keys,
)
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

SEQ, BATCH, EXP_PER_S = 4096, 2, 1e12


def _plan() -> PlanArrays:
    return PlanArrays.build(tp=np.ones(1), pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=BATCH, global_batch=16 * BATCH,
                            seq_len=SEQ, recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)


@pytest.mark.parametrize("one_row", [False, True])
def test_the_exponentials_are_the_causal_scores_once_forward_three_times_backward(one_row: bool) -> None:
    shape = load_model("gpt-oss-120b")
    assert shape.attention_head_dim == 64 and shape.num_heads == 64
    base = replace(KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16"), compute_units=1)
    plan = _plan().one_row if one_row else _plan()
    free = attention_core_times(shape, replace(base, attention_exp_per_s=math.inf), plan, BATCH * SEQ / 1.0)
    timed = attention_core_times(shape, replace(base, attention_exp_per_s=EXP_PER_S), plan, BATCH * SEQ / 1.0)
    # the causal scores of one layer, by hand, each program's fixed work counted in tiles' time (FLASH_PROGRAM_TILES:
    # matmuls and exponentials alike, hO55)
    scores = BATCH * 64 * SEQ * flash_keys(shape, SEQ, FLASH_PROGRAM_TILES) / 2.0
    forward = scores * (1.0 - 64.0 / 128.0) / EXP_PER_S
    assert float(np.ravel(timed[0])[0] - np.ravel(free[0])[0]) == pytest.approx(forward, rel=1e-6)
    assert FLASH_BACKWARD_EXPONENTIALS == 3.0  # measured on a lent H200: four in all (attention_core's comment)
    assert float(np.ravel(timed[1])[0] - np.ravel(free[1])[0]) == pytest.approx(3.0 * forward, rel=1e-6)
