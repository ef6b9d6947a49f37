"""Review of the Blackwell serving set's leave-out rules (hR72, session 49).

GB200 Qwen3-32B, TensorRT-LLM 1.3.0rc1 (one campaign of the data file): the source writes attention_dp_size,
moe_tp_size and moe_ep_size as "0" on this dense checkpoint (no attention DP, no MoE), where every other row
leaves them empty or writes 1. `serving_hopper_moe._int` reads "0" as 0 ranks, so a one-client row (concurrency 1,
batch_size 1: 1 = 1 x one attention rank) is left out as "stated concurrency is not batch_size x attention DP",
which its own numbers contradict; the MoE set's "attention TP x DP = MoE TP x EP" rule (MoE rows only on Hopper)
would then leave it out too. Run through the model, the two rows score TTFT +38 %, TPOT +7 % / +6 % (hR72 by hand
with `serving_blackwell.run_row`): inside the set's spread, so the set's mean hardly moves.
Fixed by hB73 (session 49): `_int` reads "0" as the source's "none" (one rank), and the TP x DP = MoE TP x EP rule
applies to MoE checkpoints only; the two rows are scored (Blackwell 707 -> 709 rows).
"""

from __future__ import annotations

import pytest

from infraplan.validation import serving_blackwell as bw

ONE_CLIENT = ("qwen_qwen3_32b_qwen_qwen3_32b_gb200_trtllm_agg_2000x500_c1_tp2_epnone_2",
              "qwen_qwen3_32b_qwen_qwen3_32b_gb200_trtllm_agg_4000x1000_c1_tp2_epnone_9")


def _row(row_id: str) -> dict[str, str]:
    return next(r for r in bw.load_rows() if r["id"] == row_id)


@pytest.mark.parametrize("row_id", ONE_CLIENT)
def test_one_client_rows_state_a_consistent_concurrency(row_id: str) -> None:
    row = _row(row_id)
    assert (row["concurrency"], row["batch_size"], row["attention_dp_size"]) == ("1", "1", "0")


@pytest.mark.parametrize("row_id", ONE_CLIENT)
def test_one_client_dense_rows_are_scored(row_id: str) -> None:
    assert bw.why_not(_row(row_id)) is None
