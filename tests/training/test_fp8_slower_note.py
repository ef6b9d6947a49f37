"""`train`'s note where fp8 comes out slower than the same plan in bf16 (`training.fp8_slower_note`): it states both
throughputs, labelled as the model's estimate, and the step components that make fp8 lose; a plan where fp8 wins
gets none."""

from __future__ import annotations

from infraplan.training.estimate import estimate_training
from infraplan.training.fp8_slower_note import slower_precision_note

QWEN = dict(ep=8, seq_len=4096, global_batch=512)  # 64 B200, EP8, micro-batch 1 (round 15q)
LLAMA = dict(tp=4, pp=4, vpp=5, seq_len=8192, global_batch=256)


def _slower_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if n.startswith("fp8 is slower than bf16")]


def test_a_small_moe_at_micro_batch_1_says_fp8_loses_and_why() -> None:
    fp8 = estimate_training("qwen3-30b-a3b", "dgx-b200", 64, dtype="fp8", **QWEN)
    bf16 = estimate_training("qwen3-30b-a3b", "dgx-b200", 64, dtype="bf16", **QWEN)
    assert fp8.tokens_per_s_per_gpu < bf16.tokens_per_s_per_gpu
    (note,) = _slower_notes(fp8.notes)
    assert f"{fp8.tokens_per_s_per_gpu:,.0f} vs {bf16.tokens_per_s_per_gpu:,.0f} tokens/s/GPU" in note
    assert "the model's estimate, not a measurement" in note
    # what fp8 costs more: the element-wise casts and quantise kernels ("other"), larger than the GEMMs' saving
    lost = fp8.breakdown_s.other - bf16.breakdown_s.other
    saved = bf16.breakdown_s.compute - fp8.breakdown_s.compute
    assert lost > saved > 0.0
    costs, savings = note.split("; it saves in ")
    assert f"other {lost:+.3f} s" in costs and "casts" in costs and f"compute {-saved:+.3f} s" in savings
    assert not _slower_notes(bf16.notes)  # the note is about fp8 plans


def test_a_dense_model_where_fp8_wins_gets_no_note() -> None:
    fp8 = estimate_training("llama3-70b", "dgx-h100-superpod", 64, dtype="fp8", **LLAMA)
    bf16 = estimate_training("llama3-70b", "dgx-h100-superpod", 64, dtype="bf16", **LLAMA)
    assert fp8.tokens_per_s_per_gpu > bf16.tokens_per_s_per_gpu
    assert not _slower_notes(fp8.notes)


def test_the_note_says_when_the_bf16_plan_would_not_fit() -> None:
    terms = dict(compute=1.0, tp_comm=0.0, cp_comm=0.0, ep_comm=0.0, pp_bubble=0.0, pp_comm=0.0,
                 dp_comm_exposed=0.0, optimizer=0.0, other=0.5, host_exposed=0.0)
    fp8 = {**terms, "tokens_per_s_per_gpu": 90.0, "fits": True}
    bf16 = {**terms, "compute": 1.2, "other": 0.2, "tokens_per_s_per_gpu": 100.0, "fits": False}
    note = slower_precision_note(fp8, "fp8", {"bf16": bf16})
    assert note is not None and "90 vs 100 tokens/s/GPU in bf16 (-10.0 %), though the bf16 plan does not fit" in note
    assert "fp8 costs more in other +0.300 s" in note and "saves in compute -0.200 s" in note
    assert slower_precision_note({**fp8, "tokens_per_s_per_gpu": 100.0}, "fp8", {"bf16": bf16}) is None
