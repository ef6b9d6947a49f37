"""DeepSeek-V3.2's sparse training stage (`training.attention_core.indexer_times`, `training.flops`, hI60): the
indexer's fp8 scores over every causal key forward and over the selected keys backward, the core over the top 2,048,
by hand; at 128k the layer's attention costs a fraction of dense MLA's."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops import sparse_attention
from infraplan.ops.sparse_attention import INDEXER_FP8_SPEEDUP
from infraplan.training import flops
from infraplan.training.attention_core import (
    INDEXER_KERNELS,
    attention_core_times,
    indexer_times,
)
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

RATES = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")


def _plan(seq: int, tp: int = 1) -> PlanArrays:
    return PlanArrays.build(tp=np.full(1, tp), pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=1, global_batch=16,
                            seq_len=seq, recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16,
                            attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)


@pytest.mark.parametrize("one_row", [False, True])
def test_indexer_seconds_by_hand(one_row: bool) -> None:
    v32, seq, tp = load_model("deepseek-v3.2"), 4096, 2
    plan = _plan(seq, tp).one_row if one_row else _plan(seq, tp)
    fwd, bwd = indexer_times(v32, RATES, plan, float(seq))
    fp8 = INDEXER_FP8_SPEEDUP * RATES.attention_flops_per_s
    launches = INDEXER_KERNELS * RATES.kernel_overhead_s
    # forward: 16,384 FLOPs a pair over 4,096 x 2,048 causal pairs (compute-bound: 8 B a pair of logits is less)
    assert float(np.ravel(fwd)[0]) == pytest.approx(seq * 16384 * 2048 / fp8 + launches, rel=1e-9)
    # backward: dq and dk over the 1,536 selected keys a query on average, and the KL target's score pass over them
    # on the 64 local heads (128 / TP 2) at 2 x 192 FLOPs each at the bf16 rate
    expected = seq * 2 * 16384 * 1536 / fp8 + seq * 2 * 192 * 64 * 1536 / RATES.attention_flops_per_s + launches
    assert float(np.ravel(bwd)[0]) == pytest.approx(expected, rel=1e-9)
    assert indexer_times(load_model("deepseek-v3"), RATES, plan, float(seq)) == (0.0, 0.0)


def test_at_128k_the_sparse_layer_attention_is_a_fraction_of_dense_and_the_toggle_restores_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    v3, v32, seq = load_model("deepseek-v3"), load_model("deepseek-v3.2"), 131072
    plan = _plan(seq)
    dense = [float(np.ravel(t)[0]) for t in attention_core_times(v3, RATES, plan, float(seq))]
    sparse = [float(np.ravel(t)[0]) for t in attention_core_times(v32, RATES, plan, float(seq))]
    assert sum(sparse) < 0.3 * sum(dense)
    monkeypatch.setattr(sparse_attention, "SPARSE_ATTENTION", False)
    off = [float(np.ravel(t)[0]) for t in attention_core_times(v32, RATES, plan, float(seq))]
    assert off == pytest.approx(dense, rel=1e-12)


def test_model_flops_count_the_selected_keys_and_the_indexer() -> None:
    v3, v32, seq = load_model("deepseek-v3"), load_model("deepseek-v3.2"), 131072
    _, dense = flops.forward_flops_per_token_layer(v3, seq)
    _, sparse = flops.forward_flops_per_token_layer(v32, seq)
    per_pair = 4.0 * 128 * 160  # 2 (d_qk + d_v) a pair and head, MLA's (192 + 128) / 2
    assert float(dense) == pytest.approx(per_pair * seq)
    assert float(sparse) == pytest.approx(per_pair * (2 * 2048 - 2048**2 / seq) + 16384 * seq)
