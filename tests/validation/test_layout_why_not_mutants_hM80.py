"""Mutation wave hM80 (session 50): `serving_hopper_moe.layout_why_not` (the MoE and Blackwell sets' layout rule)
on hand-made rows: the GPUs a row needs are attention TP x attention DP x PP, and a row beyond one HGX node (8 GPUs)
or of a precision the set does not map is not run; the layout columns read through `campaign_settings.layout_count`
(empty or "0" is one rank)."""

from __future__ import annotations

import pytest

from infraplan.validation.campaign_settings import layout_count
from infraplan.validation.serving_hopper_moe import layout_why_not


def _row(**cells: str) -> dict[str, str]:
    row = {"model_path": "deepseek-ai/DeepSeek-R1", "concurrency": "16", "batch_size": "16", "tp_size": "8",
           "attention_dp_size": "", "pp_size": "0", "moe_tp_size": "1", "moe_ep_size": "8", "precision": "fp8"}
    return {**row, **cells}


def test_an_eight_gpu_row_runs() -> None:
    assert layout_why_not(_row()) is None


def test_pipeline_stages_count_their_gpus() -> None:
    """TP 4 x PP 2 is 8 GPUs, one node: runs; TP 8 x PP 2 is 16: two nodes, not run."""
    assert layout_why_not(_row(tp_size="4", moe_ep_size="4", pp_size="2")) is None
    why = layout_why_not(_row(pp_size="2"))
    assert why is not None and why.startswith("16 GPUs")


def test_a_precision_the_set_does_not_map_is_not_run() -> None:
    why = layout_why_not(_row(precision="int8"))
    assert why == "precision 'int8' not mapped"


@pytest.mark.parametrize(("cell", "count"), [("", 1), ("0", 1), ("1", 1), ("4", 4), ("16", 16)])
def test_layout_cells(cell: str, count: int) -> None:
    assert layout_count(cell) == count
