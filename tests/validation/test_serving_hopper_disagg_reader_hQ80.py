"""The disaggregated set reads its layout columns with the MoE / Blackwell sets' one reader (hQ80).

The source writes "0" for "none" in 12 cells: the MoE TP / EP columns of 3 vLLM rows (ids `..._tpnone_epnone_...`,
`..._epnone_...`; Qwen3-32B is dense). `campaign_settings.layout_count` reads empty or "0" as one rank; a worker
count or batch size of "0" or empty states no pool (a pool of no workers), so the row is not run."""

from __future__ import annotations

import pytest

from infraplan.validation import campaign_settings
from infraplan.validation import serving_hopper_disagg as disagg

NONE_ROWS = ("qwen3_32b_qwen3_32b_h100_sxm_vllm_disagg_4000x1000_c_tp_epnone_2",
             "qwen3_235b_a22b_qwen3_235b_a22b_h100_sxm_vllm_disagg_4000x1000_c_tpnone_epnone_1")


def _row(rid: str) -> dict[str, str]:
    return next(r for r in disagg.load_rows() if r["id"] == rid)


def _scored() -> dict[str, str]:
    run, _ = disagg.sampled_rows(1)
    return run[0]


def test_the_set_reads_layout_columns_with_the_one_reader() -> None:
    assert disagg._int is campaign_settings.layout_count
    zeros = [(r["id"], c) for r in disagg.load_rows() for c, v in r.items() if c.startswith(("prefill_", "decode_"))
             and v == "0"]
    assert len(zeros) == 12 and {c.split("_", 1)[1] for _, c in zeros} == {"moe_tp_size", "moe_ep_size"}


def test_a_none_moe_layout_reads_one_rank_not_zero() -> None:
    """The dense Qwen3-32B row with a concurrency stated: its pools read EP 1 (the label said ep0 before)."""
    row = _row(NONE_ROWS[0]) | {"id": "x", "silicon_data_source": "silicon_concurrency=64"}
    label = disagg.layout_group(row)
    assert "ep0" not in label and "p:tp1dp1ep1b1x8" in label and "d:tp4dp1ep1b224x2" in label
    assert disagg.why_not(row) is None or "MoE" not in str(disagg.why_not(row))


@pytest.mark.parametrize("field", ["decode_num_workers", "prefill_num_workers", "decode_batch_size"])
def test_a_pool_of_none_workers_or_batch_is_not_run(field: str) -> None:
    """"0" workers or batch is no pool: the row waits with the reason of the unstated ones (it was run with 0)."""
    row = _scored() | {field: "0"}
    assert "not stated" in str(disagg.why_not(row))
    assert disagg.why_not(_scored()) is None
