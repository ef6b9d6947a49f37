"""A precision "slower" than a higher one by float noise is a tie, not a note (hF, session 57).

`train deepseek-v3 --system rubin --gpus 576 --ep 64 --zero 3 --micro-batch 2 --dtype nvfp4` (seq 4,096, batch
4,608) is bound by exposed communication: NVFP4's GEMM saving (compute -0.279 s) comes back as exposed DP traffic and
casts (+0.279 s), and the two plans' rates differ in the 16th digit (4,524.765878373905 vs ...906 tokens/s/GPU); the
note said "nvfp4 is slower than mxfp8 on this plan ... 4,525 vs 4,525 tokens/s/GPU in mxfp8 (-0.0 %)".
Checked failing before: both tests fail on the base tree (the tie's note was given).
"""

from __future__ import annotations

from infraplan.training.estimate import estimate_training
from infraplan.training.fp8_slower_note import TIE_FRACTION, slower_precision_note

TERMS = dict(compute=1.0, tp_comm=0.0, cp_comm=0.0, ep_comm=0.0, pp_bubble=0.0, pp_comm=0.0, dp_comm_exposed=0.0,
             optimizer=0.0, other=0.5, host_exposed=0.0)


def test_below_half_the_printed_resolution_is_a_tie() -> None:
    low = {**TERMS, "tokens_per_s_per_gpu": 1000.0, "fits": True}
    tie = {**TERMS, "tokens_per_s_per_gpu": 1000.0 * (1.0 + 0.9 * TIE_FRACTION), "fits": True}
    assert slower_precision_note(low, "fp8", {"bf16": tie}) is None
    slower = {**TERMS, "compute": 1.2, "tokens_per_s_per_gpu": 1001.0, "fits": True}  # 0.1 %: said, as -0.1 %
    note = slower_precision_note(low, "fp8", {"bf16": slower})
    assert note is not None and "(-0.1 %)" in note


def test_a_communication_bound_tie_says_nothing() -> None:
    plan = dict(seq_len=4096, global_batch=4608, ep=64, zero=3, micro_batch=2)
    low = estimate_training("deepseek-v3", "rubin", 576, dtype="nvfp4", **plan)  # type: ignore[arg-type]
    high = estimate_training("deepseek-v3", "rubin", 576, dtype="mxfp8", **plan)  # type: ignore[arg-type]
    assert abs(low.tokens_per_s_per_gpu / high.tokens_per_s_per_gpu - 1.0) < 1e-9
    assert not [n for n in low.notes if "slower than" in n]
