"""DeepSeek-V3.2's dense warm-up prices the indexer's scores as the sparse stage does: at the fp8 rate where the part
has fp8 tensor cores, at its bf16 rate where it lists no fp8 peak (A100); it gave every part the 2x (hI61)."""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.training import dsa_warmup
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.one_plan_memo import cluster_pricing

PLAN = dict(tp=8, ep=32, global_batch=256, dtype="bf16", recompute="full")


def test_warmup_scores_at_the_bf16_rate_on_a_part_without_fp8() -> None:
    point = resolve_training("deepseek-v3.2", "dgx-a100-superpod", 256, seq_len=32768, **PLAN)  # type: ignore[arg-type]
    rates = cluster_pricing(point.cluster, point.profile).rates
    assert not rates.fp8_tensor_cores
    row = point.plan.one_row
    fwd, bwd = dsa_warmup.indexer_layer_seconds(point.shape, rates, row)
    with_fp8 = dsa_warmup.indexer_layer_seconds(point.shape, dataclasses.replace(rates, fp8_tensor_cores=True), row)
    # the scores bind (compute-bound at 32k): twice the time of the same part given fp8 tensor cores, less the rest
    tokens, keys = float(row.micro_batch) * 32768 / float(row.cp), 32768 / 2.0
    score_fwd, score_bwd, _ = dsa_warmup.warmup_pair_flops(point.shape, keys)
    rate = rates.attention_flops_per_s
    assert fwd - with_fp8[0] == pytest.approx(tokens * score_fwd / rate / 2.0, rel=1e-9)
    assert bwd - with_fp8[1] == pytest.approx(tokens * score_bwd / rate / 2.0, rel=1e-9)


def test_warmup_note_names_the_scores_rate_as_the_sparse_stage_does() -> None:
    """The warm-up drops the sparse stage's note, which said the bf16 rate on A100; its own line says it (hQ61)."""
    a100 = estimate_training("deepseek-v3.2", "dgx-a100-superpod", 256, seq_len=4096, stack="nemo-26.04",
                             dsa_stage="warmup", **PLAN)  # type: ignore[arg-type]
    h800 = estimate_training("deepseek-v3.2", "h800", 256, seq_len=4096, stack="nemo-26.04", dsa_stage="warmup",
                             **PLAN)  # type: ignore[arg-type]
    (line,) = [n for n in a100.notes if n.startswith("DeepSeek Sparse Attention's dense warm-up stage priced")]
    assert "scores at its bf16 rate (a100-80gb lists no fp8 peak" in line
    (line,) = [n for n in h800.notes if n.startswith("DeepSeek Sparse Attention's dense warm-up stage priced")]
    assert "(fp8 scores)" in line and "bf16 rate" not in line
